"""Indexing ops: the spec table (forward, gradcheck, gradgradcheck, no-grad, PyTorch parity) for getitem,
setitem, index_put, gather, index_select and masked_fill, and the cases the table cannot express (views,
repeated indices, in-place semantics of setitem, one_hot, error messages)."""

import numpy as np
import pytest

import nnkit as nk
from nnkit.autograd.gradcheck import gradcheck, gradgradcheck
from nnkit.ops.indexing import index_put, one_hot
from tests.ops import harness
from tests.ops.harness import OpSpec

try:
    import torch
except ImportError:  # parity specs are skipped by the harness
    torch = None


def normal(*shapes):
    return lambda rng: [rng.standard_normal(s) for s in shapes]


def t_long(values):
    return torch.tensor(values)


MASK = np.array([[True, False, True, False], [False, False, False, False], [True, True, False, True]])
ROWS = np.array([True, False, True])


def getitem_spec(name, index, shape=(3, 4), grad_fn=None, torch_index=None, torch=True):
    """A getitem spec: ``index`` is used as is on nnkit tensors and numpy arrays; ``torch_index`` (default
    the same) on torch tensors."""
    def np_index(index):
        if isinstance(index, tuple):
            return tuple(np_index(k) for k in index)
        return index.numpy() if isinstance(index, nk.Tensor) else index

    theirs = index if torch_index is None else torch_index
    return OpSpec(f"getitem_{name}", lambda x: x[index], lambda a: a[np_index(index)], normal(shape),
                  torch_fn=(lambda x: x[theirs if not callable(theirs) else theirs()]) if torch else None,
                  grad_fn=grad_fn)


def setitem_fn(index, value=None):
    """``y = x * 1; y[index] = v`` (v the second input, or ``value``): setitem recorded through index_put."""
    def fn(x, v=None):
        y = x * 1
        y[index] = v if value is None else value
        return y
    return fn


def setitem_ref(index, value=None):
    def ref(a, v=None):
        out = a.copy()
        out[index] = v if value is None else value
        return out
    return ref


SPECS = [
    # basic indexing: views
    getitem_spec("int", 1, grad_fn="SelectBackward0"),
    getitem_spec("negative_int", -1, grad_fn="SelectBackward0"),
    getitem_spec("two_ints_0d", (1, 2), grad_fn="SelectBackward0"),
    getitem_spec("int_1d_0d", 2, shape=(4,), grad_fn="SelectBackward0"),
    getitem_spec("slice", slice(1, 3), grad_fn="SliceBackward0"),
    getitem_spec("full_slice", slice(None), grad_fn="SliceBackward0"),
    getitem_spec("step_slices", (slice(None, None, 2), slice(1, None, 2)), grad_fn="SliceBackward0"),
    getitem_spec("negative_step", slice(None, None, -1), torch=False),
    getitem_spec("negative_step_range", (slice(4, 0, -2), slice(None, None, -3)), shape=(5, 4), torch=False),
    getitem_spec("column", (slice(None), 1), grad_fn="SelectBackward0"),
    getitem_spec("ellipsis_int", (Ellipsis, 1), shape=(2, 3, 4), grad_fn="SelectBackward0"),
    getitem_spec("ellipsis_alias", Ellipsis, grad_fn="AliasBackward0"),
    getitem_spec("full_slices_alias", (slice(None), slice(None)), grad_fn="AliasBackward0"),
    getitem_spec("none", (slice(None), None), grad_fn="UnsqueezeBackward0"),
    getitem_spec("none_ellipsis_none", (None, Ellipsis, None), grad_fn="UnsqueezeBackward0"),
    getitem_spec("int_none_slice", (1, None, slice(None, None, 2)), grad_fn="SliceBackward0"),
    getitem_spec("int_ellipsis_int", (0, Ellipsis, -1), shape=(2, 3, 4), grad_fn="SelectBackward0"),
    getitem_spec("int_tensor_0d", nk.tensor(1), grad_fn="SelectBackward0", torch_index=lambda: torch.tensor(1)),
    # advanced indexing: copies, repeated indices accumulate
    getitem_spec("list_repeated", [0, 0, 2], grad_fn="IndexBackward0"),
    getitem_spec("int_tensor", nk.tensor([2, 0, 2]), grad_fn="IndexBackward0",
                 torch_index=lambda: t_long([2, 0, 2])),
    getitem_spec("numpy_index", np.array([1, 1, -1]), torch_index=lambda: t_long([1, 1, -1])),
    getitem_spec("int32_index", nk.tensor([1, 2], dtype=nk.int32),
                 torch_index=lambda: torch.tensor([1, 2], dtype=torch.int32)),
    getitem_spec("2d_int_index", nk.tensor([[0, 1], [1, 1]]), torch_index=lambda: t_long([[0, 1], [1, 1]])),
    getitem_spec("paired_lists", ([0, 2, 0], [3, 3, 3]), grad_fn="IndexBackward0"),
    getitem_spec("column_list", (slice(None), [0, 0, 3]), grad_fn="IndexBackward0"),
    getitem_spec("list_then_slice", ([0, 2], slice(1, 3))),
    getitem_spec("slice_then_list", (slice(1, 3), [0, 0])),
    getitem_spec("none_then_list", (None, [0, 1])),
    getitem_spec("separated_lists", ([0, 1], slice(None), [1, 1]), shape=(2, 3, 4)),
    getitem_spec("ellipsis_list", (Ellipsis, [1, 1]), shape=(2, 3, 4)),
    getitem_spec("int_and_list", (1, [0, 3, 3])),
    getitem_spec("1d_list_negative", [-1, -1, 0, 2], shape=(4,), grad_fn="IndexBackward0"),
    getitem_spec("mask", nk.tensor(MASK), grad_fn="IndexBackward0", torch_index=lambda: torch.from_numpy(MASK)),
    getitem_spec("row_mask", nk.tensor(ROWS), torch_index=lambda: torch.from_numpy(ROWS)),
    getitem_spec("column_mask_list", (slice(None), [True, False, True, True])),
    getitem_spec("numpy_mask", MASK, torch_index=lambda: torch.from_numpy(MASK)),
    getitem_spec("bool_true", True, grad_fn="IndexBackward0"),
    getitem_spec("int_and_bool", (0, True), grad_fn="IndexBackward0"),
    # gather / index_select
    OpSpec("gather_dim1", lambda x: x.gather(1, nk.tensor([[0, 0], [3, 1], [2, 2]])),
           lambda a: np.take_along_axis(a, np.array([[0, 0], [3, 1], [2, 2]]), 1), normal((3, 4)),
           torch_fn=lambda x: x.gather(1, t_long([[0, 0], [3, 1], [2, 2]])), grad_fn="GatherBackward0"),
    OpSpec("gather_dim0_smaller_index", lambda x: nk.gather(x, 0, nk.tensor([[2, 0, 2], [2, 1, 0]])),
           lambda a: np.take_along_axis(a[:, :3], np.array([[2, 0, 2], [2, 1, 0]]), 0), normal((3, 4)),
           torch_fn=lambda x: x.gather(0, t_long([[2, 0, 2], [2, 1, 0]]))),
    OpSpec("gather_negative_dim_3d", lambda x: x.gather(-1, nk.tensor([[[1], [0]], [[1], [1]]])),
           lambda a: np.take_along_axis(a, np.array([[[1], [0]], [[1], [1]]]), -1), normal((2, 2, 2)),
           torch_fn=lambda x: x.gather(-1, t_long([[[1], [0]], [[1], [1]]]))),
    OpSpec("gather_1d", lambda x: x.gather(0, nk.tensor([3, 3, 0])), lambda a: a[[3, 3, 0]], normal((4,)),
           torch_fn=lambda x: x.gather(0, t_long([3, 3, 0]))),
    OpSpec("index_select_dim0", lambda x: x.index_select(0, nk.tensor([2, 0, 2])), lambda a: a[[2, 0, 2]],
           normal((3, 4)), torch_fn=lambda x: x.index_select(0, t_long([2, 0, 2])),
           grad_fn="IndexSelectBackward0"),
    OpSpec("index_select_negative_dim", lambda x: nk.index_select(x, -1, nk.tensor([3, 3])),
           lambda a: a[..., [3, 3]], normal((2, 3, 4)), torch_fn=lambda x: x.index_select(-1, t_long([3, 3]))),
    OpSpec("index_select_0d_index", lambda x: x.index_select(1, nk.tensor(2)), lambda a: a[:, [2]],
           normal((3, 4)), torch_fn=lambda x: x.index_select(1, torch.tensor(2))),
    # masked_fill
    OpSpec("masked_fill", lambda x: x.masked_fill(nk.tensor(MASK), -1.5), lambda a: np.where(MASK, -1.5, a),
           normal((3, 4)), torch_fn=lambda x: x.masked_fill(torch.from_numpy(MASK), -1.5),
           grad_fn="MaskedFillBackward0"),
    OpSpec("masked_fill_broadcast_mask", lambda x: nk.masked_fill(x, nk.tensor(MASK[2]), 0.0),
           lambda a: np.where(MASK[2], 0.0, a), normal((2, 3, 4)),
           torch_fn=lambda x: x.masked_fill(torch.from_numpy(MASK[2]), 0.0)),
    OpSpec("masked_fill_broadcast_input", lambda x: x.masked_fill(nk.tensor(MASK), 2.0),
           lambda a: np.where(MASK, 2.0, a), normal((4,)),
           torch_fn=lambda x: x.masked_fill(torch.from_numpy(MASK), 2.0)),
    OpSpec("masked_fill_value_tensor", lambda x, v: x.masked_fill(nk.tensor(MASK), v),
           lambda a, v: np.where(MASK, v, a), normal((3, 4), ()),
           torch_fn=lambda x, v: x.masked_fill(torch.from_numpy(MASK), v), grad_fn="MaskedFillBackward1"),
    # setitem (recorded through index_put) and index_put itself
    OpSpec("setitem_slice_broadcast_value", setitem_fn(slice(1, 3)), setitem_ref(slice(1, 3)), normal((3, 4), (4,)),
           torch_fn=setitem_fn(slice(1, 3))),  # torch names it "torch::autograd::CopySlices"
    OpSpec("setitem_int_scalar", setitem_fn(1, 2.5), setitem_ref(1, 2.5), normal((3, 4)),
           torch_fn=setitem_fn(1, 2.5)),
    OpSpec("setitem_column_value_leading_one", setitem_fn((slice(None), 2)), setitem_ref((slice(None), 2)),
           normal((3, 4), (1, 3)), torch_fn=setitem_fn((slice(None), 2))),
    OpSpec("setitem_0d_value", setitem_fn((0, slice(1, None))), setitem_ref((0, slice(1, None))),
           normal((3, 4), ()), torch_fn=setitem_fn((0, slice(1, None)))),
    OpSpec("setitem_list", setitem_fn([2, 0]), setitem_ref([2, 0]), normal((3, 4), (2, 1)),
           torch_fn=setitem_fn([2, 0]), grad_fn="IndexPutBackward0"),
    OpSpec("setitem_paired_lists", setitem_fn(([0, 2], [1, 3])), setitem_ref(([0, 2], [1, 3])),
           normal((3, 4), (2,)), torch_fn=setitem_fn(([0, 2], [1, 3])), grad_fn="IndexPutBackward0"),
    OpSpec("setitem_mask", setitem_fn(nk.tensor(MASK)), setitem_ref(MASK), normal((3, 4), ()),
           torch_fn=lambda x, v: setitem_fn(torch.from_numpy(MASK))(x, v), grad_fn="IndexPutBackward0"),
    OpSpec("setitem_ellipsis_none", setitem_fn((Ellipsis, None, 1)), setitem_ref((Ellipsis, None, 1)),
           normal((2, 3, 4), (2, 3, 1)), torch_fn=setitem_fn((Ellipsis, None, 1))),
    OpSpec("index_put_slice", lambda x, v: index_put(x, (slice(None), slice(0, 2)), v),
           setitem_ref((slice(None), slice(0, 2))), normal((3, 4), (3, 1)), grad_fn="CopySlices"),
    OpSpec("index_put_value_only", lambda x, v: index_put(x, 1, v), setitem_ref(1), normal((3, 4), (4,)),
           diff=(1,)),
    OpSpec("index_put_input_only", lambda x, v: index_put(x, [0, 0], v), setitem_ref([0, 0]),
           normal((3, 4), (4,)), diff=(0,), grad_fn="IndexPutBackward0"),
]

harness.make_tests(SPECS, globals())


def leaf(values, dtype=nk.float64):
    return nk.tensor(values, dtype=dtype, requires_grad=True)


def backward_sum(t):
    """``t.sum().backward()`` without depending on the reduction ops."""
    t.backward(nk.ones(t.shape, dtype=t.dtype))


# -- views and copies ------------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    "index", [0, -1, slice(1, 3), (slice(None), 1), (Ellipsis, None), (1, 2), slice(None, None, -1)],
    ids=["int", "negative", "slice", "column", "none", "0d", "reversed"],
)
def test_basic_indexing_returns_views(index):
    x = nk.tensor(np.arange(12.0).reshape(3, 4))
    v = x[index]
    assert v._base is x and v._counter is x._counter
    assert np.shares_memory(v._data, x._data)
    x._data[...] += 1  # only to observe the sharing
    np.testing.assert_array_equal(v._data, np.arange(12.0).reshape(3, 4)[index] + 1)
    x.mul_(2)
    assert v._version == 1


@pytest.mark.parametrize("index", [[0, 1], (slice(None), [1]), True, np.array([True, False, True])],
                         ids=["list", "column_list", "bool", "mask"])
def test_advanced_indexing_copies(index):
    x = nk.arange(12.0).reshape(3, 4)
    y = x[index]
    assert y._base is None and y._counter is not x._counter
    assert not np.shares_memory(y._data, x._data)


def test_0d_result_is_a_tensor_view_not_a_scalar():
    x = nk.tensor([[0.0, 1.0, 2.0], [3.0, 4.0, 5.0]])
    y = x[1, 2]
    assert y.shape == () and y.item() == 5.0 and y._base is x
    assert nk.arange(3.0)[nk.tensor(2)].shape == ()


# -- gradients ---------------------------------------------------------------------------------------------------
def test_repeated_indices_accumulate():
    x = leaf(np.zeros((4, 2)))
    backward_sum(x[[0, 0, 1]])
    np.testing.assert_array_equal(x.grad.numpy()[:, 0], [2, 1, 0, 0])
    y = leaf(np.zeros(4))  # the 1-D scatter path, with negative indices
    backward_sum(y[nk.tensor([-1, 3, 0, -1])] * nk.tensor([1.0, 2.0, 3.0, 4.0], dtype=nk.float64))
    np.testing.assert_array_equal(y.grad.numpy(), [3, 0, 0, 7])
    z = leaf(np.zeros((2, 3)))
    backward_sum(z[[1, 1], [2, 2]])
    np.testing.assert_array_equal(z.grad.numpy(), [[0, 0, 0], [0, 0, 2]])


def test_gather_and_index_select_repeated_indices_accumulate():
    x = leaf(np.zeros((2, 3)))
    backward_sum(x.gather(1, nk.tensor([[0, 0, 0], [2, 1, 2]])))
    np.testing.assert_array_equal(x.grad.numpy(), [[3, 0, 0], [0, 1, 2]])
    x.grad = None
    backward_sum(x.index_select(1, nk.tensor([1, 1, 0])))
    np.testing.assert_array_equal(x.grad.numpy(), [[1, 2, 0], [1, 2, 0]])


def test_mask_and_slice_gradients():
    x = leaf(np.arange(6.0).reshape(2, 3))
    backward_sum(x[x > 2.5] * 2)
    np.testing.assert_array_equal(x.grad.numpy(), [[0, 0, 0], [2, 2, 2]])
    x.grad = None
    backward_sum(x[:, ::-2])
    np.testing.assert_array_equal(x.grad.numpy(), [[1, 0, 1], [1, 0, 1]])


def test_empty_results_have_zero_gradients():
    x = leaf(np.ones((3, 2)))
    for index in ([], False, nk.tensor([False, False, False]), slice(2, 1)):
        y = x[index]
        assert y.numel() == 0
        backward_sum(y)
        np.testing.assert_array_equal(x.grad.numpy(), np.zeros((3, 2)))
    assert x[[]].shape == (0, 2) and x[False].shape == (0, 3, 2)


def test_second_derivative_through_repeated_index():
    x = leaf([1.0, 2.0, 3.0])
    y = x[[0, 0, 2]] ** 2  # d/dx0 = 2 * 2 x0, d2/dx0^2 = 4
    (g,) = nk.autograd.grad(y, x, nk.ones(3, dtype=nk.float64), create_graph=True)
    np.testing.assert_array_equal(g.numpy(force=True), [4.0, 0.0, 6.0])
    (h,) = nk.autograd.grad(g, x, nk.ones(3, dtype=nk.float64))
    np.testing.assert_array_equal(h.numpy(), [4.0, 0.0, 2.0])
    assert gradgradcheck(lambda t: t[[0, 0, 1], None] * t[1:], (leaf(np.random.default_rng(0).random((3, 2))),))


def test_gradcheck_of_indexing_a_non_contiguous_view():
    x = leaf(np.random.default_rng(3).standard_normal((3, 4)))
    assert gradcheck(lambda t: t.t()[1:, [0, 2, 2]], (x,))
    assert gradgradcheck(lambda t: t.t()[::-1, 1] * t[0], (x,))


# -- index conversion --------------------------------------------------------------------------------------------
def test_uint8_index_is_a_mask_with_a_warning():
    x = nk.arange(3.0)
    with pytest.warns(UserWarning, match="uint8 is now deprecated"):
        y = x[nk.tensor([1, 0, 1], dtype=nk.uint8)]
    np.testing.assert_array_equal(y.numpy(), [0.0, 2.0])


def test_indexing_errors():
    x = nk.zeros(3, 4)
    with pytest.raises(IndexError, match="^index 5 is out of bounds for dimension 0 with size 3"):
        x[5]
    with pytest.raises(IndexError, match="^index -5 is out of bounds for dimension 1 with size 4"):
        x[0, -5]
    with pytest.raises(IndexError, match="^index 3 is out of bounds for dimension 0 with size 3"):
        x[[0, 3]]
    with pytest.raises(IndexError, match="^index 9 is out of bounds for dimension 0 with size 3"):
        x[nk.tensor([9])]
    with pytest.raises(IndexError, match="^too many indices for tensor of dimension 2"):
        x[0, 0, 0]
    with pytest.raises(IndexError, match="^invalid index of a 0-dim tensor"):
        nk.tensor(1.0)[0]
    with pytest.raises(IndexError, match="^tensors used as indices must be long, int, byte or bool tensors"):
        x[nk.tensor([0.0, 1.0])]
    with pytest.raises(IndexError, match="^tensors used as indices must be long, int, byte or bool tensors"):
        x[[0.5]]
    with pytest.raises(IndexError, match=r"^only integers, slices \(`:`\), ellipsis \(`\.\.\.`\), None and long or "
                       r"byte Variables are valid indices \(got float\)"):
        x[1.5]
    with pytest.raises(IndexError, match=r"^The shape of the mask \[2\] at index 0 does not match the shape of the "
                       r"indexed tensor \[3, 4\] at index 0"):
        x[nk.tensor([True, False])]
    with pytest.raises(IndexError, match=r"^The shape of the mask \[3\] at index 0 does not match the shape of the "
                       r"indexed tensor \[3, 4\] at index 1"):
        x[:, nk.tensor([True, False, True])]
    with pytest.raises(IndexError, match="^shape mismatch: indexing tensors could not be broadcast together"):
        x[[0, 1], [0, 1, 2]]


# -- setitem ------------------------------------------------------------------------------------------------------
def test_setitem_writes_in_place_and_bumps_the_version():
    x = nk.zeros(3, 4)
    storage = x.data_ptr()
    view = x[1]
    x[1] = 5.0
    x[:, 0] = nk.tensor([1.0, 2.0, 3.0])
    x[x > 4] = -1.0
    x[[0, 0], [3, 3]] = nk.tensor([7.0, 8.0])
    expected = np.zeros((3, 4))
    expected[1] = 5.0
    expected[:, 0] = [1, 2, 3]
    expected[expected > 4] = -1
    expected[0, 3] = 8.0  # repeated positions: the last write wins, as numpy
    np.testing.assert_array_equal(x.numpy(), expected)
    assert x.data_ptr() == storage and x._version == 4 and view._version == 4
    assert x.grad_fn is None and not x.requires_grad


def test_setitem_casts_the_value_to_the_tensor_dtype():
    x = nk.zeros(3, dtype=nk.int64)
    x[0] = 2.7
    x[1:] = nk.tensor([1.5, -1.5])
    assert x.dtype is nk.int64 and x.tolist() == [2, 1, -1]
    f = nk.zeros(2)
    f[0] = nk.tensor(1.0, dtype=nk.float64)
    assert f.dtype is nk.float32


def test_setitem_numpy_value_and_leading_one_dims():
    x = nk.zeros(2, 3)
    x[0] = np.array([[1.0, 2.0, 3.0]])
    np.testing.assert_array_equal(x.numpy()[0], [1, 2, 3])


def test_setitem_on_a_non_leaf_records_copyslices():
    a = leaf(np.arange(6.0).reshape(2, 3))
    v = leaf([10.0, 20.0])
    y = a * 2
    y[:, 1] = v
    assert y.grad_fn.name() == "CopySlices"
    np.testing.assert_array_equal(y.detach().numpy(), [[0, 10, 4], [6, 20, 10]])
    backward_sum(y * nk.tensor([[1.0, 2.0, 3.0], [4.0, 5.0, 6.0]], dtype=nk.float64))
    np.testing.assert_array_equal(a.grad.numpy(), [[2, 0, 6], [8, 0, 12]])
    np.testing.assert_array_equal(v.grad.numpy(), [2, 5])


def test_setitem_broadcast_value_gets_summed_gradient_and_keeps_its_dtype():
    a = leaf(np.zeros((3, 4)))
    v = nk.tensor(1.0, requires_grad=True)  # float32 value into a float64 tensor
    y = a * 1
    y[nk.tensor(MASK)] = v
    assert y.grad_fn.name() == "IndexPutBackward0"
    backward_sum(y)
    assert v.grad.dtype is nk.float32 and v.grad.item() == MASK.sum()
    np.testing.assert_array_equal(a.grad.numpy(), ~MASK)


def test_setitem_value_requiring_grad_into_a_plain_tensor():
    x = nk.zeros(3)
    v = leaf(2.0)
    x[1:] = v
    assert x.requires_grad and x.grad_fn.name() == "CopySlices"
    backward_sum(x * nk.tensor([1.0, 2.0, 3.0]))
    assert v.grad.item() == 5.0


def test_setitem_leaf_rules():
    w = nk.zeros(3, requires_grad=True)
    with pytest.raises(RuntimeError, match="^a leaf Variable that requires grad is being used in an in-place "
                       "operation"):
        w[0] = 1.0
    with nk.no_grad():
        w[0] = 1.0
    assert w.tolist() == [1.0, 0.0, 0.0] and w.is_leaf and w._version == 1


def test_setitem_invalidates_saved_tensors():
    a = leaf([1.0, 2.0])
    y = a * 1
    z = y.exp()
    with nk.no_grad():
        z[0] = 0.0
    with pytest.raises(RuntimeError, match="modified by an inplace operation"):
        backward_sum(z)


def test_setitem_errors():
    x = nk.zeros(3, 4)
    with pytest.raises(RuntimeError, match=r"^shape mismatch: value tensor of shape \[3\] cannot be broadcast to "
                       r"indexing result of shape \[2, 4\]"):
        x[[0, 1]] = nk.ones(3)
    with pytest.raises(RuntimeError, match=r"^shape mismatch: value tensor of shape \[3\] cannot be broadcast"):
        x[0:2] = nk.ones(3)
    with pytest.raises(IndexError, match="^index 3 is out of bounds for dimension 0 with size 3"):
        x[3] = 1.0
    with pytest.raises(TypeError, match="^can't assign a list to a nnkit.FloatTensor"):
        x[0] = [1.0, 2.0, 3.0, 4.0]
    y = x * 1  # recording path (a value that requires grad) reports the same errors
    with pytest.raises(RuntimeError, match=r"^shape mismatch: value tensor of shape \[3\]"):
        y[[0, 1]] = nk.ones(3, requires_grad=True)
    assert x._version == 0


def test_setitem_index_tensor_requiring_value_and_tensor_index():
    x = nk.zeros(4)
    x[nk.tensor([3, 1])] = nk.tensor([1.0, 2.0])
    np.testing.assert_array_equal(x.numpy(), [0, 2, 0, 1])


def test_augmented_assignment_through_an_index():
    x = nk.zeros(3)
    x[[0, 0, 2]] += 1.0  # numpy semantics: get, add, set (a repeated position is written once)
    np.testing.assert_array_equal(x.numpy(), [1, 0, 1])
    x[1:] += nk.tensor([5.0, 5.0])
    np.testing.assert_array_equal(x.numpy(), [1, 5, 6])


# -- index_put --------------------------------------------------------------------------------------------------
def test_index_put_is_out_of_place():
    x = nk.zeros(3)
    y = index_put(x, 1, 4.0)
    assert x.tolist() == [0.0, 0.0, 0.0] and y.tolist() == [0.0, 4.0, 0.0] and x._version == 0
    assert not np.shares_memory(x._data, y._data)


# -- gather / index_select errors -------------------------------------------------------------------------------------
def test_gather_errors():
    x = nk.zeros(3, 4)
    with pytest.raises(RuntimeError, match="^gather\\(\\): Expected dtype int64 for index"):
        x.gather(0, nk.tensor([[0.0]]))
    with pytest.raises(RuntimeError, match="^Index tensor must have the same number of dimensions as input tensor"):
        x.gather(0, nk.tensor([0]))
    with pytest.raises(RuntimeError, match=r"^Size does not match at dimension 1 expected index \[1, 5\] to be no "
                       r"larger than self \[3, 4\] apart from dimension 0"):
        x.gather(0, nk.tensor([[0, 0, 0, 0, 0]]))
    with pytest.raises(RuntimeError, match="^index 5 is out of bounds for dimension 0 with size 3"):
        x.gather(0, nk.tensor([[5]]))
    with pytest.raises(RuntimeError, match="^index -1 is out of bounds for dimension 1 with size 4"):
        x.gather(1, nk.tensor([[-1]]))
    assert x.gather(1, nk.tensor([[0, 0, 0, 0, 0]])).shape == (1, 5)
    assert nk.tensor(3.0).gather(0, nk.tensor(0)).item() == 3.0


def test_index_select_errors():
    x = nk.zeros(3, 4)
    with pytest.raises(IndexError, match="^index out of range in self"):
        x.index_select(0, nk.tensor([5]))
    with pytest.raises(IndexError, match="^index out of range in self"):
        x.index_select(0, nk.tensor([-1]))
    with pytest.raises(IndexError, match="^index_select\\(\\): Index is supposed to be a vector"):
        x.index_select(0, nk.tensor([[0]]))
    with pytest.raises(RuntimeError, match="^index_select\\(\\): Expected dtype int32 or int64 for index"):
        x.index_select(0, nk.tensor([0.0]))
    with pytest.raises(IndexError, match="Dimension out of range"):
        x.index_select(2, nk.tensor([0]))


# -- masked_fill ----------------------------------------------------------------------------------------------------
def test_masked_fill_values_dtypes_and_value_gradient():
    x = nk.zeros(3, dtype=nk.int64).masked_fill(nk.tensor([True, False, True]), 1.7)
    assert x.dtype is nk.int64 and x.tolist() == [1, 0, 1]
    a = nk.zeros(2, 3, requires_grad=True)
    v = nk.tensor(2.0, dtype=nk.float64, requires_grad=True)
    y = a.masked_fill(nk.tensor([True, False, True]), v)
    assert y.dtype is nk.float32
    backward_sum(y * nk.tensor([[1.0, 2.0, 3.0], [4.0, 5.0, 6.0]]))
    assert v.grad.dtype is nk.float64 and v.grad.item() == 1 + 3 + 4 + 6
    np.testing.assert_array_equal(a.grad.numpy(), [[0, 2, 0], [0, 5, 0]])


def test_masked_fill_errors():
    x = nk.zeros(3, 4)
    with pytest.raises(RuntimeError, match="^masked_fill_ only supports boolean masks, but got mask with dtype"):
        x.masked_fill(nk.tensor([1, 0, 1, 0]), 1.0)
    with pytest.raises(RuntimeError, match=r"^masked_fill_ only supports a 0-dimensional value tensor, but got "
                       r"tensor with 1 dimension\(s\)\."):
        x.masked_fill(nk.tensor([True, False, True, False]), nk.tensor([1.0]))
    with pytest.raises(RuntimeError, match="masked_fill cannot broadcast a mask of shape \\[3\\]"):
        x.masked_fill(nk.tensor([True, False, True]), 1.0)


def test_masked_fill_in_place_uses_the_same_op():
    x = nk.ones(2, 2)
    x.masked_fill_(nk.tensor([[True, False], [False, True]]), 0.0)
    np.testing.assert_array_equal(x.numpy(), [[0, 1], [1, 0]])
    assert x._version == 1


# -- one_hot ---------------------------------------------------------------------------------------------------------
def test_one_hot_values():
    y = one_hot(nk.tensor([0, 2, 1]))
    assert y.dtype is nk.int64 and y.grad_fn is None
    np.testing.assert_array_equal(y.numpy(), [[1, 0, 0], [0, 0, 1], [0, 1, 0]])
    assert one_hot(nk.tensor([[1], [0]]), 4).shape == (2, 1, 4)
    np.testing.assert_array_equal(one_hot(nk.tensor(1), 3).numpy(), [0, 1, 0])
    assert one_hot(nk.tensor([], dtype=nk.int64), 3).shape == (0, 3)


def test_one_hot_errors():
    with pytest.raises(RuntimeError, match=r"^Class values must be non-negative\."):
        one_hot(nk.tensor([-1, 2]))
    with pytest.raises(RuntimeError, match=r"^Class values must be smaller than num_classes\."):
        one_hot(nk.tensor([0, 2]), 2)
    with pytest.raises(RuntimeError, match=r"^one_hot is only applicable to index tensor of type LongTensor\."):
        one_hot(nk.tensor([0.0, 2.0]))
    with pytest.raises(RuntimeError, match=r"^one_hot is only applicable to index tensor of type LongTensor\."):
        one_hot(nk.tensor([0, 2], dtype=nk.int32))
    with pytest.raises(RuntimeError, match="^Can not infer total number of classes from empty tensor."):
        one_hot(nk.tensor([], dtype=nk.int64))


@pytest.mark.skipif(torch is None, reason="torch not installed")
def test_one_hot_matches_torch():
    labels = np.array([[3, 0], [1, 1]])
    expected = torch.nn.functional.one_hot(torch.from_numpy(labels), 5).numpy()
    np.testing.assert_array_equal(one_hot(nk.tensor(labels), 5).numpy(), expected)


# -- index tensors changed after the forward -------------------------------------------------------------------------
def test_index_tensor_changed_in_place_after_forward_does_not_change_the_gradient():
    x = leaf(np.zeros(3))
    idx = nk.tensor([0, 0])
    y = x[idx]
    g = x.gather(0, idx)
    idx[0] = 2
    backward_sum(y + g)
    np.testing.assert_array_equal(x.grad.numpy(), [4, 0, 0])


def test_mask_changed_in_place_after_masked_fill_is_an_error():
    x = leaf(np.zeros(3))
    mask = nk.tensor([True, False, False])
    y = x.masked_fill(mask, 1.0)
    assert y.grad_fn._saved_mask is mask
    mask[1] = True
    with pytest.raises(RuntimeError, match="modified by an inplace operation"):
        backward_sum(y)


# -- array mode: the helpers on numpy arrays, and backward formulas run on arrays ------------------------------------
def test_every_backward_node_runs_on_arrays():
    from nnkit.autograd.node import Node
    from nnkit.ops import indexing

    nodes = [v for v in vars(indexing).values() if isinstance(v, type) and issubclass(v, Node) and v.__module__ ==
             indexing.__name__]
    assert len(nodes) >= 10
    assert [n.__name__ for n in nodes if not n.array_backward] == []


def test_getitem_index_put_scatter_and_take_on_numpy_arrays():
    from nnkit.ops.indexing import _scatter, _take, getitem

    a = np.arange(12.0).reshape(3, 4)
    for index in [1, slice(None, None, -2), (Ellipsis, None), [2, 0, 2], (a > 6), (nk.tensor([1, 1]), 2), (1, 2)]:
        out = getitem(a, index)
        ref = a[tuple(k.numpy() if isinstance(k, nk.Tensor) else k for k in index) if isinstance(index, tuple)
                else index]
        assert isinstance(out, np.ndarray)
        np.testing.assert_array_equal(out, ref)
    out = index_put(a, (slice(None), [0, 3]), 0)
    assert isinstance(out, np.ndarray) and out is not a and a[0, 0] == 0.0 and a[1, 3] == 7.0
    np.testing.assert_array_equal(out[:, [0, 3]], 0)
    assert index_put(np.float64(3.0), (Ellipsis,), 1.0) == 1.0  # a numpy scalar gradient of a 0-d tensor
    idx = (np.array([0, 2, 0]),)
    np.testing.assert_array_equal(_scatter(np.array([1.0, 2.0, 3.0], np.float32), (3,), idx, True), [4, 0, 2])
    assert _scatter(np.float32(2.0), (2, 2), (1, 0, Ellipsis), False).dtype == np.float32
    np.testing.assert_array_equal(_take(a, idx, None), a[idx])


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


def test_gradients_in_both_modes():
    x = np.arange(12, dtype=np.float32).reshape(3, 4)
    w = np.arange(12.0).reshape(3, 4)
    (g,) = grads_in_both_modes(lambda t: (t[[0, 2, 0]] * nk.tensor(w)).sum(), x)
    assert g.dtype == np.float32
    np.testing.assert_array_equal(g, [w[0] + w[2], [0] * 4, w[1]])
    grads_in_both_modes(lambda t: (t[1, ::-2] * t[..., None][0, 1:3, 0]).sum() + t[...].sum() + t[None].sum(), x)
    grads_in_both_modes(lambda t: t[1, 2] * t[True].sum(), x)  # 0-d and bool-scalar results

    def assign(t, v):
        t = t * 1
        t[1:, [0, 2]] = v
        t[0] = v[0, :1].double() * 2
        return (t * t).sum()

    gx, gv = grads_in_both_modes(assign, x, np.ones((1, 2), np.float32))
    assert gv.dtype == np.float32 and gv.shape == (1, 2)
    gx, gv = grads_in_both_modes(lambda t, v: (t.masked_fill(nk.tensor(x > 5), v) ** 2).sum(), x, np.float32(3.0))
    assert gv.dtype == np.float32 and gv == 2 * 3.0 * 6
    np.testing.assert_array_equal(gx, np.where(x > 5, 0, 2 * x))


def test_second_order_backward_through_the_scatter_on_arrays():
    x = leaf(np.random.default_rng(5).standard_normal((3, 4)))
    (g,) = nk.autograd.grad((x[[0, 0, 2]] ** 3).sum() + (x[1] ** 3).sum(), x, create_graph=True)
    results = [nk.autograd.grad((g * g).sum(), x, retain_graph=True, create_graph=cg)[0].detach().numpy()
               for cg in (False, True)]
    np.testing.assert_array_equal(*results)
