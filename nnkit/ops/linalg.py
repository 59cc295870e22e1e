"""Matrix products: ``matmul`` (numpy/PyTorch rules for 1-D, 2-D and batched operands), ``mm``, ``bmm``, ``mv``
and ``dot``.

Backward nodes are named after the product that ran, as PyTorch's kernels are: ``MmBackward0`` (2-D @ 2-D and
1-D @ 2-D), ``MvBackward0`` (2-D @ 1-D), ``DotBackward0`` (1-D @ 1-D) and ``BmmBackward0`` (anything with a
batch dimension; PyTorch wraps that one in view nodes). One formula serves all but ``dot``: a 1-D operand is
treated as a row (left) or column (right) matrix, the gradients are products with the other operand
transposed, and ``sum_to_shape`` reduces broadcast batch dimensions. Each operand is saved only when the
other one needs its gradient. The formulas also run on numpy arrays (see nnkit.autograd.node).
"""

import numpy as np

from nnkit.autograd.grad_mode import recording
from nnkit.autograd.node import Node
from nnkit.ops.broadcast import sum_to_shape
from nnkit.ops.shape import squeeze, transpose, unsqueeze
from nnkit.tensor import Tensor, _make

__all__ = ["matmul", "mm", "bmm", "mv", "dot"]

_ndarray = np.ndarray

# PyTorch's C++ type names, which its dtype-mismatch messages print.
_CPP_NAMES = {
    "float32": "float", "float64": "double", "float16": "c10::Half", "int64": "long int", "int32": "int",
    "int16": "short int", "int8": "signed char", "uint8": "unsigned char", "bool": "bool",
}


# -- array-or-Tensor helpers for the backward formulas --------------------------------------------------------
def _mT(x):
    return x.swapaxes(-1, -2) if type(x) is _ndarray else transpose(x, -2, -1)


def _unsqueeze(x, dim):
    return np.expand_dims(x, dim) if type(x) is _ndarray else unsqueeze(x, dim)


def _squeeze(x, dim):
    return x.squeeze(dim) if type(x) is _ndarray else squeeze(x, dim)


def _needs(node, i):
    return node._next[i] is not None


# -- backward nodes ------------------------------------------------------------------------------------------
class _ProductBackward(Node):
    """Gradients of ``a @ b`` for any operand ranks except 1-D @ 1-D."""

    __slots__ = ("a_shape", "b_shape")
    array_backward = True
    saved_names = ("self", "mat2")

    def backward(self, grad):
        a, b = self.saved()
        a_vec = len(self.a_shape) == 1
        b_vec = len(self.b_shape) == 1
        if a_vec:
            grad = _unsqueeze(grad, -2)
        if b_vec:
            grad = _unsqueeze(grad, -1)
        ga = gb = None
        if _needs(self, 0):
            ga = matmul(grad, _mT(_unsqueeze(b, -1) if b_vec else b))
            if a_vec:
                ga = _squeeze(ga, -2)
            ga = sum_to_shape(ga, self.a_shape)
        if _needs(self, 1):
            gb = matmul(_mT(_unsqueeze(a, -2) if a_vec else a), grad)
            if b_vec:
                gb = _squeeze(gb, -1)
            gb = sum_to_shape(gb, self.b_shape)
        return ga, gb


class MmBackward0(_ProductBackward):
    __slots__ = ()


class MvBackward0(_ProductBackward):
    __slots__ = ()
    saved_names = ("self", "vec")


class BmmBackward0(_ProductBackward):
    __slots__ = ()


class DotBackward0(Node):
    __slots__ = ()
    array_backward = True
    saved_names = ("self", "tensor")

    def backward(self, grad):
        a, b = self.saved()
        return (grad * b if _needs(self, 0) else None, grad * a if _needs(self, 1) else None)


# -- checks and errors -----------------------------------------------------------------------------------------
def _tensor(x, position, op):
    if isinstance(x, Tensor):
        return x
    if isinstance(x, _ndarray):
        return _make(x)
    name = "input" if position == 1 else "other"
    raise TypeError(
        f"{op}(): argument '{name}' (position {position}) must be Tensor, not {type(x).__name__} "
        "(for a product with a number use *)"
    )


def _check_dtypes(x, y, op):
    if x.dtype is not y.dtype and x.dtype != y.dtype:
        raise RuntimeError(
            f"expected m1 and m2 to have the same dtype, but got: {_CPP_NAMES.get(x.dtype.name, x.dtype.name)} != "
            f"{_CPP_NAMES.get(y.dtype.name, y.dtype.name)} ({op} of {x.dtype} {list(x.shape)} and {y.dtype} "
            f"{list(y.shape)}: convert one operand, e.g. with .float() or .double())"
        )


def _shape_error(x, y, op):
    """PyTorch's message for the product path that ``x`` and ``y`` take, plus nnkit's facts."""
    sx, sy = x.shape, y.shape
    facts = f"({op} of shapes {list(sx)} and {list(sy)}: "
    if len(sx) == 1 and len(sy) == 1:
        return RuntimeError(
            f"inconsistent tensor size, expected tensor [{sx[0]}] and src [{sy[0]}] to have the same number of "
            f"elements, but got {sx[0]} and {sy[0]} elements respectively {facts}both vectors need the same length)"
        )
    inner_a = sx[-1]
    inner_b = sy[0] if len(sy) == 1 else sy[-2]
    which = "length" if len(sy) == 1 else "second-to-last dimension"
    fix = f"the last dimension of the first operand ({inner_a}) must equal the {which} of the second ({inner_b}))"
    if inner_a != inner_b:
        if len(sy) == 1:
            rows = int(np.prod(sx[:-1]))
            return RuntimeError(
                f"size mismatch, got input ({rows}), mat ({rows}x{inner_a}), vec ({sy[0]}) {facts}{fix}"
            )
        if len(sx) <= 2 and len(sy) == 2:
            m = sx[0] if len(sx) == 2 else 1
            return RuntimeError(
                f"mat1 and mat2 shapes cannot be multiplied ({m}x{inner_a} and {sy[0]}x{sy[1]}) {facts}{fix}"
            )
        return RuntimeError(
            f"mat1 and mat2 shapes cannot be multiplied ({'x'.join(map(str, sx))} and {'x'.join(map(str, sy))}) "
            f"{facts}{fix}"
        )
    ba, bb = sx[:-2], sy[:-2]
    for i in range(1, min(len(ba), len(bb)) + 1):
        if ba[-i] != bb[-i] and ba[-i] != 1 and bb[-i] != 1:
            return RuntimeError(
                f"The size of tensor a ({ba[-i]}) must match the size of tensor b ({bb[-i]}) at non-singleton "
                f"dimension {max(len(ba), len(bb)) - i} {facts}the batch dimensions {list(ba)} and {list(bb)} "
                "must broadcast)"
            )
    return RuntimeError(f"{op}: shapes {list(sx)} and {list(sy)} cannot be multiplied")


def _product(a, b, x, y, op, node_class):
    try:
        result = np.matmul(x, y)
    except ValueError:
        raise _shape_error(x, y, op) from None
    out = _make(result)
    if (a._requires_grad or b._requires_grad) and recording():
        node = node_class((a, b))
        # Each operand is needed only for the other's gradient.
        node.save(a if _needs(node, 1) else None, b if _needs(node, 0) else None)
        if node_class is not DotBackward0:
            node.a_shape, node.b_shape = x.shape, y.shape
        out._requires_grad = True
        out.grad_fn = node
    return out


# -- public functions ------------------------------------------------------------------------------------------
def matmul(input, other):
    """Matrix product with numpy/PyTorch rules.

    - 1-D @ 1-D: the dot product (a 0-d tensor).
    - 2-D @ 2-D: the matrix product; 1-D @ 2-D and 2-D @ 1-D treat the vector as a row / column and drop
      that dimension from the result.
    - batched (either operand with more than 2 dims): the last two dimensions are matrices, the others are
      batch dimensions that broadcast; a 1-D operand is a vector as above. ``(j, 1, n, m) @ (k, m, p)`` gives
      ``(j, k, n, p)``.

    Both operands must have the same dtype (no promotion, as in PyTorch).

    Example::

        a = nk.randn(10, 3, 4)
        b = nk.randn(4, 5)
        (a @ b).shape                 # (10, 3, 5)
    """
    if type(input) is _ndarray and type(other) is _ndarray:  # a backward formula in array mode
        return np.matmul(input, other)
    a = _tensor(input, 1, "matmul")
    b = _tensor(other, 2, "matmul")
    x, y = a._data, b._data
    nx, ny = x.ndim, y.ndim
    if nx == 0 or ny == 0:
        raise RuntimeError(
            f"both arguments to matmul need to be at least 1D, but they are {nx}D and {ny}D (shapes {list(x.shape)} "
            f"and {list(y.shape)}; for a product with a 0-d tensor use *)"
        )
    _check_dtypes(x, y, "matmul")
    if nx <= 2 and ny <= 2:
        if ny == 2:
            node_class = MmBackward0
        elif nx == 2:
            node_class = MvBackward0
        else:
            node_class = DotBackward0
    else:
        node_class = BmmBackward0
    return _product(a, b, x, y, "matmul", node_class)


def mm(input, mat2):
    """Product of two matrices: ``(n, m) @ (m, p) -> (n, p)`` (no broadcasting; see :func:`matmul`)."""
    a = _tensor(input, 1, "mm")
    b = _tensor(mat2, 2, "mm")
    x, y = a._data, b._data
    if x.ndim != 2:
        raise RuntimeError(f"self must be a matrix (mm got a {x.ndim}-D first operand of shape {list(x.shape)})")
    if y.ndim != 2:
        raise RuntimeError(f"mat2 must be a matrix (mm got a {y.ndim}-D second operand of shape {list(y.shape)})")
    _check_dtypes(x, y, "mm")
    return _product(a, b, x, y, "mm", MmBackward0)


def bmm(input, mat2):
    """Batched matrix product of 3-D tensors: ``(b, n, m) @ (b, m, p) -> (b, n, p)`` (no broadcasting)."""
    a = _tensor(input, 1, "bmm")
    b = _tensor(mat2, 2, "bmm")
    x, y = a._data, b._data
    if x.ndim != 3:
        raise RuntimeError(f"batch1 must be a 3D tensor (bmm got shape {list(x.shape)}; use matmul to broadcast)")
    if y.ndim != 3:
        raise RuntimeError(f"batch2 must be a 3D tensor (bmm got shape {list(y.shape)}; use matmul to broadcast)")
    if y.shape[:2] != (x.shape[0], x.shape[2]):
        raise RuntimeError(
            f"Expected size for first two dimensions of batch2 tensor to be: [{x.shape[0]}, {x.shape[2]}] but got: "
            f"[{y.shape[0]}, {y.shape[1]}]. (bmm of shapes {list(x.shape)} and {list(y.shape)}: the batch sizes "
            "must be equal and the last dimension of batch1 must equal the middle dimension of batch2)"
        )
    _check_dtypes(x, y, "bmm")
    return _product(a, b, x, y, "bmm", BmmBackward0)


def mv(input, vec):
    """Matrix-vector product: ``(n, m) @ (m,) -> (n,)``."""
    a = _tensor(input, 1, "mv")
    b = _tensor(vec, 2, "mv")
    x, y = a._data, b._data
    if x.ndim != 2 or y.ndim != 1:
        raise RuntimeError(
            f"vector + matrix @ vector expected, got 1, {x.ndim}, {y.ndim} (mv of shapes {list(x.shape)} and "
            f"{list(y.shape)}: the first operand must be 2-D and the second 1-D)"
        )
    _check_dtypes(x, y, "mv")
    return _product(a, b, x, y, "mv", MvBackward0)


def dot(input, other):
    """Inner product of two 1-D tensors of the same length (a 0-d tensor)."""
    a = _tensor(input, 1, "dot")
    b = _tensor(other, 2, "dot")
    x, y = a._data, b._data
    if x.ndim != 1 or y.ndim != 1:
        raise RuntimeError(
            f"1D tensors expected, but got {x.ndim}D and {y.ndim}D tensors (dot of shapes {list(x.shape)} and "
            f"{list(y.shape)}; use matmul for matrices)"
        )
    if x.dtype != y.dtype:
        raise RuntimeError(
            f"dot : expected both vectors to have same dtype, but found {_torch_title(x)} and {_torch_title(y)} "
            f"(dot of {x.dtype} {list(x.shape)} and {y.dtype} {list(y.shape)}: convert one operand, e.g. with "
            ".float() or .double())"
        )
    return _product(a, b, x, y, "dot", DotBackward0)


def _torch_title(x):
    names = {"float32": "Float", "float64": "Double", "float16": "Half", "int64": "Long", "int32": "Int",
             "int16": "Short", "int8": "Char", "uint8": "Byte", "bool": "Bool"}
    return names.get(x.dtype.name, x.dtype.name)
