"""``set_seed``: one call that makes a training run reproducible."""

import random

import numpy as np

from nnkit.random import manual_seed

__all__ = ["set_seed"]


def set_seed(seed):
    """Seed nnkit's global generator, Python's ``random`` and numpy's legacy global generator; returns ``seed``.

    nnkit draws all its random numbers (initialisation, dropout, shuffling, ``random_split``) from its own
    generator; the other two are seeded too for user code in the same script that draws from them.

    Example::

        set_seed(0)
        model = build_model()        # the same initial weights on every run
    """
    if isinstance(seed, bool) or not isinstance(seed, (int, np.integer)) or not 0 <= seed < 2**32:
        raise ValueError(f"set_seed: seed must be an integer in [0, 2**32), got {seed!r}")
    seed = int(seed)
    manual_seed(seed)
    random.seed(seed)
    np.random.seed(seed)
    return seed
