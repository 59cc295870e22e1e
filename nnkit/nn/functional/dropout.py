"""Dropout: zero each element with probability ``p`` and scale the survivors by ``1 / (1 - p)``.

The mask is drawn from nnkit's global generator (``nnkit.manual_seed`` makes it reproducible) and applied as a
product with a constant tensor, which is how PyTorch records dropout on the CPU (``MulBackward0``): the
gradient is the same mask times the incoming gradient.
"""

import numpy as np

from nnkit.ops import elementwise as ew
from nnkit.ops import inplace as ip
from nnkit.random import numpy_generator
from nnkit.tensor import Tensor, _make

__all__ = ["dropout"]


def _mask(shape, dtype, p):
    """Inverted-dropout mask: 0 with probability p, else 1 / (1 - p), in ``dtype``."""
    if p == 1:
        return np.zeros(shape, dtype)
    draw_dtype = dtype if dtype in (np.float32, np.float64) else np.float64
    keep = numpy_generator().random(shape, dtype=draw_dtype) >= p
    return keep.astype(dtype) * dtype.type(1 / (1 - p))


def dropout(input, p=0.5, training=True, inplace=False):
    """Randomly zero elements of ``input`` with probability ``p`` (training only); scale the rest by ``1/(1-p)``.

    The expected value of each element is unchanged, so no rescaling is needed at evaluation time, where
    ``training=False`` returns ``input`` itself. ``p=0`` also returns ``input``; ``p=1`` gives zeros.

    Args:
        input: a floating tensor of any shape.
        p: the probability of zeroing an element, in [0, 1].
        training: apply dropout (True) or return ``input`` unchanged (False).
        inplace: write the result into ``input`` and return it.

    Example::

        nk.manual_seed(0)
        F.dropout(nk.ones(6), p=0.5)      # e.g. tensor([2., 0., 2., 2., 0., 0.])
    """
    if not 0 <= p <= 1:
        raise ValueError(f"dropout probability has to be between 0 and 1, but got {p}")
    if not isinstance(input, Tensor):
        raise TypeError(f"dropout(): argument 'input' (position 1) must be Tensor, not {type(input).__name__}")
    if not training or p == 0:
        return input
    data = input._data
    if data.dtype.kind != "f":
        raise RuntimeError(
            f"result type Float can't be cast to the desired output type {input.dtype} (dropout needs a floating "
            "tensor; convert with .float())"
        )
    mask = _make(_mask(data.shape, data.dtype, p))
    if inplace:
        return ip.mul_(input, mask)
    return ew.mul(input, mask)
