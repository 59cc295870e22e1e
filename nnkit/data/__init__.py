"""Data loading: datasets, the DataLoader, image transforms and built-in datasets (PyTorch's torch.utils.data).

Example::

    from nnkit.data import DataLoader
    from nnkit.data.datasets import load_digits

    loader = DataLoader(load_digits("train"), batch_size=64, shuffle=True)
    for images, labels in loader:       # (64, 1, 8, 8) float32, (64,) int64
        ...
"""

from nnkit.data import datasets, transforms
from nnkit.data.dataset import ConcatDataset, Dataset, Subset, TensorDataset, default_collate, random_split
from nnkit.data.loader import DataLoader

__all__ = [
    "Dataset", "TensorDataset", "Subset", "ConcatDataset", "random_split", "default_collate", "DataLoader",
    "datasets", "transforms",
]
