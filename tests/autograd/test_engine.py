"""The backward engine: deep graphs without recursion, each node run once after all its gradients are summed,
branches that need no gradient skipped, and ``nnkit.autograd.grad`` (higher order, allow_unused)."""

import gc
import time

import numpy as np
import pytest

import nnkit as nk


def arr(t):
    return t.detach().numpy()


def leaf(values, dtype=nk.float32):
    return nk.tensor(values, dtype=dtype, requires_grad=True)


# -- deep graphs --------------------------------------------------------------------------------------------------
def test_backward_through_a_chain_of_100000_ops():
    n = 100_000
    x = leaf([1.0], dtype=nk.float64)
    y = x
    start = time.perf_counter()
    for _ in range(n):
        y = y * 1.0001
    y.backward()
    elapsed = time.perf_counter() - start
    np.testing.assert_allclose(arr(x.grad), [1.0001**n], rtol=1e-9)
    np.testing.assert_allclose(arr(y), [1.0001**n], rtol=1e-9)
    assert elapsed < 30, f"100k-op forward+backward took {elapsed:.1f} s"


def test_dropping_a_deep_graph_without_backward_does_not_overflow():
    x = leaf([1.0])
    y = x
    for _ in range(100_000):
        y = y + 1.0
    node = y.grad_fn
    del y, node
    gc.collect()
    assert x.grad is None


def test_deep_chain_of_unary_ops_with_saved_tensors():
    x = leaf([0.5], dtype=nk.float64)
    y = x
    for _ in range(20_000):
        y = y.tanh()
    y.backward()
    # d/dx of tanh^n(x) = prod (1 - tanh^k(x)^2), computed directly
    v, expected = 0.5, 1.0
    for _ in range(20_000):
        v = np.tanh(v)
        expected *= 1 - v * v
    np.testing.assert_allclose(arr(x.grad), [expected], rtol=1e-9)


# -- dependency order ---------------------------------------------------------------------------------------------
def test_diamond_sums_both_paths_before_running_the_shared_node():
    x = leaf([0.0, 1.0])
    h = x.exp()
    calls = []
    h.grad_fn.register_prehook(lambda grad_outputs: calls.append(arr(grad_outputs[0]).copy()))
    out = h * 2 + h * 3
    out.backward(nk.ones(2))
    assert len(calls) == 1, f"ExpBackward0 ran {len(calls)} times"
    np.testing.assert_allclose(calls[0], [5.0, 5.0])
    np.testing.assert_allclose(arr(x.grad), 5 * np.exp([0.0, 1.0]), rtol=1e-6)


def test_diamond_tensor_hook_sees_the_total_gradient_once():
    x = leaf([1.0, 2.0])
    h = x * 1
    seen = []
    h.register_hook(lambda g: seen.append(arr(g).copy()))
    (h * h + h).backward(nk.ones(2))
    assert len(seen) == 1
    np.testing.assert_allclose(seen[0], [3.0, 5.0])  # 2h + 1
    np.testing.assert_allclose(arr(x.grad), [3.0, 5.0])


def test_unequal_path_lengths_still_meet_before_the_node_runs():
    # One path from h to the output is long, the other short; h's node must wait for both.
    x = leaf([1.0])
    h = x * 2
    long = h
    for _ in range(50):
        long = long * 1.0
    calls = []
    h.grad_fn.register_prehook(lambda g: calls.append(g[0].item()))
    (long + h).backward()
    assert calls == [2.0]
    assert x.grad.item() == 4.0


def test_several_roots_sharing_a_node_run_it_once():
    x = leaf([1.0, 2.0])
    h = x.exp()
    calls = []
    h.grad_fn.register_prehook(lambda g: calls.append(1))
    a = h * 2
    b = h * 3
    nk.autograd.backward([a, b], [nk.ones(2), nk.ones(2)])
    assert calls == [1]
    np.testing.assert_allclose(arr(x.grad), 5 * np.exp([1.0, 2.0]), rtol=1e-6)


def test_x_used_twice_gives_twice_the_gradient():
    x = leaf([1.0, -2.0, 3.0])
    (x * x).backward(nk.ones(3))
    np.testing.assert_allclose(arr(x.grad), [2.0, -4.0, 6.0])
    x.grad = None
    (x + x).backward(nk.ones(3))
    np.testing.assert_allclose(arr(x.grad), [2.0, 2.0, 2.0])
    x.grad = None
    (x * x * x).backward(nk.ones(3))
    np.testing.assert_allclose(arr(x.grad), [3.0, 12.0, 27.0])


def test_leaf_used_by_many_ops_accumulates_all_contributions():
    x = leaf([2.0])
    out = x * 3 + x.exp() + x * x - x / 2
    out.backward()
    np.testing.assert_allclose(arr(x.grad), [3 + np.exp(2.0) + 4 - 0.5], rtol=1e-6)


def test_a_branch_left_out_of_backward_does_not_hold_up_the_shared_node():
    # h has two consumers but only one is part of this backward: h's node must still run, exactly once.
    x = leaf([1.0, 2.0])
    h = x.exp()
    discarded = h * 10  # noqa: F841  (kept alive: its edge into h never delivers a gradient)
    calls = []
    h.grad_fn.register_prehook(lambda g: calls.append(arr(g[0]).copy()))
    (h * 3).sum().backward()
    assert len(calls) == 1
    np.testing.assert_allclose(calls[0], [3.0, 3.0])
    np.testing.assert_allclose(arr(x.grad), 3 * np.exp([1.0, 2.0]), rtol=1e-6)


def test_a_discarded_branch_deep_inside_a_diamond():
    x = leaf([0.5], dtype=nk.float64)
    h = x * x  # used by a, by b and by an unused branch
    unused = h.tanh()  # noqa: F841
    a = h.exp()
    b = h * 4
    (a + b).backward()
    np.testing.assert_allclose(arr(x.grad), [(np.exp(0.25) + 4) * 2 * 0.5], rtol=1e-12)


def test_backward_twice_with_retain_graph_and_a_discarded_branch():
    x = leaf([2.0], dtype=nk.float64)
    h = x * 3
    _ = h + 1  # a second consumer of h that is never backwarded
    y = h * h
    y.backward(retain_graph=True)
    y.backward()
    np.testing.assert_allclose(arr(x.grad), [2 * 2 * 6.0 * 3], rtol=1e-12)


def test_training_steps_while_the_previous_graph_is_alive_give_fresh_gradients():
    # As in a training loop: the previous step's loss (and with it the parameters' AccumulateGrad nodes) is
    # still alive while the next forward and backward run.
    w = leaf([1.0, -1.0], dtype=nk.float64)
    kept = []
    for step in range(3):
        w.grad = None
        loss = (w * w * (step + 1)).sum()
        loss.backward()
        kept.append(loss)
        np.testing.assert_allclose(arr(w.grad), [2.0 * (step + 1), -2.0 * (step + 1)])


def test_a_leaf_hook_sees_the_summed_gradient_once():
    x = leaf([1.0, 2.0])
    seen = []
    x.register_hook(lambda g: seen.append(arr(g).copy()))
    (x * 2 + x * x + x.exp()).sum().backward()
    assert len(seen) == 1
    np.testing.assert_allclose(seen[0], 2 + 2 * np.array([1.0, 2.0]) + np.exp([1.0, 2.0]), rtol=1e-6)


# -- skipping what needs no gradient ------------------------------------------------------------------------------
def test_branch_without_requires_grad_is_not_in_the_graph():
    x = leaf([1.0, 2.0])
    c = nk.tensor([1.0, 2.0])
    k = c.exp().tanh()  # computed from a tensor that needs no grad
    out = x * k
    assert k.grad_fn is None
    assert out.grad_fn.next_functions[1] == (None, 0)
    out.backward(nk.ones(2))
    np.testing.assert_allclose(arr(x.grad), np.tanh(np.exp([1.0, 2.0])), rtol=1e-6)
    assert c.grad is None and k.grad is None


def test_frozen_operand_gets_no_gradient():
    x = leaf([1.0, 2.0])
    w = nk.tensor([3.0, 4.0])  # frozen: requires_grad=False
    (x * w).backward(nk.ones(2))
    assert w.grad is None
    np.testing.assert_allclose(arr(x.grad), [3.0, 4.0])


def test_grad_runs_only_the_nodes_leading_to_the_inputs():
    a = leaf([1.0])
    b = leaf([2.0])
    eb = b.exp()
    ran = []
    eb.grad_fn.register_prehook(lambda g: ran.append("exp"))
    out = a * 2 + eb * 3
    (ga,) = nk.autograd.grad(out, a)
    assert ga.item() == 2.0
    assert ran == [], "ExpBackward0 ran although only a's gradient was asked for"


def test_backward_inputs_runs_only_the_needed_nodes():
    a = leaf([1.0])
    b = leaf([2.0])
    eb = b.exp()
    ran = []
    eb.grad_fn.register_prehook(lambda g: ran.append("exp"))
    (a * 2 + eb * 3).backward(inputs=[a])
    assert ran == []
    assert a.grad.item() == 2.0 and b.grad is None


# -- nnkit.autograd.grad ------------------------------------------------------------------------------------------
def test_grad_returns_a_tuple_and_leaves_dot_grad_alone():
    x = leaf([1.0, 2.0])
    w = leaf([3.0, 4.0])
    result = nk.autograd.grad(x * w, [x, w], grad_outputs=nk.ones(2))
    assert isinstance(result, tuple) and len(result) == 2
    np.testing.assert_allclose(arr(result[0]), [3.0, 4.0])
    np.testing.assert_allclose(arr(result[1]), [1.0, 2.0])
    assert x.grad is None and w.grad is None
    x.grad = nk.tensor([100.0, 100.0])
    (gx,) = nk.autograd.grad(x * w, x, grad_outputs=nk.ones(2))
    np.testing.assert_allclose(arr(x.grad), [100.0, 100.0])
    np.testing.assert_allclose(arr(gx), [3.0, 4.0])


def test_grad_with_respect_to_a_non_leaf():
    x = leaf([1.0, 2.0])
    h = x * 3
    (gh,) = nk.autograd.grad(h * h, h, grad_outputs=nk.ones(2))
    np.testing.assert_allclose(arr(gh), [6.0, 12.0])


def test_grad_frees_the_graph_unless_retained():
    x = leaf([1.0, 2.0])
    y = x * x
    nk.autograd.grad(y, x, grad_outputs=nk.ones(2), retain_graph=True)
    nk.autograd.grad(y, x, grad_outputs=nk.ones(2))
    with pytest.raises(RuntimeError, match="Trying to backward through the graph a second time"):
        nk.autograd.grad(y, x, grad_outputs=nk.ones(2))


def test_grad_result_is_constant_without_create_graph():
    x = leaf(2.0)
    (g,) = nk.autograd.grad(x**3, x)
    assert g.requires_grad is False and g.grad_fn is None


def test_second_and_third_derivatives_of_x_cubed():
    x = leaf(1.5, dtype=nk.float64)
    (g,) = nk.autograd.grad(x**3, x, create_graph=True)
    assert g.requires_grad
    assert g.item() == pytest.approx(3 * 1.5**2)
    (h,) = nk.autograd.grad(g, x, create_graph=True)
    assert h.item() == pytest.approx(6 * 1.5)
    (t,) = nk.autograd.grad(h, x)
    assert t.item() == pytest.approx(6.0)
    assert x.grad is None


def test_second_derivative_elementwise():
    xs = [0.5, -1.0, 2.0]
    x = leaf(xs, dtype=nk.float64)
    (g,) = nk.autograd.grad(x**3, x, grad_outputs=nk.ones(3, dtype=nk.float64), create_graph=True)
    (h,) = nk.autograd.grad(g, x, grad_outputs=nk.ones(3, dtype=nk.float64))
    np.testing.assert_allclose(arr(h), 6 * np.array(xs))


def test_hessian_vector_product_of_a_quadratic_form():
    rng = np.random.default_rng(0)
    a = rng.standard_normal((4, 4))
    v = rng.standard_normal(4)
    A = nk.tensor(a)
    x = leaf(rng.standard_normal(4), dtype=nk.float64)
    f = x @ A @ x * 0.5  # gradient 0.5 (A + A^T) x, Hessian 0.5 (A + A^T)
    (g,) = nk.autograd.grad(f, x, create_graph=True)
    np.testing.assert_allclose(arr(g), 0.5 * (a + a.T) @ arr(x), rtol=1e-10)
    (hv,) = nk.autograd.grad((g * nk.tensor(v)).sum(), x)
    np.testing.assert_allclose(arr(hv), 0.5 * (a + a.T) @ v, rtol=1e-10)


def test_hessian_vector_product_with_two_inputs():
    # f(x, y) = x^2 y + y^3: gradient (2xy, x^2 + 3y^2), Hessian [[2y, 2x], [2x, 6y]]
    x = leaf(1.5, dtype=nk.float64)
    y = leaf(-2.0, dtype=nk.float64)
    f = x**2 * y + y**3
    gx, gy = nk.autograd.grad(f, [x, y], create_graph=True)
    assert (gx.item(), gy.item()) == pytest.approx((2 * 1.5 * -2.0, 1.5**2 + 3 * 4.0))
    v = (0.5, -1.0)
    hx, hy = nk.autograd.grad(gx * v[0] + gy * v[1], [x, y])
    assert hx.item() == pytest.approx(2 * -2.0 * v[0] + 2 * 1.5 * v[1])
    assert hy.item() == pytest.approx(2 * 1.5 * v[0] + 6 * -2.0 * v[1])


def test_allow_unused_gives_none_and_materialize_grads_gives_zeros():
    x = leaf([1.0, 2.0])
    unused = leaf([5.0])
    gx, gu = nk.autograd.grad(x * 2, [x, unused], grad_outputs=nk.ones(2), allow_unused=True)
    np.testing.assert_allclose(arr(gx), [2.0, 2.0])
    assert gu is None
    gx, gu = nk.autograd.grad(x * 2, [x, unused], grad_outputs=nk.ones(2), materialize_grads=True)
    np.testing.assert_allclose(arr(gu), [0.0])
    assert gu.shape == (1,)


def test_grad_of_an_unused_input_raises():
    x = leaf([1.0, 2.0])
    unused = leaf([5.0])
    with pytest.raises(RuntimeError, match="appears to not have been used in the graph"):
        nk.autograd.grad(x * 2, [x, unused], grad_outputs=nk.ones(2))


def test_grad_with_respect_to_a_tensor_not_requiring_grad_raises():
    x = leaf([1.0, 2.0])
    with pytest.raises(RuntimeError, match="One of the differentiated Tensors does not require grad"):
        nk.autograd.grad(x * 2, nk.ones(2), grad_outputs=nk.ones(2))


def test_grad_of_non_scalar_without_grad_outputs_raises():
    x = leaf([1.0, 2.0])
    with pytest.raises(RuntimeError, match="grad can be implicitly created only for scalar outputs"):
        nk.autograd.grad(x * 2, x)
