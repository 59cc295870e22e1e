"""Gradient hooks: ``Tensor.register_hook`` on leaves and non-leaves (a returned tensor replaces the gradient,
``handle.remove()`` unregisters), and the node-level ``register_prehook`` / ``register_hook``."""

import numpy as np
import pytest

import nnkit as nk


def arr(t):
    return t.detach().numpy()


def leaf(values):
    return nk.tensor(values, requires_grad=True)


def test_leaf_hook_sees_the_gradient_before_accumulation():
    x = leaf([1.0, 2.0])
    seen = []
    x.register_hook(lambda g: seen.append(arr(g).copy()))
    (x * 3).backward(nk.ones(2))
    assert len(seen) == 1
    np.testing.assert_allclose(seen[0], [3.0, 3.0])
    np.testing.assert_allclose(arr(x.grad), [3.0, 3.0])


def test_leaf_hook_returning_a_tensor_replaces_the_gradient():
    x = leaf([1.0, 2.0])
    x.register_hook(lambda g: g * 10)
    (x * 2).backward(nk.ones(2))
    np.testing.assert_allclose(arr(x.grad), [20.0, 20.0])


def test_leaf_hook_also_applies_to_autograd_grad():
    x = leaf([1.0, 2.0])
    x.register_hook(lambda g: g * 10)
    (g,) = nk.autograd.grad(x * 2, x, grad_outputs=nk.ones(2))
    np.testing.assert_allclose(arr(g), [20.0, 20.0])
    assert x.grad is None


def test_non_leaf_hook_replaces_the_gradient_flowing_further():
    x = leaf([1.0, 2.0])
    y = x * 2
    seen = []

    def hook(g):
        seen.append(arr(g).copy())
        return g * 10

    y.register_hook(hook)
    (y * 3).backward(nk.ones(2))
    np.testing.assert_allclose(seen[0], [3.0, 3.0])
    np.testing.assert_allclose(arr(x.grad), [60.0, 60.0])


def test_hook_returning_none_leaves_the_gradient_unchanged():
    x = leaf([1.0, 2.0])
    y = x * 2
    y.register_hook(lambda g: None)
    y.backward(nk.ones(2))
    np.testing.assert_allclose(arr(x.grad), [2.0, 2.0])


def test_removed_hook_is_not_called():
    x = leaf([1.0, 2.0])
    y = x * 2
    calls = []
    handle = y.register_hook(lambda g: calls.append(1) or g * 100)
    leaf_handle = x.register_hook(lambda g: calls.append(2))
    handle.remove()
    leaf_handle.remove()
    y.backward(nk.ones(2))
    assert calls == []
    np.testing.assert_allclose(arr(x.grad), [2.0, 2.0])
    handle.remove()  # removing twice is harmless


def test_hooks_run_in_registration_order_and_chain():
    x = leaf([1.0, 1.0])
    y = x * 2
    order = []
    y.register_hook(lambda g: order.append("a") or g * 3)
    y.register_hook(lambda g: order.append("b") or g + 1)
    y.backward(nk.ones(2))
    assert order == ["a", "b"]
    np.testing.assert_allclose(arr(x.grad), [8.0, 8.0])  # ((1 * 3) + 1) * 2


def test_retained_grad_sees_the_hooked_gradient():
    # PyTorch 2: the retain_grad hook always runs after the tensor's other hooks.
    x = leaf([1.0, 1.0])
    y = x * 2
    y.retain_grad()
    y.register_hook(lambda g: g * 3)
    y.register_hook(lambda g: g + 1)
    y.backward(nk.ones(2))
    np.testing.assert_allclose(arr(y.grad), [4.0, 4.0])
    np.testing.assert_allclose(arr(x.grad), [8.0, 8.0])


def test_hook_is_called_on_every_backward():
    x = leaf([1.0])
    calls = []
    x.register_hook(lambda g: calls.append(g.item()))
    (x * 2).backward()
    (x * 5).backward()
    assert calls == [2.0, 5.0]
    assert x.grad.item() == 7.0


def test_hook_on_a_tensor_that_does_not_require_grad_raises():
    with pytest.raises(RuntimeError, match="cannot register a hook on a tensor that doesn't require gradient"):
        nk.ones(2).register_hook(lambda g: g)


def test_node_prehook_can_replace_the_incoming_gradients():
    x = leaf([1.0, 2.0])
    y = x * 3
    seen = []

    def prehook(grad_outputs):
        seen.append(len(grad_outputs))
        return (grad_outputs[0] * 2,)

    y.grad_fn.register_prehook(prehook)
    y.backward(nk.ones(2))
    assert seen == [1]
    np.testing.assert_allclose(arr(x.grad), [6.0, 6.0])


def test_node_posthook_sees_grad_inputs_and_grad_outputs():
    x = leaf([1.0, 2.0])
    y = x * 3
    calls = []
    y.grad_fn.register_hook(lambda grad_inputs, grad_outputs: calls.append((grad_inputs, grad_outputs)))
    y.backward(nk.ones(2))
    (grad_inputs, grad_outputs), = calls
    assert len(grad_inputs) == 2 and grad_inputs[1] is None  # the scalar 3 gets no gradient
    np.testing.assert_allclose(arr(grad_inputs[0]), [3.0, 3.0])
    assert len(grad_outputs) == 1
    np.testing.assert_allclose(arr(grad_outputs[0]), [1.0, 1.0])


def test_node_posthook_can_replace_grad_inputs():
    x = leaf([1.0, 2.0])
    y = x * 3
    y.grad_fn.register_hook(lambda grad_inputs, grad_outputs: (grad_inputs[0] * 10, None))
    y.backward(nk.ones(2))
    np.testing.assert_allclose(arr(x.grad), [30.0, 30.0])


def test_node_hook_handles_remove():
    x = leaf([1.0, 2.0])
    y = x * 3
    handle = y.grad_fn.register_prehook(lambda g: (g[0] * 100,))
    handle.remove()
    y.backward(nk.ones(2))
    np.testing.assert_allclose(arr(x.grad), [3.0, 3.0])
