"""Custom autograd Functions: ctx is the backward node, saved tensors, multiple and non-differentiable outputs,
needs_input_grad, in-place forwards, error messages, double backward and gradcheck."""

import gc
import weakref

import numpy as np
import pytest

import nnkit as nk
from nnkit.autograd.function import Function, once_differentiable
from nnkit.autograd.gradcheck import gradcheck, gradgradcheck


def leaf(values):
    return nk.tensor(np.asarray(values, dtype=np.float64), requires_grad=True)


def ones(shape):
    return nk.tensor(np.ones(shape))


class Exp(Function):
    @staticmethod
    def forward(ctx, x):
        result = x.exp()
        ctx.save_for_backward(result)
        return result

    @staticmethod
    def backward(ctx, grad):
        (result,) = ctx.saved_tensors
        return grad * result


class Cube(Function):
    """Backward written with Tensor ops, so it can be differentiated again."""

    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return x * x * x

    @staticmethod
    def backward(ctx, grad):
        (x,) = ctx.saved_tensors
        return grad * 3 * x * x


class ScaleShift(Function):
    """``x * k + y`` with a non-Tensor argument in the middle."""

    @staticmethod
    def forward(ctx, x, k, y):
        ctx.k = k
        ctx.seen_needs = ctx.needs_input_grad
        ctx.grad_enabled_in_forward = nk.is_grad_enabled()
        return x * k + y

    @staticmethod
    def backward(ctx, grad):
        gx = grad * ctx.k if ctx.needs_input_grad[0] else None
        gy = grad if ctx.needs_input_grad[2] else None
        return gx, None, gy


class TwoOutputs(Function):
    @staticmethod
    def forward(ctx, x):
        return x * 2, x * 3

    @staticmethod
    def backward(ctx, g1, g2):
        ctx.received = (g1, g2)
        return g1 * 2 + g2 * 3


# -- basics ----------------------------------------------------------------------------------------------------
def test_custom_exp_values_gradient_and_node():
    x = leaf([0.0, 1.0])
    y = Exp.apply(x)
    np.testing.assert_allclose(y.detach().numpy(), np.exp([0.0, 1.0]))
    assert y.requires_grad and y.grad_fn.name() == "ExpBackward"
    assert type(y.grad_fn).__name__ == "ExpBackward"
    assert y.grad_fn.next_functions[0][0] is x.grad_fn or y.grad_fn.next_functions[0][0].variable is x
    y.backward(ones(2))
    np.testing.assert_allclose(x.grad.numpy(), np.exp([0.0, 1.0]))


def test_saved_output_makes_no_reference_cycle():
    gc.disable()
    try:
        x = leaf([1.0, 2.0])
        y = Exp.apply(x)
        ref = weakref.ref(y)
        node_ref = weakref.ref(y.grad_fn)
        del y
        assert ref() is None and node_ref() is None  # freed by reference counting alone
    finally:
        gc.enable()


def test_ctx_is_the_node_and_keeps_attributes():
    x = leaf([1.0, 2.0])
    out = ScaleShift.apply(x, 3.0, nk.tensor(np.zeros(2)))
    ctx = out.grad_fn
    assert ctx.k == 3.0
    assert ctx.grad_enabled_in_forward is False  # forward runs under no_grad
    out.backward(ones(2))
    np.testing.assert_array_equal(x.grad.numpy(), [3.0, 3.0])


def test_next_functions_has_one_entry_per_tensor_argument():
    x = leaf([1.0])
    y = nk.tensor(np.array([2.0]))
    out = ScaleShift.apply(x, 2.0, y)
    assert len(out.grad_fn.next_functions) == 2
    assert out.grad_fn.next_functions[0][0].variable is x
    assert out.grad_fn.next_functions[1] == (None, 0)


def test_needs_input_grad():
    x = leaf([1.0])
    y = nk.tensor(np.array([2.0]))
    out = ScaleShift.apply(x, 2.0, y)
    assert out.grad_fn.seen_needs == (True, False, False)
    out = ScaleShift.apply(y, 2.0, x)
    assert out.grad_fn.seen_needs == (False, False, True)
    out.backward(ones(1))
    np.testing.assert_array_equal(x.grad.numpy(), [1.0])


def test_nothing_recorded_under_no_grad_or_without_grad_inputs():
    x = leaf([1.0])
    with nk.no_grad():
        out = Exp.apply(x)
    assert out.grad_fn is None and not out.requires_grad
    out = Exp.apply(nk.tensor(np.array([1.0])))
    assert out.grad_fn is None and not out.requires_grad


def test_setup_context_style():
    class Square(Function):
        @staticmethod
        def forward(x):
            return x * x

        @staticmethod
        def setup_context(ctx, inputs, output):
            ctx.save_for_backward(inputs[0])

        @staticmethod
        def backward(ctx, grad):
            (x,) = ctx.saved_tensors
            return grad * 2 * x

    x = leaf([3.0])
    Square.apply(x).backward(ones(1))
    np.testing.assert_array_equal(x.grad.numpy(), [6.0])


# -- several outputs -------------------------------------------------------------------------------------------
def test_multi_output_gradients_sum():
    x = leaf([1.0, 2.0])
    a, b = TwoOutputs.apply(x)
    assert a.grad_fn is b.grad_fn
    assert (a._output_nr, b._output_nr) == (0, 1)
    nk.autograd.backward([a, b], [ones(2), ones(2)])
    np.testing.assert_array_equal(x.grad.numpy(), [5.0, 5.0])


def test_unused_output_gradient_is_materialized_as_zeros():
    x = leaf([1.0, 2.0])
    a, b = TwoOutputs.apply(x)
    node = a.grad_fn
    a.backward(ones(2))
    g1, g2 = node.received
    np.testing.assert_array_equal(g2.numpy(), [0.0, 0.0])
    np.testing.assert_array_equal(x.grad.numpy(), [2.0, 2.0])


def test_set_materialize_grads_false_passes_none():
    class Pair(Function):
        @staticmethod
        def forward(ctx, x):
            ctx.set_materialize_grads(False)
            return x * 2, x * 3

        @staticmethod
        def backward(ctx, g1, g2):
            ctx.received = (g1, g2)
            return g1 * 2 if g2 is None else g1 * 2 + g2 * 3

    x = leaf([1.0])
    a, _ = Pair.apply(x)
    node = a.grad_fn
    a.backward(ones(1))
    assert node.received[1] is None
    np.testing.assert_array_equal(x.grad.numpy(), [2.0])


def test_non_differentiable_outputs():
    class SortedWithIndex(Function):
        @staticmethod
        def forward(ctx, x):
            order = np.argsort(x.numpy(force=True))
            values = nk.tensor(x.numpy(force=True)[order])
            ctx.order = order
            return values, nk.tensor(order)

        @staticmethod
        def backward(ctx, grad, grad_index):
            assert grad_index.dtype == nk.int64 and not grad_index.numpy().any()  # materialized zeros
            out = np.zeros_like(grad.numpy())
            out[ctx.order] = grad.numpy()
            return nk.tensor(out)

    x = leaf([3.0, -1.0, 2.0])
    values, index = SortedWithIndex.apply(x)
    assert values.requires_grad and values.grad_fn.name() == "SortedWithIndexBackward"
    assert not index.requires_grad and index.grad_fn is None  # integer outputs are never differentiable
    values.backward(nk.tensor(np.array([1.0, 2.0, 3.0])))
    np.testing.assert_array_equal(x.grad.numpy(), [3.0, 1.0, 2.0])


def test_mark_non_differentiable_output():
    class WithMask(Function):
        @staticmethod
        def forward(ctx, x):
            scaled = x * 1.0
            ctx.mark_non_differentiable(scaled)
            return x * 2, scaled

        @staticmethod
        def backward(ctx, grad, grad_scaled):
            return grad * 2

    x = leaf([1.0, -1.0])
    out, scaled = WithMask.apply(x)
    assert out.requires_grad and not scaled.requires_grad and scaled.grad_fn is None


# -- inputs returned or modified -------------------------------------------------------------------------------
def test_returning_an_input_unchanged_keeps_its_history():
    class Identity(Function):
        @staticmethod
        def forward(ctx, x):
            return x

        @staticmethod
        def backward(ctx, grad):
            return grad * 10

    a = leaf([1.0, 2.0])
    x = a * 2
    out = Identity.apply(x)
    assert out is not x
    assert x.grad_fn.name() == "MulBackward0"
    assert out.grad_fn.name() == "IdentityBackward"
    assert out.data_ptr() == x.data_ptr()
    out.backward(ones(2))
    np.testing.assert_array_equal(a.grad.numpy(), [20.0, 20.0])


def test_mark_dirty_in_place_forward():
    class AddOneInPlace(Function):
        @staticmethod
        def forward(ctx, x):
            x.add_(1.0)
            ctx.mark_dirty(x)
            return x

        @staticmethod
        def backward(ctx, grad):
            return grad

    a = leaf([1.0, 2.0])
    x = a * 3
    out = AddOneInPlace.apply(x)
    assert out is x
    assert x.grad_fn.name() == "AddOneInPlaceBackward"
    np.testing.assert_array_equal(x.detach().numpy(), [4.0, 7.0])
    out.backward(ones(2))
    np.testing.assert_array_equal(a.grad.numpy(), [3.0, 3.0])

    with pytest.raises(RuntimeError, match="a leaf Variable that requires grad is being used in an in-place"):
        AddOneInPlace.apply(leaf([1.0]))


# -- saved tensors ---------------------------------------------------------------------------------------------
def test_saved_tensors_are_freed_after_backward():
    x = leaf([1.0])
    y = Cube.apply(x)
    node = y.grad_fn
    y.backward(ones(1))
    with pytest.raises(RuntimeError, match="Trying to backward through the graph a second time"):
        _ = node.saved_tensors
    with pytest.raises(RuntimeError, match="Trying to backward through the graph a second time"):
        y.backward(ones(1))


def test_saved_tensors_are_version_checked():
    x = leaf([1.0, 2.0])
    h = x * 1.0
    y = Cube.apply(h)
    with nk.no_grad():
        h.add_(1.0)
    with pytest.raises(RuntimeError, match="one of the variables needed for gradient computation has been modified"):
        y.backward(ones(2))


def test_save_for_backward_rejects_non_tensors():
    class Bad(Function):
        @staticmethod
        def forward(ctx, x):
            ctx.save_for_backward(x, 3.0)
            return x * 1.0

        @staticmethod
        def backward(ctx, grad):
            return grad

    with pytest.raises(TypeError, match="save_for_backward can only save variables"):
        Bad.apply(leaf([1.0]))


# -- errors in backward ----------------------------------------------------------------------------------------
def test_wrong_number_of_gradients():
    class TooFew(Function):
        @staticmethod
        def forward(ctx, x, y):
            return x * y

        @staticmethod
        def backward(ctx, grad):
            return grad

    out = TooFew.apply(leaf([1.0]), leaf([2.0]))
    with pytest.raises(RuntimeError, match=r"^function TooFewBackward returned an incorrect number of gradients "
                                           r"\(expected 2, got 1\)"):
        out.backward(ones(1))


def test_extra_none_gradients_are_allowed():
    class ExtraNone(Function):
        @staticmethod
        def forward(ctx, x):
            return x * 2

        @staticmethod
        def backward(ctx, grad):
            return grad * 2, None

    x = leaf([1.0])
    ExtraNone.apply(x).backward(ones(1))
    np.testing.assert_array_equal(x.grad.numpy(), [2.0])


def test_gradient_for_non_tensor_argument_is_an_error():
    class Bad(Function):
        @staticmethod
        def forward(ctx, x, k):
            return x * k

        @staticmethod
        def backward(ctx, grad):
            return grad, grad

    with pytest.raises(RuntimeError, match="returned a gradient different than None at position 2, but the "
                                           "corresponding forward input was not a Variable"):
        Bad.apply(leaf([1.0]), 2.0).backward(ones(1))


def test_gradient_of_wrong_shape():
    class Bad(Function):
        @staticmethod
        def forward(ctx, x):
            return x * 2

        @staticmethod
        def backward(ctx, grad):
            return nk.tensor(np.ones(2))

    with pytest.raises(RuntimeError, match=r"^Function BadBackward returned an invalid gradient at index 0 - got "
                                           r"\[2\] but expected shape compatible with \[3\]"):
        Bad.apply(leaf([1.0, 2.0, 3.0])).backward(ones(3))


def test_broadcastable_gradient_is_summed_and_cast():
    class Broad(Function):
        @staticmethod
        def forward(ctx, x):
            return x * 1.0

        @staticmethod
        def backward(ctx, grad):
            return nk.tensor(np.ones((4, 2, 3), dtype=np.float32))

    x = leaf(np.zeros((2, 1)))
    Broad.apply(x).backward(ones((2, 1)))
    assert x.grad.dtype == nk.float64
    np.testing.assert_array_equal(x.grad.numpy(), np.full((2, 1), 12.0))


def test_function_cannot_be_instantiated():
    with pytest.raises(RuntimeError, match=r"call Exp.apply"):
        Exp()


# -- higher order and checks -----------------------------------------------------------------------------------
def test_double_backward_through_function():
    x = leaf([2.0, -1.0])
    (g,) = nk.autograd.grad(Cube.apply(x), x, ones(2), create_graph=True)
    np.testing.assert_array_equal(g.detach().numpy(), [12.0, 3.0])  # 3x^2
    (h,) = nk.autograd.grad(g, x, ones(2))
    np.testing.assert_array_equal(h.numpy(), [12.0, -6.0])  # 6x


def test_gradcheck_and_gradgradcheck_of_custom_functions():
    x = leaf(np.random.default_rng(0).standard_normal((3, 2)))
    assert gradcheck(Exp.apply, (x,))
    assert gradgradcheck(Exp.apply, (x,))
    assert gradcheck(Cube.apply, (x,))
    assert gradgradcheck(Cube.apply, (x,))
    y = leaf(np.ones((3, 2)))
    assert gradcheck(lambda a, b: ScaleShift.apply(a, 1.5, b), (x, y))
    assert gradcheck(TwoOutputs.apply, (x,))


def test_gradcheck_catches_a_wrong_custom_backward():
    class WrongExp(Exp):
        @staticmethod
        def backward(ctx, grad):
            (result,) = ctx.saved_tensors
            return grad * result * 2

    x = leaf([0.5, 1.0])
    with pytest.raises(RuntimeError, match="Jacobian mismatch for output 0 with respect to input 0"):
        gradcheck(WrongExp.apply, (x,))


def test_once_differentiable():
    class NumpyCube(Function):
        @staticmethod
        def forward(ctx, x):
            ctx.save_for_backward(x)
            return x * x * x

        @staticmethod
        @once_differentiable
        def backward(ctx, grad):
            (x,) = ctx.saved_tensors
            return nk.tensor(grad.detach().numpy() * 3 * x.detach().numpy() ** 2)

    x = leaf([2.0])
    NumpyCube.apply(x).backward(ones(1))
    np.testing.assert_array_equal(x.grad.numpy(), [12.0])

    x = leaf([2.0])
    v = leaf([1.0])
    (g,) = nk.autograd.grad(NumpyCube.apply(x), x, v, create_graph=True)
    np.testing.assert_array_equal(g.detach().numpy(), [12.0])
    assert g.grad_fn.name() == "DelayedError"
    with pytest.raises(RuntimeError, match="trying to differentiate twice a function that was marked with "
                                           "@once_differentiable"):
        g.backward(ones(1))
