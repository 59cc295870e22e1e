"""Reductions: the spec table (forward, gradcheck, gradgradcheck, no-grad, PyTorch parity) and the hand-computed
cases the table cannot express (tie rules, zeros in prod, corrections, stability, empty inputs, errors)."""

import warnings

import numpy as np
import pytest

import nnkit as nk
from tests.ops import harness
from tests.ops.harness import OpSpec

INF = float("inf")


def normal(*shapes):
    return lambda rng: [rng.standard_normal(s) for s in shapes]


def away_from_zero(*shapes):
    # prod's no-zero formula, |x| in norms: keep finite differences away from 0.
    return lambda rng: [rng.choice([-1.0, 1.0], s) * rng.uniform(0.5, 1.5, s) for s in shapes]


def distinct_abs(*shapes):
    # inf-norms pick max |x|: distinct magnitudes at least 0.1 apart so finite differences never cross a tie.
    def make(rng):
        out = []
        for s in shapes:
            n = int(np.prod(s))
            mags = 0.5 + 0.1 * rng.permutation(n)
            out.append((rng.choice([-1.0, 1.0], n) * mags).reshape(s))
        return out
    return make


def fixed(*arrays):
    return lambda rng: [np.array(a, dtype=np.float64) for a in arrays]


def softmax_ref(a, axis):
    e = np.exp(a - a.max(axis=axis, keepdims=True))
    return e / e.sum(axis=axis, keepdims=True)


def lse_ref(a, axis, keepdims=False):
    return np.log(np.exp(a).sum(axis=axis, keepdims=keepdims))


def pnorm_ref(a, p, axis=None, keepdims=False):
    return (np.abs(a) ** p).sum(axis=axis, keepdims=keepdims) ** (1 / p)


# Rows with zero, one, two and three zeros: prod's gradient (and its derivative) through every zero case.
PROD_ZEROS = [[0.7, -1.3, 0.9, 1.1], [0.8, 0.0, -1.2, 0.6], [0.0, 1.4, 0.0, -0.9], [0.0, 0.0, 0.0, 1.2]]

SPECS = [
    # sum
    OpSpec("sum_all", lambda x: x.sum(), np.sum, normal((3, 4)), torch_fn=lambda x: x.sum(), grad_fn="SumBackward0"),
    OpSpec("sum_dim", lambda x: x.sum(1), lambda a: a.sum(1), normal((3, 4)), torch_fn=lambda x: x.sum(1),
           grad_fn="SumBackward1"),
    OpSpec("sum_dims_tuple", lambda x: nk.sum(x, (0, 2)), lambda a: a.sum((0, 2)), normal((2, 3, 4)),
           torch_fn=lambda x: x.sum((0, 2)), grad_fn="SumBackward1"),
    OpSpec("sum_keepdim", lambda x: x.sum(0, keepdim=True), lambda a: a.sum(0, keepdims=True), normal((3, 4)),
           torch_fn=lambda x: x.sum(0, keepdim=True)),
    OpSpec("sum_neg_dim", lambda x: x.sum(-1), lambda a: a.sum(-1), normal((2, 3, 4)), torch_fn=lambda x: x.sum(-1)),
    OpSpec("sum_tuple_neg_keepdim", lambda x: x.sum((-1, 0), True), lambda a: a.sum((0, 2), keepdims=True),
           normal((2, 3, 4)), torch_fn=lambda x: x.sum((-1, 0), True)),
    OpSpec("sum_0d", lambda x: x.sum(0), lambda a: a, normal(()), torch_fn=lambda x: x.sum(0),
           grad_fn="SumBackward1"),
    OpSpec("sum_dtype", lambda x: x.sum(1, dtype=nk.float32), lambda a: a.sum(1).astype(np.float32), normal((3, 4)),
           diff=(), torch_fn=lambda x: x.sum(1, dtype=__import__("torch").float32), atol=1e-5, float32=False),
    OpSpec("sum_int", lambda x: x.sum(0), lambda a: a.sum(0), lambda rng: [rng.integers(-5, 5, (3, 4))],
           torch_fn=lambda x: x.sum(0)),
    OpSpec("sum_bool", lambda x: x.sum(), lambda a: np.int64(a.sum()), lambda rng: [rng.random((3, 4)) > 0.5],
           torch_fn=lambda x: x.sum()),
    # mean
    OpSpec("mean_all", lambda x: x.mean(), np.mean, normal((3, 4)), torch_fn=lambda x: x.mean(),
           grad_fn="MeanBackward0"),
    OpSpec("mean_dim", lambda x: x.mean(0), lambda a: a.mean(0), normal((3, 4)), torch_fn=lambda x: x.mean(0),
           grad_fn="MeanBackward1"),
    OpSpec("mean_dims_tuple_keepdim", lambda x: nk.mean(x, (0, 2), keepdim=True),
           lambda a: a.mean((0, 2), keepdims=True), normal((2, 3, 4)),
           torch_fn=lambda x: x.mean((0, 2), keepdim=True)),
    OpSpec("mean_neg_dim", lambda x: x.mean(-2), lambda a: a.mean(-2), normal((2, 3, 4)),
           torch_fn=lambda x: x.mean(-2)),
    # prod
    OpSpec("prod_all", lambda x: x.prod(), np.prod, away_from_zero((2, 3)), torch_fn=lambda x: x.prod(),
           grad_fn="ProdBackward0"),
    OpSpec("prod_dim", lambda x: x.prod(1), lambda a: a.prod(1), away_from_zero((3, 4)),
           torch_fn=lambda x: x.prod(1), grad_fn="ProdBackward1"),
    OpSpec("prod_neg_dim_keepdim", lambda x: x.prod(-2, keepdim=True), lambda a: a.prod(-2, keepdims=True),
           away_from_zero((2, 3, 2)), torch_fn=lambda x: x.prod(-2, keepdim=True)),
    OpSpec("prod_dims_tuple", lambda x: x.prod((0, 2)), lambda a: a.prod((0, 2)), away_from_zero((2, 2, 3)),
           grad_fn="ProdBackward1"),  # PyTorch's prod takes one int dim: no parity
    OpSpec("prod_with_zeros", lambda x: x.prod(1), lambda a: a.prod(1), fixed(PROD_ZEROS),
           torch_fn=lambda x: x.prod(1)),
    OpSpec("prod_all_one_zero", lambda x: x.prod(), np.prod, fixed([[0.5, 0.0], [1.5, -2.0]]),
           torch_fn=lambda x: x.prod()),
    OpSpec("prod_all_two_zeros", lambda x: x.prod(), np.prod, fixed([0.5, 0.0, 1.5, 0.0]),
           torch_fn=lambda x: x.prod()),
    # max, min (random normal values are tie-free)
    OpSpec("max_all", lambda x: x.max(), np.max, normal((3, 4)), torch_fn=lambda x: x.max(), grad_fn="MaxBackward1"),
    OpSpec("max_dim", lambda x: x.max(1), lambda a: (a.max(1), a.argmax(1)), normal((3, 4)),
           torch_fn=lambda x: x.max(1), grad_fn="MaxBackward0"),
    OpSpec("max_neg_dim_keepdim", lambda x: nk.max(x, -1, keepdim=True),
           lambda a: (a.max(-1, keepdims=True), a.argmax(-1, keepdims=True)), normal((2, 3, 4)),
           torch_fn=lambda x: x.max(-1, keepdim=True)),
    OpSpec("max_elementwise", lambda x, y: nk.max(x, y), np.maximum, normal((3,), (3,)),
           torch_fn=lambda x, y: x.max(y), grad_fn="MaximumBackward0"),
    OpSpec("min_all", lambda x: x.min(), np.min, normal((3, 4)), torch_fn=lambda x: x.min(), grad_fn="MinBackward1"),
    OpSpec("min_dim", lambda x: x.min(0), lambda a: (a.min(0), a.argmin(0)), normal((3, 4)),
           torch_fn=lambda x: x.min(0), grad_fn="MinBackward0"),
    # amax, amin
    OpSpec("amax_all", lambda x: x.amax(), np.max, normal((3, 4)), torch_fn=lambda x: x.amax(),
           grad_fn="AmaxBackward0"),
    OpSpec("amax_dims_tuple", lambda x: nk.amax(x, (0, 2)), lambda a: a.max((0, 2)), normal((2, 3, 4)),
           torch_fn=lambda x: x.amax((0, 2))),
    OpSpec("amax_neg_dim_keepdim", lambda x: x.amax(-1, keepdim=True), lambda a: a.max(-1, keepdims=True),
           normal((3, 4)), torch_fn=lambda x: x.amax(-1, keepdim=True)),
    OpSpec("amin_all", lambda x: x.amin(), np.min, normal((3, 4)), torch_fn=lambda x: x.amin(),
           grad_fn="AminBackward0"),
    OpSpec("amin_dim", lambda x: x.amin(1), lambda a: a.min(1), normal((3, 4)), torch_fn=lambda x: x.amin(1)),
    # var, std
    OpSpec("var_all", lambda x: x.var(), lambda a: a.var(ddof=1), normal((3, 4)), torch_fn=lambda x: x.var(),
           grad_fn="VarBackward0"),
    OpSpec("var_dim", lambda x: x.var(1), lambda a: a.var(1, ddof=1), normal((3, 4)), torch_fn=lambda x: x.var(1)),
    OpSpec("var_dims_tuple_keepdim", lambda x: x.var((0, 2), keepdim=True),
           lambda a: a.var((0, 2), ddof=1, keepdims=True), normal((2, 3, 4)),
           torch_fn=lambda x: x.var((0, 2), keepdim=True)),
    OpSpec("var_neg_dim_correction0", lambda x: x.var(-1, correction=0), lambda a: a.var(-1), normal((3, 4)),
           torch_fn=lambda x: x.var(-1, correction=0)),
    OpSpec("var_unbiased_false", lambda x: x.var(0, False), lambda a: a.var(0), normal((3, 4)),
           torch_fn=lambda x: x.var(0, False)),
    OpSpec("var_correction_float", lambda x: nk.var(x, 1, correction=1.5), lambda a: a.var(1, ddof=1.5),
           normal((3, 4)), torch_fn=lambda x: x.var(1, correction=1.5)),
    OpSpec("std_all", lambda x: x.std(), lambda a: a.std(ddof=1), normal((3, 4)), torch_fn=lambda x: x.std(),
           grad_fn="StdBackward0"),
    OpSpec("std_neg_dim", lambda x: x.std(-1), lambda a: a.std(-1, ddof=1), normal((3, 4)),
           torch_fn=lambda x: x.std(-1)),
    OpSpec("std_dims_tuple_keepdim_correction0", lambda x: nk.std(x, (0, 1), keepdim=True, correction=0),
           lambda a: a.std((0, 1), keepdims=True), normal((2, 3, 4)),
           torch_fn=lambda x: x.std((0, 1), keepdim=True, correction=0)),
    # logsumexp
    OpSpec("logsumexp_dim", lambda x: x.logsumexp(1), lambda a: lse_ref(a, 1), normal((3, 4)),
           torch_fn=lambda x: x.logsumexp(1), grad_fn="LogsumexpBackward0"),
    OpSpec("logsumexp_tuple_keepdim", lambda x: nk.logsumexp(x, (0, 2), keepdim=True),
           lambda a: lse_ref(a, (0, 2), True), normal((2, 3, 4)),
           torch_fn=lambda x: x.logsumexp((0, 2), keepdim=True)),
    OpSpec("logsumexp_neg_dim", lambda x: x.logsumexp(-1), lambda a: lse_ref(a, -1), normal((2, 3)),
           torch_fn=lambda x: x.logsumexp(-1)),
    OpSpec("logsumexp_large", lambda x: (x * 1000).logsumexp(1), lambda a: np.max(a * 1000, 1)
           + np.log(np.exp(a * 1000 - np.max(a * 1000, 1, keepdims=True)).sum(1)), normal((2, 3)),
           torch_fn=lambda x: (x * 1000).logsumexp(1), atol=1e-4),
    # norm
    OpSpec("norm_fro", lambda x: x.norm(), lambda a: np.sqrt((a * a).sum()), normal((3, 4)),
           torch_fn=lambda x: x.norm(), grad_fn="LinalgVectorNormBackward0"),
    OpSpec("norm_dim", lambda x: x.norm(dim=1), lambda a: np.sqrt((a * a).sum(1)), normal((3, 4)),
           torch_fn=lambda x: x.norm(dim=1), grad_fn="LinalgVectorNormBackward0"),
    OpSpec("norm_fro_tuple_keepdim", lambda x: nk.norm(x, "fro", (0, 2), keepdim=True),
           lambda a: np.sqrt((a * a).sum((0, 2), keepdims=True)), normal((2, 3, 2)),
           torch_fn=lambda x: x.norm("fro", (0, 2), keepdim=True)),
    OpSpec("norm_p1_neg_dim", lambda x: x.norm(1, -1), lambda a: np.abs(a).sum(-1), away_from_zero((3, 4)),
           torch_fn=lambda x: x.norm(1, -1)),
    OpSpec("norm_p3", lambda x: x.norm(3, 0), lambda a: pnorm_ref(a, 3, 0), away_from_zero((3, 4)),
           torch_fn=lambda x: x.norm(3, 0)),
    OpSpec("norm_p1_5", lambda x: x.norm(1.5), lambda a: pnorm_ref(a, 1.5), away_from_zero((3, 4)),
           torch_fn=lambda x: x.norm(1.5)),
    OpSpec("norm_p0_5", lambda x: x.norm(0.5, 1), lambda a: pnorm_ref(a, 0.5, 1), away_from_zero((3, 4)),
           torch_fn=lambda x: x.norm(0.5, 1)),
    OpSpec("norm_inf", lambda x: x.norm(INF, 1), lambda a: np.abs(a).max(1), distinct_abs((3, 4)),
           torch_fn=lambda x: x.norm(INF, 1)),
    OpSpec("norm_neg_inf", lambda x: x.norm(-INF), lambda a: np.abs(a).min(), distinct_abs((3, 4)),
           torch_fn=lambda x: x.norm(-INF)),
    OpSpec("norm_p0", lambda x: x.norm(0, 1), lambda a: (a != 0).sum(1).astype(np.float64),
           fixed([[0.0, 1.0, -2.0], [0.0, 0.0, 3.0]]), gradgrad=False),
    # softmax, log_softmax
    OpSpec("softmax_dim", lambda x: x.softmax(1), lambda a: softmax_ref(a, 1), normal((3, 4)),
           torch_fn=lambda x: x.softmax(1), grad_fn="SoftmaxBackward0"),
    OpSpec("softmax_neg_dim", lambda x: nk.softmax(x, -3), lambda a: softmax_ref(a, 0), normal((2, 3, 2)),
           torch_fn=lambda x: x.softmax(-3)),
    OpSpec("softmax_0d", lambda x: x.softmax(0), lambda a: np.ones(()), normal(()),
           torch_fn=lambda x: x.softmax(0)),
    OpSpec("log_softmax_dim", lambda x: x.log_softmax(0), lambda a: np.log(softmax_ref(a, 0)), normal((3, 4)),
           torch_fn=lambda x: x.log_softmax(0), grad_fn="LogSoftmaxBackward0"),
    OpSpec("log_softmax_neg_dim", lambda x: nk.log_softmax(x, -1), lambda a: np.log(softmax_ref(a, -1)),
           normal((2, 3, 4)), torch_fn=lambda x: x.log_softmax(-1)),
    OpSpec("log_softmax_dtype", lambda x: x.log_softmax(1, dtype=nk.float32),
           lambda a: np.log(softmax_ref(a, 1)).astype(np.float32), normal((2, 3)),
           diff=(), torch_fn=lambda x: x.log_softmax(1, dtype=__import__("torch").float32), atol=1e-5,
           float32=False),
    # no gradient: argmax, argmin, all, any
    OpSpec("argmax_all", lambda x: x.argmax(), np.argmax, normal((3, 4)), diff=(), torch_fn=lambda x: x.argmax()),
    OpSpec("argmax_dim_keepdim", lambda x: x.argmax(1, keepdim=True), lambda a: a.argmax(1, keepdims=True),
           normal((3, 4)), diff=(), torch_fn=lambda x: x.argmax(1, keepdim=True)),
    OpSpec("argmin_neg_dim", lambda x: nk.argmin(x, -1), lambda a: a.argmin(-1), normal((2, 3, 4)), diff=(),
           torch_fn=lambda x: x.argmin(-1)),
    OpSpec("all_dim", lambda x: (x > -1).all(1), lambda a: (a > -1).all(1), normal((3, 4)), diff=(),
           torch_fn=lambda x: (x > -1).all(1)),
    OpSpec("any_tuple_keepdim", lambda x: nk.any(x > 1, (0, 1), keepdim=True),
           lambda a: (a > 1).any((0, 1), keepdims=True), normal((2, 3, 4)), diff=(),
           torch_fn=lambda x: (x > 1).any((0, 1), keepdim=True)),
]

harness.make_tests(SPECS, globals())


# -- hand-computed gradients ---------------------------------------------------------------------------------
def grad_of(fn, value, *, grad_output=None):
    x = nk.tensor(value, dtype=nk.float64, requires_grad=True)
    out = fn(x)
    if grad_output is None:
        out.sum().backward()
    else:
        out.backward(nk.tensor(grad_output, dtype=nk.float64))
    return out.detach().numpy(), x.grad.numpy()


@pytest.mark.parametrize("fn", [lambda x: x.max(), lambda x: x.amax(), lambda x: nk.amax(x, 0)],
                         ids=["max", "amax", "amax_dim"])
def test_max_ties_share_the_gradient_evenly(fn):
    value, g = grad_of(fn, [1.0, 3.0, 3.0])
    assert value == 3.0
    np.testing.assert_array_equal(g, [0.0, 0.5, 0.5])


def test_min_and_amin_ties_share_the_gradient_evenly():
    _, g = grad_of(lambda x: x.min(), [2.0, -1.0, 5.0, -1.0])
    np.testing.assert_array_equal(g, [0.0, 0.5, 0.0, 0.5])
    _, g = grad_of(lambda x: x.amin(1), [[1.0, 1.0, 1.0], [0.0, 2.0, 0.0]])
    np.testing.assert_allclose(g, [[1 / 3, 1 / 3, 1 / 3], [0.5, 0.0, 0.5]])


def test_max_of_nan_sends_the_gradient_to_the_nan():
    value, g = grad_of(lambda x: x.max(), [1.0, float("nan"), 2.0])
    assert np.isnan(value)
    np.testing.assert_array_equal(g, [0.0, 1.0, 0.0])


def test_max_dim_sends_the_gradient_to_the_returned_index_only():
    x = nk.tensor([[1.0, 3.0, 3.0, 0.0], [5.0, 2.0, 5.0, 5.0]], dtype=nk.float64, requires_grad=True)
    values, indices = x.max(1)
    np.testing.assert_array_equal(values.detach().numpy(), [3.0, 5.0])
    np.testing.assert_array_equal(indices.numpy(), [1, 0])  # ties: the first index, as PyTorch on the CPU
    assert indices.dtype == nk.int64 and not indices.requires_grad and indices.grad_fn is None
    values.backward(nk.tensor([10.0, 20.0], dtype=nk.float64))
    np.testing.assert_array_equal(x.grad.numpy(), [[0, 10, 0, 0], [20, 0, 0, 0]])


def test_min_dim_keepdim_gradient_and_indices():
    x = nk.tensor([[4.0, 1.0], [1.0, 4.0], [2.0, 2.0]], dtype=nk.float64, requires_grad=True)
    result = x.min(-1, keepdim=True)
    assert result.values.shape == (3, 1) and result.indices.shape == (3, 1)
    np.testing.assert_array_equal(result.indices.numpy(), [[1], [0], [0]])
    result.values.sum().backward()
    np.testing.assert_array_equal(x.grad.numpy(), [[0, 1], [1, 0], [1, 0]])


def test_max_dim_returns_a_named_tuple_printed_like_pytorch():
    result = nk.tensor([[1.0, 5.0], [7.0, 2.0]]).max(1)
    assert type(result).__name__ == "max"
    values, indices = result
    assert values is result.values and indices is result.indices
    assert repr(result) == f"nnkit.return_types.max(\nvalues={values!r},\nindices={indices!r})"
    assert repr(nk.min(nk.tensor([1.0]), 0)).startswith("nnkit.return_types.min(")


def test_max_with_a_tensor_is_the_elementwise_maximum():
    out = nk.max(nk.tensor([1.0, 5.0]), nk.tensor([3.0, 2.0]))
    np.testing.assert_array_equal(out.numpy(), [3.0, 5.0])
    np.testing.assert_array_equal(nk.tensor([1.0, 5.0]).min(nk.tensor([3.0, 2.0])).numpy(), [1.0, 2.0])


def test_prod_gradient_with_one_zero():
    value, g = grad_of(lambda x: x.prod(), [2.0, 0.0, 3.0])
    assert value == 0.0
    np.testing.assert_array_equal(g, [0.0, 6.0, 0.0])


def test_prod_gradient_with_several_zeros_is_zero():
    _, g = grad_of(lambda x: x.prod(), [0.0, 2.0, 0.0, 3.0])
    np.testing.assert_array_equal(g, [0.0, 0.0, 0.0, 0.0])


def test_prod_dim_gradient_mixes_rows_with_and_without_zeros():
    _, g = grad_of(lambda x: x.prod(1), [[2.0, 0.0, 3.0], [1.0, 2.0, 3.0], [0.0, 0.0, 5.0]])
    np.testing.assert_array_equal(g, [[0, 6, 0], [6, 3, 2], [0, 0, 0]])


def test_prod_second_derivative_through_a_zero():
    # f = x0 * x1 * x2 at x1 = 0: d2f/dx0dx1 = x2 and d2f/dx1dx2 = x0 although the first gradient is mostly 0.
    x = nk.tensor([2.0, 0.0, 3.0], dtype=nk.float64, requires_grad=True)
    (g,) = nk.autograd.grad(x.prod(), x, create_graph=True)
    hessian = np.stack([nk.autograd.grad(g[i], x, retain_graph=True)[0].numpy() for i in range(3)])
    np.testing.assert_array_equal(hessian, [[0, 3, 0], [3, 0, 2], [0, 2, 0]])


def test_var_and_std_correction_values():
    x = nk.tensor([1.0, 2.0, 4.0])
    np.testing.assert_allclose(x.var().item(), 7 / 3, rtol=1e-6)
    np.testing.assert_allclose(x.var(correction=0).item(), 14 / 9, rtol=1e-6)
    np.testing.assert_allclose(x.var(unbiased=False).item(), 14 / 9, rtol=1e-6)
    np.testing.assert_allclose(x.var(correction=2).item(), 14 / 3, rtol=1e-6)
    np.testing.assert_allclose(x.std().item(), np.sqrt(7 / 3), rtol=1e-6)
    np.testing.assert_allclose(x.std(correction=0).item(), np.sqrt(14 / 9), rtol=1e-6)
    np.testing.assert_allclose(x.var(True).item(), 7 / 3, rtol=1e-6)  # the old var(unbiased) overload
    np.testing.assert_allclose(x.var(False).item(), 14 / 9, rtol=1e-6)


def test_var_gradient_by_hand():
    # d var / dx = 2 (x - mean) / (N - correction)
    _, g = grad_of(lambda x: x.var(), [1.0, 2.0, 4.0])
    np.testing.assert_allclose(g, [-4 / 3, -1 / 3, 5 / 3])
    _, g = grad_of(lambda x: x.var(correction=0), [1.0, 2.0, 4.0])
    np.testing.assert_allclose(g, [-8 / 9, -2 / 9, 10 / 9])


def test_var_with_correction_at_least_n_warns_and_gives_inf_or_nan():
    with pytest.warns(UserWarning, match="degrees of freedom is <= 0"):
        value, g = grad_of(lambda x: x.var(correction=3), [1.0, 2.0, 4.0])
    assert value == np.inf
    np.testing.assert_array_equal(g, [np.inf] * 3)
    with pytest.warns(UserWarning, match="degrees of freedom is <= 0"):
        value, g = grad_of(lambda x: x.var(), [5.0])
    assert np.isnan(value) and np.isnan(g).all()
    with pytest.warns(UserWarning, match="degrees of freedom is <= 0"):
        # along a dim PyTorch's gradient is 2 / (N - correction) even when negative: finite here.
        value, g = grad_of(lambda x: x.var(0, correction=5), [[1.0], [2.0], [4.0]])
    assert value[0] == np.inf
    np.testing.assert_allclose(g, [[4 / 3], [1 / 3], [-5 / 3]])


def test_std_gradient_is_zero_where_std_is_zero():
    value, g = grad_of(lambda x: x.std(), [2.0, 2.0, 2.0])
    assert value == 0.0
    np.testing.assert_array_equal(g, [0.0, 0.0, 0.0])
    _, g = grad_of(lambda x: x.std(0), [[2.0, 1.0], [2.0, 3.0]])
    np.testing.assert_allclose(g, [[0.0, -np.sqrt(0.5)], [0.0, np.sqrt(0.5)]])


def test_softmax_and_log_softmax_are_finite_for_huge_logits():
    logits = [[1e4, -1e4, 0.0], [-1e4, -1e4, -1e4]]
    y, g = grad_of(lambda x: x.softmax(1), logits, grad_output=[[1.0, 2.0, 3.0], [1.0, 0.0, 0.0]])
    np.testing.assert_allclose(y, [[1.0, 0.0, 0.0], [1 / 3, 1 / 3, 1 / 3]])
    assert np.isfinite(g).all()
    y, g = grad_of(lambda x: x.log_softmax(1), logits, grad_output=[[1.0, 2.0, 3.0], [1.0, 0.0, 0.0]])
    np.testing.assert_allclose(y, [[0.0, -2e4, -1e4], [-np.log(3)] * 3])
    assert np.isfinite(y).all() and np.isfinite(g).all()
    np.testing.assert_allclose(g, [[1 - 6, 2, 3], [1 - 1 / 3, -1 / 3, -1 / 3]], atol=1e-12)


def test_softmax_float32_huge_logits_never_overflow():
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # no overflow / invalid warnings from numpy either
        x = nk.tensor([[1e4, -1e4], [3e37, 0.0]], requires_grad=True)
        y = x.log_softmax(1)
        (y * nk.tensor([[1.0, 2.0], [3.0, 4.0]])).sum().backward()
    assert y.dtype == nk.float32 and np.isfinite(y.detach().numpy()).all()
    assert np.isfinite(x.grad.numpy()).all()


def test_logsumexp_of_an_all_minus_inf_row_is_minus_inf():
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        out = nk.tensor([[-INF, -INF], [0.0, 0.0], [INF, 0.0]]).logsumexp(1)
    np.testing.assert_allclose(out.numpy(), [-INF, np.log(2), INF])


def test_logsumexp_is_stable_for_large_values():
    out = nk.tensor([1e4, 1e4], dtype=nk.float32).logsumexp(0)
    assert out.dtype == nk.float32
    np.testing.assert_allclose(out.item(), 1e4 + np.log(2), rtol=1e-6)
    _, g = grad_of(lambda x: x.logsumexp(0), [1e4, 1e4])
    np.testing.assert_allclose(g, [0.5, 0.5])


def test_norm_gradient_at_zero_is_zero():
    for p in (2, "fro", 3, 1.5, INF):
        value, g = grad_of(lambda x, p=p: x.norm(p), [0.0, 0.0, 0.0])
        assert value == 0.0
        np.testing.assert_array_equal(g, [0.0, 0.0, 0.0])


def test_norm_values_and_inf_norm_ties():
    x = nk.tensor([3.0, -4.0, 0.0])
    assert x.norm().item() == 5.0
    assert x.norm(1).item() == 7.0
    assert x.norm(INF).item() == 4.0
    assert x.norm(-INF).item() == 0.0
    assert x.norm(0).item() == 2.0
    _, g = grad_of(lambda t: t.norm(INF), [-3.0, 3.0, 1.0])
    np.testing.assert_array_equal(g, [-0.5, 0.5, 0.0])


def test_argmax_and_argmin_ties_give_the_first_index():
    assert nk.tensor([3.0, 1.0, 3.0]).argmax().item() == 0
    assert nk.tensor([1.0, 0.0, 0.0]).argmin().item() == 1
    np.testing.assert_array_equal(nk.tensor([[1, 3, 3], [2, 2, 2]]).argmax(1).numpy(), [1, 0])
    out = nk.tensor([[1.0, 2.0], [4.0, 3.0]]).argmax(keepdim=True)
    assert out.shape == (1, 1) and out.item() == 2 and out.dtype == nk.int64


def test_integer_results_carry_no_gradient():
    x = nk.tensor([[1.0, 2.0]], requires_grad=True)
    for out in (x.argmax(), x.argmin(1), x.max(1).indices, (x > 1).all(), (x > 1).any(1)):
        assert not out.requires_grad and out.grad_fn is None


# -- dtypes, 0-dim and empty inputs ----------------------------------------------------------------------------
def test_result_dtypes():
    assert nk.tensor([1, 2]).sum().dtype == nk.int64
    assert nk.tensor([1, 2], dtype=nk.int32).sum(0).dtype == nk.int64
    assert nk.tensor([1, 2], dtype=nk.uint8).prod().dtype == nk.int64
    assert nk.tensor([True, True]).sum().item() == 2 and nk.tensor([True]).sum().dtype == nk.int64
    assert nk.tensor([1, 2]).sum(dtype=nk.float32).dtype == nk.float32
    assert nk.tensor([1, 2]).mean(dtype=nk.float32).item() == 1.5
    assert nk.tensor([True, False]).max().dtype == nk.bool
    assert nk.tensor([1, 2]).logsumexp(0).dtype == nk.float32
    assert nk.tensor([1.0, 0.0]).all().dtype == nk.bool
    assert nk.tensor([1, 0], dtype=nk.uint8).any().dtype == nk.uint8  # as PyTorch
    for fn in (lambda x: x.sum(), lambda x: x.mean(0), lambda x: x.prod(), lambda x: x.var(), lambda x: x.norm(),
               lambda x: x.softmax(0), lambda x: x.amax(), lambda x: x.max(0).values, lambda x: x.logsumexp(0)):
        assert fn(nk.tensor([1.0, 2.0])).dtype == nk.float32
        assert fn(nk.tensor([1.0, 2.0], dtype=nk.float64)).dtype == nk.float64


def test_dtype_argument_sends_the_gradient_back_in_the_input_dtype():
    x = nk.tensor([1.0, 2.0], requires_grad=True)
    out = x.sum(dtype=nk.float64)
    assert out.dtype == nk.float64 and out.grad_fn.name() == "SumBackward0"
    out.backward()
    assert x.grad.dtype == nk.float32
    x.grad = None
    x.softmax(0, dtype=nk.float64)[0].backward()
    assert x.grad.dtype == nk.float32


def test_zero_dim_inputs_accept_dim_0_and_minus_1():
    x = nk.tensor(3.0)
    for fn in (lambda x, d: x.sum(d), lambda x, d: x.mean(d), lambda x, d: x.prod(d), lambda x, d: x.amax(d),
               lambda x, d: x.max(d).values, lambda x, d: x.logsumexp(d), lambda x, d: x.norm(dim=d)):
        for d in (0, -1):
            out = fn(x, d)
            assert out.shape == () and out.item() == 3.0
    assert x.softmax(0).item() == 1.0 and x.log_softmax(-1).item() == 0.0
    assert x.max(0).indices.item() == 0 and x.argmax(0).item() == 0
    with pytest.raises(IndexError, match=r"expected to be in range of \[-1, 0\], but got 1"):
        x.sum(1)


def test_empty_reductions():
    empty = nk.zeros(2, 0)
    assert empty.sum().item() == 0.0
    np.testing.assert_array_equal(empty.prod(1).numpy(), [1.0, 1.0])
    np.testing.assert_array_equal(nk.zeros(0, 3).logsumexp(0).numpy(), [-INF] * 3)
    np.testing.assert_array_equal(nk.zeros(0, 2).norm(dim=0).numpy(), [0.0, 0.0])
    assert np.isnan(nk.zeros(0).mean().item())
    assert nk.zeros(0).all().item() is True and nk.zeros(0).any().item() is False
    assert empty.max(0).values.shape == (0,) and empty.amax(0).shape == (0,)
    assert empty.softmax(1).shape == (2, 0)


# -- errors ---------------------------------------------------------------------------------------------------
@pytest.mark.parametrize("op", ["max", "min"])
def test_max_of_empty_needs_a_dim(op):
    with pytest.raises(RuntimeError, match=rf"^{op}\(\): Expected reduction dim to be specified for input.numel\(\) "
                       r"== 0. Specify the reduction dim with the 'dim' argument."):
        getattr(nk.tensor([]), op)()
    with pytest.raises(IndexError, match=rf"{op}\(\): Expected reduction dim 1 to have non-zero size."):
        getattr(nk.zeros(2, 0), op)(1)


def test_amax_and_argmax_of_empty():
    with pytest.raises(RuntimeError, match=r"amax\(\): Expected reduction dim to be specified"):
        nk.zeros(0, 3).amax()
    with pytest.raises(IndexError, match=r"amin\(\): Expected reduction dim 0 to have non-zero size"):
        nk.zeros(0, 3).amin(0)
    with pytest.raises(IndexError, match=r"argmax\(\): Expected reduction dim to be specified for input.numel"):
        nk.zeros(0).argmax()
    with pytest.raises(IndexError, match=r"argmin\(\): Expected reduction dim 0 to have non-zero size"):
        nk.zeros(0, 3).argmin(0)
    with pytest.raises(RuntimeError, match="cannot compute the inf norm on an empty tensor"):
        nk.zeros(0).norm(INF)


@pytest.mark.parametrize("call", [
    lambda x: x.sum(2), lambda x: x.mean(-3), lambda x: x.prod(2), lambda x: x.max(2), lambda x: x.amax((0, 2)),
    lambda x: x.var(2), lambda x: x.std(-3), lambda x: x.logsumexp(2), lambda x: x.norm(dim=2),
    lambda x: x.softmax(2), lambda x: x.log_softmax(-3), lambda x: x.argmax(2), lambda x: x.all(2),
    lambda x: x.any(-3),
])
def test_dim_out_of_range_raises_index_error(call):
    with pytest.raises(IndexError, match=r"^Dimension out of range \(expected to be in range of \[-2, 1\], but got"):
        call(nk.zeros(2, 3))


def test_repeated_dims_raise():
    with pytest.raises(RuntimeError, match="dim 1 appears multiple times in the list of dims"):
        nk.zeros(2, 3).sum((1, -1))


def test_mean_of_integers_raises_pytorchs_error():
    with pytest.raises(RuntimeError, match=r"^mean\(\): could not infer output dtype. Input dtype must be either a "
                       "floating point or complex dtype. Got: Long"):
        nk.tensor([1, 2]).mean()
    with pytest.raises(RuntimeError, match="Got: Bool"):
        nk.tensor([True]).mean(0)


def test_float_only_reductions_reject_integers():
    with pytest.raises(RuntimeError, match="std and var only support floating point"):
        nk.tensor([1, 2]).var()
    with pytest.raises(RuntimeError, match="linalg.vector_norm: Expected a floating point or complex tensor"):
        nk.tensor([1, 2]).norm()
    with pytest.raises(NotImplementedError, match="not implemented for 'Long'"):
        nk.tensor([1, 2]).softmax(0)


def test_argmax_rejects_bool_input():
    with pytest.raises(RuntimeError, match=r"^argmax\(\): does not support bool input"):
        nk.tensor([True, False]).argmax()


def test_max_with_a_tuple_dim_is_a_type_error():
    with pytest.raises(TypeError, match="amax"):
        nk.zeros(2, 3).max((0, 1))


def test_softmax_needs_a_dim():
    with pytest.raises(TypeError, match="must be int"):
        nk.softmax(nk.zeros(3), None)


def test_var_rejects_both_unbiased_and_correction():
    with pytest.raises(TypeError, match="either unbiased or correction"):
        nk.zeros(3).var(0, True, correction=1)


def test_norm_rejects_matrix_norms():
    with pytest.raises(RuntimeError, match="'nuc'"):
        nk.zeros(2, 2).norm("nuc")
