"""Activation functions: relu, leaky_relu, gelu (exact and tanh), silu, sigmoid, tanh, softmax, log_softmax.

``relu``, ``sigmoid``, ``tanh``, ``softmax`` and ``log_softmax`` are the ops of :mod:`nnkit.ops`; the others
are one fused node each. Their backward formulas use operators and functions that also accept numpy arrays, so
they run on arrays in plain backward and on Tensors under ``create_graph`` (see nnkit.autograd.node).

The exact GELU needs the normal CDF, ``Phi(x) = (1 + erf(x / sqrt(2))) / 2``; numpy has no erf, so
:func:`_ndtr_array` evaluates it with W. J. Cody's rational Chebyshev approximations ("Rational Chebyshev
approximations for the error function", Math. Comp. 23, 1969), accurate to about 1e-16 relative in float64.
"""

import math
import warnings

import numpy as np

from nnkit.autograd.grad_mode import recording
from nnkit.autograd.node import Node
from nnkit.ops import elementwise as ew
from nnkit.ops import reduction
from nnkit.ops.inplace import apply_inplace
from nnkit.tensor import Tensor, _make

__all__ = ["relu", "leaky_relu", "gelu", "silu", "sigmoid", "tanh", "softmax", "log_softmax"]

_TORCH_NAMES = {"int64": "Long", "int32": "Int", "int16": "Short", "int8": "Char", "uint8": "Byte", "bool": "Bool"}


def _record(out, node):
    out._requires_grad = True
    out.grad_fn = node
    return node


def _float_input(input, op):
    """``input``'s array; PyTorch's NotImplementedError for integer and bool tensors."""
    if not isinstance(input, Tensor):
        raise TypeError(f"{op}(): argument 'input' (position 1) must be Tensor, not {type(input).__name__}")
    data = input._data
    if data.dtype.kind != "f":
        name = _TORCH_NAMES.get(data.dtype.name, data.dtype.name)
        raise NotImplementedError(
            f'"{op}_cpu" not implemented for \'{name}\' ({op} needs a floating tensor; convert with .float())'
        )
    return data


def _tanh(x):
    return np.tanh(x) if not isinstance(x, Tensor) else ew.tanh(x)


# -- the normal CDF (for the exact GELU) -------------------------------------------------------------------------
# Cody's coefficients: erf on |z| <= 0.46875; erfc * exp(z^2) on 0.46875 < z <= 4 and on z > 4 (in 1/z^2).
_A = (3.16112374387056560e00, 1.13864154151050156e02, 3.77485237685302021e02, 3.20937758913846947e03,
      1.85777706184603153e-1)
_B = (2.36012909523441209e01, 2.44024637934444173e02, 1.28261652607737228e03, 2.84423683343917062e03)
_C = (5.64188496988670089e-1, 8.88314979438837594e00, 6.61191906371416295e01, 2.98635138197400131e02,
      8.81952221241769090e02, 1.71204761263407058e03, 2.05107837782607147e03, 1.23033935479799725e03,
      2.15311535474403846e-8)
_D = (1.57449261107098347e01, 1.17693950891312499e02, 5.37181101862009858e02, 1.62138957456669019e03,
      3.29079923573345963e03, 4.36261909014324716e03, 3.43936767414372164e03, 1.23033935480374942e03)
_P = (3.05326634961232344e-1, 3.60344899949804439e-1, 1.25781726111229246e-1, 1.60837851487422766e-2,
      6.58749161529837803e-4, 1.63153871373020978e-2)
_Q = (2.56852019228982242e00, 1.87295284992346047e00, 5.27905102951428412e-1, 6.05183413124413191e-2,
      2.33520497626869185e-3)
_SQRT_HALF = math.sqrt(0.5)
_INV_SQRT_PI = 1 / math.sqrt(math.pi)
_INV_SQRT_2PI = 1 / math.sqrt(2 * math.pi)


def _horner_ratio(t, num_coeffs, den_coeffs, num_lead):
    """``(num_lead t^n + ...) / (t^n + ...)`` evaluated in place (few temporaries: these arrays can be large)."""
    num = t * num_lead
    den = t.copy()
    for a, b in zip(num_coeffs[:-1], den_coeffs[:-1]):
        num += a
        num *= t
        den += b
        den *= t
    num += num_coeffs[-1]
    den += den_coeffs[-1]
    num /= den
    return num


def _erf_small(z):
    """erf(z), accurate for |z| <= 0.46875."""
    out = _horner_ratio(z * z, _A[:4], _B, _A[4])
    out *= z
    return out


def _erfc_far(y):
    """erfc(y) for y > 4, with exp(-y^2) split into an exactly representable part and a small rest."""
    y = np.minimum(y, 40.0)  # erfc(40) underflows to 0; this also keeps y = inf from giving nan
    s = 1 / (y * y)
    ratio = (_INV_SQRT_PI - s * _horner_ratio(s, _P[:5], _Q, _P[5])) / y
    y16 = np.floor(y * 16) / 16
    return ratio * np.exp(-y16 * y16) * np.exp(-(y - y16) * (y + y16))


def _erfc_mid(y):
    """erfc(y) for y > 0.46875 (0.46875 < y <= 4 here; y > 4 is patched by ``_erfc_far``)."""
    mid = np.minimum(y, 4.0)
    out = _horner_ratio(mid, _C[:8], _D, _C[8])
    # exp(-y^2) directly: for y <= 4 its rounding error is at most ~16 ulp.
    np.square(mid, out=mid)
    np.negative(mid, out=mid)
    np.exp(mid, out=mid)
    out *= mid
    far = y > 4.0
    if far.any():
        out[far] = _erfc_far(y[far])
    return out


def _ndtr_array(x):
    """The standard normal CDF of a float array, accurate in the tails (no 1 - erf cancellation).

    ``Phi(x) = (1 + erf(z)) / 2`` with ``z = x / sqrt(2)`` where ``|z| <= 0.46875``; elsewhere
    ``erfc(|z|) / 2`` for negative ``x`` and ``1 - erfc(|z|) / 2`` for positive ``x``. Each range is evaluated
    on its own elements only.
    """
    shape = np.shape(x)
    x = np.asarray(x).reshape(-1)
    z = x * _SQRT_HALF
    y = np.abs(z)
    small = y <= 0.46875
    out = np.empty_like(z)
    inner = np.flatnonzero(small)
    if inner.size:
        erf = _erf_small(z[inner])
        erf *= 0.5
        erf += 0.5
        out[inner] = erf
    if inner.size < z.size:
        outer = np.flatnonzero(~small) if inner.size else slice(None)
        tail = _erfc_mid(y[outer])
        tail *= 0.5  # Phi(-|x|)
        np.subtract(1, tail, out=tail, where=z[outer] > 0)
        out[outer] = tail
    return out.reshape(shape)


class NdtrBackward0(Node):
    """Backward of the normal CDF: the density ``exp(-x^2 / 2) / sqrt(2 pi)``."""

    __slots__ = ()
    array_backward = True
    saved_names = ("self",)

    def backward(self, grad):
        (x,) = self.saved()
        return (grad * (ew.exp(x * x * -0.5) * _INV_SQRT_2PI),)


def _ndtr(x):
    """The standard normal CDF of an array or a Tensor (differentiable: GELU's backward uses it)."""
    if not isinstance(x, Tensor):
        return _ndtr_array(x)
    out = _make(_ndtr_array(x._data))
    if x._requires_grad and recording():
        _record(out, NdtrBackward0((x,))).save(x)
    return out


# -- relu, leaky_relu --------------------------------------------------------------------------------------------
def relu(input, inplace=False):
    """Rectified linear unit, ``max(input, 0)`` elementwise; the gradient at 0 is 0.

    Args:
        input: a tensor of any shape.
        inplace: overwrite ``input`` with the result and return it.

    Example::

        F.relu(nk.tensor([-1.0, 0.0, 2.0]))     # tensor([0., 0., 2.])
    """
    if inplace:
        return apply_inplace(input, ew.relu, kernel=_relu_kernel, op="relu_")
    return ew.relu(input)


def _relu_kernel(array):
    np.maximum(array, 0, out=array)


class LeakyReluBackward0(Node):
    __slots__ = ("negative_slope",)
    array_backward = True
    saved_names = ("self",)

    def backward(self, grad):
        (x,) = self.saved()
        return (ew.where(ew.gt(x, 0), grad, grad * self.negative_slope),)

    @property
    def _saved_negative_slope(self):
        return self.negative_slope


def _leaky_relu(input, negative_slope):
    data = _float_input(input, "leaky_relu")
    out = _make(np.where(data > 0, data, data * negative_slope))
    if input._requires_grad and recording():
        node = _record(out, LeakyReluBackward0((input,)))
        node.negative_slope = negative_slope
        node.save(input)
    return out


def leaky_relu(input, negative_slope=0.01, inplace=False):
    """``input`` where positive, else ``negative_slope * input``; the gradient at 0 is ``negative_slope``.

    Args:
        input: a floating tensor of any shape.
        negative_slope: the slope for negative inputs.
        inplace: overwrite ``input`` with the result and return it.

    Example::

        F.leaky_relu(nk.tensor([-2.0, 3.0]), 0.1)     # tensor([-0.2, 3.])
    """
    if inplace:
        _float_input(input, "leaky_relu")
        return apply_inplace(
            input, _leaky_relu, negative_slope, kernel=_leaky_relu_kernel, op="leaky_relu_"
        )
    return _leaky_relu(input, negative_slope)


def _leaky_relu_kernel(array, negative_slope):
    np.multiply(array, negative_slope, out=array, where=array <= 0)


# -- gelu ------------------------------------------------------------------------------------------------------
_GELU_K = math.sqrt(2 / math.pi)
_GELU_C = 0.044715


class GeluBackward0(Node):
    __slots__ = ("approximate",)
    array_backward = True
    saved_names = ("self",)

    def backward(self, grad):
        (x,) = self.saved()
        if self.approximate == "tanh":
            x2 = x * x
            t = _tanh((x + x2 * x * _GELU_C) * _GELU_K)
            slope = (t + 1) * 0.5 + x * (1 - t * t) * (x2 * (3 * _GELU_C) + 1) * (0.5 * _GELU_K)
        else:
            # d/dx x Phi(x) = Phi(x) + x phi(x)
            slope = _ndtr(x) + x * ew.exp(x * x * -0.5) * _INV_SQRT_2PI
        return (grad * slope,)

    @property
    def _saved_approximate(self):
        return self.approximate


def gelu(input, approximate="none"):
    """Gaussian error linear unit, ``x * Phi(x)`` with ``Phi`` the standard normal CDF.

    Args:
        input: a floating tensor of any shape.
        approximate: ``'none'`` (exact, via erf) or ``'tanh'``:
            ``0.5 x (1 + tanh(sqrt(2 / pi) (x + 0.044715 x^3)))``.

    Example::

        F.gelu(nk.tensor([-1.0, 0.0, 1.0]))     # tensor([-0.1587, 0.0000, 0.8413])
    """
    if approximate not in ("none", "tanh"):
        raise RuntimeError(f"approximate argument must be either none or tanh. (got {approximate!r})")
    x = _float_input(input, "gelu")
    if approximate == "tanh":
        out = _make(x * (np.tanh((x + x * x * x * _GELU_C) * _GELU_K) + 1) * 0.5)
    else:
        out = _make(x * _ndtr_array(x))
    if input._requires_grad and recording():
        node = _record(out, GeluBackward0((input,)))
        node.approximate = approximate
        node.save(input)
    return out


# -- silu --------------------------------------------------------------------------------------------------------
class SiluBackward0(Node):
    __slots__ = ()
    array_backward = True
    saved_names = ("self",)

    def backward(self, grad):
        (x,) = self.saved()
        s = ew.sigmoid(x)
        # d/dx x s(x) = s + x s (1 - s)
        return (grad * (s * (x * (1 - s) + 1)),)


def _silu(input):
    x = _float_input(input, "silu")
    out = _make(x * ew.sigmoid(x))
    if input._requires_grad and recording():
        _record(out, SiluBackward0((input,))).save(input)
    return out


def silu(input, inplace=False):
    """Sigmoid linear unit (swish), ``input * sigmoid(input)`` elementwise.

    Example::

        F.silu(nk.tensor([0.0, 1.0]))     # tensor([0.0000, 0.7311])
    """
    if inplace:
        _float_input(input, "silu")
        return apply_inplace(input, _silu, kernel=_silu_kernel, op="silu_")
    return _silu(input)


def _silu_kernel(array):
    array *= ew.sigmoid(array)


# -- sigmoid, tanh -----------------------------------------------------------------------------------------------
def sigmoid(input):
    """Logistic function ``1 / (1 + exp(-input))`` elementwise, stable for large ``|input|``."""
    return ew.sigmoid(input)


def tanh(input):
    """Hyperbolic tangent elementwise."""
    return ew.tanh(input)


# -- softmax, log_softmax ----------------------------------------------------------------------------------------
def _softmax_dim(name, ndim, stacklevel):
    """PyTorch's legacy choice of dimension when ``dim`` is None, with its deprecation warning."""
    warnings.warn(
        f"Implicit dimension choice for {name} has been deprecated. Change the call to include dim=X as an "
        "argument.",
        UserWarning,
        stacklevel=stacklevel,
    )
    return 0 if ndim in (0, 1, 3) else 1


def softmax(input, dim=None, _stacklevel=3, dtype=None):
    """``exp(x) / sum(exp(x))`` along ``dim``: the entries along ``dim`` are positive and sum to 1.

    Args:
        input: a floating tensor.
        dim: the dimension to normalise. None picks PyTorch's legacy default (dim 0 for 0-, 1- and 3-D
            inputs, else 1) with a deprecation warning: always pass it.
        dtype: compute and return in this floating dtype.

    Example::

        F.softmax(nk.tensor([[1.0, 1.0], [0.0, 100.0]]), dim=1)     # tensor([[0.5, 0.5], [0., 1.]])
    """
    if dim is None:
        dim = _softmax_dim("softmax", input.ndim, _stacklevel)
    return reduction.softmax(input, dim, dtype=dtype)


def log_softmax(input, dim=None, _stacklevel=3, dtype=None):
    """``log(softmax(input, dim))``, computed stably (no log of 0 for very negative logits).

    Args: as :func:`softmax`.

    Example::

        F.log_softmax(nk.tensor([0.0, 0.0]), dim=0)     # tensor([-0.6931, -0.6931])
    """
    if dim is None:
        dim = _softmax_dim("log_softmax", input.ndim, _stacklevel)
    return reduction.log_softmax(input, dim, dtype=dtype)
