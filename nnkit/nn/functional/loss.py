"""Loss functions, each one fused backward node, numerically stable for large logits.

``reduction`` is ``'mean'`` (default), ``'sum'`` or ``'none'``, as in PyTorch.
"""

import numpy as np

from nnkit.autograd.grad_mode import state
from nnkit.autograd.node import Node
from nnkit.ops import elementwise as ew
from nnkit.ops.broadcast import expand
from nnkit.tensor import Tensor, _make

__all__ = ["binary_cross_entropy_with_logits"]

_REDUCTIONS = ("mean", "sum", "none")


def _check_reduction(reduction, op):
    if reduction not in _REDUCTIONS:
        raise ValueError(f"{reduction} is not a valid value for reduction in {op}; choose 'mean', 'sum' or 'none'")


def _reduce(loss, reduction):
    if reduction == "mean":
        return loss.mean(dtype=loss.dtype)
    return loss.sum() if reduction == "sum" else loss


def _grad_of_elements(grad, shape, size, reduction):
    """The gradient reaching each element of an unreduced loss of ``shape``."""
    if reduction == "none":
        return grad
    if reduction == "mean":
        grad = grad / size
    return expand(grad, shape)


def _log_sigmoid(x):
    """log(sigmoid(x)) = -(max(-x, 0) + log1p(exp(-|x|))), finite for any x."""
    return -(np.maximum(-x, 0) + np.log1p(np.exp(-np.abs(x))))


class BinaryCrossEntropyWithLogitsBackward0(Node):
    __slots__ = ("reduction", "shape", "size")
    array_backward = True
    saved_names = ("self", "target", "weight", "pos_weight")

    def backward(self, grad):
        x, y, w, pw = self.saved()
        g = _grad_of_elements(grad, self.shape, self.size, self.reduction)
        gx = gy = None
        if self.next_functions[0][0] is not None:
            s = ew.sigmoid(x)
            # d/dx of -w [pw*y*log s + (1-y) log(1-s)] = w [s (pw*y + 1 - y) - pw*y]
            d = s - y if pw is None else s * (pw * y + 1 - y) - pw * y
            gx = g * d if w is None else g * d * w
        if self.next_functions[1][0] is not None:
            # d/dy = w [log sigmoid(-x) - pw log sigmoid(x)]
            log_s = -ew.relu(-x) - ew.log1p(ew.exp(-ew.abs(x)))
            log_1ms = log_s - x
            d = log_1ms - log_s if pw is None else log_1ms - pw * log_s
            gy = g * d if w is None else g * d * w
        return gx, gy


def binary_cross_entropy_with_logits(input, target, weight=None, size_average=None, reduce=None,
                                     reduction="mean", pos_weight=None):
    """Binary cross entropy of ``sigmoid(input)`` against ``target``, computed from logits stably.

    ``loss = -w [pos_weight * y * log sigmoid(x) + (1 - y) * log(1 - sigmoid(x))]``, elementwise, then reduced.

    Args:
        input: logits, any shape.
        target: same shape as ``input``, values in [0, 1].
        weight: rescales each element's loss; broadcastable to ``input``.
        reduction: ``'mean'`` | ``'sum'`` | ``'none'``.
        pos_weight: weight of positive examples, broadcastable to ``input`` (usually one per class, last dim).

    Example::

        loss = F.binary_cross_entropy_with_logits(nk.tensor([2.0, -1.0]), nk.tensor([1.0, 0.0]))
    """
    if size_average is not None or reduce is not None:
        reduction = "none" if reduce is False else "sum" if size_average is False else "mean"
    _check_reduction(reduction, "binary_cross_entropy_with_logits")
    if not isinstance(target, Tensor) or target.shape != input.shape:
        raise ValueError(
            f"Target size ({list(getattr(target, 'shape', []))}) must be the same as input size "
            f"({list(input.shape)}) in binary_cross_entropy_with_logits"
        )
    x, y = input._data, target._data
    if y.dtype != x.dtype:
        target = ew.to_dtype(target, x.dtype)
        y = target._data
    log_s = _log_sigmoid(x)
    log_1ms = log_s - x  # log(1 - sigmoid(x)) = log sigmoid(x) - x
    pw = pos_weight._data if pos_weight is not None else None
    loss = -(y * log_s if pw is None else pw * y * log_s) - (1 - y) * log_1ms
    if weight is not None:
        loss = loss * weight._data
    out = _make(np.asarray(_reduce(loss, reduction), dtype=x.dtype))
    if (input._requires_grad or target._requires_grad) and state.enabled:
        node = BinaryCrossEntropyWithLogitsBackward0((input, target))
        node.reduction, node.shape, node.size = reduction, x.shape, x.size
        node.save(input, target, weight, pos_weight)
        out._requires_grad = True
        out.grad_fn = node
    return out

