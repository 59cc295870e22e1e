"""Elementwise ops: arithmetic, unary math, activations, comparisons and dtype casts.

Binary ops broadcast like numpy and promote dtypes like PyTorch (see :mod:`nnkit.dtypes`); a Python or numpy
scalar operand stays a scalar (no tensor is made for it) and gets ``(None, 0)`` in ``next_functions``.
Backward formulas use only operators and functions of this family that also accept numpy arrays, so each
formula runs on arrays in plain backward and on Tensors under ``create_graph`` (see nnkit.autograd.node).
"""

import builtins

import numpy as np

from nnkit import dtypes
from nnkit.autograd.grad_mode import recording
from nnkit.autograd.node import NOTHING_SAVED, Node, saved_output
from nnkit.ops.broadcast import sum_to_shape
from nnkit.tensor import Tensor, _make

__all__ = [
    "add", "sub", "mul", "div", "pow", "neg", "exp", "log", "log1p", "sqrt", "rsqrt", "abs", "sin", "cos",
    "tanh", "sigmoid", "relu", "square", "reciprocal", "sign", "floor", "ceil", "round", "clamp", "clip",
    "maximum", "minimum", "where", "remainder", "floor_divide", "eq", "ne", "lt", "le", "gt", "ge",
    "logical_not", "logical_and", "logical_or", "logical_xor", "bitwise_not", "bitwise_and", "bitwise_or",
    "bitwise_xor", "isnan", "isinf", "isfinite", "to_dtype", "clone",
]

_FLOAT32 = dtypes.DEFAULT_FLOAT
_SCALARS = (int, float, bool)


# -- operands and promotion ----------------------------------------------------------------------------------
def _operands(a, b, op, scalar_array=False):
    """Normalise the operands of a binary op: (tensor_a, tensor_b, value_a, value_b, requires_grad).

    ``tensor_x`` is the Tensor operand or None for a scalar; ``value_x`` is its array (promoted to the result
    dtype) or the Python scalar. A numpy array operand becomes a Tensor; a numpy scalar a Python scalar.
    With ``scalar_array``, a Python number after a float tensor comes back as a 0-d array of the tensor's
    dtype (see ``_scalar_array``).
    """
    if type(a) is Tensor:  # fast paths for the common cases; everything else below
        tb = type(b)
        if tb is Tensor:
            x, y = a._data, b._data
            if x.dtype is y.dtype:
                return a, b, x, y, a._requires_grad or b._requires_grad
        elif tb is float or tb is int:
            x = a._data
            if x.dtype.kind == "f":
                return a, None, x, _scalar_array(b, x.dtype) if scalar_array else b, a._requires_grad
            if tb is int:
                return a, None, x, b, a._requires_grad
    a_t = isinstance(a, Tensor)
    b_t = isinstance(b, Tensor)
    if not a_t:
        a, a_t = _coerce(a, b, op)
    if not b_t:
        b, b_t = _coerce(b, a, op)
    if a_t and b_t:
        x, y = a._data, b._data
        if x.dtype is not y.dtype:
            target = dtypes.result_type(x.dtype, x.ndim, y.dtype, y.ndim)
            if x.dtype is not target:
                a = to_dtype(a, target)
                x = a._data
            if y.dtype is not target:
                b = to_dtype(b, target)
                y = b._data
        return a, b, x, y, a._requires_grad or b._requires_grad
    if a_t:
        x = a._data
        if type(b) is float and x.dtype.kind != "f":
            x = x.astype(_FLOAT32)
        return a, None, x, b, a._requires_grad
    y = b._data
    if type(a) is float and y.dtype.kind != "f":
        y = y.astype(_FLOAT32)
    return None, b, a, y, b._requires_grad


_SCALAR_ARRAYS = {}  # dtype -> {Python number: the number as a 0-d array of that dtype}


def _scalar_array(value, dtype):
    """``value`` as a 0-d array of the float ``dtype``, from a small cache.

    numpy converts a Python number operand on every call, which doubles the cost of an op on a small array;
    a 0-d array of the array's own dtype gives the same result (the number is cast to that dtype either way).
    Zero stays a number: 0.0 and -0.0 are one dict key but differ in sign.
    """
    cache = _SCALAR_ARRAYS.get(dtype)
    if cache is None:
        cache = _SCALAR_ARRAYS[dtype] = {}
    array = cache.get(value)
    if array is None:
        if not value:
            return value
        if len(cache) >= 256:  # a bound for programs that use many different numbers
            cache.clear()
        array = cache[value] = np.array(value, dtype)
        array.flags.writeable = False
    return array


_CONSTANTS = {}  # dtype -> (0, 1) as read-only 0-d arrays of that dtype


def _zero_one(dtype):
    """0 and 1 as 0-d arrays of ``dtype``, for formulas on small arrays (see ``_scalar_array``, whose cache
    cannot hold zero: 0.0 and -0.0 are one dict key; telling them apart there cost more than this does)."""
    pair = _CONSTANTS.get(dtype)
    if pair is None:
        pair = (np.zeros((), dtype), np.ones((), dtype))
        for a in pair:
            a.flags.writeable = False
        _CONSTANTS[dtype] = pair
    return pair


def _one(like):
    """1 for an expression with ``like``: a 0-d array of its dtype when ``like`` is an array (array-mode
    backward), else the number (a Tensor, which records the formula)."""
    return _zero_one(like.dtype)[1] if type(like) is np.ndarray else 1


def _coerce(value, other, op):
    """(value as Tensor or Python scalar, is_tensor) for a non-Tensor operand."""
    if isinstance(value, np.generic):  # before the Python check: np.float64 subclasses float
        return value.item(), False
    if isinstance(value, _SCALARS):
        return value, False
    if isinstance(value, np.ndarray):
        dtypes.from_numpy(value.dtype)
        return _make(value), True
    raise TypeError(
        f"{op}: unsupported operand type {type(value).__name__!r}; expected a Tensor, a number or a numpy array"
    )


def _broadcast_error(op, x, y):
    """PyTorch's broadcast-mismatch error, naming the op and both shapes."""
    sx, sy = np.shape(x), np.shape(y)
    for i in range(1, builtins.min(len(sx), len(sy)) + 1):
        if sx[-i] != sy[-i] and sx[-i] != 1 and sy[-i] != 1:
            dim = builtins.max(len(sx), len(sy)) - i
            return RuntimeError(
                f"The size of tensor a ({sx[-i]}) must match the size of tensor b ({sy[-i]}) at non-singleton "
                f"dimension {dim}. ({op} of shapes {list(sx)} and {list(sy)}: make them broadcastable, e.g. "
                "with unsqueeze() or reshape().)"
            )
    return RuntimeError(f"{op}: shapes {list(sx)} and {list(sy)} cannot be broadcast together")


def _float_data(x):
    """x's array, as float32 if x is an integer or bool tensor (math functions return floats)."""
    data = x._data
    return data if data.dtype.kind == "f" else data.astype(_FLOAT32)


def _record(out, node):
    """Make ``node`` the grad_fn of ``out``; returns the node."""
    out._requires_grad = True
    out.grad_fn = node
    return node


def _needs(node, i):
    return node._next[i] is not None


# -- arithmetic ----------------------------------------------------------------------------------------------
# The hot ops (add, sub, mul, div, neg and the unary math below) record their node inline, without the
# _record/_needs helpers: each helper call costs about as much as the numpy call on a small tensor.
def _reduce_shapes(a, b, x, y):
    """The shapes a binary op's input gradients are summed back to (``a_shape, b_shape``), or ``(None, None)``
    when nothing was broadcast (a number operand, or two tensors of one shape): the common case skips
    ``sum_to_shape`` in backward."""
    if a is None or b is None or x.shape == y.shape:
        return _SAME_SHAPES
    return x.shape, y.shape


_SAME_SHAPES = (None, None)


class AddBackward0(Node):
    __slots__ = ("a_shape", "b_shape", "alpha")
    array_backward = True

    def backward(self, grad):
        a_fn, b_fn = self._next
        ga = gb = None
        if a_fn is not None:
            ga = grad if self.a_shape is None else sum_to_shape(grad, self.a_shape)
        if b_fn is not None:
            gb = grad if self.alpha == 1 else grad * self.alpha
            if self.b_shape is not None:
                gb = sum_to_shape(gb, self.b_shape)
        return ga, gb


class SubBackward0(Node):
    __slots__ = ("a_shape", "b_shape", "alpha")
    array_backward = True

    def backward(self, grad):
        a_fn, b_fn = self._next
        ga = gb = None
        if a_fn is not None:
            ga = grad if self.a_shape is None else sum_to_shape(grad, self.a_shape)
        if b_fn is not None:
            gb = grad * -self.alpha
            if self.b_shape is not None:
                gb = sum_to_shape(gb, self.b_shape)
        return ga, gb


class RsubBackward1(Node):
    """``scalar - alpha * tensor``: one edge, to the tensor."""

    __slots__ = ("alpha",)
    array_backward = True

    def backward(self, grad):
        return (grad * -self.alpha,)


def _shape(t):
    return t._data.shape if t is not None else None


def add(input, other, *, alpha=1):
    """``input + alpha * other`` with broadcasting (either may be a Python number)."""
    a, b, x, y, rg = _operands(input, other, "add", True)
    if a is None and alpha == 1:  # scalar + tensor is recorded as tensor + scalar, as in PyTorch
        a, b, x, y = b, a, y, x
    try:
        out = _make(x + y if alpha == 1 else x + alpha * y)
    except ValueError:
        raise _broadcast_error("add", x, y) from None
    if rg and recording():
        node = AddBackward0((a, b))
        node.a_shape, node.b_shape = _SAME_SHAPES if b is None else _reduce_shapes(a, b, x, y)
        node.alpha = alpha
        out._requires_grad = True
        out.grad_fn = node
    return out


def sub(input, other, *, alpha=1):
    """``input - alpha * other`` with broadcasting (either may be a Python number)."""
    a, b, x, y, rg = _operands(input, other, "sub", True)
    if a is not None and b is not None and x.dtype == np.bool_:
        raise RuntimeError(
            "Subtraction, the `-` operator, with two bool tensors is not supported. Use the `^` or "
            "`logical_xor()` operator instead."
        )
    try:
        out = _make(x - y if alpha == 1 else x - alpha * y)
    except ValueError:
        raise _broadcast_error("sub", x, y) from None
    if rg and recording():
        if a is None:
            node = RsubBackward1((b,))
        else:
            node = SubBackward0((a, b))
            node.a_shape, node.b_shape = _SAME_SHAPES if b is None else _reduce_shapes(a, b, x, y)
        node.alpha = alpha
        out._requires_grad = True
        out.grad_fn = node
    return out


class MulBackward0(Node):
    __slots__ = ("a_shape", "b_shape", "b_scalar")
    array_backward = True
    saved_names = ("self", "other")

    def backward(self, grad):
        a, b = self.saved()
        a_fn, b_fn = self._next
        ga = gb = None
        if a_fn is not None:
            ga = grad * (self.b_scalar if b is None else b)
            if self.a_shape is not None:
                ga = sum_to_shape(ga, self.a_shape)
        if b_fn is not None:
            gb = grad * a
            if self.b_shape is not None:
                gb = sum_to_shape(gb, self.b_shape)
        return ga, gb


def mul(input, other):
    """``input * other`` with broadcasting (either may be a Python number)."""
    a, b, x, y, rg = _operands(input, other, "mul", True)
    if a is None:  # scalar * tensor is recorded as tensor * scalar, as in PyTorch
        a, b, x, y = b, a, y, x
    try:
        out = _make(x * y)
    except ValueError:
        raise _broadcast_error("mul", x, y) from None
    if rg and recording():
        node = MulBackward0((a, b))
        if b is None:
            node.a_shape = node.b_shape = None
            node.b_scalar = y
            node._saved = NOTHING_SAVED  # save(None, None) in one step: freed by backward all the same
        else:
            node.a_shape, node.b_shape = _reduce_shapes(a, b, x, y)
            node.b_scalar = None
            node.save(a if b._requires_grad else None, b if a._requires_grad else None)
        out._requires_grad = True
        out.grad_fn = node
    return out


class DivBackward0(Node):
    __slots__ = ("a_shape", "b_shape", "b_scalar")
    array_backward = True
    saved_names = ("self", "other")

    def backward(self, grad):
        a, b = self.saved()
        a_fn, b_fn = self._next
        ga = gb = None
        if a_fn is not None:
            ga = grad / (self.b_scalar if b is None else b)
            if self.a_shape is not None:
                ga = sum_to_shape(ga, self.a_shape)
        if b_fn is not None:
            gb = -grad * a / (b * b)
            if self.b_shape is not None:
                gb = sum_to_shape(gb, self.b_shape)
        return ga, gb


def div(input, other, *, rounding_mode=None):
    """``input / other`` (true division; integer inputs give float32) with broadcasting.

    ``rounding_mode='trunc'`` or ``'floor'`` rounds the quotient; such results carry no gradient.
    """
    if not isinstance(input, Tensor) and isinstance(other, Tensor) and isinstance(input, (_SCALARS, np.generic)):
        if rounding_mode is None:
            return mul(reciprocal(other), input)  # scalar / tensor is recorded as PyTorch does: MulBackward0
        input = _make(np.asarray(input))
    a, b, x, y, rg = _operands(input, other, "div", True)
    if rounding_mode is not None:
        if rounding_mode not in ("trunc", "floor"):
            raise ValueError(
                f"div expected rounding_mode to be one of None, 'trunc', or 'floor' but found '{rounding_mode}'"
            )
        quotient = np.floor_divide(x, y) if rounding_mode == "floor" else np.trunc(np.true_divide(x, y))
        return _make(quotient.astype(x.dtype, copy=False))
    result_dtype = x.dtype if x.dtype.kind == "f" else _FLOAT32
    try:
        quotient = x / y
    except ValueError:
        raise _broadcast_error("div", x, y) from None
    out = _make(quotient if quotient.dtype is result_dtype else quotient.astype(result_dtype))
    if rg and recording():
        node = DivBackward0((a, b))
        if b is None:
            node.a_shape = node.b_shape = None
            node.b_scalar = y
            node._saved = NOTHING_SAVED
        else:
            node.a_shape, node.b_shape = _reduce_shapes(a, b, x, y)
            node.b_scalar = None
            node.save(a if b._requires_grad else None, b)
        out._requires_grad = True
        out.grad_fn = node
    return out


class PowBackward0(Node):
    """``tensor ** scalar``."""

    __slots__ = ("exponent",)
    array_backward = True
    saved_names = ("self",)

    def backward(self, grad):
        (x,) = self.saved()
        e = self.exponent
        if e == 0:
            return (grad * 0,)
        return (grad * (x ** (e - 1) * e),)

    @property
    def _saved_exponent(self):
        return self.exponent


class PowBackward1(Node):
    """``tensor ** tensor``."""

    __slots__ = ("a_shape", "b_shape")
    array_backward = True
    saved_names = ("self", "exponent", "result")

    def backward(self, grad):
        a, b, result = self.saved()
        ga = gb = None
        if _needs(self, 0):
            ga = sum_to_shape(grad * b * a ** (b - 1), self.a_shape)
        if _needs(self, 1):
            # d/db a**b = a**b * log(a); PyTorch defines it as 0 where a == 0 and b >= 0.
            safe_log = where(eq(a, 0), 0.0, log(where(eq(a, 0), 1.0, a)))
            gb = sum_to_shape(grad * result * safe_log, self.b_shape)
        return ga, gb


class PowBackward2(Node):
    """``scalar ** tensor``."""

    __slots__ = ("base",)
    array_backward = True
    saved_names = ("result",)

    def backward(self, grad):
        (result,) = self.saved()
        if self.base == 0:
            return (grad * 0,)
        return (grad * result * float(np.log(self.base)),)


def pow(input, exponent):
    """``input ** exponent``; either may be a scalar."""
    a, b, x, y, rg = _operands(input, exponent, "pow")
    if (
        isinstance(x, np.ndarray) and x.dtype.kind in "iu"
        and np.any(np.asarray(y) < 0) and np.asarray(y).dtype.kind in "iu"
    ):
        raise RuntimeError(
            "Integers to negative integer powers are not allowed. (Convert the base to float first: "
            "x.float() ** n.)"
        )
    try:
        out = _make(np.power(x, y))
    except ValueError:
        raise _broadcast_error("pow", x, y) from None
    if rg and recording():
        if b is None:
            node = PowBackward0((a,))
            node.exponent = y
            node.save(a)
        elif a is None:
            node = PowBackward2((b,))
            node.base = x
            _record(out, node)
            node.save_result(out)
            return out
        else:
            node = PowBackward1((a, b))
            node.a_shape, node.b_shape = a._data.shape, b._data.shape
            _record(out, node)
            node.save(a, b, saved_output(out))
            return out
        _record(out, node)
    return out


def square(input):
    """``input ** 2`` (recorded as ``PowBackward0``, as in PyTorch)."""
    return pow(input, 2)


class NegBackward0(Node):
    __slots__ = ()
    array_backward = True

    def backward(self, grad):
        return (-grad,)


def neg(input):
    """``-input``."""
    out = _make(-input._data)
    if input._requires_grad and recording():
        out._requires_grad = True
        out.grad_fn = NegBackward0((input,))
    return out


class RemainderBackward1(Node):
    """``tensor % tensor``."""

    __slots__ = ("a_shape", "b_shape")
    array_backward = True
    saved_names = ("self", "other")

    def backward(self, grad):
        a, b = self.saved()
        ga = sum_to_shape(grad, self.a_shape) if _needs(self, 0) else None
        gb = None
        if _needs(self, 1):
            gb = sum_to_shape(-grad * floor_divide(a, b), self.b_shape)
        return ga, gb


class RemainderBackward0(RemainderBackward1):
    """``tensor % scalar``."""

    __slots__ = ()


def remainder(input, other):
    """Python-style modulus (result has the sign of ``other``)."""
    a, b, x, y, rg = _operands(input, other, "remainder")
    try:
        out = _make(np.remainder(x, y))
    except ValueError:
        raise _broadcast_error("remainder", x, y) from None
    if rg and recording():
        node = (RemainderBackward1 if b is not None else RemainderBackward0)((a, b))
        node.a_shape, node.b_shape = _shape(a), _shape(b)
        node.save(a if _needs(node, 1) else None, b if _needs(node, 1) else None)
        _record(out, node)
    return out


def floor_divide(input, other):
    """Floor of ``input / other``; not differentiable."""
    if not isinstance(input, Tensor):
        return np.floor_divide(input, other)
    _, _, x, y, _ = _operands(input, other, "floor_divide")
    return _make(np.floor_divide(x, y))


# -- unary math ----------------------------------------------------------------------------------------------
class ExpBackward0(Node):
    __slots__ = ()
    array_backward = True
    saved_names = ("result",)

    def backward(self, grad):
        (result,) = self.saved()
        return (grad * result,)


def exp(input):
    """Elementwise ``e ** input``."""
    if not isinstance(input, Tensor):
        return np.exp(input)
    out = _make(np.exp(_float_data(input)))
    if input._requires_grad and recording():
        node = ExpBackward0((input,))
        node.save_result(out)
        out._requires_grad = True
        out.grad_fn = node
    return out


class LogBackward0(Node):
    __slots__ = ()
    array_backward = True
    saved_names = ("self",)

    def backward(self, grad):
        (x,) = self.saved()
        return (grad / x,)


def log(input):
    """Elementwise natural logarithm (``-inf`` at 0, ``nan`` below)."""
    if not isinstance(input, Tensor):
        return np.log(input)
    out = _make(np.log(_float_data(input)))
    if input._requires_grad and recording():
        node = LogBackward0((input,))
        node.save(input)
        out._requires_grad = True
        out.grad_fn = node
    return out


class Log1PBackward0(Node):
    __slots__ = ()
    array_backward = True
    saved_names = ("self",)

    def backward(self, grad):
        (x,) = self.saved()
        return (grad / (x + 1),)


def log1p(input):
    """Elementwise ``log(1 + input)``, accurate for small inputs."""
    if not isinstance(input, Tensor):
        return np.log1p(input)
    out = _make(np.log1p(_float_data(input)))
    if input._requires_grad and recording():
        _record(out, Log1PBackward0((input,))).save(input)
    return out


class SqrtBackward0(Node):
    __slots__ = ()
    array_backward = True
    saved_names = ("result",)

    def backward(self, grad):
        (result,) = self.saved()
        return (grad / (result + result),)


def sqrt(input):
    """Elementwise square root."""
    out = _make(np.sqrt(_float_data(input)))
    if input._requires_grad and recording():
        _record(out, SqrtBackward0((input,))).save_result(out)
    return out


class RsqrtBackward0(Node):
    __slots__ = ()
    array_backward = True
    saved_names = ("result",)

    def backward(self, grad):
        (result,) = self.saved()
        return (grad * (result * result * result) * -0.5,)


def rsqrt(input):
    """Elementwise ``1 / sqrt(input)``."""
    data = _float_data(input)
    out = _make(np.reciprocal(np.sqrt(data)))
    if input._requires_grad and recording():
        _record(out, RsqrtBackward0((input,))).save_result(out)
    return out


class ReciprocalBackward0(Node):
    __slots__ = ()
    array_backward = True
    saved_names = ("result",)

    def backward(self, grad):
        (result,) = self.saved()
        return (-grad * (result * result),)


def reciprocal(input):
    """Elementwise ``1 / input``."""
    out = _make(np.reciprocal(_float_data(input)))
    if input._requires_grad and recording():
        _record(out, ReciprocalBackward0((input,))).save_result(out)
    return out


class AbsBackward0(Node):
    __slots__ = ()
    array_backward = True
    saved_names = ("self",)

    def backward(self, grad):
        (x,) = self.saved()
        return (grad * sign(x),)  # sign(0) = 0: the subgradient PyTorch uses at 0


def abs(input):
    """Elementwise absolute value; its gradient at 0 is 0."""
    if not isinstance(input, Tensor):
        return np.abs(input)
    out = _make(np.abs(input._data))
    if input._requires_grad and recording():
        _record(out, AbsBackward0((input,))).save(input)
    return out


class SinBackward0(Node):
    __slots__ = ()
    array_backward = True
    saved_names = ("self",)

    def backward(self, grad):
        (x,) = self.saved()
        return (grad * cos(x),)


def sin(input):
    """Elementwise sine."""
    if not isinstance(input, Tensor):
        return np.sin(input)
    out = _make(np.sin(_float_data(input)))
    if input._requires_grad and recording():
        _record(out, SinBackward0((input,))).save(input)
    return out


class CosBackward0(Node):
    __slots__ = ()
    array_backward = True
    saved_names = ("self",)

    def backward(self, grad):
        (x,) = self.saved()
        return (grad * -sin(x),)


def cos(input):
    """Elementwise cosine."""
    if not isinstance(input, Tensor):
        return np.cos(input)
    out = _make(np.cos(_float_data(input)))
    if input._requires_grad and recording():
        _record(out, CosBackward0((input,))).save(input)
    return out


class TanhBackward0(Node):
    __slots__ = ()
    array_backward = True
    saved_names = ("result",)

    def backward(self, grad):
        (result,) = self.saved()
        return (grad * (_one(result) - result * result),)


def tanh(input):
    """Elementwise hyperbolic tangent."""
    out = _make(np.tanh(_float_data(input)))
    if input._requires_grad and recording():
        node = TanhBackward0((input,))
        node.save_result(out)
        out._requires_grad = True
        out.grad_fn = node
    return out


class SigmoidBackward0(Node):
    __slots__ = ()
    array_backward = True
    saved_names = ("result",)

    def backward(self, grad):
        (result,) = self.saved()
        return (grad * (result * (_one(result) - result)),)


def _sigmoid_array(x):
    # e**min(x, 0) / (1 + e**-|x|): 1 / (1 + e**-x) for x >= 0 and e**x / (1 + e**x) below, so exp never
    # overflows and tiny results keep their precision. No np.where: it costs more than the two exps here.
    zero, one = _zero_one(x.dtype)
    return np.exp(np.minimum(x, zero)) / (one + np.exp(-np.abs(x)))


def sigmoid(input):
    """Elementwise logistic function ``1 / (1 + exp(-input))``, stable for large ``|input|``."""
    if not isinstance(input, Tensor):
        return _sigmoid_array(input)
    out = _make(_sigmoid_array(_float_data(input)))
    if input._requires_grad and recording():
        node = SigmoidBackward0((input,))
        node.save_result(out)
        out._requires_grad = True
        out.grad_fn = node
    return out


class ReluBackward0(Node):
    __slots__ = ()
    array_backward = True
    saved_names = ("result",)

    def backward(self, grad):
        (result,) = self.saved()
        if type(result) is np.ndarray:  # numpy multiplies by a float mask about twice as fast as by a bool one
            mask = (result > 0).astype(result.dtype)  # gradient 0 at 0
            mask *= grad  # into the mask, which is new: one array less to allocate and fill
            return (mask,)
        return (grad * gt(result, 0),)


def relu(input):
    """Elementwise ``max(input, 0)``; its gradient at 0 is 0."""
    if not isinstance(input, Tensor):
        return np.maximum(input, 0, dtype=input.dtype)
    data = input._data
    out = _make(np.maximum(data, 0, dtype=data.dtype) if data.dtype.kind != "b" else data.copy())
    if input._requires_grad and recording():
        node = ReluBackward0((input,))
        node.save_result(out)
        out._requires_grad = True
        out.grad_fn = node
    return out


class _ZeroGradient(Node):
    """Backward of a piecewise-constant op: the gradient is zero everywhere it exists."""

    __slots__ = ()
    array_backward = True

    def backward(self, grad):
        return (grad * 0,)


class SignBackward0(_ZeroGradient):
    __slots__ = ()


class FloorBackward0(_ZeroGradient):
    __slots__ = ()


class CeilBackward0(_ZeroGradient):
    __slots__ = ()


class RoundBackward0(_ZeroGradient):
    __slots__ = ()


def _piecewise_constant(input, fn, node_class):
    out = _make(fn(input._data))
    if input._requires_grad and recording():
        _record(out, node_class((input,)))
    return out


def sign(input):
    """Elementwise sign: -1, 0 or 1 (gradient zero)."""
    if not isinstance(input, Tensor):
        return np.sign(input)
    return _piecewise_constant(input, np.sign, SignBackward0)


def floor(input):
    """Elementwise floor (gradient zero)."""
    return _piecewise_constant(input, np.floor, FloorBackward0)


def ceil(input):
    """Elementwise ceiling (gradient zero)."""
    return _piecewise_constant(input, np.ceil, CeilBackward0)


def round(input, *, decimals=0):
    """Elementwise rounding, half to even (gradient zero)."""
    return _piecewise_constant(input, lambda d: np.round(d, decimals), RoundBackward0)


# -- clamp, maximum, minimum, where --------------------------------------------------------------------------
class ClampBackward1(Node):
    """Clamp with scalar bounds: the gradient passes where ``min <= x <= max``."""

    __slots__ = ("min", "max")
    array_backward = True
    saved_names = ("self",)

    def backward(self, grad):
        (x,) = self.saved()
        mask = None
        if self.min is not None:
            mask = ge(x, self.min)
        if self.max is not None:
            upper = le(x, self.max)
            mask = upper if mask is None else logical_and(mask, upper)
        return (grad * mask,)


def clamp(input, min=None, max=None):
    """Limit ``input`` to ``[min, max]``; bounds may be numbers, tensors or None (unbounded)."""
    if min is None and max is None:
        raise RuntimeError("torch.clamp: At least one of 'min' or 'max' must not be None")
    if isinstance(min, Tensor) or isinstance(max, Tensor):
        out = input
        if min is not None:
            out = maximum(out, min) if isinstance(min, Tensor) else clamp(out, min=min)
        if max is not None:
            out = minimum(out, max) if isinstance(max, Tensor) else clamp(out, max=max)
        return out
    data = input._data
    if data.dtype.kind != "f" and any(isinstance(v, float) for v in (min, max)):
        data = data.astype(_FLOAT32)
    out = _make(np.clip(data, min, max))
    if input._requires_grad and recording():
        node = _record(out, ClampBackward1((input,)))
        node.min, node.max = min, max
        node.save(input)
    return out


clip = clamp


class MaximumBackward0(Node):
    __slots__ = ("a_shape", "b_shape")
    array_backward = True
    saved_names = ("self", "other")

    def backward(self, grad):
        a, b = self.saved()
        return _split_by_winner(self, grad, gt(a, b), lt(a, b), eq(a, b))


class MinimumBackward0(Node):
    __slots__ = ("a_shape", "b_shape")
    array_backward = True
    saved_names = ("self", "other")

    def backward(self, grad):
        a, b = self.saved()
        return _split_by_winner(self, grad, lt(a, b), gt(a, b), eq(a, b))


def _split_by_winner(node, grad, a_wins, b_wins, tie):
    # Where the inputs are equal each gets half the gradient (PyTorch's rule for maximum/minimum).
    half_tie = grad * tie * 0.5
    ga = sum_to_shape(grad * a_wins + half_tie, node.a_shape) if _needs(node, 0) else None
    gb = sum_to_shape(grad * b_wins + half_tie, node.b_shape) if _needs(node, 1) else None
    return ga, gb


def _extremum(input, other, fn, node_class, name):
    if not isinstance(other, Tensor):
        raise TypeError(f"{name}(): argument 'other' must be Tensor, not {type(other).__name__}")
    a, b, x, y, rg = _operands(input, other, name)
    try:
        out = _make(fn(x, y))
    except ValueError:
        raise _broadcast_error(name, x, y) from None
    if rg and recording():
        node = _record(out, node_class((a, b)))
        node.a_shape, node.b_shape = x.shape, y.shape
        node.save(a, b)
    return out


def maximum(input, other):
    """Elementwise maximum of two tensors; where they are equal, each gets half the gradient."""
    return _extremum(input, other, np.maximum, MaximumBackward0, "maximum")


def minimum(input, other):
    """Elementwise minimum of two tensors; where they are equal, each gets half the gradient."""
    return _extremum(input, other, np.minimum, MinimumBackward0, "minimum")


class WhereBackward0(Node):
    __slots__ = ("a_shape", "b_shape", "condition")
    array_backward = True

    def backward(self, grad):
        zero = grad * 0
        ga = sum_to_shape(where(self.condition, grad, zero), self.a_shape) if _needs(self, 0) else None
        gb = sum_to_shape(where(self.condition, zero, grad), self.b_shape) if _needs(self, 1) else None
        return ga, gb


def where(condition, input, other):
    """``input`` where the bool ``condition`` holds, else ``other`` (each a tensor or a number)."""
    if not isinstance(condition, Tensor) and not isinstance(input, Tensor) and not isinstance(other, Tensor):
        return np.where(condition, input, other)  # array-mode backward formulas
    cond = condition._data if isinstance(condition, Tensor) else np.asarray(condition)
    if cond.dtype != np.bool_:
        raise RuntimeError(
            f"where expected condition to be a boolean tensor, but got a tensor with dtype {cond.dtype}; "
            "compare it first, e.g. where(x > 0, ...)"
        )
    if not isinstance(input, Tensor) and not isinstance(other, Tensor):
        # Two numbers: the result takes their default dtype (float32 if either is a float), as in PyTorch.
        x, y = _coerce(input, None, "where")[0], _coerce(other, None, "where")[0]
        kind = float if float in (type(x), type(y)) else int if int in (type(x), type(y)) else bool
        np_dtype = {float: _FLOAT32, int: dtypes.DEFAULT_INT, bool: np.dtype(np.bool_)}[kind]
        return _make(np.where(cond, np.asarray(x, np_dtype), np.asarray(y, np_dtype)))
    a, b, x, y, rg = _operands(input, other, "where")
    try:
        out = _make(np.where(cond, x, y))
    except ValueError:
        raise _broadcast_error("where", x, y) from None
    if out._data.dtype == np.float64 and not (
        (a is not None and a._data.dtype == np.float64) or (b is not None and b._data.dtype == np.float64)
    ):
        out._data = out._data.astype(_FLOAT32)  # two Python floats: default dtype, as PyTorch
    if rg and recording():
        node = _record(out, WhereBackward0((a, b)))
        node.a_shape, node.b_shape = _shape(a), _shape(b)
        node.condition = cond
    return out


# -- comparisons and logic (never differentiable) ------------------------------------------------------------
def _compare(fn, input, other, op):
    if not isinstance(input, Tensor):  # array-mode backward formulas
        return fn(input, other)
    _, _, x, y, _ = _operands(input, other, op)
    try:
        return _make(fn(x, y))
    except ValueError:
        raise _broadcast_error(op, x, y) from None


def eq(input, other):
    """Elementwise ``input == other`` as a bool tensor."""
    return _compare(np.equal, input, other, "eq")


def ne(input, other):
    """Elementwise ``input != other`` as a bool tensor."""
    return _compare(np.not_equal, input, other, "ne")


def lt(input, other):
    """Elementwise ``input < other`` as a bool tensor."""
    return _compare(np.less, input, other, "lt")


def le(input, other):
    """Elementwise ``input <= other`` as a bool tensor."""
    return _compare(np.less_equal, input, other, "le")


def gt(input, other):
    """Elementwise ``input > other`` as a bool tensor."""
    return _compare(np.greater, input, other, "gt")


def ge(input, other):
    """Elementwise ``input >= other`` as a bool tensor."""
    return _compare(np.greater_equal, input, other, "ge")


def logical_not(input):
    """Elementwise logical not (bool result)."""
    return _make(np.logical_not(input._data))


def logical_and(input, other):
    """Elementwise logical and (bool result)."""
    return _compare(np.logical_and, input, other, "logical_and")


def logical_or(input, other):
    """Elementwise logical or (bool result)."""
    return _compare(np.logical_or, input, other, "logical_or")


def logical_xor(input, other):
    """Elementwise logical xor (bool result)."""
    return _compare(np.logical_xor, input, other, "logical_xor")


def _bitwise(fn, input, other, op):
    _, _, x, y, _ = _operands(input, other, op)
    if np.result_type(x, y).kind not in "biu":
        raise RuntimeError(f'"{op}_cpu" not implemented for floating point tensors; use integer or bool tensors')
    return _make(fn(x, y))


def bitwise_not(input):
    """Elementwise bitwise not (logical not for bool tensors)."""
    if input._data.dtype.kind not in "biu":
        raise RuntimeError('"bitwise_not_cpu" not implemented for floating point tensors')
    return _make(np.invert(input._data))


def bitwise_and(input, other):
    """Elementwise ``&`` of integer or bool tensors."""
    return _bitwise(np.bitwise_and, input, other, "bitwise_and")


def bitwise_or(input, other):
    """Elementwise ``|`` of integer or bool tensors."""
    return _bitwise(np.bitwise_or, input, other, "bitwise_or")


def bitwise_xor(input, other):
    """Elementwise ``^`` of integer or bool tensors."""
    return _bitwise(np.bitwise_xor, input, other, "bitwise_xor")


def isnan(input):
    """Elementwise NaN test."""
    return _make(np.isnan(input._data))


def isinf(input):
    """Elementwise infinity test."""
    return _make(np.isinf(input._data))


def isfinite(input):
    """Elementwise finiteness test."""
    return _make(np.isfinite(input._data))


# -- copies and casts ----------------------------------------------------------------------------------------
class ToCopyBackward0(Node):
    __slots__ = ("dtype",)
    array_backward = True

    def backward(self, grad):
        return (to_dtype(grad, self.dtype),)


def to_dtype(input, np_dtype, copy=False):
    """``input`` converted to numpy dtype ``np_dtype``; gradients flow back in the original dtype."""
    if not isinstance(input, Tensor):
        return input.astype(np_dtype, copy=False)
    data = input._data
    if data.dtype is np_dtype or data.dtype == np_dtype:
        return clone(input) if copy else input
    out = _make(data.astype(np_dtype))
    if input._requires_grad and recording() and out._data.dtype.kind == "f":
        node = _record(out, ToCopyBackward0((input,)))
        node.dtype = data.dtype
    return out


class CloneBackward0(Node):
    __slots__ = ()
    array_backward = True

    def backward(self, grad):
        return (grad,)


def clone(input):
    """A copy with its own storage; gradients pass through unchanged."""
    out = _make(input._data.copy())
    if input._requires_grad and recording():
        _record(out, CloneBackward0((input,)))
    return out

