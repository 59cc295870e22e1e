"""Elementwise ops: the spec table (forward, gradcheck, gradgradcheck, no-grad, PyTorch parity) and the
hand-computed cases the table cannot express (tie rules, promotion, scalar operands, errors)."""

import numpy as np
import pytest

import nnkit as nk
from tests.ops import harness
from tests.ops.harness import OpSpec


def normal(*shapes):
    return lambda rng: [rng.standard_normal(s) for s in shapes]


def positive(*shapes):
    return lambda rng: [rng.uniform(0.5, 2.0, s) for s in shapes]


def away_from_zero(*shapes):
    # Kinks at 0 (abs, relu, sign): keep finite differences away from them.
    return lambda rng: [rng.choice([-1.0, 1.0], s) * rng.uniform(0.2, 2.0, s) for s in shapes]


def distinct_pair(shape_a, shape_b):
    # maximum/minimum: keep the operands at least 0.3 apart so finite differences never cross a tie.
    def make(rng):
        b = rng.standard_normal(shape_b)
        a = b + rng.choice([-1.0, 1.0], shape_a) * rng.uniform(0.3, 1.0, shape_a)
        return [a, b]
    return make


def sig(x):
    return 1 / (1 + np.exp(-x))


SPECS = [
    OpSpec("add", lambda a, b: a + b, np.add, normal((3, 4), (3, 4)), torch_fn=lambda a, b: a + b,
           grad_fn="AddBackward0"),
    OpSpec("add_broadcast", lambda a, b: a + b, np.add, normal((2, 3, 4), (3, 1)), torch_fn=lambda a, b: a + b),
    OpSpec("add_alpha", lambda a, b: nk.add(a, b, alpha=2.5), lambda a, b: a + 2.5 * b, normal((3,), (2, 3)),
           torch_fn=lambda a, b: a.add(b, alpha=2.5)),
    OpSpec("add_scalar", lambda a: a + 2.0, lambda a: a + 2.0, normal((4,)), torch_fn=lambda a: a + 2.0),
    OpSpec("radd_scalar", lambda a: 2.0 + a, lambda a: 2.0 + a, normal((4,)), torch_fn=lambda a: 2.0 + a),
    OpSpec("sub", lambda a, b: a - b, np.subtract, normal((4, 1), (3,)), torch_fn=lambda a, b: a - b,
           grad_fn="SubBackward0"),
    OpSpec("sub_alpha", lambda a, b: a.sub(b, alpha=0.5), lambda a, b: a - 0.5 * b, normal((3,), (3,)),
           torch_fn=lambda a, b: a.sub(b, alpha=0.5)),
    OpSpec("rsub_scalar", lambda a: 1.5 - a, lambda a: 1.5 - a, normal((4,)), torch_fn=lambda a: 1.5 - a,
           grad_fn="RsubBackward1"),
    OpSpec("mul", lambda a, b: a * b, np.multiply, normal((2, 3), (2, 1)), torch_fn=lambda a, b: a * b,
           grad_fn="MulBackward0"),
    OpSpec("mul_scalar", lambda a: a * -3.0, lambda a: a * -3.0, normal((5,)), torch_fn=lambda a: a * -3.0),
    OpSpec("div", lambda a, b: a / b, np.divide, lambda rng: [rng.standard_normal((3, 2)),
           rng.uniform(0.5, 2.0, (2,))], torch_fn=lambda a, b: a / b, grad_fn="DivBackward0"),
    OpSpec("div_scalar", lambda a: a / 4.0, lambda a: a / 4.0, normal((3,)), torch_fn=lambda a: a / 4.0),
    OpSpec("rdiv_scalar", lambda a: 2.0 / a, lambda a: 2.0 / a, positive((3,)), torch_fn=lambda a: 2.0 / a,
           grad_fn="MulBackward0"),
    OpSpec("pow_scalar", lambda a: a**3, lambda a: a**3, normal((4,)), torch_fn=lambda a: a**3,
           grad_fn="PowBackward0"),
    OpSpec("pow_fractional", lambda a: a**0.5, np.sqrt, positive((4,)), torch_fn=lambda a: a**0.5),
    OpSpec("pow_zero", lambda a: a**0, lambda a: a**0, normal((3,)), torch_fn=lambda a: a**0),
    OpSpec("pow_tensor", lambda a, b: a**b, np.power, positive((3, 2), (2,)), torch_fn=lambda a, b: a**b,
           grad_fn="PowBackward1"),
    OpSpec("rpow_scalar", lambda a: 2.0**a, lambda a: 2.0**a, normal((3,)), torch_fn=lambda a: 2.0**a,
           grad_fn="PowBackward2"),
    OpSpec("square", lambda a: a.square(), np.square, normal((3,)), torch_fn=lambda a: a.square(),
           grad_fn="PowBackward0"),
    OpSpec("neg", lambda a: -a, np.negative, normal((3,)), torch_fn=lambda a: -a, grad_fn="NegBackward0"),
    OpSpec("exp", lambda a: a.exp(), np.exp, normal((3, 2)), torch_fn=lambda a: a.exp(), grad_fn="ExpBackward0"),
    OpSpec("log", lambda a: a.log(), np.log, positive((3,)), torch_fn=lambda a: a.log(), grad_fn="LogBackward0"),
    OpSpec("log1p", lambda a: a.log1p(), np.log1p, positive((3,)), torch_fn=lambda a: a.log1p(),
           grad_fn="Log1PBackward0"),
    OpSpec("sqrt", lambda a: a.sqrt(), np.sqrt, positive((3,)), torch_fn=lambda a: a.sqrt(),
           grad_fn="SqrtBackward0"),
    OpSpec("rsqrt", lambda a: a.rsqrt(), lambda a: 1 / np.sqrt(a), positive((3,)), torch_fn=lambda a: a.rsqrt(),
           grad_fn="RsqrtBackward0"),
    OpSpec("reciprocal", lambda a: a.reciprocal(), np.reciprocal, positive((3,)),
           torch_fn=lambda a: a.reciprocal(), grad_fn="ReciprocalBackward0"),
    OpSpec("abs", lambda a: a.abs(), np.abs, away_from_zero((4,)), torch_fn=lambda a: a.abs(),
           grad_fn="AbsBackward0"),
    OpSpec("sin", lambda a: a.sin(), np.sin, normal((4,)), torch_fn=lambda a: a.sin(), grad_fn="SinBackward0"),
    OpSpec("cos", lambda a: a.cos(), np.cos, normal((4,)), torch_fn=lambda a: a.cos(), grad_fn="CosBackward0"),
    OpSpec("tanh", lambda a: a.tanh(), np.tanh, normal((4,)), torch_fn=lambda a: a.tanh(),
           grad_fn="TanhBackward0"),
    OpSpec("sigmoid", lambda a: a.sigmoid(), sig, normal((4,)), torch_fn=lambda a: a.sigmoid(),
           grad_fn="SigmoidBackward0"),
    OpSpec("relu", lambda a: a.relu(), lambda a: np.maximum(a, 0), away_from_zero((4,)),
           torch_fn=lambda a: a.relu(), grad_fn="ReluBackward0"),
    OpSpec("clamp", lambda a: a.clamp(-0.5, 0.5), lambda a: np.clip(a, -0.5, 0.5),
           lambda rng: [rng.choice([-1.0, 1.0], 6) * rng.choice([0.2, 0.3, 1.0, 2.0], 6)],
           torch_fn=lambda a: a.clamp(-0.5, 0.5), grad_fn="ClampBackward1"),
    OpSpec("clamp_min_only", lambda a: a.clamp(min=0.1), lambda a: np.maximum(a, 0.1),
           lambda rng: [np.array([-1.0, 0.5, 2.0, -0.3])], torch_fn=lambda a: a.clamp(min=0.1)),
    OpSpec("maximum", lambda a, b: nk.maximum(a, b), np.maximum, distinct_pair((3, 2), (2,)),
           torch_fn=lambda a, b: a.maximum(b), grad_fn="MaximumBackward0"),
    OpSpec("minimum", lambda a, b: nk.minimum(a, b), np.minimum, distinct_pair((2, 3), (2, 3)),
           torch_fn=lambda a, b: a.minimum(b), grad_fn="MinimumBackward0"),
    OpSpec("where", lambda a, b: nk.where(a > 0, a, b), lambda a, b: np.where(a > 0, a, b),
           lambda rng: [rng.choice([-1.0, 1.0], (3, 4)) * rng.uniform(0.2, 1, (3, 4)), rng.standard_normal(4)],
           torch_fn=lambda a, b: a.where(a > 0, b), grad_fn="WhereBackward0"),
    OpSpec("where_scalar", lambda a: nk.where(a > 0, a, 0.0), lambda a: np.where(a > 0, a, 0.0),
           away_from_zero((5,)), torch_fn=None),
    OpSpec("remainder", lambda a, b: a % b, np.remainder,
           lambda rng: [rng.uniform(0.1, 0.9, 4) + np.array([0, 2, 4, 6]), np.full(4, 1.5)],
           torch_fn=lambda a, b: a % b, grad_fn="RemainderBackward1", gradgrad=False),
    OpSpec("clone", lambda a: a.clone(), lambda a: a.copy(), normal((3,)), torch_fn=lambda a: a.clone(),
           grad_fn="CloneBackward0"),
    OpSpec("sign", lambda a: a.sign(), np.sign, away_from_zero((4,)), torch_fn=lambda a: a.sign(),
           grad_fn="SignBackward0"),
]

harness.make_tests(SPECS, globals())


# -- hand-computed gradients ---------------------------------------------------------------------------------
def grad_of(fn, *values):
    xs = [nk.tensor(v, dtype=nk.float64, requires_grad=True) for v in values]
    fn(*xs).sum().backward()
    return [x.grad.numpy() for x in xs]


def test_relu_and_abs_have_zero_gradient_at_zero():
    (g,) = grad_of(lambda x: x.relu(), [-1.0, 0.0, 2.0])
    np.testing.assert_array_equal(g, [0.0, 0.0, 1.0])
    (g,) = grad_of(lambda x: x.abs(), [-1.0, 0.0, 2.0])
    np.testing.assert_array_equal(g, [-1.0, 0.0, 1.0])


def test_maximum_and_minimum_split_ties_evenly():
    ga, gb = grad_of(nk.maximum, [1.0, 2.0, 3.0], [1.0, 5.0, 0.0])
    np.testing.assert_array_equal(ga, [0.5, 0.0, 1.0])
    np.testing.assert_array_equal(gb, [0.5, 1.0, 0.0])
    ga, gb = grad_of(nk.minimum, [1.0, 2.0], [1.0, 5.0])
    np.testing.assert_array_equal(ga, [0.5, 1.0])
    np.testing.assert_array_equal(gb, [0.5, 0.0])


def test_clamp_passes_gradient_at_the_bounds():
    (g,) = grad_of(lambda x: x.clamp(0.0, 1.0), [-1.0, 0.0, 0.5, 1.0, 2.0])
    np.testing.assert_array_equal(g, [0.0, 1.0, 1.0, 1.0, 0.0])


def test_broadcast_gradients_are_reduced_to_input_shapes():
    ga, gb = grad_of(lambda a, b: a * b, [[1.0, 2.0, 3.0], [4.0, 5.0, 6.0]], [[10.0], [20.0]])
    np.testing.assert_array_equal(ga, [[10.0] * 3, [20.0] * 3])
    np.testing.assert_array_equal(gb, [[6.0], [15.0]])


def test_pow_tensor_exponent_gradient_at_zero_base_is_zero():
    a = nk.tensor([0.0, 2.0], dtype=nk.float64, requires_grad=True)
    b = nk.tensor([2.0, 3.0], dtype=nk.float64, requires_grad=True)
    (a**b).sum().backward()
    np.testing.assert_allclose(b.grad.numpy(), [0.0, 8.0 * np.log(2.0)])
    np.testing.assert_allclose(a.grad.numpy(), [0.0, 12.0])


def test_dtype_conversion_is_differentiable_and_returns_grads_in_the_source_dtype():
    x = nk.tensor([1.0, 2.0], requires_grad=True)
    y = x.double() * nk.tensor([3.0, 4.0], dtype=nk.float64)
    assert y.dtype is nk.float64 and x.to(nk.float64).grad_fn.name() == "ToCopyBackward0"
    y.sum().backward()
    assert x.grad.dtype is nk.float32
    np.testing.assert_array_equal(x.grad.numpy(), [3.0, 4.0])
    assert not x.long().requires_grad


def test_sigmoid_is_finite_for_huge_logits():
    x = nk.tensor([-1e4, -80.0, 0.0, 80.0, 1e4], requires_grad=True)
    y = x.sigmoid()
    y.sum().backward()
    np.testing.assert_allclose(y.detach().numpy(), [0.0, sig(-80.0), 0.5, 1.0, 1.0], rtol=1e-6)
    assert np.isfinite(x.grad.numpy()).all()


# -- dtypes and operands -------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    "make, expected",
    [
        (lambda: nk.ones(2) * 2.5, nk.float32),
        (lambda: nk.ones(2, dtype=nk.int64) * 2.5, nk.float32),
        (lambda: nk.ones(2, dtype=nk.int64) * 2, nk.int64),
        (lambda: nk.ones(2) + nk.ones(2, dtype=nk.float64), nk.float64),
        (lambda: nk.ones(2) + nk.tensor(1.0, dtype=nk.float64), nk.float32),
        (lambda: nk.ones(2, dtype=nk.int64) * nk.tensor(1.0, dtype=nk.float64), nk.float64),
        (lambda: nk.ones(2, dtype=nk.int64) + nk.ones(2), nk.float32),
        (lambda: nk.tensor([True, False]) + 1, nk.int64),
        (lambda: nk.ones(2, dtype=nk.int64) / 2, nk.float32),
        (lambda: nk.ones(2, dtype=nk.int64).exp(), nk.float32),
        (lambda: np.float64(0.5) * nk.ones(2), nk.float32),
        (lambda: nk.where(nk.tensor([True]), 1.0, 0.0), nk.float32),
    ],
)
def test_type_promotion_follows_pytorch(make, expected):
    assert make().dtype is expected


def test_numpy_operand_on_the_left_records_the_graph():
    x = nk.tensor([1.0, 2.0], requires_grad=True)
    y = np.float32(0.5) * x
    z = np.ones(2, dtype=np.float32) + y
    assert isinstance(z, nk.Tensor) and z.grad_fn.name() == "AddBackward0"
    z.sum().backward()
    np.testing.assert_array_equal(x.grad.numpy(), [0.5, 0.5])


def test_scalar_operand_has_no_edge():
    x = nk.tensor([1.0], requires_grad=True)
    edges = (x * 2).grad_fn.next_functions
    assert edges[0][0].name() == "AccumulateGrad" and edges[1] == (None, 0)


def test_comparisons_give_bool_tensors_without_grad():
    x = nk.tensor([1.0, 2.0, 3.0], requires_grad=True)
    for result in (x > 2, x >= 2, x < 2, x <= 2, x == 2, x != 2):
        assert result.dtype is nk.bool and not result.requires_grad and result.grad_fn is None
    np.testing.assert_array_equal((x > 1.5).numpy(), [False, True, True])


def test_errors_name_the_problem():
    with pytest.raises(RuntimeError, match="shape mismatch|operands could not be broadcast|broadcast"):
        nk.ones(2, 3) + nk.ones(4)
    with pytest.raises(TypeError, match="unsupported operand type"):
        nk.ones(2) + "a"
    with pytest.raises(RuntimeError, match="Integers to negative integer powers are not allowed"):
        nk.tensor([2]) ** -1
    with pytest.raises(RuntimeError, match="Subtraction, the `-` operator, with two bool tensors"):
        nk.tensor([True]) - nk.tensor([False])
    with pytest.raises(RuntimeError, match="At least one of 'min' or 'max'"):
        nk.ones(2).clamp()
    with pytest.raises(RuntimeError, match="boolean"):
        nk.where(nk.ones(2), nk.ones(2), nk.zeros(2))
