"""Shape ops: the spec table (forward, gradcheck, gradgradcheck, no-grad, PyTorch parity) and the cases the
table cannot express (views sharing storage and version counters, multi-output split nodes, promotion in
cat/stack, error messages)."""

import numpy as np
import pytest

import nnkit as nk
from nnkit.autograd.gradcheck import gradcheck, gradgradcheck
from nnkit.autograd.node import Node
from nnkit.ops import broadcast, shape
from tests.ops import harness
from tests.ops.harness import OpSpec


def normal(*shapes):
    return lambda rng: [rng.standard_normal(s) for s in shapes]


def np_split(a, sizes, axis=0):
    return tuple(np.split(a, np.cumsum(sizes)[:-1], axis=axis))


SPECS = [
    # reshape and view
    OpSpec("reshape", lambda x: x.reshape(2, -1), lambda a: a.reshape(2, -1), normal((3, 4)),
           torch_fn=lambda x: x.reshape(2, -1), grad_fn="ViewBackward0"),
    OpSpec("reshape_copy", lambda x: x.t().reshape(-1), lambda a: a.T.reshape(-1), normal((3, 4)),
           torch_fn=lambda x: x.t().reshape(-1), grad_fn="UnsafeViewBackward0"),
    OpSpec("reshape_0d", lambda x: x.reshape(1, 1), lambda a: a.reshape(1, 1), normal(()),
           torch_fn=lambda x: x.reshape(1, 1), grad_fn="ViewBackward0"),
    OpSpec("fn_reshape", lambda x: nk.reshape(x, (4, 3)), lambda a: a.reshape(4, 3), normal((2, 6)),
           torch_fn=lambda x: x.reshape(4, 3)),
    OpSpec("view", lambda x: x.view(4, 3), lambda a: a.reshape(4, 3), normal((2, 6)),
           torch_fn=lambda x: x.view(4, 3), grad_fn="ViewBackward0"),
    OpSpec("view_noncontiguous_ok", lambda x: x.t().view(1, 4, 3), lambda a: a.T.reshape(1, 4, 3),
           normal((3, 4)), torch_fn=lambda x: x.t().view(1, 4, 3)),
    OpSpec("view_as", lambda x, y: x.view_as(y), lambda a, b: a.reshape(b.shape), normal((6,), (2, 3)),
           diff=(0,), torch_fn=lambda x, y: x.view_as(y)),
    # transposes
    OpSpec("transpose", lambda x: x.transpose(0, -1), lambda a: a.swapaxes(0, -1), normal((2, 3, 4)),
           torch_fn=lambda x: x.transpose(0, -1), grad_fn="TransposeBackward0"),
    OpSpec("mT", lambda x: x.mT, lambda a: a.swapaxes(-2, -1), normal((2, 3, 4)), torch_fn=lambda x: x.mT),
    OpSpec("permute", lambda x: x.permute(2, 0, 1), lambda a: a.transpose(2, 0, 1), normal((2, 3, 4)),
           torch_fn=lambda x: x.permute(2, 0, 1), grad_fn="PermuteBackward0"),
    OpSpec("permute_negative", lambda x: x.permute((-1, 0, -2)), lambda a: a.transpose(2, 0, 1),
           normal((2, 3, 4)), torch_fn=lambda x: x.permute(-1, 0, -2)),
    OpSpec("T", lambda x: x.T, lambda a: a.T, normal((2, 3, 4)), torch_fn=lambda x: x.permute(2, 1, 0)),
    OpSpec("t", lambda x: x.t(), lambda a: a.T, normal((2, 3)), torch_fn=lambda x: x.t(), grad_fn="TBackward0"),
    OpSpec("t_1d", lambda x: nk.t(x), lambda a: a, normal((3,)), torch_fn=lambda x: x.t(), grad_fn="TBackward0"),
    # squeeze, unsqueeze, flatten, unflatten
    OpSpec("squeeze", lambda x: x.squeeze(), np.squeeze, normal((2, 1, 3, 1)), torch_fn=lambda x: x.squeeze(),
           grad_fn="SqueezeBackward0"),
    OpSpec("squeeze_dim", lambda x: x.squeeze(-1), lambda a: a.squeeze(-1), normal((2, 1, 3, 1)),
           torch_fn=lambda x: x.squeeze(-1), grad_fn="SqueezeBackward1"),
    OpSpec("squeeze_dim_not_one", lambda x: x.squeeze(0), lambda a: a, normal((2, 1, 3)),
           torch_fn=lambda x: x.squeeze(0), grad_fn="SqueezeBackward1"),
    OpSpec("squeeze_dims", lambda x: x.squeeze((1, -1, 0)), lambda a: a.squeeze((1, 3)), normal((2, 1, 3, 1)),
           torch_fn=lambda x: x.squeeze((1, -1, 0)), grad_fn="SqueezeBackward2"),
    OpSpec("unsqueeze", lambda x: x.unsqueeze(1), lambda a: a[:, None], normal((2, 3)),
           torch_fn=lambda x: x.unsqueeze(1), grad_fn="UnsqueezeBackward0"),
    OpSpec("unsqueeze_last", lambda x: nk.unsqueeze(x, -1), lambda a: a[..., None], normal((2, 3)),
           torch_fn=lambda x: x.unsqueeze(-1)),
    OpSpec("unsqueeze_first_negative", lambda x: x.unsqueeze(-3), lambda a: a[None], normal((2, 3)),
           torch_fn=lambda x: x.unsqueeze(-3)),
    OpSpec("flatten", lambda x: x.flatten(), lambda a: a.reshape(-1), normal((2, 3, 4)),
           torch_fn=lambda x: x.flatten(), grad_fn="ViewBackward0"),
    OpSpec("flatten_middle", lambda x: nk.flatten(x, 1, -2), lambda a: a.reshape(2, 12, 5),
           normal((2, 3, 4, 5)), torch_fn=lambda x: x.flatten(1, -2)),
    OpSpec("flatten_noncontiguous", lambda x: x.transpose(0, 2).flatten(1), lambda a: a.swapaxes(0, 2).reshape(4, 6),
           normal((2, 3, 4)), torch_fn=lambda x: x.transpose(0, 2).flatten(1), grad_fn="UnsafeViewBackward0"),
    OpSpec("flatten_0d", lambda x: x.flatten(), lambda a: a.reshape(1), normal(()), torch_fn=lambda x: x.flatten(),
           grad_fn="ViewBackward0"),
    OpSpec("unflatten", lambda x: x.unflatten(1, (3, -1)), lambda a: a.reshape(2, 3, 4), normal((2, 12)),
           torch_fn=lambda x: x.unflatten(1, (3, -1)), grad_fn="ViewBackward0"),
    OpSpec("unflatten_noncontiguous", lambda x: nk.unflatten(x.t(), -1, (2, 1)), lambda a: a.T.reshape(3, 2, 1),
           normal((2, 3)), torch_fn=lambda x: x.t().unflatten(-1, (2, 1))),
    # expand and repeat
    OpSpec("expand", lambda x: x.expand(2, -1, 4), lambda a: np.broadcast_to(a, (2, 3, 4)), normal((3, 1)),
           torch_fn=lambda x: x.expand(2, -1, 4), grad_fn="ExpandBackward0"),
    OpSpec("repeat", lambda x: x.repeat(2, 3), lambda a: np.tile(a, (2, 3)), normal((2, 2)),
           torch_fn=lambda x: x.repeat(2, 3), grad_fn="RepeatBackward0"),
    OpSpec("repeat_new_dims", lambda x: x.repeat((2, 1, 3)), lambda a: np.tile(a, (2, 1, 3)), normal((3,)),
           torch_fn=lambda x: x.repeat(2, 1, 3)),
    OpSpec("repeat_size_one_dims", lambda x: x.repeat(1, 4, 1), lambda a: np.tile(a, (1, 4, 1)), normal((2, 1, 3)),
           torch_fn=lambda x: x.repeat(1, 4, 1)),
    # cat and stack
    OpSpec("cat", lambda a, b: nk.cat([a, b]), lambda a, b: np.concatenate([a, b]), normal((2, 3), (4, 3)),
           torch_fn=lambda a, b: __import__("torch").cat([a, b]), grad_fn="CatBackward0"),
    OpSpec("cat_last_dim_three", lambda a, b, c: nk.cat((a, b, c), dim=-1),
           lambda a, b, c: np.concatenate([a, b, c], -1), normal((2, 1), (2, 3), (2, 2)),
           torch_fn=lambda a, b, c: __import__("torch").cat((a, b, c), dim=-1)),
    OpSpec("cat_same_tensor_twice", lambda a: nk.concat([a, a * 2], 1), lambda a: np.concatenate([a, a * 2], 1),
           normal((2, 2)), torch_fn=lambda a: __import__("torch").cat([a, a * 2], 1)),
    OpSpec("cat_one", lambda a: nk.cat([a]), lambda a: a.copy(), normal((2, 2)),
           torch_fn=lambda a: __import__("torch").cat([a])),
    OpSpec("stack", lambda a, b: nk.stack([a, b]), lambda a, b: np.stack([a, b]), normal((2, 3), (2, 3)),
           torch_fn=lambda a, b: __import__("torch").stack([a, b]), grad_fn="StackBackward0"),
    OpSpec("stack_last", lambda a, b, c: nk.stack((a, b, c), -1), lambda a, b, c: np.stack([a, b, c], -1),
           normal((2, 3), (2, 3), (2, 3)), torch_fn=lambda a, b, c: __import__("torch").stack((a, b, c), -1)),
    # split, chunk, unbind: tuples of views from one multi-output node
    OpSpec("split", lambda x: x.split(2), lambda a: np_split(a, [2, 2, 1]), normal((5, 2)),
           torch_fn=lambda x: x.split(2), grad_fn="SplitBackward0"),
    OpSpec("split_sizes", lambda x: nk.split(x, [1, 3], dim=1), lambda a: np_split(a, [1, 3], 1), normal((2, 4)),
           torch_fn=lambda x: x.split([1, 3], dim=1), grad_fn="SplitWithSizesBackward0"),
    OpSpec("split_one_piece_used", lambda x: x.split(2, -1)[1] * 3, lambda a: a[:, 2:4] * 3, normal((2, 5)),
           torch_fn=lambda x: x.split(2, -1)[1] * 3),
    OpSpec("split_with_empty_piece", lambda x: x.split([2, 0, 1]), lambda a: np_split(a, [2, 0, 1]), normal((3,)),
           torch_fn=lambda x: x.split([2, 0, 1])),
    OpSpec("chunk_uneven", lambda x: x.chunk(3), lambda a: np_split(a, [2, 2, 1]), normal((5, 3)),
           torch_fn=lambda x: x.chunk(3), grad_fn="SplitBackward0"),
    OpSpec("chunk_fewer_pieces", lambda x: nk.chunk(x, 4, dim=1), lambda a: np_split(a, [2, 2, 2], 1),
           normal((2, 6)), torch_fn=lambda x: x.chunk(4, dim=1)),
    OpSpec("unbind", lambda x: x.unbind(1), lambda a: tuple(a[:, i] for i in range(3)), normal((2, 3, 2)),
           torch_fn=lambda x: x.unbind(1), grad_fn="UnbindBackward0"),
    OpSpec("unbind_partly_used", lambda x: nk.unbind(x)[0] * nk.unbind(x)[2],
           lambda a: a[0] * a[2], normal((3, 2)), torch_fn=lambda x: x.unbind()[0] * x.unbind()[2]),
    # chains of views
    OpSpec("view_chain", lambda x: x.t().unsqueeze(0).squeeze(0).reshape(-1)[1:5],
           lambda a: a.T.reshape(-1)[1:5], normal((3, 2)),
           torch_fn=lambda x: x.t().unsqueeze(0).squeeze(0).reshape(-1)[1:5]),
]

harness.make_tests(SPECS, globals())


def leaf(values, dtype=nk.float64):
    return nk.tensor(values, dtype=dtype, requires_grad=True)


def backward_sum(t):
    """``t.sum().backward()`` without depending on the reduction ops."""
    t.backward(nk.ones(t.shape, dtype=t.dtype))


# -- views share storage and version counter -------------------------------------------------------------------
VIEW_OPS = [
    ("reshape", lambda x: x.reshape(4, 3)),
    ("view", lambda x: x.view(-1)),
    ("transpose", lambda x: x.transpose(0, 1)),
    ("permute", lambda x: x.permute(1, 0)),
    ("t", lambda x: x.t()),
    ("squeeze", lambda x: x.unsqueeze(0).squeeze()),
    ("unsqueeze", lambda x: x.unsqueeze(1)),
    ("flatten", lambda x: x.flatten()),
    ("unflatten", lambda x: x.unflatten(1, (2, 2))),
    ("split", lambda x: x.split(1)[1]),
    ("chunk", lambda x: x.chunk(2, dim=1)[1]),
    ("unbind", lambda x: x.unbind(1)[2]),
]


@pytest.mark.parametrize("name, op", VIEW_OPS, ids=[name for name, _ in VIEW_OPS])
def test_views_share_storage_and_version_counter(name, op):
    base = nk.arange(12.0).reshape(3, 4)
    v = op(base)
    assert v._counter is base._counter
    assert v._base is base._base and v._base is not None
    assert np.shares_memory(v._data, base._data)
    before = v._data.copy()
    base._data[...] += 100  # only to observe the sharing: writes through the base show in the view
    np.testing.assert_array_equal(v._data, before + 100)
    base.add_(1)
    assert v._version == base._version == 1


def test_view_of_a_view_keeps_the_root_base():
    base = nk.zeros(2, 3)
    v = base.t().reshape(6)  # a copy: not a view
    assert v._base is None and v._counter is not base._counter
    w = base.view(6).unsqueeze(0)[0]
    assert w._base is base and w._counter is base._counter


def test_copies_do_not_share():
    x = nk.zeros(2, 3)
    for y in (x.repeat(1, 1), nk.cat([x, x]), nk.stack([x])):
        assert not np.shares_memory(y._data, x._data)
        assert y._counter is not x._counter


def test_in_place_change_through_a_view_invalidates_what_backward_saved():
    x = leaf([[1.0, 2.0], [3.0, 4.0]])
    z = (x * 1).exp()  # ExpBackward0 saves its output
    piece = z.split(1)[0]
    with nk.no_grad():
        piece.mul_(2)  # bumps the counter z shares with its views
    with pytest.raises(RuntimeError, match="modified by an inplace operation"):
        z.backward(nk.ones(2, 2, dtype=nk.float64))


# -- reshape / view ---------------------------------------------------------------------------------------------
def test_reshape_is_a_view_when_possible_else_a_copy():
    x = nk.zeros(3, 4, requires_grad=True)
    assert x.reshape(12)._base is x
    assert x.t().reshape(12)._base is None
    assert x.t().reshape(4, 3)._base is x  # no copy needed: the transposed shape itself


def test_view_refuses_to_copy():
    x = nk.zeros(3, 4)
    with pytest.raises(RuntimeError, match=r"^view size is not compatible with input tensor's size and stride \(at "
                       r"least one dimension spans across two contiguous subspaces\)\. Use \.reshape\(\.\.\.\) "):
        x.t().view(12)
    assert x.t().contiguous().view(12).shape == (12,)


@pytest.mark.parametrize("fn", [lambda x: x.view(2, 5), lambda x: x.reshape(2, 5), lambda x: nk.reshape(x, [2, 5])])
def test_shape_size_mismatch(fn):
    with pytest.raises(RuntimeError, match=r"^shape '\[2, 5\]' is invalid for input of size 6"):
        fn(nk.zeros(2, 3))


def test_reshape_infers_one_dimension():
    assert nk.zeros(2, 3, 4).reshape(-1, 4).shape == (6, 4)
    assert nk.zeros(0, 3).reshape(3, -1).shape == (3, 0)
    with pytest.raises(RuntimeError, match="^only one dimension can be inferred"):
        nk.zeros(6).view(-1, -1)
    with pytest.raises(RuntimeError, match="^invalid shape dimension -2"):
        nk.zeros(6).view(-2, 3)
    with pytest.raises(RuntimeError, match="^cannot reshape tensor of 0 elements into shape"):
        nk.zeros(0, 2).view(-1, 0)
    with pytest.raises(RuntimeError, match=r"^shape '\[4, -1\]' is invalid for input of size 6"):
        nk.zeros(6).view(4, -1)


def test_reshape_of_integer_tensor_and_no_grad():
    x = nk.arange(6)
    y = x.view(2, 3)
    assert y.dtype is nk.int64 and y.grad_fn is None
    f = nk.zeros(6, requires_grad=True)
    with nk.no_grad():
        assert f.reshape(2, 3).grad_fn is None and not f.reshape(2, 3).requires_grad


def test_float32_stays_float32():
    x = nk.zeros(2, 3, requires_grad=True)
    for y in (x.reshape(3, 2), x.t(), x.unsqueeze(0), x.repeat(2, 1), nk.cat([x, x]), nk.stack([x, x]),
              x.split(1)[0], x.unbind()[0]):
        assert y.dtype is nk.float32
    nk.cat([x, x]).reshape(-1).backward(nk.ones(12))
    assert x.grad.dtype is nk.float32


# -- transposes ---------------------------------------------------------------------------------------------
def test_transpose_and_permute_errors():
    x = nk.zeros(2, 3)
    with pytest.raises(IndexError, match=r"^Dimension out of range \(expected to be in range of \[-2, 1\], but got 2"):
        x.transpose(0, 2)
    with pytest.raises(RuntimeError, match="^permute\\(\\): duplicate dims are not allowed."):
        x.permute(0, 0)
    with pytest.raises(RuntimeError, match="input.dim\\(\\) = 2 is not equal to len\\(dims\\) = 3"):
        x.permute(0, 1, 2)
    with pytest.raises(RuntimeError, match="^t\\(\\) expects a tensor with <= 2 dimensions, but self is 3D"):
        nk.zeros(1, 2, 3).t()


def test_transpose_of_0d_and_permute_backward_inverse():
    s = nk.tensor(3.0)
    assert s.transpose(0, -1).shape == () and s.t().shape == ()
    x = leaf(np.arange(24.0).reshape(2, 3, 4))
    w = nk.tensor(np.random.default_rng(0).standard_normal((3, 4, 2)))
    backward_sum(x.permute(1, 2, 0) * w)
    np.testing.assert_array_equal(x.grad.numpy(), w.numpy().transpose(2, 0, 1))


# -- squeeze / unsqueeze / flatten / unflatten --------------------------------------------------------------------
def test_squeeze_variants():
    x = nk.zeros(1, 2, 1, 3)
    assert x.squeeze().shape == (2, 3)
    assert x.squeeze(0).shape == (2, 1, 3)
    assert x.squeeze(1).shape == (1, 2, 1, 3)  # not size 1: unchanged
    assert x.squeeze((0, 2)).shape == (2, 3)
    assert x.squeeze([0, 1]).shape == (2, 1, 3)
    assert nk.zeros(()).squeeze(0).shape == ()
    assert nk.zeros(()).squeeze().shape == ()
    with pytest.raises(RuntimeError, match="dim 0 appears multiple times in the list of dims"):
        x.squeeze((0, 0))
    with pytest.raises(IndexError, match="Dimension out of range"):
        x.squeeze(4)


def test_unsqueeze_range():
    x = nk.zeros(2, 3)
    assert x.unsqueeze(2).shape == (2, 3, 1)
    assert x.unsqueeze(-3).shape == (1, 2, 3)
    with pytest.raises(IndexError, match=r"expected to be in range of \[-3, 2\], but got 3"):
        x.unsqueeze(3)
    with pytest.raises(IndexError, match=r"expected to be in range of \[-3, 2\], but got -4"):
        x.unsqueeze(-4)
    assert nk.zeros(()).unsqueeze(0).shape == (1,)


def test_flatten_edge_cases():
    s = nk.tensor(2.0, requires_grad=True)
    assert s.flatten().shape == (1,)
    x = nk.zeros(2, 3, requires_grad=True)
    assert x.flatten(1, 1) is x  # as PyTorch: nothing to merge returns the input itself
    assert x.flatten(-1) is x
    with pytest.raises(RuntimeError, match="^flatten\\(\\) has invalid args: start_dim cannot come after end_dim"):
        x.flatten(1, 0)


def test_unflatten_errors():
    with pytest.raises(RuntimeError, match=r"^unflatten: Provided sizes \[2, 2\] don't multiply up to the size of "
                       r"dim 1 \(3\) in the input tensor"):
        nk.zeros(2, 3).unflatten(1, (2, 2))
    with pytest.raises(RuntimeError, match="sizes must be non-empty"):
        nk.zeros(2, 3).unflatten(1, ())


# -- expand / repeat ------------------------------------------------------------------------------------------
def test_expand_is_the_broadcast_module_op():
    assert shape.expand is broadcast.expand


def test_repeat_gradient_sums_the_tiles():
    x = leaf([[1.0, 2.0]])
    w = nk.tensor(np.arange(12.0).reshape(3, 4), dtype=nk.float64)
    backward_sum(x.repeat(3, 2) * w)
    # x[0, j] appears at rows 0..2, columns j and j + 2
    np.testing.assert_array_equal(x.grad.numpy(), [[0 + 2 + 4 + 6 + 8 + 10, 1 + 3 + 5 + 7 + 9 + 11]])


def test_repeat_errors_and_zero_repeats():
    with pytest.raises(RuntimeError, match="^Number of dimensions of repeat dims can not be smaller than number of "
                       "dimensions of tensor"):
        nk.zeros(2, 3).repeat(2)
    with pytest.raises(RuntimeError, match="negative dimension"):
        nk.zeros(2).repeat(-1)
    x = leaf([1.0, 2.0])
    y = x.repeat(0, 2)
    assert y.shape == (0, 4)
    backward_sum(y)
    np.testing.assert_array_equal(x.grad.numpy(), [0.0, 0.0])


# -- cat / stack ----------------------------------------------------------------------------------------------
@pytest.mark.parametrize("a, b, expected", [
    (nk.int64, nk.float32, nk.float32),
    (nk.int32, nk.uint8, nk.int32),
    (nk.float16, nk.int64, nk.float16),
    (nk.float32, nk.float64, nk.float64),
    (nk.bool, nk.int64, nk.int64),
])
def test_cat_and_stack_promote_like_pytorch(a, b, expected):
    x, y = nk.zeros(2, dtype=a), nk.ones(2, dtype=b)
    assert nk.cat([x, y]).dtype is expected
    assert nk.stack([x, y]).dtype is expected


def test_cat_mixed_dtype_gradients_come_back_in_each_input_dtype():
    a = nk.ones(2, requires_grad=True)
    b = nk.ones(3, dtype=nk.float64, requires_grad=True)
    out = nk.cat([a, b])
    assert out.dtype is nk.float64
    backward_sum(out * nk.arange(5.0).double())
    assert a.grad.dtype is nk.float32 and b.grad.dtype is nk.float64
    np.testing.assert_array_equal(a.grad.numpy(), [0.0, 1.0])
    np.testing.assert_array_equal(b.grad.numpy(), [2.0, 3.0, 4.0])
    s = nk.stack([a, a.double()])
    backward_sum(s)
    np.testing.assert_array_equal(a.grad.numpy(), [2.0, 3.0])


def test_cat_gradient_reaches_only_inputs_that_need_it():
    a = leaf([1.0, 2.0])
    b = nk.tensor([3.0], dtype=nk.float64)
    out = nk.cat([a, b])
    assert out.grad_fn.next_functions[1] == (None, 0)
    backward_sum(out * nk.tensor([1.0, 2.0, 3.0], dtype=nk.float64))
    np.testing.assert_array_equal(a.grad.numpy(), [1.0, 2.0])


def test_cat_skips_legacy_empty_1d_tensors():
    a = leaf(np.ones((2, 3)))
    e = nk.tensor([], dtype=nk.float64, requires_grad=True)
    out = nk.cat([a, e], 1)
    assert out.shape == (2, 3)
    backward_sum(out)
    assert e.grad.shape == (0,)
    assert nk.cat([e, e]).shape == (0,)


def test_cat_errors():
    with pytest.raises(RuntimeError, match=r"^Sizes of tensors must match except in dimension 1\. Expected size 2 "
                       r"but got size 3 for tensor number 1 in the list\."):
        nk.cat([nk.zeros(2, 2), nk.zeros(3, 2)], dim=1)
    with pytest.raises(RuntimeError, match=r"\[\[2, 2\], \[3, 2\]\]"):  # the facts: every shape
        nk.cat([nk.zeros(2, 2), nk.zeros(3, 2)], dim=1)
    with pytest.raises(RuntimeError, match="^Tensors must have same number of dimensions: got 2 and 3"):
        nk.cat([nk.zeros(2, 2), nk.zeros(2, 2, 2)])
    with pytest.raises(RuntimeError, match=r"^zero-dimensional tensor \(at position 0\) cannot be concatenated"):
        nk.cat([nk.tensor(1.0), nk.tensor(2.0)])
    with pytest.raises(RuntimeError, match="expected a non-empty list of Tensors"):
        nk.cat([])
    with pytest.raises(TypeError, match="expected Tensor as element 1"):
        nk.cat([nk.zeros(2), [1.0]])
    with pytest.raises(IndexError, match="Dimension out of range"):
        nk.cat([nk.zeros(2), nk.zeros(2)], dim=1)


def test_stack_errors():
    with pytest.raises(RuntimeError, match=r"^stack expects each tensor to be equal size, but got \[2\] at entry 0 "
                       r"and \[3\] at entry 1"):
        nk.stack([nk.zeros(2), nk.zeros(3)])
    with pytest.raises(RuntimeError, match="^stack expects a non-empty TensorList"):
        nk.stack([])
    assert nk.stack([nk.zeros(2), nk.zeros(2)], dim=-1).shape == (2, 2)
    assert nk.stack([nk.tensor(1.0), nk.tensor(2.0)]).shape == (2,)
    with pytest.raises(IndexError, match=r"\[-2, 1\], but got 2"):
        nk.stack([nk.zeros(2), nk.zeros(2)], dim=2)


# -- split / chunk / unbind: one node with several outputs ----------------------------------------------------------
def test_split_pieces_share_one_node_with_output_numbers():
    x = leaf(np.arange(10.0).reshape(5, 2))
    pieces = x.split(2)
    node = pieces[0].grad_fn
    assert type(node).__name__ == "SplitBackward0" and node.n_outputs == 3
    assert [p.grad_fn for p in pieces] == [node] * 3
    assert [p.output_nr for p in pieces] == [0, 1, 2]
    assert [p.shape for p in pieces] == [(2, 2), (2, 2), (1, 2)]
    assert Node.n_outputs == 1  # the class default is untouched
    assert type(x.split([2, 3])[0].grad_fn).__name__ == "SplitWithSizesBackward0"
    assert type(x.chunk(2)[0].grad_fn).__name__ == "SplitBackward0"
    assert type(x.unbind()[0].grad_fn).__name__ == "UnbindBackward0"


def test_split_gradient_with_unused_pieces_is_zero_there():
    x = leaf(np.arange(10.0).reshape(5, 2))
    a, b, c = x.split(2)
    backward_sum(c * 3)
    expected = np.zeros((5, 2))
    expected[4] = 3
    np.testing.assert_array_equal(x.grad.numpy(), expected)
    x.grad = None
    a, b, c = x.split(2)
    backward_sum(a * 1 + b * 2)
    np.testing.assert_array_equal(x.grad.numpy()[:, 0], [1, 1, 2, 2, 0])


def test_unbind_gradient_with_unused_pieces():
    x = leaf(np.ones((3, 2)))
    rows = x.unbind()
    backward_sum(rows[1] * nk.tensor([2.0, 3.0], dtype=nk.float64))
    np.testing.assert_array_equal(x.grad.numpy(), [[0, 0], [2, 3], [0, 0]])
    cols = x.unbind(1)
    assert len(cols) == 2 and cols[0].shape == (3,)


def test_split_gradcheck_per_piece_and_gradgrad():
    x = leaf(np.random.default_rng(1).standard_normal((4, 3)))
    assert gradcheck(lambda t: t.split([1, 2], dim=1)[1].sin(), (x,))
    assert gradgradcheck(lambda t: t.chunk(2)[0] * t.chunk(2)[1], (x,))
    assert gradgradcheck(lambda t: t.unbind(1)[2] * t.unbind(1)[0], (x,))


def test_split_and_chunk_sizes():
    x = nk.zeros(5)
    assert [p.shape[0] for p in x.split(5)] == [5]
    assert [p.shape[0] for p in x.split(7)] == [5]
    assert [p.shape[0] for p in x.chunk(5)] == [1] * 5
    assert [p.shape[0] for p in x.chunk(4)] == [2, 2, 1]
    assert [p.shape[0] for p in nk.zeros(6).chunk(4)] == [2, 2, 2]
    assert [p.shape for p in nk.zeros(0).split(2)] == [(0,)]
    assert [p.shape for p in nk.zeros(2, 0).chunk(2, 1)] == [(2, 0), (2, 0)]
    assert nk.zeros(0, 2).unbind() == ()


def test_split_chunk_unbind_errors():
    x = nk.zeros(3)
    with pytest.raises(RuntimeError, match=r"^split_with_sizes expects split_sizes to sum exactly to 3 \(input "
                       r"tensor's size at dimension 0\), but got split_sizes=\[1, 1\]"):
        x.split([1, 1])
    with pytest.raises(RuntimeError, match="^split_size can only be 0 if dimension size is 0, but got dimension "
                       "size of 3"):
        x.split(0)
    with pytest.raises(RuntimeError, match="^split expects split_size be non-negative, but got split_size=-1"):
        x.split(-1)
    with pytest.raises(RuntimeError, match="^split expects at least a 1-dimensional tensor"):
        nk.tensor(1.0).split(1)
    with pytest.raises(RuntimeError, match="^chunk expects `chunks` to be greater than 0, got: 0"):
        x.chunk(0)
    with pytest.raises(IndexError, match="^Dimension specified as 0 but tensor has no dimensions"):
        nk.tensor(1.0).unbind()
    with pytest.raises(IndexError, match="Dimension out of range"):
        x.split(1, dim=1)


# -- array mode: the ops on numpy arrays, and backward formulas run on arrays ------------------------------------------
def test_every_backward_node_runs_on_arrays():
    nodes = [v for v in vars(shape).values() if isinstance(v, type) and issubclass(v, Node) and v.__module__ ==
             shape.__name__]
    assert len(nodes) >= 12
    assert [n.__name__ for n in nodes if not n.array_backward] == []


A = np.arange(24.0).reshape(2, 3, 4)


@pytest.mark.parametrize("name, fn, expected", [
    ("reshape", lambda a: shape.reshape(a, (4, -1)), A.reshape(4, 6)),
    ("reshape_scalar", lambda a: shape.reshape(np.float64(2.0), (1, 1)), np.full((1, 1), 2.0)),
    ("view_noncontiguous", lambda a: shape.view(a.T, (24,)), A.T.reshape(24)),
    ("transpose", lambda a: shape.transpose(a, 0, -1), A.swapaxes(0, 2)),
    ("transpose_0d", lambda a: shape.transpose(np.array(3.0), 0, -1), np.array(3.0)),
    ("permute", lambda a: shape.permute(a, [2, 0, 1]), A.transpose(2, 0, 1)),
    ("t", lambda a: shape.t(a[0]), A[0].T),
    ("squeeze_all", lambda a: shape.squeeze(a.reshape(1, 2, 1, 12)), A.reshape(2, 12)),
    ("squeeze_dim_not_one", lambda a: shape.squeeze(a, 0), A),
    ("squeeze_dims", lambda a: shape.squeeze(a.reshape(1, 2, 1, 12), (0, -2, 2, 1)), A.reshape(2, 12)),
    ("squeeze_0d", lambda a: shape.squeeze(np.array(1.0), 0), np.array(1.0)),
    ("unsqueeze", lambda a: shape.unsqueeze(a, -1), A[..., None]),
    ("flatten", lambda a: shape.flatten(a, 1), A.reshape(2, 12)),
    ("unflatten", lambda a: shape.unflatten(a, -1, (2, -1)), A.reshape(2, 3, 2, 2)),
    ("repeat", lambda a: shape.repeat(a[0, 0], (2, 1, 2)), np.tile(A[0, 0], (2, 1, 2))),
    ("cat", lambda a: shape.cat([a, a[:, :1]], 1), np.concatenate([A, A[:, :1]], 1)),
    ("stack", lambda a: shape.stack((a[0, 0, 0], np.float64(5.0))), np.array([0.0, 5.0])),
    ("split", lambda a: shape.split(a, 2, -1), tuple(np.split(A, 2, -1))),
    ("split_sizes", lambda a: shape.split(a, [1, 2], 1), (A[:, :1], A[:, 1:])),
    ("split_uneven", lambda a: shape.split(a, 3, 2), (A[..., :3], A[..., 3:])),
    ("chunk", lambda a: shape.chunk(a, 3, 2), (A[..., :2], A[..., 2:])),
    ("unbind", lambda a: shape.unbind(a, -2), tuple(A[:, i] for i in range(3))),
])
def test_ops_on_numpy_arrays_return_arrays(name, fn, expected):
    out = fn(A.copy())
    outs, refs = (out, expected) if isinstance(expected, tuple) else ((out,), (expected,))
    assert len(outs) == len(refs)
    for o, r in zip(outs, refs):
        assert isinstance(o, (np.ndarray, np.generic)), name
        assert np.shape(o) == r.shape, name
        np.testing.assert_array_equal(o, r)


def grads_in_both_modes(loss_fn, *inputs):
    """The gradients of ``loss_fn(*inputs)`` computed in array mode and with create_graph=True (equal)."""
    results = []
    for create_graph in (False, True):
        xs = [nk.tensor(x, requires_grad=True) for x in inputs]
        grads = nk.autograd.grad(loss_fn(*xs), xs, create_graph=create_graph, allow_unused=True)
        results.append([None if g is None else g.detach().numpy() for g in grads])
    for plain, recorded in zip(*results):
        assert (plain is None) == (recorded is None)
        if plain is not None:
            assert plain.dtype == recorded.dtype
            np.testing.assert_array_equal(plain, recorded)
    return results[0]


def test_multi_output_nodes_with_unused_outputs_in_both_modes():
    x = np.arange(10.0).reshape(5, 2)
    (g,) = grads_in_both_modes(lambda t: (t.split(2)[1] * 3).sum(), x)
    np.testing.assert_array_equal(g[:, 0], [0, 0, 3, 3, 0])
    (g,) = grads_in_both_modes(lambda t: (t.split([1, 1], 1)[0] * 2).sum(), x)
    np.testing.assert_array_equal(g, [[2, 0]] * 5)
    (g,) = grads_in_both_modes(lambda t: (t.chunk(2)[1] * 2).sum(), x)
    np.testing.assert_array_equal(g[:, 1], [0, 0, 0, 2, 2])
    (g,) = grads_in_both_modes(lambda t: t.unbind(1)[1].sum() + (t.unbind()[2] * 5).sum(), x)
    np.testing.assert_array_equal(g, [[0, 1], [0, 1], [5, 6], [0, 1], [0, 1]])
    # 0-d pieces whose gradients arrive as numpy scalars in array mode
    (g,) = grads_in_both_modes(lambda t: t[0].unbind()[1] * t[1, 1], x)
    np.testing.assert_array_equal(g, [[0, 3], [0, 1], [0, 0], [0, 0], [0, 0]])


def test_float32_cat_stack_and_legacy_empty_in_both_modes():
    a, b = np.ones((2, 3), np.float32), np.arange(3, dtype=np.float32)
    e = np.zeros(0, np.float32)
    ga, gb, ge = grads_in_both_modes(lambda x, y, z: (nk.cat([x, y[None], z]) * 2).sum(), a, b, e)
    assert ga.dtype == np.float32 and ge.shape == (0,)
    np.testing.assert_array_equal(gb, [2, 2, 2])
    ga, gb = grads_in_both_modes(lambda x, y: (nk.stack([x[0], y], 1) ** 2).sum(), a, b)
    np.testing.assert_array_equal(gb, 2 * b)
    grads_in_both_modes(lambda x: (x.repeat(2, 1, 2).permute(2, 0, 1)[0].t() ** 2).sum(), a)


def test_second_order_backward_on_arrays_matches_tensors():
    x = leaf(np.random.default_rng(3).standard_normal((3, 4)))
    (g,) = nk.autograd.grad((x.t().reshape(-1)[::2] ** 3).sum(), x, create_graph=True)
    results = [nk.autograd.grad(g.split(2)[1].sum(), x, retain_graph=True, create_graph=cg)[0].detach().numpy()
               for cg in (False, True)]
    np.testing.assert_array_equal(*results)
