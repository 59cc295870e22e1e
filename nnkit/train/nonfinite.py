"""Stop training with a clear message when the loss becomes NaN or infinite."""

import math

from nnkit.tensor import Tensor

__all__ = ["NonFiniteLossError", "check_finite"]


class NonFiniteLossError(FloatingPointError):
    """The loss became NaN or infinite; raised by :func:`check_finite` before the optimizer step.

    Attributes: ``value`` (the float), ``epoch`` and ``step`` (where it happened, None when not given).
    """

    def __init__(self, message, value, epoch=None, step=None):
        super().__init__(message)
        self.value = value
        self.epoch = epoch
        self.step = step


def check_finite(loss, *, epoch=None, step=None):
    """``loss`` as a Python float; raises :class:`NonFiniteLossError` if it is NaN or infinite.

    Call it after computing the loss and before ``backward()`` / ``optimizer.step()``, so that the model keeps
    the parameters of the last finite step.

    Args:
        loss: a one-element tensor or a number.
        epoch, step: where training is, for the message.

    Example::

        loss = loss_fn(model(xb), yb)
        loss_avg.update(check_finite(loss, epoch=epoch, step=step), len(yb))
        optimizer.zero_grad(); loss.backward(); optimizer.step()
    """
    if isinstance(loss, Tensor):
        if loss.numel() != 1:
            raise ValueError(f"check_finite: the loss must be a one-element tensor, got shape {tuple(loss.shape)}")
        value = loss.item()
    else:
        value = float(loss)
    if math.isfinite(value):
        return value
    where = ", ".join(f"{k} {v}" for k, v in (("epoch", epoch), ("step", step)) if v is not None)
    raise NonFiniteLossError(
        f"the loss is {value}{' at ' + where if where else ''}: training stopped before the optimizer step, so "
        "the parameters are those of the last finite step. Usual causes: a learning rate too high (lower it), "
        "NaN or infinite values in the inputs, or log/division by zero in a hand-written loss; run the step "
        "under nnkit.autograd.detect_anomaly() to find the op that produced it.",
        value, epoch, step,
    )
