"""``DataLoader``: iterate over a dataset in (optionally shuffled) batches.

Datasets that hold arrays (:class:`TensorDataset`, the built-in image datasets, and Subsets and
ConcatDatasets of them) answer ``get_batch(indices)``, so a batch costs one fancy index per tensor instead of a
Python loop over its samples. Shuffling draws a fresh permutation at the start of every epoch from the global
generator (so ``nk.manual_seed`` makes it reproducible) unless the loader has its own ``generator=``/``seed=``.
"""

import numpy as np

from nnkit.data.dataset import default_collate
from nnkit.random import Generator, default_generator

__all__ = ["DataLoader"]


class DataLoader:
    """Batches of samples from ``dataset``, in order or shuffled each epoch.

    Loading runs in the calling process (``num_workers`` and ``pin_memory`` are accepted for PyTorch
    compatibility and change nothing).

    Args:
        dataset: a map-style dataset (``__getitem__`` and ``__len__``).
        batch_size (int): samples per batch.
        shuffle (bool): draw a new random order at the start of each epoch.
        drop_last (bool): drop the last batch if it has fewer than ``batch_size`` samples.
        collate_fn: turns a list of samples into a batch (default :func:`default_collate`). With the default,
            datasets that have ``get_batch`` are fetched a whole batch at a time.
        generator: an ``nnkit.random.Generator`` (or a numpy ``Generator``) to shuffle with, instead of the
            global generator.
        seed (int): shorthand for ``generator=nnkit.random.Generator(seed)``: the loader's own sequence of
            epoch orders, independent of other random draws.

    Example::

        loader = DataLoader(TensorDataset(x, y), batch_size=32, shuffle=True)
        for xb, yb in loader:          # xb: (32, ...) batches, yb: (32,)
            ...
        len(loader)                    # number of batches per epoch
    """

    def __init__(self, dataset, batch_size=1, shuffle=False, *, drop_last=False, collate_fn=None, generator=None,
                 seed=None, num_workers=0, pin_memory=False):
        if isinstance(batch_size, bool) or not isinstance(batch_size, (int, np.integer)) or batch_size <= 0:
            raise ValueError(f"batch_size should be a positive integer value, but got batch_size={batch_size!r}")
        if generator is not None and seed is not None:
            raise ValueError("DataLoader: pass either generator= or seed=, not both")
        if generator is not None and not isinstance(generator, (Generator, np.random.Generator)):
            raise TypeError(
                f"DataLoader: generator must be an nnkit.random.Generator or numpy Generator, got "
                f"{type(generator).__name__}"
            )
        if collate_fn is not None and not callable(collate_fn):
            raise TypeError(f"DataLoader: collate_fn must be callable, got {type(collate_fn).__name__}")
        try:
            len(dataset)
        except TypeError:
            raise TypeError(
                f"DataLoader needs a map-style dataset with __len__ and __getitem__, got {type(dataset).__name__}"
            ) from None
        self.dataset = dataset
        self.batch_size = int(batch_size)
        self.shuffle = bool(shuffle)
        self.drop_last = bool(drop_last)
        self.collate_fn = collate_fn
        self.generator = Generator(seed) if seed is not None else generator
        self.num_workers = num_workers
        self.pin_memory = pin_memory

    def __len__(self):
        n = len(self.dataset)
        return n // self.batch_size if self.drop_last else -(-n // self.batch_size)

    def _numpy_generator(self):
        g = self.generator if self.generator is not None else default_generator
        return g if isinstance(g, np.random.Generator) else g.numpy

    def _order(self):
        n = len(self.dataset)
        return self._numpy_generator().permutation(n) if self.shuffle else np.arange(n)

    def __iter__(self):
        # The epoch's order is drawn now, when iteration starts, not lazily at the first batch.
        return self._batches(self._order())

    def _batches(self, order):
        size = self.batch_size
        stop = len(self) * size
        for start in range(0, stop, size):
            yield self._fetch(order[start:start + size])

    def _fetch(self, indices):
        if self.collate_fn is None:
            if hasattr(self.dataset, "get_batch"):
                return self.dataset.get_batch(indices)
            return default_collate([self.dataset[int(i)] for i in indices])
        return self.collate_fn([self.dataset[int(i)] for i in indices])
