import numpy as np
import pytest

from nnkit.data.transforms import RandomCrop
from nnkit.train import DataConfig, load_splits

pytest.importorskip("sklearn")


def labels_of(loader):
    return np.concatenate([y.numpy() for _, y in loader])


def test_digits_splits_hold_out_validation_from_train():
    splits = load_splits(DataConfig(batch_size=50, val_fraction=0.2))
    n_train, n_val, n_test = (len(labels_of(loader)) for loader in (splits.train, splits.val, splits.test))
    assert n_train + n_val == 1442 and n_test == 355
    assert n_val == round(0.2 * 1442)
    assert splits.image_shape == (1, 8, 8)
    assert splits.class_names == [str(i) for i in range(10)]
    assert splits.augment is None
    images, labels = next(iter(splits.train))
    assert images.shape == (50, 1, 8, 8) and str(images.dtype) == "nnkit.float32"
    assert 0.0 <= images.min().item() and images.max().item() <= 1.0


def test_the_split_depends_on_split_seed_only():
    a = labels_of(load_splits(DataConfig(split_seed=1)).val)
    b = labels_of(load_splits(DataConfig(split_seed=1)).val)
    c = labels_of(load_splits(DataConfig(split_seed=2)).val)
    np.testing.assert_array_equal(a, b)
    assert not np.array_equal(a, c)


def test_classes_are_kept_and_relabelled_in_order():
    splits = load_splits(DataConfig(), classes=[5, 6, 7, 8, 9])
    test = labels_of(splits.test)
    assert set(test) == {0, 1, 2, 3, 4}
    assert len(test) == 177  # the digits test split holds 35-37 images of each of the five classes
    assert splits.class_names == ["5", "6", "7", "8", "9"]
    reordered = labels_of(load_splits(DataConfig(), classes=[9, 5]).test)
    assert set(reordered) == {0, 1}
    with pytest.raises(ValueError, match="classes must be distinct labels of digits"):
        load_splits(DataConfig(), classes=[1, 1])


def test_shift_gives_a_random_crop_for_training_batches():
    splits = load_splits(DataConfig(shift=1))
    assert isinstance(splits.augment, RandomCrop)
    assert splits.augment.padding == (1, 1, 1, 1)
    images, _ = next(iter(splits.train))
    assert splits.augment(images).shape == images.shape


@pytest.mark.parametrize("kwargs, message", [
    ({"batch_size": 0}, "batch_size must be at least 1"),
    ({"val_fraction": 1.0}, r"val_fraction must be in \(0, 1\)"),
    ({"shift": -1}, "shift must be non-negative"),
])
def test_config_checks_ranges(kwargs, message):
    with pytest.raises(ValueError, match=message):
        DataConfig(**kwargs)
