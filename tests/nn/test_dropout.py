"""Dropout: inverted scaling in training, identity in evaluation, masks from the global generator (manual_seed
reproduces them), gradients (the same mask), in-place use, the module, and errors as PyTorch words them."""

import numpy as np
import pytest

import nnkit as nk
import nnkit.nn as nn
import nnkit.nn.functional as F
from nnkit.autograd import gradcheck, gradgradcheck


def f64(values, requires_grad=False):
    return nk.tensor(values, dtype=nk.float64, requires_grad=requires_grad)


def test_training_zeroes_with_probability_p_and_scales_the_rest():
    nk.manual_seed(0)
    x = nk.full((200, 500), 3.0)
    y = F.dropout(x, p=0.2).numpy()
    assert set(np.unique(y).tolist()) == {0.0, 3.0 / 0.8}
    zero_fraction = (y == 0).mean()
    assert abs(zero_fraction - 0.2) < 0.005  # 100,000 draws: 5 standard deviations is 0.0063
    assert abs(y.mean() - 3.0) < 0.03  # inverted dropout keeps the expectation
    assert y.dtype == np.float32


def test_evaluation_mode_and_p_zero_return_the_input_itself():
    x = nk.randn(3, 4, requires_grad=True)
    assert F.dropout(x, 0.5, training=False) is x
    assert F.dropout(x, 0.0) is x
    y = F.dropout(x, 1.0)
    assert not y.detach().numpy().any()
    y.sum().backward()
    assert not x.grad.numpy().any()  # p = 1: every gradient is zero too


def test_masks_come_from_the_global_generator():
    x = nk.ones(1000)
    nk.manual_seed(123)
    first = F.dropout(x, 0.5).numpy()
    second = F.dropout(x, 0.5).numpy()
    assert not np.array_equal(first, second)  # the generator advances
    nk.manual_seed(123)
    np.testing.assert_array_equal(F.dropout(x, 0.5).numpy(), first)
    np.testing.assert_array_equal(F.dropout(x, 0.5).numpy(), second)
    state = nk.get_rng_state()
    third = F.dropout(x, 0.5).numpy()
    nk.set_rng_state(state)
    np.testing.assert_array_equal(F.dropout(x, 0.5).numpy(), third)


def test_gradient_is_the_same_mask_scaled():
    nk.manual_seed(1)
    x = f64(np.linspace(1.0, 2.0, 50), requires_grad=True)
    y = F.dropout(x, 0.4)
    assert y.grad_fn.name() == "MulBackward0"  # as PyTorch records dropout on the CPU
    g = np.arange(50.0)
    y.backward(f64(g))
    kept = y.detach().numpy() != 0
    np.testing.assert_allclose(x.grad.numpy(), np.where(kept, g / 0.6, 0.0))
    np.testing.assert_allclose(y.detach().numpy(), np.where(kept, x.detach().numpy() / 0.6, 0.0))


def test_gradcheck_and_gradgradcheck_with_a_fixed_mask():
    def fn(x):
        nk.manual_seed(7)  # the same mask on every evaluation
        return F.dropout(x, 0.3)

    x = f64(np.random.default_rng(0).standard_normal((4, 5)), requires_grad=True)
    assert gradcheck(fn, (x,))
    assert gradgradcheck(fn, (x,))


def test_nothing_is_recorded_without_grad():
    x = nk.randn(10)
    assert F.dropout(x, 0.5).grad_fn is None
    with nk.no_grad():
        y = F.dropout(nk.randn(10, requires_grad=True), 0.5)
    assert y.grad_fn is None and not y.requires_grad


def test_inplace_writes_into_the_input():
    nk.manual_seed(3)
    x = nk.ones(100)
    y = F.dropout(x, 0.5, inplace=True)
    assert y is x and set(np.unique(x.numpy()).tolist()) == {0.0, 2.0}
    leaf = nk.ones(5, requires_grad=True)
    z = leaf * 1
    out = F.dropout(z, 0.5, inplace=True)
    assert out is z
    out.sum().backward()
    np.testing.assert_array_equal(leaf.grad.numpy(), z.detach().numpy())  # gradient 2 where kept, 0 where dropped


def test_dropout_module_follows_training_mode():
    drop = nn.Dropout(0.25)
    assert drop.p == 0.25 and not drop.inplace and drop.training
    assert repr(drop) == "Dropout(p=0.25, inplace=False)"
    x = nk.ones(4000)
    nk.manual_seed(5)
    y = drop(x)
    nk.manual_seed(5)
    np.testing.assert_array_equal(y.numpy(), F.dropout(x, 0.25).numpy())
    assert abs((y.numpy() == 0).mean() - 0.25) < 0.04
    drop.eval()
    assert drop(x) is x
    assert list(drop.parameters()) == [] and list(drop.state_dict()) == []
    seq = nn.Sequential(nn.Identity(), nn.Dropout(0.9))
    seq.eval()
    assert seq(x) is x


def test_errors_use_pytorch_wording():
    with pytest.raises(ValueError, match="dropout probability has to be between 0 and 1, but got 1.5"):
        F.dropout(nk.ones(2), 1.5)
    with pytest.raises(ValueError, match="dropout probability has to be between 0 and 1, but got -0.1"):
        nn.Dropout(-0.1)
    with pytest.raises(RuntimeError, match="result type Float can't be cast to the desired output type"):
        F.dropout(nk.tensor([1, 2]), 0.5)
    with pytest.raises(TypeError, match="must be Tensor, not list"):
        F.dropout([1.0], 0.5)


def test_matches_torch_statistics_and_module_repr():
    torch = pytest.importorskip("torch")
    assert repr(nn.Dropout(0.3, inplace=True)) == repr(torch.nn.Dropout(0.3, inplace=True))
    x = torch.ones(10)
    assert torch.nn.functional.dropout(x, 0.5, training=False) is x  # the same identity in evaluation
    with pytest.raises(ValueError, match="dropout probability has to be between 0 and 1, but got 1.5"):
        torch.nn.functional.dropout(x, 1.5)
