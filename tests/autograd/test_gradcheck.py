"""gradcheck and gradgradcheck: they pass correct gradients, catch wrong ones with PyTorch's messages, and leave
their inputs as they found them."""

import warnings

import numpy as np
import pytest

import nnkit as nk
from nnkit.autograd.function import Function
from nnkit.autograd.gradcheck import GradcheckError, gradcheck, gradgradcheck


def leaf(values):
    return nk.tensor(np.asarray(values, dtype=np.float64), requires_grad=True)


def rand(*shape, seed=0):
    return leaf(np.random.default_rng(seed).standard_normal(shape))


class WrongExp(Function):
    """exp with a backward off by a factor of two."""

    @staticmethod
    def forward(ctx, x):
        out = x.exp()
        ctx.save_for_backward(out)
        return out

    @staticmethod
    def backward(ctx, grad):
        (out,) = ctx.saved_tensors
        return grad * out * 2


class FirstOrderOnlyCube(Function):
    """Right first derivative; the backward detaches x, so its own derivative (the second) is wrong."""

    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return x * x * x

    @staticmethod
    def backward(ctx, grad):
        (x,) = ctx.saved_tensors
        return grad * 3 * x.detach() * x.detach()


def test_passes_for_correct_gradients():
    x, y = rand(3, 4), rand(4, seed=1)
    assert gradcheck(lambda a, b: (a * b).exp(), (x, y)) is True
    assert gradgradcheck(lambda a, b: (a * b).exp(), (x, y)) is True
    assert gradcheck(lambda a: a * a, rand(5)) is True  # a single Tensor as inputs
    assert gradcheck(lambda a, k: a * k, (rand(2), 3.0))  # non-Tensor arguments pass through


def test_mismatch_raises_with_pytorch_message():
    x = leaf([0.5, 1.0])
    with pytest.raises(GradcheckError) as err:
        gradcheck(WrongExp.apply, (x,))
    assert isinstance(err.value, RuntimeError)
    msg = str(err.value)
    assert msg.startswith("Jacobian mismatch for output 0 with respect to input 0,\nnumerical:tensor(")
    assert "\nanalytical:tensor(" in msg
    assert "shape [2]" in msg and "atol=1e-05" in msg


def test_raise_exception_false_returns_false():
    assert gradcheck(WrongExp.apply, (leaf([0.5]),), raise_exception=False) is False


def test_input_index_counts_differentiable_inputs():
    frozen = nk.tensor(np.array([1.0, 2.0]))
    with pytest.raises(GradcheckError, match="with respect to input 0,"):
        gradcheck(lambda c, a: WrongExp.apply(a) * c, (frozen, leaf([0.1, 0.2])))


def test_gradgradcheck_catches_wrong_second_derivative():
    x = leaf([1.0, -2.0])
    assert gradcheck(FirstOrderOnlyCube.apply, (x,))
    with pytest.raises(GradcheckError, match="Jacobian mismatch for output 0 with respect to input 0"):
        gradgradcheck(FirstOrderOnlyCube.apply, (x,))


def test_fast_mode():
    assert gradcheck(lambda a: (a * a).exp(), rand(3, 2), fast_mode=True)
    with pytest.raises(GradcheckError) as err:
        gradcheck(WrongExp.apply, (leaf([0.5, 1.0]),), fast_mode=True)
    assert str(err.value).startswith("Jacobian mismatch for output 0 with respect to input 0,")
    assert "fast mode" in str(err.value)


def test_inputs_are_restored_exactly():
    x = rand(3, 3)
    before = x.detach().numpy().copy()
    version = x._counter[0]
    gradcheck(lambda a: a.exp(), (x,))
    gradgradcheck(lambda a: a.exp(), (x,))
    np.testing.assert_array_equal(x.detach().numpy(), before)
    assert x._counter[0] == version
    assert x.grad is None


def test_float32_input_warns():
    x = nk.tensor(np.ones(2, dtype=np.float32), requires_grad=True)
    with pytest.warns(UserWarning, match="Input #0 requires gradient and is not a double precision floating point"):
        gradcheck(lambda a: a * 2, (x,), raise_exception=False)


def test_no_input_requiring_grad_is_an_error():
    with pytest.raises(ValueError, match="gradcheck expects at least one input tensor to require gradient"):
        gradcheck(lambda a: a * 2, (nk.tensor(np.ones(2)),))


def test_stride_zero_input_is_an_error():
    x = leaf([1.0]).expand(3)
    with pytest.raises(RuntimeError, match="has a dimension with stride 0"):
        gradcheck(lambda a: a * 2, (x,))


def test_backward_not_multiplied_by_grad_output():
    class IgnoresGrad(Function):
        @staticmethod
        def forward(ctx, x):
            return x * 1.0

        @staticmethod
        def backward(ctx, grad):
            return nk.tensor(np.ones(grad.shape))

    with pytest.raises(GradcheckError, match="backward not multiplied by grad_output"):
        gradcheck(IgnoresGrad.apply, (leaf([1.0]),))


def test_non_reentrant_backward():
    class Noisy(Function):
        calls = 0

        @staticmethod
        def forward(ctx, x):
            return x * 1.0

        @staticmethod
        def backward(ctx, grad):
            Noisy.calls += 1
            return grad * (1.0 + 1e-9 * Noisy.calls)

    with pytest.raises(GradcheckError, match="Backward is not reentrant"):
        gradcheck(Noisy.apply, (leaf([1.0, 2.0]),))
    assert gradcheck(Noisy.apply, (leaf([1.0, 2.0]),), nondet_tol=1e-6)


def test_dropped_graph_is_caught():
    with pytest.raises(GradcheckError, match="Numerical gradient for function expected to be zero"):
        gradcheck(lambda a: a.detach() * 2, (leaf([1.0, 2.0]),))


def test_integer_outputs_are_ignored():
    assert gradcheck(lambda a: (a * 2, (a > 0).long()), (leaf([1.0, -1.0]),))


def test_gradgradcheck_with_given_grad_outputs_and_non_contiguous():
    x = rand(2, 3)
    v = leaf(np.ones((2, 3)))
    assert gradgradcheck(lambda a: a * a * a, (x,), (v,))
    assert gradgradcheck(lambda a: a * a * a, (x,), gen_non_contig_grad_outputs=True)


def test_warning_free_for_float64():
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert gradcheck(lambda a: a.sin(), rand(3))
