"""Built-in datasets, each with a documented fixed train/test split.

- :func:`load_digits` / :class:`Digits`: scikit-learn's 8×8 digits (1,797 images, shipped inside the
  scikit-learn package: no network). Needs ``pip install 'nnkit[data]'``.
- :class:`MNIST`, :class:`FashionMNIST`: the standard IDX files from a local folder, or downloaded with
  MD5 checks (``download=True``).
"""

from nnkit.data.datasets.digits import Digits, load_digits
from nnkit.data.datasets.mnist import MNIST, FashionMNIST, read_idx

__all__ = ["load_digits", "Digits", "MNIST", "FashionMNIST", "read_idx"]
