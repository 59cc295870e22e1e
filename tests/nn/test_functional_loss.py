"""Losses: the spec table (forward, gradcheck, gradgradcheck, graph mode, no-grad, PyTorch parity) for every loss
× reduction × notable option, then hand-computed values, stability at extreme logits, warnings and errors."""

import warnings

import numpy as np
import pytest

import nnkit as nk
import nnkit.nn.functional as F
from nnkit.autograd import gradcheck, gradgradcheck
from tests.ops import harness
from tests.ops.harness import OpSpec

REDUCTIONS = ("mean", "sum", "none")


def f64(values, requires_grad=False):
    return nk.tensor(values, dtype=nk.float64, requires_grad=requires_grad)


def torch_F():
    import torch.nn.functional

    return torch.nn.functional


def quiet(fn):
    """``fn`` with warnings silenced (the table runs calls that warn by design: broadcast targets, kl 'mean')."""
    def call(*args):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            return fn(*args)
    return call


# -- numpy references (written independently of the implementation: loops over positions) --------------------
def reduce_ref(loss, reduction, divisor=None):
    if reduction == "none":
        return loss
    if reduction == "sum":
        return loss.sum()
    return loss.sum() / (loss.size if divisor is None else divisor)


def log_softmax_ref(x, axis):
    m = x.max(axis=axis, keepdims=True)
    return x - m - np.log(np.exp(x - m).sum(axis=axis, keepdims=True))


def positions(x):
    """(class axis, iterator over index tuples of positions) of a (C,), (N, C) or (N, C, d...) input."""
    axis = 0 if x.ndim == 1 else 1
    shape = x.shape[:axis] + x.shape[axis + 1:]
    return axis, shape, np.ndindex(*shape)


def class_slice(x, axis, pos):
    return x[pos[:axis] + (slice(None),) + pos[axis:]]


def nll_ref(logp, t, w=None, ignore_index=-100, reduction="mean", eps=0.0):
    """Index-target cross entropy on log-probabilities, with PyTorch's label smoothing and weighting."""
    axis, shape, it = positions(logp)
    n_classes = logp.shape[axis]
    w = np.ones(n_classes) if w is None else w
    loss, total_w = np.zeros(shape), 0.0
    for pos in it:
        target = int(t[pos])
        if target == ignore_index:
            continue
        row = class_slice(logp, axis, pos)
        loss[pos] = -(1 - eps) * w[target] * row[target] - eps / n_classes * (w * row).sum()
        total_w += w[target]
    return reduce_ref(loss, reduction, total_w)


def ce_ref(x, t, w=None, ignore_index=-100, reduction="mean", eps=0.0):
    return nll_ref(log_softmax_ref(x, 0 if x.ndim == 1 else 1), t, w, ignore_index, reduction, eps)


def ce_probs_ref(x, p, w=None, reduction="mean", eps=0.0):
    axis, shape, it = positions(x)
    n_classes = x.shape[axis]
    logp = log_softmax_ref(x, axis)
    w = np.ones(n_classes) if w is None else w
    loss = np.zeros(shape)
    for pos in it:
        s = (1 - eps) * class_slice(p, axis, pos) + eps / n_classes
        loss[pos] = -(w * s * class_slice(logp, axis, pos)).sum()
    return reduce_ref(loss, reduction)


def bce_logits_ref(x, y, w=None, pw=None, reduction="mean"):
    s = 1 / (1 + np.exp(-x))
    pw = 1.0 if pw is None else pw
    loss = -(pw * y * np.log(s) + (1 - y) * np.log(1 - s))
    return reduce_ref(loss if w is None else loss * w, reduction)


def bce_ref(x, y, w=None, reduction="mean"):
    loss = -(y * np.maximum(np.log(x), -100) + (1 - y) * np.maximum(np.log(1 - x), -100))
    return reduce_ref(loss if w is None else loss * w, reduction)


def smooth_l1_ref(x, y, beta, reduction):
    d = np.abs(x - y)
    return reduce_ref(np.where(d < beta, 0.5 * d ** 2 / beta, d - 0.5 * beta), reduction)


def huber_ref(x, y, delta, reduction):
    d = np.abs(x - y)
    return reduce_ref(np.where(d <= delta, 0.5 * d ** 2, delta * (d - 0.5 * delta)), reduction)


def kl_ref(x, t, reduction, log_target):
    loss = np.exp(t) * (t - x) if log_target else t * (np.log(t) - x)
    if reduction == "batchmean":
        return loss.sum() / x.shape[0]
    return reduce_ref(loss, reduction)


# -- input generators ---------------------------------------------------------------------------------------------
def normal(*shapes):
    return lambda rng: [rng.standard_normal(s) for s in shapes]


def probs_and_targets(shape):
    return lambda rng: [rng.uniform(0.05, 0.95, shape), rng.uniform(0, 1, shape)]


def class_inputs(shape, weight=False, ignore=False, probs=False):
    """Logits of ``shape`` (class axis 1, or 0 when 1-D), index or probability targets, optional weight."""
    def make(rng):
        axis = 0 if len(shape) == 1 else 1
        n_classes = shape[axis]
        x = rng.standard_normal(shape)
        if probs:
            e = np.exp(rng.standard_normal(shape))
            t = e / e.sum(axis=axis, keepdims=True)
        else:
            t = rng.integers(0, n_classes, shape[:axis] + shape[axis + 1:])
            if ignore and t.ndim:
                t.flat[0] = -100
        out = [x, t]
        if weight:
            out.append(rng.uniform(0.5, 2.0, n_classes))
        return out
    return make


# -- the table ----------------------------------------------------------------------------------------------------
SPECS = []
L1_NAMES = {"mean": "MeanBackward0", "sum": "SumBackward0", "none": "AbsBackward0"}

for r in REDUCTIONS:
    SPECS += [
        OpSpec(f"mse_{r}", lambda x, y, r=r: F.mse_loss(x, y, reduction=r),
               lambda x, y, r=r: reduce_ref((x - y) ** 2, r), normal((3, 4), (3, 4)),
               torch_fn=lambda x, y, r=r: torch_F().mse_loss(x, y, reduction=r),
               grad_fn="MseLossBackward0"),
        OpSpec(f"l1_{r}", lambda x, y, r=r: F.l1_loss(x, y, reduction=r),
               lambda x, y, r=r: reduce_ref(np.abs(x - y), r), normal((3, 4), (3, 4)),
               torch_fn=lambda x, y, r=r: torch_F().l1_loss(x, y, reduction=r), grad_fn=L1_NAMES[r]),
        OpSpec(f"smooth_l1_{r}", lambda x, y, r=r: F.smooth_l1_loss(x, y, reduction=r),
               lambda x, y, r=r: smooth_l1_ref(x, y, 1.0, r), normal((3, 4), (3, 4)),
               torch_fn=lambda x, y, r=r: torch_F().smooth_l1_loss(x, y, reduction=r), grad_fn="SmoothL1LossBackward0"),
        OpSpec(f"huber_{r}", lambda x, y, r=r: F.huber_loss(x, y, reduction=r),
               lambda x, y, r=r: huber_ref(x, y, 1.0, r), normal((3, 4), (3, 4)),
               torch_fn=lambda x, y, r=r: torch_F().huber_loss(x, y, reduction=r), grad_fn="HuberLossBackward0"),
        OpSpec(f"bce_{r}", lambda x, y, r=r: F.binary_cross_entropy(x, y, reduction=r),
               lambda x, y, r=r: bce_ref(x, y, reduction=r), probs_and_targets((3, 4)),
               torch_fn=lambda x, y, r=r: torch_F().binary_cross_entropy(x, y, reduction=r),
               grad_fn="BinaryCrossEntropyBackward0"),
        OpSpec(f"bce_weight_{r}", lambda x, y, w, r=r: F.binary_cross_entropy(x, y, w, reduction=r),
               lambda x, y, w, r=r: bce_ref(x, y, w, r),
               lambda rng: probs_and_targets((3, 4))(rng) + [rng.uniform(0.5, 2, 4)], diff=(0, 1),
               torch_fn=lambda x, y, w, r=r: torch_F().binary_cross_entropy(x, y, w, reduction=r),
               grad_fn="BinaryCrossEntropyBackward0"),
        OpSpec(f"bce_logits_{r}", lambda x, y, r=r: F.binary_cross_entropy_with_logits(x, y, reduction=r),
               lambda x, y, r=r: bce_logits_ref(x, y, reduction=r),
               lambda rng: [rng.standard_normal((3, 4)), rng.uniform(0, 1, (3, 4))],
               torch_fn=lambda x, y, r=r: torch_F().binary_cross_entropy_with_logits(x, y, reduction=r),
               grad_fn="BinaryCrossEntropyWithLogitsBackward0"),
        OpSpec(f"bce_logits_weights_{r}",
               lambda x, y, w, pw, r=r: F.binary_cross_entropy_with_logits(x, y, w, reduction=r, pos_weight=pw),
               lambda x, y, w, pw, r=r: bce_logits_ref(x, y, w, pw, r),
               lambda rng: [rng.standard_normal((3, 4)), rng.uniform(0, 1, (3, 4)), rng.uniform(0.5, 2, 4),
                            rng.uniform(0.5, 2, 4)], diff=(0, 1),
               torch_fn=lambda x, y, w, pw, r=r: torch_F().binary_cross_entropy_with_logits(
                   x, y, w, reduction=r, pos_weight=pw),
               grad_fn="BinaryCrossEntropyWithLogitsBackward0"),
        # class-index targets
        OpSpec(f"nll_{r}", lambda x, t, r=r: F.nll_loss(x, t, reduction=r),
               lambda x, t, r=r: nll_ref(x, t, reduction=r), class_inputs((4, 3)),
               torch_fn=lambda x, t, r=r: torch_F().nll_loss(x, t, reduction=r),
               grad_fn="NllLossBackward0"),
        OpSpec(f"nll_weight_ignore_{r}", lambda x, t, w, r=r: F.nll_loss(x, t, w, reduction=r),
               lambda x, t, w, r=r: nll_ref(x, t, w, reduction=r), class_inputs((5, 3), weight=True, ignore=True),
               diff=(0,), torch_fn=lambda x, t, w, r=r: torch_F().nll_loss(x, t, w, reduction=r),
               grad_fn="NllLossBackward0"),
        # a weight and no ignored target: the unmasked path, which keeps the per-position weights only
        OpSpec(f"nll_weight_{r}", lambda x, t, w, r=r: F.nll_loss(x, t, w, reduction=r),
               lambda x, t, w, r=r: nll_ref(x, t, w, reduction=r), class_inputs((5, 3), weight=True),
               diff=(0,), torch_fn=lambda x, t, w, r=r: torch_F().nll_loss(x, t, w, reduction=r),
               grad_fn="NllLossBackward0"),
        OpSpec(f"ce_weight_{r}", lambda x, t, w, r=r: F.cross_entropy(x, t, w, reduction=r),
               lambda x, t, w, r=r: ce_ref(x, t, w, reduction=r), class_inputs((5, 3), weight=True),
               diff=(0,), torch_fn=lambda x, t, w, r=r: torch_F().cross_entropy(x, t, w, reduction=r),
               grad_fn="NllLossBackward0"),
        OpSpec(f"ce_spatial_weight_smoothing_{r}",
               lambda x, t, w, r=r: F.cross_entropy(x, t, w, reduction=r, label_smoothing=0.2),
               lambda x, t, w, r=r: ce_ref(x, t, w, reduction=r, eps=0.2), class_inputs((2, 3, 2, 2), weight=True),
               diff=(0,), torch_fn=lambda x, t, w, r=r: torch_F().cross_entropy(x, t, w, reduction=r,
                                                                                label_smoothing=0.2),
               grad_fn="AddBackward0"),
        OpSpec(f"nll_spatial_{r}", lambda x, t, w, r=r: F.nll_loss(x, t, w, reduction=r),
               lambda x, t, w, r=r: nll_ref(x, t, w, reduction=r),
               class_inputs((2, 3, 2, 2), weight=True, ignore=True), diff=(0,),
               torch_fn=lambda x, t, w, r=r: torch_F().nll_loss(x, t, w, reduction=r), grad_fn="NllLoss2DBackward0"),
        OpSpec(f"ce_{r}", lambda x, t, r=r: F.cross_entropy(x, t, reduction=r),
               lambda x, t, r=r: ce_ref(x, t, reduction=r), class_inputs((4, 3)),
               torch_fn=lambda x, t, r=r: torch_F().cross_entropy(x, t, reduction=r), grad_fn="NllLossBackward0"),
        OpSpec(f"ce_weight_ignore_{r}", lambda x, t, w, r=r: F.cross_entropy(x, t, w, reduction=r),
               lambda x, t, w, r=r: ce_ref(x, t, w, reduction=r), class_inputs((5, 3), weight=True, ignore=True),
               diff=(0,), torch_fn=lambda x, t, w, r=r: torch_F().cross_entropy(x, t, w, reduction=r),
               grad_fn="NllLossBackward0"),
        OpSpec(f"ce_smoothing_{r}", lambda x, t, r=r: F.cross_entropy(x, t, reduction=r, label_smoothing=0.2),
               lambda x, t, r=r: ce_ref(x, t, reduction=r, eps=0.2), class_inputs((4, 3), ignore=True),
               torch_fn=lambda x, t, r=r: torch_F().cross_entropy(x, t, reduction=r, label_smoothing=0.2),
               grad_fn="AddBackward0"),
        OpSpec(f"ce_smoothing_weight_ignore_{r}",
               lambda x, t, w, r=r: F.cross_entropy(x, t, w, ignore_index=1, reduction=r, label_smoothing=0.3),
               lambda x, t, w, r=r: ce_ref(x, t, w, 1, r, 0.3), class_inputs((6, 3), weight=True), diff=(0,),
               torch_fn=lambda x, t, w, r=r: torch_F().cross_entropy(
                   x, t, w, ignore_index=1, reduction=r, label_smoothing=0.3),
               grad_fn="AddBackward0"),
        OpSpec(f"ce_spatial_{r}", lambda x, t, w, r=r: F.cross_entropy(x, t, w, reduction=r, label_smoothing=0.1),
               lambda x, t, w, r=r: ce_ref(x, t, w, reduction=r, eps=0.1),
               class_inputs((2, 3, 2, 2), weight=True, ignore=True), diff=(0,),
               torch_fn=lambda x, t, w, r=r: torch_F().cross_entropy(x, t, w, reduction=r, label_smoothing=0.1),
               grad_fn="AddBackward0"),
        OpSpec(f"ce_spatial_plain_{r}", lambda x, t, r=r: F.cross_entropy(x, t, reduction=r),
               lambda x, t, r=r: ce_ref(x, t, reduction=r), class_inputs((2, 3, 2, 2)),
               torch_fn=lambda x, t, r=r: torch_F().cross_entropy(x, t, reduction=r), grad_fn="NllLoss2DBackward0"),
        OpSpec(f"ce_unbatched_{r}", lambda x, t, r=r: F.cross_entropy(x, t, reduction=r, label_smoothing=0.1),
               lambda x, t, r=r: ce_ref(x, t, reduction=r, eps=0.1), class_inputs((4,)),
               torch_fn=lambda x, t, r=r: torch_F().cross_entropy(x, t, reduction=r, label_smoothing=0.1),
               grad_fn="AddBackward0"),
        # class-probability targets (differentiable too)
        OpSpec(f"ce_probs_{r}", lambda x, p, r=r: F.cross_entropy(x, p, reduction=r),
               lambda x, p, r=r: ce_probs_ref(x, p, reduction=r), class_inputs((4, 3), probs=True),
               torch_fn=lambda x, p, r=r: torch_F().cross_entropy(x, p, reduction=r),
               grad_fn="DivBackward1" if r == "mean" else "NegBackward0"),
        OpSpec(f"ce_probs_weight_smoothing_{r}",
               lambda x, p, w, r=r: F.cross_entropy(x, p, w, reduction=r, label_smoothing=0.2),
               lambda x, p, w, r=r: ce_probs_ref(x, p, w, r, 0.2), class_inputs((4, 3), weight=True, probs=True),
               diff=(0, 1), torch_fn=lambda x, p, w, r=r: torch_F().cross_entropy(
                   x, p, w, reduction=r, label_smoothing=0.2),
               grad_fn="DivBackward1" if r == "mean" else "NegBackward0"),
        OpSpec(f"ce_probs_spatial_{r}", lambda x, p, w, r=r: F.cross_entropy(x, p, w, reduction=r),
               lambda x, p, w, r=r: ce_probs_ref(x, p, w, r), class_inputs((2, 3, 2, 2), weight=True, probs=True),
               diff=(0, 1), torch_fn=lambda x, p, w, r=r: torch_F().cross_entropy(x, p, w, reduction=r),
               grad_fn="DivBackward1" if r == "mean" else "NegBackward0"),
    ]

for r in REDUCTIONS + ("batchmean",):
    for log_target in (False, True):
        SPECS.append(OpSpec(
            f"kl_div_{r}{'_log_target' if log_target else ''}",
            quiet(lambda x, t, r=r, lt=log_target: F.kl_div(x, t, reduction=r, log_target=lt)),
            lambda x, t, r=r, lt=log_target: kl_ref(x, t, r, lt),
            (lambda rng: [rng.standard_normal((3, 4)), rng.standard_normal((3, 4))]) if log_target
            else (lambda rng: [rng.standard_normal((3, 4)), rng.uniform(0.1, 1, (3, 4))]),
            torch_fn=quiet(lambda x, t, r=r, lt=log_target: torch_F().kl_div(x, t, reduction=r, log_target=lt)),
            grad_fn={"mean": "MeanBackward0", "sum": "SumBackward0", "batchmean": "DivBackward0",
                     "none": "MulBackward0" if log_target else "SubBackward0"}[r],
        ))

SPECS += [
    OpSpec("mse_broadcast_target", quiet(lambda x, y: F.mse_loss(x, y)), lambda x, y: ((x - y) ** 2).mean(),
           normal((3, 4), (4,)), torch_fn=quiet(lambda x, y: torch_F().mse_loss(x, y)), grad_fn="MseLossBackward0"),
    OpSpec("smooth_l1_beta_half", lambda x, y: F.smooth_l1_loss(x, y, beta=0.5),
           lambda x, y: smooth_l1_ref(x, y, 0.5, "mean"), normal((3, 4), (3, 4)),
           torch_fn=lambda x, y: torch_F().smooth_l1_loss(x, y, beta=0.5), grad_fn="SmoothL1LossBackward0"),
    OpSpec("smooth_l1_beta_zero_is_l1", lambda x, y: F.smooth_l1_loss(x, y, reduction="sum", beta=0.0),
           lambda x, y: np.abs(x - y).sum(), normal((3, 4), (3, 4)),
           torch_fn=lambda x, y: torch_F().smooth_l1_loss(x, y, reduction="sum", beta=0.0), grad_fn="SumBackward0"),
    OpSpec("huber_delta_half", lambda x, y: F.huber_loss(x, y, delta=0.5), lambda x, y: huber_ref(x, y, 0.5, "mean"),
           normal((3, 4), (3, 4)), torch_fn=lambda x, y: torch_F().huber_loss(x, y, delta=0.5),
           grad_fn="HuberLossBackward0"),
    OpSpec("nll_unbatched", lambda x, t: F.nll_loss(x, t), lambda x, t: nll_ref(x, t), class_inputs((4,)),
           torch_fn=lambda x, t: torch_F().nll_loss(x, t), grad_fn="NllLossBackward0"),
    OpSpec("nll_3d_none", lambda x, t: F.nll_loss(x, t, reduction="none"),
           lambda x, t: nll_ref(x, t, reduction="none"), class_inputs((2, 3, 4)),
           torch_fn=lambda x, t: torch_F().nll_loss(x, t, reduction="none"), grad_fn="ViewBackward0"),
    OpSpec("ce_3d_mean", lambda x, t: F.cross_entropy(x, t), lambda x, t: ce_ref(x, t), class_inputs((2, 3, 4)),
           torch_fn=lambda x, t: torch_F().cross_entropy(x, t), grad_fn="NllLoss2DBackward0"),
    OpSpec("ce_probs_unbatched", lambda x, p: F.cross_entropy(x, p), lambda x, p: ce_probs_ref(x, p),
           class_inputs((4,), probs=True), torch_fn=lambda x, p: torch_F().cross_entropy(x, p),
           grad_fn="DivBackward1"),
    OpSpec("ce_probs_unbatched_weight_grad", lambda x, p, w: F.cross_entropy(x, p, w, label_smoothing=0.1),
           lambda x, p, w: ce_probs_ref(x, p, w, eps=0.1), class_inputs((4,), weight=True, probs=True),
           torch_fn=lambda x, p, w: torch_F().cross_entropy(x, p, w, label_smoothing=0.1), grad_fn="DivBackward1"),
]
# With probability targets the class weight is differentiable too (as in PyTorch, which composes the loss).
SPECS += [
    OpSpec(f"ce_probs_weight_grad_{r}", lambda x, p, w, r=r: F.cross_entropy(x, p, w, reduction=r, label_smoothing=0.2),
           lambda x, p, w, r=r: ce_probs_ref(x, p, w, r, 0.2), class_inputs((2, 3, 2), weight=True, probs=True),
           torch_fn=lambda x, p, w, r=r: torch_F().cross_entropy(x, p, w, reduction=r, label_smoothing=0.2),
           grad_fn="DivBackward1" if r == "mean" else "NegBackward0")
    for r in REDUCTIONS
]

harness.make_tests(SPECS, globals())


# -- hand-computed values ------------------------------------------------------------------------------------------
def test_regression_losses_by_hand():
    x, y = f64([0.5, 3.0, -2.0]), f64([0.0, 0.0, -2.5])
    # d = 0.5, 3, 0.5
    assert F.mse_loss(x, y).item() == pytest.approx((0.25 + 9 + 0.25) / 3)
    assert F.l1_loss(x, y, reduction="sum").item() == pytest.approx(4.0)
    np.testing.assert_allclose(F.smooth_l1_loss(x, y, reduction="none").numpy(), [0.125, 2.5, 0.125])
    np.testing.assert_allclose(F.smooth_l1_loss(x, y, reduction="none", beta=4.0).numpy(), [1 / 32, 9 / 8, 1 / 32])
    np.testing.assert_allclose(F.huber_loss(x, y, reduction="none", delta=2.0).numpy(), [0.125, 4.0, 0.125])


def test_cross_entropy_by_hand():
    # Uniform logits: every class has probability 1/C, so the loss is log C whatever the target.
    x = f64(np.zeros((2, 4)))
    assert F.cross_entropy(x, nk.tensor([0, 3])).item() == pytest.approx(np.log(4))
    logits = f64([[2.0, 0.5, -1.0], [0.1, 0.2, 3.0]])
    lp = log_softmax_ref(logits.numpy(), 1)
    assert F.cross_entropy(logits, nk.tensor([0, 2])).item() == pytest.approx(-(lp[0, 0] + lp[1, 2]) / 2)
    # weights: mean divides by the weights of the targets (2 + 3), not by N
    w = f64([2.0, 1.0, 3.0])
    expected = -(2 * lp[0, 0] + 3 * lp[1, 2]) / 5
    assert F.cross_entropy(logits, nk.tensor([0, 2]), weight=w).item() == pytest.approx(expected)
    # label smoothing: (1 - eps) * nll + eps / C * sum_c(-logp_c), averaged
    eps = 0.1
    expected = np.mean([(1 - eps) * -lp[i, t] + eps / 3 * -lp[i].sum() for i, t in ((0, 0), (1, 2))])
    assert F.cross_entropy(logits, nk.tensor([0, 2]), label_smoothing=eps).item() == pytest.approx(expected)
    # one-hot probability targets give the index-target loss
    onehot = f64([[1.0, 0.0, 0.0], [0.0, 0.0, 1.0]])
    assert F.cross_entropy(logits, onehot).item() == pytest.approx(-(lp[0, 0] + lp[1, 2]) / 2)


def test_nll_kl_bce_by_hand():
    logp = f64(np.log([[0.2, 0.8], [0.6, 0.4]]))
    assert F.nll_loss(logp, nk.tensor([1, 0])).item() == pytest.approx(-(np.log(0.8) + np.log(0.6)) / 2)
    np.testing.assert_allclose(F.nll_loss(logp, nk.tensor([1, 0]), reduction="none").numpy(),
                               -np.log([0.8, 0.6]))
    p = f64([[0.2, 0.8]])
    kl = 0.2 * np.log(0.2 / 0.5) + 0.8 * np.log(0.8 / 0.5)
    assert F.kl_div(f64(np.log([[0.5, 0.5]])), p, reduction="batchmean").item() == pytest.approx(kl)
    # target 0 contributes 0 (0 log 0 = 0), not nan
    assert F.kl_div(f64([-1.0, -2.0]), f64([0.0, 1.0]), reduction="sum").item() == pytest.approx(2.0)
    assert F.binary_cross_entropy(f64([0.9, 0.2]), f64([1.0, 0.0])).item() == pytest.approx(
        -(np.log(0.9) + np.log(0.8)) / 2)


@pytest.mark.parametrize("reduction", REDUCTIONS)
def test_bce_with_logits_values(reduction):
    x = np.array([[0.5, -1.0, 2.0], [0.0, 3.0, -0.2]])
    y = np.array([[1.0, 0.0, 1.0], [0.5, 0.0, 1.0]])
    w = np.array([1.0, 2.0, 0.5])
    pw = np.array([2.0, 1.0, 3.0])
    out = F.binary_cross_entropy_with_logits(f64(x), f64(y), weight=f64(w), pos_weight=f64(pw), reduction=reduction)
    np.testing.assert_allclose(out.numpy(), bce_logits_ref(x, y, w, pw, reduction), rtol=1e-12)


def test_ignore_index_and_all_ignored():
    x = f64([[1.0, 2.0, 3.0], [0.5, 0.1, -1.0]], requires_grad=True)
    # an ignore_index outside [0, C) is allowed; that position gets neither loss nor gradient
    loss = F.cross_entropy(x, nk.tensor([7, 1]), ignore_index=7, reduction="none")
    assert loss[0].item() == 0.0
    loss.sum().backward()
    np.testing.assert_array_equal(x.grad.numpy()[0], 0.0)
    # every target ignored: 'mean' is nan (0 / 0) but the gradient is 0, as in PyTorch
    for fn in (F.cross_entropy, F.nll_loss):
        x.grad = None
        loss = fn(x, nk.tensor([-100, -100]))
        assert np.isnan(loss.item())
        loss.backward()
        np.testing.assert_array_equal(x.grad.numpy(), 0.0)
    assert F.nll_loss(x, nk.tensor([-100, -100]), reduction="sum").item() == 0.0


@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("shape", [(6, 4), (2, 4, 3)])
def test_masked_and_unmasked_paths_agree(reduction, shape):
    # ignore_index inside [0, C) takes the masked path even when no target hits it; -100 (no target ignored)
    # takes the unmasked one. Both must give the same losses and gradients.
    rng = np.random.default_rng(0)
    x = rng.standard_normal(shape)
    t = nk.tensor(rng.integers(0, 3, (shape[0],) + shape[2:]))  # class 3 never occurs
    w = f64(rng.uniform(0.5, 2.0, shape[1]))
    calls = [
        lambda x, ii: F.cross_entropy(x, t, reduction=reduction, ignore_index=ii),
        lambda x, ii: F.cross_entropy(x, t, w, reduction=reduction, ignore_index=ii, label_smoothing=0.1),
        lambda x, ii: F.nll_loss(x, t, w, reduction=reduction, ignore_index=ii),
    ]
    for call in calls:
        results = []
        for ignore_index in (-100, 3):
            xt = f64(x, requires_grad=True)
            loss = call(xt, ignore_index)
            loss.sum().backward()
            results.append((loss.detach().numpy(), xt.grad.numpy()))
        np.testing.assert_allclose(results[0][0], results[1][0], rtol=1e-13)
        np.testing.assert_allclose(results[0][1], results[1][1], rtol=1e-13, atol=1e-16)


@pytest.mark.parametrize("label_smoothing", [0.0, 0.2])
def test_class_losses_of_a_non_contiguous_input(label_smoothing):
    # targets are picked and their gradient placed through flat indices into C-order arrays
    rng = np.random.default_rng(1)
    a, t = rng.standard_normal((5, 6)), rng.integers(0, 5, 6)
    losses = [(lambda x: F.cross_entropy(x.t(), nk.tensor(t), reduction="none", label_smoothing=label_smoothing),
               ce_ref(a.T, t, reduction="none", eps=label_smoothing))]
    if not label_smoothing:
        losses.append((lambda x: F.nll_loss(x.t(), nk.tensor(t), reduction="none"), nll_ref(a.T, t, reduction="none")))
    for fn, expected in losses:
        x = f64(a, requires_grad=True)
        np.testing.assert_allclose(fn(x).detach().numpy(), expected, rtol=1e-12)
        assert gradcheck(fn, (x,))
        assert gradgradcheck(fn, (x,))


def test_empty_batch():
    # PyTorch: 'mean' of no positions is nan (0 / 0), 'sum' is 0, the gradient is empty
    x = nk.zeros(0, 3, requires_grad=True)
    t = nk.tensor(np.zeros(0, np.int64))
    assert np.isnan(F.cross_entropy(x, t).item())
    loss = F.cross_entropy(x, t, reduction="sum")
    assert loss.item() == 0.0
    loss.backward()
    assert x.grad.shape == (0, 3)


def test_target_gradients():
    x, y = f64([1.0, 2.0], requires_grad=True), f64([0.0, 4.0], requires_grad=True)
    F.mse_loss(x, y).backward()
    np.testing.assert_allclose(x.grad.numpy(), [1.0, -2.0])
    np.testing.assert_allclose(y.grad.numpy(), [-1.0, 2.0])
    # only the target requires grad
    y = f64([0.2, 0.7], requires_grad=True)
    F.binary_cross_entropy(f64([0.5, 0.9]), y, reduction="sum").backward()
    np.testing.assert_allclose(y.grad.numpy(), [0.0, -np.log(9)], rtol=1e-6)


def test_unbatched_and_byte_targets():
    x = f64([0.1, 2.0, -1.0])
    by_scalar = F.cross_entropy(x, nk.tensor(1), reduction="none")
    assert by_scalar.shape == ()
    assert F.cross_entropy(x, nk.tensor([1]), reduction="none").item() == pytest.approx(by_scalar.item())
    logits = f64([[0.1, 2.0, -1.0], [1.0, 1.0, 1.0]])
    a = F.cross_entropy(logits, nk.tensor([2, 0]))
    b = F.cross_entropy(logits, nk.tensor([2, 0], dtype=nk.uint8))
    assert a.item() == b.item()


def test_float32_stays_float32():
    x = nk.randn(4, 3, requires_grad=True)
    y = nk.rand(4, 3)
    for loss in (F.cross_entropy(x, nk.tensor([0, 1, 2, 0]), label_smoothing=0.1), F.mse_loss(x, y),
                 F.cross_entropy(x, y), F.kl_div(x, y, reduction="batchmean"), F.huber_loss(x, y),
                 F.binary_cross_entropy_with_logits(x, y), F.nll_loss(x, nk.tensor([0, 1, 2, 0]))):
        assert loss.dtype == nk.float32
        (g,) = nk.autograd.grad(loss, x)
        assert g.dtype == nk.float32


# -- stability ----------------------------------------------------------------------------------------------------
@pytest.mark.parametrize("dtype", [nk.float32, nk.float64])
def test_cross_entropy_stable_at_huge_logits(dtype):
    x = nk.tensor([[1e4, -1e4, 0.0], [-1e4, 1e4, 1e4]], dtype=dtype, requires_grad=True)
    loss = F.cross_entropy(x, nk.tensor([1, 0]), reduction="none")
    np.testing.assert_allclose(loss.detach().numpy(), [2e4, 2e4 + np.log(2)], rtol=1e-6)
    loss.sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), [[1, -1, 0], [-1, 0.5, 0.5]], atol=1e-6)
    for kwargs in ({"label_smoothing": 0.1}, {}):
        x.grad = None
        target = nk.tensor([[0.0, 1.0, 0.0], [0.5, 0.5, 0.0]], dtype=dtype) if not kwargs else nk.tensor([1, 0])
        loss = F.cross_entropy(x, target, **kwargs)
        loss.backward()
        assert np.isfinite(loss.item()) and np.isfinite(x.grad.numpy()).all()


def test_bce_with_logits_is_stable_at_huge_logits():
    x = nk.tensor([1e4, -1e4, 1e4, -1e4], requires_grad=True)
    y = nk.tensor([1.0, 0.0, 0.0, 1.0])
    loss = F.binary_cross_entropy_with_logits(x, y, reduction="none")
    np.testing.assert_allclose(loss.detach().numpy(), [0.0, 0.0, 1e4, 1e4])
    loss.sum().backward()
    np.testing.assert_array_equal(x.grad.numpy(), [0.0, 0.0, 1.0, -1.0])


def test_bce_clamps_log_at_minus_100():
    x = f64([0.0, 1.0, 0.0, 1.0], requires_grad=True)
    loss = F.binary_cross_entropy(x, f64([1.0, 0.0, 0.0, 1.0]), reduction="none")
    np.testing.assert_array_equal(loss.detach().numpy(), [100.0, 100.0, 0.0, 0.0])
    loss.sum().backward()
    # PyTorch's gradient (x - y) / max(x (1 - x), 1e-12): huge but finite
    np.testing.assert_allclose(x.grad.numpy(), [-1e12, 1e12, 0.0, 0.0])


def test_kl_div_and_nll_stable_at_huge_log_probs():
    x = f64([[-1e4, 0.0]], requires_grad=True)
    loss = F.kl_div(x, f64([[0.5, 0.5]]), reduction="batchmean")
    assert np.isfinite(loss.item())
    loss.backward()
    np.testing.assert_allclose(x.grad.numpy(), [[-0.5, -0.5]])


# -- double backward, saved tensors --------------------------------------------------------------------------------
def test_second_derivative_of_cross_entropy_is_the_softmax_jacobian():
    x = f64([[0.3, -0.2, 1.0]], requires_grad=True)
    (g,) = nk.autograd.grad(F.cross_entropy(x, nk.tensor([2])), x, create_graph=True)
    p = np.exp(log_softmax_ref(x.detach().numpy(), 1))[0]
    np.testing.assert_allclose(g.detach().numpy()[0], p - [0, 0, 1])
    (h0,) = nk.autograd.grad(g[0, 0], x)
    np.testing.assert_allclose(h0.numpy()[0], p[0] * (np.eye(3)[0] - p))


def test_in_place_change_of_saved_target_is_caught():
    x = f64([[0.3, -0.2, 1.0]], requires_grad=True)
    t = nk.tensor([2])
    loss = F.cross_entropy(x, t)
    t.add_(0)  # bumps the version
    with pytest.raises(RuntimeError, match="modified by an inplace operation"):
        loss.backward()


def test_second_backward_through_freed_graph_raises():
    x = f64([[0.3, -0.2, 1.0]], requires_grad=True)
    loss = F.nll_loss(x, nk.tensor([2]))
    loss.backward()
    with pytest.raises(RuntimeError, match="Trying to backward through the graph a second time"):
        loss.backward()


def test_bce_with_logits_gradgradcheck_weights():
    rng = np.random.default_rng(0)
    x = f64(rng.standard_normal((3, 4)), requires_grad=True)
    y = f64(rng.uniform(0, 1, (3, 4)), requires_grad=True)
    kwargs = {"weight": f64(rng.uniform(0.5, 2, 4)), "pos_weight": f64(rng.uniform(0.5, 2, 4))}
    assert gradcheck(lambda a, b: F.binary_cross_entropy_with_logits(a, b, **kwargs), (x, y))
    assert gradgradcheck(lambda a, b: F.binary_cross_entropy_with_logits(a, b, **kwargs), (x, y))


# -- reduction arguments and warnings ------------------------------------------------------------------------------
@pytest.mark.parametrize("size_average, reduce, expected", [
    (False, None, "sum"), (None, False, "none"), (True, True, "mean"), (False, False, "none"),
])
def test_legacy_size_average_and_reduce(size_average, reduce, expected):
    x, y = f64([[1.0, 2.0], [3.0, 5.0]]), f64([[0.0, 0.0], [0.0, 0.0]])
    with pytest.warns(UserWarning, match=f"please use reduction='{expected}' instead"):
        legacy = F.mse_loss(x, y, size_average=size_average, reduce=reduce, reduction="mean")
    np.testing.assert_allclose(legacy.numpy(), F.mse_loss(x, y, reduction=expected).numpy())


@pytest.mark.parametrize("fn, args", [
    (F.mse_loss, (f64([1.0]), f64([1.0]))), (F.l1_loss, (f64([1.0]), f64([1.0]))),
    (F.smooth_l1_loss, (f64([1.0]), f64([1.0]))), (F.huber_loss, (f64([1.0]), f64([1.0]))),
    (F.binary_cross_entropy, (f64([0.5]), f64([1.0]))), (F.binary_cross_entropy_with_logits, (f64([0.5]), f64([1.0]))),
    (F.kl_div, (f64([0.5]), f64([1.0]))), (F.nll_loss, (f64([[0.5]]), nk.tensor([0]))),
    (F.cross_entropy, (f64([[0.5]]), nk.tensor([0]))),
])
def test_invalid_reduction(fn, args):
    with pytest.raises(ValueError, match="^avg is not a valid value for reduction"):
        fn(*args, reduction="avg")


def test_kl_div_mean_warns_and_batchmean_does_not():
    x, t = f64([[-1.0, -0.5]]), f64([[0.3, 0.7]])
    with pytest.warns(UserWarning, match="reduction: 'mean' divides the total loss by both the batch size"):
        F.kl_div(x, t)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        F.kl_div(x, t, reduction="batchmean")
        F.kl_div(x, f64([0.3, 0.7]), reduction="sum")  # broadcasting: no warning for kl_div, as PyTorch


@pytest.mark.parametrize("fn", [F.mse_loss, F.l1_loss, F.smooth_l1_loss, F.huber_loss])
def test_broadcast_target_warns(fn):
    with pytest.warns(UserWarning, match=r"Using a target size \(\[4\]\) that is different to the input size "
                                         r"\(\[3, 4\]\)"):
        fn(nk.zeros(3, 4), nk.zeros(4))
    with pytest.raises(RuntimeError, match="The size of tensor a \\(4\\) must match the size of tensor b \\(5\\)"):
        fn(nk.zeros(3, 4), nk.zeros(5))


# -- errors --------------------------------------------------------------------------------------------------------
# Each call takes the library module ``m`` (nnkit or torch) and its functional module ``F``, so that the same case
# runs against PyTorch too: same exception type, same first sentence.
CLASS_ERRORS = [
    (lambda m, F: F.cross_entropy(m.zeros(3, 4), m.tensor([0, 1])), ValueError,
     r"^Expected input batch_size \(3\) to match target batch_size \(2\)\."),
    (lambda m, F: F.nll_loss(m.zeros(3, 4), m.tensor([0, 1, 5])), IndexError, r"^Target 5 is out of bounds\."),
    (lambda m, F: F.cross_entropy(m.zeros(3, 4), m.tensor([0, 1, -3])), IndexError, r"^Target -3 is out of bounds\."),
    (lambda m, F: F.cross_entropy(m.zeros(3, 4), m.tensor([0.0, 1.0, 2.0])), RuntimeError,
     "^expected target dtype to be Long or Byte, but got Float"),
    (lambda m, F: F.nll_loss(m.zeros(3, 4), m.tensor([0, 1, 2], dtype=m.int32)), RuntimeError,
     "^expected target dtype to be Long or Byte, but got Int"),
    (lambda m, F: F.nll_loss(m.zeros(3, 4), m.zeros(3, 2, dtype=m.int64)), RuntimeError,
     "^0D or 1D target tensor expected, multi-target not supported"),
    (lambda m, F: F.nll_loss(m.zeros(2, 3, 4, 5), m.zeros(2, 4, dtype=m.int64)), RuntimeError,
     "^only batches of spatial targets supported \\(3D tensors\\) but got targets of dimension: 2"),
    (lambda m, F: F.nll_loss(m.zeros(2, 3, 4, 5), m.zeros(2, 4, 6, dtype=m.int64)), RuntimeError,
     r"^size mismatch \(got input: \[2, 3, 4, 5\] , target: \[2, 4, 6\]"),
    (lambda m, F: F.cross_entropy(m.zeros(2, 3, 4), m.zeros(2, 5, dtype=m.int64)), RuntimeError,
     r"^Expected target size \[2, 4\], got \[2, 5\]"),
    (lambda m, F: F.nll_loss(m.zeros(4), m.tensor([1, 2])), ValueError,
     "^For 1D input, 1D target must have size 1, but got target size: 2"),
    (lambda m, F: F.nll_loss(m.tensor(1.0), m.tensor(0)), ValueError, r"^Expected 1 or more dimensions \(got 0\)"),
    (lambda m, F: F.cross_entropy(m.zeros(3, 4), m.tensor([0, 1, 2]), weight=m.ones(3)), RuntimeError,
     r"^weight tensor should be defined either for all 4 classes or no classes but got weight tensor of shape: \[3\]"),
    (lambda m, F: F.cross_entropy(m.zeros(3, 4), m.rand(3, 4), weight=m.ones(3)), RuntimeError,
     "^cross_entropy: weight tensor should be defined either for all 4 classes"),
    (lambda m, F: F.nll_loss(m.zeros(3, 4), m.tensor([0, 1, 2]), weight=m.ones(4, dtype=m.float64)), RuntimeError,
     "^expected scalar type Float but found Double"),
    (lambda m, F: F.nll_loss(m.zeros(3, 4), m.tensor([0, 1, 2]), weight=m.ones(4, requires_grad=True)).sum(),
     RuntimeError, "The function 'nll_loss_forward' is not differentiable with respect to argument 'weight'"),
    (lambda m, F: F.cross_entropy(m.zeros(3, 4), m.tensor([0, 1, 2]), label_smoothing=1.5), RuntimeError,
     r"^label_smoothing must be between 0\.0 and 1\.0\. Got: 1\.5"),
    (lambda m, F: F.cross_entropy(m.zeros(3, 4), m.zeros(3, 4, dtype=m.int64)), RuntimeError,
     "^Expected floating point type for target with class probabilities, got Long"),
    (lambda m, F: F.cross_entropy(m.zeros(3, 4), m.rand(3, 4), ignore_index=1), RuntimeError,
     "^ignore_index is not supported for floating point target"),
]
OTHER_ERRORS = [
    (lambda m, F: F.binary_cross_entropy(m.rand(3), m.rand(4)), ValueError,
     r"^Using a target size \((torch\.Size\()?\[4\]\)?\) that is different to the input size "
     r"\((torch\.Size\()?\[3\]\)?\) is deprecated"),
    (lambda m, F: F.binary_cross_entropy(m.tensor([1.5]), m.rand(1)), RuntimeError,
     "^all elements of input should be between 0 and 1"),
    (lambda m, F: F.binary_cross_entropy(m.rand(3), m.rand(3, dtype=m.float64)), RuntimeError,
     "^Found dtype Double but expected Float"),
    (lambda m, F: F.binary_cross_entropy(m.rand(3), m.rand(3), weight=m.rand(3, requires_grad=True)).backward(),
     RuntimeError, "The function 'binary_cross_entropy' is not differentiable with respect to argument 'weight'"),
    (lambda m, F: F.binary_cross_entropy_with_logits(m.zeros(3), m.ones(3), weight=m.ones(3, requires_grad=True)),
     RuntimeError, "^The function 'binary_cross_entropy_with_logits' is not differentiable with respect to argument "
     "'weight'"),
    (lambda m, F: F.binary_cross_entropy_with_logits(m.zeros(3), m.ones(3), pos_weight=m.ones(3, requires_grad=True)),
     RuntimeError, "^The function 'binary_cross_entropy_with_logits' is not differentiable with respect to argument "
     "'pos_weight'"),
    (lambda m, F: F.binary_cross_entropy_with_logits(m.zeros(3), m.ones(3, 1)), ValueError,
     r"^Target size \((torch\.Size\()?\[3, 1\]\)?\) must be the same as input size "
     r"\((torch\.Size\()?\[3\]\)?\)"),
    (lambda m, F: F.smooth_l1_loss(m.zeros(3), m.zeros(3), beta=-1.0), RuntimeError,
     "^smooth_l1_loss does not support negative values for beta."),
    (lambda m, F: F.huber_loss(m.zeros(3), m.zeros(3), delta=0.0), RuntimeError,
     "^huber_loss does not support non-positive values for delta."),
    (lambda m, F: F.kl_div(m.zeros(3), m.ones(3, dtype=m.int64)), RuntimeError,
     "^kl_div: Integral inputs not supported."),
    (lambda m, F: F.mse_loss(m.ones(3, dtype=m.int64), m.ones(3, dtype=m.int64)), NotImplementedError,
     "not implemented for 'Long'"),
    (lambda m, F: F.mse_loss(m.zeros(3, 4), m.zeros(5)), RuntimeError,
     r"^The size of tensor a \(4\) must match the size of tensor b \(5\) at non-singleton dimension 1"),
]
ERRORS = CLASS_ERRORS + OTHER_ERRORS


@pytest.mark.parametrize("call, error, message", ERRORS)
def test_errors_use_pytorch_wording(call, error, message):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        with pytest.raises(error, match=message):
            call(nk, F)


@pytest.mark.parametrize("call, error, message", ERRORS)
def test_pytorch_raises_the_same_errors(call, error, message):
    torch = pytest.importorskip("torch")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        with pytest.raises(error, match=message):
            call(torch, torch.nn.functional)


def test_non_tensor_target_is_a_type_error():
    with pytest.raises(TypeError, match=r"^mse_loss\(\): argument 'target' \(position 2\) must be Tensor, not list"):
        F.mse_loss(nk.zeros(2), [1.0, 2.0])
