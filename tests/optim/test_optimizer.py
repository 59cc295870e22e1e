"""The Optimizer base: parameter groups, errors, zero_grad, closures, versions, state_dict and exact resume."""

import copy

import numpy as np
import pytest

import nnkit as nk
from nnkit.optim import SGD, Adam, AdamW, Optimizer
from tests.optim.helpers import grad_at, start_points


def leaf(values=(1.0, 2.0), dtype=None):
    return nk.tensor(list(values), dtype=dtype, requires_grad=True)


# -- construction and parameter groups -----------------------------------------------------------------------
def test_accepts_a_generator_of_parameters():
    a, b = leaf(), leaf()
    opt = SGD((p for p in [a, b]), lr=0.1)
    assert len(opt.param_groups) == 1
    assert [id(p) for p in opt.param_groups[0]["params"]] == [id(a), id(b)]
    assert opt.param_groups[0]["lr"] == 0.1 and opt.defaults["lr"] == 0.1


def test_group_options_override_defaults_and_fill_the_rest():
    a, b = leaf(), leaf()
    opt = SGD([{"params": a}, {"params": [b], "lr": 0.5, "nesterov": True, "momentum": 0.9}], lr=0.1)
    g0, g1 = opt.param_groups
    assert g0["params"][0] is a  # a lone tensor becomes a one-element list
    assert (g0["lr"], g0["momentum"], g0["nesterov"]) == (0.1, 0, False)
    assert (g1["lr"], g1["momentum"], g1["nesterov"], g1["dampening"]) == (0.5, 0.9, True, 0)
    assert set(g0) == {"params", "lr", "momentum", "dampening", "weight_decay", "nesterov", "maximize"}


def test_add_param_group_later():
    a, b = leaf(), leaf()
    opt = SGD([a], lr=0.1)
    opt.add_param_group({"params": [b], "lr": 1.0})
    a.grad, b.grad = nk.tensor([1.0, 1.0]), nk.tensor([1.0, 1.0])
    opt.step()
    np.testing.assert_allclose(a.detach().numpy(), [0.9, 1.9])
    np.testing.assert_allclose(b.detach().numpy(), [0.0, 1.0])
    with pytest.raises(ValueError, match="some parameters appear in more than one parameter group"):
        opt.add_param_group({"params": [a]})
    with pytest.raises(TypeError, match="param_group must be a dict, but got list"):
        opt.add_param_group([b])


def test_named_parameters_keep_their_names():
    a, b = leaf(), leaf()
    opt = SGD([("weight", a), ("bias", b)], lr=0.1)
    group = opt.param_groups[0]
    assert group["param_names"] == ["weight", "bias"] and group["params"][1] is b
    assert opt.state_dict()["param_groups"][0]["param_names"] == ["weight", "bias"]
    with pytest.raises(ValueError, match="all optimizer params should be with/without names"):
        SGD([("weight", leaf()), leaf()], lr=0.1)
    with pytest.raises(ValueError, match="all optimizer param groups should be with/without names"):
        opt.add_param_group({"params": [leaf()]})


def test_retained_non_leaf_is_accepted():
    x = leaf()
    y = x * 2
    y.retain_grad()
    SGD([y], lr=0.1)


# -- errors -------------------------------------------------------------------------------------------------
def test_single_tensor_is_a_type_error():
    with pytest.raises(
        TypeError,
        match="params argument given to the optimizer should be an iterable of Tensors or dicts, but got "
        "nnkit.FloatTensor",
    ):
        SGD(leaf(), lr=0.1)


def test_empty_parameter_list():
    with pytest.raises(ValueError, match="optimizer got an empty parameter list"):
        SGD([], lr=0.1)
    with pytest.raises(ValueError, match="optimizer got an empty parameter list"):
        Adam(iter([]))


def test_non_leaf_tensor():
    x = leaf()
    with pytest.raises(ValueError, match=r"can't optimize a non-leaf Tensor \(parameter 1 of group 0.*MulBackward0"):
        SGD([x, x * 2], lr=0.1)


def test_duplicated_parameters():
    a, b = leaf(), leaf()
    with pytest.raises(ValueError, match="some parameters appear in more than one parameter group"):
        SGD([{"params": [a, b]}, {"params": [b]}], lr=0.1)
    with pytest.raises(ValueError, match="optimizer contains a parameter group with duplicate parameters"):
        SGD([a, b, a], lr=0.1)


def test_non_tensor_and_set_parameters():
    with pytest.raises(TypeError, match="optimizer can only optimize Tensors, but one of the params is ndarray"):
        SGD([leaf(), np.zeros(2)], lr=0.1)
    with pytest.raises(TypeError, match="optimizer parameters need to be organized in ordered collections"):
        SGD([{"params": {leaf()}}], lr=0.1)


def test_base_step_is_abstract():
    with pytest.raises(NotImplementedError):
        Optimizer([leaf()], {}).step()


# -- zero_grad, closures, versions --------------------------------------------------------------------------
def test_zero_grad_sets_to_none_by_default():
    a, b = leaf(), leaf()
    opt = SGD([a, b], lr=0.1)
    a.grad = nk.tensor([1.0, 1.0])
    opt.zero_grad()
    assert a.grad is None and b.grad is None


def test_zero_grad_without_set_to_none_zeroes_in_place():
    a = leaf()
    opt = SGD([a], lr=0.1)
    (a * a).sum().backward(create_graph=True)
    grad = a.grad
    assert grad.requires_grad
    opt.zero_grad(set_to_none=False)
    assert a.grad is grad and not grad.requires_grad and grad.grad_fn is None
    np.testing.assert_array_equal(grad.numpy(), [0.0, 0.0])


def test_zero_grad_then_step_still_applies_weight_decay():
    a = leaf()
    opt = SGD([a], lr=0.5, weight_decay=0.1)
    a.grad = nk.tensor([3.0, 3.0])
    opt.zero_grad(set_to_none=False)
    opt.step()  # a zero gradient is a gradient: weight decay acts
    np.testing.assert_allclose(a.detach().numpy(), [0.95, 1.9])


def test_closure_runs_with_grad_enabled_and_its_loss_is_returned():
    w = leaf((3.0,))
    opt = SGD([w], lr=0.25)
    seen = []

    def closure():
        opt.zero_grad()
        seen.append(nk.is_grad_enabled())
        loss = (w * w).sum()
        loss.backward()
        return loss

    with nk.no_grad():
        loss = opt.step(closure)
    assert seen == [True]
    assert loss.item() == 9.0
    np.testing.assert_allclose(w.detach().numpy(), [3.0 - 0.25 * 6.0])
    assert opt.step() is None


def test_step_updates_in_place_without_recording():
    w = leaf()
    data = w._data
    opt = Adam([w], lr=0.1)
    w.grad = nk.tensor([1.0, 1.0])
    opt.step()
    assert w._data is data and w.is_leaf and w.requires_grad and w.grad_fn is None


def test_step_bumps_the_version_counter_so_stale_graphs_fail():
    w = leaf()
    version = w._version
    y = (w * w).sum()  # saves w for backward
    opt = SGD([w], lr=0.1)
    w.grad = nk.tensor([1.0, 1.0])
    opt.step()
    assert w._version == version + 1
    with pytest.raises(RuntimeError, match="modified by an inplace operation"):
        y.backward()


# -- state_dict ---------------------------------------------------------------------------------------------
def stepped_sgd():
    a, b, c = leaf(), leaf((1.0,)), leaf((5.0, 6.0, 7.0))
    opt = SGD([{"params": [a, b]}, {"params": [c], "lr": 0.01, "nesterov": True}], lr=0.1, momentum=0.9)
    for p in (a, b, c):
        p.grad = nk.ones_like(p)
    opt.step()
    return opt, (a, b, c)


def test_state_dict_format():
    opt, (a, b, c) = stepped_sgd()
    sd = opt.state_dict()
    assert sorted(sd) == ["param_groups", "state"]
    assert [g["params"] for g in sd["param_groups"]] == [[0, 1], [2]]
    assert sd["param_groups"][1] == {
        "lr": 0.01, "momentum": 0.9, "dampening": 0, "weight_decay": 0, "nesterov": True, "maximize": False,
        "params": [2],
    }
    assert sorted(sd["state"]) == [0, 1, 2]
    buf = sd["state"][2]["momentum_buffer"]
    assert isinstance(buf, nk.Tensor) and buf.shape == (3,)
    np.testing.assert_array_equal(buf.numpy(), [1.0, 1.0, 1.0])


def test_state_dict_matches_torch_layout():
    torch = pytest.importorskip("torch")
    tp = torch.ones(2, requires_grad=True)
    tp.grad = torch.ones(2)
    topt = torch.optim.Adam([tp], amsgrad=True)
    topt.step()
    p = leaf()
    p.grad = nk.ones(2)
    opt = Adam([p], amsgrad=True)
    opt.step()
    ours, theirs = opt.state_dict(), topt.state_dict()
    assert ours["state"].keys() == theirs["state"].keys()
    assert ours["state"][0].keys() == theirs["state"][0].keys()
    assert ours["state"][0]["step"].item() == theirs["state"][0]["step"].item()
    torch_only = {"foreach", "capturable", "differentiable", "fused"}
    assert set(ours["param_groups"][0]) == set(theirs["param_groups"][0]) - torch_only
    for key in ours["param_groups"][0]:
        assert ours["param_groups"][0][key] == theirs["param_groups"][0][key], key


def test_state_dict_is_a_snapshot():
    opt, (a, b, c) = stepped_sgd()
    sd = opt.state_dict()
    opt.step()
    opt.param_groups[0]["lr"] = 99.0
    np.testing.assert_array_equal(sd["state"][0]["momentum_buffer"].numpy(), [1.0, 1.0])
    assert sd["param_groups"][0]["lr"] == 0.1


def make(name, params):
    return {
        "SGD": lambda: SGD(params, lr=0.05, momentum=0.9, dampening=0.1, weight_decay=0.01),
        "SGD-nesterov": lambda: SGD(params, lr=0.05, momentum=0.9, nesterov=True, maximize=True),
        "Adam": lambda: Adam(params, lr=0.01, amsgrad=True, weight_decay=0.01),
        "AdamW": lambda: AdamW(params, lr=0.01, betas=(0.8, 0.99)),
    }[name]()


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("name", ["SGD", "SGD-nesterov", "Adam", "AdamW"])
def test_resume_from_state_dict_is_bit_identical(name, dtype):
    def run(params, opt, steps, start):
        for t in range(start, start + steps):
            for k, p in enumerate(params):
                p.grad = nk.tensor(grad_at(p.detach().numpy(), t, k))
            opt.step()

    starts = start_points(dtype)
    params = [nk.tensor(s.copy(), requires_grad=True) for s in starts]
    opt = make(name, params)
    run(params, opt, 5, 0)
    saved_values = [p.detach().numpy().copy() for p in params]
    saved_state = opt.state_dict()
    run(params, opt, 5, 5)  # the uninterrupted run; the snapshot must not follow it

    fresh = [nk.tensor(v, requires_grad=True) for v in saved_values]
    resumed = make(name, fresh)
    resumed.load_state_dict(saved_state)
    run(fresh, resumed, 5, 5)
    for p, q in zip(params, fresh):
        np.testing.assert_array_equal(q.detach().numpy(), p.detach().numpy())
    for p, q in zip(params, fresh):
        for key, value in opt.state[p].items():
            np.testing.assert_array_equal(resumed.state[q][key].numpy(), value.numpy())


def test_load_state_dict_restores_group_options_and_copies_deeply():
    opt, params = stepped_sgd()
    sd = opt.state_dict()
    sd["param_groups"][0]["lr"] = 0.3
    other = SGD([{"params": [leaf(), leaf((1.0,))]}, {"params": [leaf((0.0, 0.0, 0.0))]}], lr=1.0)
    other.load_state_dict(sd)
    assert other.param_groups[0]["lr"] == 0.3 and other.param_groups[1]["nesterov"] is True
    assert other.param_groups[0]["params"][0] is not params[0]
    buf = sd["state"][0]["momentum_buffer"]
    buf.numpy()[:] = 42.0
    loaded = other.state[other.param_groups[0]["params"][0]]["momentum_buffer"]
    np.testing.assert_array_equal(loaded.numpy(), [1.0, 1.0])


def test_load_state_dict_casts_state_to_the_parameter_dtype():
    p64 = nk.tensor([1.0, 2.0], dtype=nk.float64, requires_grad=True)
    opt = Adam([p64])
    p64.grad = nk.ones(2, dtype=nk.float64)
    opt.step()
    p32 = leaf()
    target = Adam([p32])
    target.load_state_dict(opt.state_dict())
    state = target.state[p32]
    assert state["exp_avg"].dtype == nk.float32 and state["exp_avg_sq"].dtype == nk.float32
    assert state["step"].dtype == nk.float32 and state["step"].item() == 1.0


def test_load_state_dict_errors():
    opt, _ = stepped_sgd()
    sd = opt.state_dict()
    with pytest.raises(ValueError, match="loaded state dict has a different number of parameter groups"):
        SGD([leaf(), leaf((1.0,)), leaf((0.0, 0.0, 0.0))], lr=0.1).load_state_dict(sd)
    with pytest.raises(
        ValueError,
        match=r"loaded state dict contains a parameter group that doesn't match the size of optimizer's group "
        r"\(group 0: the optimizer has 1 parameters, the state dict 2\)",
    ):
        SGD([{"params": [leaf()]}, {"params": [leaf((0.0, 0.0, 0.0))]}], lr=0.1).load_state_dict(sd)
    with pytest.raises(ValueError, match=r"state 'momentum_buffer' of shape \[3\] for parameter 2 of shape \[4\]"):
        SGD([{"params": [leaf(), leaf((1.0,))]}, {"params": [leaf((0.0,) * 4)]}], lr=0.1).load_state_dict(sd)


def test_state_dict_round_trip_through_deepcopy():
    opt, _ = stepped_sgd()
    sd = copy.deepcopy(opt.state_dict())
    opt.load_state_dict(sd)
    again = opt.state_dict()
    assert again["param_groups"] == sd["param_groups"]
    for index, state in sd["state"].items():
        buf = again["state"][index]["momentum_buffer"]
        np.testing.assert_array_equal(buf.numpy(), state["momentum_buffer"].numpy())


def test_repr_lists_group_options():
    text = repr(SGD([leaf()], lr=0.1, momentum=0.9))
    assert text.startswith("SGD (\nParameter Group 0\n") and "    lr: 0.1\n" in text and "momentum: 0.9" in text


def test_a_custom_optimizer_on_the_base_class():
    class SignSGD(Optimizer):
        def __init__(self, params, lr=0.01):
            super().__init__(params, {"lr": lr})

        def step(self, closure=None):
            loss = self._evaluate(closure)
            for group in self.param_groups:
                for p in group["params"]:
                    if p.grad is not None:
                        p._data -= group["lr"] * np.sign(p.grad._data)
                        self._bump_version(p)
            return loss

    p = leaf((1.0, -1.0))
    opt = SignSGD([p], lr=0.5)
    p.grad = nk.tensor([3.0, -0.1])
    opt.step()
    np.testing.assert_array_equal(p.detach().numpy(), [0.5, -0.5])
