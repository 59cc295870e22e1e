"""Image transforms for one image ``(C, H, W)`` or a batch ``(N, C, H, W)``.

Each transform is a small callable. On a batch, random transforms draw independently for every image (unlike
torchvision, which would crop or flip a whole batch alike), so ``transform(batch)`` is distributed as
applying ``transform`` to each image. Random draws come from the global generator (``nk.manual_seed``).
The results are ordinary tensor ops, recorded by autograd when the input requires grad.

Example::

    augment = Compose([RandomCrop(28, padding=2), RandomHorizontalFlip(), Normalize((0.1307,), (0.3081,))])
    xb = augment(xb)                    # xb: (N, 1, 28, 28) float32
"""

import numbers

import numpy as np

from nnkit.ops.elementwise import where
from nnkit.random import numpy_generator
from nnkit.tensor import Tensor, _make

__all__ = [
    "Transform", "Compose", "Lambda", "ToFloat", "Normalize", "RandomCrop", "RandomHorizontalFlip",
    "RandomVerticalFlip",
]


def _check_image(x, name):
    if not isinstance(x, Tensor):
        raise TypeError(f"{name} expects an image tensor (C, H, W) or a batch (N, C, H, W), got "
                        f"{type(x).__name__}")
    if x.ndim not in (3, 4):
        raise ValueError(f"{name} expects an image tensor (C, H, W) or a batch (N, C, H, W), got shape "
                         f"{tuple(x.shape)}")


class Transform:
    """Base class of nnkit's transforms: ``__call__(x)`` on one image or a batch of images.

    ``supports_batches`` tells datasets that the transform may be applied to a whole batch at once (the
    built-in image datasets then transform batches without a per-sample loop).
    """

    supports_batches = True

    def __call__(self, x):
        raise NotImplementedError(f"{type(self).__name__} must implement __call__(x)")

    def __repr__(self):
        args = ", ".join(f"{k}={v!r}" for k, v in vars(self).items() if not k.startswith("_"))
        return f"{type(self).__name__}({args})"


class Compose(Transform):
    """Apply ``transforms`` one after another.

    Args:
        transforms: a list of callables.
    """

    def __init__(self, transforms):
        self.transforms = list(transforms)

    @property
    def supports_batches(self):
        return all(getattr(t, "supports_batches", False) for t in self.transforms)

    def __call__(self, x):
        for t in self.transforms:
            x = t(x)
        return x

    def __repr__(self):
        inner = "".join(f"\n    {t!r}," for t in self.transforms)
        return f"Compose([{inner}\n])"


class Lambda(Transform):
    """Wrap a function as a transform. Pass ``supports_batches=True`` if it also works on batches."""

    def __init__(self, fn, supports_batches=False):
        if not callable(fn):
            raise TypeError(f"Lambda expects a callable, got {type(fn).__name__}")
        self.fn = fn
        self.supports_batches = supports_batches

    def __call__(self, x):
        return self.fn(x)


class ToFloat(Transform):
    """Convert to float32 and scale: uint8 images (0..255) become values in [0, 1].

    Args:
        scale: the factor to multiply by; default ``1/255`` for uint8 input and ``1`` otherwise.
    """

    def __init__(self, scale=None):
        self.scale = scale

    def __call__(self, x):
        if not isinstance(x, Tensor):
            raise TypeError(f"ToFloat expects a tensor, got {type(x).__name__}")
        scale = self.scale if self.scale is not None else (1 / 255 if x._data.dtype == np.uint8 else 1)
        out = x.float()
        return out if scale == 1 else out * scale


def _per_channel(values, x, name):
    array = np.asarray(values, dtype=x._data.dtype).reshape(-1)
    channels = x.shape[-3]
    if array.size not in (1, channels):
        raise ValueError(f"{name}: got {array.size} values for an image with {channels} channels")
    return _make(array.reshape(-1, 1, 1))


class Normalize(Transform):
    """``(x - mean) / std`` per channel, on float images ``(C, H, W)`` or batches ``(N, C, H, W)``.

    Args:
        mean: a number or one value per channel.
        std: a number or one value per channel (non-zero).

    Example::

        Normalize((0.1307,), (0.3081,))(nk.rand(1, 28, 28))
    """

    def __init__(self, mean, std):
        std_array = np.asarray(std, dtype=np.float64)
        if np.any(std_array == 0):
            raise ValueError(f"std evaluated to zero, leading to division by zero (std={std!r})")
        self.mean = mean
        self.std = std

    def __call__(self, x):
        _check_image(x, "Normalize")
        if not x.is_floating_point():
            raise TypeError(f"Input tensor should be a float tensor. Got {x.dtype}. Convert it first, e.g. with "
                            "ToFloat().")
        return (x - _per_channel(self.mean, x, "Normalize mean")) / _per_channel(self.std, x, "Normalize std")


def _pair(size, name):
    if isinstance(size, numbers.Integral):
        return int(size), int(size)
    size = tuple(int(s) for s in size)
    if len(size) == 1:
        return size[0], size[0]
    if len(size) != 2:
        raise ValueError(f"{name}: size must be an int or a (height, width) pair, got {size}")
    return size


def _padding(padding):
    """Padding as (left, top, right, bottom), from an int, (left/right, top/bottom) or 4 values."""
    if isinstance(padding, numbers.Integral):
        return (int(padding),) * 4
    padding = tuple(int(p) for p in padding)
    if len(padding) == 1:
        return padding * 4
    if len(padding) == 2:
        return padding * 2
    if len(padding) == 4:
        return padding
    raise ValueError(f"RandomCrop: padding must be an int or a sequence of 1, 2 or 4 ints, got {padding}")


class RandomCrop(Transform):
    """Crop a random ``size`` window, after optionally padding the borders.

    Args:
        size: output ``(height, width)``, or an int for a square.
        padding: border added first: an int for all sides, ``(left/right, top/bottom)``, or
            ``(left, top, right, bottom)``.
        pad_if_needed: pad images smaller than ``size`` up to it instead of raising.
        fill: value of the added border when ``padding_mode='constant'``.
        padding_mode: ``'constant'``, ``'edge'``, ``'reflect'`` or ``'symmetric'`` (numpy's np.pad modes).

    Example::

        RandomCrop(28, padding=4)(batch)     # (N, C, 28, 28): each image shifted by up to 4 pixels
    """

    def __init__(self, size, padding=0, pad_if_needed=False, fill=0, padding_mode="constant"):
        if padding_mode not in ("constant", "edge", "reflect", "symmetric"):
            raise ValueError(f"RandomCrop: padding_mode should be constant, edge, reflect or symmetric, got "
                             f"{padding_mode!r}")
        self.size = _pair(size, "RandomCrop")
        self.padding = _padding(padding)
        if any(p < 0 for p in self.padding):
            raise ValueError(f"RandomCrop: padding must be non-negative, got {padding}")
        self.pad_if_needed = pad_if_needed
        self.fill = fill
        self.padding_mode = padding_mode

    def _pad(self, x):
        left, top, right, bottom = self.padding
        height, width = x.shape[-2] + top + bottom, x.shape[-1] + left + right
        if self.pad_if_needed:
            extra_h, extra_w = max(self.size[0] - height, 0), max(self.size[1] - width, 0)
            top, bottom, left, right = top + extra_h, bottom + extra_h, left + extra_w, right + extra_w
        if not any((left, top, right, bottom)):
            return x
        # Padding as a gather from a padded index grid: one recorded op, and any padding_mode for free.
        index_mode = "edge" if self.padding_mode == "constant" else self.padding_mode
        rows = np.pad(np.arange(x.shape[-2]), (top, bottom), mode=index_mode)
        cols = np.pad(np.arange(x.shape[-1]), (left, right), mode=index_mode)
        out = x[..., rows[:, None], cols[None, :]]
        if self.padding_mode == "constant":
            inside = np.zeros((len(rows), len(cols)), dtype=bool)
            inside[top:top + x.shape[-2], left:left + x.shape[-1]] = True
            out = where(_make(inside), out, _make(np.asarray(self.fill, dtype=x._data.dtype)))
        return out

    def __call__(self, x):
        _check_image(x, "RandomCrop")
        x = self._pad(x)
        h, w = self.size
        height, width = x.shape[-2], x.shape[-1]
        if h > height or w > width:
            raise ValueError(
                f"Required crop size {(h, w)} is larger than input image size {(height, width)} (after padding "
                f"{self.padding}); pass pad_if_needed=True or a smaller size"
            )
        rng = numpy_generator()
        if x.ndim == 3:
            i, j = int(rng.integers(0, height - h + 1)), int(rng.integers(0, width - w + 1))
            return x[:, i:i + h, j:j + w]
        n = x.shape[0]
        i = rng.integers(0, height - h + 1, size=n)
        j = rng.integers(0, width - w + 1, size=n)
        rows = (i[:, None] + np.arange(h))[:, None, :, None]
        cols = (j[:, None] + np.arange(w))[:, None, None, :]
        return x[np.arange(n)[:, None, None, None], np.arange(x.shape[1])[None, :, None, None], rows, cols]


class _RandomFlip(Transform):
    _axis = -1

    def __init__(self, p=0.5):
        if not 0 <= p <= 1:
            raise ValueError(f"{type(self).__name__}: p must be a probability in [0, 1], got {p}")
        self.p = p

    def __call__(self, x):
        _check_image(x, type(self).__name__)
        size = x.shape[self._axis]
        reverse = np.arange(size - 1, -1, -1)
        flip_index = (..., reverse) if self._axis == -1 else (..., reverse, slice(None))
        rng = numpy_generator()
        if x.ndim == 3:
            return x[flip_index] if rng.random() < self.p else x
        mask = rng.random(x.shape[0]) < self.p
        return where(_make(mask.reshape(-1, 1, 1, 1)), x[flip_index], x)


class RandomHorizontalFlip(_RandomFlip):
    """Mirror left-right with probability ``p`` (each image of a batch independently).

    Args:
        p: probability of flipping.
    """

    _axis = -1


class RandomVerticalFlip(_RandomFlip):
    """Mirror top-bottom with probability ``p`` (each image of a batch independently).

    Args:
        p: probability of flipping.
    """

    _axis = -2
