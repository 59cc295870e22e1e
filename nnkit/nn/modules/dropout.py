"""``Dropout``: randomly zero elements while training (inverted dropout); the identity in eval mode."""

from nnkit.nn.functional.dropout import dropout
from nnkit.nn.module import Module

__all__ = ["Dropout"]


class Dropout(Module):
    """In training mode zero each element with probability ``p`` and scale the rest by ``1 / (1 - p)``; in
    evaluation mode (``model.eval()``) return the input unchanged.

    The mask comes from nnkit's global generator: ``nnkit.manual_seed`` makes it reproducible.

    Args:
        p: probability of zeroing an element (default 0.5), in [0, 1].
        inplace: overwrite the input with the result.

    Example::

        drop = nn.Dropout(0.2)
        y = drop(x)           # training: ~20% zeros, the rest * 1.25
        drop.eval()
        drop(x) is x          # True
    """

    def __init__(self, p=0.5, inplace=False):
        super().__init__()
        if p < 0 or p > 1:
            raise ValueError(f"dropout probability has to be between 0 and 1, but got {p}")
        self.p = p
        self.inplace = inplace

    def forward(self, input):
        return dropout(input, self.p, self.training, self.inplace)

    def extra_repr(self):
        return f"p={self.p}, inplace={self.inplace}"
