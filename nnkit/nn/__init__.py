"""Neural-network building blocks. So far: ``nnkit.nn.functional`` (losses); modules arrive with issue 3."""

from nnkit.nn import functional

__all__ = ["functional"]
