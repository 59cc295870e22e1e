"""Broadcasting: ``expand`` and its adjoint ``sum_to_shape``, each the other's backward.

``sum_to_shape`` is the one place where a gradient is reduced over the dimensions that broadcasting added or
stretched; every binary op's backward calls it, so no op reduces gradients by hand.
"""

import numpy as np

from nnkit.autograd.grad_mode import recording
from nnkit.autograd.node import Node
from nnkit.tensor import Tensor, _make, _view_of

__all__ = ["expand", "sum_to_shape", "broadcast_to", "broadcast_shapes"]


class SumBackward1(Node):
    """Backward of sum_to_shape (PyTorch's name for a sum over some dimensions)."""

    __slots__ = ("shape",)
    array_backward = True

    def backward(self, grad):
        return (expand(grad, self.shape),)


class ExpandBackward0(Node):
    __slots__ = ("shape",)
    array_backward = True

    def backward(self, grad):
        return (sum_to_shape(grad, self.shape),)


def _reduced_axes(from_shape, to_shape):
    lead = len(from_shape) - len(to_shape)
    axes = list(range(lead))
    for i, size in enumerate(to_shape):
        if size == 1 and from_shape[lead + i] != 1:
            axes.append(lead + i)
    return tuple(axes)


def sum_to_shape(x, shape):
    """Sum ``x`` over the dimensions that broadcasting from ``shape`` added or stretched.

    Accepts a numpy array or scalar too (backward formulas in array mode) and then returns one.
    """
    if not isinstance(x, Tensor):
        if x.shape == shape:
            return x
        axes = _reduced_axes(x.shape, shape)
        return x.sum(axis=axes).reshape(shape) if axes else x.reshape(shape)
    data = x._data
    if data.shape == shape:
        return x
    axes = _reduced_axes(data.shape, shape)
    out = _make(data.sum(axis=axes).reshape(shape) if axes else data.reshape(shape))
    if x._requires_grad and recording():
        node = SumBackward1((x,))
        node.shape = data.shape
        out._requires_grad = True
        out.grad_fn = node
    return out


def broadcast_shapes(*shapes):
    """The shape that tensors of ``shapes`` broadcast to; RuntimeError naming the shapes if none."""
    try:
        return np.broadcast_shapes(*shapes)
    except ValueError:
        raise RuntimeError(
            "shape mismatch: objects cannot be broadcast to a single shape: "
            + ", ".join(str(list(s)) for s in shapes)
        ) from None


def expand(x, sizes):
    """``x`` broadcast to ``sizes`` without copying (a read-only view); -1 keeps a dimension's size.

    Accepts a numpy array or scalar too (backward formulas in array mode) and then returns one.
    """
    if not isinstance(x, Tensor):
        return np.broadcast_to(x, sizes)
    shape = x._data.shape
    sizes = tuple(sizes)
    if len(sizes) < len(shape):
        raise RuntimeError(
            f"expand: the number of sizes provided ({len(sizes)}) must be greater or equal to the number of "
            f"dimensions in the tensor ({len(shape)}); tensor shape {list(shape)}, sizes {list(sizes)}"
        )
    lead = len(sizes) - len(shape)
    target = []
    for i, size in enumerate(sizes):
        if size == -1:
            if i < lead:
                raise RuntimeError(f"expand: -1 is not allowed in a leading, non-existing dimension {i}")
            size = shape[i - lead]
        elif i >= lead and shape[i - lead] != 1 and shape[i - lead] != size:
            raise RuntimeError(
                f"The expanded size of the tensor ({size}) must match the existing size ({shape[i - lead]}) at "
                f"non-singleton dimension {i}.  Target sizes: {list(sizes)}.  Tensor sizes: {list(shape)}"
            )
        target.append(size)
    target = tuple(target)
    if target == shape:
        out = _view_of(x, x._data.view())
    else:
        out = _view_of(x, np.broadcast_to(x._data, target))
    if x._requires_grad and recording():
        node = ExpandBackward0((x,))
        node.shape = shape
        out._requires_grad = True
        out.grad_fn = node
    return out


def broadcast_to(x, shape):
    """``x`` broadcast to ``shape`` (same as ``x.expand(shape)``)."""
    return expand(x, shape)
