"""The one global random generator that every random function in nnkit draws from.

``nnkit.manual_seed(n)`` reseeds it, so a seeded program (random tensors, initialisation, dropout,
shuffling) runs the same every time. ``get_rng_state``/``set_rng_state`` capture and restore it exactly, for
checkpoints. The numbers differ from PyTorch's for the same seed: only reproducibility within nnkit is
promised.
"""

import json

import numpy as np

__all__ = ["Generator", "manual_seed", "seed", "initial_seed", "get_rng_state", "set_rng_state", "default_generator"]


_DEFAULT_SEED = 67280421310721  # the seed of a new torch.Generator()


class Generator:
    """A seedable source of random numbers (numpy's PCG64 underneath), like ``torch.Generator``.

    Pass one as ``generator=`` to draw independently of the global generator (e.g. a DataLoader's shuffling
    or a ``random_split``).

    Args:
        seed (int): the initial seed; default PyTorch's fixed default seed, so ``Generator()`` is reproducible.

    Example::

        g = nk.Generator().manual_seed(42)
        train, val = nk.data.random_split(ds, [0.8, 0.2], generator=g)
    """

    __slots__ = ("_seed", "numpy")

    def __init__(self, seed=_DEFAULT_SEED):
        self.manual_seed(seed)

    def __repr__(self):
        return f"<nnkit.Generator initial_seed={self._seed}>"

    def manual_seed(self, seed):
        """Reseed; returns the generator."""
        seed = int(seed)
        if seed < 0:
            raise ValueError(f"manual_seed expected a non-negative integer seed, got {seed}")
        self._seed = seed
        self.numpy = np.random.Generator(np.random.PCG64(seed))
        return self

    def seed(self):
        """Reseed from fresh operating-system entropy; returns the new seed."""
        value = int(np.random.SeedSequence().entropy % (2**63))
        self.manual_seed(value)
        return value

    def initial_seed(self):
        """The seed last set."""
        return self._seed

    def get_state(self):
        """The full state as a uint8 tensor (JSON of the bit generator's state), restorable by set_state."""
        from nnkit.creation import tensor

        text = json.dumps({"seed": self._seed, "state": self.numpy.bit_generator.state})
        return tensor(np.frombuffer(text.encode(), dtype=np.uint8).copy())

    def set_state(self, new_state):
        """Restore a state from ``get_state``."""
        data = np.asarray(new_state.numpy() if hasattr(new_state, "numpy") else new_state, dtype=np.uint8)
        try:
            saved = json.loads(data.tobytes().decode())
            bit_generator = np.random.PCG64()
            bit_generator.state = saved["state"]
        except (ValueError, KeyError, TypeError) as err:
            raise RuntimeError(f"set_rng_state: not a state from get_rng_state(): {err}") from None
        self._seed = saved["seed"]
        self.numpy = np.random.Generator(bit_generator)


default_generator = Generator(0)


def manual_seed(seed):
    """Seed the global generator, making every later random draw in nnkit reproducible."""
    return default_generator.manual_seed(seed)


def seed():
    """Seed the global generator non-deterministically; returns the seed."""
    return default_generator.seed()


def initial_seed():
    """The seed of the global generator."""
    return default_generator.initial_seed()


def get_rng_state():
    """The global generator's state as a uint8 tensor (for checkpoints)."""
    return default_generator.get_state()


def set_rng_state(new_state):
    """Restore the global generator's state from ``get_rng_state()``."""
    default_generator.set_state(new_state)


def numpy_generator(generator=None):
    """The numpy Generator behind ``generator`` (default: the global one)."""
    return (generator or default_generator).numpy
