"""Version counters and in-place ops under autograd: a saved tensor modified in place makes backward fail with
PyTorch's error, views and detached tensors share the counter, leaves that require grad refuse in-place ops
outside no_grad, and in-place ops on non-leaves are differentiable."""

import numpy as np
import pytest

import nnkit as nk

LEAF_INPLACE = "a leaf Variable that requires grad is being used in an in-place operation"
MODIFIED = "one of the variables needed for gradient computation has been modified by an inplace operation"


def arr(t):
    return t.detach().numpy()


def leaf(values, dtype=nk.float32):
    return nk.tensor(values, dtype=dtype, requires_grad=True)


# -- the counter --------------------------------------------------------------------------------------------------
def test_version_starts_at_zero_and_each_inplace_op_bumps_it():
    t = nk.zeros(3)
    assert t._version == 0
    t.add_(1)
    assert t._version == 1
    t.mul_(2)
    t.zero_()
    t += 1
    assert t._version == 4
    _ = t + 1, t * 2, t.exp()  # out-of-place ops leave it alone
    assert t._version == 4


def test_views_share_the_version_counter_with_their_base():
    base = nk.zeros(2, 3)
    v = base.view(6)
    row = base[0]
    v.add_(1)
    assert base._version == v._version == row._version == 1
    row.mul_(2)
    assert base._version == v._version == row._version == 2
    assert base.tolist() == [[2.0, 2.0, 2.0], [1.0, 1.0, 1.0]]


def test_detach_shares_the_version_counter():
    x = leaf([1.0, 2.0])
    d = x.detach()
    d.add_(1)
    assert x._version == d._version == 1
    assert x.tolist() == [2.0, 3.0]


# -- saved tensors modified in place ------------------------------------------------------------------------------
def test_modifying_a_saved_output_in_place_makes_backward_fail():
    x = leaf([1.0, 2.0, 3.0])
    y = x.exp()  # ExpBackward0 saves its result
    y.add_(1)
    with pytest.raises(RuntimeError, match=MODIFIED) as info:
        y.backward(nk.ones(3))
    message = str(info.value)
    assert "[3]" in message  # the shape
    assert "float32" in message  # the dtype
    assert "ExpBackward0" in message  # the node that saved it
    assert "is at version 1" in message and "expected version 0" in message


def test_modifying_a_saved_input_in_place_makes_backward_fail():
    x = leaf([1.0, 2.0, 3.0])
    w = nk.tensor([[1.0, 1.0, 1.0]], dtype=nk.float64)
    y = x * w  # MulBackward0 saves w for x's gradient
    w.mul_(2)
    w.add_(1)
    with pytest.raises(RuntimeError, match=MODIFIED) as info:
        y.backward(nk.ones(1, 3, dtype=nk.float64))
    message = str(info.value)
    assert "[1, 3]" in message
    assert "float64" in message
    assert "MulBackward0" in message
    assert "is at version 2" in message and "expected version 0" in message


def test_modifying_a_saved_tensor_through_a_view_is_caught():
    x = leaf([1.0, 2.0])
    w = nk.tensor([3.0, 4.0])
    y = x * w
    w.view(2, 1).add_(1)
    with pytest.raises(RuntimeError, match=MODIFIED):
        y.backward(nk.ones(2))


def test_modifying_a_tensor_that_was_not_saved_is_fine():
    x = leaf([1.0, 2.0])
    c = nk.tensor([3.0, 4.0])
    y = x + c  # AddBackward0 saves nothing
    c.add_(100)
    y.backward(nk.ones(2))
    np.testing.assert_allclose(arr(x.grad), [1.0, 1.0])


def test_modifying_before_the_op_is_fine():
    x = leaf([1.0, 2.0])
    w = nk.tensor([3.0, 4.0])
    w.add_(1)
    y = x * w
    y.backward(nk.ones(2))
    np.testing.assert_allclose(arr(x.grad), [4.0, 5.0])


# -- leaves -------------------------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    "op",
    [lambda t: t.add_(1), lambda t: t.mul_(2), lambda t: t.zero_(), lambda t: t.fill_(3.0),
     lambda t: t.copy_(nk.ones(2)), lambda t: t.__iadd__(1)],
    ids=["add_", "mul_", "zero_", "fill_", "copy_", "iadd"],
)
def test_inplace_on_a_leaf_that_requires_grad_raises(op):
    x = leaf([1.0, 2.0])
    with pytest.raises(RuntimeError, match=LEAF_INPLACE + r"\."):
        op(x)
    assert x.tolist() == [1.0, 2.0] and x._version == 0


def test_inplace_on_a_view_of_such_a_leaf_raises():
    x = leaf([1.0, 2.0])
    with pytest.raises(RuntimeError, match="a view of a leaf Variable that requires grad is being used in an in-place"):
        x.view(2, 1).add_(1)


def test_setitem_on_a_leaf_that_requires_grad_raises():
    x = leaf([1.0, 2.0])
    with pytest.raises(RuntimeError, match=LEAF_INPLACE):
        x[0] = 5.0


def test_inplace_on_a_leaf_under_no_grad_works_and_bumps_the_version():
    x = leaf([1.0, 2.0])
    with nk.no_grad():
        x.add_(1)
        x.mul_(2)
        x[0] = 0.5
    assert x.tolist() == [0.5, 6.0]
    assert x._version == 3
    assert x.is_leaf and x.requires_grad and x.grad_fn is None
    (x * x).backward(nk.ones(2))
    np.testing.assert_allclose(arr(x.grad), [1.0, 12.0])


# -- differentiable in-place ops on non-leaves --------------------------------------------------------------------
def test_mul_inplace_on_a_non_leaf():
    x = leaf([1.0, 2.0])
    y = x * 2
    ptr = y.data_ptr()
    assert y.mul_(3) is y
    assert y.data_ptr() == ptr and y._version == 1
    assert y.grad_fn.name() == "MulBackward0"
    y.sum().backward()
    np.testing.assert_allclose(arr(x.grad), [6.0, 6.0])


def test_add_inplace_of_a_tensor_that_requires_grad():
    x = leaf([1.0, 2.0])
    z = leaf([5.0, 7.0])
    y = x * 2
    y.add_(z)
    assert y.grad_fn.name() == "AddBackward0"
    assert y.tolist() == [7.0, 11.0]
    y.backward(nk.ones(2))
    np.testing.assert_allclose(arr(x.grad), [2.0, 2.0])
    np.testing.assert_allclose(arr(z.grad), [1.0, 1.0])


def test_mul_inplace_by_a_tensor_that_requires_grad_uses_the_old_values():
    x = leaf([1.0, 2.0])
    z = leaf([3.0, 5.0])
    y = x * 2
    y.mul_(z)  # y = 2 x z
    y.backward(nk.ones(2))
    np.testing.assert_allclose(arr(x.grad), [6.0, 10.0])  # 2 z
    np.testing.assert_allclose(arr(z.grad), [2.0, 4.0])  # 2 x


def test_inplace_on_a_tensor_not_requiring_grad_with_an_operand_that_does():
    x = leaf([1.0, 2.0])
    buf = nk.zeros(2)
    buf.add_(x * 3)
    assert buf.requires_grad and buf.grad_fn is not None and not buf.is_leaf
    buf.backward(nk.ones(2))
    np.testing.assert_allclose(arr(x.grad), [3.0, 3.0])


def test_chain_of_inplace_ops_on_a_non_leaf():
    x = leaf([1.0, 2.0], dtype=nk.float64)
    y = x.sin()  # saves x, not y: y may be modified
    y.mul_(2).add_(1).pow_(2)  # (2 sin x + 1)^2
    assert y._version == 3
    y.backward(nk.ones(2, dtype=nk.float64))
    s, c = np.sin([1.0, 2.0]), np.cos([1.0, 2.0])
    np.testing.assert_allclose(arr(x.grad), 2 * (2 * s + 1) * 2 * c)


def test_inplace_after_use_by_an_op_that_did_not_save_it():
    x = leaf([1.0, 2.0])
    y = x * 2
    out = y + 1  # AddBackward0 does not need y
    y.mul_(10)
    out.backward(nk.ones(2))
    np.testing.assert_allclose(arr(x.grad), [2.0, 2.0])


def test_setitem_on_a_non_leaf_sends_gradients_to_both():
    x = leaf([1.0, 2.0, 3.0])
    v = leaf(5.0)
    y = x * 1
    y[0] = v
    assert y.tolist() == [5.0, 2.0, 3.0]
    assert y.requires_grad and y._version == 1
    (y * nk.tensor([10.0, 20.0, 30.0])).backward(nk.ones(3))
    np.testing.assert_allclose(arr(x.grad), [0.0, 20.0, 30.0])
    np.testing.assert_allclose(arr(v.grad), 10.0)


def test_setitem_with_a_constant_blocks_the_overwritten_gradient():
    x = leaf([1.0, 2.0, 3.0])
    y = x * 2
    y[1:] = 0.0
    y.backward(nk.ones(3))
    np.testing.assert_allclose(arr(x.grad), [2.0, 0.0, 0.0])


def test_setitem_on_a_tensor_not_requiring_grad_with_a_value_that_does():
    v = leaf([1.0, 2.0])
    buf = nk.zeros(2, 2)
    buf[1] = v * 3
    assert buf.requires_grad
    buf.backward(nk.ones(2, 2))
    np.testing.assert_allclose(arr(v.grad), [3.0, 3.0])
