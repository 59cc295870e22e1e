"""Losses: values against hand-computed formulas, stability at extreme logits, gradchecks, PyTorch parity."""

import numpy as np
import pytest

import nnkit as nk
import nnkit.nn.functional as F
from nnkit.autograd import gradcheck, gradgradcheck


def f64(values, requires_grad=False):
    return nk.tensor(values, dtype=nk.float64, requires_grad=requires_grad)


def bce_reference(x, y, w=None, pw=None):
    s = 1 / (1 + np.exp(-x))
    pw = 1.0 if pw is None else pw
    loss = -(pw * y * np.log(s) + (1 - y) * np.log(1 - s))
    return loss if w is None else loss * w


@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
def test_bce_with_logits_values(reduction):
    x = np.array([[0.5, -1.0, 2.0], [0.0, 3.0, -0.2]])
    y = np.array([[1.0, 0.0, 1.0], [0.5, 0.0, 1.0]])
    w = np.array([1.0, 2.0, 0.5])
    pw = np.array([2.0, 1.0, 3.0])
    out = F.binary_cross_entropy_with_logits(f64(x), f64(y), weight=f64(w), pos_weight=f64(pw), reduction=reduction)
    ref = bce_reference(x, y, w, pw)
    ref = ref.mean() if reduction == "mean" else ref.sum() if reduction == "sum" else ref
    np.testing.assert_allclose(out.numpy(), ref, rtol=1e-12)


def test_bce_with_logits_is_stable_at_huge_logits():
    x = nk.tensor([1e4, -1e4, 1e4, -1e4], requires_grad=True)
    y = nk.tensor([1.0, 0.0, 0.0, 1.0])
    loss = F.binary_cross_entropy_with_logits(x, y, reduction="none")
    np.testing.assert_allclose(loss.detach().numpy(), [0.0, 0.0, 1e4, 1e4])
    loss.sum().backward()
    np.testing.assert_array_equal(x.grad.numpy(), [0.0, 0.0, 1.0, -1.0])


@pytest.mark.parametrize("with_weights", [False, True])
def test_bce_with_logits_gradcheck_input_and_target(with_weights):
    rng = np.random.default_rng(0)
    x = f64(rng.standard_normal((3, 4)), requires_grad=True)
    y = f64(rng.uniform(0, 1, (3, 4)), requires_grad=True)
    kwargs = {"weight": f64(rng.uniform(0.5, 2, 4)), "pos_weight": f64(rng.uniform(0.5, 2, 4))} if with_weights else {}
    assert gradcheck(lambda a, b: F.binary_cross_entropy_with_logits(a, b, **kwargs), (x, y))
    assert gradgradcheck(lambda a, b: F.binary_cross_entropy_with_logits(a, b, **kwargs), (x, y))


def test_bce_with_logits_grad_fn_and_shape_error():
    x = nk.zeros(3, requires_grad=True)
    assert F.binary_cross_entropy_with_logits(x, nk.ones(3)).grad_fn.name() == "BinaryCrossEntropyWithLogitsBackward0"
    with pytest.raises(ValueError, match=r"Target size \(\[3, 1\]\) must be the same as input size \(\[3\]\)"):
        F.binary_cross_entropy_with_logits(x, nk.ones(3, 1))
    with pytest.raises(ValueError, match="is not a valid value for reduction"):
        F.binary_cross_entropy_with_logits(x, nk.ones(3), reduction="avg")


def test_bce_with_logits_matches_pytorch():
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(1)
    x, y = rng.standard_normal((4, 3)), rng.uniform(0, 1, (4, 3))
    pw = rng.uniform(0.5, 2, 3)
    ours_x = f64(x, requires_grad=True)
    ours = F.binary_cross_entropy_with_logits(ours_x, f64(y), pos_weight=f64(pw))
    ours.backward()
    theirs_x = torch.tensor(x, requires_grad=True)
    theirs = torch.nn.functional.binary_cross_entropy_with_logits(
        theirs_x, torch.tensor(y), pos_weight=torch.tensor(pw)
    )
    theirs.backward()
    np.testing.assert_allclose(ours.item(), theirs.item(), rtol=1e-12)
    np.testing.assert_allclose(ours_x.grad.numpy(), theirs_x.grad.numpy(), rtol=1e-10)
