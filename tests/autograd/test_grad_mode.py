"""Grad modes: no_grad, enable_grad, set_grad_enabled and inference_mode — context managers and decorators that
restore the previous mode, per thread."""

import threading

import numpy as np
import pytest

import nnkit as nk


def leaf(values):
    return nk.tensor(values, requires_grad=True)


def test_grad_is_enabled_by_default():
    assert nk.is_grad_enabled() is True
    assert nk.autograd.is_grad_enabled() is True
    assert nk.is_inference_mode_enabled() is False


def test_no_grad_context_manager():
    x = leaf([1.0])
    with nk.no_grad():
        assert nk.is_grad_enabled() is False
        y = x * 2
    assert nk.is_grad_enabled() is True
    assert y.requires_grad is False and y.grad_fn is None and y.is_leaf
    assert (x * 2).requires_grad is True


def test_no_grad_decorator():
    @nk.no_grad()
    def doubler(t):
        assert not nk.is_grad_enabled()
        return t * 2

    x = leaf([1.0])
    z = doubler(x)
    assert z.requires_grad is False
    assert nk.is_grad_enabled()
    assert doubler.__name__ == "doubler"
    assert doubler(x).requires_grad is False  # reusable


def test_no_grad_restores_the_mode_after_an_exception():
    with pytest.raises(ValueError), nk.no_grad():
        raise ValueError("boom")
    assert nk.is_grad_enabled()


def test_no_grad_nests_and_restores():
    with nk.no_grad():
        with nk.no_grad():
            assert not nk.is_grad_enabled()
        assert not nk.is_grad_enabled()
    assert nk.is_grad_enabled()


def test_enable_grad_inside_no_grad():
    x = leaf([1.0])
    with nk.no_grad():
        with nk.enable_grad():
            assert nk.is_grad_enabled()
            y = x * 2
        assert not nk.is_grad_enabled()
        z = x * 2
    assert y.requires_grad and y.grad_fn is not None
    assert not z.requires_grad


def test_enable_grad_decorator():
    @nk.enable_grad()
    def doubler(t):
        return t * 2

    x = leaf([1.0])
    with nk.no_grad():
        y = doubler(x)
        assert not nk.is_grad_enabled()
    assert y.requires_grad


def test_set_grad_enabled_as_a_function():
    x = leaf([1.0])
    nk.set_grad_enabled(False)
    try:
        assert not nk.is_grad_enabled()
        assert not (x * 2).requires_grad
    finally:
        nk.set_grad_enabled(True)
    assert nk.is_grad_enabled()
    assert (x * 2).requires_grad


@pytest.mark.parametrize("mode", [False, True])
def test_set_grad_enabled_as_a_context_manager(mode):
    x = leaf([1.0])
    with nk.set_grad_enabled(mode):
        assert nk.is_grad_enabled() is mode
        y = x * 2
    assert nk.is_grad_enabled()
    assert y.requires_grad is mode


def test_set_grad_enabled_true_inside_no_grad_restores_no_grad():
    with nk.no_grad():
        with nk.set_grad_enabled(True):
            assert nk.is_grad_enabled()
        assert not nk.is_grad_enabled()
    assert nk.is_grad_enabled()


def test_set_grad_enabled_decorator_does_not_change_the_mode_where_defined():
    @nk.set_grad_enabled(False)
    def doubler(t):
        return t * 2

    assert nk.is_grad_enabled()
    assert doubler(leaf([1.0])).requires_grad is False
    assert nk.is_grad_enabled()


def test_backward_works_on_a_graph_built_before_no_grad():
    x = leaf([1.0, 2.0])
    y = x * x
    with nk.no_grad():
        y.backward(nk.ones(2))
    np.testing.assert_allclose(x.grad.numpy(), [2.0, 4.0])


def test_update_under_no_grad_keeps_the_leaf_a_leaf():
    w = leaf([1.0, 2.0])
    (w * w).backward(nk.ones(2))
    with nk.no_grad():
        w -= 0.1 * w.grad
    assert w.is_leaf and w.requires_grad and w.grad_fn is None
    np.testing.assert_allclose(w.detach().numpy(), [0.8, 1.6], rtol=1e-6)


# -- inference mode -----------------------------------------------------------------------------------------------
def test_inference_mode_records_nothing_and_makes_inference_tensors():
    x = leaf([1.0, 2.0])
    with nk.inference_mode():
        assert nk.is_inference_mode_enabled()
        assert not nk.is_grad_enabled()
        y = x * 2
        z = nk.ones(2)
    assert not nk.is_inference_mode_enabled() and nk.is_grad_enabled()
    assert y.requires_grad is False and y.grad_fn is None
    assert y.is_inference() and z.is_inference()
    assert not x.is_inference() and not nk.ones(2).is_inference()


def test_no_grad_tensors_are_not_inference_tensors():
    with nk.no_grad():
        t = nk.ones(2) * 2
    assert not t.is_inference()


def test_inference_mode_decorator_and_false_mode():
    @nk.inference_mode()
    def doubler(t):
        return t * 2

    out = doubler(leaf([1.0]))
    assert out.is_inference() and not out.requires_grad
    assert not nk.is_inference_mode_enabled()
    with nk.inference_mode(False):
        assert not nk.is_inference_mode_enabled()
        assert (leaf([1.0]) * 2).requires_grad


def test_enable_grad_inside_inference_mode_still_records_nothing():
    x = leaf([1.0])
    with nk.inference_mode(), nk.enable_grad():
        y = x * 2
    assert not y.requires_grad and y.grad_fn is None
    assert y.is_inference()


def test_inference_tensor_cannot_be_saved_for_backward():
    with nk.inference_mode():
        t = nk.ones(3) * 2
    w = leaf([1.0, 2.0, 3.0])
    with pytest.raises(RuntimeError, match="Inference tensors cannot be saved for backward"):
        w * t  # MulBackward0 would need t for w's gradient


def test_inference_tensor_may_be_used_where_nothing_is_saved():
    with nk.inference_mode():
        t = nk.ones(3)
    w = leaf([1.0, 2.0, 3.0])
    out = w + t
    assert out.grad_fn.name() == "AddBackward0"
    out.backward(nk.ones(3))
    np.testing.assert_allclose(w.grad.numpy(), [1.0, 1.0, 1.0])


def test_inference_tensor_clone_outside_inference_mode_is_normal():
    with nk.inference_mode():
        t = nk.ones(3)
    c = t.clone()
    assert not c.is_inference()
    w = leaf([1.0, 2.0, 3.0])
    (w * c).backward(nk.ones(3))
    np.testing.assert_allclose(w.grad.numpy(), [1.0, 1.0, 1.0])


def test_inplace_on_inference_tensor_outside_inference_mode_raises():
    with nk.inference_mode():
        t = nk.ones(3)
        t.add_(1)  # allowed inside
    with pytest.raises(RuntimeError, match="Inplace update to inference tensor outside InferenceMode is not allowed"):
        t.add_(1)
    with pytest.raises(RuntimeError, match="Inplace update to inference tensor outside InferenceMode"):
        t.zero_()
    assert t.tolist() == [2.0, 2.0, 2.0]


def test_inplace_on_normal_tensor_inside_inference_mode_bumps_its_version():
    n = nk.ones(2)
    with nk.inference_mode():
        n.add_(1)
    assert n._version == 1 and n.tolist() == [2.0, 2.0]


# -- thread locality ----------------------------------------------------------------------------------------------
def _in_thread(fn):
    result = {}

    def run():
        try:
            result["value"] = fn()
        except BaseException as err:  # surface failures in the main thread
            result["error"] = err

    thread = threading.Thread(target=run)
    thread.start()
    thread.join()
    if "error" in result:
        raise result["error"]
    return result["value"]


def test_a_thread_started_inside_no_grad_still_records():
    x = leaf([1.0])
    with nk.no_grad():
        enabled, recorded = _in_thread(lambda: (nk.is_grad_enabled(), (x * 2).requires_grad))
        assert not (x * 2).requires_grad
    assert enabled is True and recorded is True


def test_no_grad_in_a_thread_does_not_affect_the_main_thread():
    started, release = threading.Event(), threading.Event()
    seen = {}

    def worker():
        with nk.no_grad():
            seen["worker"] = nk.is_grad_enabled()
            started.set()
            release.wait(5)

    thread = threading.Thread(target=worker)
    thread.start()
    started.wait(5)
    seen["main"] = nk.is_grad_enabled()
    seen["main_records"] = (leaf([1.0]) * 2).requires_grad
    release.set()
    thread.join()
    assert seen == {"worker": False, "main": True, "main_records": True}


def test_inference_mode_is_thread_local():
    with nk.inference_mode():
        inference, made_inference = _in_thread(lambda: (nk.is_inference_mode_enabled(), nk.ones(1).is_inference()))
    assert inference is False and made_inference is False


def test_backward_in_a_thread():
    x = leaf([1.0, 2.0])
    y = x * x
    _in_thread(lambda: y.backward(nk.ones(2)))
    np.testing.assert_allclose(x.grad.numpy(), [2.0, 4.0])
