"""The shared shape of the built-in image datasets: images and int64 labels held as whole tensors."""

import numpy as np

from nnkit.data.dataset import Dataset, _as_index_array
from nnkit.tensor import _make


class ImageTensorDataset(Dataset):
    """Images and labels held in memory; sample ``i`` is ``(image (C, H, W) float32, label int)``.

    Subclasses set ``data`` (images in their stored form), ``targets`` (int64 tensor) and implement
    ``_float_images(indices)`` returning float32 arrays ``(B, C, H, W)``. ``get_batch`` fetches a batch with
    one fancy index, and applies ``transform`` to the whole batch when it ``supports_batches`` (all of
    :mod:`nnkit.data.transforms` do); other transforms run per sample, as in PyTorch.
    """

    classes = []

    def __init__(self, transform=None, target_transform=None):
        self.transform = transform
        self.target_transform = target_transform

    def __len__(self):
        return self.targets.shape[0]

    def _float_images(self, indices):
        raise NotImplementedError(f"{type(self).__name__} must implement _float_images(indices)")

    def __getitem__(self, index):
        n = len(self)
        index = int(index)
        if not -n <= index < n:
            raise IndexError(f"index {index} is out of range for {type(self).__name__} of length {n}")
        image = _make(self._float_images(np.array([index % n]))[0])
        target = int(self.targets._data[index])
        if self.transform is not None:
            image = self.transform(image)
        if self.target_transform is not None:
            target = self.target_transform(target)
        return image, target

    def get_batch(self, indices):
        """The samples at ``indices`` as ``[images (B, C, H, W) float32, labels (B,) int64]``."""
        if self.target_transform is not None or (
            self.transform is not None and not getattr(self.transform, "supports_batches", False)
        ):
            return super().get_batch(indices)
        idx = _as_index_array(indices)
        images = _make(self._float_images(idx))
        if self.transform is not None:
            images = self.transform(images)
        return [images, _make(self.targets._data[idx])]

    def __repr__(self):
        split = "train" if getattr(self, "train", True) else "test"
        return f"{type(self).__name__}(split={split!r}, samples={len(self)})"
