"""In-place ops: values, version bumps, gradients through in-place ops on non-leaves, and their errors."""

import numpy as np
import pytest

import nnkit as nk
from nnkit.autograd import gradcheck


def f64(values, requires_grad=False):
    return nk.tensor(values, dtype=nk.float64, requires_grad=requires_grad)


@pytest.mark.parametrize(
    "op, expected",
    [
        (lambda t: t.add_(nk.tensor([1.0, 2.0]), alpha=2), [3.0, 5.0]),
        (lambda t: t.sub_(1.5), [-0.5, -0.5]),
        (lambda t: t.mul_(nk.tensor([2.0, 3.0])), [2.0, 3.0]),
        (lambda t: t.div_(4), [0.25, 0.25]),
        (lambda t: t.pow_(2), [1.0, 1.0]),
        (lambda t: t.zero_(), [0.0, 0.0]),
        (lambda t: t.fill_(7), [7.0, 7.0]),
        (lambda t: t.clamp_(max=0.5), [0.5, 0.5]),
        (lambda t: t.copy_(nk.tensor([4, 5])), [4.0, 5.0]),
        (lambda t: t.masked_fill_(nk.tensor([True, False]), -1.0), [-1.0, 1.0]),
    ],
)
def test_inplace_ops_modify_storage_and_bump_the_version(op, expected):
    t = nk.ones(2)
    storage = t.data_ptr()
    assert op(t) is t
    np.testing.assert_array_equal(t.numpy(), expected)
    assert t.data_ptr() == storage and t._version == 1 and t.dtype is nk.float32


def test_operators_iadd_and_friends_are_in_place():
    t = nk.ones(3)
    alias = t
    t += 1
    t *= 3
    t -= 1
    t /= 5
    assert alias is t and t._version == 4
    np.testing.assert_allclose(t.numpy(), [1.0, 1.0, 1.0])


def test_inplace_on_a_view_changes_the_base_and_shares_the_version():
    base = nk.zeros(2, 3)
    row = base[0]
    row.add_(1)
    np.testing.assert_array_equal(base.numpy(), [[1, 1, 1], [0, 0, 0]])
    assert base._version == row._version == 1


def test_inplace_on_non_leaves_is_differentiable():
    x = f64([1.0, 2.0], requires_grad=True)
    z = f64([3.0, 4.0], requires_grad=True)
    y = x * 2
    y.mul_(z)
    y.add_(z, alpha=3)
    assert y.grad_fn.name() == "AddBackward0"
    y.sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), [6.0, 8.0])  # d/dx (2x z + 3z) = 2z
    np.testing.assert_allclose(z.grad.numpy(), [5.0, 7.0])  # 2x + 3


def test_inplace_on_a_tensor_that_does_not_require_grad_joins_the_graph():
    w = f64([2.0, 3.0], requires_grad=True)
    buf = nk.zeros(2, dtype=nk.float64)
    buf.add_(w * w)
    assert buf.requires_grad and not buf.is_leaf
    buf.sum().backward()
    np.testing.assert_allclose(w.grad.numpy(), [4.0, 6.0])


def test_gradcheck_through_inplace_ops():
    def fn(x, v):
        y = x * 1.0
        y.mul_(v)
        y.clamp_(-2.0, 2.0)
        y.sub_(v, alpha=0.5)
        return y

    rng = np.random.default_rng(0)
    x = f64(rng.uniform(-1, 1, 5), requires_grad=True)
    v = f64(rng.uniform(0.5, 1.5, 5), requires_grad=True)
    assert gradcheck(fn, (x, v))


def test_fill_with_a_tensor_value_sends_the_summed_gradient_to_it():
    x = f64([1.0, 2.0, 3.0], requires_grad=True)
    value = f64(5.0, requires_grad=True)
    y = x * 1.0
    y.fill_(value)
    (y * f64([1.0, 2.0, 3.0])).sum().backward()
    assert value.grad.item() == 6.0
    np.testing.assert_array_equal(x.grad.numpy(), [0.0, 0.0, 0.0])


def test_copy_converts_dtype_and_broadcasts_and_sends_grad_back_in_src_dtype():
    dst = nk.zeros(2, 3, dtype=nk.float64)
    src = nk.tensor([1.0, 2.0, 3.0], requires_grad=True)
    dst.copy_(src)
    assert dst.dtype is nk.float64
    dst.sum().backward()
    assert src.grad.dtype is nk.float32
    np.testing.assert_array_equal(src.grad.numpy(), [2.0, 2.0, 2.0])


def test_random_fills_are_reproducible():
    nk.manual_seed(3)
    a = nk.empty(4).uniform_(-1, 1)
    b = nk.empty(4).normal_(2.0, 0.1)
    nk.manual_seed(3)
    np.testing.assert_array_equal(a.numpy(), nk.empty(4).uniform_(-1, 1).numpy())
    np.testing.assert_array_equal(b.numpy(), nk.empty(4).normal_(2.0, 0.1).numpy())
    assert (a.numpy() >= -1).all() and (a.numpy() < 1).all()


def test_errors():
    leaf = nk.ones(2, requires_grad=True)
    with pytest.raises(RuntimeError, match="a leaf Variable that requires grad is being used in an in-place"):
        leaf.add_(1)
    with nk.no_grad():
        leaf.add_(1)  # allowed: this is how optimizers update parameters
    assert leaf._version == 1
    with pytest.raises(RuntimeError, match="a view of a leaf Variable that requires grad"):
        leaf[0].mul_(2)
    with pytest.raises(RuntimeError, match="result type can't be cast to the desired output type"):
        nk.ones(2, dtype=nk.int64).add_(0.5)
    with pytest.raises(RuntimeError, match="more than one element of the written-to tensor"):
        nk.ones(3).expand(2, 3).add_(1)
    with pytest.raises(RuntimeError, match=r"output with shape \[3\] doesn't match the broadcast shape"):
        nk.ones(3).add_(nk.ones(2, 3))
    with pytest.raises(RuntimeError, match="boolean masks"):
        nk.ones(2).masked_fill_(nk.ones(2), 0.0)
    y = leaf * 2
    with pytest.raises(RuntimeError, match="in-place operations on a view are not supported while gradients"):
        y[0].add_(leaf[0])
