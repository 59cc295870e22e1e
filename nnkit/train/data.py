"""The data side of a recipe: a config section and ``load_splits`` (train / validation / test loaders)."""

import dataclasses
import typing

import numpy as np

from nnkit.data.dataset import TensorDataset, random_split
from nnkit.data.datasets import MNIST, Digits, FashionMNIST
from nnkit.data.loader import DataLoader
from nnkit.data.transforms import RandomCrop
from nnkit.random import Generator
from nnkit.tensor import _make

__all__ = ["DataConfig", "Splits", "load_splits"]

_EVAL_BATCH = 512  # evaluation keeps no graph, so bigger batches only save Python overhead


@dataclasses.dataclass
class DataConfig:
    """The ``[data]`` section of a recipe's config.

    Attributes:
        dataset: ``"digits"`` (scikit-learn's 8×8 digits: no files, no network), ``"mnist"`` or
            ``"fashion_mnist"`` (IDX files under ``root``).
        root: the folder of the MNIST / Fashion-MNIST files.
        download: fetch missing MNIST / Fashion-MNIST files (checksum-verified).
        batch_size: training batch size.
        val_fraction: the share of the training split held out for validation, in (0, 1).
        split_seed: seed of the train/validation split (independent of the run's seed).
        shift: augment training images with a random translation of up to ``shift`` pixels each way (zero
            padding, :class:`~nnkit.data.transforms.RandomCrop`); 0 for none.
    """

    dataset: typing.Literal["digits", "mnist", "fashion_mnist"] = "digits"
    root: str = "data"
    download: bool = False
    batch_size: int = 64
    val_fraction: float = 0.1
    split_seed: int = 0
    shift: int = 0

    def __post_init__(self):
        if self.batch_size < 1:
            raise ValueError(f"batch_size must be at least 1, got {self.batch_size}")
        if not 0.0 < self.val_fraction < 1.0:
            raise ValueError(f"val_fraction must be in (0, 1), got {self.val_fraction}")
        if self.split_seed < 0:
            raise ValueError(f"split_seed must be non-negative, got {self.split_seed}")
        if self.shift < 0:
            raise ValueError(f"shift must be non-negative, got {self.shift}")


class Splits(typing.NamedTuple):
    """The loaders of one dataset and what a model needs to know about it."""

    train: DataLoader
    val: DataLoader
    test: DataLoader
    image_shape: tuple
    class_names: list
    augment: object  # a transform for training batches, or None


def _dataset(config, train):
    if config.dataset == "digits":
        return Digits(train=train)
    cls = MNIST if config.dataset == "mnist" else FashionMNIST
    return cls(config.root, train=train, download=config.download)


def _arrays(dataset, classes):
    images, labels = dataset.get_batch(np.arange(len(dataset)))
    images, labels = images.numpy(), labels.numpy()
    if classes is None:
        return images, labels
    keep = np.isin(labels, classes)
    relabel = np.full(labels.max() + 1, -1, dtype=np.int64)
    relabel[list(classes)] = np.arange(len(classes))
    return images[keep], relabel[labels[keep]]


def load_splits(config, classes=None):
    """Train, validation and test loaders for ``config`` (a :class:`DataConfig`).

    The dataset's own test split is the test set; ``val_fraction`` of its training split, drawn with
    ``split_seed``, is the validation set. Training batches are shuffled each epoch from nnkit's global
    generator (seed it with :func:`nnkit.train.set_seed`). ``augment`` is the transform for training batches
    that ``config.shift`` asks for (None when 0); the loop applies it: ``images = data.augment(images)``.

    Args:
        config: the ``[data]`` section.
        classes: keep only these classes, relabelled ``0..len(classes)-1`` in the given order (e.g.
            ``[5, 6, 7, 8, 9]`` for a fine-tuning task on the digits 5-9); default all.

    Example::

        splits = load_splits(DataConfig(batch_size=32))
        for images, labels in splits.train:      # (32, 1, 8, 8) float32, (32,) int64
            ...
    """
    train_full, test_full = _dataset(config, True), _dataset(config, False)
    names = list(train_full.classes)
    if classes is not None:
        classes = [int(c) for c in classes]
        if len(set(classes)) != len(classes) or not all(0 <= c < len(names) for c in classes):
            raise ValueError(f"load_splits: classes must be distinct labels of {config.dataset} (0..{len(names) - 1}), "
                             f"got {classes}")
        names = [names[c] for c in classes]
    train_images, train_labels = _arrays(train_full, classes)
    test_images, test_labels = _arrays(test_full, classes)
    train_set, val_set = random_split(TensorDataset(_make(train_images), _make(train_labels)),
                                      [1.0 - config.val_fraction, config.val_fraction],
                                      generator=Generator(config.split_seed))
    test_set = TensorDataset(_make(test_images), _make(test_labels))
    return Splits(
        train=DataLoader(train_set, batch_size=config.batch_size, shuffle=True),
        val=DataLoader(val_set, batch_size=_EVAL_BATCH),
        test=DataLoader(test_set, batch_size=_EVAL_BATCH),
        image_shape=tuple(train_images.shape[1:]),
        class_names=names,
        augment=RandomCrop(train_images.shape[-2:], padding=config.shift) if config.shift else None,
    )
