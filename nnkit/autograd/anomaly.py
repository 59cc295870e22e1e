"""Anomaly detection: find the forward operation whose backward produced NaN.

With detection on, each backward node keeps the stack of the forward call that created it; after each node
runs in backward, its gradients are checked for NaN, and the first NaN raises a RuntimeError that names the
node and shows where the forward operation was called. It is slow; use it to debug, not to train.
"""

import traceback

import numpy as np

from nnkit.autograd.grad_mode import _ModeContext

__all__ = ["set_detect_anomaly", "detect_anomaly", "is_anomaly_enabled"]

enabled = False  # read by Node.__init__ and the engine; set only by the managers below


def is_anomaly_enabled():
    """True if anomaly detection is on."""
    return enabled


def _set(mode):
    global enabled
    enabled = mode


class set_detect_anomaly(_ModeContext):
    """Turn anomaly detection on or off at once (and back on leaving a ``with`` block).

    When on, every backward node records the stack of the forward call that created it, and a NaN produced
    by a node's backward raises a RuntimeError naming that node and printing where it was created.
    """

    def __init__(self, mode, check_nan=True):
        self.prev = enabled
        self.mode = bool(mode)
        _set(self.mode)

    def __enter__(self):
        pass

    def __exit__(self, *exc):
        _set(self.prev)


class detect_anomaly(_ModeContext):
    """Context manager and decorator that enables anomaly detection inside its block."""

    def __init__(self, check_nan=True):
        pass

    def __enter__(self):
        self.prev = enabled
        _set(True)

    def __exit__(self, *exc):
        _set(self.prev)


def forward_trace():
    """The current stack as text, minus the frames inside nnkit: where the user called the op."""
    frames = [f for f in traceback.extract_stack()[:-1] if "/nnkit/" not in f.filename.replace("\\", "/")]
    return "".join(traceback.format_list(frames[-8:]))


def check_nan(node, grads):
    """Raise if a gradient produced by ``node`` in backward holds NaN, showing where ``node`` was created."""
    for i, g in enumerate(grads):
        data = g if g is None or isinstance(g, np.ndarray) else g._data
        if data is not None and data.dtype.kind == "f" and np.isnan(data).any():
            trace = (node._extra or {}).get("trace") or "    (created before anomaly detection was enabled)\n"
            raise RuntimeError(
                f"Function '{node.name()}' returned nan values in its {i}th output. "
                f"The forward call that created it:\n{trace}"
            )
