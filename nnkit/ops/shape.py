"""Shape ops: reshape and views, transposes, squeeze/unsqueeze, flatten, repeat, cat/stack and split.

Ops whose result shares memory with the input (``view``, ``reshape`` when the strides allow it, ``transpose``,
``permute``, ``t``, ``squeeze``, ``unsqueeze``, ``flatten``, ``unflatten``, and the pieces of ``split``,
``chunk`` and ``unbind``) return views made with ``_view_of``: they share storage and the version counter
with their input, as in PyTorch. ``split``, ``chunk`` and ``unbind`` record ONE node with several outputs;
its backward receives one gradient per piece (None for pieces that got none) and concatenates them.

Every function here also accepts a numpy array (or numpy scalar) and then returns one, unrecorded and without
checks: backward formulas use these functions and run on arrays in plain backward and on Tensors under
``create_graph`` (see nnkit.autograd.node). On arrays, dims must be valid (negative ones are allowed).
"""

import numpy as np

from nnkit import dtypes
from nnkit.autograd.grad_mode import recording
from nnkit.autograd.node import Node
from nnkit.ops.broadcast import expand, sum_to_shape
from nnkit.ops.elementwise import to_dtype
from nnkit.tensor import Tensor, _dim, _make, _view_of

__all__ = [
    "reshape", "view", "transpose", "swapaxes", "permute", "t", "squeeze", "unsqueeze", "flatten", "unflatten",
    "expand", "repeat", "cat", "concat", "stack", "split", "chunk", "unbind",
]


def _record(out, node):
    out._requires_grad = True
    out.grad_fn = node
    return node


# -- reshape and view ----------------------------------------------------------------------------------------
class ViewBackward0(Node):
    """Backward of an op that only changes the shape: the gradient is reshaped back to the input's shape."""

    __slots__ = ("shape",)
    array_backward = True

    def backward(self, grad):
        return (reshape(grad, self.shape),)


class UnsafeViewBackward0(ViewBackward0):
    """``reshape`` that had to copy (the input's strides allowed no view)."""

    __slots__ = ()


class SqueezeBackward0(ViewBackward0):
    """``squeeze()`` (all size-1 dimensions)."""

    __slots__ = ()


class SqueezeBackward1(ViewBackward0):
    """``squeeze(dim)``."""

    __slots__ = ()


class SqueezeBackward2(ViewBackward0):
    """``squeeze(dims)`` with a tuple of dimensions."""

    __slots__ = ()


class UnsqueezeBackward0(ViewBackward0):
    __slots__ = ()


def _shape_error(shape, numel):
    return RuntimeError(
        f"shape '{list(shape)}' is invalid for input of size {numel} (the sizes must multiply to the number "
        "of elements; one size may be -1 to infer it)"
    )


def _infer_shape(shape, numel):
    """``shape`` as a tuple with a -1 replaced by the size that makes it hold ``numel`` elements."""
    shape = tuple(shape)
    infer = -1
    known = 1
    for i, size in enumerate(shape):
        if size == -1:
            if infer >= 0:
                raise RuntimeError(f"only one dimension can be inferred (shape {list(shape)} has two -1s)")
            infer = i
        elif size < 0:
            raise RuntimeError(f"invalid shape dimension {size} (in shape {list(shape)})")
        else:
            known *= size
    if infer >= 0:
        if known == 0:
            raise RuntimeError(
                f"cannot reshape tensor of 0 elements into shape {list(shape)} because the unspecified "
                "dimension size -1 can be any value and is ambiguous"
            )
        if numel % known:
            raise _shape_error(shape, numel)
        return shape[:infer] + (numel // known,) + shape[infer + 1:]
    if known != numel:
        raise _shape_error(shape, numel)
    return shape


def _reshaped(data, shape):
    """(array of ``shape``, is_view): a view of ``data`` when its strides allow one, else a copy."""
    out = data.reshape(shape)
    if data.flags.c_contiguous or out.size == 0:
        return out, True
    # numpy copies exactly when no view is possible; a fresh copy never overlaps the input's memory.
    return out, np.may_share_memory(out, data)


def reshape(input, shape):
    """The same values in ``shape`` (one size may be -1): a view when the strides allow it, else a copy.

    Example::

        nk.arange(6).reshape(2, -1).shape      # (2, 3)
    """
    if not isinstance(input, Tensor):  # array-mode backward formulas
        return input.reshape(shape)
    data = input._data
    shape = _infer_shape(shape, data.size)
    array, is_view = _reshaped(data, shape)
    out = _view_of(input, array) if is_view else _make(array)
    if input._requires_grad and recording():
        node = _record(out, (ViewBackward0 if is_view else UnsafeViewBackward0)((input,)))
        node.shape = data.shape
    return out


def view(input, shape):
    """A view of ``input`` with ``shape`` (one size may be -1); never copies.

    Raises RuntimeError when the strides allow no view (e.g. a transposed tensor): use ``reshape``.
    """
    if not isinstance(input, Tensor):  # array-mode backward formulas (a copy when no view is possible)
        return input.reshape(shape)
    data = input._data
    shape = _infer_shape(shape, data.size)
    array, is_view = _reshaped(data, shape)
    if not is_view:
        raise RuntimeError(
            "view size is not compatible with input tensor's size and stride (at least one dimension spans "
            "across two contiguous subspaces). Use .reshape(...) instead. (view of a non-contiguous tensor of "
            f"shape {list(data.shape)} as {list(shape)}; .contiguous().view(...) also works.)"
        )
    out = _view_of(input, array)
    if input._requires_grad and recording():
        _record(out, ViewBackward0((input,))).shape = data.shape
    return out


# -- transposes ----------------------------------------------------------------------------------------------
class TransposeBackward0(Node):
    __slots__ = ("dim0", "dim1")
    array_backward = True

    def backward(self, grad):
        return (transpose(grad, self.dim0, self.dim1),)


def transpose(input, dim0, dim1):
    """Swap dimensions ``dim0`` and ``dim1`` (a view).

    Example::

        nk.zeros(2, 3, 4).transpose(0, -1).shape    # (4, 3, 2)
    """
    if not isinstance(input, Tensor):  # array-mode backward formulas
        return input.swapaxes(dim0, dim1) if input.ndim else input
    data = input._data
    ndim = data.ndim
    d0 = _dim(dim0, ndim, "transpose")
    d1 = _dim(dim1, ndim, "transpose")
    out = _view_of(input, data.swapaxes(d0, d1) if ndim else data.view())
    if input._requires_grad and recording():
        node = _record(out, TransposeBackward0((input,)))
        node.dim0, node.dim1 = d0, d1
    return out


swapaxes = transpose


class PermuteBackward0(Node):
    __slots__ = ("dims",)
    array_backward = True

    def backward(self, grad):
        inverse = [0] * len(self.dims)
        for i, d in enumerate(self.dims):
            inverse[d] = i
        return (permute(grad, inverse),)


def permute(input, dims):
    """Reorder the dimensions: dimension ``i`` of the result is dimension ``dims[i]`` of ``input`` (a view).

    Example::

        nk.zeros(2, 3, 4).permute(2, 0, 1).shape    # (4, 2, 3)
    """
    if not isinstance(input, Tensor):  # array-mode backward formulas
        return input.transpose(dims)
    data = input._data
    ndim = data.ndim
    if len(dims) != ndim:
        raise RuntimeError(
            "permute(sparse_coo): number of dimensions in the tensor input does not match the length of the "
            f"desired ordering of dimensions i.e. input.dim() = {ndim} is not equal to len(dims) = {len(dims)}"
        )
    dims = tuple(_dim(d, ndim, "permute") for d in dims)
    if len(set(dims)) != ndim:
        raise RuntimeError(f"permute(): duplicate dims are not allowed. (dims {list(dims)} is not a permutation)")
    out = _view_of(input, data.transpose(dims))
    if input._requires_grad and recording():
        _record(out, PermuteBackward0((input,))).dims = dims
    return out


class TBackward0(Node):
    __slots__ = ()
    array_backward = True

    def backward(self, grad):
        return (t(grad),)


def t(input):
    """Transpose a tensor of at most 2 dimensions (0-D and 1-D tensors are returned as views unchanged)."""
    if not isinstance(input, Tensor):  # array-mode backward formulas
        return input.T
    data = input._data
    if data.ndim > 2:
        raise RuntimeError(
            f"t() expects a tensor with <= 2 dimensions, but self is {data.ndim}D (shape {list(data.shape)}); "
            "use transpose(dim0, dim1) or .mT for batches of matrices"
        )
    out = _view_of(input, data.T)
    if input._requires_grad and recording():
        _record(out, TBackward0((input,)))
    return out


# -- squeeze, unsqueeze, flatten, unflatten --------------------------------------------------------------------
def squeeze(input, dim=None):
    """Remove dimensions of size 1: all of them, or only ``dim`` (an int or a tuple) if they have size 1.

    Example::

        nk.zeros(2, 1, 3, 1).squeeze().shape       # (2, 3)
        nk.zeros(2, 1, 3, 1).squeeze(1).shape      # (2, 3, 1)
    """
    if not isinstance(input, Tensor):  # array-mode backward formulas
        return _squeeze_array(input, dim)
    data = input._data
    shape = data.shape
    if dim is None:
        axes = tuple(i for i, size in enumerate(shape) if size == 1)
        node_class = SqueezeBackward0
    elif isinstance(dim, (tuple, list)):
        dims = [_dim(d, data.ndim, "squeeze") for d in dim]
        if len(set(dims)) != len(dims):
            raise RuntimeError(f"dim {dims[0]} appears multiple times in the list of dims (dims {list(dim)})")
        axes = tuple(d for d in dims if shape[d] == 1)
        node_class = SqueezeBackward2
    else:
        d = _dim(dim, data.ndim, "squeeze")
        axes = (d,) if data.ndim and shape[d] == 1 else ()
        node_class = SqueezeBackward1
    out = _view_of(input, data.squeeze(axes) if axes else data.view())
    if input._requires_grad and recording():
        _record(out, node_class((input,))).shape = shape
    return out


def _squeeze_array(array, dim):
    """``squeeze`` on a numpy array: as on a tensor, a listed dimension whose size is not 1 stays."""
    if dim is None:
        return array.squeeze()
    shape = array.shape
    if not shape:
        return array
    dims = dim if isinstance(dim, (tuple, list)) else (dim,)
    axes = tuple({d % len(shape) for d in dims if shape[d] == 1})
    return array.squeeze(axes) if axes else array


def unsqueeze(input, dim):
    """Insert a dimension of size 1 at position ``dim`` (in ``[-ndim - 1, ndim]``); a view.

    Example::

        nk.zeros(2, 3).unsqueeze(-1).shape         # (2, 3, 1)
    """
    if not isinstance(input, Tensor):  # array-mode backward formulas
        return np.expand_dims(input, dim)
    data = input._data
    d = _dim(dim, data.ndim + 1, "unsqueeze")
    out = _view_of(input, np.expand_dims(data, d))
    if input._requires_grad and recording():
        _record(out, UnsqueezeBackward0((input,))).shape = data.shape
    return out


def flatten(input, start_dim=0, end_dim=-1):
    """Merge dimensions ``start_dim`` to ``end_dim`` (inclusive) into one; a view when the strides allow it.

    A 0-D tensor becomes a one-element 1-D tensor; when ``start_dim == end_dim`` the input itself is returned.

    Example::

        nk.zeros(2, 3, 4).flatten(1).shape         # (2, 12)
    """
    shape = input._data.shape if isinstance(input, Tensor) else np.shape(input)
    if not shape:
        return reshape(input, (1,))
    start = _dim(start_dim, len(shape), "flatten")
    end = _dim(end_dim, len(shape), "flatten")
    if start > end:
        raise RuntimeError(
            f"flatten() has invalid args: start_dim cannot come after end_dim (start_dim={start_dim}, "
            f"end_dim={end_dim} for a {len(shape)}-D tensor)"
        )
    if start == end:
        return input
    merged = 1
    for size in shape[start:end + 1]:
        merged *= size
    return reshape(input, shape[:start] + (merged,) + shape[end + 1:])


def unflatten(input, dim, sizes):
    """Split dimension ``dim`` into ``sizes`` (one may be -1); always a view.

    Example::

        nk.zeros(2, 12).unflatten(1, (3, -1)).shape    # (2, 3, 4)
    """
    shape = input._data.shape if isinstance(input, Tensor) else np.shape(input)
    d = _dim(dim, len(shape), "unflatten")
    sizes = tuple(sizes)
    if not sizes:
        raise RuntimeError("unflatten: sizes must be non-empty")
    try:
        sizes = _infer_shape(sizes, shape[d])
    except RuntimeError:
        raise RuntimeError(
            f"unflatten: Provided sizes {list(sizes)} don't multiply up to the size of dim {dim} ({shape[d]}) in "
            f"the input tensor (of shape {list(shape)})"
        ) from None
    return view(input, shape[:d] + sizes + shape[d + 1:])


# -- repeat --------------------------------------------------------------------------------------------------
class RepeatBackward0(Node):
    __slots__ = ("shape", "repeats")
    array_backward = True

    def backward(self, grad):
        # Dimension i of the output is repeats[i] copies of the (padded) input's dimension i: view it as
        # (repeats[i], size_i) and sum over the copies.
        padded = (1,) * (len(self.repeats) - len(self.shape)) + self.shape
        split, target = [], []
        for r, size in zip(self.repeats, padded):
            split += (r, size)
            target += (1, size)
        return (reshape(sum_to_shape(reshape(grad, split), tuple(target)), self.shape),)


def repeat(input, sizes):
    """Tile ``input`` ``sizes[i]`` times along dimension ``i`` (a copy); extra leading sizes add dimensions.

    Example::

        nk.tensor([1, 2]).repeat(2, 2)    # tensor([[1, 2, 1, 2], [1, 2, 1, 2]])
    """
    if not isinstance(input, Tensor):  # array-mode backward formulas
        sizes = tuple(sizes)
        return np.tile(input.reshape((1,) * (len(sizes) - input.ndim) + input.shape), sizes)
    data = input._data
    sizes = tuple(sizes)
    if len(sizes) < data.ndim:
        raise RuntimeError(
            "Number of dimensions of repeat dims can not be smaller than number of dimensions of tensor "
            f"(repeat {list(sizes)} for a tensor of shape {list(data.shape)})"
        )
    if any(s < 0 for s in sizes):
        raise RuntimeError(f"Trying to create tensor with negative dimension: repeat sizes {list(sizes)}")
    padded = (1,) * (len(sizes) - data.ndim) + data.shape
    out = _make(np.tile(data.reshape(padded), sizes))
    if input._requires_grad and recording():
        node = _record(out, RepeatBackward0((input,)))
        node.shape, node.repeats = data.shape, sizes
    return out


# -- cat and stack -------------------------------------------------------------------------------------------
def _tensor_list(tensors, op):
    for i, x in enumerate(tensors):
        if not isinstance(x, Tensor):
            raise TypeError(
                f"expected Tensor as element {i} in argument 0, but got {type(x).__name__} ({op} takes a "
                "sequence of tensors)"
            )
    return tensors


def _all_arrays(items):
    """Whether every item is a numpy array or scalar (a cat/stack call from an array-mode backward formula)."""
    for x in items:
        if not isinstance(x, (np.ndarray, np.generic)):
            return False
    return True


def _zeros(shape, like):
    """Zeros of ``shape`` in the dtype of ``like``, and of its kind: an array, or a Tensor under create_graph."""
    if isinstance(like, Tensor):
        return _make(np.zeros(shape, like._data.dtype))
    return np.zeros(shape, like.dtype)


def _promoted(tensors):
    """PyTorch's result dtype of cat/stack: all inputs promoted together as dimensioned tensors."""
    result = tensors[0]._data.dtype
    for x in tensors[1:]:
        other = x._data.dtype
        if other is not result:
            result = dtypes.result_type(result, 1, other, 1)
    return result


def _with_dtype(tensors, dtype):
    """Convert the tensors to ``dtype`` (recorded: gradients go back in each input's dtype)."""
    return [x if x._data.dtype == dtype else to_dtype(x, dtype) for x in tensors]


class CatBackward0(Node):
    __slots__ = ("dim", "sizes")
    array_backward = True

    def backward(self, grad):
        sizes = [s for s in self.sizes if s is not None]
        pieces = iter(split(grad, sizes, self.dim)) if len(sizes) > 1 else iter((grad,))
        # A legacy empty 1-D input (size None) was skipped by the forward and gets an empty gradient.
        return tuple(next(pieces) if s is not None else _zeros((0,), grad) for s in self.sizes)


def cat(tensors, dim=0):
    """Concatenate tensors along ``dim``; all other sizes must match. Dtypes are promoted as in PyTorch.

    As in PyTorch, 1-D empty tensors (shape ``(0,)``) are skipped whatever the other tensors' shapes.

    Example::

        nk.cat([nk.zeros(2, 3), nk.ones(1, 3)]).shape          # (3, 3)
    """
    tensors = tuple(tensors)
    if tensors and not isinstance(tensors[0], Tensor) and _all_arrays(tensors):  # array-mode backward formulas
        return np.concatenate(tensors, axis=dim)
    tensors = _tensor_list(tensors, "cat")
    if not tensors:
        raise RuntimeError("torch.cat(): expected a non-empty list of Tensors")
    ref = next((x for x in tensors if x._data.shape != (0,)), tensors[0])
    ref_shape = ref._data.shape
    ndim = len(ref_shape)
    for i, x in enumerate(tensors):
        if not x._data.ndim:
            raise RuntimeError(
                f"zero-dimensional tensor (at position {i}) cannot be concatenated; unsqueeze it first or use "
                "stack"
            )
    d = _dim(dim, ndim, "cat")
    sizes = []
    for i, x in enumerate(tensors):
        shape = x._data.shape
        if shape == (0,) and ref_shape != (0,):
            sizes.append(None)
            continue
        if len(shape) != ndim:
            raise RuntimeError(
                f"Tensors must have same number of dimensions: got {ndim} and {len(shape)} (cat of shapes "
                f"{[list(x.shape) for x in tensors]})"
            )
        for axis in range(ndim):
            if axis != d and shape[axis] != ref_shape[axis]:
                raise RuntimeError(
                    f"Sizes of tensors must match except in dimension {d}. Expected size {ref_shape[axis]} but "
                    f"got size {shape[axis]} for tensor number {i} in the list. (cat along dim {d} of shapes "
                    f"{[list(x.shape) for x in tensors]})"
                )
        sizes.append(shape[d])
    dtype = _promoted(tensors)
    rg = recording() and any(x._requires_grad for x in tensors)
    if rg:
        tensors = _with_dtype(tensors, dtype)
    arrays = [x._data for x, s in zip(tensors, sizes) if s is not None]
    out = _make(np.concatenate(arrays, axis=d, dtype=dtype, casting="unsafe"))
    if rg:
        node = _record(out, CatBackward0(tensors))
        node.dim, node.sizes = d, sizes
    return out


concat = cat


class StackBackward0(Node):
    __slots__ = ("dim",)
    array_backward = True

    def backward(self, grad):
        return unbind(grad, self.dim)


def stack(tensors, dim=0):
    """Join tensors of equal shape along a new dimension ``dim`` (in ``[-ndim - 1, ndim]``).

    Example::

        nk.stack([nk.zeros(3), nk.ones(3)], dim=1).shape     # (3, 2)
    """
    tensors = tuple(tensors)
    if tensors and not isinstance(tensors[0], Tensor) and _all_arrays(tensors):  # array-mode backward formulas
        return np.stack(tensors, axis=dim)
    tensors = _tensor_list(tensors, "stack")
    if not tensors:
        raise RuntimeError("stack expects a non-empty TensorList")
    shape = tensors[0]._data.shape
    for i, x in enumerate(tensors):
        if x._data.shape != shape:
            raise RuntimeError(
                f"stack expects each tensor to be equal size, but got {list(shape)} at entry 0 and "
                f"{list(x._data.shape)} at entry {i}"
            )
    d = _dim(dim, len(shape) + 1, "stack")
    dtype = _promoted(tensors)
    rg = recording() and any(x._requires_grad for x in tensors)
    if rg:
        tensors = _with_dtype(tensors, dtype)
    out = _make(np.stack([x._data for x in tensors], axis=d, dtype=dtype, casting="unsafe"))
    if rg:
        _record(out, StackBackward0(tensors)).dim = d
    return out


# -- split, chunk, unbind (one node, several outputs) ----------------------------------------------------------
class SplitBackward0(Node):
    """Backward of ``split(int)`` and ``chunk``: the pieces' gradients (zeros where missing) concatenated."""

    __slots__ = ("n_outputs", "dim", "sizes")
    array_backward = True

    def backward(self, *grads):
        like = next(g for g in grads if g is not None)
        base = like.shape
        pieces = []
        for g, size in zip(grads, self.sizes):
            if g is None:
                g = _zeros(base[:self.dim] + (size,) + base[self.dim + 1:], like)
            pieces.append(g)
        return (cat(pieces, self.dim),)


class SplitWithSizesBackward0(SplitBackward0):
    """Backward of ``split`` with a list of sizes."""

    __slots__ = ()


def _split(input, sizes, dim, node_class):
    data = input._data
    prefix = (slice(None),) * dim
    outs = []
    start = 0
    for size in sizes:
        outs.append(_view_of(input, data[prefix + (slice(start, start + size),)]))
        start += size
    if input._requires_grad and recording() and outs:
        node = node_class((input,))
        node.n_outputs, node.dim, node.sizes = len(outs), dim, sizes
        for i, out in enumerate(outs):
            out._requires_grad = True
            out.grad_fn = node
            out._output_nr = i
    return tuple(outs)


def _split_array(array, split_size_or_sections, dim):
    """``split`` on a numpy array: a tuple of views (no checks)."""
    total = array.shape[dim]
    if isinstance(split_size_or_sections, (tuple, list)):
        sizes = split_size_or_sections
    elif split_size_or_sections == 0:
        sizes = (0,)
    else:
        size = split_size_or_sections
        sizes = [size] * (total // size)
        if total % size or not total:
            sizes.append(total % size)
    prefix = (slice(None),) * (dim % array.ndim)
    outs = []
    start = 0
    for size in sizes:
        outs.append(array[prefix + (slice(start, start + size),)])
        start += size
    return tuple(outs)


def _split_dim(input, dim, op):
    if not input._data.ndim:
        raise RuntimeError(f"{op} expects at least a 1-dimensional tensor")
    return _dim(dim, input._data.ndim, op)


def split(input, split_size_or_sections, dim=0):
    """Split ``input`` along ``dim`` into views: pieces of ``split_size`` (the last may be smaller), or
    pieces of the listed sizes.

    Example::

        [p.shape for p in nk.zeros(5, 2).split(2)]          # [(2, 2), (2, 2), (1, 2)]
        [p.shape for p in nk.zeros(5, 2).split([1, 4])]     # [(1, 2), (4, 2)]
    """
    if not isinstance(input, Tensor):  # array-mode backward formulas
        return _split_array(input, split_size_or_sections, dim)
    d = _split_dim(input, dim, "split")
    total = input._data.shape[d]
    if isinstance(split_size_or_sections, (tuple, list)):
        sizes = [int(s) for s in split_size_or_sections]
        if any(s < 0 for s in sizes) or sum(sizes) != total:
            raise RuntimeError(
                f"split_with_sizes expects split_sizes to sum exactly to {total} (input tensor's size at "
                f"dimension {d}), but got split_sizes={sizes}"
            )
        return _split(input, sizes, d, SplitWithSizesBackward0)
    size = int(split_size_or_sections)
    if size < 0:
        raise RuntimeError(f"split expects split_size be non-negative, but got split_size={size}")
    if size == 0:
        if total:
            raise RuntimeError(
                f"split_size can only be 0 if dimension size is 0, but got dimension size of {total}"
            )
        return _split(input, [0], d, SplitBackward0)
    sizes = [size] * (total // size)
    if total % size or not total:
        sizes.append(total % size)
    return _split(input, sizes, d, SplitBackward0)


def chunk(input, chunks, dim=0):
    """Split ``input`` along ``dim`` into ``chunks`` views of ``ceil(size / chunks)`` (the last smaller; there
    may be fewer than ``chunks`` pieces, as in PyTorch).

    Example::

        [p.shape[0] for p in nk.zeros(5).chunk(3)]           # [2, 2, 1]
    """
    if chunks <= 0:
        raise RuntimeError(f"chunk expects `chunks` to be greater than 0, got: {chunks}")
    if not isinstance(input, Tensor):  # array-mode backward formulas
        total = input.shape[dim]
        return _split_array(input, -(-total // chunks) if total else [0] * chunks, dim)
    d = _split_dim(input, dim, "chunk")
    total = input._data.shape[d]
    if not total:
        return _split(input, [0] * chunks, d, SplitWithSizesBackward0)  # as PyTorch: `chunks` empty pieces
    return split(input, -(-total // chunks), d)


class UnbindBackward0(Node):
    __slots__ = ("n_outputs", "dim")
    array_backward = True

    def backward(self, *grads):
        like = next(g for g in grads if g is not None)
        zeros = None
        pieces = []
        for g in grads:
            if g is None:
                if zeros is None:
                    zeros = _zeros(like.shape, like)
                g = zeros
            pieces.append(g)
        return (stack(pieces, self.dim),)


def unbind(input, dim=0):
    """The slices of ``input`` along ``dim``, as a tuple of views without that dimension.

    Example::

        a, b = nk.tensor([[1, 2], [3, 4]]).unbind(1)        # tensor([1, 3]), tensor([2, 4])
    """
    if not isinstance(input, Tensor):  # array-mode backward formulas
        prefix = (slice(None),) * (dim % input.ndim)
        return tuple(input[prefix + (i, Ellipsis)] for i in range(input.shape[dim]))
    data = input._data
    if not data.ndim:
        raise IndexError("Dimension specified as 0 but tensor has no dimensions")
    d = _dim(dim, data.ndim, "unbind")
    prefix = (slice(None),) * d
    outs = tuple(_view_of(input, data[prefix + (i, Ellipsis)]) for i in range(data.shape[d]))
    if input._requires_grad and recording() and outs:
        node = UnbindBackward0((input,))
        node.n_outputs, node.dim = len(outs), d
        for i, out in enumerate(outs):
            out._requires_grad = True
            out.grad_fn = node
            out._output_nr = i
    return outs
