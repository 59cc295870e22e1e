"""nnkit.autograd.functional: jacobian, hessian, vjp, jvp, hvp, vhp — hand-computed values, the structure of
the results (Tensor vs tuple, as in PyTorch), create_graph and strict mode."""

import numpy as np
import pytest

import nnkit as nk
from nnkit.autograd import functional as F


def t(values):
    return nk.tensor(np.asarray(values, dtype=np.float64))


A = np.array([[1.0, 2.0], [0.0, 3.0]])


def quadratic(x):
    return x @ (t(A) @ x)


# -- jacobian --------------------------------------------------------------------------------------------------
def test_jacobian_of_elementwise_cube():
    jac = F.jacobian(lambda x: x * x * x, t([1.0, 2.0]))
    assert isinstance(jac, nk.Tensor) and jac.shape == (2, 2)
    np.testing.assert_allclose(jac.numpy(), [[3.0, 0.0], [0.0, 12.0]])  # diag(3x^2)
    assert not jac.requires_grad


def test_jacobian_of_linear_map_is_the_matrix():
    jac = F.jacobian(lambda x: t(A) @ x, t([5.0, -7.0]))
    np.testing.assert_allclose(jac.numpy(), A)


def test_jacobian_shapes_are_output_shape_plus_input_shape():
    x = t(np.arange(6.0).reshape(2, 3))
    jac = F.jacobian(lambda a: a * 2, x)
    assert jac.shape == (2, 3, 2, 3)
    np.testing.assert_allclose(jac.numpy().reshape(6, 6), 2 * np.eye(6))


def test_jacobian_structure_for_tuples():
    x, y = t([1.0, 2.0]), t([3.0])
    jac = F.jacobian(lambda a, b: (a * b, a + 1.0), (x, y))
    assert isinstance(jac, tuple) and len(jac) == 2 and all(isinstance(row, tuple) and len(row) == 2 for row in jac)
    np.testing.assert_allclose(jac[0][0].numpy(), 3.0 * np.eye(2))  # d(a*b)/da = b I
    np.testing.assert_allclose(jac[0][1].numpy(), [[1.0], [2.0]])  # d(a*b)/db = a
    np.testing.assert_allclose(jac[1][0].numpy(), np.eye(2))
    np.testing.assert_allclose(jac[1][1].numpy(), [[0.0], [0.0]])  # unused input: zeros

    one_out = F.jacobian(lambda a, b: a * b, (x, y))
    assert isinstance(one_out, tuple) and len(one_out) == 2 and isinstance(one_out[0], nk.Tensor)
    one_in = F.jacobian(lambda a: (a, a * a), x)
    assert isinstance(one_in, tuple) and len(one_in) == 2 and isinstance(one_in[1], nk.Tensor)
    np.testing.assert_allclose(one_in[1].numpy(), np.diag([2.0, 4.0]))


def test_jacobian_does_not_touch_the_inputs_or_their_grad():
    x = nk.tensor(np.array([1.0, 2.0]), requires_grad=True)
    F.jacobian(lambda a: a * a, x)
    assert x.grad is None


def test_jacobian_create_graph_is_differentiable():
    x = nk.tensor(np.array([1.0, 2.0]), requires_grad=True)
    jac = F.jacobian(lambda a: a * a * a, x, create_graph=True)
    assert jac.requires_grad
    (g,) = nk.autograd.grad(jac, x, nk.tensor(np.ones((2, 2))))
    np.testing.assert_allclose(g.numpy(), [6.0, 12.0])  # d/dx of the diagonal 3x^2


def test_jacobian_strict():
    x, y = t([1.0]), t([2.0])
    with pytest.raises(RuntimeError, match="Output 0 of the user-provided function is independent of input 1"):
        F.jacobian(lambda a, b: a * 2, (x, y), strict=True)
    with pytest.raises(RuntimeError, match="Output 0 of the user-provided function does not require gradients"):
        F.jacobian(lambda a: t([1.0]), x, strict=True)
    np.testing.assert_array_equal(F.jacobian(lambda a: t([1.0]), x).numpy(), [[0.0]])


def test_jacobian_rejects_forward_mode_and_non_tensors():
    with pytest.raises(ValueError, match="reverse-mode"):
        F.jacobian(lambda a: a, t([1.0]), strategy="forward-mode")
    with pytest.raises(TypeError, match="The inputs given to jacobian must be either a Tensor or a tuple of Tensors"):
        F.jacobian(lambda a: a, [1.0])


# -- hessian ---------------------------------------------------------------------------------------------------
def test_hessian_of_cube_is_6x():
    hess = F.hessian(lambda x: (x * x * x).sum(), t([1.0, 2.0, -1.0]))
    np.testing.assert_allclose(hess.numpy(), np.diag([6.0, 12.0, -6.0]))


def test_hessian_of_scalar_cube():
    np.testing.assert_allclose(F.hessian(lambda x: x * x * x, t(2.0)).numpy(), 12.0)


def test_hessian_of_quadratic_form_is_a_plus_a_transpose():
    hess = F.hessian(quadratic, t([0.3, -1.2]))
    np.testing.assert_allclose(hess.numpy(), A + A.T)


def test_hessian_structure_for_tuple_inputs():
    x, y = t([1.0, 2.0]), t([3.0])
    hess = F.hessian(lambda a, b: (a @ a) * b.squeeze(), (x, y))
    assert isinstance(hess, tuple) and all(isinstance(row, tuple) for row in hess)
    np.testing.assert_allclose(hess[0][0].numpy(), 6.0 * np.eye(2))  # 2b I
    np.testing.assert_allclose(hess[0][1].numpy(), [[2.0], [4.0]])  # 2a
    np.testing.assert_allclose(hess[1][0].numpy(), [[2.0, 4.0]])
    np.testing.assert_allclose(hess[1][1].numpy(), [[0.0]])


def test_hessian_needs_a_single_element_output():
    with pytest.raises(RuntimeError, match="should contain a single element"):
        F.hessian(lambda x: x * x, t([1.0, 2.0]))


def test_hessian_strict_rejects_linear_function():
    with pytest.raises(RuntimeError, match="jacobian of the user-provided function with respect to input 0 is "
                                           "independent of the input"):
        F.hessian(lambda x: (x * 2).sum(), t([1.0, 2.0]), strict=True)
    np.testing.assert_array_equal(F.hessian(lambda x: (x * 2).sum(), t([1.0, 2.0])).numpy(), np.zeros((2, 2)))


# -- vjp, jvp, vhp, hvp ----------------------------------------------------------------------------------------
def test_vjp():
    out, g = F.vjp(lambda x: x * x, t([1.0, 2.0]), t([1.0, -1.0]))
    np.testing.assert_allclose(out.numpy(), [1.0, 4.0])
    np.testing.assert_allclose(g.numpy(), [2.0, -4.0])
    assert not out.requires_grad and not g.requires_grad


def test_vjp_without_v_needs_a_scalar_output():
    out, g = F.vjp(quadratic, t([1.0, 1.0]))
    np.testing.assert_allclose(g.numpy(), (A + A.T) @ [1.0, 1.0])
    with pytest.raises(RuntimeError, match="The vector v can only be None if the user-provided function returns a "
                                           "single Tensor with a single element"):
        F.vjp(lambda x: x * 2, t([1.0, 2.0]))


def test_vjp_tuple_structure_and_validation():
    x, y = t([1.0, 2.0]), t([3.0, 4.0])
    out, (gx, gy) = F.vjp(lambda a, b: a * b, (x, y), t([1.0, 1.0]))
    np.testing.assert_allclose(gx.numpy(), [3.0, 4.0])
    np.testing.assert_allclose(gy.numpy(), [1.0, 2.0])
    with pytest.raises(RuntimeError, match=r"v has invalid size: should be \[2\] but got \[3\]"):
        F.vjp(lambda a: a * 2, x, t([1.0, 2.0, 3.0]))
    with pytest.raises(RuntimeError, match="v is a tuple of invalid length: should be 2 but got 1"):
        F.vjp(lambda a: (a, a), x, (t([1.0, 1.0]),))


def test_jvp():
    out, jv = F.jvp(lambda x: x * x * x, t([1.0, 2.0]), t([1.0, 0.5]))
    np.testing.assert_allclose(out.numpy(), [1.0, 8.0])
    np.testing.assert_allclose(jv.numpy(), [3.0, 6.0])  # 3x^2 * v
    _, jv = F.jvp(lambda x: t(A) @ x, t([1.0, 2.0]), t([1.0, 0.0]))
    np.testing.assert_allclose(jv.numpy(), A[:, 0])


def test_jvp_tuple_outputs():
    x = t([1.0, 2.0])
    (o1, o2), (j1, j2) = F.jvp(lambda a: (a * 2, a * a), x, t([1.0, 1.0]))
    np.testing.assert_allclose(j1.numpy(), [2.0, 2.0])
    np.testing.assert_allclose(j2.numpy(), [2.0, 4.0])


def test_hvp_and_vhp_of_quadratic_form():
    x, v = t([0.5, 1.5]), t([1.0, -2.0])
    out, hv = F.hvp(quadratic, x, v)
    np.testing.assert_allclose(out.numpy(), x.numpy() @ A @ x.numpy())
    np.testing.assert_allclose(hv.numpy(), (A + A.T) @ v.numpy())
    out, vh = F.vhp(quadratic, x, v)
    np.testing.assert_allclose(vh.numpy(), v.numpy() @ (A + A.T))


def test_hvp_of_cube():
    _, hv = F.hvp(lambda x: (x * x * x).sum(), t([1.0, 2.0]), t([1.0, 1.0]))
    np.testing.assert_allclose(hv.numpy(), [6.0, 12.0])


def test_hvp_requires_scalar_function():
    with pytest.raises(RuntimeError, match="The Tensor returned by the function given to hvp should contain a single "
                                           "element"):
        F.hvp(lambda x: x * x, t([1.0, 2.0]), t([1.0, 1.0]))


def test_vhp_create_graph():
    x = nk.tensor(np.array([1.0, 2.0]), requires_grad=True)
    _, vh = F.vhp(lambda a: (a * a * a).sum(), x, t([1.0, 1.0]), create_graph=True)
    assert vh.requires_grad
    (g,) = nk.autograd.grad(vh, x, t([1.0, 1.0]))
    np.testing.assert_allclose(g.numpy(), [6.0, 6.0])  # third derivative of x^3


# -- parity with PyTorch ---------------------------------------------------------------------------------------
def test_matches_torch_functional():
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(0)
    xa, ya, va = rng.standard_normal(3), rng.standard_normal(3), rng.standard_normal(3)

    def ours(a, b):
        return (a * b * a).sum() + (a * a * a).sum()

    def theirs(a, b):
        return (a * b * a).sum() + (a * a * a).sum()

    x, y, v = t(xa), t(ya), t(va)
    tx, ty, tv = (torch.from_numpy(a.copy()) for a in (xa, ya, va))
    ours_h = F.hessian(ours, (x, y))
    theirs_h = torch.autograd.functional.hessian(theirs, (tx, ty))
    for i in range(2):
        for j in range(2):
            np.testing.assert_allclose(ours_h[i][j].numpy(), theirs_h[i][j].numpy(), rtol=1e-10, atol=1e-12)
    ours_j = F.jacobian(lambda a, b: (a * b, a.exp()), (x, y))
    theirs_j = torch.autograd.functional.jacobian(lambda a, b: (a * b, a.exp()), (tx, ty))
    for i in range(2):
        for j in range(2):
            np.testing.assert_allclose(ours_j[i][j].numpy(), theirs_j[i][j].numpy(), rtol=1e-10, atol=1e-12)
    _, ours_hv = F.hvp(lambda a: ours(a, y), x, v)
    _, theirs_hv = torch.autograd.functional.hvp(lambda a: theirs(a, ty), tx, tv)
    np.testing.assert_allclose(ours_hv.numpy(), theirs_hv.numpy(), rtol=1e-10)
    _, ours_jv = F.jvp(lambda a: a.exp() * y, x, v)
    _, theirs_jv = torch.autograd.functional.jvp(lambda a: a.exp() * ty, tx, tv)
    np.testing.assert_allclose(ours_jv.numpy(), theirs_jv.numpy(), rtol=1e-10)


