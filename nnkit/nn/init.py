"""Weight initialisation: fill a tensor in place with values drawn from a chosen distribution.

Every function works in place without recording a graph (as under ``no_grad``), draws from the global
generator (so ``nk.manual_seed`` makes it reproducible; pass ``generator=`` for another one), returns the
tensor, and uses PyTorch's formulas: Xavier/Glorot (2010), Kaiming/He (2015), Saxe et al. (2013) for
``orthogonal_``. The numbers differ from PyTorch's for the same seed; their distributions do not.

Example::

    layer = nn.Linear(256, 128)
    nn.init.kaiming_normal_(layer.weight, nonlinearity="relu")
    nn.init.zeros_(layer.bias)
"""

import math
import statistics
import warnings

import numpy as np

from nnkit.autograd.grad_mode import no_grad
from nnkit.random import numpy_generator
from nnkit.tensor import Tensor

__all__ = [
    "calculate_gain", "uniform_", "normal_", "trunc_normal_", "constant_", "ones_", "zeros_", "eye_",
    "xavier_uniform_", "xavier_normal_", "kaiming_uniform_", "kaiming_normal_", "orthogonal_",
]

_LINEAR_FNS = (
    "linear", "conv1d", "conv2d", "conv3d", "conv_transpose1d", "conv_transpose2d", "conv_transpose3d", "sigmoid",
)


def calculate_gain(nonlinearity, param=None):
    """The recommended gain for a nonlinearity: the factor by which it scales the std of its input's signal.

    ============== ==========================
    nonlinearity   gain
    ============== ==========================
    linear, conv*  1
    sigmoid        1
    tanh           5/3
    relu           sqrt(2)
    leaky_relu     sqrt(2 / (1 + slope**2)) (``param`` = negative slope, default 0.01)
    selu           3/4
    ============== ==========================

    Example::

        nn.init.calculate_gain("leaky_relu", 0.2)    # 1.3867...
    """
    if nonlinearity in _LINEAR_FNS:
        return 1
    if nonlinearity == "tanh":
        return 5.0 / 3
    if nonlinearity == "relu":
        return math.sqrt(2.0)
    if nonlinearity == "leaky_relu":
        if param is None:
            negative_slope = 0.01
        elif not isinstance(param, bool) and isinstance(param, (int, float)):
            negative_slope = param
        else:
            raise ValueError(f"negative_slope {param} not a valid number")
        return math.sqrt(2.0 / (1 + negative_slope**2))
    if nonlinearity == "selu":
        return 3.0 / 4
    raise ValueError(
        f"Unsupported nonlinearity {nonlinearity} (expected one of {', '.join(_LINEAR_FNS)}, tanh, relu, "
        "leaky_relu, selu)"
    )


def _calculate_fan_in_and_fan_out(tensor):
    """``(fan_in, fan_out)`` of a weight: ``in * receptive field`` and ``out * receptive field``.

    For a Linear weight ``(out, in)`` that is ``(in, out)``; for a Conv2d weight ``(out, in, kh, kw)``,
    ``(in * kh * kw, out * kh * kw)``.
    """
    if tensor.dim() < 2:
        raise ValueError(
            "Fan in and fan out can not be computed for tensor with fewer than 2 dimensions (got shape "
            f"{list(tensor.shape)})"
        )
    receptive_field = math.prod(tensor.shape[2:])
    return tensor.shape[1] * receptive_field, tensor.shape[0] * receptive_field


def _calculate_correct_fan(tensor, mode):
    mode = mode.lower()
    if mode not in ("fan_in", "fan_out"):
        raise ValueError(f"Mode {mode} not supported, please use one of ['fan_in', 'fan_out']")
    fan_in, fan_out = _calculate_fan_in_and_fan_out(tensor)
    return fan_in if mode == "fan_in" else fan_out


def _write(tensor, values):
    """Overwrite ``tensor``'s values with the array ``values`` in place, outside the graph."""
    if not isinstance(tensor, Tensor):
        raise TypeError(f"nn.init expects a Tensor, got {type(tensor).__name__}")
    with no_grad():
        tensor.copy_(Tensor._make(np.asarray(values)))
    return tensor


def uniform_(tensor, a=0.0, b=1.0, generator=None):
    """Fill ``tensor`` with values drawn from the uniform distribution U(a, b); returns it.

    Example::

        nn.init.uniform_(w, -0.1, 0.1)
    """
    return _write(tensor, numpy_generator(generator).uniform(a, b, tensor.shape))


def normal_(tensor, mean=0.0, std=1.0, generator=None):
    """Fill ``tensor`` with values drawn from the normal distribution N(mean, std²); returns it."""
    return _write(tensor, numpy_generator(generator).normal(mean, std, tensor.shape))


def _truncated_standard_normal(rng, lo, hi, n):
    """``n`` draws from N(0, 1) conditioned on ``lo <= x <= hi``."""
    if lo > 0:  # work in the lower half, where the CDF keeps its precision
        return -_truncated_standard_normal(rng, -hi, -lo, n)
    cdf_lo = 0.5 * math.erfc(-lo / math.sqrt(2.0))
    cdf_hi = 0.5 * math.erfc(-hi / math.sqrt(2.0))
    mass = cdf_hi - cdf_lo
    if mass >= 0.1:
        # Rejection: draw normals, keep those inside; at most ~10 draws per kept value.
        kept, count = [], 0
        while count < n:
            draw = rng.standard_normal(int((n - count) / mass * 1.1) + 16)
            draw = draw[(draw >= lo) & (draw <= hi)]
            kept.append(draw)
            count += draw.size
        return np.concatenate(kept)[:n]
    # A narrow interval (or one far in a tail): invert the CDF of uniform draws between the bounds.
    tiny = np.finfo(np.float64).tiny
    u = np.clip(rng.uniform(cdf_lo, cdf_hi, n), tiny, 1.0 - 2**-53)
    return np.vectorize(statistics.NormalDist().inv_cdf, otypes=[np.float64])(u)


def trunc_normal_(tensor, mean=0.0, std=1.0, a=-2.0, b=2.0, generator=None):
    """Fill ``tensor`` with draws from N(mean, std²) truncated to ``[a, b]`` (redrawn, not clipped); returns it.

    Args:
        mean, std: of the normal distribution before truncation.
        a, b: the bounds, in the tensor's units (not in stds): ``trunc_normal_(w, std=0.02)`` keeps
            everything within ±2 (that is ±100 std).
    """
    if mean < a - 2 * std or mean > b + 2 * std:
        warnings.warn(
            "mean is more than 2 std from [a, b] in nn.init.trunc_normal_. The distribution of values may be "
            "incorrect.",
            stacklevel=2,
        )
    if not a <= b:
        raise ValueError(f"trunc_normal_: expected a <= b, got a={a} and b={b}")
    n = math.prod(tensor.shape)
    if std <= 0:
        values = np.full(n, min(max(mean, a), b), dtype=np.float64)
    else:
        z = _truncated_standard_normal(numpy_generator(generator), (a - mean) / std, (b - mean) / std, n)
        values = np.clip(mean + std * z, a, b)
    return _write(tensor, values.reshape(tensor.shape))


def constant_(tensor, val):
    """Fill ``tensor`` with the value ``val``; returns it."""
    with no_grad():
        return tensor.fill_(val)


def ones_(tensor):
    """Fill ``tensor`` with ones; returns it."""
    return constant_(tensor, 1.0)


def zeros_(tensor):
    """Fill ``tensor`` with zeros; returns it."""
    return constant_(tensor, 0.0)


def eye_(tensor):
    """Fill the 2-D ``tensor`` with the identity matrix (ones on the diagonal, also when not square)."""
    if tensor.dim() != 2:
        raise ValueError(f"Only tensors with 2 dimensions are supported (got shape {list(tensor.shape)})")
    return _write(tensor, np.eye(*tensor.shape))


def xavier_uniform_(tensor, gain=1.0, generator=None):
    """Glorot/Xavier uniform: U(-b, b) with ``b = gain * sqrt(6 / (fan_in + fan_out))``; returns the tensor.

    Keeps the variance of activations and gradients alike across layers for symmetric activations (tanh).
    """
    fan_in, fan_out = _calculate_fan_in_and_fan_out(tensor)
    std = gain * math.sqrt(2.0 / float(fan_in + fan_out))
    bound = math.sqrt(3.0) * std
    return uniform_(tensor, -bound, bound, generator)


def xavier_normal_(tensor, gain=1.0, generator=None):
    """Glorot/Xavier normal: N(0, std²) with ``std = gain * sqrt(2 / (fan_in + fan_out))``; returns the tensor."""
    fan_in, fan_out = _calculate_fan_in_and_fan_out(tensor)
    std = gain * math.sqrt(2.0 / float(fan_in + fan_out))
    return normal_(tensor, 0.0, std, generator)


def kaiming_uniform_(tensor, a=0, mode="fan_in", nonlinearity="leaky_relu", generator=None):
    """He/Kaiming uniform: U(-b, b) with ``b = gain * sqrt(3 / fan)``; returns the tensor.

    Args:
        a: the negative slope of the leaky_relu that follows (0 for relu).
        mode: ``'fan_in'`` (keeps the forward variance) or ``'fan_out'`` (keeps the backward variance).
        nonlinearity: for :func:`calculate_gain` (``'relu'`` or ``'leaky_relu'`` recommended).

    Example::

        nn.init.kaiming_uniform_(w, a=math.sqrt(5))    # what nn.Linear.reset_parameters does
    """
    if 0 in tensor.shape:
        warnings.warn("Initializing zero-element tensors is a no-op", stacklevel=2)
        return tensor
    fan = _calculate_correct_fan(tensor, mode)
    std = calculate_gain(nonlinearity, a) / math.sqrt(fan)
    bound = math.sqrt(3.0) * std
    return uniform_(tensor, -bound, bound, generator)


def kaiming_normal_(tensor, a=0, mode="fan_in", nonlinearity="leaky_relu", generator=None):
    """He/Kaiming normal: N(0, std²) with ``std = gain / sqrt(fan)``; returns the tensor.

    Arguments as :func:`kaiming_uniform_`.
    """
    if 0 in tensor.shape:
        warnings.warn("Initializing zero-element tensors is a no-op", stacklevel=2)
        return tensor
    fan = _calculate_correct_fan(tensor, mode)
    std = calculate_gain(nonlinearity, a) / math.sqrt(fan)
    return normal_(tensor, 0.0, std, generator)


def orthogonal_(tensor, gain=1, generator=None):
    """Fill ``tensor`` (2 or more dims) with a (semi-)orthogonal matrix times ``gain``; returns it.

    The tensor is seen as a matrix of shape ``(shape[0], numel // shape[0])``: its rows are orthonormal if
    it is wide, its columns if it is tall. Drawn as the Q of the QR decomposition of a Gaussian matrix,
    with signs fixed so the result is uniformly distributed (Saxe et al., 2013).
    """
    if tensor.dim() < 2:
        raise ValueError(
            f"Only tensors with 2 or more dimensions are supported (got shape {list(tensor.shape)})"
        )
    if tensor.numel() == 0:
        return tensor
    rows = tensor.shape[0]
    cols = tensor.numel() // rows
    flat = numpy_generator(generator).normal(0.0, 1.0, (rows, cols))
    if rows < cols:
        flat = flat.T
    q, r = np.linalg.qr(flat)
    q *= np.sign(np.diag(r))
    if rows < cols:
        q = q.T
    return _write(tensor, gain * q.reshape(tensor.shape))
