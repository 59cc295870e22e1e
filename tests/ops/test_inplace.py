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
    strided = nk.from_numpy(np.zeros((4, 6))[:, ::2])  # a root whose own storage is strided
    with pytest.raises(RuntimeError, match="base is not contiguous"):
        strided[0].add_(f64([1.0, 2.0, 3.0], requires_grad=True))


# -- in-place ops on views while recording (PyTorch's CopySlices) ------------------------------------------------
def test_inplace_on_a_view_rewrites_the_roots_history():
    x = f64([1.0, 2.0, 3.0, 4.0], requires_grad=True)
    y = x * 1
    v = y[1:3]
    v.mul_(3)
    np.testing.assert_allclose(y.detach().numpy(), [1.0, 6.0, 9.0, 4.0])
    np.testing.assert_allclose(v.detach().numpy(), [6.0, 9.0])
    assert y.grad_fn.name() == "CopySlices" and v.grad_fn.name() == "AsStridedBackward0"
    (y * f64([1.0, 10.0, 100.0, 1000.0])).sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), [1.0, 30.0, 300.0, 1000.0])


def test_other_views_of_the_root_read_its_new_history():
    x = f64([1.0, 2.0, 3.0, 4.0], requires_grad=True)
    y = x * 1
    a, b = y[0:2], y[1:3]  # overlapping at y[1]
    b.mul_(2)
    assert a.grad_fn.name() == "AsStridedBackward0"
    np.testing.assert_allclose(a.detach().numpy(), [1.0, 4.0])
    a.sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), [1.0, 2.0, 0.0, 0.0])  # a = [x0, 2 x1]


def test_a_view_modified_in_place_can_be_used_afterwards():
    x = f64([1.0, 2.0, 3.0, 4.0], requires_grad=True)
    y = x * 2
    v = y[:2]
    v.add_(x[2:])  # v = [2 x0 + x2, 2 x1 + x3] = [5, 8]
    (v * v).sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), [20.0, 32.0, 10.0, 16.0])


def test_a_root_that_needed_no_grad_gets_a_history_from_the_value_written():
    w = f64([2.0, 3.0], requires_grad=True)
    buf = nk.zeros(4, dtype=nk.float64)
    buf[1:3].add_(w * w)
    assert buf.requires_grad and buf.grad_fn.name() == "CopySlices"
    (buf * f64([1.0, 1.0, 10.0, 1.0])).sum().backward()
    np.testing.assert_allclose(w.grad.numpy(), [4.0, 60.0])


def test_setitem_and_views_of_views_and_transposes():
    x = f64(np.arange(6.0).reshape(2, 3), requires_grad=True)
    y = x * 1
    col = y.t()[1]  # y[:, 1], through a transposed view
    col[0] = x[1, 2] * 10  # y[0, 1] = 50
    np.testing.assert_allclose(y.detach().numpy(), [[0.0, 50.0, 2.0], [3.0, 4.0, 5.0]])
    (y * y).sum().backward()
    expected = 2 * np.arange(6.0).reshape(2, 3)
    expected[0, 1] = 0.0  # overwritten: no gradient to the old value
    expected[1, 2] += 2 * 50.0 * 10  # through the written value
    np.testing.assert_allclose(x.grad.numpy(), expected)


def _modify_views(x):
    y = x * 1.5
    y[:, 1:].mul_(x[:, :1])
    y.t()[0].add_(y[1] * 2)  # reads a row of the new y, writes a column
    flipped = y[::-1]
    return (y * y).sum() + flipped[0].sum()


def test_gradcheck_and_gradgradcheck_through_inplace_ops_on_views():
    x = f64(np.random.default_rng(0).standard_normal((3, 3)), requires_grad=True)
    assert gradcheck(_modify_views, (x,))
    assert nk.autograd.gradgradcheck(_modify_views, (x,))


def test_inplace_on_a_view_matches_pytorch():
    torch = pytest.importorskip("torch")
    data = np.random.default_rng(1).standard_normal((3, 3))

    def run(lib, t):
        y = t * 1.5
        y[:, 1:].mul_(t[:, :1])
        y.t()[0].add_(y[1] * 2)
        other = y[2]
        names = (type(y.grad_fn).__name__ if lib is torch else y.grad_fn.name(),
                 type(other.grad_fn).__name__ if lib is torch else other.grad_fn.name())
        ((y * y).sum() + other.sum()).backward()
        return y.detach().numpy(), names

    xt = torch.tensor(data, requires_grad=True)
    xn = f64(data, requires_grad=True)
    yt, names_t = run(torch, xt)
    yn, names_n = run(nk, xn)
    np.testing.assert_allclose(yn, yt, rtol=1e-12)
    np.testing.assert_allclose(xn.grad.numpy(), xt.grad.numpy(), rtol=1e-12)
    assert names_n == names_t


def test_a_view_made_under_no_grad_cannot_be_modified_with_recording_on():
    y = f64([1.0, 2.0, 3.0], requires_grad=True) * 1
    with nk.no_grad():
        v = y[:2]
        v.mul_(2)  # both inside no_grad: allowed, not recorded
    with pytest.raises(RuntimeError, match="A view was created in no_grad mode and is being modified inplace"):
        v.mul_(2)
    np.testing.assert_allclose(y.detach().numpy(), [2.0, 4.0, 3.0])
