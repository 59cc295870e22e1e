"""Matrix products: the spec table (forward, gradcheck, gradgradcheck, no-grad, PyTorch parity) plus hand-computed
gradients, node names, what is saved, and the error messages."""

import numpy as np
import pytest

import nnkit as nk
from tests.ops import harness
from tests.ops.harness import OpSpec


def normal(*shapes):
    return lambda rng: [rng.standard_normal(s) for s in shapes]


def matmul_spec(name, shape_a, shape_b, grad_fn=None):
    return OpSpec(name, lambda a, b: a @ b, np.matmul, normal(shape_a, shape_b), torch_fn=lambda a, b: a @ b,
                  grad_fn=grad_fn)


SPECS = [
    matmul_spec("matmul_2d_2d", (3, 4), (4, 2), "MmBackward0"),
    matmul_spec("matmul_2d_1d", (3, 4), (4,), "MvBackward0"),
    matmul_spec("matmul_1d_1d", (4,), (4,), "DotBackward0"),
    matmul_spec("matmul_1d_2d", (4,), (4, 3)),
    matmul_spec("matmul_3d_3d", (2, 3, 4), (2, 4, 5)),
    matmul_spec("matmul_3d_2d", (2, 3, 4), (4, 2)),
    matmul_spec("matmul_2d_3d", (3, 4), (2, 4, 2)),
    matmul_spec("matmul_1d_3d", (4,), (2, 4, 3)),
    matmul_spec("matmul_3d_1d", (2, 3, 4), (4,)),
    matmul_spec("matmul_broadcast_batch", (2, 1, 3, 4), (1, 3, 4, 2)),
    matmul_spec("matmul_broadcast_batch_rank", (3, 2, 4), (2, 2, 3, 4, 2)),
    matmul_spec("matmul_inner_size_one", (3, 1), (1, 2)),
    OpSpec("matmul_weight_frozen", lambda a, b: a @ b, np.matmul, normal((3, 4), (4, 2)), diff=(0,),
           torch_fn=lambda a, b: a @ b),
    OpSpec("matmul_input_frozen", lambda a, b: a @ b, np.matmul, normal((2, 3, 4), (4, 2)), diff=(1,),
           torch_fn=lambda a, b: a @ b),
    OpSpec("matmul_function", lambda a, b: nk.matmul(a, b), np.matmul, normal((3, 4), (4, 2)),
           torch_fn=lambda a, b: a.matmul(b), grad_fn="MmBackward0"),
    OpSpec("matmul_chain", lambda a, b, c: (a @ b) @ c, lambda a, b, c: a @ b @ c, normal((2, 3), (3, 4), (4,)),
           torch_fn=lambda a, b, c: (a @ b) @ c, grad_fn="MvBackward0"),
    OpSpec("mm", lambda a, b: nk.mm(a, b), np.matmul, normal((3, 4), (4, 2)), torch_fn=lambda a, b: a.mm(b),
           grad_fn="MmBackward0"),
    OpSpec("mm_transposed_operand", lambda a, b: a.mm(b.t()), lambda a, b: a @ b.T, normal((3, 4), (2, 4)),
           torch_fn=lambda a, b: a.mm(b.t()), grad_fn="MmBackward0"),
    OpSpec("bmm", lambda a, b: nk.bmm(a, b), np.matmul, normal((2, 3, 4), (2, 4, 5)),
           torch_fn=lambda a, b: a.bmm(b), grad_fn="BmmBackward0"),
    OpSpec("mv", lambda a, b: nk.mv(a, b), np.matmul, normal((3, 4), (4,)), torch_fn=lambda a, b: a.mv(b),
           grad_fn="MvBackward0"),
    OpSpec("dot", lambda a, b: nk.dot(a, b), np.dot, normal((5,), (5,)), torch_fn=lambda a, b: a.dot(b),
           grad_fn="DotBackward0"),
    OpSpec("dot_same_tensor", lambda a: a.dot(a), lambda a: a @ a, normal((4,)), torch_fn=lambda a: a.dot(a)),
]

harness.make_tests(SPECS, globals())


def leaf(values, dtype=nk.float64):
    return nk.tensor(np.asarray(values, dtype=np.float64), dtype=dtype, requires_grad=True)


# -- hand-computed gradients -----------------------------------------------------------------------------------
def test_mm_gradients_by_hand():
    a = leaf([[1.0, 2.0], [3.0, 4.0]])
    b = leaf([[5.0, 6.0], [7.0, 8.0]])
    out = a @ b
    np.testing.assert_array_equal(out.detach().numpy(), [[19.0, 22.0], [43.0, 50.0]])
    g = nk.tensor(np.array([[1.0, 0.0], [0.0, 2.0]]))
    ga, gb = nk.autograd.grad(out, (a, b), g)
    # dL/da = g @ b.T, dL/db = a.T @ g
    np.testing.assert_array_equal(ga.numpy(), [[5.0, 7.0], [12.0, 16.0]])
    np.testing.assert_array_equal(gb.numpy(), [[1.0, 6.0], [2.0, 8.0]])


def test_dot_and_mv_gradients_by_hand():
    x = leaf([1.0, 2.0, 3.0])
    y = leaf([4.0, 5.0, 6.0])
    out = x @ y
    assert out.shape == () and out.item() == 32.0
    gx, gy = nk.autograd.grad(out, (x, y))
    np.testing.assert_array_equal(gx.numpy(), [4.0, 5.0, 6.0])
    np.testing.assert_array_equal(gy.numpy(), [1.0, 2.0, 3.0])

    m = leaf([[1.0, 0.0, 2.0], [0.0, 1.0, 0.0]])
    out = m @ x
    np.testing.assert_array_equal(out.detach().numpy(), [7.0, 2.0])
    gm, gx = nk.autograd.grad(out, (m, x), nk.tensor(np.array([1.0, -1.0])))
    np.testing.assert_array_equal(gm.numpy(), [[1.0, 2.0, 3.0], [-1.0, -2.0, -3.0]])  # outer(g, x)
    np.testing.assert_array_equal(gx.numpy(), [1.0, -1.0, 2.0])  # m.T @ g


def test_vector_matrix_gradient_by_hand():
    v = leaf([1.0, 2.0])
    m = leaf([[1.0, 2.0, 3.0], [4.0, 5.0, 6.0]])
    out = v @ m
    assert out.shape == (3,)
    np.testing.assert_array_equal(out.detach().numpy(), [9.0, 12.0, 15.0])
    gv, gm = nk.autograd.grad(out, (v, m), nk.tensor(np.array([1.0, 0.0, 1.0])))
    np.testing.assert_array_equal(gv.numpy(), [4.0, 10.0])
    np.testing.assert_array_equal(gm.numpy(), [[1.0, 0.0, 1.0], [2.0, 0.0, 2.0]])


def test_broadcast_batch_gradient_is_summed_over_the_batch():
    a = leaf(np.ones((4, 2, 3)))
    w = leaf(np.arange(6.0).reshape(3, 2))
    out = a @ w
    assert out.shape == (4, 2, 2)
    (gw,) = nk.autograd.grad(out, w, nk.tensor(np.ones((4, 2, 2))))
    # each of the 4 * 2 rows of a (all ones) contributes ones to every entry
    np.testing.assert_array_equal(gw.numpy(), np.full((3, 2), 8.0))
    assert gw.shape == w.shape


def test_second_derivative_of_quadratic_form():
    # f(x) = x . (A x): gradient (A + A^T) x, Hessian A + A^T
    A = nk.tensor(np.array([[1.0, 2.0], [0.0, 3.0]]))
    x = leaf([1.0, -1.0])
    (g,) = nk.autograd.grad(x @ (A @ x), x, create_graph=True)
    np.testing.assert_allclose(g.detach().numpy(), (A.numpy() + A.numpy().T) @ x.detach().numpy())
    rows = [nk.autograd.grad(g[i], x, retain_graph=True)[0].numpy() for i in range(2)]
    np.testing.assert_allclose(np.stack(rows), [[2.0, 2.0], [2.0, 6.0]])


# -- node names, saved tensors, dtypes -------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("shape_a", "shape_b", "name"),
    [((2, 3), (3, 4), "MmBackward0"), ((3,), (3, 4), "MmBackward0"), ((2, 3), (3,), "MvBackward0"),
     ((3,), (3,), "DotBackward0"), ((5, 2, 3), (5, 3, 4), "BmmBackward0"), ((5, 2, 3), (3, 4), "BmmBackward0"),
     ((3,), (5, 3, 4), "BmmBackward0")],
)
def test_matmul_node_names(shape_a, shape_b, name):
    out = nk.randn(*shape_a, requires_grad=True) @ nk.randn(*shape_b)
    assert out.grad_fn.name() == name
    assert len(out.grad_fn.next_functions) == 2


def test_only_what_the_other_gradient_needs_is_saved():
    x = nk.randn(2, 3)
    w = nk.randn(3, 4, requires_grad=True)
    node = (x @ w).grad_fn
    assert node._saved_self is x  # needed for w's gradient
    assert node._saved_mat2 is None  # w's value is not needed: x needs no gradient
    node = (w.t() @ x.t()).grad_fn
    assert node._saved_self is None
    assert node._saved_mat2 is not None


def test_float32_stays_float32():
    a = nk.randn(2, 3, requires_grad=True)
    b = nk.randn(3, 2)
    out = a @ b
    assert out.dtype == nk.float32
    out.backward(nk.ones(2, 2))
    assert a.grad.dtype == nk.float32


def test_integer_matmul():
    a = nk.tensor([[1, 2], [3, 4]])
    out = a @ a
    assert out.dtype == nk.int64
    assert out.tolist() == [[7, 10], [15, 22]]


def test_numpy_operand():
    a = nk.randn(2, 3)
    b = np.ones((3, 2), dtype=np.float32)
    np.testing.assert_allclose((a @ b).numpy(), a.numpy() @ b, rtol=1e-6)
    np.testing.assert_allclose((b.T @ a.t()).numpy(), b.T @ a.numpy().T, rtol=1e-6)


def test_tensor_methods():
    a, b, v = nk.randn(2, 3), nk.randn(3, 4), nk.randn(3)
    np.testing.assert_allclose(a.mm(b).numpy(), a.numpy() @ b.numpy(), rtol=1e-6)
    np.testing.assert_allclose(a.mv(v).numpy(), a.numpy() @ v.numpy(), rtol=1e-6)
    np.testing.assert_allclose(v.dot(v).numpy(), v.numpy() @ v.numpy(), rtol=1e-6)
    np.testing.assert_allclose(a.matmul(b).numpy(), a.numpy() @ b.numpy(), rtol=1e-6)
    c = nk.randn(2, 3, 4)
    np.testing.assert_allclose(c.bmm(nk.randn(2, 4, 1)).shape, (2, 3, 1))


# -- errors ----------------------------------------------------------------------------------------------------
def test_dtype_mismatch_error():
    a = nk.randn(2, 3)
    b = nk.randn(3, 4, dtype=nk.float64)
    with pytest.raises(RuntimeError) as err:
        a @ b
    msg = str(err.value)
    assert msg.startswith("expected m1 and m2 to have the same dtype, but got: float != double")
    assert "float32 [2, 3]" in msg and "float64 [3, 4]" in msg and ".double()" in msg
    with pytest.raises(RuntimeError, match="but got: long int != float"):
        nk.tensor([[1, 2]]) @ nk.randn(2, 2)
    with pytest.raises(RuntimeError, match="dot : expected both vectors to have same dtype, but found Float and "
                                           "Double"):
        nk.dot(nk.randn(3), nk.randn(3, dtype=nk.float64))


def test_shape_mismatch_errors():
    with pytest.raises(RuntimeError) as err:
        nk.randn(2, 3) @ nk.randn(4, 5)
    msg = str(err.value)
    assert msg.startswith("mat1 and mat2 shapes cannot be multiplied (2x3 and 4x5)")
    assert "matmul" in msg and "[2, 3]" in msg and "[4, 5]" in msg
    with pytest.raises(RuntimeError, match=r"mat1 and mat2 shapes cannot be multiplied \(1x3 and 4x5\)"):
        nk.randn(3) @ nk.randn(4, 5)
    with pytest.raises(RuntimeError, match=r"mat1 and mat2 shapes cannot be multiplied \(2x3 and 4x5\) \(mm of"):
        nk.mm(nk.randn(2, 3), nk.randn(4, 5))
    with pytest.raises(RuntimeError, match=r"size mismatch, got input \(2\), mat \(2x3\), vec \(4\)"):
        nk.randn(2, 3) @ nk.randn(4)
    with pytest.raises(RuntimeError, match=r"inconsistent tensor size, expected tensor \[3\] and src \[4\]"):
        nk.randn(3) @ nk.randn(4)
    with pytest.raises(RuntimeError, match=r"shapes cannot be multiplied \(2x2x3 and 2x4x5\)"):
        nk.randn(2, 2, 3) @ nk.randn(2, 4, 5)
    with pytest.raises(RuntimeError, match=r"The size of tensor a \(2\) must match the size of tensor b \(3\) at "
                                           r"non-singleton dimension 0"):
        nk.randn(2, 2, 3) @ nk.randn(3, 3, 5)


def test_rank_errors():
    with pytest.raises(RuntimeError, match="both arguments to matmul need to be at least 1D, but they are 0D and 1D"):
        nk.matmul(nk.tensor(1.0), nk.randn(3))
    with pytest.raises(RuntimeError, match="^self must be a matrix"):
        nk.mm(nk.randn(3), nk.randn(3, 4))
    with pytest.raises(RuntimeError, match="^mat2 must be a matrix"):
        nk.mm(nk.randn(2, 3), nk.randn(2, 3, 4))
    with pytest.raises(RuntimeError, match="^batch1 must be a 3D tensor"):
        nk.bmm(nk.randn(2, 3), nk.randn(2, 3, 4))
    with pytest.raises(RuntimeError, match="^batch2 must be a 3D tensor"):
        nk.bmm(nk.randn(2, 2, 3), nk.randn(3, 4))
    with pytest.raises(RuntimeError, match=r"^Expected size for first two dimensions of batch2 tensor to be: "
                                           r"\[2, 3\] but got: \[3, 3\]\."):
        nk.bmm(nk.randn(2, 2, 3), nk.randn(3, 3, 5))
    with pytest.raises(RuntimeError, match="^vector \\+ matrix @ vector expected, got 1, 1, 1"):
        nk.mv(nk.randn(3), nk.randn(3))
    with pytest.raises(RuntimeError, match="^1D tensors expected, but got 2D and 2D tensors"):
        nk.dot(nk.randn(2, 3), nk.randn(2, 3))


def test_non_tensor_operand_error():
    with pytest.raises(TypeError, match=r"matmul\(\): argument 'other' \(position 2\) must be Tensor, not float"):
        nk.matmul(nk.randn(2), 3.0)
