"""Normalisation: the spec table for batch_norm (training and evaluation), layer_norm, group_norm and normalize
(forward vs numpy, float64 gradcheck and gradgradcheck, graph mode, no-grad, PyTorch parity), hand-computed
values, and the BatchNorm/LayerNorm/GroupNorm modules: running statistics (momentum, cumulative average,
unbiased variance, num_batches_tracked), evaluation mode, affine and track_running_stats, errors."""

import warnings
from collections import OrderedDict

import numpy as np
import pytest

import nnkit as nk
import nnkit.nn as nn
import nnkit.nn.functional as F
from tests.ops import harness
from tests.ops.harness import OpSpec

EPS = 1e-5


def f64(values, requires_grad=False):
    return nk.tensor(values, dtype=nk.float64, requires_grad=requires_grad)


def tF():
    import torch.nn.functional

    return torch.nn.functional


# -- numpy references: per-slice loops, independent of the implementation ------------------------------------------
def standardize(v, eps):
    """``(v - mean) / sqrt(biased var + eps)`` of one slice."""
    return (v - v.mean()) / np.sqrt(((v - v.mean()) ** 2).mean() + eps)


def channel_affine(y, w, b):
    shape = (1, -1) + (1,) * (y.ndim - 2)
    if w is not None:
        y = y * w.reshape(shape)
    if b is not None:
        y = y + b.reshape(shape)
    return y


def bn_train_ref(x, w=None, b=None, eps=EPS):
    y = np.empty_like(x)
    for c in range(x.shape[1]):
        y[:, c] = standardize(x[:, c], eps)
    return channel_affine(y, w, b)


def bn_eval_ref(x, rm, rv, w=None, b=None, eps=EPS):
    shape = (1, -1) + (1,) * (x.ndim - 2)
    return channel_affine((x - rm.reshape(shape)) / np.sqrt(rv.reshape(shape) + eps), w, b)


def ln_ref(x, k, w=None, b=None, eps=EPS):
    lead = x.shape[:x.ndim - k]
    y = np.empty_like(x)
    for pos in np.ndindex(*lead):
        y[pos] = standardize(x[pos], eps)
    if w is not None:
        y = y * w
    if b is not None:
        y = y + b
    return y


def gn_ref(x, groups, w=None, b=None, eps=EPS):
    n, c = x.shape[:2]
    y = np.empty_like(x)
    size = c // groups
    for i in range(n):
        for g in range(groups):
            y[i, g * size:(g + 1) * size] = standardize(x[i, g * size:(g + 1) * size], eps)
    return channel_affine(y, w, b)


def normalize_ref(x, p, dim, eps=1e-12):
    norm = (np.abs(x) ** p).sum(axis=dim, keepdims=True) ** (1 / p)
    return x / np.maximum(norm, eps)


# -- input generators ----------------------------------------------------------------------------------------------
def x_w_b(shape, channels):
    return lambda rng: [rng.standard_normal(shape) * 2 + 0.5, rng.standard_normal(channels),
                        rng.standard_normal(channels)]


def eval_inputs(shape):
    c = shape[1]
    return lambda rng: [rng.standard_normal(shape), rng.standard_normal(c), rng.uniform(0.5, 2.0, c),
                        rng.standard_normal(c), rng.standard_normal(c)]


def normal(*shapes):
    return lambda rng: [rng.standard_normal(s) for s in shapes]


def _fresh_stats(x, lib):
    c = x.shape[1]
    if lib is nk:
        return nk.zeros(c, dtype=x.dtype), nk.ones(c, dtype=x.dtype)
    import torch

    return torch.zeros(c, dtype=x.dtype), torch.ones(c, dtype=x.dtype)


def bn_train(lib_F, lib):
    def call(x, w, b):
        rm, rv = _fresh_stats(x, lib)
        return lib_F.batch_norm(x, rm, rv, w, b, training=True, momentum=0.1, eps=EPS)
    return call


SPECS = [
    OpSpec("batch_norm_train_2d", lambda x, w, b: F.batch_norm(x, None, None, w, b, training=True),
           bn_train_ref, x_w_b((6, 3), 3),
           torch_fn=lambda x, w, b: tF().batch_norm(x, None, None, w, b, training=True),
           grad_fn="NativeBatchNormBackward0"),
    OpSpec("batch_norm_train_4d_running", bn_train(F, nk), bn_train_ref, x_w_b((3, 2, 2, 3), 2),
           torch_fn=lambda x, w, b: bn_train(tF(), __import__("torch"))(x, w, b),
           grad_fn="NativeBatchNormBackward0"),
    OpSpec("batch_norm_train_no_affine_3d", lambda x: F.batch_norm(x, None, None, training=True, eps=1e-3),
           lambda x: bn_train_ref(x, eps=1e-3), normal((4, 3, 5)),
           torch_fn=lambda x: tF().batch_norm(x, None, None, training=True, eps=1e-3),
           grad_fn="NativeBatchNormBackward0"),
    OpSpec("batch_norm_eval_3d",
           lambda x, rm, rv, w, b: F.batch_norm(x, rm, rv, w, b, training=False),
           bn_eval_ref, eval_inputs((2, 3, 4)), diff=(0, 3, 4),
           torch_fn=lambda x, rm, rv, w, b: tF().batch_norm(x, rm, rv, w, b, training=False),
           grad_fn="NativeBatchNormBackward0"),
    OpSpec("batch_norm_eval_no_affine", lambda x, rm, rv: F.batch_norm(x, rm, rv), bn_eval_ref,
           lambda rng: eval_inputs((4, 3))(rng)[:3], diff=(0,),
           torch_fn=lambda x, rm, rv: tF().batch_norm(x, rm, rv), grad_fn="NativeBatchNormBackward0"),
    OpSpec("layer_norm_last", lambda x, w, b: F.layer_norm(x, (4,), w, b), lambda x, w, b: ln_ref(x, 1, w, b),
           normal((3, 4), (4,), (4,)), torch_fn=lambda x, w, b: tF().layer_norm(x, (4,), w, b),
           grad_fn="NativeLayerNormBackward0"),
    OpSpec("layer_norm_two_dims", lambda x, w, b: F.layer_norm(x, (3, 4), w, b, eps=1e-3),
           lambda x, w, b: ln_ref(x, 2, w, b, eps=1e-3), normal((2, 3, 4), (3, 4), (3, 4)),
           torch_fn=lambda x, w, b: tF().layer_norm(x, (3, 4), w, b, eps=1e-3), grad_fn="NativeLayerNormBackward0"),
    OpSpec("layer_norm_no_affine_int_shape", lambda x: F.layer_norm(x, 5), lambda x: ln_ref(x, 1), normal((2, 2, 5)),
           torch_fn=lambda x: tF().layer_norm(x, (5,)), grad_fn="NativeLayerNormBackward0"),
    OpSpec("layer_norm_weight_only", lambda x, w: F.layer_norm(x, (4,), w), lambda x, w: ln_ref(x, 1, w),
           normal((3, 4), (4,)), torch_fn=lambda x, w: tF().layer_norm(x, (4,), w), grad_fn="NativeLayerNormBackward0"),
    OpSpec("group_norm_3d", lambda x, w, b: F.group_norm(x, 3, w, b), lambda x, w, b: gn_ref(x, 3, w, b),
           x_w_b((2, 6, 3), 6), torch_fn=lambda x, w, b: tF().group_norm(x, 3, w, b),
           grad_fn="NativeGroupNormBackward0"),
    OpSpec("group_norm_4d_no_affine", lambda x: F.group_norm(x, 2), lambda x: gn_ref(x, 2), normal((2, 4, 2, 2)),
           torch_fn=lambda x: tF().group_norm(x, 2), grad_fn="NativeGroupNormBackward0"),
    OpSpec("group_norm_one_group", lambda x, w, b: F.group_norm(x, 1, w, b, eps=1e-3),
           lambda x, w, b: gn_ref(x, 1, w, b, eps=1e-3), x_w_b((3, 4, 2), 4),
           torch_fn=lambda x, w, b: tF().group_norm(x, 1, w, b, eps=1e-3), grad_fn="NativeGroupNormBackward0"),
    OpSpec("group_norm_instance_weight_only", lambda x, w: F.group_norm(x, 3, w), lambda x, w: gn_ref(x, 3, w),
           normal((2, 3, 4), (3,)), torch_fn=lambda x, w: tF().group_norm(x, 3, w),
           grad_fn="NativeGroupNormBackward0"),
    # torch 2.13 fails in backward for a bias without a weight ("tensor does not have a device"): no parity here
    OpSpec("group_norm_bias_only", lambda x, b: F.group_norm(x, 2, None, b), lambda x, b: gn_ref(x, 2, None, b),
           normal((2, 4, 3), (4,)), grad_fn="NativeGroupNormBackward0"),
    OpSpec("normalize_p2", lambda x: F.normalize(x), lambda x: normalize_ref(x, 2, 1), normal((3, 4)),
           torch_fn=lambda x: tF().normalize(x), grad_fn="DivBackward0"),
    OpSpec("normalize_p1_last", lambda x: F.normalize(x, p=1, dim=-1), lambda x: normalize_ref(x, 1, -1),
           normal((2, 3, 4)), torch_fn=lambda x: tF().normalize(x, p=1, dim=-1), grad_fn="DivBackward0"),
    OpSpec("normalize_p3_dim0", lambda x: F.normalize(x, p=3, dim=0), lambda x: normalize_ref(x, 3, 0),
           normal((4, 2)), torch_fn=lambda x: tF().normalize(x, p=3, dim=0), grad_fn="DivBackward0"),
]

harness.make_tests(SPECS, globals())


# -- functional: hand-computed values --------------------------------------------------------------------------------
def test_batch_norm_training_by_hand_updates_running_stats_with_the_unbiased_variance():
    x = f64([[1.0, 2.0], [3.0, 6.0]])  # channel 0: mean 2, biased var 1; channel 1: mean 4, biased var 4
    rm, rv = f64([0.0, 10.0]), f64([1.0, 1.0])
    y = F.batch_norm(x, rm, rv, training=True, momentum=0.5, eps=0.0)
    np.testing.assert_allclose(y.numpy(), [[-1.0, -1.0], [1.0, 1.0]])
    np.testing.assert_allclose(rm.numpy(), [0.5 * 0 + 0.5 * 2, 0.5 * 10 + 0.5 * 4])
    np.testing.assert_allclose(rv.numpy(), [0.5 * 1 + 0.5 * 2, 0.5 * 1 + 0.5 * 8])  # unbiased: 2 and 8
    y = F.batch_norm(x, None, None, f64([2.0, 3.0]), f64([1.0, -1.0]), training=True, eps=0.0)
    np.testing.assert_allclose(y.numpy(), [[-1.0, -4.0], [3.0, 2.0]])


def test_batch_norm_evaluation_by_hand_leaves_running_stats_alone():
    rm, rv = f64([1.0, -2.0]), f64([4.0, 0.25])
    y = F.batch_norm(f64([[3.0, -1.0]]), rm, rv, f64([1.0, 2.0]), f64([0.0, 1.0]), eps=0.0)
    np.testing.assert_allclose(y.numpy(), [[1.0, 5.0]])  # (3 - 1) / 2; (-1 + 2) / 0.5 * 2 + 1
    assert rm.tolist() == [1.0, -2.0] and rv.tolist() == [4.0, 0.25]
    x = f64([[3.0, -1.0]], requires_grad=True)
    F.batch_norm(x, rm, rv, f64([1.0, 2.0]), eps=0.0).sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), [[0.5, 4.0]])  # weight / sqrt(running_var): statistics are constants


def test_batch_norm_eps_enters_under_the_square_root():
    y = F.batch_norm(f64([[0.0], [2.0]]), None, None, training=True, eps=3.0)  # (x - 1) / sqrt(1 + 3)
    np.testing.assert_allclose(y.numpy(), [[-0.5], [0.5]])


def test_layer_and_group_norm_by_hand():
    y = F.layer_norm(f64([[1.0, 2.0, 3.0, 4.0]]), (4,), f64([1.0, 1.0, 2.0, 2.0]), f64([0.0, 0.0, 0.0, 1.0]), eps=0.0)
    s = np.sqrt(1.25)
    np.testing.assert_allclose(y.numpy(), [[-1.5 / s, -0.5 / s, 1.0 / s, 3.0 / s + 1]])
    y = F.group_norm(f64([[[1.0], [3.0], [10.0], [14.0]]]), 2, eps=0.0)
    np.testing.assert_allclose(y.numpy().ravel(), [-1.0, 1.0, -1.0, 1.0])
    y = F.group_norm(f64([[[1.0], [3.0], [10.0], [14.0]]]), 2, f64([1.0, 2.0, 3.0, 4.0]), f64([0.0, 0.0, 0.0, 1.0]),
                     eps=0.0)
    np.testing.assert_allclose(y.numpy().ravel(), [-1.0, 2.0, -3.0, 5.0])


def test_normalize_by_hand_and_zero_vectors_stay_zero():
    np.testing.assert_allclose(F.normalize(f64([[3.0, 4.0], [0.0, 0.0]])).numpy(), [[0.6, 0.8], [0.0, 0.0]])
    np.testing.assert_allclose(F.normalize(f64([3.0, -4.0]), p=1, dim=0).numpy(), [3 / 7, -4 / 7])
    np.testing.assert_allclose(F.normalize(f64([[3.0], [4.0]]), dim=0).numpy(), [[0.6], [0.8]])
    x = f64([[0.0, 0.0]], requires_grad=True)
    F.normalize(x).sum().backward()
    assert np.isfinite(x.grad.numpy()).all()
    with pytest.raises(TypeError, match="out= argument is not supported"):
        F.normalize(f64([1.0]), dim=0, out=f64([0.0]))


def test_normalize_gradient_at_a_zero_vector_matches_torch():
    torch = pytest.importorskip("torch")
    x = f64([[0.0, 0.0, 0.0], [1.0, 2.0, 2.0]], requires_grad=True)
    t = torch.tensor(x.detach().numpy(), requires_grad=True)
    w = np.arange(6.0).reshape(2, 3)
    (F.normalize(x) * f64(w)).sum().backward()
    (tF().normalize(t) * torch.tensor(w)).sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), t.grad.numpy(), rtol=1e-12)


def test_float32_stays_float32_and_statistics_follow():
    x = nk.randn(8, 3, 4)
    rm, rv = nk.zeros(3), nk.ones(3)
    y = F.batch_norm(x, rm, rv, nk.ones(3), nk.zeros(3), training=True)
    assert y.dtype == nk.float32 and rm.dtype == nk.float32 and rv.dtype == nk.float32
    assert F.layer_norm(x, (4,)).dtype == nk.float32 and F.group_norm(x, 3).dtype == nk.float32
    np.testing.assert_allclose(y.numpy().mean(axis=(0, 2)), 0, atol=1e-6)
    np.testing.assert_allclose(y.numpy().var(axis=(0, 2)), 1, atol=1e-3)


def test_only_the_needed_gradients_are_formed_and_nothing_recorded_when_frozen():
    x = f64(np.random.default_rng(0).standard_normal((4, 3)))
    w, b = f64([1.0, 2.0, 3.0], requires_grad=True), f64([0.0, 0.0, 0.0])
    F.batch_norm(x, None, None, w, b, training=True).sum().backward()
    assert w.grad is not None and b.grad is None and x.grad is None
    w.requires_grad_(False)
    for out in (F.batch_norm(x, None, None, w, b, training=True), F.layer_norm(x, (3,), w, b),
                F.group_norm(x, 3, w, b)):
        assert out.grad_fn is None and not out.requires_grad


def test_functional_errors():
    x = f64(np.ones((2, 3)))
    with pytest.raises(RuntimeError, match="running_mean must be defined in evaluation mode"):
        F.batch_norm(x, None, None)
    with pytest.raises(RuntimeError, match="weight should contain 3 elements not 2"):
        F.batch_norm(x, None, None, f64([1.0, 1.0]), training=True)
    with pytest.raises(ValueError, match="Expected more than 1 value per channel when training"):
        F.batch_norm(f64([[1.0, 2.0, 3.0]]), None, None, training=True)
    with pytest.raises(TypeError, match="argument 'momentum'"):
        F.batch_norm(x, f64([0.0] * 3), f64([1.0] * 3), training=True, momentum=None)
    with pytest.raises(RuntimeError, match="mixed dtype"):
        F.batch_norm(x, nk.zeros(3), nk.ones(3))
    with pytest.raises(NotImplementedError, match="\"LayerNormKernelImpl\" not implemented for 'Long'"):
        F.layer_norm(nk.tensor([[1, 2]]), (2,))
    with pytest.raises(NotImplementedError, match="\"GroupNormKernelImpl\" not implemented for 'Long'"):
        F.group_norm(nk.tensor([[1, 2]]), 1)
    with pytest.raises(NotImplementedError, match="\"batch_norm\" not implemented for 'Long'"):
        F.batch_norm(nk.tensor([[1, 2], [3, 4]]), nk.zeros(2), nk.ones(2))
    with pytest.raises(RuntimeError, match=r"Given normalized_shape=\[4\], expected input with shape \[\*, 4\], but "
                                           r"got input of size\[2, 3\]"):
        F.layer_norm(x, (4,))
    with pytest.raises(RuntimeError, match="Expected weight to be of same shape as normalized_shape"):
        F.layer_norm(x, (3,), f64([1.0]))
    with pytest.raises(RuntimeError, match="Expected number of channels in input to be divisible by num_groups"):
        F.group_norm(x, 2)
    with pytest.raises(RuntimeError, match="Expected weight to be a vector of size equal to the number of channels"):
        F.group_norm(x, 3, f64([1.0, 1.0]))


def test_pytorch_raises_the_same_first_sentences():
    torch = pytest.importorskip("torch")
    x = torch.ones(2, 3, dtype=torch.float64)
    for call, message in (
        (lambda: tF().batch_norm(x, None, None), "running_mean must be defined in evaluation mode"),
        (lambda: tF().batch_norm(torch.ones(1, 3), None, None, training=True),
         "Expected more than 1 value per channel when training"),
        (lambda: tF().layer_norm(x, (4,)), r"Given normalized_shape=\[4\], expected input with shape \[\*, 4\]"),
        (lambda: tF().group_norm(x, 2), "Expected number of channels in input to be divisible by num_groups"),
    ):
        with pytest.raises((RuntimeError, ValueError), match=message):
            call()


# -- BatchNorm modules -------------------------------------------------------------------------------------------------
def test_batch_norm_defaults_parameters_buffers_and_state_dict():
    bn = nn.BatchNorm2d(3)
    assert (bn.num_features, bn.eps, bn.momentum, bn.affine, bn.track_running_stats) == (3, 1e-5, 0.1, True, True)
    assert bn.weight.tolist() == [1.0, 1.0, 1.0] and bn.bias.tolist() == [0.0, 0.0, 0.0]
    assert isinstance(bn.weight, nn.Parameter) and bn.weight.dtype == nk.float32
    assert bn.running_mean.tolist() == [0.0] * 3 and bn.running_var.tolist() == [1.0] * 3
    assert bn.num_batches_tracked.dtype == nk.int64 and bn.num_batches_tracked.item() == 0
    assert [n for n, _ in bn.named_parameters()] == ["weight", "bias"]
    assert list(bn.state_dict()) == ["weight", "bias", "running_mean", "running_var", "num_batches_tracked"]
    assert repr(bn) == "BatchNorm2d(3, eps=1e-05, momentum=0.1, affine=True, bias=True, track_running_stats=True)"
    assert nn.BatchNorm1d(2, dtype=nk.float64).running_var.dtype == nk.float64


def test_batch_norm_module_running_stats_by_hand():
    bn = nn.BatchNorm1d(1).double()
    with nk.no_grad():
        bn.weight.fill_(2.0)
        bn.bias.fill_(1.0)
    y = bn(f64([[1.0], [3.0]]))  # mean 2, biased var 1, unbiased var 2
    np.testing.assert_allclose(y.detach().numpy(), [[1 - 2 / np.sqrt(1 + EPS)], [1 + 2 / np.sqrt(1 + EPS)]])
    np.testing.assert_allclose(bn.running_mean.numpy(), [0.9 * 0 + 0.1 * 2])
    np.testing.assert_allclose(bn.running_var.numpy(), [0.9 * 1 + 0.1 * 2])
    bn(f64([[5.0], [7.0]]))  # mean 6, unbiased var 2
    np.testing.assert_allclose(bn.running_mean.numpy(), [0.9 * 0.2 + 0.1 * 6])
    np.testing.assert_allclose(bn.running_var.numpy(), [0.9 * 1.1 + 0.1 * 2])
    assert bn.num_batches_tracked.item() == 2
    bn.eval()
    y = bn(f64([[1.0], [2.0]]))
    rm, rv = 0.78, 1.19
    np.testing.assert_allclose(y.detach().numpy(), 2 * (np.array([[1.0], [2.0]]) - rm) / np.sqrt(rv + EPS) + 1)
    np.testing.assert_allclose(bn.running_mean.numpy(), [rm])  # evaluation does not update
    assert bn.num_batches_tracked.item() == 2


def test_momentum_none_is_the_cumulative_average():
    bn = nn.BatchNorm1d(1, momentum=None).double()
    for batch in ([[1.0], [3.0]], [[5.0], [7.0]], [[-3.0], [3.0]]):
        bn(f64(batch))
    # batch means 2, 6, 0 and unbiased variances 2, 2, 18, averaged equally
    np.testing.assert_allclose(bn.running_mean.numpy(), [(2 + 6 + 0) / 3])
    np.testing.assert_allclose(bn.running_var.numpy(), [(2 + 2 + 18) / 3])
    assert bn.num_batches_tracked.item() == 3
    assert "momentum=None" in repr(bn)


def test_momentum_and_eps_options():
    bn = nn.BatchNorm1d(1, momentum=0.25, eps=3.0).double()
    y = bn(f64([[0.0], [2.0]]))  # (x - 1) / sqrt(1 + 3)
    np.testing.assert_allclose(y.detach().numpy(), [[-0.5], [0.5]])
    np.testing.assert_allclose(bn.running_mean.numpy(), [0.25])
    np.testing.assert_allclose(bn.running_var.numpy(), [0.75 + 0.25 * 2])


def test_without_affine_or_bias():
    bn = nn.BatchNorm2d(2, affine=False)
    assert bn.weight is None and bn.bias is None and list(bn.parameters()) == []
    assert list(bn.state_dict()) == ["running_mean", "running_var", "num_batches_tracked"]
    assert "affine=False" in repr(bn)
    no_bias = nn.BatchNorm1d(2, bias=False)
    assert no_bias.bias is None and [n for n, _ in no_bias.named_parameters()] == ["weight"]
    x = nk.randn(4, 2, 3, 3)
    np.testing.assert_allclose(bn(x).numpy(), bn_train_ref(x.numpy().astype(np.float64)), atol=1e-5)


def test_without_running_stats_batch_statistics_are_used_in_both_modes():
    bn = nn.BatchNorm1d(3, track_running_stats=False).double()
    assert bn.running_mean is None and bn.running_var is None and bn.num_batches_tracked is None
    assert list(bn.state_dict()) == ["weight", "bias"]
    x = f64(np.random.default_rng(1).standard_normal((5, 3)))
    train_out = bn(x).detach().numpy()
    bn.eval()
    np.testing.assert_allclose(bn(x).detach().numpy(), train_out)
    np.testing.assert_allclose(train_out, bn_train_ref(x.numpy()))


def test_num_batches_tracked_counts_training_batches_only():
    bn = nn.BatchNorm1d(2)
    for _ in range(3):
        bn(nk.randn(4, 2))
    bn.eval()
    bn(nk.randn(4, 2))
    assert bn.num_batches_tracked.item() == 3
    bn.reset_running_stats()
    assert bn.num_batches_tracked.item() == 0 and bn.running_var.tolist() == [1.0, 1.0]


def test_running_stats_update_is_not_recorded_and_frozen_bn_still_updates_in_train_only():
    bn = nn.BatchNorm2d(2)
    bn.requires_grad_(False)
    x = nk.randn(4, 2, 3, 3) * 3 + 1
    out = bn(x)
    assert out.grad_fn is None and not out.requires_grad
    assert not bn.running_mean.requires_grad and bn.running_mean.grad_fn is None
    moved = bn.running_mean.numpy().copy()
    assert np.abs(moved).sum() > 0 and bn.num_batches_tracked.item() == 1
    bn.eval()
    bn(x)
    np.testing.assert_array_equal(bn.running_mean.numpy(), moved)
    assert bn.num_batches_tracked.item() == 1


def test_batch_norm_gradients_in_training_and_evaluation_mode():
    rng = np.random.default_rng(2)
    bn = nn.BatchNorm1d(3).double()
    x = f64(rng.standard_normal((5, 3, 2)), requires_grad=True)
    params = (x, bn.weight, bn.bias)
    assert nk.autograd.gradcheck(lambda x, w, b: F.batch_norm(x, None, None, w, b, True), params)
    bn(x)
    bn.eval()
    assert bn(x).grad_fn.name() == "NativeBatchNormBackward0"
    assert nk.autograd.gradcheck(lambda x: bn(x), (x,))
    assert nk.autograd.gradgradcheck(lambda x: bn(x), (x,))


def test_input_dimensions_are_checked():
    with pytest.raises(ValueError, match=r"expected 2D or 3D input \(got 4D input\)"):
        nn.BatchNorm1d(2)(nk.zeros(2, 2, 2, 2))
    with pytest.raises(ValueError, match=r"expected 4D input \(got 3D input\)"):
        nn.BatchNorm2d(2)(nk.zeros(2, 2, 2))
    with pytest.raises(ValueError, match=r"expected 5D input \(got 4D input\)"):
        nn.BatchNorm3d(2)(nk.zeros(2, 2, 2, 2))
    assert nn.BatchNorm3d(2)(nk.randn(2, 2, 2, 2, 2)).shape == (2, 2, 2, 2, 2)
    with pytest.raises(ValueError, match="Expected more than 1 value per channel when training"):
        nn.BatchNorm1d(2)(nk.zeros(1, 2))
    nn.BatchNorm1d(2).eval()(nk.zeros(1, 2))  # a single sample is fine in evaluation mode


def test_state_dict_round_trip_and_old_checkpoints_without_num_batches_tracked():
    bn = nn.BatchNorm1d(2)
    bn(nk.randn(6, 2) * 2)
    fresh = nn.BatchNorm1d(2)
    result = fresh.load_state_dict(bn.state_dict())
    assert result.missing_keys == [] and result.unexpected_keys == []
    np.testing.assert_array_equal(fresh.running_mean.numpy(), bn.running_mean.numpy())
    assert fresh.num_batches_tracked.item() == 1
    # As PyTorch: a checkpoint of version 1 (or without metadata) predates num_batches_tracked and loads; one of
    # version 2 without it is missing a key.
    for metadata in ({"": {"version": 1}}, None):
        old = OrderedDict((k, v) for k, v in bn.state_dict().items() if k != "num_batches_tracked")
        if metadata is not None:
            old._metadata = OrderedDict(metadata)
        other = nn.BatchNorm1d(2)
        result = other.load_state_dict(old)
        assert result.missing_keys == [] and result.unexpected_keys == []
        assert other.num_batches_tracked.item() == 0
        np.testing.assert_array_equal(other.running_var.numpy(), bn.running_var.numpy())
    old._metadata = OrderedDict({"": {"version": 2}})
    with pytest.raises(RuntimeError, match=r'Missing key\(s\) in state_dict: "num_batches_tracked"'):
        nn.BatchNorm1d(2).load_state_dict(old)


@pytest.mark.parametrize("cls_name, shape", [("BatchNorm1d", (6, 3)), ("BatchNorm1d", (5, 3, 4)),
                                             ("BatchNorm2d", (4, 3, 2, 5))])
@pytest.mark.parametrize("kwargs", [{}, {"momentum": None}, {"affine": False}, {"track_running_stats": False},
                                    {"momentum": 0.3, "eps": 1e-3}], ids=str)
def test_module_trajectory_matches_torch(cls_name, shape, kwargs):
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(3)
    ours = getattr(nn, cls_name)(3, **kwargs).double()
    theirs = getattr(torch.nn, cls_name)(3, **kwargs).double()
    if kwargs.get("affine", True):
        w, b = rng.standard_normal(3), rng.standard_normal(3)
        with nk.no_grad():
            ours.weight.copy_(f64(w))
            ours.bias.copy_(f64(b))
        with torch.no_grad():
            theirs.weight.copy_(torch.tensor(w))
            theirs.bias.copy_(torch.tensor(b))
    for mode in ("train", "train", "train", "eval"):
        ours.train(mode == "train")
        theirs.train(mode == "train")
        x = rng.standard_normal(shape) * 2 + 1
        g = rng.standard_normal(shape)
        xo, xt = f64(x, requires_grad=True), torch.tensor(x, requires_grad=True)
        yo, yt = ours(xo), theirs(xt)
        (yo * f64(g)).sum().backward()
        (yt * torch.tensor(g)).sum().backward()
        np.testing.assert_allclose(yo.detach().numpy(), yt.detach().numpy(), rtol=1e-10, atol=1e-12)
        np.testing.assert_allclose(xo.grad.numpy(), xt.grad.numpy(), rtol=1e-9, atol=1e-12)
        for (name, p), q in zip(ours.named_parameters(), theirs.parameters()):
            np.testing.assert_allclose(p.grad.numpy(), q.grad.numpy(), rtol=1e-9, atol=1e-12, err_msg=name)
        ours_sd, theirs_sd = ours.state_dict(), theirs.state_dict()
        assert list(ours_sd) == list(theirs_sd)
        for key in ours_sd:
            np.testing.assert_allclose(ours_sd[key].numpy(), theirs_sd[key].numpy(), rtol=1e-10, err_msg=key)
    assert repr(ours) == repr(theirs)


# -- LayerNorm, GroupNorm modules -------------------------------------------------------------------------------------
def test_layer_norm_module():
    ln = nn.LayerNorm((3, 4))
    assert ln.normalized_shape == (3, 4) and ln.weight.shape == (3, 4) and ln.bias.shape == (3, 4)
    assert ln.weight.tolist() == [[1.0] * 4] * 3 and ln.bias.tolist() == [[0.0] * 4] * 3
    assert repr(ln) == "LayerNorm((3, 4), eps=1e-05, elementwise_affine=True, bias=True)"
    assert nn.LayerNorm(4).normalized_shape == (4,)
    x = nk.randn(2, 3, 4)
    np.testing.assert_allclose(ln(x).detach().numpy(), ln_ref(x.numpy().astype(np.float64), 2), atol=1e-5)
    plain = nn.LayerNorm(4, elementwise_affine=False)
    assert plain.weight is None and list(plain.parameters()) == [] and list(plain.state_dict()) == []
    assert [n for n, _ in nn.LayerNorm(4, bias=False).named_parameters()] == ["weight"]
    ln.double()
    x = f64(np.random.default_rng(4).standard_normal((2, 3, 4)), requires_grad=True)
    assert nk.autograd.gradcheck(lambda x, w, b: F.layer_norm(x, (3, 4), w, b), (x, ln.weight, ln.bias))


def test_group_norm_module():
    gn = nn.GroupNorm(2, 4)
    assert (gn.num_groups, gn.num_channels, gn.eps, gn.affine) == (2, 4, 1e-5, True)
    assert gn.weight.tolist() == [1.0] * 4 and gn.bias.tolist() == [0.0] * 4
    assert repr(gn) == "GroupNorm(2, 4, eps=1e-05, affine=True, bias=True)"
    x = nk.randn(3, 4, 5)
    np.testing.assert_allclose(gn(x).detach().numpy(), gn_ref(x.numpy().astype(np.float64), 2), atol=1e-5)
    plain = nn.GroupNorm(2, 4, affine=False)
    assert plain.weight is None and list(plain.parameters()) == []
    with pytest.raises(ValueError, match=r"num_channels \(5\) must be divisible by num_groups \(2\)"):
        nn.GroupNorm(2, 5)
    gn.eval()
    np.testing.assert_allclose(gn(x).detach().numpy(), gn_ref(x.numpy().astype(np.float64), 2), atol=1e-5)


def test_layer_and_group_norm_modules_match_torch():
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(5)
    pairs = [(nn.LayerNorm((3, 4), eps=1e-3), torch.nn.LayerNorm((3, 4), eps=1e-3), (2, 3, 4)),
             (nn.LayerNorm(4, bias=False), torch.nn.LayerNorm(4, bias=False), (5, 4)),
             (nn.GroupNorm(3, 6), torch.nn.GroupNorm(3, 6), (2, 6, 2, 2)),
             (nn.GroupNorm(1, 2, affine=False), torch.nn.GroupNorm(1, 2, affine=False), (3, 2, 4))]
    for ours, theirs, shape in pairs:
        ours.double()
        theirs.double()
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            for p, q in zip(ours.parameters(), theirs.parameters()):
                value = rng.standard_normal(p.shape)
                with nk.no_grad():
                    p.copy_(f64(value))
                with torch.no_grad():
                    q.copy_(torch.tensor(value))
        x = rng.standard_normal(shape)
        xo, xt = f64(x, requires_grad=True), torch.tensor(x, requires_grad=True)
        (ours(xo) ** 2).sum().backward()
        (theirs(xt) ** 2).sum().backward()
        np.testing.assert_allclose(xo.grad.numpy(), xt.grad.numpy(), rtol=1e-9, atol=1e-12)
        for p, q in zip(ours.parameters(), theirs.parameters()):
            np.testing.assert_allclose(p.grad.numpy(), q.grad.numpy(), rtol=1e-9, atol=1e-12)
        assert repr(ours) == repr(theirs)
        assert list(ours.state_dict()) == list(theirs.state_dict())
