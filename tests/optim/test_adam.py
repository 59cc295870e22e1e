"""Adam and AdamW: 10-step trajectories against the published rules (plain numpy loops) and against torch."""

import numpy as np
import pytest

import nnkit as nk
from nnkit.optim import Adam, AdamW
from tests.optim.helpers import (
    STEPS,
    assert_trajectories_close,
    grad_at,
    run_nnkit,
    run_torch,
    start_points,
)

ADAM_CONFIGS = [
    {"lr": 0.01},
    {"lr": 0.01, "amsgrad": True},
    {"lr": 0.01, "weight_decay": 0.1},
    {"lr": 0.01, "weight_decay": 0.1, "amsgrad": True},
    {"lr": 0.01, "maximize": True},
    {"lr": 0.01, "maximize": True, "amsgrad": True, "weight_decay": 0.05},
    {"lr": 0.05, "betas": (0.3, 0.8), "eps": 1e-6},  # beta1 < 0.5: the other branch of PyTorch's lerp
]
ADAMW_CONFIGS = [
    {"lr": 0.01},
    {"lr": 0.01, "weight_decay": 0.1, "amsgrad": True},
    {"lr": 0.01, "weight_decay": 0.1, "maximize": True},
    {"lr": 0.05, "betas": (0.5, 0.9), "weight_decay": 0.2},
]


def config_id(config):
    return "-".join(f"{k}={v}" for k, v in config.items())


def adam_reference(starts, lr, betas=(0.9, 0.999), eps=1e-8, weight_decay=0.0, amsgrad=False, maximize=False,
                   decoupled=False):
    """Adam (Kingma & Ba, with PyTorch's eps placement) and AdamW (Loshchilov & Hutter), in float64."""
    beta1, beta2 = betas
    params = [s.astype(np.float64) for s in starts]
    m = [np.zeros_like(p) for p in params]
    v = [np.zeros_like(p) for p in params]
    v_max = [np.zeros_like(p) for p in params]
    trajectory = []
    for t in range(1, STEPS + 1):
        for k, p in enumerate(params):
            g = grad_at(p, t - 1, k)
            if maximize:
                g = -g
            if weight_decay and decoupled:
                p = p - lr * weight_decay * p
            elif weight_decay:
                g = g + weight_decay * p
            m[k] = beta1 * m[k] + (1 - beta1) * g
            v[k] = beta2 * v[k] + (1 - beta2) * g**2
            m_hat = m[k] / (1 - beta1**t)
            if amsgrad:
                v_max[k] = np.maximum(v_max[k], v[k])
                v_hat = v_max[k] / (1 - beta2**t)
            else:
                v_hat = v[k] / (1 - beta2**t)
            params[k] = p - lr * m_hat / (np.sqrt(v_hat) + eps)
        trajectory.append([p.copy() for p in params])
    return trajectory


@pytest.mark.parametrize("config", ADAM_CONFIGS, ids=config_id)
def test_adam_matches_the_published_rule(config):
    starts = start_points(np.float64)
    assert_trajectories_close(run_nnkit(Adam, config, starts), adam_reference(starts, **config), rtol=1e-10,
                              atol=1e-12)


@pytest.mark.parametrize("config", ADAMW_CONFIGS, ids=config_id)
def test_adamw_matches_the_published_rule(config):
    starts = start_points(np.float64)
    expected = adam_reference(starts, **{"weight_decay": 1e-2, **config}, decoupled=True)
    assert_trajectories_close(run_nnkit(AdamW, config, starts), expected, rtol=1e-10, atol=1e-12)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize(
    ("name", "config"),
    [("Adam", c) for c in ADAM_CONFIGS] + [("AdamW", c) for c in ADAMW_CONFIGS],
    ids=lambda x: x if isinstance(x, str) else config_id(x),
)
def test_matches_torch(name, config, dtype):
    torch = pytest.importorskip("torch")
    starts = start_points(dtype)
    ours = run_nnkit({"Adam": Adam, "AdamW": AdamW}[name], config, starts)
    assert ours[-1][0].dtype == dtype
    tol = {"rtol": 1e-5, "atol": 1e-6} if dtype == np.float32 else {"rtol": 1e-12, "atol": 1e-13}
    assert_trajectories_close(ours, run_torch(torch, name, config, starts), **tol)


def test_adam_with_decoupled_weight_decay_is_adamw():
    starts = start_points(np.float64)
    config = {"lr": 0.01, "weight_decay": 0.1, "amsgrad": True}
    a = run_nnkit(Adam, {**config, "decoupled_weight_decay": True}, starts)
    b = run_nnkit(AdamW, config, starts)
    for row_a, row_b in zip(a, b):
        for x, y in zip(row_a, row_b):
            np.testing.assert_array_equal(x, y)


def test_first_step_moves_each_coordinate_by_about_lr():
    # With zero moments, step 1 gives m_hat = g and v_hat = g**2: the update is lr * sign(g).
    p = nk.tensor([1.0, 1.0, 1.0], dtype=nk.float64, requires_grad=True)
    opt = Adam([p], lr=0.1)
    p.grad = nk.tensor([3.0, -0.001, 1e4], dtype=nk.float64)
    opt.step()
    np.testing.assert_allclose(p.detach().numpy(), [0.9, 1.1, 0.9], rtol=1e-6)


def test_state_layout_and_step_counter():
    p = nk.tensor([1.0, 2.0], requires_grad=True)
    opt = Adam([p], amsgrad=True)
    for _ in range(3):
        p.grad = nk.tensor([0.5, -0.5])
        opt.step()
    state = opt.state[p]
    assert sorted(state) == ["exp_avg", "exp_avg_sq", "max_exp_avg_sq", "step"]
    assert state["step"].shape == () and state["step"].dtype == nk.float32 and state["step"].item() == 3.0
    assert state["exp_avg"].dtype == nk.float32 and state["exp_avg"].shape == (2,)


def test_parameter_without_grad_keeps_its_step_count():
    a = nk.tensor([1.0], requires_grad=True)
    b = nk.tensor([1.0], requires_grad=True)
    opt = AdamW([a, b], lr=0.1, weight_decay=0.5)
    a.grad = nk.tensor([1.0])
    opt.step()
    b.grad = nk.tensor([1.0])
    opt.step()
    assert opt.state[a]["step"].item() == 2.0 and opt.state[b]["step"].item() == 1.0
    # b's first step: decay then exactly lr * sign(g)
    np.testing.assert_allclose(b.detach().numpy(), [1.0 * (1 - 0.05) - 0.1], rtol=1e-6)


def test_param_groups_with_different_learning_rates():
    a = nk.tensor([1.0], dtype=nk.float64, requires_grad=True)
    b = nk.tensor([1.0], dtype=nk.float64, requires_grad=True)
    opt = Adam([{"params": [a], "lr": 0.01}, {"params": [b], "amsgrad": True}], lr=0.2)
    a.grad = nk.tensor([2.0], dtype=nk.float64)
    b.grad = nk.tensor([2.0], dtype=nk.float64)
    opt.step()
    np.testing.assert_allclose([a.item(), b.item()], [0.99, 0.8], rtol=1e-7)
    assert "max_exp_avg_sq" in opt.state[b] and "max_exp_avg_sq" not in opt.state[a]


def test_gradient_is_not_modified():
    p = nk.tensor([1.0, 2.0], requires_grad=True)
    opt = Adam([p], weight_decay=0.1, maximize=True, amsgrad=True)
    for _ in range(3):
        p.grad = nk.tensor([0.5, -0.5])
        opt.step()
        np.testing.assert_array_equal(p.grad.numpy(), [0.5, -0.5])


def test_betas_cycled_by_a_scheduler_take_effect():
    # OneCycleLR rewrites group["betas"]; the next step must read the new beta1.
    starts = [np.array([1.0])]
    p = nk.tensor(starts[0].copy(), dtype=nk.float64, requires_grad=True)
    opt = Adam([p], lr=0.1)
    opt.param_groups[0]["betas"] = (0.5, 0.999)
    p.grad = nk.tensor([1.0], dtype=nk.float64)
    opt.step()
    np.testing.assert_allclose(opt.state[p]["exp_avg"].numpy(), [0.5])


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"lr": -1}, "Invalid learning rate: -1"),
        ({"eps": -1e-8}, "Invalid epsilon value: -1e-08"),
        ({"betas": (1.0, 0.999)}, "Invalid beta parameter at index 0: 1.0"),
        ({"betas": (0.9, -0.1)}, "Invalid beta parameter at index 1: -0.1"),
        ({"weight_decay": -1}, "Invalid weight_decay value: -1"),
    ],
)
@pytest.mark.parametrize("cls", [Adam, AdamW])
def test_invalid_options(cls, kwargs, message):
    with pytest.raises(ValueError, match=message):
        cls([nk.zeros(2, requires_grad=True)], **kwargs)


def test_adamw_defaults():
    opt = AdamW([nk.zeros(1, requires_grad=True)])
    group = opt.param_groups[0]
    assert group["weight_decay"] == 1e-2 and group["decoupled_weight_decay"] is True
    assert group["betas"] == (0.9, 0.999) and group["eps"] == 1e-8 and group["lr"] == 1e-3
    assert Adam([nk.zeros(1, requires_grad=True)]).param_groups[0]["decoupled_weight_decay"] is False


def test_adamw_load_state_dict_keeps_decay_decoupled():
    p = nk.zeros(1, requires_grad=True)
    saved = Adam([p], weight_decay=0.1).state_dict()
    opt = AdamW([nk.zeros(1, requires_grad=True)])
    opt.load_state_dict(saved)
    assert opt.param_groups[0]["decoupled_weight_decay"] is True
    assert opt.param_groups[0]["weight_decay"] == 0.1
