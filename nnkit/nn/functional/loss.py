"""Loss functions, each one fused backward node, numerically stable for large logits.

``reduction`` is ``'mean'`` (default), ``'sum'`` or ``'none'``, as in PyTorch; the legacy ``size_average`` /
``reduce`` arguments are accepted (with PyTorch's deprecation warning) and override ``reduction``.

Each loss records ONE node whose ``name()`` is the ``grad_fn`` name PyTorch shows for the same call. Where
PyTorch composes a loss from several ops (``l1_loss`` is ``abs`` then ``mean``; ``kl_div``; ``cross_entropy``
with label smoothing or probability targets), nnkit still fuses it into one node and reports the name of
PyTorch's last op (``MeanBackward0``, ``AddBackward0``, ...). Backward formulas use operators and nnkit ops
that accept numpy arrays too, so they run on arrays in plain backward and on Tensors under ``create_graph``.
"""

import math
import warnings

import numpy as np

from nnkit.autograd.grad_mode import recording
from nnkit.autograd.node import Node
from nnkit.ops import elementwise as ew
from nnkit.ops import reduction as rd
from nnkit.ops.broadcast import expand, sum_to_shape
from nnkit.ops.elementwise import _broadcast_error
from nnkit.ops.reduction import _torch_name
from nnkit.tensor import Tensor, _make

__all__ = [
    "binary_cross_entropy_with_logits", "binary_cross_entropy", "cross_entropy", "nll_loss", "mse_loss",
    "l1_loss", "smooth_l1_loss", "huber_loss", "kl_div",
]

_REDUCTIONS = ("mean", "sum", "none")
_KL_MEAN_WARNING = (
    "reduction: 'mean' divides the total loss by both the batch size and the support size."
    "'batchmean' divides only by the batch size, and aligns with the KL div math definition."
    "'mean' will be changed to behave the same as 'batchmean' in the next major release."
)


# -- argument handling -----------------------------------------------------------------------------------------
def _legacy_reduction(size_average, reduce, stacklevel=4):
    """The reduction PyTorch's deprecated ``size_average``/``reduce`` mean (None means True), with its warning."""
    size_average = True if size_average is None else size_average
    reduce = True if reduce is None else reduce
    reduction = "mean" if size_average and reduce else "sum" if reduce else "none"
    warnings.warn(
        f"size_average and reduce args will be deprecated, please use reduction='{reduction}' instead.",
        UserWarning, stacklevel=stacklevel,
    )
    return reduction


def _reduction(size_average, reduce, reduction, op, allowed=_REDUCTIONS):
    """The effective reduction: PyTorch's legacy ``size_average``/``reduce`` win (with its warning)."""
    if size_average is not None or reduce is not None:
        return _legacy_reduction(size_average, reduce)
    if reduction not in allowed:
        choices = ", ".join(repr(r) for r in allowed)
        raise ValueError(f"{reduction} is not a valid value for reduction in {op}; choose one of {choices}")
    return reduction


def _check_tensor(value, name, position, op):
    if not isinstance(value, Tensor):
        raise TypeError(
            f"{op}(): argument '{name}' (position {position}) must be Tensor, not {type(value).__name__} (wrap "
            "values with nnkit.tensor(...))"
        )


def _promote(input, target, op):
    """``input`` and ``target`` as floating tensors of one dtype, promoted as PyTorch does.

    An integer or bool target takes the input's dtype. Casts are recorded, so gradients flow back in each
    tensor's own dtype.
    """
    _check_tensor(input, "input", 1, op)
    _check_tensor(target, "target", 2, op)
    x, y = input._data.dtype, target._data.dtype
    if x.kind != "f":
        raise NotImplementedError(
            f"\"{op}\" not implemented for '{_torch_name(x)}' (the input must be floating point; convert it with "
            ".float())"
        )
    if x == y:
        return input, target
    dtype = np.promote_types(x, y) if y.kind == "f" else x
    if x != dtype:
        input = ew.to_dtype(input, dtype)
    if y != dtype:
        target = ew.to_dtype(target, dtype)
    return input, target


def _broadcast_pair(x, y, op, warn):
    """The shape ``x`` and ``y`` broadcast to; PyTorch's warning when it differs from the input's."""
    if x.shape == y.shape:
        return x.shape
    try:
        shape = np.broadcast_shapes(x.shape, y.shape)
    except ValueError:
        raise _broadcast_error(op, x, y) from None
    if warn:
        warnings.warn(
            f"Using a target size ({list(y.shape)}) that is different to the input size ({list(x.shape)}). This "
            "will likely lead to incorrect results due to broadcasting. Please ensure they have the same size.",
            UserWarning, stacklevel=4,
        )
    return shape


def _reduce(loss, reduction, count=None):
    """(reduced loss, divisor of the gradient: None for 'none'). ``count`` replaces the element count of 'mean'."""
    if reduction == "none":
        return loss, None
    total = loss.sum()
    if reduction == "sum":
        return total, 1
    n = loss.size if count is None else count
    if not n:
        return np.full((), np.nan, loss.dtype), 1
    return total / n, n


def _check_constant(t, name, op):
    """PyTorch's error for a tensor argument (``weight``) that the loss is not differentiable in."""
    if t is not None and t._requires_grad:
        raise RuntimeError(
            f"The function '{op}' is not differentiable with respect to argument '{name}'. This input cannot have "
            "requires_grad True."
        )


def _as_dtype(t, dtype):
    """A constant (weight) tensor in ``dtype``: itself when it already is (so in-place changes are caught)."""
    return t if t is None or t._data.dtype == dtype else _make(t._data.astype(dtype))


def _output(value, dtype):
    return _make(np.asarray(value, dtype=dtype))


def _attach(out, node, reduction, shape, divisor, *saved):
    """Record ``node`` as ``out``'s grad_fn; ``shape`` is the unreduced loss's, ``divisor`` from ``_reduce``."""
    node.reduction, node.shape, node.divisor = reduction, shape, divisor
    node.save(*saved)
    out._requires_grad = True
    out.grad_fn = node
    return node


def _arr(x):
    return x._data if isinstance(x, Tensor) else x


class _LossBackward(Node):
    """Shared state of the fused loss nodes: the unreduced loss's shape and the reduction's divisor."""

    __slots__ = ("reduction", "shape", "divisor")
    array_backward = True

    def element_grad(self, grad):
        """The gradient reaching each element of the unreduced loss."""
        if self.divisor is None:
            return grad
        return expand(grad / self.divisor if self.divisor != 1 else grad, self.shape)

    def needs(self, i):
        return self._next[i] is not None


class _PairLossBackward(_LossBackward):
    """A pointwise loss of ``(input, target)`` (broadcast together); both may require grad."""

    __slots__ = ("input_shape", "target_shape")
    saved_names = ("self", "target")

    def to_inputs(self, g_input, g_target):
        """Per-element gradients reduced to each input's shape (None where not needed)."""
        gx = sum_to_shape(g_input, self.input_shape) if g_input is not None and self.needs(0) else None
        gy = sum_to_shape(g_target, self.target_shape) if g_target is not None and self.needs(1) else None
        return gx, gy

    def of_difference(self, g):
        """Gradients of a loss of ``input - target`` whose derivative per element is ``g``."""
        return self.to_inputs(g if self.needs(0) else None, -g if self.needs(1) else None)


def _pair_result(node_class, input, target, loss, reduction, shape, *saved, count=None, **options):
    """The reduced pointwise ``loss`` (an array) as a Tensor; ``node_class`` is recorded, with ``options`` as
    attributes, when ``input`` or ``target`` requires grad. ``shape``: the unreduced loss's (broadcast) shape;
    ``count`` replaces the element count of 'mean' (and of 'batchmean', which is a mean over the batch)."""
    value, divisor = _reduce(loss, "mean" if reduction == "batchmean" else reduction, count)
    out = _output(value, loss.dtype)
    if _requires_grad(input, target):
        node = node_class((input, target))
        node.input_shape, node.target_shape = input._data.shape, target._data.shape
        for name, option in options.items():
            setattr(node, name, option)
        _attach(out, node, reduction, shape, divisor, input, target, *saved)
    return out


def _requires_grad(*tensors):
    return recording() and any(t is not None and t._requires_grad for t in tensors)


# -- binary cross entropy ----------------------------------------------------------------------------------------
def _log_sigmoid(x):
    """log(sigmoid(x)) = -(max(-x, 0) + log1p(exp(-|x|))), finite for any x."""
    return -(np.maximum(-x, 0) + np.log1p(np.exp(-np.abs(x))))


class BinaryCrossEntropyWithLogitsBackward0(_PairLossBackward):
    __slots__ = ()
    saved_names = ("self", "target", "weight", "pos_weight")

    def backward(self, grad):
        x, y, w, pw = self.saved()
        g = self.element_grad(grad)
        if w is not None:
            g = g * w
        gx = gy = None
        if self.needs(0):
            s = ew.sigmoid(x)
            # d/dx of -w [pw*y*log s + (1-y) log(1-s)] = w [s (pw*y + 1 - y) - pw*y]
            gx = g * (s - y if pw is None else s * (pw * y + 1 - y) - pw * y)
        if self.needs(1):
            # d/dy = w [log sigmoid(-x) - pw log sigmoid(x)]
            log_s = -ew.relu(-x) - ew.log1p(ew.exp(-ew.abs(x)))
            log_1ms = log_s - x
            gy = g * (log_1ms - log_s if pw is None else log_1ms - pw * log_s)
        return self.to_inputs(gx, gy)


def binary_cross_entropy_with_logits(input, target, weight=None, size_average=None, reduce=None,
                                     reduction="mean", pos_weight=None):
    """Binary cross entropy of ``sigmoid(input)`` against ``target``, computed from logits stably.

    ``loss = -w [pos_weight * y * log sigmoid(x) + (1 - y) * log(1 - sigmoid(x))]``, elementwise, then reduced.
    Finite for any logits (``log sigmoid`` is never taken as ``log(0)``). ``target`` may require grad.

    Args:
        input: logits, any shape.
        target: same shape as ``input``, values in [0, 1].
        weight: rescales each element's loss; broadcastable to ``input``.
        reduction: ``'mean'`` | ``'sum'`` | ``'none'``.
        pos_weight: weight of positive examples, broadcastable to ``input`` (usually one per class, last dim).

    Example::

        loss = F.binary_cross_entropy_with_logits(nk.tensor([2.0, -1.0]), nk.tensor([1.0, 0.0]))
    """
    op = "binary_cross_entropy_with_logits"
    reduction = _reduction(size_average, reduce, reduction, op)
    _check_tensor(input, "input", 1, op)
    if not isinstance(target, Tensor) or target.shape != input.shape:
        raise ValueError(
            f"Target size ({list(getattr(target, 'shape', []))}) must be the same as input size "
            f"({list(input.shape)}) ({op} needs one target per logit; reshape the target)"
        )
    _check_constant(weight, "weight", op)
    _check_constant(pos_weight, "pos_weight", op)
    input, target = _promote(input, target, op)
    x, y = input._data, target._data
    weight, pos_weight = _as_dtype(weight, x.dtype), _as_dtype(pos_weight, x.dtype)
    w = None if weight is None else weight._data
    pw = None if pos_weight is None else pos_weight._data
    log_s = _log_sigmoid(x)
    log_1ms = log_s - x  # log(1 - sigmoid(x)) = log sigmoid(x) - x
    loss = -(y * log_s if pw is None else pw * y * log_s) - (1 - y) * log_1ms
    if w is not None:
        loss = loss * w
    return _pair_result(BinaryCrossEntropyWithLogitsBackward0, input, target, loss, reduction, loss.shape, weight,
                        pos_weight)


_BCE_EPSILON = 1e-12  # PyTorch's floor for x (1 - x) in the gradient


class BinaryCrossEntropyBackward0(_PairLossBackward):
    __slots__ = ()
    saved_names = ("self", "target", "weight")

    def backward(self, grad):
        x, y, w = self.saved()
        g = self.element_grad(grad)
        if w is not None:
            g = g * w
        gx = gy = None
        if self.needs(0):
            # d/dx = w (x - y) / max(x (1 - x), eps): the log clamp's flat region is ignored, as in PyTorch.
            var = x * (1 - x)
            gx = g * (x - y) / ew.where(_arr(var) > _BCE_EPSILON, var, _BCE_EPSILON)
        if self.needs(1):
            with np.errstate(divide="ignore"):
                gy = g * (ew.log1p(-x) - ew.log(x))  # -logit(x); infinite at x = 0 or 1, as in PyTorch
        return self.to_inputs(gx, gy)


def binary_cross_entropy(input, target, weight=None, size_average=None, reduce=None, reduction="mean"):
    """Binary cross entropy between probabilities ``input`` and ``target``.

    ``loss = -w [y log(x) + (1 - y) log(1 - x)]`` elementwise, each log clamped to ``>= -100`` (as PyTorch), so
    ``x`` of exactly 0 or 1 gives a finite loss. Prefer :func:`binary_cross_entropy_with_logits` on logits.
    ``target`` may require grad.

    Args:
        input: probabilities in [0, 1], any shape.
        target: same shape as ``input`` and dtype, values in [0, 1].
        weight: rescales each element's loss; broadcastable to ``input``.
        reduction: ``'mean'`` | ``'sum'`` | ``'none'``.

    Example::

        F.binary_cross_entropy(nk.tensor([0.9, 0.2]), nk.tensor([1.0, 0.0]))   # tensor(0.1643)
    """
    op = "binary_cross_entropy"
    reduction = _reduction(size_average, reduce, reduction, op)
    _check_tensor(input, "input", 1, op)
    _check_tensor(target, "target", 2, op)
    x, y = input._data, target._data
    if x.shape != y.shape:
        raise ValueError(
            f"Using a target size ({list(y.shape)}) that is different to the input size ({list(x.shape)}) is "
            "deprecated. Please ensure they have the same size."
        )
    if x.dtype.kind != "f":
        raise NotImplementedError(f"\"{op}\" not implemented for '{_torch_name(x.dtype)}' (convert with .float())")
    if y.dtype != x.dtype:
        raise RuntimeError(
            f"Found dtype {_torch_name(y.dtype)} but expected {_torch_name(x.dtype)} ({op}: convert the target "
            f"with .to(input.dtype))"
        )
    if not ((x >= 0) & (x <= 1)).all():
        raise RuntimeError(
            f"all elements of input should be between 0 and 1 ({op} takes probabilities; for logits use "
            "binary_cross_entropy_with_logits)"
        )
    _check_constant(weight, "weight", op)
    weight = _as_dtype(weight, x.dtype)
    w = None
    if weight is not None:
        try:
            w = np.broadcast_to(weight._data, x.shape)
        except ValueError:
            raise RuntimeError(
                f"{op}: weight of shape {list(weight.shape)} cannot be broadcast to the input's shape "
                f"{list(x.shape)}"
            ) from None
    with np.errstate(divide="ignore"):
        log_x = np.maximum(np.log(x), -100)
        log_1mx = np.maximum(np.log1p(-x), -100)
    loss = -(y * log_x + (1 - y) * log_1mx)
    if w is not None:
        loss = loss * w
    return _pair_result(BinaryCrossEntropyBackward0, input, target, loss, reduction, x.shape, weight)


# -- regression losses -----------------------------------------------------------------------------------------
def _pair_loss(input, target, op, warn=True):
    """Promoted ``(input, target, x, y, shape)`` of a pointwise loss (PyTorch's warning if shapes differ)."""
    input, target = _promote(input, target, op)
    x, y = input._data, target._data
    return input, target, x, y, _broadcast_pair(x, y, op, warn)


class MseLossBackward0(_PairLossBackward):
    __slots__ = ()

    def backward(self, grad):
        x, y = self.saved()
        return self.of_difference(self.element_grad(grad) * (2 * (x - y)))


def mse_loss(input, target, size_average=None, reduce=None, reduction="mean"):
    """Mean squared error: ``(input - target) ** 2`` elementwise, then reduced.

    ``target`` may require grad. Shapes should match; a target that only broadcasts to the input gives
    PyTorch's warning (the result is usually not what was meant).

    Example::

        F.mse_loss(nk.tensor([1., 2.]), nk.tensor([0., 4.]))     # tensor(2.5000)
    """
    reduction = _reduction(size_average, reduce, reduction, "mse_loss")
    input, target, x, y, shape = _pair_loss(input, target, "mse_loss")
    loss = np.square(x - y)
    return _pair_result(MseLossBackward0, input, target, loss, reduction, shape)


class L1LossBackward(_PairLossBackward):
    """``|input - target|``, reduced; PyTorch composes it from abs and mean/sum, and shows that last op."""

    __slots__ = ()

    def name(self):
        return {"mean": "MeanBackward0", "sum": "SumBackward0", "none": "AbsBackward0"}[self.reduction]

    def backward(self, grad):
        x, y = self.saved()
        return self.of_difference(self.element_grad(grad) * ew.sign(x - y))


def l1_loss(input, target, size_average=None, reduce=None, reduction="mean"):
    """Mean absolute error: ``|input - target|`` elementwise, then reduced (gradient 0 where they are equal).

    ``target`` may require grad. Example::

        F.l1_loss(nk.tensor([1., 2.]), nk.tensor([0., 4.]))      # tensor(1.5000)
    """
    reduction = _reduction(size_average, reduce, reduction, "l1_loss")
    input, target, x, y, shape = _pair_loss(input, target, "l1_loss")
    loss = np.abs(x - y)
    return _pair_result(L1LossBackward, input, target, loss, reduction, shape)


class SmoothL1LossBackward0(_PairLossBackward):
    __slots__ = ("beta",)

    def backward(self, grad):
        x, y = self.saved()
        d = x - y
        # d/dd: d / beta inside (-beta, beta), sign(d) outside
        slope = ew.where(np.abs(_arr(d)) < self.beta, d / self.beta, ew.sign(d))
        return self.of_difference(self.element_grad(grad) * slope)


def smooth_l1_loss(input, target, size_average=None, reduce=None, reduction="mean", beta=1.0):
    """Smooth L1: ``0.5 d**2 / beta`` where ``|d| < beta`` else ``|d| - 0.5 beta``, with ``d = input - target``.

    ``beta=0`` is :func:`l1_loss` (as in PyTorch). ``target`` may require grad.

    Example::

        F.smooth_l1_loss(nk.tensor([0.5, 3.]), nk.tensor([0., 0.]))  # tensor(1.3125)
    """
    reduction = _reduction(size_average, reduce, reduction, "smooth_l1_loss")
    if beta < 0:
        raise RuntimeError(f"smooth_l1_loss does not support negative values for beta. (got beta={beta})")
    if beta == 0.0:
        return l1_loss(input, target, reduction=reduction)
    input, target, x, y, shape = _pair_loss(input, target, "smooth_l1_loss")
    d = np.abs(x - y)
    loss = np.where(d < beta, 0.5 * d * d / beta, d - 0.5 * beta)
    return _pair_result(SmoothL1LossBackward0, input, target, loss, reduction, shape, beta=beta)


class HuberLossBackward0(_PairLossBackward):
    __slots__ = ("delta",)

    def backward(self, grad):
        x, y = self.saved()
        d = x - y
        slope = ew.where(np.abs(_arr(d)) <= self.delta, d, self.delta * ew.sign(d))
        return self.of_difference(self.element_grad(grad) * slope)


def huber_loss(input, target, reduction="mean", delta=1.0):
    """Huber loss: ``0.5 d**2`` where ``|d| <= delta`` else ``delta (|d| - 0.5 delta)``, ``d = input - target``.

    Equals ``delta * smooth_l1_loss(..., beta=delta)``. ``target`` may require grad.

    Example::

        F.huber_loss(nk.tensor([0.5, 3.]), nk.tensor([0., 0.]))      # tensor(1.3125)
    """
    reduction = _reduction(None, None, reduction, "huber_loss")
    if not delta > 0:
        raise RuntimeError(f"huber_loss does not support non-positive values for delta. (got delta={delta})")
    input, target, x, y, shape = _pair_loss(input, target, "huber_loss")
    d = np.abs(x - y)
    loss = np.where(d <= delta, 0.5 * d * d, delta * (d - 0.5 * delta))
    return _pair_result(HuberLossBackward0, input, target, loss, reduction, shape, delta=delta)


# -- KL divergence ---------------------------------------------------------------------------------------------
class KlDivBackward(_PairLossBackward):
    """KL divergence, fused; PyTorch composes it and shows its last op's name (see ``name``)."""

    __slots__ = ("log_target",)

    def name(self):
        if self.reduction == "none":
            return "MulBackward0" if self.log_target else "SubBackward0"
        return {"mean": "MeanBackward0", "sum": "SumBackward0", "batchmean": "DivBackward0"}[self.reduction]

    def backward(self, grad):
        x, t = self.saved()
        g = self.element_grad(grad)
        gx = gt = None
        if self.log_target:
            e = ew.exp(t)
            if self.needs(0):
                gx = -(g * e)
            if self.needs(1):
                gt = g * e * (t - x + 1)
        else:
            if self.needs(0):
                gx = -(g * t)
            if self.needs(1):
                with np.errstate(divide="ignore"):
                    gt = g * (ew.log(t) + 1 - x)
        return self.to_inputs(gx, gt)


def kl_div(input, target, size_average=None, reduce=None, reduction="mean", log_target=False):
    """Kullback-Leibler divergence with ``input`` given as log-probabilities.

    ``loss = target * (log(target) - input)`` elementwise (0 where target is 0), or with ``log_target=True``
    ``exp(target) * (target - input)``. ``'batchmean'`` divides the sum by the batch size ``input.shape[0]``
    (the KL divergence's definition); ``'mean'`` divides by the number of elements and warns, as PyTorch.
    ``target`` may require grad.

    Args:
        input: log-probabilities, any shape.
        target: probabilities (or log-probabilities with ``log_target``), broadcastable to ``input``.
        reduction: ``'mean'`` | ``'batchmean'`` | ``'sum'`` | ``'none'``.

    Example::

        p = nk.tensor([[0.2, 0.8]])
        F.kl_div(nk.tensor([[0.5, 0.5]]).log(), p, reduction="batchmean")   # tensor(0.1927)
    """
    legacy = size_average is not None or reduce is not None
    reduction = _reduction(size_average, reduce, reduction, "kl_div", _REDUCTIONS + ("batchmean",))
    if reduction == "mean" and not legacy:
        warnings.warn(_KL_MEAN_WARNING, UserWarning, stacklevel=2)
    _check_tensor(input, "input", 1, "kl_div")
    _check_tensor(target, "target", 2, "kl_div")
    if input._data.dtype.kind in "biu" or target._data.dtype.kind in "biu":
        raise RuntimeError(
            f"kl_div: Integral inputs not supported. (got input {input.dtype}, target {target.dtype}; convert with "
            ".float())"
        )
    input, target, x, t, shape = _pair_loss(input, target, "kl_div", warn=False)
    if log_target:
        loss = np.exp(t) * (t - x)
    else:
        with np.errstate(divide="ignore", invalid="ignore"):
            loss = np.where(t == 0, 0, t * np.log(t)) - t * x  # xlogy(t, t): 0 at t = 0
    if reduction == "batchmean" and x.ndim == 0:
        reduction = "sum"
    count = x.shape[0] if reduction == "batchmean" else None
    return _pair_result(KlDivBackward, input, target, loss, reduction, shape, count=count, log_target=log_target)


# -- classification: nll_loss, cross_entropy -------------------------------------------------------------------
def _class_axis(input, target, op):
    """The class axis of ``input`` (0 for an unbatched ``(C,)`` input, else 1), after PyTorch's checks."""
    _check_tensor(input, "input", 1, op)
    _check_tensor(target, "target", 2, op)
    x = input._data
    if x.ndim < 1:
        raise ValueError(f"Expected 1 or more dimensions (got 0) ({op} needs class scores of shape (N, C) or (C,))")
    if x.dtype.kind != "f":
        raise RuntimeError(f"{op}: expected a floating point input, got {input.dtype} (convert with .float())")
    return 0 if x.ndim == 1 else 1


def _index_target(x, t, op):
    """Check an index target's dtype and shape against the input (PyTorch's ``nll_loss_nd`` checks)."""
    if t.dtype != np.int64 and t.dtype != np.uint8:
        raise RuntimeError(
            f"expected target dtype to be Long or Byte, but got {_torch_name(t.dtype)} ({op}: class-index targets "
            "must be int64, convert with .long(); class probabilities must have the input's shape)"
        )
    if x.ndim == 1:
        if t.ndim > 1 or (t.ndim == 1 and t.shape[0] != 1):
            raise ValueError(f"For 1D input, 1D target must have size 1, but got target size: {t.shape[0]}")
        return
    if t.ndim == 0 or x.shape[0] != t.shape[0]:
        got = t.shape[0] if t.ndim else "none: the target is 0-dimensional"
        raise ValueError(f"Expected input batch_size ({x.shape[0]}) to match target batch_size ({got}).")
    if x.ndim == 2 and t.ndim != 1:
        raise RuntimeError(
            f"0D or 1D target tensor expected, multi-target not supported ({op}: input {list(x.shape)} needs a "
            f"target of shape [{x.shape[0]}], got {list(t.shape)})"
        )
    if x.ndim == 4 and t.ndim != 3:
        raise RuntimeError(
            f"only batches of spatial targets supported (3D tensors) but got targets of dimension: {t.ndim}"
        )
    if x.ndim == 4 and t.shape[1:] != x.shape[2:]:
        raise RuntimeError(f"size mismatch (got input: {list(x.shape)} , target: {list(t.shape)})")
    if x.ndim >= 3 and t.shape[1:] != x.shape[2:]:
        raise RuntimeError(f"Expected target size {[x.shape[0], *x.shape[2:]]}, got {list(t.shape)}")


def _index_array(t, input_ndim):
    """A checked index target as int64, one entry per position (a ``(1,)`` target of a ``(C,)`` input is 0-d)."""
    t = t.astype(np.int64, copy=False)
    return t.reshape(()) if input_ndim == 1 else t


def _class_weight(weight, x, n_classes, op, prefix=""):
    """The per-class weight array (None without one), checked as PyTorch does (``op=None``: differentiable)."""
    if weight is None:
        return None
    w = weight._data
    if w.ndim != 1 or w.size != n_classes:
        raise RuntimeError(
            f"{prefix}weight tensor should be defined either for all {n_classes} classes or no classes but got "
            f"weight tensor of shape: {list(w.shape)}"
        )
    if op is not None:
        _check_constant(weight, "weight", op)
    return w


def _check_weight_dtype(w, x, op):
    if w is not None and w.dtype != x.dtype:
        raise RuntimeError(
            f"expected scalar type {_torch_name(x.dtype)} but found {_torch_name(w.dtype)} ({op}: the class "
            "weight must have the input's dtype; convert it with .to(input.dtype))"
        )


def _target_weights(t, w, ignore_index, n_classes, dtype):
    """(valid mask, target with ignored entries set to 0, each position's weight: 0 where ignored).

    When every target is a class and none is ignored (the common case) the mask is None and so is the weight
    without a class weight (every weight is 1): no mask is built or applied.
    """
    if t.size and not 0 <= ignore_index < n_classes and 0 <= t.min() and t.max() < n_classes:
        return None, t, None if w is None else w[t]
    valid = t != ignore_index
    bad = valid & ((t < 0) | (t >= n_classes))
    if bad.any():
        raise IndexError(
            f"Target {t[bad][0]} is out of bounds. (targets must be class indices in [0, {n_classes - 1}] or "
            f"ignore_index={ignore_index})"
        )
    t_safe = np.where(valid, t, 0)
    w_t = valid.astype(dtype) if w is None else np.where(valid, w[t_safe], 0).astype(dtype, copy=False)
    return valid, t_safe, w_t


def _index_targets(x, target, weight, ignore_index, n_classes, op):
    """(class weight array or None, valid mask, target index, per-position weight) of an index ``target`` of
    input ``x``, checked; see ``_target_weights`` (None mask / weight) and ``_target_index``."""
    _index_target(x, target._data, op)
    t = _index_array(target._data, x.ndim)
    w = _class_weight(weight, x, n_classes, "nll_loss_forward")
    _check_weight_dtype(w, x, op)
    valid, t_safe, w_t = _target_weights(t, w, ignore_index, n_classes, x.dtype)
    return w, valid, _target_index(t_safe, n_classes), w_t


def _target_index(t, n_classes):
    """Each position's target class as an index into the flattened (C-order) input, shaped as the positions.

    One flat index array picks (``a.reshape(-1)[index]``) several times faster than a tuple of index arrays.
    """
    if t.ndim == 0:
        return t
    inner = math.prod(t.shape[1:])  # positions per sample: 1 for (N, C), d1 * d2 * ... for (N, C, d1, ...)
    index = np.arange(t.shape[0]) * (n_classes * inner)
    if t.ndim == 1:
        return index + t
    return (index[:, None] + np.arange(inner)).reshape(t.shape) + t * inner


def _mask(loss, valid):
    """``loss`` with 0 at ignored positions (``valid`` None: none is ignored)."""
    return loss if valid is None else np.where(valid, loss, 0)


def _along_class(a, axis, ndim):
    """A per-class vector shaped to broadcast along the input's class axis."""
    return a.reshape((-1,) + (1,) * (ndim - axis - 1))


def _softmax_parts(x, axis):
    """(x - max, exp(x - max), its sum) along ``axis``: log_softmax is ``shifted - log(total)``.

    Subtracting the maximum first means exp never overflows and the log is of a sum >= 1: never log(0).
    """
    shifted = x - x.max(axis=axis, keepdims=True, initial=-np.inf)
    e = np.exp(shifted)
    return shifted, e, e.sum(axis=axis, keepdims=True)


def _reduce_by_weight(loss, reduction, w_t):
    """``_reduce`` where 'mean' divides by the summed weight of the targets not ignored (nan if it is 0)."""
    if reduction != "mean" or w_t is None:  # w_t None: every weight is 1
        return _reduce(loss, reduction)
    total_w = w_t.sum()
    with np.errstate(invalid="ignore", divide="ignore"):
        value = loss.sum() / total_w
    # All targets ignored: the loss is nan but every coefficient is 0, so the gradient is 0 (PyTorch).
    return value, total_w if total_w != 0 else 1


class _ClassLossBackward(_LossBackward):
    """Shared state of the class losses. With an index target, ``index``, ``valid`` and ``w_t`` are the target
    index, valid mask and per-position weight found in forward (see ``_index_targets``); the target itself is
    saved too, so that an in-place change of it is caught."""

    __slots__ = ("axis", "ndim", "n_classes", "dtype", "label_smoothing", "index", "valid", "w_t")

    def per_position(self, grad):
        """The gradient reaching each position's loss (a scalar for 'mean' and 'sum')."""
        if self.divisor is None:
            return grad
        return grad / self.divisor if self.divisor != 1 else grad

    def weighted(self, grad):
        """The per-position gradient times the target's weight: d loss / d (-logp[t]), as ``nll_loss``."""
        g = self.per_position(grad)
        return g if self.w_t is None else g * self.w_t

    def with_class_axis(self, v):
        """A per-position value (or a scalar) with a unit class axis, so it broadcasts over the classes."""
        if v.ndim == 0:
            return v
        shape = v.shape
        return v.reshape(shape[:self.axis] + (1,) + shape[self.axis:])

    def minus_at_target(self, out, v):
        """``out - v`` at each position's target class (``v`` per position; ``out`` None stands for zeros).

        In place on an array: one indexed subtraction. Under create_graph (Tensors) out of place, through a
        one-hot mask, so the result is differentiable.
        """
        if isinstance(out, Tensor) or isinstance(v, Tensor):
            hot = np.zeros(self.input_shape(), bool)
            hot.reshape(-1)[self.index] = True
            v = hot * self.with_class_axis(v)
            return -v if out is None else out - v
        out = np.zeros(self.input_shape(), self.dtype) if out is None else np.ascontiguousarray(out)
        flat = out.reshape(-1)  # a view: out is C-contiguous
        flat[self.index] -= v
        return out

    def input_shape(self):
        """The shape of the loss's input (and of its gradient)."""
        return self.shape[:self.axis] + (self.n_classes,) + self.shape[self.axis:]

    def nll_name(self):
        """PyTorch's node for nll_loss: 2-D kernel for spatial inputs, and a final view for 3-D/5-D+ 'none'."""
        if self.ndim <= 2:
            return "NllLossBackward0"
        return "ViewBackward0" if self.ndim != 4 and self.reduction == "none" else "NllLoss2DBackward0"


def _class_node(node_class, input, inputs, axis, label_smoothing, index=None, valid=None, w_t=None):
    node = node_class(inputs)
    x = input._data
    node.axis, node.ndim, node.n_classes, node.dtype = axis, x.ndim, x.shape[axis], x.dtype
    node.label_smoothing, node.index, node.valid, node.w_t = label_smoothing, index, valid, w_t
    return node


class NllLossBackward(_ClassLossBackward):
    """nll_loss; named as PyTorch names its node for the input's rank (see ``_ClassLossBackward.nll_name``)."""

    __slots__ = ()
    saved_names = ("target", "weight")

    def name(self):
        return self.nll_name()

    def backward(self, grad):
        self.saved()  # the target and weight: checked for in-place changes
        # d/dx[c] = -w[t] where c is the target class (0 where ignored)
        return (self.minus_at_target(None, self.weighted(grad)),)


def nll_loss(input, target, weight=None, size_average=None, ignore_index=-100, reduce=None, reduction="mean"):
    """Negative log likelihood of class-index targets given log-probabilities ``input``.

    ``loss[n] = -weight[t[n]] * input[n, t[n]]`` (0 where ``t[n] == ignore_index``); ``'mean'`` divides the sum
    by the summed weight of the targets that are not ignored (nan when all are ignored), as PyTorch.

    Args:
        input: log-probabilities ``(N, C)``, ``(N, C, d1, ...)`` or unbatched ``(C,)``.
        target: int64 class indices ``(N,)``, ``(N, d1, ...)`` or ``()``, in ``[0, C)`` or ``ignore_index``.
        weight: per-class weights ``(C,)``, the input's dtype.
        ignore_index: a target value that contributes neither loss nor gradient.
        reduction: ``'mean'`` | ``'sum'`` | ``'none'`` (then the shape is the target's).

    Example::

        logp = nk.tensor([[0.2, 0.8], [0.6, 0.4]]).log()
        F.nll_loss(logp, nk.tensor([1, 0]))    # tensor(0.3670)
    """
    op = "nll_loss"
    reduction = _reduction(size_average, reduce, reduction, op)
    axis = _class_axis(input, target, op)
    x = input._data
    n_classes = x.shape[axis]
    w, valid, index, w_t = _index_targets(x, target, weight, ignore_index, n_classes, op)
    loss = -x.reshape(-1)[index]
    loss = _mask(loss if w_t is None else loss * w_t, valid).astype(x.dtype, copy=False)
    value, divisor = _reduce_by_weight(loss, reduction, w_t)
    out = _output(value, x.dtype)
    if _requires_grad(input):
        node = _class_node(NllLossBackward, input, (input,), axis, 0.0, index, valid, w_t)
        _attach(out, node, reduction, loss.shape, divisor, target, weight)
    return out


class CrossEntropyIndexBackward(_ClassLossBackward):
    """log_softmax + nll_loss (+ label smoothing) fused. PyTorch's last op: nll_loss, or an add with smoothing."""

    __slots__ = ()
    saved_names = ("self", "probs", "target", "weight")

    def name(self):
        return "AddBackward0" if self.label_smoothing else self.nll_name()

    def backward(self, grad):
        x, p, _, weight = self.saved()  # the target is saved only to catch in-place changes of it
        if isinstance(x, Tensor):  # create_graph: the softmax must itself be differentiable
            p = rd.softmax(x, self.axis)
        eps = self.label_smoothing
        # Per position, loss = -a logp[t] - b sum_c w[c] logp[c] with a = (1-eps) w[t], b = (eps/C) [not ignored];
        # d logp[c] / dx[k] = [c == k] - p[k], so d/dx[k] = g (p[k] (a + b sum_c w[c]) - a [k == t] - b w[k]).
        # The scalar (or per-position) factors are formed first: two full-size ops without smoothing.
        ga = self.weighted(grad)
        if not eps:
            return (self.minus_at_target(p * self.with_class_axis(ga), ga),)
        ga = ga * (1 - eps)
        gb = self.per_position(grad) * (eps / self.n_classes)
        if self.valid is not None:
            gb = gb * self.valid.astype(self.dtype)
        total = self.n_classes if weight is None else _arr(weight).sum()
        gx = self.minus_at_target(p * self.with_class_axis(ga + gb * total), ga)
        gb = self.with_class_axis(gb)
        return (gx - (gb if weight is None else gb * _along_class(_arr(weight), self.axis, self.ndim)),)


class CrossEntropyProbsBackward(_ClassLossBackward):
    """log_softmax + soft-target cross entropy fused. PyTorch's last op: a division ('mean') or a negation."""

    __slots__ = ()
    saved_names = ("self", "target", "log_probs", "weight")

    def name(self):
        return "DivBackward1" if self.reduction == "mean" else "NegBackward0"

    def backward(self, grad):
        x, t, logp, weight = self.saved()
        if isinstance(x, Tensor):
            logp = rd.log_softmax(x, self.axis)
        w = None if weight is None else _along_class(weight, self.axis, self.ndim)
        eps = self.label_smoothing
        g = self.with_class_axis(self.per_position(grad))
        # loss = -sum_c w[c] s[c] logp[c] per position, with s = (1-eps) t + eps/C
        s = (1 - eps) * t + eps / self.n_classes if eps else t
        gx = gt = gw = None
        if self.needs(0):
            # d logp[c] / dx[k] = [c == k] - p[k]: d/dx[k] = p[k] sum_c w s - w[k] s[k]
            ws = s if w is None else s * w
            gx = g * (ew.exp(logp) * rd.sum(ws, self.axis, True) - ws)
        if self.needs(1):
            d = logp if w is None else logp * w
            gt = g * (-(1 - eps) * d if eps else -d)
        if self.needs(2):
            gw = -(g * s * logp)
            if self.ndim > 1:
                gw = rd.sum(gw, tuple(i for i in range(self.ndim) if i != self.axis))
            gw = gw.reshape((self.n_classes,))
        return gx, gt, gw


def cross_entropy(input, target, weight=None, size_average=None, ignore_index=-100, reduce=None,
                  reduction="mean", label_smoothing=0.0):
    """Cross entropy between logits ``input`` and class targets: ``nll_loss(log_softmax(input, 1), target)``.

    Computed as one fused, stable op (log-softmax subtracts the maximum first: finite for any logits).

    Targets are either class indices (int64, shape ``(N,)``, ``(N, d1, ...)`` or ``()``) or class
    probabilities (floating, the input's shape; these may require grad). With probabilities ``ignore_index``
    is not supported and ``'mean'`` divides by the number of positions ``N * d1 * ...``; with indices it
    divides by the summed weight of the targets that are not ignored, as PyTorch.

    Args:
        input: logits ``(N, C)``, ``(N, C, d1, ...)`` or unbatched ``(C,)``.
        target: class indices or class probabilities (see above).
        weight: per-class weights ``(C,)``.
        ignore_index: an index target value that contributes neither loss nor gradient.
        reduction: ``'mean'`` | ``'sum'`` | ``'none'`` (then one loss per position).
        label_smoothing: in [0, 1]; the target becomes ``(1 - eps) * target + eps / C`` (PyTorch's formula).

    Example::

        logits = nk.tensor([[2.0, 0.5, -1.0], [0.1, 0.2, 3.0]])
        F.cross_entropy(logits, nk.tensor([0, 2]))                        # tensor(0.1755)
        F.cross_entropy(logits, nk.tensor([0, 2]), label_smoothing=0.1)
    """
    op = "cross_entropy"
    reduction = _reduction(size_average, reduce, reduction, op)
    axis = _class_axis(input, target, op)
    if not 0.0 <= label_smoothing <= 1.0:
        raise RuntimeError(f"label_smoothing must be between 0.0 and 1.0. Got: {label_smoothing}")
    if target._data.shape == input._data.shape:
        return _cross_entropy_probs(input, target, weight, ignore_index, reduction, label_smoothing, axis)
    x = input._data
    n_classes = x.shape[axis]
    w, valid, index, w_t = _index_targets(x, target, weight, ignore_index, n_classes, op)
    shifted, e, total = _softmax_parts(x, axis)
    log_total = np.log(total).squeeze(axis)
    # Only the target's log-probability is formed, not the whole log_softmax: -logp[t] = log_total - shifted[t].
    loss = log_total - shifted.reshape(-1)[index]
    if w_t is not None:
        loss *= w_t
    if label_smoothing:
        # -sum_c w[c] logp[c] = log_total sum_c w[c] - sum_c w[c] shifted[c]
        if w is None:
            smooth = n_classes * log_total - shifted.sum(axis=axis)
        else:
            smooth = w.sum() * log_total - (shifted * _along_class(w, axis, x.ndim)).sum(axis=axis)
        loss = (1 - label_smoothing) * loss + (label_smoothing / n_classes) * smooth
    loss = _mask(loss, valid).astype(x.dtype, copy=False)
    value, divisor = _reduce_by_weight(loss, reduction, w_t)
    out = _output(value, x.dtype)
    if _requires_grad(input):
        node = _class_node(CrossEntropyIndexBackward, input, (input,), axis, label_smoothing, index, valid, w_t)
        e /= total  # the softmax, kept for backward
        _attach(out, node, reduction, loss.shape, divisor, input, _make(e), target, weight)
    return out


def _cross_entropy_probs(input, target, weight, ignore_index, reduction, label_smoothing, axis):
    op = "cross_entropy"
    if target._data.dtype.kind != "f":
        raise RuntimeError(
            f"Expected floating point type for target with class probabilities, got {_torch_name(target._data.dtype)}"
            f" (a target with the input's shape {list(input.shape)} holds class probabilities; class indices "
            "have no class dimension)"
        )
    if ignore_index != -100:
        raise RuntimeError("ignore_index is not supported for floating point target")
    input, target = _promote(input, target, op)
    x, t = input._data, target._data
    n_classes = x.shape[axis]
    _class_weight(weight, x, n_classes, None, prefix="cross_entropy: ")  # differentiable here, as in PyTorch
    if weight is not None and weight._data.dtype != x.dtype:
        weight = ew.to_dtype(weight, x.dtype)
    wc = None if weight is None else _along_class(weight._data, axis, x.ndim)
    shifted, _, total = _softmax_parts(x, axis)
    logp = shifted - np.log(total)
    s = (1 - label_smoothing) * t + label_smoothing / n_classes if label_smoothing else t
    terms = logp * s if wc is None else logp * s * wc
    loss = -terms.sum(axis=axis)
    value, divisor = _reduce(loss, reduction)
    out = _output(value, x.dtype)
    if _requires_grad(input, target, weight):
        node = _class_node(CrossEntropyProbsBackward, input, (input, target, weight), axis, label_smoothing)
        _attach(out, node, reduction, loss.shape, divisor, input, target, _make(logp), weight)
    return out
