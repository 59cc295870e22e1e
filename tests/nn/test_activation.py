"""Activations: the spec table (forward, gradcheck, gradgradcheck, no-grad, PyTorch parity), the normal CDF
behind the exact GELU, hand-computed values, in-place variants, second derivatives against PyTorch and the
activation modules."""

import math
import warnings

import numpy as np
import pytest

import nnkit as nk
import nnkit.nn as nn
import nnkit.nn.functional as F
from nnkit.nn.functional.activation import _ndtr_array
from tests.ops import harness
from tests.ops.harness import OpSpec


def normal(*shapes, scale=1.0):
    return lambda rng: [rng.standard_normal(s) * scale for s in shapes]


def away_from_zero(*shapes):
    # relu/leaky_relu have a kink at 0: keep finite differences away from it.
    return lambda rng: [rng.choice([-1.0, 1.0], s) * rng.uniform(0.2, 2.0, s) for s in shapes]


def ndtr(x):
    return 0.5 * np.vectorize(math.erfc)(-x / math.sqrt(2))


def gelu_ref(x):
    return x * ndtr(x)


def gelu_tanh_ref(x):
    return 0.5 * x * (1 + np.tanh(math.sqrt(2 / math.pi) * (x + 0.044715 * x**3)))


def sig(x):
    return 1 / (1 + np.exp(-x))


def softmax_ref(x, axis):
    e = np.exp(x - x.max(axis=axis, keepdims=True))
    return e / e.sum(axis=axis, keepdims=True)


def tf():
    import torch.nn.functional as tfn

    return tfn


SPECS = [
    OpSpec("relu", F.relu, lambda x: np.maximum(x, 0), away_from_zero((3, 4)), torch_fn=lambda x: tf().relu(x),
           grad_fn="ReluBackward0"),
    OpSpec("leaky_relu", F.leaky_relu, lambda x: np.where(x > 0, x, 0.01 * x), away_from_zero((3, 4)),
           torch_fn=lambda x: tf().leaky_relu(x), grad_fn="LeakyReluBackward0"),
    OpSpec("leaky_relu_slope", lambda x: F.leaky_relu(x, 0.2), lambda x: np.where(x > 0, x, 0.2 * x),
           away_from_zero((2, 3, 2)), torch_fn=lambda x: tf().leaky_relu(x, 0.2), grad_fn="LeakyReluBackward0"),
    OpSpec("gelu", F.gelu, gelu_ref, normal((4, 5), scale=3.0), torch_fn=lambda x: tf().gelu(x),
           grad_fn="GeluBackward0"),
    OpSpec("gelu_tails", F.gelu, gelu_ref, lambda rng: [np.array([-12.0, -7.5, -5.0, -0.3, 0.0, 0.2, 0.7, 6.0])],
           torch_fn=lambda x: tf().gelu(x), grad_fn="GeluBackward0"),
    OpSpec("gelu_tanh", lambda x: F.gelu(x, approximate="tanh"), gelu_tanh_ref, normal((4, 5), scale=3.0),
           torch_fn=lambda x: tf().gelu(x, approximate="tanh"), grad_fn="GeluBackward0"),
    OpSpec("silu", F.silu, lambda x: x * sig(x), normal((3, 4), scale=3.0), torch_fn=lambda x: tf().silu(x),
           grad_fn="SiluBackward0"),
    OpSpec("sigmoid", F.sigmoid, sig, normal((3, 4)), torch_fn=lambda x: x.sigmoid(), grad_fn="SigmoidBackward0"),
    OpSpec("tanh", F.tanh, np.tanh, normal((3, 4)), torch_fn=lambda x: x.tanh(), grad_fn="TanhBackward0"),
    OpSpec("softmax", lambda x: F.softmax(x, dim=1), lambda x: softmax_ref(x, 1), normal((3, 4, 2)),
           torch_fn=lambda x: tf().softmax(x, dim=1), grad_fn="SoftmaxBackward0"),
    OpSpec("log_softmax", lambda x: F.log_softmax(x, dim=-1), lambda x: np.log(softmax_ref(x, -1)),
           normal((3, 4)), torch_fn=lambda x: tf().log_softmax(x, dim=-1), grad_fn="LogSoftmaxBackward0"),
]

harness.make_tests(SPECS, globals())


def f64(values, requires_grad=False):
    return nk.tensor(values, dtype=nk.float64, requires_grad=requires_grad)


# -- the normal CDF ------------------------------------------------------------------------------------------------
def test_ndtr_is_accurate_to_double_precision_including_the_tails():
    x = np.concatenate([np.linspace(-37, 37, 20001), [0.0, 5e-324, -1e-300, 0.66291, 5.6569]])
    expected = ndtr(x)
    got = _ndtr_array(x)
    np.testing.assert_allclose(got, expected, rtol=2e-13, atol=0)


def test_ndtr_special_values_shapes_and_float32():
    np.testing.assert_array_equal(_ndtr_array(np.array([np.inf, -np.inf])), [1.0, 0.0])
    assert np.isnan(_ndtr_array(np.array([np.nan]))[0])
    assert _ndtr_array(np.array(0.0)) == 0.5
    assert _ndtr_array(np.zeros((2, 0))).shape == (2, 0)
    x32 = np.linspace(-8, 8, 101, dtype=np.float32)
    got = _ndtr_array(x32)
    assert got.dtype == np.float32
    np.testing.assert_allclose(got, ndtr(x32.astype(np.float64)), atol=2e-7)


# -- hand-computed values -------------------------------------------------------------------------------------------
def test_hand_computed_values():
    x = f64([-1.0, 0.0, 1.0])
    np.testing.assert_allclose(F.gelu(x).numpy(), [-0.15865525393145707, 0.0, 0.8413447460685429], rtol=1e-15)
    np.testing.assert_allclose(F.gelu(x, approximate="tanh").numpy(), [-0.15880800939172324, 0.0,
                                                                        0.8411919906082768], rtol=1e-14)
    np.testing.assert_allclose(F.silu(x).numpy(), [-0.2689414213699951, 0.0, 0.7310585786300049], rtol=1e-15)
    np.testing.assert_array_equal(F.leaky_relu(f64([-2.0, 0.0, 3.0]), 0.1).numpy(), [-0.2, 0.0, 3.0])
    np.testing.assert_array_equal(F.relu(f64([-2.0, 0.0, 3.0])).numpy(), [0.0, 0.0, 3.0])


def test_kink_gradients_at_zero_follow_pytorch():
    x = f64([0.0, 0.0], requires_grad=True)
    F.relu(x).sum().backward()
    np.testing.assert_array_equal(x.grad.numpy(), [0.0, 0.0])
    x = f64([0.0, -1.0, 1.0], requires_grad=True)
    F.leaky_relu(x, 0.3).sum().backward()
    np.testing.assert_array_equal(x.grad.numpy(), [0.3, 0.3, 1.0])
    x = f64([0.0], requires_grad=True)
    F.gelu(x).sum().backward()
    np.testing.assert_array_equal(x.grad.numpy(), [0.5])


def test_gelu_is_finite_for_huge_inputs():
    x = f64([-1e4, -40.0, 40.0, 1e4], requires_grad=True)
    y = F.gelu(x)
    np.testing.assert_array_equal(y.detach().numpy(), [-0.0, -0.0, 40.0, 1e4])
    y.sum().backward()
    np.testing.assert_array_equal(x.grad.numpy(), [0.0, 0.0, 1.0, 1.0])


@pytest.mark.parametrize("name", ["gelu", "gelu_tanh", "silu"])
def test_second_derivatives_match_pytorch(name):
    torch = pytest.importorskip("torch")
    ours_fn = {"gelu": F.gelu, "gelu_tanh": lambda t: F.gelu(t, approximate="tanh"), "silu": F.silu}[name]
    theirs_fn = {"gelu": tf().gelu, "gelu_tanh": lambda t: tf().gelu(t, approximate="tanh"), "silu": tf().silu}[name]
    x = np.random.default_rng(3).standard_normal(7) * 3
    ours = f64(x, requires_grad=True)
    (g,) = nk.autograd.grad(ours_fn(ours).sum(), ours, create_graph=True)
    (gg,) = nk.autograd.grad(g.sum(), ours)
    theirs = torch.tensor(x, requires_grad=True)
    (tg,) = torch.autograd.grad(theirs_fn(theirs).sum(), theirs, create_graph=True)
    (tgg,) = torch.autograd.grad(tg.sum(), theirs)
    np.testing.assert_allclose(g.detach().numpy(), tg.detach().numpy(), rtol=1e-13, atol=1e-15)
    np.testing.assert_allclose(gg.numpy(), tgg.numpy(), rtol=1e-12, atol=1e-14)


# -- in place -----------------------------------------------------------------------------------------------------
@pytest.mark.parametrize("inplace_fn, fn, expected", [
    (lambda t: F.relu(t, inplace=True), F.relu, [0.0, 0.0, 2.0]),
    (lambda t: F.leaky_relu(t, 0.5, inplace=True), lambda t: F.leaky_relu(t, 0.5), [-0.5, 0.0, 2.0]),
    (lambda t: F.silu(t, inplace=True), F.silu, [-0.2689414213699951, 0.0, 1.7615941559557649]),
])
def test_inplace_variants_write_into_the_input_and_keep_gradients(inplace_fn, fn, expected):
    leaf = f64([-1.0, 0.0, 2.0], requires_grad=True)
    x = leaf * 1.0
    out = inplace_fn(x)
    assert out is x
    np.testing.assert_allclose(x.detach().numpy(), expected, rtol=1e-15)
    (x * f64([1.0, 2.0, 3.0])).sum().backward()
    reference = f64([-1.0, 0.0, 2.0], requires_grad=True)
    (fn(reference) * f64([1.0, 2.0, 3.0])).sum().backward()
    np.testing.assert_allclose(leaf.grad.numpy(), reference.grad.numpy(), rtol=1e-15)


def test_inplace_without_grad_is_a_plain_write():
    x = f64([-1.0, 3.0])
    assert F.relu(x, inplace=True) is x
    np.testing.assert_array_equal(x.numpy(), [0.0, 3.0])
    v = x._version
    F.leaky_relu(x, inplace=True)
    assert x._version == v + 1


# -- errors and dims ----------------------------------------------------------------------------------------------
def test_errors():
    with pytest.raises(RuntimeError, match="approximate argument must be either none or tanh"):
        F.gelu(f64([1.0]), approximate="erf")
    with pytest.raises(NotImplementedError, match='"leaky_relu_cpu" not implemented for \'Long\''):
        F.leaky_relu(nk.tensor([1, 2]))
    with pytest.raises(NotImplementedError, match='"gelu_cpu" not implemented'):
        F.gelu(nk.tensor([1, 2]))


def test_softmax_without_dim_warns_and_uses_pytorch_legacy_choice():
    x = f64(np.arange(24.0).reshape(2, 3, 4))
    with pytest.warns(UserWarning, match="Implicit dimension choice for softmax has been deprecated"):
        y = F.softmax(x)
    np.testing.assert_allclose(y.numpy(), softmax_ref(x.numpy(), 0))
    with pytest.warns(UserWarning, match="log_softmax"):
        y = F.log_softmax(x[0])
    np.testing.assert_allclose(y.numpy(), np.log(softmax_ref(x.numpy()[0], 1)))


def test_softmax_dtype_argument():
    y = F.softmax(nk.tensor([1.0, 2.0]), dim=0, dtype=nk.float64)
    assert y.dtype == nk.float64


# -- modules -------------------------------------------------------------------------------------------------------
def test_module_reprs_match_pytorch():
    assert repr(nn.ReLU()) == "ReLU()"
    assert repr(nn.ReLU(inplace=True)) == "ReLU(inplace=True)"
    assert repr(nn.LeakyReLU()) == "LeakyReLU(negative_slope=0.01)"
    assert repr(nn.LeakyReLU(0.2, True)) == "LeakyReLU(negative_slope=0.2, inplace=True)"
    assert repr(nn.GELU()) == "GELU(approximate='none')"
    assert repr(nn.GELU("tanh")) == "GELU(approximate='tanh')"
    assert repr(nn.SiLU()) == "SiLU()"
    assert repr(nn.Sigmoid()) == "Sigmoid()"
    assert repr(nn.Tanh()) == "Tanh()"
    assert repr(nn.Softmax(dim=1)) == "Softmax(dim=1)"
    assert repr(nn.LogSoftmax(-1)) == "LogSoftmax(dim=-1)"


@pytest.mark.parametrize("module, fn", [
    (nn.ReLU(), F.relu), (nn.LeakyReLU(0.3), lambda t: F.leaky_relu(t, 0.3)), (nn.GELU(), F.gelu),
    (nn.GELU("tanh"), lambda t: F.gelu(t, approximate="tanh")), (nn.SiLU(), F.silu), (nn.Sigmoid(), F.sigmoid),
    (nn.Tanh(), F.tanh), (nn.Softmax(1), lambda t: F.softmax(t, 1)), (nn.LogSoftmax(0), lambda t: F.log_softmax(t, 0)),
])
def test_modules_call_their_functional(module, fn):
    x = f64(np.random.default_rng(0).standard_normal((3, 4)))
    np.testing.assert_array_equal(module(x).numpy(), fn(x).numpy())
    assert list(module.parameters()) == [] and list(module.state_dict()) == []


def test_inplace_modules_modify_the_input():
    x = f64([-1.0, 2.0])
    assert nn.ReLU(inplace=True)(x) is x
    np.testing.assert_array_equal(x.numpy(), [0.0, 2.0])


def test_softmax_module_without_dim_warns():
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        nn.Softmax()(f64([[1.0, 2.0]]))
    assert any("Implicit dimension choice" in str(w.message) for w in caught)
