"""scikit-learn's 8×8 digits: dtype, scaling, the documented fixed stratified split, the missing-extra error."""

import sys

import numpy as np
import pytest

import nnkit as nk
from nnkit.data import DataLoader, TensorDataset
from nnkit.data.datasets import Digits, load_digits
from nnkit.data.transforms import Normalize, RandomHorizontalFlip


def test_missing_scikit_learn_names_the_extra(monkeypatch):
    monkeypatch.setitem(sys.modules, "sklearn", None)
    monkeypatch.setitem(sys.modules, "sklearn.datasets", None)
    with pytest.raises(ImportError, match=r"pip install 'nnkit\[data\]'"):
        load_digits("train")
    with pytest.raises(ImportError, match="scikit-learn"):
        Digits(train=True)


# Everything below needs the data itself; the test above runs with or without scikit-learn.
try:
    import sklearn.datasets as _sklearn_datasets
except ImportError:
    _sklearn_datasets = None
pytestmark_sklearn = pytest.mark.skipif(_sklearn_datasets is None, reason="scikit-learn (nnkit[data]) is not installed")


@pytest.fixture
def sklearn_datasets():
    return _sklearn_datasets


@pytestmark_sklearn
def test_train_and_test_shapes_dtypes_and_range():
    train, test = load_digits("train"), load_digits("test")
    assert isinstance(train, TensorDataset)
    x, y = train.tensors
    assert x.shape == (1442, 1, 8, 8) and x.dtype == nk.float32
    assert y.shape == (1442,) and y.dtype == nk.int64
    assert len(test) == 355 and len(load_digits("all")) == 1797
    values = np.unique(x.numpy())
    assert values.min() == 0.0 and values.max() == 1.0
    np.testing.assert_array_equal(values * 16, np.round(values * 16))  # value / 16 exactly
    assert set(np.unique(y.numpy())) == set(range(10))


@pytestmark_sklearn
def test_all_matches_scikit_learn_scaled(sklearn_datasets):
    bunch = sklearn_datasets.load_digits()
    x, y = load_digits("all").tensors
    np.testing.assert_array_equal(x.numpy(), (bunch.images / 16).astype(np.float32)[:, None])
    np.testing.assert_array_equal(y.numpy(), bunch.target)


@pytestmark_sklearn
def test_split_is_a_seeded_fifth_of_each_class_in_shipped_order(sklearn_datasets):
    bunch = sklearn_datasets.load_digits()
    expected_test = np.zeros(len(bunch.target), dtype=bool)
    rng = np.random.default_rng(0)  # the documented fixed seed, one permutation per class in class order
    for c in range(10):
        where = np.nonzero(bunch.target == c)[0]
        expected_test[rng.permutation(where)[: len(where) // 5]] = True
    nk.manual_seed(123)  # the split does not depend on nnkit's generator
    assert load_digits("test").tensors[1].shape == (355,)
    images = (bunch.images / 16).astype(np.float32)[:, None]
    x_test, y_test = load_digits("test").tensors
    x_train, y_train = load_digits("train").tensors
    np.testing.assert_array_equal(x_test.numpy(), images[expected_test])
    np.testing.assert_array_equal(y_train.numpy(), bunch.target[~expected_test])
    np.testing.assert_array_equal(x_train.numpy(), images[~expected_test])
    counts = np.bincount(y_test.numpy(), minlength=10)
    np.testing.assert_array_equal(counts, np.bincount(bunch.target) // 5)  # stratified: 20% of each class


@pytestmark_sklearn
def test_split_does_not_depend_on_the_global_seed():
    nk.manual_seed(0)
    a = load_digits("test").tensors[1].tolist()
    nk.manual_seed(999)
    nk.rand(100)
    assert load_digits("test").tensors[1].tolist() == a


@pytestmark_sklearn
def test_returned_tensors_are_fresh_copies():
    x, _ = load_digits("train").tensors
    x.mul_(0)
    assert load_digits("train").tensors[0].max().item() == 1.0


@pytestmark_sklearn
def test_bad_split_name():
    with pytest.raises(ValueError, match="'train', 'test' or 'all'"):
        load_digits("validation")


@pytestmark_sklearn
def test_digits_class_samples_and_batches():
    ds = Digits(train=False)
    assert len(ds) == 355 and ds.data.shape == (355, 1, 8, 8) and ds.targets.dtype == nk.int64
    image, label = ds[0]
    assert image.shape == (1, 8, 8) and image.dtype == nk.float32 and isinstance(label, int)
    images, labels = ds.get_batch([0, 5, -1])
    assert images.shape == (3, 1, 8, 8) and labels.tolist() == [ds[0][1], ds[5][1], ds[354][1]]
    np.testing.assert_array_equal(images.numpy()[2], ds[-1][0].numpy())
    with pytest.raises(IndexError):
        ds[355]
    assert "Digits" in repr(ds) and ds.classes[3] == "3"


@pytestmark_sklearn
def test_digits_transforms_batched_and_per_sample_agree():
    norm = Normalize((0.5,), (0.5,))
    batched = Digits(train=True, transform=norm)
    per_sample = Digits(train=True, transform=lambda img: (img - 0.5) / 0.5, target_transform=lambda y: y + 100)
    xb, yb = batched.get_batch(np.arange(10))
    xs, ys = per_sample.get_batch(np.arange(10))
    np.testing.assert_allclose(xb.numpy(), xs.numpy(), rtol=1e-6)
    assert ys.tolist() == [y + 100 for y in yb.tolist()]


@pytestmark_sklearn
def test_loader_over_digits_with_augmentation_is_reproducible():
    def epoch():
        nk.manual_seed(42)
        loader = DataLoader(Digits(train=True, transform=RandomHorizontalFlip()), batch_size=256, shuffle=True)
        return [(xb.numpy().copy(), yb.numpy().copy()) for xb, yb in loader]

    first, second = epoch(), epoch()
    assert len(first) == 6 and first[-1][0].shape == (1442 - 5 * 256, 1, 8, 8)
    for (xa, ya), (xb, yb) in zip(first, second):
        np.testing.assert_array_equal(xa, xb)
        np.testing.assert_array_equal(ya, yb)
