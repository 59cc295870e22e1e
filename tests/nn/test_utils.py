"""nn.utils: gradient clipping by norm and by value, parameters <-> vector. Hand-computed values."""

import math

import numpy as np
import pytest

import nnkit as nk
from nnkit import nn
from nnkit.nn.utils import (
    clip_grad_norm_,
    clip_grad_value_,
    clip_grads_with_norm_,
    get_total_norm,
    parameters_to_vector,
    vector_to_parameters,
)


def params_with_grads(dtype=nk.float32):
    """Gradients [3, 4] and [[12]]: 2-norm 13, 1-norm 19, inf-norm 12; plus one parameter without a grad."""
    p1 = nn.Parameter(nk.zeros(2, dtype=dtype))
    p2 = nn.Parameter(nk.zeros(1, 1, dtype=dtype))
    p3 = nn.Parameter(nk.zeros(3, dtype=dtype))
    p1.grad = nk.tensor([3.0, 4.0], dtype=dtype)
    p2.grad = nk.tensor([[12.0]], dtype=dtype)
    return [p1, p2, p3]


def grads(params):
    return [p.grad.tolist() if p.grad is not None else None for p in params]


def test_clip_grad_norm_scales_when_above_max():
    params = params_with_grads()
    total = clip_grad_norm_(params, max_norm=6.5)
    assert isinstance(total, nk.Tensor) and total.shape == () and total.dtype == nk.float32
    assert total.item() == pytest.approx(13.0)
    coef = 6.5 / (13.0 + 1e-6)
    np.testing.assert_allclose(params[0].grad.numpy(), [3 * coef, 4 * coef], rtol=1e-6)
    np.testing.assert_allclose(params[1].grad.numpy(), [[12 * coef]], rtol=1e-6)
    assert params[0].grad.dtype == nk.float32 and params[2].grad is None
    new_norm = math.sqrt(sum(float((p.grad.numpy() ** 2).sum()) for p in params[:2]))
    assert new_norm == pytest.approx(6.5, rel=1e-6)


def test_clip_grad_norm_leaves_small_gradients_unchanged():
    params = params_with_grads()
    assert clip_grad_norm_(params, 20.0).item() == pytest.approx(13.0)
    assert grads(params) == [[3.0, 4.0], [[12.0]], None]


@pytest.mark.parametrize("norm_type, expected", [(1, 19.0), (2.0, 13.0), (float("inf"), 12.0), ("inf", 12.0),
                                                 (3, (27 + 64 + 1728) ** (1 / 3))])
def test_clip_grad_norm_norm_types(norm_type, expected):
    params = params_with_grads(nk.float64)
    total = clip_grad_norm_(params, max_norm=1.0, norm_type=norm_type)
    assert total.dtype == nk.float64 and total.item() == pytest.approx(expected)
    coef = 1.0 / (expected + 1e-6)
    np.testing.assert_allclose(params[0].grad.numpy(), [3 * coef, 4 * coef], rtol=1e-12)


def test_clip_grad_norm_single_tensor_generator_and_empty():
    p = nn.Parameter(nk.zeros(2))
    p.grad = nk.tensor([6.0, 8.0])
    assert clip_grad_norm_(p, 5.0).item() == pytest.approx(10.0)
    np.testing.assert_allclose(p.grad.numpy(), [3.0, 4.0], rtol=1e-6)
    model = nn.Sequential(nn.Flatten())
    total = clip_grad_norm_(model.parameters(), 1.0)
    assert total.item() == 0.0 and total.dtype == nk.float32
    assert clip_grad_norm_([nn.Parameter(nk.zeros(2))], 1.0).item() == 0.0


def test_clip_grad_norm_nonfinite():
    params = params_with_grads()
    params[0].grad = nk.tensor([float("nan"), 1.0])
    with pytest.raises(RuntimeError, match="The total norm of order 2.0 for gradients from `parameters` is "
                                           "non-finite, so it cannot be clipped"):
        clip_grad_norm_(params, 1.0, error_if_nonfinite=True)
    assert math.isnan(clip_grad_norm_(params, 1.0).item())


def test_clip_grad_norm_records_no_graph_and_keeps_grad_identity():
    params = params_with_grads()
    g = params[0].grad
    clip_grad_norm_(params, 1.0)
    assert params[0].grad is g and g.grad_fn is None and not g.requires_grad


def test_get_total_norm_and_clip_grads_with_norm():
    params = params_with_grads()
    total = get_total_norm([p.grad for p in params if p.grad is not None])
    assert total.item() == pytest.approx(13.0)
    clip_grads_with_norm_(params, 13.0 / 2, total)
    np.testing.assert_allclose(params[0].grad.numpy(), [1.5, 2.0], rtol=1e-6)


def test_clip_grad_value():
    p = nn.Parameter(nk.zeros(4))
    p.grad = nk.tensor([-3.0, 0.5, 2.0, -0.25])
    q = nn.Parameter(nk.zeros(1))
    assert clip_grad_value_([p, q], 1.0) is None
    assert p.grad.tolist() == [-1.0, 0.5, 1.0, -0.25] and q.grad is None
    clip_grad_value_(p, 0.5)
    assert p.grad.tolist() == [-0.5, 0.5, 0.5, -0.25]


def test_parameters_to_vector_is_ordered_and_differentiable():
    a = nn.Parameter(nk.tensor([[1.0, 2.0], [3.0, 4.0]]))
    b = nn.Parameter(nk.tensor([5.0]))
    vec = parameters_to_vector([a, b])
    assert vec.tolist() == [1.0, 2.0, 3.0, 4.0, 5.0]
    (vec * nk.arange(5.0)).sum().backward()
    assert a.grad.tolist() == [[0.0, 1.0], [2.0, 3.0]] and b.grad.tolist() == [4.0]


def test_vector_to_parameters_round_trip():
    model = nn.Sequential(nn.Flatten())
    model.a = nn.Parameter(nk.zeros(2, 2))
    model.b = nn.Parameter(nk.zeros(3))
    a, b = model.a, model.b
    vector_to_parameters(nk.arange(7.0), model.parameters())
    assert model.a is a and model.b is b
    assert a.tolist() == [[0.0, 1.0], [2.0, 3.0]] and b.tolist() == [4.0, 5.0, 6.0]
    assert a.requires_grad and a.is_leaf
    np.testing.assert_array_equal(parameters_to_vector(model.parameters()).detach().numpy(), np.arange(7.0))
    with pytest.raises(TypeError, match="expected nnkit.Tensor, but got: list"):
        vector_to_parameters([1.0], model.parameters())
    with pytest.raises(RuntimeError, match="expected a 1-D vector of 7 elements"):
        vector_to_parameters(nk.zeros(6), model.parameters())


def test_matches_torch():
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(0)
    arrays = [rng.standard_normal((3, 4)).astype(np.float32), rng.standard_normal(5).astype(np.float32)]
    grads_ = [rng.standard_normal(a.shape).astype(np.float32) * 3 for a in arrays]
    for norm_type in [2.0, 1.0, float("inf")]:
        ours = [nn.Parameter(nk.tensor(a)) for a in arrays]
        theirs = [torch.nn.Parameter(torch.tensor(a)) for a in arrays]
        for o, t, g in zip(ours, theirs, grads_):
            o.grad = nk.tensor(g)
            t.grad = torch.tensor(g)
        total = clip_grad_norm_(ours, 1.5, norm_type)
        ttotal = torch.nn.utils.clip_grad_norm_(theirs, 1.5, norm_type)
        assert total.item() == pytest.approx(ttotal.item(), rel=1e-5)
        for o, t in zip(ours, theirs):
            np.testing.assert_allclose(o.grad.numpy(), t.grad.numpy(), rtol=1e-5)
    ours = [nn.Parameter(nk.tensor(a)) for a in arrays]
    theirs = [torch.nn.Parameter(torch.tensor(a)) for a in arrays]
    np.testing.assert_array_equal(parameters_to_vector(ours).detach().numpy(),
                                  torch.nn.utils.parameters_to_vector(theirs).detach().numpy())
