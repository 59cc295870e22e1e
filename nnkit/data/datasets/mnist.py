"""MNIST and Fashion-MNIST from the standard IDX files, with an optional checked download.

The four files (``train-images-idx3-ubyte``, ``train-labels-idx1-ubyte``, ``t10k-images-idx3-ubyte``,
``t10k-labels-idx1-ubyte``, each raw or ``.gz``) are looked for in ``root/<name>/raw/`` (torchvision's
layout, ``<name>`` being ``MNIST`` or ``FashionMNIST``) and then in ``root`` itself. The fixed split is the
standard one: 60,000 training images (``train-*``) and 10,000 test images (``t10k-*``).

``download=True`` fetches the missing ``.gz`` files into ``root/<name>/raw/`` from the class's ``mirrors``
(tried in order) and checks each against the MD5 sum in ``resources`` (torchvision's list). A file is written
to a temporary file beside its target, fsynced, and renamed into place only once its checksum matches, so an
interrupted or corrupt download leaves nothing behind. Files already present (raw, or ``.gz`` with the right
checksum) are never fetched again. ``mirrors`` and ``resources`` are class attributes: a subclass (or a test)
can point them elsewhere.
"""

import gzip
import hashlib
import http.client
import os
import struct
import sys
import urllib.error
import urllib.request

import numpy as np

from nnkit.data.datasets._base import ImageTensorDataset
from nnkit.serialization import atomic_write
from nnkit.tensor import _make

__all__ = ["MNIST", "FashionMNIST", "read_idx"]

_IDX_DTYPES = {0x08: np.uint8, 0x09: np.int8, 0x0B: np.dtype(">i2"), 0x0C: np.dtype(">i4"),
               0x0D: np.dtype(">f4"), 0x0E: np.dtype(">f8")}
_TIMEOUT = 60
_CHUNK = 1 << 16


def read_idx(path):
    """Read an IDX file (raw or ``.gz``) into a numpy array of its declared type and shape.

    Raises:
        ValueError: naming the file when it is not a well-formed IDX file (bad magic, wrong size, truncated).
    """
    path = os.fspath(path)
    try:
        opener = gzip.open if path.endswith(".gz") else open
        with opener(path, "rb") as f:
            raw = f.read()
    except (OSError, EOFError) as err:  # gzip.BadGzipFile is an OSError; a truncated .gz an EOFError
        if isinstance(err, FileNotFoundError):
            raise
        raise ValueError(f"{path} is not a readable IDX file: {type(err).__name__}: {err}") from err
    if len(raw) < 4 or raw[0] != 0 or raw[1] != 0 or raw[2] not in _IDX_DTYPES:
        raise ValueError(f"{path} is not an IDX file: bad magic number {raw[:4].hex() or '(empty file)'}")
    dtype = np.dtype(_IDX_DTYPES[raw[2]])
    ndim = raw[3]
    start = 4 + 4 * ndim
    if len(raw) < start:
        raise ValueError(f"{path} is truncated: the header declares {ndim} dimensions but the file ends early")
    shape = struct.unpack(f">{ndim}I", raw[4:start])
    count = int(np.prod(shape, dtype=np.int64))
    if len(raw) - start != count * dtype.itemsize:
        raise ValueError(
            f"{path} has {len(raw) - start} bytes of data but its header declares shape {shape} of {dtype.name} "
            f"({count * dtype.itemsize} bytes): truncated or corrupt"
        )
    array = np.frombuffer(raw, dtype=dtype, count=count, offset=start).reshape(shape)
    return array.astype(dtype.newbyteorder("="))


def _md5(path):
    digest = hashlib.md5(usedforsecurity=False)
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


class _ChecksumMismatch(Exception):
    pass


def _fetch(url, dest, md5):
    """Download ``url`` to ``dest`` atomically, checking the MD5 before the file appears at ``dest``."""
    from tqdm import tqdm

    request = urllib.request.Request(url, headers={"User-Agent": "nnkit"})
    with urllib.request.urlopen(request, timeout=_TIMEOUT) as response, atomic_write(dest) as out:
        total = response.headers.get("Content-Length")
        digest = hashlib.md5(usedforsecurity=False)
        with tqdm(total=int(total) if total else None, unit="B", unit_scale=True, unit_divisor=1024,
                  desc=os.path.basename(dest), disable=not sys.stderr.isatty(), leave=False) as bar:
            for chunk in iter(lambda: response.read(_CHUNK), b""):
                out.write(chunk)
                digest.update(chunk)
                bar.update(len(chunk))
        if digest.hexdigest() != md5:
            # Raised inside atomic_write: the temporary file is removed and dest never appears.
            raise _ChecksumMismatch(f"checksum mismatch: MD5 {digest.hexdigest()}, expected {md5}")


class MNIST(ImageTensorDataset):
    """The MNIST handwritten digits: 28×28 grey images, 10 classes; samples ``(image (1, 28, 28), label)``.

    Images come out as float32 in [0, 1] (byte / 255), labels as ints (batched: int64 tensors).

    Args:
        root: the folder holding the IDX files (in ``root/MNIST/raw/`` or ``root`` itself).
        train: the 60,000 training images (True) or the 10,000 test images (False).
        download: fetch missing files from ``mirrors`` (MD5-checked); never re-fetches valid files.
        transform: applied to each image (to whole batches, for nnkit's transforms).
        target_transform: applied to each label.

    Attributes:
        data: uint8 images ``(N, 28, 28)``, as stored. targets: int64 labels ``(N,)``. classes: label names.

    Example::

        train = MNIST("data", train=True, download=True, transform=Normalize((0.1307,), (0.3081,)))
        loader = DataLoader(train, batch_size=128, shuffle=True)
    """

    base_folder = "MNIST"
    mirrors = [
        "https://ossci-datasets.s3.amazonaws.com/mnist/",
        "http://yann.lecun.com/exdb/mnist/",
    ]
    resources = [
        ("train-images-idx3-ubyte.gz", "f68b3c2dcbeaaa9fbdd348bbdeb94873"),
        ("train-labels-idx1-ubyte.gz", "d53e105ee54ea40749a09fcbcd1e9432"),
        ("t10k-images-idx3-ubyte.gz", "9fb629c4189551a2d022fa330f9573f3"),
        ("t10k-labels-idx1-ubyte.gz", "ec29112dd5afa0611ce80d1b7f02629c"),
    ]
    classes = ["0 - zero", "1 - one", "2 - two", "3 - three", "4 - four", "5 - five", "6 - six", "7 - seven",
               "8 - eight", "9 - nine"]

    def __init__(self, root, train=True, download=False, transform=None, target_transform=None):
        super().__init__(transform, target_transform)
        self.root = os.fspath(root)
        self.train = bool(train)
        if download:
            self.download()
        prefix = "train" if self.train else "t10k"
        images_path = self._find(f"{prefix}-images-idx3-ubyte")
        labels_path = self._find(f"{prefix}-labels-idx1-ubyte")
        images, labels = read_idx(images_path), read_idx(labels_path)
        if images.ndim != 3 or images.dtype != np.uint8:
            raise ValueError(f"{images_path}: expected uint8 images (N, H, W), got {images.dtype} {images.shape}")
        if labels.ndim != 1 or len(labels) != len(images):
            raise ValueError(
                f"{labels_path}: expected {len(images)} labels (one per image in {images_path}), got shape "
                f"{labels.shape}"
            )
        if len(labels) and (labels.min() < 0 or labels.max() >= len(self.classes)):
            raise ValueError(f"{labels_path}: labels must be in 0..{len(self.classes) - 1}, got "
                             f"{labels.min()}..{labels.max()}")
        self.data = _make(images)
        self.targets = _make(labels.astype(np.int64))

    @property
    def raw_folder(self):
        """Where the IDX files are looked for first and downloaded to: ``root/<base_folder>/raw``."""
        return os.path.join(self.root, self.base_folder, "raw")

    def _find(self, name):
        for folder in (self.raw_folder, self.root):
            for candidate in (name, name + ".gz"):
                path = os.path.join(folder, candidate)
                if os.path.isfile(path):
                    return path
        raise RuntimeError(
            f"Dataset not found: {type(self).__name__} needs {name} (or {name}.gz) in {self.raw_folder} or "
            f"{self.root}. You can use download=True to download it."
        )

    def _present(self, filename, md5):
        for folder in (self.raw_folder, self.root):
            raw = os.path.join(folder, filename[:-3] if filename.endswith(".gz") else filename)
            if os.path.isfile(raw) and raw != os.path.join(folder, filename):
                return True
            packed = os.path.join(folder, filename)
            if os.path.isfile(packed) and _md5(packed) == md5:
                return True
        return False

    def download(self):
        """Fetch every file of ``resources`` not already present and valid into ``raw_folder``."""
        os.makedirs(self.raw_folder, exist_ok=True)
        for filename, md5 in self.resources:
            if self._present(filename, md5):
                continue
            dest = os.path.join(self.raw_folder, filename)
            failures = []
            for mirror in self.mirrors:
                url = mirror + filename
                try:
                    _fetch(url, dest, md5)
                    break
                except _ChecksumMismatch as err:
                    failures.append(f"{url}: {err}")
                except (urllib.error.URLError, OSError, http.client.HTTPException) as err:
                    failures.append(f"{url}: {type(err).__name__}: {getattr(err, 'reason', err)}")
            else:
                raise RuntimeError(
                    f"{type(self).__name__}: could not download {filename} (expected MD5 {md5}) from any mirror:\n  "
                    + "\n  ".join(failures)
                )

    def _float_images(self, indices):
        # byte / 255 in float32, exactly as torchvision's ToTensor: img.float().div(255)
        return np.divide(self.data._data[indices], np.float32(255), dtype=np.float32)[:, None]


class FashionMNIST(MNIST):
    """Zalando's Fashion-MNIST: 28×28 grey images of 10 kinds of clothing, in MNIST's format and sizes.

    Same arguments and attributes as :class:`MNIST`; files live in ``root/FashionMNIST/raw/`` (or ``root``).

    Example::

        test = FashionMNIST("data", train=False, download=True)
        image, label = test[0]               # (1, 28, 28) float32, an int; test.classes[label] names it
    """

    base_folder = "FashionMNIST"
    mirrors = ["http://fashion-mnist.s3-website.eu-central-1.amazonaws.com/"]
    resources = [
        ("train-images-idx3-ubyte.gz", "8d4fb7e6c68d591d4c3dfef9ec88bf0d"),
        ("train-labels-idx1-ubyte.gz", "25c81989df183df01b3e8a0aad5dffbe"),
        ("t10k-images-idx3-ubyte.gz", "bef4ecab320f06d8554ea6380940ec79"),
        ("t10k-labels-idx1-ubyte.gz", "bb300cfdad3c16e7a12a480ee83cd310"),
    ]
    classes = ["T-shirt/top", "Trouser", "Pullover", "Dress", "Coat", "Sandal", "Shirt", "Sneaker", "Bag",
               "Ankle boot"]
