"""``RunningAverage``: the mean of a stream of values (a loss, a metric), held as Python floats."""

import math

from nnkit.tensor import Tensor

__all__ = ["RunningAverage"]


class RunningAverage:
    """A weighted running mean that stores Python floats only.

    Logging ``loss`` itself (a tensor with a ``grad_fn``) would keep every step's whole forward graph alive;
    ``update`` takes ``loss.item()`` instead, so nothing but two floats is kept.

    Args:
        name: an optional label (used by ``repr``).

    Example::

        avg = RunningAverage()
        for xb, yb in loader:
            loss = loss_fn(model(xb), yb)
            ...
            avg.update(loss, n=len(yb))       # weighted by batch size: the mean over samples
        avg.average                           # a float
    """

    __slots__ = ("name", "total", "count")

    def __init__(self, name=None):
        self.name = name
        self.total = 0.0
        self.count = 0

    def update(self, value, n=1):
        """Add ``value`` (a number or a one-element tensor: the mean over ``n`` samples) with weight ``n``."""
        if isinstance(value, Tensor):
            if value.numel() != 1:
                raise ValueError(f"RunningAverage.update takes a number or a one-element tensor, got a tensor of "
                                 f"shape {tuple(value.shape)}; reduce it first (e.g. .mean())")
            value = value.item()
        value = float(value)
        if isinstance(n, bool) or int(n) != n or n < 0:
            raise ValueError(f"RunningAverage.update: n must be a non-negative integer count, got {n!r}")
        self.total += value * int(n)
        self.count += int(n)
        return self

    @property
    def average(self):
        """The weighted mean so far (NaN before the first update)."""
        return self.total / self.count if self.count else math.nan

    def reset(self):
        """Forget every value."""
        self.total = 0.0
        self.count = 0

    def __float__(self):
        return self.average

    def __repr__(self):
        label = f"{self.name}: " if self.name else ""
        return f"RunningAverage({label}{self.average:.6g} over {self.count})"
