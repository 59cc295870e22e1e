"""Stateless functions neural networks are built from: losses (more families arrive with issue 3)."""

from nnkit.nn.functional.loss import binary_cross_entropy_with_logits
from nnkit.ops.indexing import one_hot

__all__ = ["binary_cross_entropy_with_logits", "one_hot"]
