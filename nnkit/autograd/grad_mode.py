"""Grad modes: whether operations are recorded for backward, per thread.

``no_grad``, ``enable_grad``, ``set_grad_enabled`` and ``inference_mode`` are context managers and
decorators that save the current mode on entry and restore it on exit, so they nest. The state is
thread-local, as in PyTorch: a mode set in one thread never affects another.
"""

import contextvars
import functools

__all__ = [
    "no_grad", "enable_grad", "set_grad_enabled", "inference_mode", "is_grad_enabled",
    "is_inference_mode_enabled",
]

# Context variables, not threading.local: each thread starts from the defaults just the same, and reading
# one costs a third as much (every recorded op reads the mode, often twice).
_grad = contextvars.ContextVar("nnkit_grad_mode", default=True)  # the grad mode users see (is_grad_enabled)
_inference = contextvars.ContextVar("nnkit_inference_mode", default=False)  # no recording, no version counters
_recording = contextvars.ContextVar("nnkit_recording", default=True)  # grad mode on and not in inference mode

recording = _recording.get  # recording(): True when ops record for backward
in_inference = _inference.get  # in_inference(): True inside inference_mode()


def set_recording(on):
    """Switch recording on or off without changing the grad mode users see (the engine records the backward
    pass itself only under create_graph); returns the previous setting, to be restored by the caller."""
    prev = _recording.get()
    _recording.set(on)
    return prev


def _set_grad(mode):
    _grad.set(mode)
    _recording.set(mode and not _inference.get())


def is_grad_enabled():
    """True if grad mode is on in this thread (inside inference_mode nothing is recorded even then)."""
    return _grad.get()


def is_inference_mode_enabled():
    """True inside ``inference_mode()`` in this thread."""
    return _inference.get()


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
        self.prev = _grad.get()
        _set_grad(False)

    def __exit__(self, *exc):
        _set_grad(self.prev)


class enable_grad(_ModeContext):
    """Enable recording inside a ``no_grad`` block (it does not leave ``inference_mode``)."""

    def __enter__(self):
        self.prev = _grad.get()
        _set_grad(True)

    def __exit__(self, *exc):
        _set_grad(self.prev)


class set_grad_enabled(_ModeContext):
    """Set grad mode to ``mode``: at once when called, and back to the old mode on leaving a ``with`` block.

    ``nk.set_grad_enabled(False)`` as a statement switches recording off until switched on again.
    """

    def __init__(self, mode):
        self.prev = _grad.get()
        self.mode = bool(mode)
        _set_grad(self.mode)

    def __enter__(self):
        pass

    def __exit__(self, *exc):
        _set_grad(self.prev)

    def clone(self):
        _set_grad(self.prev)  # decorating must not change the mode of the defining thread
        return type(self)(self.mode)

    def __call__(self, func):
        _set_grad(self.prev)
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
        self.prev = (_grad.get(), _inference.get(), _recording.get())
        if self.mode:
            _inference.set(True)
            _set_grad(False)

    def __exit__(self, *exc):
        grad, inference, on = self.prev
        _grad.set(grad)
        _inference.set(inference)
        _recording.set(on)
