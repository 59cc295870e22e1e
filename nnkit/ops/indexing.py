"""Indexing ops: ``x[index]``, ``x[index] = value``, gather, index_select, masked_fill and one_hot.

An index is converted once into a numpy index: nnkit tensors, lists and numpy arrays become integer or bool
arrays, 0-D integer tensors become ints. Basic indexing (ints, slices, None, Ellipsis) returns a view of the
input; advanced indexing (integer or bool arrays, bool scalars) returns a copy. Every gather-like op here is
``out = input[numpy_index]`` and shares one backward: the gradient scattered into zeros of the input's shape,
summing repeated positions (``np.add.at``). That scatter is itself an op whose backward indexes again, so
``create_graph=True`` gives higher-order derivatives.

``getitem``, ``index_put`` and the scatter and take helpers also accept a numpy array (or numpy scalar) and
then return one, unrecorded: the backward formulas use them and run on arrays in plain backward and on
Tensors under ``create_graph`` (see nnkit.autograd.node).
"""

import operator
import warnings

import numpy as np

from nnkit.autograd.grad_mode import recording
from nnkit.autograd.node import Node
from nnkit.ops.broadcast import sum_to_shape
from nnkit.ops.elementwise import to_dtype, where
from nnkit.ops.inplace import apply_inplace
from nnkit.ops.shape import UnsqueezeBackward0, reshape
from nnkit.tensor import Tensor, _dim, _make, _view_of

__all__ = ["getitem", "setitem", "index_put", "gather", "index_select", "masked_fill", "one_hot"]


def _record(out, node):
    out._requires_grad = True
    out.grad_fn = node
    return node


# -- converting an index ---------------------------------------------------------------------------------------
def _index_array(k):
    """One index entry that is not an int, slice, None or Ellipsis, as an int, a Python bool or an array."""
    if isinstance(k, Tensor):
        array = k._data
    elif isinstance(k, np.ndarray):
        array = k
    elif isinstance(k, (list, tuple)):
        array = np.asarray(k)
        if array.size == 0 and array.dtype.kind == "f":
            array = array.astype(np.int64)  # an empty list is an empty integer index, as in PyTorch
    elif isinstance(k, (bool, np.bool_)):
        return bool(k)
    else:
        try:
            return operator.index(k)
        except TypeError:
            raise IndexError(
                "only integers, slices (`:`), ellipsis (`...`), None and long or byte Variables are valid "
                f"indices (got {type(k).__name__})"
            ) from None
    kind = array.dtype.kind
    if kind == "b":
        return bool(array) if array.ndim == 0 else array
    if array.dtype == np.uint8:
        warnings.warn(
            "indexing with dtype uint8 is now deprecated, please use a dtype bool instead. (nnkit treats a uint8 "
            "index as a mask, as PyTorch does.)",
            UserWarning,
            stacklevel=5,
        )
        array = array.astype(np.bool_)
        return bool(array) if array.ndim == 0 else array
    if kind in "iu":
        return int(array) if array.ndim == 0 else array
    raise IndexError(
        f"tensors used as indices must be long, int, byte or bool tensors (got an index of dtype {array.dtype}; "
        "convert it with .long())"
    )


def _parse(index):
    """(numpy index tuple, node class) for a getitem index.

    Basic indices get PyTorch's name for the last view op it would apply: an int SelectBackward0, a slice
    SliceBackward0 (a full ``:`` inside a tuple applies nothing), None alone UnsqueezeBackward0, nothing at
    all AliasBackward0. Any array or bool index makes it advanced: IndexBackward0.
    """
    is_tuple = type(index) is tuple
    items = index if is_tuple else (index,)
    out = []
    last = None
    unsqueeze = ellipsis = advanced = False
    for k in items:
        tk = type(k)
        if tk is int:
            last = SelectBackward0
        elif tk is slice:
            if not is_tuple or k.start is not None or k.stop is not None or k.step is not None:
                last = SliceBackward0
        elif k is None:
            unsqueeze = True
        elif k is Ellipsis:
            ellipsis = True
        else:
            k = _index_array(k)
            if type(k) is int:
                last = SelectBackward0
            else:
                advanced = True
        out.append(k)
    if advanced:
        return tuple(out), IndexBackward0
    if not ellipsis:
        out.append(Ellipsis)  # keeps an all-int index a 0-d view instead of a numpy scalar copy
    if last is None:
        return tuple(out), UnsqueezeBackward0 if unsqueeze else AliasBackward0
    return tuple(out), last


def _consumed(k):
    """How many input dimensions one converted index entry indexes."""
    if k is None or k is Ellipsis or type(k) is bool:
        return 0
    if isinstance(k, np.ndarray) and k.dtype == np.bool_:
        return k.ndim
    return 1


def _owned(np_index):
    """``np_index`` with its arrays copied, for a node to keep: an index tensor changed in place after the
    forward must not change the backward."""
    return tuple(k.copy() if isinstance(k, np.ndarray) else k for k in np_index)


def _index_error(err, data, np_index):
    """numpy's IndexError rewritten in PyTorch's words."""
    text = str(err)
    if text.startswith("too many indices"):
        if data.ndim == 0:
            return IndexError(
                "invalid index of a 0-dim tensor. Use `tensor.item()` in Python or `tensor.item<T>()` in C++ to "
                "convert a 0-dim tensor to a number"
            )
        return IndexError(f"too many indices for tensor of dimension {data.ndim} (shape {list(data.shape)})")
    if text.startswith("boolean index did not match"):
        items = np_index if type(np_index) is tuple else (np_index,)
        rest = data.ndim - sum(_consumed(k) for k in items)
        pos = 0
        for k in items:
            if k is Ellipsis:
                pos += rest
                continue
            if isinstance(k, np.ndarray) and k.dtype == np.bool_:
                for j, size in enumerate(k.shape):
                    if pos + j < data.ndim and data.shape[pos + j] != size:
                        return IndexError(
                            f"The shape of the mask {list(k.shape)} at index {j} does not match the shape of the "
                            f"indexed tensor {list(data.shape)} at index {pos + j}"
                        )
            pos += _consumed(k)
    if "out of bounds" in text:
        return IndexError(text.replace("axis", "dimension") + f" (indexing a tensor of shape {list(data.shape)})")
    if "shape mismatch" in text:
        return IndexError(text.replace("arrays", "tensors"))
    return IndexError(text)


# -- getitem and the shared scatter backward ---------------------------------------------------------------------
class IndexBackward0(Node):
    """Backward of ``out = input[index]``: the gradient added into zeros of the input's shape at ``index``."""

    __slots__ = ("shape", "index")
    array_backward = True
    accumulate = True  # advanced indices may repeat a position; basic ones (views) never do

    def backward(self, grad):
        return (_scatter(grad, self.shape, self.index, self.accumulate),)


class SelectBackward0(IndexBackward0):
    """``x[i]``: one position along a dimension (a view)."""

    __slots__ = ()
    accumulate = False


class SliceBackward0(IndexBackward0):
    """``x[a:b:c]`` (a view)."""

    __slots__ = ()
    accumulate = False


class AsStridedBackward0(IndexBackward0):
    """A view whose root tensor was changed in place (through this view or another): its elements read from
    the root's new history. ``index`` holds each element's position in the root; positions may repeat (an
    expanded view), so gradients add."""

    __slots__ = ()


class GatherBackward0(IndexBackward0):
    __slots__ = ()


class IndexSelectBackward0(IndexBackward0):
    __slots__ = ()


class AliasBackward0(Node):
    """``x[...]`` or ``x[:, :]``: a view of the whole tensor."""

    __slots__ = ()
    array_backward = True

    def backward(self, grad):
        return (grad,)


class IndexBackwardBackward0(Node):
    """Backward of the scatter that IndexBackward0 runs: indexing again."""

    __slots__ = ("index", "view")
    array_backward = True

    def backward(self, grad):
        return (_take(grad, self.index, IndexBackward0, self.view),)


def _scatter(grad, shape, index, accumulate):
    """zeros(shape) with ``grad`` written at the numpy ``index`` (added, when ``accumulate``, so that repeated
    positions sum); differentiable. ``grad`` may be a numpy array (array-mode backward): an array results."""
    if not isinstance(grad, Tensor):
        return _scattered(grad, shape, index, accumulate)
    result = _make(_scattered(grad._data, shape, index, accumulate))
    if grad._requires_grad and recording():
        node = _record(result, IndexBackwardBackward0((grad,)))
        node.index, node.view = index, not accumulate
    return result


def _scattered(g, shape, index, accumulate):
    """The array of ``_scatter`` for the array ``g``."""
    if not accumulate:
        out = np.zeros(shape, g.dtype)
        out[index] = g
    elif len(shape) == 1 and len(index) == 1 and isinstance(index[0], np.ndarray) and index[0].dtype.kind in "iu":
        idx = index[0].ravel()  # a 1-D gather: bincount is several times faster than np.add.at
        if idx.dtype.kind == "i":
            idx = np.where(idx < 0, idx + shape[0], idx)
        out = np.bincount(idx, g.ravel(), shape[0]).astype(g.dtype, copy=False)
    else:
        out = np.zeros(shape, g.dtype)
        np.add.at(out, index, g)
    return out


def _take(input, np_index, node_class, view=False):
    """``input[np_index]`` for an already converted index, recorded with ``node_class``; ``view`` tells
    whether the index is basic (the result shares storage). On a numpy array: ``input[np_index]``."""
    if not isinstance(input, Tensor):  # array-mode backward formulas
        return input[np_index]
    data = input._data
    try:
        array = data[np_index]
    except IndexError as err:
        raise _index_error(err, data, np_index) from None
    out = _view_of(input, array) if view else _make(array)
    if input._requires_grad and recording():
        node = _record(out, node_class((input,)))
        node.shape, node.index = data.shape, np_index if view else _owned(np_index)
    return out


def getitem(input, index):
    """``input[index]``, with numpy's (and PyTorch's) indexing rules.

    ``index`` may combine ints, slices (negative steps too), None, Ellipsis, bools, and integer or bool
    tensors, lists or numpy arrays. Ints, slices, None and Ellipsis alone give a view (shares storage);
    integer or bool arrays give a copy. Repeated integer indices accumulate their gradients.

    Example::

        x = nk.arange(12.).reshape(3, 4)
        x[1, ::-2]                      # view: tensor([7., 5.])
        x[[0, 0, 2], 1]                 # copy: tensor([1., 1., 9.])
        x[x > 6]                        # copy: tensor([7., 8., 9., 10., 11.])
    """
    if not isinstance(input, Tensor):  # array-mode backward formulas
        return input[_parse(index)[0]]
    data = input._data
    tp = type(index)
    if tp is int:
        np_index, node_class = (index, Ellipsis), SelectBackward0
    elif tp is slice:
        np_index, node_class = index, SliceBackward0
    else:
        np_index, node_class = _parse(index)
    try:
        array = data[np_index]
    except IndexError as err:
        raise _index_error(err, data, np_index) from None
    if node_class is IndexBackward0:
        out = _make(array)
    else:
        out = _view_of(input, array)
    if input._requires_grad and recording():
        node = _record(out, node_class((input,)))
        if node_class is UnsqueezeBackward0:
            node.shape = data.shape
        elif node_class is IndexBackward0:
            node.shape, node.index = data.shape, _owned(np_index)
        elif node_class is not AliasBackward0:
            node.shape, node.index = data.shape, (np_index if type(np_index) is tuple else (np_index,))
    return out


# -- setitem: index_put out of place, and in place through apply_inplace --------------------------------------
class CopySlices(Node):
    """Backward of ``x[index] = value`` (basic index): the overwritten region gets no gradient; ``value`` gets
    the gradient of the region, summed over the dimensions it was broadcast along."""

    __slots__ = ("index", "node_class", "value_shape", "value_dtype")
    array_backward = True

    def backward(self, grad):
        g_input = g_value = None
        if self._next[0] is not None:
            g_input = index_put(grad, self.index, 0)
        if self._next[1] is not None:
            g = _take(grad, self.index, self.node_class, self.node_class is not IndexBackward0)
            shape = self.value_shape
            extra = len(shape) - len(g.shape)
            if extra > 0:  # a value with extra leading 1-sized dimensions, as numpy allows
                g = reshape(sum_to_shape(g, shape[extra:]), shape)
            else:
                g = sum_to_shape(g, shape)
            g_value = to_dtype(g, self.value_dtype)
        return g_input, g_value


class IndexPutBackward0(CopySlices):
    """Backward of ``x[index] = value`` with an advanced (array) index."""

    __slots__ = ()


def getitem_positions(input, positions):
    """``input[positions]`` for an index tuple of integer arrays (a copy, recorded as ``IndexBackward0``)."""
    return _take(input, positions, IndexBackward0)


def copy_slices(before, positions, value):
    """The node of a root tensor after ``value`` was written in place at ``positions`` (an index tuple) of
    ``before``: edges ``(before, value)``; ``before`` gets the gradient outside the positions, ``value`` the
    gradient at them."""
    node = CopySlices((before, value))
    node.index, node.node_class = positions, IndexBackward0
    node.value_shape, node.value_dtype = value._data.shape, value._data.dtype
    return node


def strided_view_node(root, positions):
    """The node of a view of ``root`` read from the root's current history: an ``AsStridedBackward0``."""
    node = AsStridedBackward0((root,))
    node.shape, node.index = root._data.shape, positions
    return node


def _assign(array, np_index, value):
    try:
        array[np_index] = value
    except IndexError as err:
        raise _index_error(err, array, np_index) from None
    except ValueError:
        raise RuntimeError(
            f"shape mismatch: value tensor of shape {list(np.shape(value))} cannot be broadcast to indexing result "
            f"of shape {list(array[np_index].shape)}"
        ) from None


def _value(value, target):
    """(value tensor or None, value array or number) for the right-hand side of an assignment."""
    if isinstance(value, Tensor):
        return value, value._data
    if isinstance(value, (int, float, bool, np.generic)):
        return None, value
    if isinstance(value, np.ndarray):
        return _make(value), value
    raise TypeError(f"can't assign a {type(value).__name__} to a {target.type()}")


def index_put(input, index, value):
    """A new tensor equal to ``input`` except ``out[index] = value`` (``value`` broadcasts to the indexed shape).

    The out-of-place core of ``input[index] = value``. Gradients: the overwritten region gets none, ``value``
    gets the region's gradient summed over its broadcast dimensions.
    """
    if not isinstance(input, Tensor):  # array-mode backward formulas
        out = np.array(input)  # a copy, and an array even for a numpy scalar
        _assign(out, _parse(index)[0], value)
        return out
    np_index, node_class = _parse(index)
    value_t, value_data = _value(value, input)
    out = input._data.copy()
    _assign(out, np_index, value_data)
    result = _make(out)
    if recording() and (input._requires_grad or (value_t is not None and value_t._requires_grad)):
        advanced = node_class is IndexBackward0
        node = _record(result, (IndexPutBackward0 if advanced else CopySlices)((input, value_t)))
        node.index = _owned(np_index)
        if node_class is AliasBackward0 or node_class is UnsqueezeBackward0:
            node_class = SliceBackward0
        node.node_class = node_class
        if value_t is not None:
            node.value_shape, node.value_dtype = value_data.shape, value_data.dtype
    return result


def _setitem_kernel(array, index, value):
    _assign(array, _parse(index)[0], value)


def setitem(input, index, value):
    """``input[index] = value`` in place (bumps the version counter; recorded when gradients are needed)."""
    if isinstance(value, (list, tuple)):
        raise TypeError(f"can't assign a {type(value).__name__} to a {input.type()}")
    apply_inplace(input, index_put, index, value, kernel=_setitem_kernel, op="__setitem__")


# -- gather, index_select ---------------------------------------------------------------------------------------
def _along_axis(idx, dim):
    """The advanced index that picks ``out[..., i, ...] = input[..., idx[..., i, ...], ...]`` along ``dim``."""
    ndim = idx.ndim
    index = []
    for axis, size in enumerate(idx.shape):
        if axis == dim:
            index.append(idx)
        else:
            shape = [1] * ndim
            shape[axis] = size
            index.append(np.arange(size).reshape(shape))
    return tuple(index)


def gather(input, dim, index):
    """Values of ``input`` picked along ``dim`` by ``index``: for dim=1, ``out[i][j] = input[i][index[i][j]]``.

    ``index`` is an integer tensor with as many dimensions as ``input``, no larger in the other dimensions.

    Example::

        x = nk.tensor([[1., 2.], [3., 4.]])
        x.gather(1, nk.tensor([[0, 0], [1, 0]]))        # tensor([[1., 1.], [4., 3.]])
    """
    data = input._data
    idx = index._data
    if idx.dtype.kind not in "iu":
        raise RuntimeError(f"gather(): Expected dtype int64 for index (got {idx.dtype})")
    if idx.ndim != data.ndim and (idx.ndim > 1 or data.ndim > 1):
        raise RuntimeError(
            "Index tensor must have the same number of dimensions as input tensor (index of shape "
            f"{list(idx.shape)}, input of shape {list(data.shape)})"
        )
    d = _dim(dim, data.ndim, "gather")
    if data.ndim == 0 or idx.ndim == 0:
        return reshape(gather(reshape(input, (-1,)), 0, _make(idx.reshape(-1))), idx.shape)
    size = data.shape[d]
    for axis in range(data.ndim):
        if axis != d and idx.shape[axis] > data.shape[axis]:
            raise RuntimeError(
                f"Size does not match at dimension {axis} expected index {list(idx.shape)} to be no larger than "
                f"self {list(data.shape)} apart from dimension {d}"
            )
    if idx.size:
        lo, hi = idx.min(), idx.max()
        if lo < 0 or hi >= size:
            raise RuntimeError(f"index {lo if lo < 0 else hi} is out of bounds for dimension {d} with size {size}")
    return _take(input, _along_axis(idx, d), GatherBackward0)


def index_select(input, dim, index):
    """The entries of ``input`` at the positions ``index`` (a 1-D integer tensor) along ``dim``.

    Example::

        nk.arange(6).reshape(3, 2).index_select(0, nk.tensor([2, 0]))     # tensor([[4, 5], [0, 1]])
    """
    data = input._data
    idx = index._data
    if idx.dtype != np.int64 and idx.dtype != np.int32:
        raise RuntimeError(f"index_select(): Expected dtype int32 or int64 for index (got {idx.dtype})")
    if idx.ndim > 1:
        raise IndexError(f"index_select(): Index is supposed to be a vector (got shape {list(idx.shape)})")
    if data.ndim == 0:
        return reshape(index_select(reshape(input, (1,)), 0, index), (-1,) if idx.ndim else ())
    d = _dim(dim, data.ndim, "index_select")
    idx = idx.reshape(-1)
    if idx.size and (idx.min() < 0 or idx.max() >= data.shape[d]):
        raise IndexError(
            f"index out of range in self (index_select of indices {idx.min()}..{idx.max()} along dimension {d} "
            f"of size {data.shape[d]})"
        )
    return _take(input, (slice(None),) * d + (idx,), IndexSelectBackward0)


# -- masked_fill, one_hot --------------------------------------------------------------------------------------
class MaskedFillBackward0(Node):
    __slots__ = ("shape", "value_dtype")
    array_backward = True
    saved_names = ("mask",)

    def backward(self, grad):
        (mask,) = self.saved()
        g_input = g_value = None
        if self._next[0] is not None:
            g_input = sum_to_shape(where(mask, 0.0, grad), self.shape)
        if self._next[1] is not None:
            g_value = to_dtype(sum_to_shape(where(mask, grad, 0.0), ()), self.value_dtype)
        return g_input, g_value


class MaskedFillBackward1(MaskedFillBackward0):
    """``masked_fill`` with a 0-D tensor value."""

    __slots__ = ()


def masked_fill(input, mask, value):
    """A copy of ``input`` with ``value`` (a number or 0-D tensor) where the bool ``mask`` is True.

    ``mask`` broadcasts with ``input``. A 0-D ``value`` tensor that requires grad gets the sum of the
    gradient over the filled positions.

    Example::

        x = nk.tensor([1., -2., 3.])
        x.masked_fill(x < 0, 0.)        # tensor([1., 0., 3.])
    """
    if not isinstance(mask, Tensor) or mask._data.dtype != np.bool_:
        got = mask.dtype if isinstance(mask, Tensor) else type(mask).__name__
        raise RuntimeError(
            f"masked_fill_ only supports boolean masks, but got mask with dtype {got}; compare first, e.g. "
            "x.masked_fill(x > 0, 0.)"
        )
    data = input._data
    value_t = None
    if isinstance(value, Tensor):
        if value._data.ndim:
            raise RuntimeError(
                "masked_fill_ only supports a 0-dimensional value tensor, but got tensor with "
                f"{value._data.ndim} dimension(s)."
            )
        value_t = value
        fill = value._data.astype(data.dtype)
    else:
        fill = np.array(value).astype(data.dtype)
    try:
        out = _make(np.where(mask._data, fill, data))
    except ValueError:
        raise RuntimeError(
            f"The size of tensor a must match the size of tensor b: masked_fill cannot broadcast a mask of shape "
            f"{list(mask.shape)} with a tensor of shape {list(data.shape)}"
        ) from None
    if recording() and (input._requires_grad or (value_t is not None and value_t._requires_grad)):
        node = _record(out, (MaskedFillBackward0 if value_t is None else MaskedFillBackward1)((input, value_t)))
        node.shape = data.shape
        node.save(mask)
        node.value_dtype = value_t._data.dtype if value_t is not None else None
    return out


def one_hot(tensor, num_classes=-1):
    """One-hot encoding of an int64 class tensor: shape ``tensor.shape + (num_classes,)``, int64, no gradient.

    ``num_classes=-1`` uses ``tensor.max() + 1``.

    Example::

        one_hot(nk.tensor([0, 2]))      # tensor([[1, 0, 0], [0, 0, 1]])
    """
    data = tensor._data
    if data.dtype != np.int64:
        raise RuntimeError(
            f"one_hot is only applicable to index tensor of type LongTensor. (got {tensor.dtype}; convert with "
            ".long())"
        )
    if num_classes == -1:
        if data.size == 0:
            raise RuntimeError("Can not infer total number of classes from empty tensor.")
        num_classes = int(data.max()) + 1
    if data.size:
        if data.min() < 0:
            raise RuntimeError(f"Class values must be non-negative. (got {int(data.min())})")
        if data.max() >= num_classes:
            raise RuntimeError(
                f"Class values must be smaller than num_classes. (got {int(data.max())} with num_classes="
                f"{num_classes})"
            )
    out = np.zeros(data.shape + (num_classes,), np.int64)
    np.put_along_axis(out, data[..., None], 1, axis=-1)
    return _make(out)
