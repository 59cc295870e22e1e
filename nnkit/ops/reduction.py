"""Reductions: sum, mean, prod, max/min, amax/amin, var/std, logsumexp, norm, softmax, argmax, all/any.

``dim`` is None (every dimension), an int, or a tuple/list of ints (an empty one also means every dimension,
as in PyTorch); negative dims count from the end, and a 0-dim tensor accepts ``dim`` 0 or -1. ``keepdim=True``
leaves each reduced dimension with size 1. Backward formulas put the gradient back into keepdim form and
broadcast it with ``expand``; they use only operators and ops that also accept numpy arrays, so each formula
runs on arrays in plain backward and on Tensors under ``create_graph`` (see nnkit.autograd.node). Masks that
pick elements (ties of max, zeros of prod) are constants computed from the numpy data.
"""

import builtins
import math
import warnings
from collections import namedtuple

import numpy as np

from nnkit import dtypes
from nnkit.autograd.grad_mode import recording
from nnkit.autograd.node import Node, saved_output
from nnkit.ops.broadcast import expand
from nnkit.ops.elementwise import abs, exp, maximum, minimum, sign, to_dtype, where
from nnkit.tensor import Tensor, _dim, _make

__all__ = [
    "sum", "mean", "prod", "max", "min", "amax", "amin", "var", "std", "logsumexp", "norm", "softmax",
    "log_softmax", "argmax", "argmin", "all", "any",
]

_INT64 = np.dtype(np.int64)
_FLOAT32 = dtypes.DEFAULT_FLOAT
# PyTorch's names for dtypes in error messages ("Got: Long").
_TORCH_NAMES = {
    "float16": "Half", "float32": "Float", "float64": "Double", "uint8": "Byte", "int8": "Char",
    "int16": "Short", "int32": "Int", "int64": "Long", "bool": "Bool",
}


# -- helpers ---------------------------------------------------------------------------------------------------
def _axes(dim, ndim, op):
    """Normalised axes of a reduction: None for every dimension, else a sorted tuple (() for a 0-dim tensor)."""
    if dim is None:
        return None
    if isinstance(dim, (tuple, list)):
        if not dim:
            return None
        axes = [_dim(d, ndim, op) for d in dim]
        if len(set(axes)) != len(axes):
            repeated = next(a for a in axes if axes.count(a) > 1)
            raise RuntimeError(
                f"dim {repeated} appears multiple times in the list of dims ({op} over dims {list(dim)})"
            )
        return tuple(sorted(axes)) if ndim else ()
    d = _dim(dim, ndim, op)
    return (d,) if ndim else ()


def _kept(shape, axes):
    """``shape`` with the reduced ``axes`` (None: all) set to 1: the keepdim form of a reduction's result."""
    if axes is None:
        return (1,) * len(shape)
    return tuple(1 if i in axes else s for i, s in enumerate(shape))


def _dropped(shape, axes):
    """``shape`` without the reduced ``axes`` (None: all): the result shape when ``keepdim`` is False."""
    if axes is None:
        return ()
    return tuple(s for i, s in enumerate(shape) if i not in axes)


def _count(shape, axes):
    """How many elements each reduction combines."""
    n = 1
    for i, s in enumerate(shape):
        if axes is None or i in axes:
            n *= s
    return n


def _arr(x):
    return x._data if isinstance(x, Tensor) else x


def _reshape(x, shape):
    return x if x.shape == shape else x.reshape(shape)


_FILL_LIMIT = 4096  # elements: below it, a filled array is cheaper to make than a broadcast view


def _expand_grad(grad, node):
    """The output gradient in keepdim form, broadcast to the input's shape.

    In array mode, a single value spread over a small input is written into a new array: numpy's
    ``broadcast_to`` costs several times more than that, and the view would be copied anyway if it became a
    leaf's ``.grad``. A large input gets the read-only view (no memory).
    """
    if type(grad) is np.ndarray and grad.size == 1:
        shape = node.shape
        if math.prod(shape) <= _FILL_LIMIT:
            out = np.empty(shape, grad.dtype)
            out[...] = grad
            return out
    return expand(_reshape(grad, node.kept), node.shape)


def _back_to(grad, node):
    """Cast an input gradient back to the input's dtype when the op computed in another (``dtype=``)."""
    return grad if node.in_dtype is None else to_dtype(grad, node.in_dtype)


def _record(out, node):
    out._requires_grad = True
    out.grad_fn = node
    return node


def _target_dtype(data, dtype):
    """``data`` converted to ``dtype`` (an nnkit dtype or None) and the original dtype if it changed."""
    if dtype is None:
        return data, None
    np_dtype = dtypes.to_numpy(dtype)
    if data.dtype == np_dtype:
        return data, None
    return data.astype(np_dtype), data.dtype


def _torch_name(np_dtype):
    return _TORCH_NAMES.get(np_dtype.name, np_dtype.name)


def _share(mask, axes, dtype):
    """``mask / (number of True per reduced slice)`` in ``dtype``: an even split among tied elements."""
    return (mask / mask.sum(axis=axes, keepdims=True)).astype(dtype, copy=False)


def _check_nonempty(data, axes, op):
    """PyTorch's errors for a max-like reduction with no identity over an empty slice."""
    if axes is None:
        if data.size == 0:
            raise RuntimeError(
                f"{op}(): Expected reduction dim to be specified for input.numel() == 0. Specify the reduction "
                f"dim with the 'dim' argument. (The input has shape {list(data.shape)}.)"
            )
        return
    for a in axes:
        if data.shape[a] == 0:
            raise IndexError(
                f"{op}(): Expected reduction dim {a} to have non-zero size. (The input has shape "
                f"{list(data.shape)}.)"
            )


# -- sum, mean, prod -------------------------------------------------------------------------------------------
class SumBackward0(Node):
    """Sum over all dimensions."""

    __slots__ = ("shape", "kept", "in_dtype")
    array_backward = True

    def backward(self, grad):
        return (_back_to(_expand_grad(grad, self), self),)


class SumBackward1(SumBackward0):
    """Sum over some dimensions."""

    __slots__ = ()


def sum(input, dim=None, keepdim=False, *, dtype=None):
    """Sum of the elements over ``dim`` (None: all); bool and integer tensors sum to int64.

    Args:
        input: the tensor.
        dim: an int, a tuple of ints, or None for every dimension.
        keepdim: keep each reduced dimension with size 1.
        dtype: compute and return in this dtype (the gradient flows back in the input's dtype).

    Example::

        nk.tensor([[1., 2.], [3., 4.]]).sum(1)    # tensor([3., 7.])
    """
    if not isinstance(input, Tensor):  # array-mode backward formulas (dim already normalised)
        return np.sum(input, axis=dim, keepdims=keepdim)
    data = input._data
    axes = _axes(dim, data.ndim, "sum")
    data, in_dtype = _target_dtype(data, dtype)
    if data.dtype.kind in "biu":
        out = _make(data.sum(axis=axes, keepdims=keepdim, dtype=_INT64))
    else:
        out = _make(data.sum(axis=axes, keepdims=keepdim))
    if input._requires_grad and recording() and out._data.dtype.kind == "f":
        node = _record(out, (SumBackward0 if axes is None else SumBackward1)((input,)))
        node.shape, node.kept, node.in_dtype = input._data.shape, _kept(data.shape, axes), in_dtype
    return out


class MeanBackward0(Node):
    """Mean over all dimensions."""

    __slots__ = ("shape", "kept", "in_dtype", "n")
    array_backward = True

    def backward(self, grad):
        return (_back_to(_expand_grad(grad / self.n, self), self),)


class MeanBackward1(MeanBackward0):
    """Mean over some dimensions."""

    __slots__ = ()


def mean(input, dim=None, keepdim=False, *, dtype=None):
    """Arithmetic mean over ``dim`` (None: all) of a floating tensor; the mean of no elements is nan.

    Integer tensors need ``dtype=`` a floating dtype (or ``.float()`` first), as in PyTorch.

    Example::

        nk.tensor([[1., 2.], [3., 5.]]).mean(0)   # tensor([2., 3.5])
    """
    if not isinstance(input, Tensor):  # array-mode backward formulas
        return np.mean(input, axis=dim, keepdims=keepdim)
    data = input._data
    axes = _axes(dim, data.ndim, "mean")
    if dtype is not None and dtypes.to_numpy(dtype).kind != "f":
        raise RuntimeError(
            "mean(): could not infer output dtype. Optional dtype must be either a floating point or complex "
            f"dtype. Got: {_torch_name(dtypes.to_numpy(dtype))}"
        )
    data, in_dtype = _target_dtype(data, dtype)
    if data.dtype.kind != "f":
        raise RuntimeError(
            "mean(): could not infer output dtype. Input dtype must be either a floating point or complex "
            f"dtype. Got: {_torch_name(data.dtype)} (convert with .float() or pass dtype=nnkit.float32)"
        )
    n = _count(data.shape, axes)
    total = data.sum(axis=axes, keepdims=keepdim)
    if n:
        out = _make(total / n)
    else:
        with np.errstate(invalid="ignore"):
            out = _make(total / n)
    if input._requires_grad and recording():
        node = _record(out, (MeanBackward0 if axes is None else MeanBackward1)((input,)))
        node.shape, node.kept, node.in_dtype, node.n = input._data.shape, _kept(data.shape, axes), in_dtype, n
    return out


class ProdBackward0(Node):
    """Product over all dimensions."""

    __slots__ = ("shape", "kept", "in_dtype", "axes")
    array_backward = True
    saved_names = ("self", "result")

    def backward(self, grad):
        x, result = self.saved()
        if self.in_dtype is not None:
            x = to_dtype(x, _arr(result).dtype)
        g = _expand_grad(grad, self)
        if x.ndim == 0:
            return (_back_to(g, self),)
        zero = _arr(x) == 0
        if not zero.any():
            return (_back_to(g * (_reshape(result, self.kept) / x), self),)
        # d prod / d x_j = product of the other elements. With zeros present result / x is 0/0, so the product
        # of the nonzero elements P and the sum S of the zero elements (value 0, slope 1) rebuild it in a form
        # whose own derivative is also right (for create_graph): one zero at i gives P at i and S * P / x_j
        # elsewhere; two zeros give (S - x_j) * P at each zero; more zeros give 0.
        axes = self.axes
        count = zero.sum(axis=axes, keepdims=True)
        safe = where(zero, 1.0, x)
        p = prod(safe, axes, True)
        s = sum(where(zero, x, 0.0), axes, True)
        at_nonzero = p / safe * where(count == 0, 1.0, where(count == 1, s, 0.0))
        at_zero = p * where(count == 1, 1.0, where(count == 2, s - x, 0.0))
        return (_back_to(g * where(zero, at_zero, at_nonzero), self),)


class ProdBackward1(ProdBackward0):
    """Product over some dimensions."""

    __slots__ = ()


def prod(input, dim=None, keepdim=False, *, dtype=None):
    """Product of the elements over ``dim`` (None: all); bool and integer tensors give int64.

    The gradient is exact when elements are zero (it is the product of the other elements).

    Example::

        nk.tensor([[1., 2.], [3., 4.]]).prod(1)   # tensor([2., 12.])
    """
    if not isinstance(input, Tensor):  # array-mode backward formulas
        return np.prod(input, axis=dim, keepdims=keepdim)
    data = input._data
    axes = _axes(dim, data.ndim, "prod")
    data, in_dtype = _target_dtype(data, dtype)
    if data.dtype.kind in "biu":
        out = _make(data.prod(axis=axes, keepdims=keepdim, dtype=_INT64))
    else:
        out = _make(data.prod(axis=axes, keepdims=keepdim))
    if input._requires_grad and recording() and out._data.dtype.kind == "f":
        node = _record(out, (ProdBackward0 if axes is None else ProdBackward1)((input,)))
        node.shape, node.kept, node.in_dtype, node.axes = input._data.shape, _kept(data.shape, axes), in_dtype, axes
        node.save(input, saved_output(out))
    return out


# -- max, min, amax, amin --------------------------------------------------------------------------------------
def _return_type(name):
    """A (values, indices) named tuple printed as PyTorch prints ``torch.return_types.max``."""

    def __repr__(self):
        return f"nnkit.return_types.{name}(\nvalues={self.values!r},\nindices={self.indices!r})"

    base = namedtuple(name, ("values", "indices"))
    return type(name, (base,), {"__slots__": (), "__repr__": __repr__, "__module__": __name__})


_MaxResult = _return_type("max")
_MinResult = _return_type("min")


class _EvenSplit(Node):
    """Backward of a reduction that picks extreme values: tied extremes share the gradient evenly."""

    __slots__ = ("shape", "kept", "axes")
    array_backward = True
    saved_names = ("self", "result")

    def backward(self, grad):
        x, result = self.saved()
        xd = _arr(x)
        rd = _reshape(_arr(result), self.kept)
        mask = xd == rd
        if xd.dtype.kind == "f":
            # A nan result came from nan inputs: they are the ones that "won".
            mask |= np.isnan(xd) & np.isnan(rd)
        return (_expand_grad(grad, self) * _share(mask, self.axes, xd.dtype),)


class MaxBackward1(_EvenSplit):
    """``max(input)`` over all elements."""

    __slots__ = ()


class MinBackward1(_EvenSplit):
    """``min(input)`` over all elements."""

    __slots__ = ()


class AmaxBackward0(_EvenSplit):
    __slots__ = ()


class AminBackward0(_EvenSplit):
    __slots__ = ()


class _Selected(Node):
    """Backward of ``max(dim)``/``min(dim)``: the gradient goes to the returned index only."""

    __slots__ = ("shape", "kept", "dim", "indices")
    array_backward = True

    def backward(self, grad):
        shape, d = self.shape, self.dim
        if not shape:
            return (grad,)
        positions = np.arange(shape[d]).reshape((-1,) + (1,) * (len(shape) - d - 1))
        mask = positions == self.indices.reshape(self.kept)
        return (_expand_grad(grad, self) * mask.astype(_arr(grad).dtype, copy=False),)


class MaxBackward0(_Selected):
    """``max(input, dim)``."""

    __slots__ = ()


class MinBackward0(_Selected):
    """``min(input, dim)``."""

    __slots__ = ()


def _extreme(input, dim, keepdim, op):
    """max/min: over all elements, along one dim (values and indices), or elementwise against a tensor."""
    if isinstance(dim, Tensor):
        if keepdim:
            raise TypeError(f"{op}(input, other): keepdim is not an argument of the elementwise {op}")
        return (maximum if op == "max" else minimum)(input, dim)
    data = input._data
    is_max = op == "max"
    if dim is None:
        _check_nonempty(data, None, op)
        out = _make(data.max() if is_max else data.min())
        if input._requires_grad and recording():
            node = _record(out, (MaxBackward1 if is_max else MinBackward1)((input,)))
            node.shape, node.kept, node.axes = data.shape, _kept(data.shape, None), None
            node.save(input, saved_output(out))
        return out
    if isinstance(dim, (tuple, list)):
        raise TypeError(
            f"{op}() received an invalid combination of arguments - got (tuple), but expected one of: (), "
            f"(Tensor other), (int dim, bool keepdim = False). (Reduce over several dims with a{op}().)"
        )
    d = _dim(dim, data.ndim, op)
    if data.ndim == 0:
        values, indices = data.copy(), np.zeros((), _INT64)
    else:
        _check_nonempty(data, (d,), op)
        pick = np.argmax if is_max else np.argmin
        indices = pick(data, axis=d, keepdims=True)
        values = np.take_along_axis(data, indices, axis=d)
        if not keepdim:
            values, indices = values.squeeze(d), indices.squeeze(d)
        indices = indices.astype(_INT64, copy=False)
    out = _make(values)
    if input._requires_grad and recording():
        node = _record(out, (MaxBackward0 if is_max else MinBackward0)((input,)))
        node.shape, node.kept, node.dim, node.indices = data.shape, _kept(data.shape, (d,)), d, indices
    return (_MaxResult if is_max else _MinResult)(out, _make(indices))


def max(input, dim=None, keepdim=False):
    """The largest element; along ``dim``, a ``(values, indices)`` named tuple; with a tensor, ``maximum``.

    Over all elements, tied maxima share the gradient evenly. Along ``dim`` the index is the first maximum's
    and the gradient goes to that element only; indices are int64 and carry no gradient. nan counts as the
    largest value.

    Example::

        x = nk.tensor([[1., 5.], [7., 2.]])
        x.max()                # tensor(7.)
        x.max(1).indices       # tensor([1, 0])
    """
    return _extreme(input, dim, keepdim, "max")


def min(input, dim=None, keepdim=False):
    """The smallest element; along ``dim``, a ``(values, indices)`` named tuple; with a tensor, ``minimum``.

    Gradient and tie rules as in :func:`max`.
    """
    return _extreme(input, dim, keepdim, "min")


def _amax_amin(input, dim, keepdim, op, node_class):
    data = input._data
    axes = _axes(dim, data.ndim, op)
    _check_nonempty(data, axes, op)
    out = _make(data.max(axis=axes, keepdims=keepdim) if op == "amax" else data.min(axis=axes, keepdims=keepdim))
    if input._requires_grad and recording():
        node = _record(out, node_class((input,)))
        node.shape, node.kept, node.axes = data.shape, _kept(data.shape, axes), axes
        node.save(input, saved_output(out))
    return out


def amax(input, dim=(), keepdim=False):
    """Maximum over ``dim`` (an int or tuple; ``()`` means every dimension); tied maxima share the gradient.

    Example::

        nk.tensor([1., 3., 3.], requires_grad=True).amax()   # gradient [0., .5, .5]
    """
    if not isinstance(input, Tensor):  # array-mode backward formulas
        return np.max(input, axis=dim, keepdims=keepdim)
    return _amax_amin(input, dim, keepdim, "amax", AmaxBackward0)


def amin(input, dim=(), keepdim=False):
    """Minimum over ``dim`` (an int or tuple; ``()`` means every dimension); tied minima share the gradient."""
    if not isinstance(input, Tensor):  # array-mode backward formulas
        return np.min(input, axis=dim, keepdims=keepdim)
    return _amax_amin(input, dim, keepdim, "amin", AminBackward0)


# -- var, std ----------------------------------------------------------------------------------------------------
def _var_input_grad(grad, x, node):
    """d var / d x times ``grad`` (keepdim form), PyTorch's var_backward including its dof <= 0 cases."""
    g = _expand_grad(grad, node)
    dof = node.n - node.correction
    if dof <= 0 and (node.axes is None or x.ndim == 0):
        # 2 / dof is infinite: the gradient is inf, or nan where x equals the mean (inf * 0).
        xd = _arr(x)
        return g * np.where(xd == xd.mean(), np.nan, np.inf).astype(xd.dtype, copy=False)
    factor = 2.0 / dof if dof else float("inf")
    return g * (x - mean(x, node.axes, True)) * factor


class VarBackward0(Node):
    __slots__ = ("shape", "kept", "axes", "n", "correction")
    array_backward = True
    saved_names = ("self",)

    def backward(self, grad):
        (x,) = self.saved()
        return (_var_input_grad(grad, x, self),)

    @property
    def _saved_correction(self):
        return self.correction


class StdBackward0(VarBackward0):
    __slots__ = ()
    saved_names = ("self", "result")

    def backward(self, grad):
        x, result = self.saved()
        # d std = d var / (2 std); PyTorch takes it as 0 where std is 0.
        zero = _arr(result) == 0
        grad = where(zero, 0.0, grad / (where(zero, 1.0, result) * 2))
        return (_var_input_grad(grad, x, self),)


def _variance(input, dim, unbiased, keepdim, correction, op):
    """(variance array, axes, number of elements per slice, correction) for var and std."""
    if isinstance(dim, bool):  # var(x, True): the old (unbiased) overload
        dim, unbiased = None, dim
    if unbiased is not None and correction is not None:
        raise TypeError(f"{op}(): pass either unbiased or correction, not both (unbiased=False is correction=0)")
    if correction is None:
        correction = 0 if unbiased is False else 1
    data = input._data
    if data.dtype.kind != "f":
        raise RuntimeError(
            f"std and var only support floating point and complex dtypes (got {input.dtype}; convert with "
            ".float() first)"
        )
    axes = _axes(dim, data.ndim, op)
    n = _count(data.shape, axes)
    dof = n - correction
    if dof <= 0:
        warnings.warn(
            f"{op}(): degrees of freedom is <= 0. Correction should be strictly less than the reduction factor "
            f"(input numel divided by output numel). (Reducing {n} elements with correction={correction}.)",
            UserWarning,
            stacklevel=3,
        )
    with np.errstate(divide="ignore", invalid="ignore"):
        centered = data - data.sum(axis=axes, keepdims=True) / n
        squares = np.square(centered).sum(axis=axes, keepdims=keepdim)
        result = squares / builtins.max(0, dof)
    return result, axes, n, correction


def var(input, dim=None, unbiased=None, keepdim=False, *, correction=None):
    """Variance over ``dim`` (None: all): ``sum((x - mean)**2) / max(0, N - correction)``.

    Args:
        dim: an int, a tuple of ints, or None for every dimension.
        unbiased: False is the same as ``correction=0``.
        correction: Bessel's correction, 1 by default (the sample variance); 0 gives the population variance.
            ``N - correction <= 0`` warns and gives inf or nan, as in PyTorch.

    Example::

        nk.tensor([1., 2., 4.]).var()                 # tensor(2.3333)
        nk.tensor([1., 2., 4.]).var(correction=0)     # tensor(1.5556)
    """
    result, axes, n, correction = _variance(input, dim, unbiased, keepdim, correction, "var")
    out = _make(result)
    if input._requires_grad and recording():
        node = _record(out, VarBackward0((input,)))
        node.shape, node.kept, node.axes = input._data.shape, _kept(input._data.shape, axes), axes
        node.n, node.correction = n, correction
        node.save(input)
    return out


def std(input, dim=None, unbiased=None, keepdim=False, *, correction=None):
    """Standard deviation over ``dim``: the square root of :func:`var` with the same arguments.

    Where the standard deviation is 0 the gradient is 0 (as in PyTorch), not inf.
    """
    result, axes, n, correction = _variance(input, dim, unbiased, keepdim, correction, "std")
    out = _make(np.sqrt(result))
    if input._requires_grad and recording():
        node = _record(out, StdBackward0((input,)))
        node.shape, node.kept, node.axes = input._data.shape, _kept(input._data.shape, axes), axes
        node.n, node.correction = n, correction
        node.save(input, saved_output(out))
    return out


# -- logsumexp, norm ---------------------------------------------------------------------------------------------
class LogsumexpBackward0(Node):
    __slots__ = ("shape", "kept")
    array_backward = True
    saved_names = ("self", "result")

    def backward(self, grad):
        x, result = self.saved()
        return (_expand_grad(grad, self) * exp(x - _reshape(result, self.kept)),)


def logsumexp(input, dim, keepdim=False):
    """``log(sum(exp(input)))`` over ``dim``, computed stably by factoring out the maximum.

    A slice of only ``-inf`` gives ``-inf`` (not nan); an empty slice gives ``-inf``. Integer tensors are
    converted to float32.

    Example::

        nk.tensor([1e4, 1e4]).logsumexp(0)    # tensor(10000.6934)
    """
    data = input._data
    axes = _axes(dim, data.ndim, "logsumexp")
    if data.dtype.kind != "f":
        data = data.astype(_FLOAT32)
    peak = np.max(data, axis=axes, keepdims=True, initial=-np.inf)
    # An infinite peak (a slice of -inf, or containing +inf) is not subtracted: inf - inf would be nan.
    peak = np.where(np.isfinite(peak), peak, 0).astype(data.dtype, copy=False)
    with np.errstate(divide="ignore"):
        total = np.log(np.exp(data - peak).sum(axis=axes, keepdims=True)) + peak
    out = _make(total if keepdim else total.reshape(_dropped(data.shape, axes)))
    if input._requires_grad and recording():
        node = _record(out, LogsumexpBackward0((input,)))
        node.shape, node.kept = data.shape, _kept(data.shape, axes)
        node.save(input, saved_output(out))
    return out


class LinalgVectorNormBackward0(Node):
    """Backward of every vector p-norm (PyTorch records ``norm`` as ``linalg.vector_norm``)."""

    __slots__ = ("shape", "kept", "axes", "p", "in_dtype")
    array_backward = True
    saved_names = ("self", "result")

    def backward(self, grad):
        x, result = self.saved()
        if self.in_dtype is not None:
            x = to_dtype(x, _arr(result).dtype)
        p = self.p
        g = _expand_grad(grad, self)
        if p == 0:
            return (_back_to(g * 0, self),)
        if p == 1:
            return (_back_to(g * sign(x), self),)
        r = _reshape(result, self.kept)
        rd = _arr(r)
        if p == float("inf") or p == float("-inf"):
            # Every element whose |x| equals the norm shares the gradient evenly (as in amax/amin).
            ad = np.abs(_arr(x))
            mask = (ad == rd) | np.isnan(ad)
            return (_back_to(g * sign(x) * _share(mask, self.axes, ad.dtype), self),)
        # Where the norm is 0 the gradient is taken as 0 (PyTorch), not the nan of 0 / 0.
        zero_norm = rd == 0
        safe_r = where(zero_norm, 1.0, r)
        if p == 2:
            return (_back_to(x * where(zero_norm, 0.0, g / safe_r), self),)
        zero_x = _arr(x) == 0
        slope = where(zero_x, 0.0, sign(x) * where(zero_x, 1.0, abs(x)) ** (p - 1))
        return (_back_to(slope * where(zero_norm, 0.0, g / safe_r ** (p - 1)), self),)


def norm(input, p="fro", dim=None, keepdim=False, dtype=None):
    """The vector p-norm ``sum(|x|**p) ** (1/p)`` over ``dim`` (None: all elements).

    Args:
        p: ``'fro'`` (the 2-norm; at most two dims), a number, ``inf`` (max |x|), ``-inf`` (min |x|), or 0
            (the count of nonzero elements).
        dim: an int, a tuple of ints, or None for every dimension.
        dtype: compute and return in this floating dtype.

    The gradient where the norm is 0 is 0 (for p=2, the gradient at the zero vector), as in PyTorch.

    Example::

        nk.tensor([3., 4.]).norm()          # tensor(5.)
        nk.tensor([3., -4.]).norm(p=1)      # tensor(7.)
    """
    data = input._data
    axes = _axes(dim, data.ndim, "norm")
    if isinstance(p, str):
        if p != "fro":
            raise RuntimeError(
                f"norm: p={p!r} is not supported by nnkit (only 'fro' and numeric p; matrix norms such as "
                "'nuc' are not implemented)"
            )
        if axes is not None and len(axes) > 2:
            raise RuntimeError(f"linalg.matrix_norm: dim must be a 2-tuple. Got {' '.join(map(str, dim))}")
        p = 2
    data, in_dtype = _target_dtype(data, dtype)
    if data.dtype.kind != "f":
        raise RuntimeError(
            "linalg.vector_norm: Expected a floating point or complex tensor as input. Got "
            f"{_torch_name(data.dtype)} (convert with .float() or pass dtype=nnkit.float32)"
        )
    a = np.abs(data)
    if p == float("inf") or p == float("-inf"):
        if data.size == 0:
            raise RuntimeError(
                "linalg.vector_norm cannot compute the inf norm on an empty tensor because the operation does "
                f"not have an identity (input shape {list(data.shape)})"
            )
        result = a.max(axis=axes, keepdims=keepdim) if p > 0 else a.min(axis=axes, keepdims=keepdim)
    elif p == 0:
        result = (a != 0).sum(axis=axes, keepdims=keepdim).astype(data.dtype)
    elif p == 1:
        result = a.sum(axis=axes, keepdims=keepdim)
    elif p == 2:
        result = np.sqrt(np.square(data).sum(axis=axes, keepdims=keepdim))
    else:
        result = (a ** p).sum(axis=axes, keepdims=keepdim) ** (1.0 / p)
    out = _make(result)
    if input._requires_grad and recording():
        node = _record(out, LinalgVectorNormBackward0((input,)))
        node.shape, node.kept, node.axes, node.p, node.in_dtype = data.shape, _kept(data.shape, axes), axes, p, in_dtype
        node.save(input, saved_output(out))
    return out


# -- softmax, log_softmax ----------------------------------------------------------------------------------------
def _softmax_input(input, dim, dtype, op):
    """(float array, axis or None for a 0-dim tensor, original dtype if ``dtype`` changed it)."""
    if dim is None or isinstance(dim, (tuple, list)):
        raise TypeError(
            f"{op}(): argument 'dim' (position 1) must be int, not {type(dim).__name__} (nnkit has no implicit "
            "softmax dim: pass e.g. dim=-1)"
        )
    data, in_dtype = _target_dtype(input._data, dtype)
    if data.dtype.kind != "f":
        raise NotImplementedError(
            f'"{op}_lastdim_kernel_impl" not implemented for \'{_torch_name(data.dtype)}\' (pass '
            "dtype=nnkit.float32 or convert with .float())"
        )
    d = _dim(dim, data.ndim, op)
    return data, (d if data.ndim else None), in_dtype


def _shifted(data, axis):
    """``data`` minus its maximum along ``axis``: every value <= 0, so exp never overflows."""
    return data - np.max(data, axis=axis, keepdims=True, initial=-np.inf)


class SoftmaxBackward0(Node):
    __slots__ = ("dim", "in_dtype")
    array_backward = True
    saved_names = ("result",)

    def backward(self, grad):
        (y,) = self.saved()
        gy = grad * y
        return (_back_to(gy - y * sum(gy, self.dim, True), self),)


def softmax(input, dim, dtype=None):
    """``exp(x) / sum(exp(x))`` along ``dim``, computed after subtracting the maximum (finite for huge logits).

    Args:
        dim: the dimension whose entries sum to 1 (required).
        dtype: compute and return in this floating dtype.

    Example::

        nk.tensor([1e4, -1e4]).softmax(0)    # tensor([1., 0.])
    """
    data, axis, in_dtype = _softmax_input(input, dim, dtype, "softmax")
    e = np.exp(_shifted(data, axis))
    out = _make(e / e.sum(axis=axis, keepdims=True))
    if input._requires_grad and recording():
        node = _record(out, SoftmaxBackward0((input,)))
        node.dim, node.in_dtype = axis, in_dtype
        node.save_result(out)
    return out


class LogSoftmaxBackward0(Node):
    __slots__ = ("dim", "in_dtype")
    array_backward = True
    saved_names = ("result",)

    def backward(self, grad):
        (y,) = self.saved()
        return (_back_to(grad - exp(y) * sum(grad, self.dim, True), self),)


def log_softmax(input, dim, dtype=None):
    """``log(softmax(input))`` along ``dim``, as ``x - max - log(sum(exp(x - max)))``: never log(0).

    Example::

        nk.tensor([1e4, -1e4]).log_softmax(0)    # tensor([0., -20000.])
    """
    data, axis, in_dtype = _softmax_input(input, dim, dtype, "log_softmax")
    shifted = _shifted(data, axis)
    out = _make(shifted - np.log(np.exp(shifted).sum(axis=axis, keepdims=True)))
    if input._requires_grad and recording():
        node = _record(out, LogSoftmaxBackward0((input,)))
        node.dim, node.in_dtype = axis, in_dtype
        node.save_result(out)
    return out


# -- argmax, argmin, all, any (no gradient) ----------------------------------------------------------------------
def _arg_extreme(input, dim, keepdim, op):
    data = input._data
    if data.dtype == np.bool_:
        raise RuntimeError(f"{op}(): does not support bool input (convert with .long() or .float() first)")
    pick = np.argmax if op == "argmax" else np.argmin
    if dim is None:
        if data.size == 0:
            raise IndexError(
                f"{op}(): Expected reduction dim to be specified for input.numel() == 0. (The input has shape "
                f"{list(data.shape)}.)"
            )
        index = np.asarray(pick(data), dtype=_INT64)
        return _make(index.reshape((1,) * data.ndim) if keepdim else index)
    d = _dim(dim, data.ndim, op)
    if data.ndim == 0:
        return _make(np.zeros((), _INT64))
    _check_nonempty(data, (d,), op)
    return _make(pick(data, axis=d, keepdims=keepdim).astype(_INT64, copy=False))


def argmax(input, dim=None, keepdim=False):
    """Index of the largest element (of the flattened tensor when ``dim`` is None), int64, no gradient.

    Ties give the first index, as PyTorch on the CPU.

    Example::

        nk.tensor([3., 1., 3.]).argmax()     # tensor(0)
    """
    return _arg_extreme(input, dim, keepdim, "argmax")


def argmin(input, dim=None, keepdim=False):
    """Index of the smallest element (of the flattened tensor when ``dim`` is None); ties give the first."""
    return _arg_extreme(input, dim, keepdim, "argmin")


def _logical(input, dim, keepdim, fn, op):
    data = input._data
    result = fn(data, axis=_axes(dim, data.ndim, op), keepdims=keepdim)
    # As in PyTorch, uint8 tensors give uint8 results (other types give bool).
    return _make(result.astype(np.uint8) if data.dtype == np.uint8 else np.asarray(result))


def all(input, dim=None, keepdim=False):
    """True where every element (along ``dim``; None: all) is nonzero; True for no elements. No gradient."""
    return _logical(input, dim, keepdim, np.all, "all")


def any(input, dim=None, keepdim=False):
    """True where some element (along ``dim``; None: all) is nonzero; False for no elements. No gradient."""
    return _logical(input, dim, keepdim, np.any, "any")
