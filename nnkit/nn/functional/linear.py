"""The affine map ``linear(x, W, b) = x @ W.T + b``: one matrix product and one fused backward node.

The node is named as PyTorch's 2-D kernels are: ``AddmmBackward0`` with a bias, ``MmBackward0`` without. For an
input with several leading dimensions PyTorch reshapes around the product (``ViewBackward0`` on top); nnkit
keeps one node for any number of leading dimensions. The backward formula is written with ``matmul`` and
``sum``, so it runs on arrays in plain backward and on Tensors under ``create_graph``.
"""

import numpy as np

from nnkit.autograd.grad_mode import recording
from nnkit.autograd.node import Node
from nnkit.ops import linalg, reduction, shape
from nnkit.ops.broadcast import sum_to_shape
from nnkit.tensor import Tensor, _make

__all__ = ["linear"]

_CPP_NAMES = {"float32": "float", "float64": "double", "float16": "c10::Half", "int64": "long int"}


def _needs(node, i):
    return node._next[i] is not None


def _rows(x, width):
    """``x`` as a matrix of ``width`` columns (array or Tensor)."""
    if not isinstance(x, Tensor):
        return x.reshape(-1, width)
    return shape.reshape(x, (-1, width)) if x._data.ndim != 2 else x


def _transposed(x):
    return x.T if not isinstance(x, Tensor) else shape.t(x)


class MmBackward0(Node):
    """Backward of ``linear`` without bias: ``grad @ W`` for the input, ``grad.T @ x`` for the weight."""

    __slots__ = ("in_features", "out_features", "bias_shape")
    array_backward = True
    saved_names = ("self", "weight")
    first = 0  # position of the input's edge (AddmmBackward0 puts the bias first, as PyTorch)

    def backward(self, grad):
        x, w = self.saved()
        i = self.first
        gx = linalg.matmul(grad, w) if _needs(self, i) else None
        gw = None
        if _needs(self, i + 1):
            gw = linalg.matmul(_transposed(_rows(grad, self.out_features)), _rows(x, self.in_features))
        if i == 0:
            return gx, gw
        gb = None
        if _needs(self, 0):
            g = _rows(grad, self.out_features)
            gb = sum_to_shape(reduction.sum(g, 0) if isinstance(g, Tensor) else g.sum(0), self.bias_shape)
        return gb, gx, gw


class AddmmBackward0(MmBackward0):
    """Backward of ``linear`` with bias; edges ``(bias, input, weight)``."""

    __slots__ = ()
    first = 1


def _check(x, w, b):
    if x.dtype != w.dtype or (b is not None and b.dtype != x.dtype):
        other = w if x.dtype != w.dtype else b
        raise RuntimeError(
            f"expected m1 and m2 to have the same dtype, but got: {_CPP_NAMES.get(x.dtype.name, x.dtype.name)} != "
            f"{_CPP_NAMES.get(other.dtype.name, other.dtype.name)} (linear of input {x.dtype}, weight {w.dtype}"
            f"{'' if b is None else f', bias {b.dtype}'}: convert them to one dtype, e.g. with .float())"
        )
    if x.ndim == 0:
        raise RuntimeError(
            f"both arguments to linear need to be at least 1D, but they are 0D and {w.ndim}D (the input is a 0-d "
            "tensor; give it a features dimension)"
        )
    if x.shape[-1] != w.shape[1]:
        rows = int(np.prod(x.shape[:-1]))
        raise RuntimeError(
            f"mat1 and mat2 shapes cannot be multiplied ({rows}x{x.shape[-1]} and {w.shape[1]}x{w.shape[0]}) "
            f"(linear of input {list(x.shape)} with weight {list(w.shape)}: the input's last dimension must equal "
            f"in_features = {w.shape[1]})"
        )
    if b is not None and b.shape not in ((w.shape[0],), (1,), ()):
        raise RuntimeError(
            f"The expanded size of the tensor ({w.shape[0]}) must match the existing size ({b.shape[-1]}) at "
            f"non-singleton dimension {max(x.ndim - 1, 0)}. (linear with weight {list(w.shape)} needs a bias of "
            f"shape [{w.shape[0]}], got {list(b.shape)})"
        )


def linear(input, weight, bias=None):
    """``input @ weight.T + bias``: the affine map of ``nn.Linear``.

    Args:
        input: ``(*, in_features)``; any number of leading dimensions (also none).
        weight: ``(out_features, in_features)``.
        bias: ``(out_features,)`` or None.

    Returns:
        ``(*, out_features)``.

    Example::

        x = nk.randn(8, 3)
        F.linear(x, nk.randn(5, 3), nk.zeros(5)).shape      # (8, 5)
    """
    w = weight._data
    if w.ndim != 2:  # a 1-D weight (a dot product per row) is rare: the generic ops handle it
        out = linalg.matmul(input, shape.t(weight))
        return out if bias is None else out + bias
    x = input._data
    b = bias._data if bias is not None else None
    _check(x, w, b)
    result = np.matmul(x, w.T)
    if b is not None:
        result += b
    out = _make(result)
    if recording() and (
        input._requires_grad or weight._requires_grad or (bias is not None and bias._requires_grad)
    ):
        if bias is None:
            node = MmBackward0((input, weight))
        else:
            node = AddmmBackward0((bias, input, weight))
            node.bias_shape = b.shape
        node.in_features, node.out_features = w.shape[1], w.shape[0]
        i = node.first
        # The input is needed only for the weight's gradient and the weight only for the input's.
        node.save(input if _needs(node, i + 1) else None, weight if _needs(node, i) else None)
        out._requires_grad = True
        out.grad_fn = node
    return out
