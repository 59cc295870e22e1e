"""Normalisation: batch_norm, layer_norm, group_norm (one fused node each) and normalize.

Each normalisation computes ``xhat = (x - mean) / sqrt(var + eps)`` over some axes (biased variance), then an
optional per-feature affine ``xhat * weight + bias``. With ``g`` the incoming gradient, ``gh = g * weight`` and
means taken over the normalised axes, the input gradient is

    dx = invstd * (gh - mean(gh) - xhat * mean(gh * xhat))

(statistics computed from the batch), or ``invstd * gh`` when the statistics are constants (batch_norm in
evaluation mode). Plain backward evaluates this on numpy arrays with the mean and ``invstd`` saved by the
forward pass. Under ``create_graph`` the statistics are recomputed from the saved input with nnkit ops, so that
the gradient is itself differentiable with respect to the input (double backward through every node here).
"""

import numpy as np

from nnkit.autograd.grad_mode import recording
from nnkit.autograd.node import Node
from nnkit.ops import elementwise as ew
from nnkit.ops import reduction, shape
from nnkit.ops.reduction import _torch_name
from nnkit.tensor import Tensor, _make

__all__ = ["batch_norm", "layer_norm", "group_norm", "normalize"]


def _needs(node, i):
    return node._next[i] is not None


def _reshape(x, new_shape):
    if not isinstance(x, Tensor):
        return x.reshape(new_shape)
    return shape.reshape(x, new_shape)


def _sum(x, axes):
    """Sum over ``axes`` keeping them (array or Tensor)."""
    return reduction.sum(x, axes, True)


def _mean(x, axes):
    return reduction.mean(x, axes, True)


def _rsqrt(x):
    return 1 / np.sqrt(x) if not isinstance(x, Tensor) else ew.rsqrt(x)


def _moments(x, axes, eps):
    """(mean, invstd) over ``axes`` (kept) of an array or a Tensor, with the biased variance."""
    mean = _mean(x, axes)
    centred = x - mean
    return mean, _rsqrt(_mean(centred * centred, axes) + eps)


def _array_moments(x, axes, eps):
    """(mean, var, invstd, xhat) of an array; an empty reduction gives nan without a warning."""
    with np.errstate(invalid="ignore", divide="ignore"):
        mean = x.mean(axis=axes, keepdims=True)
        xhat = x - mean
        var = np.mean(np.square(xhat), axis=axes, keepdims=True)
        invstd = 1 / np.sqrt(var + eps)
    xhat *= invstd
    return mean, var, invstd, xhat


def _normalized_input_grad(gh, xhat, invstd, axes):
    """``invstd * (gh - mean(gh) - xhat * mean(gh * xhat))`` over ``axes`` (array or Tensor)."""
    return (gh - _mean(gh, axes) - xhat * _mean(gh * xhat, axes)) * invstd


def _check_dtypes(x, others, op, kernel):
    """PyTorch's errors for a non-floating input (named after its ``kernel``) or mixed dtypes."""
    if x.dtype.kind != "f":
        raise NotImplementedError(
            f'"{kernel}" not implemented for \'{_torch_name(x.dtype)}\' ({op} needs a floating input; convert it '
            "with .float())"
        )
    for t in others:
        if t is not None and t._data.dtype != x.dtype:
            raise RuntimeError(
                f"mixed dtype (CPU): all inputs must share same datatype. ({op} got an input of dtype {x.dtype} and "
                f"a parameter or running statistic of dtype {t._data.dtype}; convert them to one dtype, e.g. with "
                ".double() on the module)"
            )


def _affine_output(out, weight, bias, param_shape):
    """``out * weight + bias`` in place (either may be None), as a new Tensor; the parameters take
    ``param_shape``."""
    if weight is not None:
        out *= weight._data.reshape(param_shape)
    if bias is not None:
        out += bias._data.reshape(param_shape)
    return _make(out)


def _attach(out, node_class, input, weight, bias):
    """Record ``node_class((input, weight, bias))`` as ``out``'s grad_fn if needed (else None), saving the input
    (for the input's and the weight's gradients) and the weight (for the input's)."""
    if not (recording() and any(t is not None and t._requires_grad for t in (input, weight, bias))):
        return None
    node = node_class((input, weight, bias))
    need_x = _needs(node, 0)
    node.save(input if (need_x or _needs(node, 1)) else None, weight if need_x else None)
    out._requires_grad = True
    out.grad_fn = node
    return node


# -- batch_norm --------------------------------------------------------------------------------------------------
class NativeBatchNormBackward0(Node):
    """Edges ``(input, weight, bias)``. ``mean``/``invstd``: (1, C, 1, ...) arrays, the batch statistics in
    training mode or the running statistics in evaluation mode (``training`` False: constants)."""

    __slots__ = ("training", "mean", "invstd", "axes", "eps", "param_shape")
    array_backward = True
    saved_names = ("input", "weight")

    def backward(self, grad):
        x, w = self.saved()
        axes, param_shape = self.axes, self.param_shape
        if self.training and isinstance(grad, Tensor):
            mean, invstd = _moments(x, axes, self.eps)
        else:
            mean, invstd = self.mean, self.invstd
        xhat = (x - mean) * invstd
        gx = gw = gb = None
        sum_g = _sum(grad, axes) if _needs(self, 2) or (_needs(self, 0) and self.training) else None
        sum_gxhat = _sum(grad * xhat, axes) if _needs(self, 1) or (_needs(self, 0) and self.training) else None
        if _needs(self, 0):
            scale = invstd if w is None else invstd * _reshape(w, param_shape)
            if self.training:
                n = x.size if not isinstance(x, Tensor) else x._data.size
                n //= param_shape[1]
                gx = (grad - sum_g / n - xhat * (sum_gxhat / n)) * scale
            else:
                gx = grad * scale
        if _needs(self, 1):
            gw = _reshape(sum_gxhat, param_shape[1:2])
        if _needs(self, 2):
            gb = _reshape(sum_g, param_shape[1:2])
        return gx, gw, gb


def batch_norm(input, running_mean, running_var, weight=None, bias=None, training=False, momentum=0.1, eps=1e-5):
    """Batch normalisation over the channel dimension 1 of ``(N, C, *)`` inputs.

    In training mode (``training=True``) each channel is normalised with the mean and biased variance of the
    batch (over N and all spatial positions); if ``running_mean``/``running_var`` are given they are updated
    in place: ``running = (1 - momentum) * running + momentum * batch_stat``, with the unbiased variance for
    ``running_var``. In evaluation mode the running statistics normalise the input and are not changed.

    Args:
        input: ``(N, C)`` or ``(N, C, *)``.
        running_mean, running_var: ``(C,)`` tensors (buffers), or None (training mode only).
        weight, bias: ``(C,)`` affine parameters, or None.
        training: use batch statistics (and update the running ones).
        momentum: the weight of the batch statistic in the running average (a number; ``nn.BatchNorm*`` turns
            ``momentum=None`` into a cumulative average before calling this).
        eps: added to the variance before the square root.

    Example::

        x = nk.randn(16, 3, 8, 8)
        rm, rv = nk.zeros(3), nk.ones(3)
        y = F.batch_norm(x, rm, rv, training=True)      # y.mean((0, 2, 3)) ~ 0; rm, rv updated
    """
    if not isinstance(momentum, (int, float)) or isinstance(momentum, bool):
        raise TypeError(
            f"batch_norm(): argument 'momentum' (position 7) must be float, not {type(momentum).__name__} "
            "(nn.BatchNorm handles momentum=None as a cumulative average; pass a number here)"
        )
    x = input._data
    if x.ndim < 2:
        raise IndexError(
            f"Dimension out of range (expected to be in range of [{-max(x.ndim, 1)}, {max(x.ndim - 1, 0)}], but got "
            f"1) (batch_norm needs an input of shape (N, C) or (N, C, *), got {list(x.shape)})"
        )
    channels = x.shape[1]
    for name, t in (("running_mean", running_mean), ("running_var", running_var), ("weight", weight),
                    ("bias", bias)):
        if t is not None and t._data.size != channels:
            raise RuntimeError(
                f"{name} should contain {channels} elements not {t._data.size} (batch_norm of an input of shape "
                f"{list(x.shape)} normalises its {channels} channels along dimension 1)"
            )
    _check_dtypes(x, (running_mean, running_var, weight, bias), "batch_norm", "batch_norm")
    axes = (0,) + tuple(range(2, x.ndim))
    param_shape = (1, channels) + (1,) * (x.ndim - 2)
    if training:
        count = x.size // channels if channels else 0
        if count == 1:
            raise ValueError(
                f"Expected more than 1 value per channel when training, got input size {list(x.shape)} (batch "
                "statistics of one value per channel are meaningless: use a larger batch or eval mode)"
            )
        mean, var, invstd, xhat = _array_moments(x, axes, eps)
        if running_mean is not None or running_var is not None:
            _update_running_stats(running_mean, running_var, mean, var, count, momentum)
    else:
        if running_mean is None or running_var is None:
            missing = "running_mean" if running_mean is None else "running_var"
            raise RuntimeError(
                f"{missing} must be defined in evaluation mode (pass training=True to normalise with batch "
                "statistics instead)"
            )
        mean = running_mean._data.reshape(param_shape).copy()
        invstd = 1 / np.sqrt(running_var._data.reshape(param_shape) + eps)
        xhat = (x - mean) * invstd
    out = _affine_output(xhat, weight, bias, param_shape)
    node = _attach(out, NativeBatchNormBackward0, input, weight, bias)
    if node is not None:
        node.training, node.mean, node.invstd, node.axes, node.eps = bool(training), mean, invstd, axes, eps
        node.param_shape = param_shape
    return out


def _update_running_stats(running_mean, running_var, mean, var, count, momentum):
    """``running = (1 - momentum) * running + momentum * batch`` in place (unbiased variance).

    Not recorded by autograd and, as in PyTorch, not counted as a version change of the buffers.
    """
    if running_mean is not None:
        r = running_mean._data
        r *= 1 - momentum
        r += (momentum * mean).reshape(r.shape)
    if running_var is not None:
        r = running_var._data
        unbiased = var * (count / (count - 1)) if count > 1 else var
        r *= 1 - momentum
        r += (momentum * unbiased).reshape(r.shape)


# -- layer_norm --------------------------------------------------------------------------------------------------
class NativeLayerNormBackward0(Node):
    """Edges ``(input, weight, bias)``; ``axes``: the normalised (last) dimensions."""

    __slots__ = ("mean", "invstd", "axes", "lead", "eps")
    array_backward = True
    saved_names = ("input", "weight")

    def backward(self, grad):
        x, w = self.saved()
        axes = self.axes
        if isinstance(grad, Tensor):
            mean, invstd = _moments(x, axes, self.eps)
        else:
            mean, invstd = self.mean, self.invstd
        xhat = (x - mean) * invstd
        gx = gw = gb = None
        if _needs(self, 0):
            gx = _normalized_input_grad(grad if w is None else grad * w, xhat, invstd, axes)
        if _needs(self, 1):
            gw = reduction.sum(grad * xhat, self.lead) if self.lead else grad * xhat
        if _needs(self, 2):
            gb = reduction.sum(grad, self.lead) if self.lead else grad
        return gx, gw, gb


def _normalized_shape(normalized_shape):
    if isinstance(normalized_shape, (int, np.integer)):
        return (int(normalized_shape),)
    return tuple(int(s) for s in normalized_shape)


def layer_norm(input, normalized_shape, weight=None, bias=None, eps=1e-5):
    """Layer normalisation: normalise over the last ``len(normalized_shape)`` dimensions of each sample.

    Args:
        input: ``(*, *normalized_shape)``.
        normalized_shape: the trailing shape to normalise over (an int for one dimension).
        weight, bias: elementwise affine parameters of shape ``normalized_shape``, or None.
        eps: added to the (biased) variance before the square root.

    Example::

        x = nk.randn(4, 10, 32)
        F.layer_norm(x, (32,)).mean(-1)        # ~0 everywhere
    """
    norm_shape = _normalized_shape(normalized_shape)
    x = input._data
    k = len(norm_shape)
    if k == 0 or x.shape[x.ndim - k:] != norm_shape or x.ndim < k:
        raise RuntimeError(
            f"Given normalized_shape={list(norm_shape)}, expected input with shape [*, "
            f"{', '.join(map(str, norm_shape))}], but got input of size{list(x.shape)}"
        )
    for name, t in (("weight", weight), ("bias", bias)):
        if t is not None and t._data.shape != norm_shape:
            raise RuntimeError(
                f"Expected {name} to be of same shape as normalized_shape, but got {name} of shape "
                f"{list(t._data.shape)} and normalized_shape = {list(norm_shape)}"
            )
    _check_dtypes(x, (weight, bias), "layer_norm", "LayerNormKernelImpl")
    axes = tuple(range(x.ndim - k, x.ndim))
    mean, _, invstd, xhat = _array_moments(x, axes, eps)
    out = _affine_output(xhat, weight, bias, norm_shape)
    node = _attach(out, NativeLayerNormBackward0, input, weight, bias)
    if node is not None:
        node.mean, node.invstd, node.axes, node.eps = mean, invstd, axes, eps
        node.lead = tuple(range(x.ndim - k))
    return out


# -- group_norm --------------------------------------------------------------------------------------------------
class NativeGroupNormBackward0(Node):
    """Edges ``(input, weight, bias)``. Statistics live in the grouped shape ``(N, G, C // G * spatial)``."""

    __slots__ = ("mean", "invstd", "groups", "eps", "param_shape", "reduce_axes")
    array_backward = True
    saved_names = ("input", "weight")

    def backward(self, grad):
        x, w = self.saved()
        x_shape = x.shape
        n = x_shape[0]
        grouped = (n, self.groups, -1)
        xg = _reshape(x, grouped)
        if isinstance(grad, Tensor):
            mean, invstd = _moments(xg, (2,), self.eps)
        else:
            mean, invstd = self.mean, self.invstd
        xhat = (xg - mean) * invstd
        gx = gw = gb = None
        if _needs(self, 0):
            gh = grad if w is None else grad * _reshape(w, self.param_shape)
            gx = _reshape(_normalized_input_grad(_reshape(gh, grouped), xhat, invstd, (2,)), x_shape)
        if _needs(self, 1):
            gw = reduction.sum(grad * _reshape(xhat, x_shape), self.reduce_axes)
        if _needs(self, 2):
            gb = reduction.sum(grad, self.reduce_axes)
        return gx, gw, gb


def group_norm(input, num_groups, weight=None, bias=None, eps=1e-5):
    """Group normalisation: split the C channels of each sample into ``num_groups`` groups and normalise each
    group over its channels and spatial positions; then a per-channel affine map.

    Args:
        input: ``(N, C, *)`` with C divisible by ``num_groups``.
        num_groups: number of groups (1: like layer norm over (C, *); C: instance norm).
        weight, bias: ``(C,)`` per-channel affine parameters, or None.
        eps: added to the (biased) variance before the square root.

    Example::

        x = nk.randn(2, 6, 5, 5)
        F.group_norm(x, 3).shape          # (2, 6, 5, 5)
    """
    x = input._data
    if x.ndim < 2:
        raise RuntimeError(
            f"Expected at least 2 dimensions for input tensor but received {x.ndim} (group_norm needs (N, C, *), "
            f"got shape {list(x.shape)})"
        )
    n, channels = x.shape[:2]
    if num_groups <= 0 or channels % num_groups:
        raise RuntimeError(
            "Expected number of channels in input to be divisible by num_groups, but got input of shape "
            f"{list(x.shape)} and num_groups={num_groups}"
        )
    for name, t in (("weight", weight), ("bias", bias)):
        if t is not None and (t._data.ndim != 1 or t._data.size != channels):
            raise RuntimeError(
                f"Expected {name} to be a vector of size equal to the number of channels in input, but got {name} "
                f"of shape {list(t._data.shape)} and input of shape {list(x.shape)}"
            )
    _check_dtypes(x, (weight, bias), "group_norm", "GroupNormKernelImpl")
    param_shape = (1, channels) + (1,) * (x.ndim - 2)
    mean, _, invstd, xhat = _array_moments(x.reshape(n, num_groups, -1), (2,), eps)
    out = _affine_output(xhat.reshape(x.shape), weight, bias, param_shape)
    node = _attach(out, NativeGroupNormBackward0, input, weight, bias)
    if node is not None:
        node.mean, node.invstd, node.groups, node.eps = mean, invstd, num_groups, eps
        node.param_shape = param_shape
        node.reduce_axes = (0,) + tuple(range(2, x.ndim))
    return out


# -- normalize ---------------------------------------------------------------------------------------------------
def normalize(input, p=2.0, dim=1, eps=1e-12, out=None):
    """``input / max(||input||_p, eps)`` along ``dim``: unit-norm vectors (zero vectors stay zero).

    Args:
        input: a floating tensor.
        p: the norm's exponent.
        dim: the dimension (or tuple of dimensions) to normalise over.
        eps: the smallest norm divided by, to avoid division by zero.

    Example::

        F.normalize(nk.tensor([[3.0, 4.0]]))       # tensor([[0.6, 0.8]])
    """
    if out is not None:
        raise TypeError("normalize(): the out= argument is not supported by nnkit; use the returned tensor")
    norm = reduction.norm(input, p, dim, keepdim=True)
    return ew.div(input, ew.clamp(norm, min=eps))
