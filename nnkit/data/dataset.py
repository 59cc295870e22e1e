"""Datasets: indexable collections of samples, and the ways to combine and split them (PyTorch's API).

A dataset is anything with ``__getitem__(i)`` and ``__len__()``. Datasets that hold their samples in arrays
also answer ``get_batch(indices)`` with a whole batch at once (one fancy index per tensor), which is how
:class:`~nnkit.data.DataLoader` avoids a Python loop over the samples of a batch. ``get_batch(indices)``
returns exactly what ``default_collate([dataset[i] for i in indices])`` would.
"""

import bisect
import math
import warnings

import numpy as np

from nnkit.creation import randperm
from nnkit.tensor import Tensor, _make

__all__ = ["Dataset", "TensorDataset", "Subset", "ConcatDataset", "random_split", "default_collate"]


def _as_index_array(indices):
    array = np.asarray(indices.numpy() if isinstance(indices, Tensor) else indices)
    if array.size == 0:
        return array.astype(np.int64).reshape(-1)
    if array.dtype.kind not in "iu":
        raise TypeError(f"get_batch expects integer indices, got an array of {array.dtype}")
    return array.reshape(-1)


class Dataset:
    """Base class of map-style datasets: subclasses define ``__getitem__(index)`` and ``__len__()``.

    ``dataset_a + dataset_b`` concatenates. Subclasses that can fetch a batch faster than one sample at a time
    override :meth:`get_batch`.

    Example::

        class Squares(Dataset):
            def __len__(self):
                return 10

            def __getitem__(self, i):
                return nk.tensor([float(i)]), i * i
    """

    def __getitem__(self, index):
        raise NotImplementedError(f"{type(self).__name__} must implement __getitem__")

    def get_batch(self, indices):
        """The samples at ``indices`` collated into a batch: ``default_collate([self[i] for i in indices])``.

        This default fetches the samples one by one; datasets backed by arrays override it with one fancy
        index per array.
        """
        return default_collate([self[int(i)] for i in _as_index_array(indices)])

    def __add__(self, other):
        return ConcatDataset([self, other])


class TensorDataset(Dataset):
    """A dataset of tensors sharing their first dimension: sample ``i`` is ``tuple(t[i] for t in tensors)``.

    Args:
        *tensors: tensors with the same size of the first dimension.

    Example::

        ds = TensorDataset(nk.randn(100, 3), nk.randint(0, 2, (100,)))
        x, y = ds[0]                      # shapes (3,) and ()
        len(ds)                           # 100
    """

    def __init__(self, *tensors):
        if not tensors:
            raise ValueError("TensorDataset needs at least one tensor")
        for t in tensors:
            if not isinstance(t, Tensor):
                raise TypeError(f"TensorDataset expects tensors, got {type(t).__name__}")
            if t.ndim == 0:
                raise ValueError("TensorDataset expects tensors with at least one dimension, got a 0-d tensor")
        sizes = [t.shape[0] for t in tensors]
        if any(s != sizes[0] for s in sizes):
            raise ValueError(f"Size mismatch between tensors: first dimensions are {sizes}; they must be equal")
        self.tensors = tensors

    def __getitem__(self, index):
        return tuple(t[index] for t in self.tensors)

    def __len__(self):
        return self.tensors[0].shape[0]

    def get_batch(self, indices):
        """The samples at ``indices`` as a list of batched tensors (one fancy index per tensor)."""
        idx = _as_index_array(indices)
        return [t[idx] for t in self.tensors]


class Subset(Dataset):
    """The samples of ``dataset`` at ``indices``, in that order.

    Args:
        dataset: the dataset to draw from.
        indices: a sequence of indices into ``dataset``.
    """

    def __init__(self, dataset, indices):
        self.dataset = dataset
        self.indices = indices

    def __getitem__(self, idx):
        if isinstance(idx, list):
            return self.dataset[[self.indices[i] for i in idx]]
        return self.dataset[self.indices[idx]]

    def __len__(self):
        return len(self.indices)

    def get_batch(self, indices):
        """The samples at ``indices`` (positions in this subset), fetched as one batch from the dataset."""
        idx = _as_index_array(indices)
        cached = self.__dict__.get("_index_cache")
        if cached is None or cached[0] is not self.indices:
            cached = self._index_cache = (self.indices, np.asarray(self.indices, dtype=np.int64).reshape(-1))
        mapped = cached[1][idx]
        if hasattr(self.dataset, "get_batch"):
            return self.dataset.get_batch(mapped)
        return default_collate([self.dataset[int(i)] for i in mapped])


class ConcatDataset(Dataset):
    """Several datasets one after another.

    Args:
        datasets: the datasets to concatenate (at least one).

    Example::

        both = ConcatDataset([train_a, train_b])      # len(both) == len(train_a) + len(train_b)
    """

    def __init__(self, datasets):
        self.datasets = list(datasets)
        if not self.datasets:
            raise ValueError("datasets should not be an empty iterable")
        self.cumulative_sizes = list(np.cumsum([len(d) for d in self.datasets]).tolist())

    def __len__(self):
        return self.cumulative_sizes[-1]

    def __getitem__(self, idx):
        if idx < 0:
            if -idx > len(self):
                raise ValueError("absolute value of index should not exceed dataset length")
            idx = len(self) + idx
        if idx >= len(self):
            raise IndexError(f"index {idx} is out of range for a ConcatDataset of length {len(self)}")
        which = bisect.bisect_right(self.cumulative_sizes, idx)
        start = self.cumulative_sizes[which - 1] if which else 0
        return self.datasets[which][idx - start]

    def get_batch(self, indices):
        """The samples at ``indices``: one batch fetched per member dataset, then put back in order."""
        idx = _as_index_array(indices)
        n = len(self)
        if idx.size and (idx.min() < -n or idx.max() >= n):
            raise IndexError(f"index out of range for a ConcatDataset of length {n}")
        idx = np.where(idx < 0, idx + n, idx)
        which = np.searchsorted(self.cumulative_sizes, idx, side="right")
        starts = np.concatenate([[0], self.cumulative_sizes[:-1]]).astype(np.int64)
        members = np.unique(which)
        if len(members) == 1:
            return _batch_of(self.datasets[members[0]], idx - starts[members[0]])
        parts, order = [], []
        for m in members:
            positions = np.nonzero(which == m)[0]
            parts.append(_batch_of(self.datasets[m], idx[positions] - starts[m]))
            order.append(positions)
        inverse = np.argsort(np.concatenate(order), kind="stable")
        return _merge(parts, inverse)


def _batch_of(dataset, indices):
    if hasattr(dataset, "get_batch"):
        return dataset.get_batch(indices)
    return default_collate([dataset[int(i)] for i in indices])


def _merge(parts, inverse):
    """Concatenate collated batches along the batch dimension, then reorder the samples by ``inverse``."""
    from nnkit.ops.shape import cat

    first = parts[0]
    if isinstance(first, Tensor):
        return cat(parts)[inverse]
    if isinstance(first, dict):
        return type(first)((k, _merge([p[k] for p in parts], inverse)) for k in first)
    if isinstance(first, (list, tuple)) and not (first and isinstance(first[0], (str, bytes))):
        merged = [_merge(list(group), inverse) for group in zip(*parts)]
        if isinstance(first, tuple):
            return type(first)(*merged) if hasattr(first, "_fields") else type(first)(merged)
        return merged
    # Non-tensor leaves (strings) stay as sequences, as default_collate leaves them.
    flat = [x for p in parts for x in p]
    return type(first)(flat[i] for i in inverse)


def random_split(dataset, lengths, generator=None):
    """Split ``dataset`` into non-overlapping random subsets of the given lengths.

    Args:
        dataset: the dataset to split.
        lengths: the subsets' lengths, summing to ``len(dataset)``; or fractions summing to 1, turned into
            lengths by flooring and then giving the remaining samples one each, round-robin (as PyTorch).
        generator: an ``nnkit.random.Generator`` to draw the permutation from (default: the global one, so
            ``nk.manual_seed`` makes the split reproducible).

    Returns:
        A list of :class:`Subset`.

    Example::

        train, val = random_split(ds, [0.8, 0.2], generator=nnkit.random.Generator(42))
    """
    lengths = list(lengths)
    n = len(dataset)
    if math.isclose(sum(lengths), 1) and sum(lengths) <= 1:
        fractions = lengths
        for i, frac in enumerate(fractions):
            if frac < 0 or frac > 1:
                raise ValueError(f"Fraction at index {i} is not between 0 and 1 (got {frac})")
        lengths = [int(math.floor(n * frac)) for frac in fractions]
        for i in range(n - sum(lengths)):
            lengths[i % len(lengths)] += 1
        for i, length in enumerate(lengths):
            if length == 0:
                warnings.warn(f"Length of split at index {i} is 0. This might result in an empty dataset.",
                              stacklevel=2)
    if any(not isinstance(length, (int, np.integer)) or length < 0 for length in lengths):
        raise ValueError(f"random_split: lengths must be non-negative integers or fractions summing to 1, got "
                         f"{lengths}")
    if sum(lengths) != n:
        raise ValueError(
            "Sum of input lengths does not equal the length of the input dataset! "
            f"(lengths {lengths} sum to {sum(lengths)}, the dataset has {n} samples)"
        )
    perm = randperm(n, generator=generator).numpy()
    subsets, offset = [], 0
    for length in lengths:
        subsets.append(Subset(dataset, perm[offset:offset + length].tolist()))
        offset += length
    return subsets


def default_collate(batch):
    """Combine a list of samples into a batch, as PyTorch's ``default_collate``.

    Tensors are stacked along a new first dimension; numpy arrays become stacked tensors; Python ints give
    an int64 tensor, floats a float64 tensor, bools a bool tensor, numpy scalars a tensor of their dtype;
    strings are left as a list. Dicts collate per key; namedtuples per field; tuples and lists transpose
    into a list of collated fields.

    Example::

        default_collate([(nk.zeros(2), 0), (nk.ones(2), 1)])
        # [tensor([[0., 0.], [1., 1.]]), tensor([0, 1])]
    """
    from nnkit.ops.shape import stack

    elem = batch[0]
    if isinstance(elem, Tensor):
        return stack(batch, 0)
    if isinstance(elem, np.ndarray):
        if elem.dtype.kind in "OUSV":
            raise TypeError(f"default_collate: batch must contain tensors, numpy arrays, numbers, dicts or "
                            f"lists; found numpy array of {elem.dtype}")
        return _make(np.stack(batch))
    if isinstance(elem, np.generic) and not isinstance(elem, (np.str_, np.bytes_)):
        return _make(np.asarray(batch))
    if isinstance(elem, bool):
        return _make(np.asarray(batch, dtype=np.bool_))
    if isinstance(elem, int):
        return _make(np.asarray(batch, dtype=np.int64))
    if isinstance(elem, float):
        return _make(np.asarray(batch, dtype=np.float64))
    if isinstance(elem, (str, bytes)):
        return batch
    if isinstance(elem, dict):
        return type(elem)((key, default_collate([d[key] for d in batch])) for key in elem)
    if isinstance(elem, tuple) and hasattr(elem, "_fields"):
        return type(elem)(*(default_collate(list(samples)) for samples in zip(*batch)))
    if isinstance(elem, (list, tuple)):
        size = len(elem)
        if any(len(e) != size for e in batch):
            raise RuntimeError("each element in list of batch should be of equal size")
        return [default_collate(list(samples)) for samples in zip(*batch)]
    raise TypeError(
        "default_collate: batch must contain tensors, numpy arrays, numbers, dicts or lists; found "
        f"{type(elem)}"
    )
