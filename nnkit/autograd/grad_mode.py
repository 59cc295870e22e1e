"""Grad modes: whether operations are recorded for backward, per thread.

``no_grad``, ``enable_grad``, ``set_grad_enabled`` and ``inference_mode`` are context managers and
decorators that save the current mode on entry and restore it on exit, so they nest. The state is
thread-local, as in PyTorch: a mode set in one thread never affects another.
"""

import functools
import threading

__all__ = [
    "no_grad", "enable_grad", "set_grad_enabled", "inference_mode", "is_grad_enabled",
    "is_inference_mode_enabled",
]


class _State(threading.local):
    def __init__(self):
        self.grad = True  # the grad mode users see (is_grad_enabled)
        self.inference = False  # inference mode: no recording and no version counters
        self.enabled = True  # ops record for backward: grad mode on and not in inference mode

    def set_grad(self, mode):
        self.grad = mode
        self.enabled = mode and not self.inference


state = _State()


def is_grad_enabled():
    """True if grad mode is on in this thread (inside inference_mode nothing is recorded even then)."""
    return state.grad


def is_inference_mode_enabled():
    """True inside ``inference_mode()`` in this thread."""
    return state.inference


class _ModeContext:
    """Base of the mode managers: ``with`` saves and restores the mode; calling one decorates a function."""

    def __call__(self, func):
        @functools.wraps(func)
        def wrapper(*args, **kwargs):
            with self.clone():
                return func(*args, **kwargs)

        return wrapper

    def clone(self):
        return type(self)()


class no_grad(_ModeContext):
    """Disable recording of operations: results never require grad, even if inputs do.

    Use for inference and for updates that must not enter the graph (optimizer steps)::

        with nk.no_grad():
            y = x * 2          # y.requires_grad is False

        @nk.no_grad()
        def doubler(x):
            return x * 2
    """

    def __enter__(self):
        self.prev = state.grad
        state.set_grad(False)

    def __exit__(self, *exc):
        state.set_grad(self.prev)


class enable_grad(_ModeContext):
    """Enable recording inside a ``no_grad`` block (it does not leave ``inference_mode``)."""

    def __enter__(self):
        self.prev = state.grad
        state.set_grad(True)

    def __exit__(self, *exc):
        state.set_grad(self.prev)


class set_grad_enabled(_ModeContext):
    """Set grad mode to ``mode``: at once when called, and back to the old mode on leaving a ``with`` block.

    ``nk.set_grad_enabled(False)`` as a statement switches recording off until switched on again.
    """

    def __init__(self, mode):
        self.prev = state.grad
        self.mode = bool(mode)
        state.set_grad(self.mode)

    def __enter__(self):
        pass

    def __exit__(self, *exc):
        state.set_grad(self.prev)

    def clone(self):
        state.set_grad(self.prev)  # decorating must not change the mode of the defining thread
        return type(self)(self.mode)

    def __call__(self, func):
        state.set_grad(self.prev)
        return super().__call__(func)


class inference_mode(_ModeContext):
    """No recording and no version counters (``mode=True``); tensors made here cannot be saved for backward.

    Faster than ``no_grad`` for pure inference. ``inference_mode(False)`` is a no-op manager.
    """

    def __init__(self, mode=True):
        self.mode = bool(mode)

    def clone(self):
        return type(self)(self.mode)

    def __enter__(self):
        self.prev = (state.grad, state.inference, state.enabled)
        if self.mode:
            state.inference = True
            state.set_grad(False)

    def __exit__(self, *exc):
        state.grad, state.inference, state.enabled = self.prev
