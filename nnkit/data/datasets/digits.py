"""The 8×8 handwritten digits that scikit-learn ships inside its package: no download, no network.

1,797 grey images of the digits 0-9 (values 0..16), from the UCI "Optical Recognition of Handwritten Digits"
data. nnkit delivers them as float32 images ``(N, 1, 8, 8)`` scaled to [0, 1] (value / 16) and int64
labels.

The fixed split: for each class, ``n_c // 5`` images of that class, drawn by a numpy generator with the
fixed seed 0 (``np.random.default_rng(0)``, one permutation per class in class order), form the test set and
the rest the training set, both kept in the order scikit-learn ships them. That is 1,442 train and 355 test
images, stratified (each class is 20% test, rounded down), the same on every machine and independent of
``nk.manual_seed``. (Taking the *last* fifth of each class instead puts mostly writers unseen in training
into the test set, which caps a plain MLP near 0.92: a random stratified split is the usual benchmark.)

Needs scikit-learn: ``pip install 'nnkit[data]'``.
"""

import numpy as np

from nnkit.data.dataset import TensorDataset
from nnkit.data.datasets._base import ImageTensorDataset
from nnkit.tensor import _make

__all__ = ["load_digits", "Digits"]

_cache = {}


def _sklearn_digits():
    try:
        from sklearn.datasets import load_digits as sklearn_load_digits
    except ImportError as err:
        raise ImportError(
            "the digits dataset needs scikit-learn, which ships its data: install nnkit's data extra with "
            "pip install 'nnkit[data]' (or pip install scikit-learn)"
        ) from err
    if "arrays" not in _cache:
        bunch = sklearn_load_digits()
        images = (bunch.images.astype(np.float32) / np.float32(16)).reshape(-1, 1, 8, 8)
        labels = bunch.target.astype(np.int64)
        _cache["arrays"] = images, labels, _split_mask(labels)
    return _cache["arrays"]


def _split_mask(labels):
    """True for test samples: ``n_c // 5`` of each class ``c``, drawn with the fixed seed 0."""
    rng = np.random.default_rng(0)
    test = np.zeros(len(labels), dtype=bool)
    for c in np.unique(labels):
        where = np.nonzero(labels == c)[0]
        test[rng.permutation(where)[: len(where) // 5]] = True
    return test


def _arrays(split):
    images, labels, test = _sklearn_digits()
    if split == "train":
        keep = ~test
    elif split == "test":
        keep = test
    elif split == "all":
        return images.copy(), labels.copy()
    else:
        raise ValueError(f"load_digits: split must be 'train', 'test' or 'all', got {split!r}")
    return images[keep], labels[keep]


def load_digits(split="train"):
    """The digits as a :class:`TensorDataset` of ``(image (1, 8, 8) float32 in [0, 1], label int64)``.

    Args:
        split: ``'train'`` (1,442 images), ``'test'`` (355) or ``'all'`` (1,797); the fixed split is described
            in :mod:`nnkit.data.datasets.digits`.

    Raises:
        ImportError: when scikit-learn is missing (``pip install 'nnkit[data]'``).

    Example::

        train = load_digits("train")
        images, labels = train.tensors        # (1442, 1, 8, 8) float32, (1442,) int64
    """
    images, labels = _arrays(split)
    return TensorDataset(_make(images), _make(labels))


class Digits(ImageTensorDataset):
    """The digits as a dataset with transforms, like :class:`MNIST`: sample ``(image (1, 8, 8), label)``.

    Args:
        train: the training split (True) or the test split (False).
        transform: applied to each image (or to whole batches, for nnkit's transforms).
        target_transform: applied to each label.

    Attributes:
        data: float32 images ``(N, 1, 8, 8)`` in [0, 1]. targets: int64 labels ``(N,)``.

    Example::

        loader = DataLoader(Digits(train=True), batch_size=64, shuffle=True)
    """

    classes = [str(i) for i in range(10)]

    def __init__(self, train=True, transform=None, target_transform=None):
        super().__init__(transform, target_transform)
        self.train = bool(train)
        images, labels = _arrays("train" if self.train else "test")
        self.data = _make(images)
        self.targets = _make(labels)

    def _float_images(self, indices):
        return self.data._data[indices]
