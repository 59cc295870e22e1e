"""SGD: 10-step trajectories against the published rule (a plain numpy loop) and against torch.optim.SGD."""

import numpy as np
import pytest

import nnkit as nk
from nnkit.optim import SGD
from tests.optim.helpers import (
    STEPS,
    assert_trajectories_close,
    grad_at,
    run_nnkit,
    run_torch,
    start_points,
)

CONFIGS = [
    {"lr": 0.1},
    {"lr": 0.1, "momentum": 0.9},
    {"lr": 0.1, "momentum": 0.9, "dampening": 0.5},
    {"lr": 0.1, "momentum": 0.9, "nesterov": True},
    {"lr": 0.1, "weight_decay": 0.1},
    {"lr": 0.05, "momentum": 0.8, "weight_decay": 0.1, "nesterov": True},
    {"lr": 0.05, "momentum": 0.8, "weight_decay": 0.1, "dampening": 0.2},
    {"lr": 0.1, "maximize": True},
    {"lr": 0.05, "momentum": 0.9, "dampening": 0.3, "weight_decay": 0.05, "maximize": True},
    {"lr": 0.05, "momentum": 0.9, "nesterov": True, "weight_decay": 0.05, "maximize": True},
]


def sgd_reference(starts, lr, momentum=0.0, dampening=0.0, weight_decay=0.0, nesterov=False, maximize=False):
    """SGD as PyTorch documents it, one parameter at a time, in float64."""
    trajectory = []
    params = [s.astype(np.float64) for s in starts]
    buffers = [None] * len(params)
    for t in range(STEPS):
        for k, p in enumerate(params):
            g = grad_at(p, t, k)
            if maximize:
                g = -g
            if weight_decay:
                g = g + weight_decay * p
            if momentum:
                if buffers[k] is None:
                    buffers[k] = g
                else:
                    buffers[k] = momentum * buffers[k] + (1 - dampening) * g
                g = g + momentum * buffers[k] if nesterov else buffers[k]
            params[k] = p - lr * g
        trajectory.append([p.copy() for p in params])
    return trajectory


@pytest.mark.parametrize("config", CONFIGS, ids=lambda c: "-".join(f"{k}={v}" for k, v in c.items()))
def test_trajectory_matches_the_published_rule(config):
    starts = start_points(np.float64)
    assert_trajectories_close(run_nnkit(SGD, config, starts), sgd_reference(starts, **config), rtol=1e-12,
                              atol=1e-13)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("config", CONFIGS, ids=lambda c: "-".join(f"{k}={v}" for k, v in c.items()))
def test_trajectory_matches_torch(config, dtype):
    torch = pytest.importorskip("torch")
    starts = start_points(dtype)
    ours = run_nnkit(SGD, config, starts)
    assert ours[-1][0].dtype == dtype
    tol = {"rtol": 1e-5, "atol": 1e-6} if dtype == np.float32 else {"rtol": 1e-12, "atol": 1e-13}
    assert_trajectories_close(ours, run_torch(torch, "SGD", config, starts), **tol)


@pytest.mark.parametrize("config", [CONFIGS[1], CONFIGS[5], CONFIGS[9]],
                         ids=lambda c: "-".join(f"{k}={v}" for k, v in c.items()))
def test_large_parameters_match_the_published_rule(config):
    # more elements than the update's cache block: a C-ordered parameter is updated block by block (the last
    # block partial), a Fortran-ordered one in one piece
    rng = np.random.default_rng(3)
    starts = [rng.standard_normal((300, 301)), np.asfortranarray(rng.standard_normal((301, 300)))]
    params = [nk.from_numpy(s.copy(order="K")).requires_grad_() for s in starts]
    assert not params[1].detach().numpy().flags.c_contiguous
    opt = SGD(params, **config)
    for t in range(STEPS):
        for k, p in enumerate(params):
            p.grad = nk.from_numpy(grad_at(p.detach().numpy(), t, k))
        opt.step()
    for p, expected in zip(params, sgd_reference(starts, **config)[-1]):
        np.testing.assert_allclose(p.detach().numpy(), expected, rtol=1e-12, atol=1e-13)


def test_first_step_uses_the_gradient_as_buffer_without_dampening():
    p = nk.tensor([1.0, 2.0], requires_grad=True)
    opt = SGD([p], lr=0.5, momentum=0.9, dampening=0.5)
    p.grad = nk.tensor([1.0, -2.0])
    opt.step()
    np.testing.assert_array_equal(opt.state[p]["momentum_buffer"].numpy(), [1.0, -2.0])
    np.testing.assert_array_equal(p.detach().numpy(), [0.5, 3.0])
    p.grad = nk.tensor([2.0, 2.0])
    opt.step()  # buf = 0.9 * buf + 0.5 * g
    np.testing.assert_allclose(opt.state[p]["momentum_buffer"].numpy(), [1.9, -0.8])
    np.testing.assert_allclose(p.detach().numpy(), [0.5 - 0.95, 3.0 + 0.4])


def test_gradient_is_not_modified():
    p = nk.tensor([1.0, 2.0], requires_grad=True)
    opt = SGD([p], lr=0.1, momentum=0.9, weight_decay=0.1, maximize=True, nesterov=True)
    for _ in range(3):
        p.grad = nk.tensor([0.5, -0.5])
        opt.step()
        np.testing.assert_array_equal(p.grad.numpy(), [0.5, -0.5])


def test_momentum_buffer_does_not_alias_the_gradient():
    p = nk.tensor([1.0, 2.0], requires_grad=True)
    opt = SGD([p], lr=0.1, momentum=0.9)
    p.grad = nk.tensor([1.0, 1.0])
    opt.step()
    p.grad.numpy()[:] = 100.0  # a later in-place change of the gradient must not reach the buffer
    np.testing.assert_array_equal(opt.state[p]["momentum_buffer"].numpy(), [1.0, 1.0])


def test_without_momentum_no_state_is_kept():
    p = nk.tensor([1.0], requires_grad=True)
    opt = SGD([p], lr=0.1)
    p.grad = nk.tensor([1.0])
    opt.step()
    assert len(opt.state) == 0
    assert opt.state_dict()["state"] == {}


def test_param_groups_with_different_learning_rates():
    a = nk.tensor([1.0, 1.0], requires_grad=True)
    b = nk.tensor([1.0, 1.0], requires_grad=True)
    opt = SGD([{"params": [a]}, {"params": [b], "lr": 0.5, "momentum": 0.9}], lr=0.1)
    assert opt.param_groups[0]["momentum"] == 0 and opt.param_groups[1]["momentum"] == 0.9
    for _ in range(2):
        a.grad = nk.tensor([1.0, 2.0])
        b.grad = nk.tensor([1.0, 2.0])
        opt.step()
    np.testing.assert_allclose(a.detach().numpy(), [1 - 0.2, 1 - 0.4])
    np.testing.assert_allclose(b.detach().numpy(), [1 - 0.5 * (1 + 1.9), 1 - 0.5 * (2 + 3.8)])


def test_group_lr_change_takes_effect_on_the_next_step():
    p = nk.tensor([0.0], requires_grad=True)
    opt = SGD([p], lr=0.1)
    p.grad = nk.tensor([1.0])
    opt.step()
    opt.param_groups[0]["lr"] = 1.0
    opt.step()
    np.testing.assert_allclose(p.detach().numpy(), [-1.1])


def test_parameters_without_grad_are_skipped():
    a = nk.tensor([1.0], requires_grad=True)
    b = nk.tensor([1.0], requires_grad=True)
    opt = SGD([a, b], lr=0.1, momentum=0.9, weight_decay=0.5)
    a.grad = nk.tensor([1.0])
    version = b._version
    opt.step()
    np.testing.assert_array_equal(b.detach().numpy(), [1.0])  # weight decay does not act either
    assert b._version == version
    assert b not in opt.state and a in opt.state


def test_float32_stays_float32():
    p = nk.tensor([1.0, 2.0], requires_grad=True)
    opt = SGD([p], lr=0.1, momentum=0.9, weight_decay=0.01)
    p.grad = nk.tensor([1.0, 1.0])
    opt.step()
    assert p.dtype == nk.float32 and opt.state[p]["momentum_buffer"].dtype == nk.float32


def test_training_a_linear_model_through_autograd_matches_torch():
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(1)
    x, y = rng.standard_normal((8, 3)), rng.standard_normal((8, 1))
    w0, b0 = rng.standard_normal((3, 1)), rng.standard_normal(1)
    w, b = nk.tensor(w0, requires_grad=True), nk.tensor(b0, requires_grad=True)
    tw, tb = torch.tensor(w0, requires_grad=True), torch.tensor(b0, requires_grad=True)
    opt = SGD([w, b], lr=0.05, momentum=0.9, nesterov=True, weight_decay=1e-3)
    topt = torch.optim.SGD([tw, tb], lr=0.05, momentum=0.9, nesterov=True, weight_decay=1e-3)
    for _ in range(STEPS):
        opt.zero_grad()
        loss = ((nk.tensor(x) @ w + b - nk.tensor(y)) ** 2).mean()
        loss.backward()
        opt.step()
        topt.zero_grad()
        tloss = ((torch.tensor(x) @ tw + tb - torch.tensor(y)) ** 2).mean()
        tloss.backward()
        topt.step()
        np.testing.assert_allclose(loss.item(), tloss.item(), rtol=1e-12)
    np.testing.assert_allclose(w.detach().numpy(), tw.detach().numpy(), rtol=1e-12)
    np.testing.assert_allclose(b.detach().numpy(), tb.detach().numpy(), rtol=1e-12)


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"lr": -1}, "Invalid learning rate: -1"),
        ({"momentum": -0.5}, "Invalid momentum value: -0.5"),
        ({"weight_decay": -0.1}, "Invalid weight_decay value: -0.1"),
        ({"nesterov": True}, "Nesterov momentum requires a momentum and zero dampening"),
        ({"nesterov": True, "momentum": 0.9, "dampening": 0.1}, "Nesterov momentum requires a momentum and zero"),
    ],
)
def test_invalid_options(kwargs, message):
    p = nk.zeros(2, requires_grad=True)
    with pytest.raises(ValueError, match=message):
        SGD([p], **kwargs)


def test_invalid_group_option_names_the_group():
    a, b = nk.zeros(2, requires_grad=True), nk.zeros(2, requires_grad=True)
    with pytest.raises(ValueError, match=r"Invalid learning rate: -0.5 \(in parameter group 1\)"):
        SGD([{"params": [a]}, {"params": [b], "lr": -0.5}], lr=0.1)
