"""Loss modules: thin wrappers that keep a loss's settings and call ``nnkit.nn.functional``.

Constructor arguments are PyTorch's, including the deprecated ``size_average``/``reduce`` (which set
``reduction`` with PyTorch's warning). A class ``weight`` (and ``pos_weight``) is registered as a buffer, so it
follows ``.double()`` / ``.to()`` and is saved in ``state_dict()`` when given.
"""

from nnkit.nn import functional as F
from nnkit.nn.functional.loss import _legacy_reduction
from nnkit.nn.module import Module

__all__ = [
    "BCEWithLogitsLoss", "BCELoss", "CrossEntropyLoss", "NLLLoss", "MSELoss", "L1Loss", "SmoothL1Loss", "HuberLoss",
    "KLDivLoss",
]


class _Loss(Module):
    """Base of the losses: holds ``reduction`` ('mean' | 'sum' | 'none'; losses check it when called)."""

    def __init__(self, size_average=None, reduce=None, reduction="mean"):
        super().__init__()
        if size_average is not None or reduce is not None:
            reduction = _legacy_reduction(size_average, reduce, stacklevel=4)
        self.reduction = reduction


class _WeightedLoss(_Loss):
    """A loss with an optional per-class ``weight`` buffer."""

    def __init__(self, weight=None, size_average=None, reduce=None, reduction="mean"):
        super().__init__(size_average, reduce, reduction)
        self.register_buffer("weight", weight)


class BCEWithLogitsLoss(_Loss):
    """Binary cross entropy on logits (sigmoid and BCE fused, stable for any logits).

    See :func:`nnkit.nn.functional.binary_cross_entropy_with_logits`.

    Args:
        weight: rescales each element's loss; broadcastable to the input (a buffer).
        reduction: ``'mean'`` | ``'sum'`` | ``'none'``.
        pos_weight: weight of positive examples, e.g. one per class (a buffer).

    Shape: input ``(*)`` logits, target the same shape with values in [0, 1]; output a scalar, or ``(*)`` with
    ``'none'``.

    Example::

        loss_fn = nn.BCEWithLogitsLoss(pos_weight=nk.tensor([3.0]))
        loss = loss_fn(logits, labels.float())
    """

    def __init__(self, weight=None, size_average=None, reduce=None, reduction="mean", pos_weight=None):
        super().__init__(size_average, reduce, reduction)
        self.register_buffer("weight", weight)
        self.register_buffer("pos_weight", pos_weight)

    def forward(self, input, target):
        """The loss of logits ``input`` against ``target``."""
        return F.binary_cross_entropy_with_logits(input, target, self.weight, reduction=self.reduction,
                                                  pos_weight=self.pos_weight)


class BCELoss(_WeightedLoss):
    """Binary cross entropy on probabilities (logs clamped to >= -100). Prefer :class:`BCEWithLogitsLoss`.

    See :func:`nnkit.nn.functional.binary_cross_entropy`.

    Args:
        weight: rescales each element's loss; broadcastable to the input (a buffer).
        reduction: ``'mean'`` | ``'sum'`` | ``'none'``.

    Shape: input ``(*)`` in [0, 1], target the same shape; output a scalar, or ``(*)`` with ``'none'``.

    Example::

        loss = nn.BCELoss()(probs, labels.float())
    """

    def forward(self, input, target):
        """The loss of probabilities ``input`` against ``target``."""
        return F.binary_cross_entropy(input, target, weight=self.weight, reduction=self.reduction)


class CrossEntropyLoss(_WeightedLoss):
    """Cross entropy between logits and class targets (log-softmax and NLL fused, stable for any logits).

    See :func:`nnkit.nn.functional.cross_entropy`.

    Args:
        weight: per-class weights ``(C,)`` (a buffer).
        ignore_index: an index target value that contributes neither loss nor gradient.
        reduction: ``'mean'`` | ``'sum'`` | ``'none'``.
        label_smoothing: in [0, 1]; the target becomes ``(1 - eps) * target + eps / C``.

    Shape: input ``(N, C)``, ``(N, C, d1, ...)`` or ``(C,)`` logits; target int64 class indices ``(N,)``,
    ``(N, d1, ...)`` or ``()``, or class probabilities of the input's shape; output a scalar, or one loss per
    position with ``'none'``.

    Example::

        loss_fn = nn.CrossEntropyLoss(label_smoothing=0.1)
        loss = loss_fn(model(images), labels)
    """

    def __init__(self, weight=None, size_average=None, ignore_index=-100, reduce=None, reduction="mean",
                 label_smoothing=0.0):
        super().__init__(weight, size_average, reduce, reduction)
        self.ignore_index = ignore_index
        self.label_smoothing = label_smoothing

    def forward(self, input, target):
        """The loss of logits ``input`` against ``target``."""
        return F.cross_entropy(input, target, weight=self.weight, ignore_index=self.ignore_index,
                               reduction=self.reduction, label_smoothing=self.label_smoothing)


class NLLLoss(_WeightedLoss):
    """Negative log likelihood of class-index targets given log-probabilities (e.g. after ``log_softmax``).

    See :func:`nnkit.nn.functional.nll_loss`.

    Args:
        weight: per-class weights ``(C,)`` (a buffer).
        ignore_index: a target value that contributes neither loss nor gradient.
        reduction: ``'mean'`` (divides by the summed weight of the targets) | ``'sum'`` | ``'none'``.

    Shape: input ``(N, C)``, ``(N, C, d1, ...)`` or ``(C,)``; target int64 ``(N,)``, ``(N, d1, ...)`` or ``()``.

    Example::

        loss = nn.NLLLoss()(logits.log_softmax(1), labels)
    """

    def __init__(self, weight=None, size_average=None, ignore_index=-100, reduce=None, reduction="mean"):
        super().__init__(weight, size_average, reduce, reduction)
        self.ignore_index = ignore_index

    def forward(self, input, target):
        """The loss of log-probabilities ``input`` against ``target``."""
        return F.nll_loss(input, target, weight=self.weight, ignore_index=self.ignore_index,
                          reduction=self.reduction)


class MSELoss(_Loss):
    """Mean squared error ``(input - target) ** 2``, reduced. See :func:`nnkit.nn.functional.mse_loss`.

    Shape: input ``(*)``, target the same shape; output a scalar, or ``(*)`` with ``reduction='none'``.

    Example::

        loss = nn.MSELoss()(prediction, target)
    """

    def forward(self, input, target):
        """The loss of ``input`` against ``target``."""
        return F.mse_loss(input, target, reduction=self.reduction)


class L1Loss(_Loss):
    """Mean absolute error ``|input - target|``, reduced. See :func:`nnkit.nn.functional.l1_loss`.

    Shape: input ``(*)``, target the same shape; output a scalar, or ``(*)`` with ``reduction='none'``.

    Example::

        loss = nn.L1Loss()(prediction, target)
    """

    def forward(self, input, target):
        """The loss of ``input`` against ``target``."""
        return F.l1_loss(input, target, reduction=self.reduction)


class SmoothL1Loss(_Loss):
    """Smooth L1: quadratic where ``|d| < beta``, linear beyond. See :func:`nnkit.nn.functional.smooth_l1_loss`.

    Args:
        reduction: ``'mean'`` | ``'sum'`` | ``'none'``.
        beta: where the loss turns from quadratic to linear (>= 0; 0 gives L1).

    Shape: input ``(*)``, target the same shape.

    Example::

        loss = nn.SmoothL1Loss(beta=0.5)(boxes, target_boxes)
    """

    def __init__(self, size_average=None, reduce=None, reduction="mean", beta=1.0):
        super().__init__(size_average, reduce, reduction)
        self.beta = beta

    def forward(self, input, target):
        """The loss of ``input`` against ``target``."""
        return F.smooth_l1_loss(input, target, reduction=self.reduction, beta=self.beta)


class HuberLoss(_Loss):
    """Huber loss: quadratic where ``|d| <= delta``, linear (slope ``delta``) beyond.

    See :func:`nnkit.nn.functional.huber_loss`.

    Args:
        reduction: ``'mean'`` | ``'sum'`` | ``'none'``.
        delta: where the loss turns from quadratic to linear (> 0).

    Shape: input ``(*)``, target the same shape.

    Example::

        loss = nn.HuberLoss(delta=2.0)(prediction, target)
    """

    def __init__(self, reduction="mean", delta=1.0):
        super().__init__(reduction=reduction)
        self.delta = delta

    def forward(self, input, target):
        """The loss of ``input`` against ``target``."""
        return F.huber_loss(input, target, reduction=self.reduction, delta=self.delta)


class KLDivLoss(_Loss):
    """Kullback-Leibler divergence with the input as log-probabilities. See :func:`nnkit.nn.functional.kl_div`.

    Args:
        reduction: ``'mean'`` (warns, as PyTorch) | ``'batchmean'`` (the KL divergence) | ``'sum'`` | ``'none'``.
        log_target: the target holds log-probabilities too.

    Shape: input ``(*)``, target broadcastable to it.

    Example::

        loss = nn.KLDivLoss(reduction="batchmean")(student.log_softmax(1), teacher.softmax(1))
    """

    def __init__(self, size_average=None, reduce=None, reduction="mean", log_target=False):
        super().__init__(size_average, reduce, reduction)
        self.log_target = log_target

    def forward(self, input, target):
        """The divergence of ``target`` from ``input``."""
        return F.kl_div(input, target, reduction=self.reduction, log_target=self.log_target)
