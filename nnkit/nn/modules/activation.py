"""Activation layers: thin wrappers around :mod:`nnkit.nn.functional.activation`."""

from nnkit.nn.functional import activation as F
from nnkit.nn.module import Module

__all__ = ["ReLU", "LeakyReLU", "GELU", "SiLU", "Sigmoid", "Tanh", "Softmax", "LogSoftmax"]


class _InplaceOption(Module):
    """An activation whose only setting is ``inplace``."""

    def __init__(self, inplace=False):
        super().__init__()
        self.inplace = inplace

    def extra_repr(self):
        return "inplace=True" if self.inplace else ""


class _DimOption(Module):
    """An activation along one dimension ``dim``."""

    def __init__(self, dim=None):
        super().__init__()
        self.dim = dim

    def extra_repr(self):
        return f"dim={self.dim}"


class ReLU(_InplaceOption):
    """``max(x, 0)`` elementwise.

    Args:
        inplace: overwrite the input with the result.

    Example::

        nn.ReLU()(nk.tensor([-1.0, 2.0]))     # tensor([0., 2.])
    """

    def forward(self, input):
        return F.relu(input, inplace=self.inplace)


class LeakyReLU(Module):
    """``x`` where positive, else ``negative_slope * x``.

    Args:
        negative_slope: slope for negative inputs (default 0.01).
        inplace: overwrite the input with the result.

    Example::

        nn.LeakyReLU(0.1)(nk.tensor([-1.0, 2.0]))     # tensor([-0.1, 2.])
    """

    def __init__(self, negative_slope=0.01, inplace=False):
        super().__init__()
        self.negative_slope = negative_slope
        self.inplace = inplace

    def forward(self, input):
        return F.leaky_relu(input, self.negative_slope, self.inplace)

    def extra_repr(self):
        return f"negative_slope={self.negative_slope}" + (", inplace=True" if self.inplace else "")


class GELU(Module):
    """Gaussian error linear unit ``x * Phi(x)``.

    Args:
        approximate: ``'none'`` (exact, via erf) or ``'tanh'`` (the tanh approximation).

    Example::

        nn.GELU()(nk.tensor([1.0]))     # tensor([0.8413])
    """

    def __init__(self, approximate="none"):
        super().__init__()
        self.approximate = approximate

    def forward(self, input):
        return F.gelu(input, approximate=self.approximate)

    def extra_repr(self):
        return f"approximate={self.approximate!r}"


class SiLU(_InplaceOption):
    """Sigmoid linear unit (swish) ``x * sigmoid(x)``.

    Args:
        inplace: overwrite the input with the result.
    """

    def forward(self, input):
        return F.silu(input, inplace=self.inplace)


class Sigmoid(Module):
    """Logistic function ``1 / (1 + exp(-x))`` elementwise."""

    def forward(self, input):
        return F.sigmoid(input)


class Tanh(Module):
    """Hyperbolic tangent elementwise."""

    def forward(self, input):
        return F.tanh(input)


class Softmax(_DimOption):
    """Softmax along ``dim``: the entries along it become positive and sum to 1.

    Args:
        dim: the dimension to normalise (None: PyTorch's legacy implicit choice, with a warning).

    Example::

        nn.Softmax(dim=1)(nk.zeros(2, 4))     # every entry 0.25
    """

    def forward(self, input):
        return F.softmax(input, self.dim, _stacklevel=5)


class LogSoftmax(_DimOption):
    """``log(softmax(x))`` along ``dim``, computed stably.

    Args:
        dim: the dimension to normalise (None: PyTorch's legacy implicit choice, with a warning).
    """

    def forward(self, input):
        return F.log_softmax(input, self.dim, _stacklevel=5)
