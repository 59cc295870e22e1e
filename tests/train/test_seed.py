import random

import numpy as np
import pytest

import nnkit as nk
from nnkit.train import set_seed


def draw():
    return nk.randn(3).tolist(), random.random(), np.random.rand()


def test_set_seed_makes_every_generator_repeat():
    assert set_seed(7) == 7
    first = draw()
    set_seed(7)
    assert draw() == first
    set_seed(8)
    assert draw() != first
    assert nk.initial_seed() == 8


@pytest.mark.parametrize("bad", [-1, 2**32, 1.5, True, "3"])
def test_rejects_bad_seeds(bad):
    with pytest.raises(ValueError, match="seed must be an integer"):
        set_seed(bad)
