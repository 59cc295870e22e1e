"""nnkit.Generator and the global generator's seeding and state (the parts checkpoints rely on)."""

import numpy as np
import pytest

import nnkit as nk
from nnkit.random import Generator, default_generator


def test_generator_is_public_and_defaults_to_pytorchs_fixed_seed():
    assert nk.Generator is Generator
    assert Generator().initial_seed() == 67280421310721
    assert nk.rand(4, generator=Generator()).tolist() == nk.rand(4, generator=Generator()).tolist()
    torch = pytest.importorskip("torch")
    assert torch.Generator().initial_seed() == Generator().initial_seed()


def test_manual_seed_returns_the_generator_and_rejects_negative_seeds():
    g = Generator()
    assert g.manual_seed(5) is g and g.initial_seed() == 5
    assert nk.randn(3, generator=g).tolist() == nk.randn(3, generator=Generator(5)).tolist()
    with pytest.raises(ValueError, match="non-negative integer seed, got -1"):
        g.manual_seed(-1)


def test_seed_draws_a_fresh_seed_that_reproduces():
    g = Generator()
    first = g.seed()
    assert g.initial_seed() == first != Generator().initial_seed()
    draws = nk.rand(3, generator=g).tolist()
    assert nk.rand(3, generator=Generator(first)).tolist() == draws
    global_seed = nk.seed()
    assert nk.initial_seed() == global_seed and global_seed != first
    nk.manual_seed(0)


def test_own_generator_leaves_the_global_stream_alone():
    nk.manual_seed(3)
    expected = nk.rand(4).tolist()
    nk.manual_seed(3)
    nk.rand(100, generator=Generator(1))
    assert nk.rand(4).tolist() == expected


def test_state_roundtrip_restores_seed_and_stream():
    g = Generator(11)
    nk.rand(7, generator=g)
    state = g.get_state()
    assert state.dtype == nk.uint8 and state.ndim == 1
    expected = nk.randn(5, generator=g).tolist()
    other = Generator(99)
    other.set_state(state)
    assert other.initial_seed() == 11
    assert nk.randn(5, generator=other).tolist() == expected
    other.set_state(state.numpy())  # a numpy array works too
    assert nk.randn(5, generator=other).tolist() == expected


def test_set_state_rejects_foreign_bytes():
    with pytest.raises(RuntimeError, match=r"not a state from get_rng_state\(\)"):
        nk.set_rng_state(nk.tensor([1, 2, 3], dtype=nk.uint8))
    with pytest.raises(RuntimeError, match="not a state"):
        default_generator.set_state(np.frombuffer(b'{"seed": 1}', dtype=np.uint8))
    with pytest.raises(RuntimeError, match="not a state"):
        default_generator.set_state(np.frombuffer(b'{"seed": 1, "state": {"bit_generator": "MT19937"}}', np.uint8))
