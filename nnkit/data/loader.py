"""``DataLoader``: iterate over a dataset in (optionally shuffled) batches.

Datasets that hold arrays (:class:`TensorDataset`, the built-in image datasets, and Subsets and
ConcatDatasets of them) answer ``get_batch(indices)``, so a batch costs one fancy index per tensor instead of a
Python loop over its samples. Shuffling draws a fresh permutation at the start of every epoch from the global
generator (so ``nk.manual_seed`` makes it reproducible) unless the loader has its own ``generator=``/``seed=``.
``state_dict()``/``load_state_dict()`` carry the current epoch's order and position into a checkpoint, so
training resumed mid-epoch sees exactly the batches it would have seen.
"""

import numpy as np

from nnkit.data.dataset import default_collate
from nnkit.random import Generator, default_generator
from nnkit.tensor import Tensor, _make

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

    To resume mid-epoch, checkpoint ``loader.state_dict()`` with the model, the optimizer and
    ``nk.get_rng_state()``, and restore it with ``load_state_dict`` before iterating again (see there).
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
        self._iterator = None  # the latest epoch's iterator, whose position state_dict() reports
        self._resume = None  # (order, batches already yielded) set by load_state_dict for the next iter()

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
        if self._resume is not None:
            order, position = self._resume
            self._resume = None
        else:
            order, position = self._order(), 0
        self._iterator = _EpochIterator(self, order, position)
        return self._iterator

    def state_dict(self):
        """Where the loader stands, as a dict that ``nnkit.save`` can store.

        Returns:
            ``{'order': int64 tensor or None, 'batches_yielded': int, 'generator': state or None}``: the current
            epoch's sample order (None when not shuffling or between epochs), how many of its batches were
            already handed out, and the state of the loader's own generator (None when it uses the global one,
            whose state ``nk.get_rng_state()`` saves). Between epochs (before the first ``iter()`` or after an
            epoch ran to its end) ``batches_yielded`` is 0.
        """
        it = self._iterator
        active = it is not None and not it.finished
        order = it.order if active and self.shuffle else None
        state = {
            "order": _make(np.array(order, dtype=np.int64)) if order is not None else None,
            "batches_yielded": it.position if active else 0,
            "generator": None,
        }
        g = self.generator
        if isinstance(g, Generator):
            state["generator"] = g.get_state()
        elif g is not None:
            state["generator"] = g.bit_generator.state
        return state

    def load_state_dict(self, state_dict):
        """Restore a ``state_dict()``: the next ``iter()`` continues that epoch after its yielded batches.

        Together with the model, the optimizer and ``nk.set_rng_state`` this makes a resumed run see the same
        batches in the same order as a run never stopped.

        Example::

            ckpt = nk.load("ckpt.pt")
            nk.set_rng_state(ckpt["rng"])
            loader.load_state_dict(ckpt["loader"])
            for xb, yb in loader:      # the rest of the interrupted epoch
                ...
        """
        order, position = state_dict["order"], int(state_dict["batches_yielded"])
        n = len(self.dataset)
        if not 0 <= position <= len(self):
            raise ValueError(f"DataLoader.load_state_dict: batches_yielded={position} is outside 0..{len(self)} "
                             f"(this loader has {len(self)} batches per epoch)")
        if order is None:
            if self.shuffle and position:
                raise ValueError("DataLoader.load_state_dict: the state was saved mid-epoch by a loader without "
                                 "shuffle=True, but this loader shuffles")
            order = np.arange(n)
        else:
            order = np.asarray(order.numpy() if isinstance(order, Tensor) else order, dtype=np.int64)
            if not np.array_equal(np.sort(order), np.arange(n)):
                raise ValueError(f"DataLoader.load_state_dict: 'order' is not a permutation of the dataset's {n} "
                                 "indices (the state belongs to another dataset)")
        generator = state_dict.get("generator")
        if generator is not None:
            if isinstance(self.generator, Generator):
                self.generator.set_state(generator)
            elif self.generator is not None:
                self.generator.bit_generator.state = generator
            else:
                raise ValueError("DataLoader.load_state_dict: the state holds a generator's state but this "
                                 "loader has none (pass generator= or seed= as when it was saved)")
        self._resume = (order, position) if position or state_dict["order"] is not None else None

    def _fetch(self, indices):
        if self.collate_fn is None:
            if hasattr(self.dataset, "get_batch"):
                return self.dataset.get_batch(indices)
            return default_collate([self.dataset[int(i)] for i in indices])
        return self.collate_fn([self.dataset[int(i)] for i in indices])


class _EpochIterator:
    """One epoch over ``loader`` in ``order``, starting after ``position`` batches; counts what it yields."""

    __slots__ = ("loader", "order", "position", "batches", "finished")

    def __init__(self, loader, order, position):
        self.loader = loader
        self.order = order
        self.position = position
        self.batches = len(loader)
        self.finished = False

    def __iter__(self):
        return self

    def __next__(self):
        if self.position >= self.batches:
            self.finished = True
            raise StopIteration
        size = self.loader.batch_size
        start = self.position * size
        batch = self.loader._fetch(self.order[start:start + size])
        self.position += 1
        return batch
