"""Padding: ``pad(input, pad, mode, value)`` with PyTorch's argument order and modes.

``pad`` lists (left, right) amounts starting from the LAST dimension: ``(1, 2)`` pads the last dimension by 1
before and 2 after; ``(1, 1, 2, 2)`` also pads the second-to-last by 2 on each side.

- ``'constant'``: fill with ``value`` (default 0); any number of dimensions; negative amounts crop. Backward
  crops the gradient, which is padding with the negated amounts, so ``ConstantPadNdBackward0`` calls ``pad``
  again and is differentiable any number of times.
- ``'reflect'``, ``'replicate'``, ``'circular'``: the last 1, 2 or 3 dimensions of a (batched or unbatched)
  input, as PyTorch supports them. Each padded dimension is a gather along that axis with a fixed index map;
  the backward multiplies the gradient by the transposed 0/1 map matrix along each axis (a sum of the
  gradients of the positions that read each input element), again with differentiable ops.
"""

import numpy as np

from nnkit.autograd.grad_mode import recording
from nnkit.autograd.node import Node
from nnkit.ops import linalg, shape
from nnkit.tensor import Tensor, _make

__all__ = ["pad"]

_MODES = ("constant", "reflect", "replicate", "circular")
_SUPPORTED = (
    "Supported combinations for non-constant padding:\n"
    "  - 2D or 3D input: padding size = 2 (pads last dimension)\n"
    "  - 3D or 4D input: padding size = 4 (pads last 2 dimensions)\n"
    "  - 4D or 5D input: padding size = 6 (pads last 3 dimensions)"
)


def _record(out, node):
    out._requires_grad = True
    out.grad_fn = node
    return node


def _pairs(pad, ndim):
    """[(axis, before, after), ...] for the padded axes, last axis first."""
    return [(ndim - 1 - k, int(pad[2 * k]), int(pad[2 * k + 1])) for k in range(len(pad) // 2)]


# -- constant ----------------------------------------------------------------------------------------------------
class ConstantPadNdBackward0(Node):
    __slots__ = ("pad",)
    array_backward = True

    def backward(self, grad):
        return (_constant(grad, tuple(-p for p in self.pad), 0),)


def _constant_array(x, pairs, value):
    """``x`` padded (positive amounts) and cropped (negative amounts) along each (axis, before, after)."""
    src = [slice(None)] * x.ndim
    dst = [slice(None)] * x.ndim
    out_shape = list(x.shape)
    for axis, before, after in pairs:
        size = x.shape[axis]
        src[axis] = slice(max(-before, 0), size - max(-after, 0))
        out_shape[axis] = size + before + after
        dst[axis] = slice(max(before, 0), out_shape[axis] - max(after, 0))
    out = np.full(out_shape, value, dtype=x.dtype)
    out[tuple(dst)] = x[tuple(src)]
    return out


def _constant(input, pad, value):
    """Constant padding of an array or a Tensor (recorded as ``ConstantPadNdBackward0``)."""
    if not isinstance(input, Tensor):
        return _constant_array(input, _pairs(pad, input.ndim), value)
    x = input._data
    pairs = _pairs(pad, x.ndim)
    for axis, before, after in pairs:
        if x.shape[axis] + before + after < 0:
            raise RuntimeError(
                f"narrow(): length must be non-negative. (pad {list(pad)} would leave dimension {axis} of size "
                f"{x.shape[axis]} with {x.shape[axis] + before + after} elements)"
            )
    out = _make(_constant_array(x, pairs, value))
    if input._requires_grad and recording():
        _record(out, ConstantPadNdBackward0((input,))).pad = tuple(pad)
    return out


# -- reflect, replicate, circular --------------------------------------------------------------------------------
def _source_index(size, before, after, mode):
    """For each output position along an axis, the input position it reads."""
    i = np.arange(-before, size + after)
    if mode == "reflect":
        i = np.abs(i)
        i = np.where(i >= size, 2 * (size - 1) - i, i)
    elif mode == "replicate":
        i = np.clip(i, 0, size - 1)
    else:
        # PyTorch crops first (negative amounts), then wraps around within what is left.
        lo, hi = max(-before, 0), size - max(-after, 0)
        i = np.arange(-max(before, 0), hi - lo + max(after, 0)) % max(hi - lo, 1) + lo
    return i


class _IndexPadBackward(Node):
    """Backward of a gather along each padded axis: ``grad`` times the 0/1 map matrix, axis by axis."""

    __slots__ = ("maps",)  # [(axis, index array, input size), ...]
    array_backward = True

    def backward(self, grad):
        for axis, index, size in reversed(self.maps):
            dtype = grad._data.dtype if isinstance(grad, Tensor) else grad.dtype
            matrix = np.zeros((index.size, size), dtype)
            matrix[np.arange(index.size), index] = 1
            grad = _apply_on_axis(grad, matrix, axis)
        return (grad,)


def _apply_on_axis(g, matrix, axis):
    """Contract axis ``axis`` of ``g`` (length rows of ``matrix``) with ``matrix``: the result has its columns."""
    if not isinstance(g, Tensor):
        return np.moveaxis(np.moveaxis(g, axis, -1) @ matrix, -1, axis)
    last = g._data.ndim - 1
    moved = shape.transpose(g, axis, last) if axis != last else g
    out = linalg.matmul(moved, _make(matrix))
    return shape.transpose(out, axis, last) if axis != last else out


class ReflectionPad1DBackward0(_IndexPadBackward):
    __slots__ = ()


class ReflectionPad2DBackward0(_IndexPadBackward):
    __slots__ = ()


class ReflectionPad3DBackward0(_IndexPadBackward):
    __slots__ = ()


class ReplicationPad1DBackward0(_IndexPadBackward):
    __slots__ = ()


class ReplicationPad2DBackward0(_IndexPadBackward):
    __slots__ = ()


class ReplicationPad3DBackward0(_IndexPadBackward):
    __slots__ = ()


class CircularPadBackward0(_IndexPadBackward):
    """PyTorch builds circular padding from slice copies (its grad_fn is ``CopySlices``); nnkit uses one node."""

    __slots__ = ()


_NODES = {
    ("reflect", 1): ReflectionPad1DBackward0, ("reflect", 2): ReflectionPad2DBackward0,
    ("reflect", 3): ReflectionPad3DBackward0, ("replicate", 1): ReplicationPad1DBackward0,
    ("replicate", 2): ReplicationPad2DBackward0, ("replicate", 3): ReplicationPad3DBackward0,
    ("circular", 1): CircularPadBackward0, ("circular", 2): CircularPadBackward0, ("circular", 3): CircularPadBackward0,
}


def _index_pad(input, pad, mode):
    x = input._data
    k = len(pad) // 2
    if x.ndim not in (k + 1, k + 2):
        raise NotImplementedError(f"Padding size {len(pad)} is not supported for {x.ndim}D input tensor.\n{_SUPPORTED}")
    maps = []
    for axis, before, after in _pairs(pad, x.ndim):
        size = x.shape[axis]
        if mode == "reflect" and (before >= size or after >= size):
            raise RuntimeError(
                f"Argument #4: Padding size should be less than the corresponding input dimension, but got: padding "
                f"({before}, {after}) at dimension {axis} of input {list(x.shape)}"
            )
        if mode == "circular" and (before > size or after > size):
            raise RuntimeError(
                f"Padding value causes wrapping around more than once. (circular pad ({before}, {after}) of dimension "
                f"{axis} of size {size}: each amount must be at most the size)"
            )
        if size == 0 and before + after > 0:
            raise RuntimeError(
                f"{mode} padding of dimension {axis}: the input has size 0 there, so there is nothing to "
                f"{'copy' if mode != 'reflect' else 'reflect'} (input of shape {list(x.shape)})"
            )
        if size + before + after < 0:
            raise RuntimeError(
                f"narrow(): length must be non-negative. (pad {list(pad)} would leave dimension {axis} of size "
                f"{size} with {size + before + after} elements)"
            )
        maps.append((axis, _source_index(size, before, after, mode), size))
    out = x
    for axis, index, _ in maps:
        out = np.take(out, index, axis=axis)
    out = _make(out if out is not x else x.copy())
    if input._requires_grad and recording():
        _record(out, _NODES[(mode, k)]((input,))).maps = maps
    return out


def pad(input, pad, mode="constant", value=None):
    """Pad (or, with negative amounts, crop) the last dimensions of ``input``.

    Args:
        input: a tensor.
        pad: ``(left_last, right_last, left_second_last, right_second_last, ...)``: an even number of ints.
        mode: ``'constant'`` | ``'reflect'`` (mirror without repeating the edge) | ``'replicate'`` (repeat the
            edge) | ``'circular'`` (wrap around).
        value: the fill value of ``'constant'`` mode (default 0).

    Example::

        x = nk.tensor([[1., 2., 3.]])
        F.pad(x, (2, 1))                        # tensor([[0., 0., 1., 2., 3., 0.]])
        F.pad(x, (2, 1), mode='reflect')        # tensor([[3., 2., 1., 2., 3., 2.]])
        F.pad(x, (2, 1), mode='replicate')      # tensor([[1., 1., 1., 2., 3., 3.]])
        F.pad(x, (2, 1), mode='circular')       # tensor([[2., 3., 1., 2., 3., 1.]])
    """
    pad = tuple(int(p) for p in pad)
    if len(pad) % 2:
        raise RuntimeError(f"Padding length must be divisible by 2 (got pad={list(pad)})")
    ndim = input._data.ndim
    if mode not in _MODES:
        raise NotImplementedError(f"Unrecognised padding mode {mode} (choose one of {', '.join(_MODES)})")
    if mode == "constant":
        if len(pad) // 2 > ndim:
            raise RuntimeError(
                "Padding length should be less than or equal to two times the input dimension but got padding length "
                f"{len(pad)} and input of dimension {ndim}"
            )
        return _constant(input, pad, 0 if value is None else value)
    if value is not None and value != 0:
        raise RuntimeError(f'Padding mode "{mode}" doesn\'t take in value argument')
    return _index_pad(input, pad, mode)
