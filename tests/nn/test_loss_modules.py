"""Loss modules: same results as nn.functional, PyTorch's constructor arguments, weight buffers, reprs, parity."""

import warnings

import numpy as np
import pytest

import nnkit as nk
import nnkit.nn as nn
import nnkit.nn.functional as F

RNG = np.random.default_rng(0)
LOGITS = RNG.standard_normal((4, 3))
LABELS = np.array([0, 2, 1, 2])
PROBS = RNG.uniform(0.05, 0.95, (4, 3))
TARGETS = RNG.uniform(0, 1, (4, 3))
WEIGHT = np.array([0.5, 2.0, 1.0])


def t(a, requires_grad=False):
    return nk.tensor(a, requires_grad=requires_grad)


# (module class, constructor kwargs, functional, functional kwargs, inputs)
CASES = [
    (nn.BCEWithLogitsLoss, {"weight": WEIGHT, "pos_weight": WEIGHT[::-1].copy(), "reduction": "sum"},
     F.binary_cross_entropy_with_logits, {"weight": WEIGHT, "pos_weight": WEIGHT[::-1].copy(), "reduction": "sum"},
     (LOGITS, TARGETS)),
    (nn.BCELoss, {"weight": WEIGHT}, F.binary_cross_entropy, {"weight": WEIGHT}, (PROBS, TARGETS)),
    (nn.CrossEntropyLoss, {"weight": WEIGHT, "ignore_index": 1, "label_smoothing": 0.2}, F.cross_entropy,
     {"weight": WEIGHT, "ignore_index": 1, "label_smoothing": 0.2}, (LOGITS, LABELS)),
    (nn.CrossEntropyLoss, {"reduction": "none"}, F.cross_entropy, {"reduction": "none"}, (LOGITS, TARGETS)),
    (nn.NLLLoss, {"weight": WEIGHT, "ignore_index": 2}, F.nll_loss, {"weight": WEIGHT, "ignore_index": 2},
     (LOGITS, LABELS)),
    (nn.MSELoss, {"reduction": "none"}, F.mse_loss, {"reduction": "none"}, (LOGITS, TARGETS)),
    (nn.L1Loss, {"reduction": "sum"}, F.l1_loss, {"reduction": "sum"}, (LOGITS, TARGETS)),
    (nn.SmoothL1Loss, {"beta": 0.5}, F.smooth_l1_loss, {"beta": 0.5}, (LOGITS, TARGETS)),
    (nn.HuberLoss, {"delta": 0.5, "reduction": "sum"}, F.huber_loss, {"delta": 0.5, "reduction": "sum"},
     (LOGITS, TARGETS)),
    (nn.KLDivLoss, {"reduction": "batchmean", "log_target": True}, F.kl_div,
     {"reduction": "batchmean", "log_target": True}, (LOGITS, np.log(PROBS))),
]
IDS = [f"{case[0].__name__}-{i}" for i, case in enumerate(CASES)]


def tensors(kwargs):
    return {k: t(v) if isinstance(v, np.ndarray) else v for k, v in kwargs.items()}


@pytest.mark.parametrize("cls, ctor, fn, fn_kwargs, inputs", CASES, ids=IDS)
def test_module_matches_functional(cls, ctor, fn, fn_kwargs, inputs):
    module = cls(**tensors(ctor))
    x1, x2 = t(inputs[0], True), t(inputs[0], True)
    ours = module(x1, t(inputs[1]))
    expected = fn(x2, t(inputs[1]), **tensors(fn_kwargs))
    np.testing.assert_array_equal(ours.detach().numpy(), expected.detach().numpy())
    assert ours.grad_fn.name() == expected.grad_fn.name()
    ours.sum().backward()
    expected.sum().backward()
    np.testing.assert_array_equal(x1.grad.numpy(), x2.grad.numpy())


@pytest.mark.parametrize("cls, ctor, fn, fn_kwargs, inputs", CASES, ids=IDS)
def test_module_matches_pytorch(cls, ctor, fn, fn_kwargs, inputs):
    torch = pytest.importorskip("torch")
    theirs_module = getattr(torch.nn, cls.__name__)(
        **{k: torch.tensor(v) if isinstance(v, np.ndarray) else v for k, v in ctor.items()})
    ours_module = cls(**tensors(ctor))
    assert repr(ours_module) == repr(theirs_module)
    assert list(ours_module.state_dict()) == list(theirs_module.state_dict())
    x = t(inputs[0], True)
    tx = torch.tensor(inputs[0], requires_grad=True)
    ours = ours_module(x, t(inputs[1]))
    theirs = theirs_module(tx, torch.tensor(inputs[1]))
    np.testing.assert_allclose(ours.detach().numpy(), theirs.detach().numpy(), rtol=1e-10, atol=1e-12)
    assert ours.grad_fn.name() == theirs.grad_fn.name()
    ours.sum().backward()
    theirs.sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), tx.grad.numpy(), rtol=1e-10, atol=1e-12)


def test_constructor_defaults_and_attributes():
    ce = nn.CrossEntropyLoss()
    assert (ce.reduction, ce.ignore_index, ce.label_smoothing, ce.weight) == ("mean", -100, 0.0, None)
    assert nn.NLLLoss().ignore_index == -100
    assert nn.SmoothL1Loss().beta == 1.0
    assert nn.HuberLoss().delta == 1.0
    kl = nn.KLDivLoss()
    assert (kl.reduction, kl.log_target) == ("mean", False)
    bce = nn.BCEWithLogitsLoss()
    assert bce.weight is None and bce.pos_weight is None
    for cls in (nn.MSELoss, nn.L1Loss, nn.BCELoss):
        assert cls(reduction="sum").reduction == "sum"
    assert repr(nn.CrossEntropyLoss(weight=nk.ones(3), label_smoothing=0.1)) == "CrossEntropyLoss()"


def test_weight_is_a_buffer():
    loss_fn = nn.CrossEntropyLoss(weight=nk.tensor([1.0, 2.0, 3.0]))
    assert [name for name, _ in loss_fn.named_buffers()] == ["weight"]
    assert list(loss_fn.parameters()) == []
    assert list(loss_fn.state_dict()) == ["weight"]
    assert list(nn.CrossEntropyLoss().state_dict()) == []
    bce = nn.BCEWithLogitsLoss(weight=nk.ones(3), pos_weight=nk.ones(3))
    assert list(bce.state_dict()) == ["weight", "pos_weight"]
    # the buffer follows .double(), so a float64 model's logits work with it
    loss_fn.double()
    assert loss_fn.weight.dtype == nk.float64
    loss = loss_fn(nk.zeros(2, 3, dtype=nk.float64), nk.tensor([0, 2]))
    assert loss.item() == pytest.approx(np.log(3))
    # and loads through state_dict
    other = nn.CrossEntropyLoss(weight=nk.zeros(3, dtype=nk.float64))
    other.load_state_dict(loss_fn.state_dict())
    np.testing.assert_array_equal(other.weight.numpy(), [1.0, 2.0, 3.0])


@pytest.mark.parametrize("size_average, reduce, expected", [(False, None, "sum"), (None, False, "none")])
def test_legacy_arguments_set_reduction(size_average, reduce, expected):
    for cls in (nn.MSELoss, nn.L1Loss, nn.CrossEntropyLoss, nn.NLLLoss, nn.BCELoss, nn.BCEWithLogitsLoss,
                nn.SmoothL1Loss, nn.KLDivLoss):
        with pytest.warns(UserWarning, match=f"please use reduction='{expected}' instead"):
            module = cls(size_average=size_average, reduce=reduce)
        assert module.reduction == expected


def test_kl_div_loss_mean_warns_per_call():
    loss_fn = nn.KLDivLoss()
    with pytest.warns(UserWarning, match="reduction: 'mean' divides the total loss"):
        loss_fn(nk.zeros(2, 3), nk.full((2, 3), 1 / 3))
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        nn.KLDivLoss(reduction="batchmean")(nk.zeros(2, 3), nk.full((2, 3), 1 / 3))


def test_invalid_reduction_fails_when_called():
    loss_fn = nn.MSELoss(reduction="avg")
    with pytest.raises(ValueError, match="^avg is not a valid value for reduction"):
        loss_fn(nk.zeros(2), nk.zeros(2))


def test_training_step_through_a_loss_module():
    w = nk.zeros(3, 2, requires_grad=True)
    x = nk.tensor([[1.0, 0.0], [0.0, 1.0]])
    loss = nn.CrossEntropyLoss()(x @ w.t(), nk.tensor([0, 2]))
    loss.backward()
    assert loss.item() == pytest.approx(np.log(3))
    # d/dlogits = (softmax - onehot) / N with uniform softmax 1/3
    np.testing.assert_allclose(w.grad.numpy(), [[-1 / 3, 1 / 6], [1 / 6, 1 / 6], [1 / 6, -1 / 3]], rtol=1e-6)
