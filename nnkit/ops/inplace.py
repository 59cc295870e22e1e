"""In-place ops: ``add_``, ``mul_``, ``zero_``, ``copy_``... and the machinery ``__setitem__`` shares.

Every in-place op bumps the tensor's version counter (shared with its views), so a backward that needs the
old values raises instead of silently using the new ones. When nothing needs recording (grad mode off, or no
operand requires grad) the op is a numpy kernel writing into the tensor's array. Otherwise the op is computed
out of place on a snapshot of the old values, written back into the same storage, and the tensor's
``grad_fn`` becomes the new node: the tensor keeps its identity and storage, and gradients stay exact. On a
view, the snapshot is the view's region read from the root tensor's history, and the root's new history is
a ``CopySlices`` node; the view and every other live view of the root then read from it.
"""

import numpy as np
from numpy.lib.stride_tricks import as_strided

from nnkit.autograd.grad_mode import in_inference, recording
from nnkit.autograd.node import Node
from nnkit.ops import elementwise as ew
from nnkit.ops import indexing
from nnkit.ops.broadcast import sum_to_shape
from nnkit.random import numpy_generator
from nnkit.tensor import Tensor, _make

__all__ = [
    "add_", "sub_", "mul_", "div_", "pow_", "zero_", "fill_", "clamp_", "copy_", "masked_fill_", "uniform_",
    "normal_", "apply_inplace",
]


def _check_target(target, op):
    if target._counter is None and not in_inference():
        raise RuntimeError(
            "Inplace update to inference tensor outside InferenceMode is not allowed.You can make a clone to get "
            "a normal tensor before doing inplace update.See https://github.com/pytorch/rfcs/pull/17 for more "
            f"details. ({op} on a tensor of shape {list(target.shape)} created under inference_mode.)"
        )
    if recording():
        if target._requires_grad and target.grad_fn is None:
            raise RuntimeError(
                f"a leaf Variable that requires grad is being used in an in-place operation. ({op} on a leaf of "
                f"shape {list(target.shape)}: wrap the update in `with nnkit.no_grad():`, as optimizers do, or "
                "use an out-of-place op.)"
            )
        base = target._base
        if base is not None and target._extra is not None and target._extra.get("no_grad_view"):
            raise RuntimeError(
                "A view was created in no_grad mode and is being modified inplace with grad mode enabled. Given "
                "that this use case is ambiguous and error-prone, it is forbidden. You can clarify your code by "
                "moving both the view and the inplace either both inside the no_grad block (if you don't want "
                "the inplace to be tracked) or both outside (if you want the inplace to be tracked). "
                f"({op} on a view of shape {list(target.shape)} of a tensor of shape {list(base.shape)}.)"
            )
        if base is not None and base._requires_grad and base.grad_fn is None:
            raise RuntimeError(
                f"a view of a leaf Variable that requires grad is being used in an in-place operation. ({op} on "
                f"a view of shape {list(target.shape)} of a leaf of shape {list(base.shape)}: use no_grad() or "
                "an out-of-place op.)"
            )
    if not target._data.flags.writeable:
        raise RuntimeError(
            "unsupported operation: more than one element of the written-to tensor refers to a single memory "
            f"location. Please clone() the tensor before performing the operation. ({op} on an expanded "
            f"tensor of shape {list(target.shape)}.)"
        )


def _kernel_error(op, target, err):
    text = str(err)
    if isinstance(err, TypeError):  # numpy's UFuncTypeError: the result's type does not fit the tensor
        return RuntimeError(
            f"result type can't be cast to the desired output type {target.dtype}. ({op} would write values of "
            f"a wider type into a {target.dtype} tensor of shape {list(target.shape)}; convert the tensor "
            "first, e.g. x = x.float(), or use an out-of-place op.)"
        )
    return RuntimeError(
        f"output with shape {list(target.shape)} doesn't match the broadcast shape of the operands in {op} "
        f"({text}). In-place ops cannot change a tensor's shape: use an out-of-place op."
    )


def apply_inplace(target, out_of_place, *args, kernel, op):
    """Run an in-place op on ``target`` and return it.

    Args:
        target: the tensor to modify.
        out_of_place: ``fn(snapshot, *args) -> Tensor``, the recorded out-of-place version of the op.
        args: the op's other arguments (tensors, numbers, indices).
        kernel: ``fn(array, *values)``, writes the result into ``array`` in place; ``values`` are ``args``
            with tensors replaced by their arrays.
        op: the op's name, for error messages.
    """
    _check_target(target, op)
    records = recording() and (
        target._requires_grad or any(isinstance(a, Tensor) and a._requires_grad for a in args)
    )
    if not records:
        values = [a._data if isinstance(a, Tensor) else a for a in args]
        try:
            kernel(target._data, *values)
        except (ValueError, TypeError) as err:
            raise _kernel_error(op, target, err) from None
    elif target._base is not None:
        _record_on_view(target, out_of_place, args, op)
    else:
        snapshot = _make(target._data.copy(), target._requires_grad, target.grad_fn)
        snapshot._output_nr = target._output_nr
        result = _write_back(target, out_of_place(snapshot, *args), op)
        target.grad_fn = result.grad_fn
        target._requires_grad = result._requires_grad
        target._output_nr = result._output_nr
    if target._counter is not None:
        target._counter[0] += 1
    return target


def _write_back(target, result, op):
    """Copy the out-of-place ``result`` into ``target``'s storage (same shape, a dtype it can hold)."""
    data = result._data
    if data.shape != target._data.shape:
        raise _kernel_error(op, target, ValueError(f"result shape {list(data.shape)}"))
    if not np.can_cast(data.dtype, target._data.dtype, "same_kind"):
        raise _kernel_error(op, target, TypeError("cast"))
    np.copyto(target._data, data, casting="same_kind")
    return result


def _positions(view, root):
    """Where each element of ``view`` sits in ``root``: an index tuple into the root's shape (one array of the
    view's shape per dimension), or None if the root's storage is in neither C nor Fortran order."""
    r, v = root._data, view._data
    if r.flags.c_contiguous:
        order = "C"
    elif r.flags.f_contiguous:
        order = "F"
    else:
        return None
    size = r.itemsize
    cells = np.arange(r.size, dtype=np.int64)  # memory cell k of the root holds its element k (in ``order``)
    first = (v.__array_interface__["data"][0] - r.__array_interface__["data"][0]) // size
    flat = as_strided(cells[first:], v.shape, tuple(st // size * cells.itemsize for st in v.strides))
    return np.unravel_index(flat.copy(), r.shape, order=order)


def _root_alias(root):
    """A Tensor standing for ``root`` now (same storage, history and version counter), to record against."""
    alias = _make(root._data, root._requires_grad, root.grad_fn)
    alias._counter, alias._output_nr = root._counter, root._output_nr
    return alias


def _record_on_view(target, out_of_place, args, op):
    """An in-place op on a view while recording, as PyTorch does it: the root tensor's new history is a
    ``CopySlices`` node (the region of the view replaced by the op's result, the rest passed through), and
    the view and every other live view of the root read from that history (``AsStridedBackward0``)."""
    root = target._base
    index = _positions(target, root)
    if index is None:
        raise RuntimeError(
            f"{op}: in-place operations on a view are not supported while gradients are recorded when the view's "
            f"base is not contiguous (view {list(target.shape)}, base {list(root.shape)}). Call .contiguous() "
            "on the base first, use an out-of-place op (v = v + 1), or clone() the view."
        )
    before = _root_alias(root)
    region = indexing.getitem_positions(before, index)  # the view's old values, from the root's history
    result = _write_back(target, out_of_place(region, *args), op)
    if not result._requires_grad:
        return
    root.grad_fn = indexing.copy_slices(before, index, result)
    root._requires_grad, root._output_nr = True, 0
    views = root._extra.get("views", ()) if root._extra is not None else ()
    for ref in list(views):
        view = ref()
        if view is None:
            continue
        positions = index if view is target else _positions(view, root)
        view.grad_fn = indexing.strided_view_node(root, positions)
        view._requires_grad, view._output_nr = True, 0


def _scaled(value, alpha):
    return value if alpha == 1 else value * alpha


def add_(input, other, *, alpha=1):
    """In place: ``input += alpha * other``."""
    return apply_inplace(
        input, lambda s, o: ew.add(s, o, alpha=alpha), other,
        kernel=lambda a, o: np.add(a, _scaled(o, alpha), out=a, casting="same_kind"), op="add_",
    )


def sub_(input, other, *, alpha=1):
    """In place: ``input -= alpha * other``."""
    return apply_inplace(
        input, lambda s, o: ew.sub(s, o, alpha=alpha), other,
        kernel=lambda a, o: np.subtract(a, _scaled(o, alpha), out=a, casting="same_kind"), op="sub_",
    )


def mul_(input, other):
    """In place: ``input *= other``."""
    return apply_inplace(
        input, ew.mul, other, kernel=lambda a, o: np.multiply(a, o, out=a, casting="same_kind"), op="mul_"
    )


def div_(input, other):
    """In place: ``input /= other`` (true division; integer tensors cannot hold the result)."""
    return apply_inplace(
        input, ew.div, other, kernel=lambda a, o: np.true_divide(a, o, out=a, casting="same_kind"), op="div_"
    )


def pow_(input, exponent):
    """In place: ``input **= exponent``."""
    return apply_inplace(
        input, ew.pow, exponent, kernel=lambda a, e: np.power(a, e, out=a, casting="same_kind"), op="pow_"
    )


def clamp_(input, min=None, max=None):
    """In place: limit values to ``[min, max]``."""
    if min is None and max is None:
        raise RuntimeError("torch.clamp: At least one of 'min' or 'max' must not be None")
    return apply_inplace(
        input, ew.clamp, min, max, kernel=lambda a, lo, hi: np.clip(a, lo, hi, out=a, casting="same_kind"),
        op="clamp_",
    )


class FillBackward0(Node):
    """Overwriting with a value: no gradient to the old values; a tensor value gets the summed gradient."""

    __slots__ = ("value_shape",)
    array_backward = True

    def backward(self, grad):
        old = grad * 0 if self._next[0] is not None else None
        value = sum_to_shape(grad, self.value_shape) if self._next[1] is not None else None
        return old, value


def _filled(snapshot, value):
    """Out-of-place fill: a tensor like ``snapshot`` holding ``value`` (a number or broadcastable tensor)."""
    value_data = value._data if isinstance(value, Tensor) else value
    out = _make(np.broadcast_to(np.asarray(value_data, dtype=snapshot._data.dtype), snapshot.shape).copy())
    value_t = value if isinstance(value, Tensor) else None
    if snapshot._requires_grad or (value_t is not None and value_t._requires_grad):
        node = FillBackward0((snapshot, value_t))
        node.value_shape = value_t._data.shape if value_t is not None else None
        out._requires_grad = True
        out.grad_fn = node
    return out


def _fill_kernel(array, value):
    array[...] = value


def fill_(input, value):
    """In place: set every element to ``value`` (a number or a one-element tensor)."""
    if isinstance(value, Tensor) and value._data.ndim != 0:
        raise RuntimeError(
            f"fill_ only supports 0-dimension value tensor but got tensor with {value._data.ndim} dimensions."
        )
    return apply_inplace(input, _filled, value, kernel=_fill_kernel, op="fill_")


def zero_(input):
    """In place: set every element to zero."""
    return fill_(input, 0)


class CopyBackwards(Node):
    """``dst.copy_(src)``: the old values get no gradient; src gets it, reduced and cast back."""

    __slots__ = ("src_shape", "src_dtype")
    array_backward = True

    def backward(self, grad):
        old = grad * 0 if self._next[0] is not None else None
        src = None
        if self._next[1] is not None:
            src = ew.to_dtype(sum_to_shape(grad, self.src_shape), self.src_dtype)
        return old, src


def _copied(snapshot, src):
    out = _make(np.broadcast_to(src._data, snapshot.shape).astype(snapshot._data.dtype))
    if snapshot._requires_grad or src._requires_grad:
        node = CopyBackwards((snapshot, src))
        node.src_shape, node.src_dtype = src._data.shape, src._data.dtype
        out._requires_grad = True
        out.grad_fn = node
    return out


def _copy_kernel(array, src):
    np.copyto(array, src, casting="unsafe")


def copy_(input, src):
    """In place: copy ``src`` (broadcast to this shape, converted to this dtype) into ``input``."""
    if not isinstance(src, Tensor):
        raise TypeError(f"copy_(): argument 'src' must be Tensor, not {type(src).__name__}")
    try:
        np.broadcast_shapes(src._data.shape, input._data.shape)
    except ValueError:
        raise RuntimeError(
            f"The size of tensor a ({input.shape[-1] if input.ndim else 1}) must match the size of tensor b "
            f"at non-singleton dimension: copy_ cannot broadcast src of shape {list(src.shape)} to "
            f"{list(input.shape)}"
        ) from None
    return apply_inplace(input, _copied, src, kernel=_copy_kernel, op="copy_")


def _masked_fill_kernel(array, mask, value):
    np.copyto(array, value, where=mask, casting="unsafe")


def masked_fill_(input, mask, value):
    """In place: set ``value`` where the bool ``mask`` (broadcastable to ``input``) is True."""
    from nnkit.ops.indexing import masked_fill

    if not isinstance(mask, Tensor) or mask._data.dtype != np.bool_:
        raise RuntimeError(
            "masked_fill_ only supports boolean masks, but got mask with dtype "
            f"{getattr(mask, 'dtype', type(mask).__name__)}; compare first, e.g. x.masked_fill_(x > 0, 0.)"
        )
    return apply_inplace(input, masked_fill, mask, value, kernel=_masked_fill_kernel, op="masked_fill_")


def _random_fill(input, sample, op):
    values = _make(sample(input._data.shape).astype(input._data.dtype, copy=False))
    return apply_inplace(input, _filled, values, kernel=_fill_kernel, op=op)


def uniform_(input, a=0.0, b=1.0):
    """In place: fill with samples from U(a, b) drawn from the global generator."""
    return _random_fill(input, lambda shape: numpy_generator().uniform(a, b, shape), "uniform_")


def normal_(input, mean=0.0, std=1.0):
    """In place: fill with samples from N(mean, std²) drawn from the global generator."""
    return _random_fill(input, lambda shape: numpy_generator().normal(mean, std, shape), "normal_")
