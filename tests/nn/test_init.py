"""nn.init: formulas, exact bounds, sample moments with fixed seeds, orthogonality, reproducibility, errors."""

import math
import warnings

import numpy as np
import pytest

import nnkit as nk
from nnkit import nn
from nnkit.nn import init
from nnkit.nn.init import _calculate_fan_in_and_fan_out


def big(*shape, dtype=nk.float32):
    return nk.empty(*shape, dtype=dtype)


def moments(t):
    a = t.detach().numpy().astype(np.float64)
    return a.mean(), a.std()


# -- gains and fans --------------------------------------------------------------------------------------------
def test_calculate_gain_values():
    for name in ["linear", "conv1d", "conv2d", "conv3d", "conv_transpose1d", "conv_transpose2d", "conv_transpose3d",
                 "sigmoid"]:
        assert init.calculate_gain(name) == 1
    assert init.calculate_gain("tanh") == pytest.approx(5 / 3)
    assert init.calculate_gain("relu") == pytest.approx(math.sqrt(2))
    assert init.calculate_gain("leaky_relu") == pytest.approx(math.sqrt(2 / (1 + 0.01**2)))
    assert init.calculate_gain("leaky_relu", 0.2) == pytest.approx(math.sqrt(2 / 1.04))
    assert init.calculate_gain("leaky_relu", 1) == pytest.approx(1.0)
    assert init.calculate_gain("selu") == 0.75
    with pytest.raises(ValueError, match="Unsupported nonlinearity gelu"):
        init.calculate_gain("gelu")
    with pytest.raises(ValueError, match="negative_slope True not a valid number"):
        init.calculate_gain("leaky_relu", True)


def test_fan_in_and_fan_out():
    assert _calculate_fan_in_and_fan_out(nk.empty(3, 5)) == (5, 3)
    assert _calculate_fan_in_and_fan_out(nk.empty(4, 2, 3, 3)) == (18, 36)
    assert _calculate_fan_in_and_fan_out(nk.empty(4, 2, 5)) == (10, 20)
    with pytest.raises(ValueError, match="Fan in and fan out can not be computed for tensor with fewer than 2 "
                                         "dimensions"):
        _calculate_fan_in_and_fan_out(nk.empty(5))
    with pytest.raises(ValueError, match="Mode fan_avg not supported, please use one of"):
        init.kaiming_uniform_(nk.empty(3, 3), mode="fan_avg")


# -- simple fills ----------------------------------------------------------------------------------------------
def test_constant_zeros_ones_eye():
    t = nk.empty(2, 3)
    assert init.constant_(t, 0.5) is t and t.tolist() == [[0.5] * 3] * 2
    assert init.zeros_(t).tolist() == [[0.0] * 3] * 2
    assert init.ones_(t).tolist() == [[1.0] * 3] * 2
    assert init.eye_(t).tolist() == [[1.0, 0.0, 0.0], [0.0, 1.0, 0.0]]
    assert init.eye_(nk.empty(3, 2)).tolist() == [[1.0, 0.0], [0.0, 1.0], [0.0, 0.0]]
    with pytest.raises(ValueError, match="Only tensors with 2 dimensions are supported"):
        init.eye_(nk.empty(2, 2, 2))


def test_init_works_in_place_on_parameters_without_recording():
    p = nn.Parameter(nk.zeros(4, 6))
    ptr, version = p.data_ptr(), p._version
    for fn in [init.uniform_, init.normal_, init.xavier_uniform_, init.xavier_normal_, init.kaiming_uniform_,
               init.kaiming_normal_, init.trunc_normal_, init.orthogonal_, init.zeros_, init.ones_, init.eye_,
               lambda t: init.constant_(t, 2.0)]:
        assert fn(p) is p
        assert p.is_leaf and p.grad_fn is None and p.requires_grad and type(p) is nn.Parameter
        assert p.dtype == nk.float32 and p.data_ptr() == ptr
    assert p._version > version
    d = init.normal_(nk.empty(3, 3, dtype=nk.float64))
    assert d.dtype == nk.float64


# -- distributions ---------------------------------------------------------------------------------------------
def test_uniform_bounds_and_moments():
    nk.manual_seed(0)
    t = init.uniform_(big(200, 500), -2.0, 3.0)
    a = t.numpy()
    assert a.min() >= -2.0 and a.max() < 3.0 and a.min() < -1.99 and a.max() > 2.99
    mean, std = moments(t)
    assert mean == pytest.approx(0.5, abs=0.01) and std == pytest.approx(5 / math.sqrt(12), rel=0.01)
    assert init.uniform_(big(10)).numpy().min() >= 0.0


def test_normal_moments():
    nk.manual_seed(0)
    mean, std = moments(init.normal_(big(200, 500), 1.5, 0.5))
    assert mean == pytest.approx(1.5, abs=0.005) and std == pytest.approx(0.5, rel=0.01)


def test_xavier_uniform_exact_bound_and_std():
    nk.manual_seed(0)
    t = init.xavier_uniform_(big(300, 200), gain=2.0)
    bound = 2.0 * math.sqrt(6.0 / 500)
    a = t.numpy()
    assert np.abs(a).max() <= bound and np.abs(a).max() > 0.999 * bound
    assert moments(t)[1] == pytest.approx(2.0 * math.sqrt(2.0 / 500), rel=0.01)


def test_xavier_normal_std():
    nk.manual_seed(0)
    mean, std = moments(init.xavier_normal_(big(64, 32, 3, 3)))
    assert std == pytest.approx(math.sqrt(2.0 / (32 * 9 + 64 * 9)), rel=0.01) and abs(mean) < 0.002


def test_kaiming_uniform_bounds():
    nk.manual_seed(0)
    t = init.kaiming_uniform_(big(400, 250))  # a=0, leaky_relu: bound sqrt(6 / fan_in)
    bound = math.sqrt(6.0 / 250)
    assert np.abs(t.numpy()).max() <= bound and np.abs(t.numpy()).max() > 0.999 * bound
    t = init.kaiming_uniform_(big(400, 250), a=math.sqrt(5))  # what nn.Linear uses: bound 1 / sqrt(fan_in)
    assert np.abs(t.numpy()).max() <= 1 / math.sqrt(250) and np.abs(t.numpy()).max() > 0.999 / math.sqrt(250)
    t = init.kaiming_uniform_(big(400, 250), mode="fan_out", nonlinearity="relu")
    assert np.abs(t.numpy()).max() <= math.sqrt(6.0 / 400)


def test_kaiming_normal_std():
    nk.manual_seed(0)
    assert moments(init.kaiming_normal_(big(300, 400), nonlinearity="relu"))[1] == pytest.approx(
        math.sqrt(2.0 / 400), rel=0.01)
    assert moments(init.kaiming_normal_(big(128, 16, 3, 3), mode="fan_out", nonlinearity="relu"))[1] == \
        pytest.approx(math.sqrt(2.0 / (128 * 9)), rel=0.02)


def test_kaiming_on_zero_element_tensor_warns_and_is_a_no_op():
    with pytest.warns(UserWarning, match="Initializing zero-element tensors is a no-op"):
        t = init.kaiming_uniform_(nk.empty(0, 3))
    assert t.shape == (0, 3)
    with pytest.warns(UserWarning, match="no-op"):
        init.kaiming_normal_(nk.empty(3, 0))


def _truncated_moments(mean, std, a, b):
    """Mean and std of N(mean, std²) truncated to [a, b] (closed form)."""
    alpha, beta = (a - mean) / std, (b - mean) / std
    pdf = lambda x: math.exp(-x * x / 2) / math.sqrt(2 * math.pi)  # noqa: E731
    cdf = lambda x: 0.5 * math.erfc(-x / math.sqrt(2))  # noqa: E731
    z = cdf(beta) - cdf(alpha)
    m = (pdf(alpha) - pdf(beta)) / z
    var = 1 + (alpha * pdf(alpha) - beta * pdf(beta)) / z - m * m
    return mean + std * m, std * math.sqrt(var)


@pytest.mark.parametrize("mean, std, a, b", [
    (0.0, 1.0, -2.0, 2.0),    # the default: wide interval, rejection sampling
    (0.0, 0.02, -2.0, 2.0),   # ViT style: the bounds are 100 std away
    (0.5, 1.0, 0.0, 3.0),     # asymmetric
    (0.0, 1.0, 1.0, 1.5),     # narrow, in the upper half: inverse CDF
    (0.0, 1.0, -0.05, 0.05),  # narrow around the mean
    (0.0, 1.0, 4.0, 5.0),     # far in the tail
])
@pytest.mark.filterwarnings("ignore:mean is more than 2 std")  # the (4, 5) case: exact here all the same
def test_trunc_normal_bounds_and_moments(mean, std, a, b):
    nk.manual_seed(0)
    t = init.trunc_normal_(big(200, 200, dtype=nk.float64), mean, std, a, b)
    arr = t.numpy()
    assert arr.min() >= a and arr.max() <= b
    expected_mean, expected_std = _truncated_moments(mean, std, a, b)
    got_mean, got_std = moments(t)
    assert got_mean == pytest.approx(expected_mean, abs=0.01 * expected_std)
    assert got_std == pytest.approx(expected_std, rel=0.01)


def test_trunc_normal_warns_when_mean_is_far_from_the_interval():
    with pytest.warns(UserWarning, match="mean is more than 2 std from"):
        init.trunc_normal_(nk.empty(10), mean=5.0, std=1.0, a=-1.0, b=1.0)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        init.trunc_normal_(nk.empty(10))


def test_orthogonal_rows_or_columns_are_orthonormal():
    nk.manual_seed(0)
    wide = init.orthogonal_(big(3, 7, dtype=nk.float64)).numpy()
    np.testing.assert_allclose(wide @ wide.T, np.eye(3), atol=1e-12)
    tall = init.orthogonal_(big(7, 3, dtype=nk.float64), gain=2.0).numpy()
    np.testing.assert_allclose(tall.T @ tall, 4 * np.eye(3), atol=1e-12)
    conv = init.orthogonal_(big(4, 2, 3, 3)).numpy().reshape(4, 18)
    np.testing.assert_allclose(conv @ conv.T, np.eye(4), atol=1e-5)
    square = init.orthogonal_(big(5, 5, dtype=nk.float64)).numpy()
    np.testing.assert_allclose(square @ square.T, np.eye(5), atol=1e-12)
    with pytest.raises(ValueError, match="Only tensors with 2 or more dimensions are supported"):
        init.orthogonal_(nk.empty(4))
    assert init.orthogonal_(nk.empty(0, 3)).shape == (0, 3)


def test_reproducible_under_manual_seed():
    fns = [init.uniform_, init.normal_, init.xavier_uniform_, init.kaiming_normal_, init.trunc_normal_,
           init.orthogonal_]
    def draw(seed):
        nk.manual_seed(seed)
        return [fn(nk.empty(4, 5)).numpy().copy() for fn in fns]

    first, again, other = draw(3), draw(3), draw(4)
    for x, y, z in zip(first, again, other):
        np.testing.assert_array_equal(x, y)
        assert not np.array_equal(x, z)


def test_explicit_generator():
    from nnkit.random import Generator

    a = init.normal_(nk.empty(5), generator=Generator(7)).numpy()
    b = init.normal_(nk.empty(5), generator=Generator(7)).numpy()
    np.testing.assert_array_equal(a, b)


def test_matches_torch_formulas():
    torch = pytest.importorskip("torch")
    tinit = torch.nn.init
    for name, param in [("linear", None), ("tanh", None), ("relu", None), ("leaky_relu", None),
                        ("leaky_relu", 0.3), ("selu", None), ("sigmoid", None)]:
        assert init.calculate_gain(name, param) == pytest.approx(tinit.calculate_gain(name, param))
    for shape in [(3, 5), (4, 2, 3, 3), (6, 2, 5), (2, 3, 2, 2, 2)]:
        assert _calculate_fan_in_and_fan_out(nk.empty(*shape)) == tinit._calculate_fan_in_and_fan_out(
            torch.empty(*shape))
    # Same distribution (not the same numbers): compare exact bounds and sample stds.
    nk.manual_seed(0)
    torch.manual_seed(0)
    for fn in ["kaiming_uniform_", "xavier_uniform_"]:
        ours = getattr(init, fn)(big(256, 128)).numpy()
        theirs = getattr(tinit, fn)(torch.empty(256, 128)).numpy()
        assert np.abs(ours).max() == pytest.approx(np.abs(theirs).max(), rel=0.01)
        assert ours.std() == pytest.approx(theirs.std(), rel=0.02)
    ours = init.trunc_normal_(big(256, 128), 0.0, 1.0, -0.5, 1.5).numpy()
    theirs = tinit.trunc_normal_(torch.empty(256, 128), 0.0, 1.0, -0.5, 1.5).numpy()
    assert ours.mean() == pytest.approx(theirs.mean(), abs=0.01) and ours.std() == pytest.approx(theirs.std(),
                                                                                                  rel=0.02)
