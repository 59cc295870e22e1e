"""Reverse-mode automatic differentiation: the graph, the engine, grad modes and tools built on them.

``backward`` and ``grad`` run the engine; ``Function`` defines custom differentiable ops; ``gradcheck`` and
``gradgradcheck`` compare gradients with finite differences; ``functional`` has ``jacobian`` and ``vjp``.
"""

from nnkit.autograd import functional
from nnkit.autograd.anomaly import detect_anomaly, is_anomaly_enabled, set_detect_anomaly
from nnkit.autograd.engine import backward, grad
from nnkit.autograd.function import Function, once_differentiable
from nnkit.autograd.grad_mode import (
    enable_grad,
    inference_mode,
    is_grad_enabled,
    is_inference_mode_enabled,
    no_grad,
    set_grad_enabled,
)
from nnkit.autograd.gradcheck import GradcheckError, gradcheck, gradgradcheck

__all__ = [
    "backward", "grad", "no_grad", "enable_grad", "set_grad_enabled", "inference_mode", "is_grad_enabled",
    "is_inference_mode_enabled", "set_detect_anomaly", "detect_anomaly", "is_anomaly_enabled", "Function",
    "once_differentiable", "gradcheck", "gradgradcheck", "GradcheckError", "functional",
]
