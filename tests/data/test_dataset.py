"""Dataset, TensorDataset, Subset, ConcatDataset, random_split and default_collate."""

import collections
import warnings

import numpy as np
import pytest

import nnkit as nk
from nnkit.data import ConcatDataset, Dataset, Subset, TensorDataset, default_collate, random_split
from nnkit.random import Generator


def make_ds(n=10):
    return TensorDataset(nk.arange(2 * n).float().reshape(n, 2), nk.arange(n) * 10)


class Squares(Dataset):
    """A dataset with only __getitem__/__len__ (the default get_batch loops)."""

    def __init__(self, n):
        self.n = n
        self.calls = 0

    def __len__(self):
        return self.n

    def __getitem__(self, i):
        self.calls += 1
        return {"x": nk.tensor([float(i)]), "y": i * i, "name": f"s{i}"}


# -- TensorDataset -----------------------------------------------------------------------------------------------
def test_tensor_dataset_items_and_length():
    ds = make_ds()
    assert len(ds) == 10
    x, y = ds[3]
    assert x.tolist() == [6.0, 7.0] and y.shape == () and y.item() == 30
    assert ds[-1][1].item() == 90


def test_tensor_dataset_get_batch_is_one_fancy_index():
    ds = make_ds()
    xb, yb = ds.get_batch(np.array([4, 0, 4]))
    assert xb.tolist() == [[8.0, 9.0], [0.0, 1.0], [8.0, 9.0]]
    assert yb.tolist() == [40, 0, 40] and yb.dtype == nk.int64
    empty_x, empty_y = ds.get_batch([])
    assert empty_x.shape == (0, 2) and empty_y.shape == (0,)


def test_tensor_dataset_get_batch_matches_default_collate():
    ds = make_ds()
    idx = [7, 2, 9]
    fast = ds.get_batch(idx)
    slow = default_collate([ds[i] for i in idx])
    assert isinstance(fast, list) and isinstance(slow, list)
    for a, b in zip(fast, slow):
        assert a.dtype == b.dtype and a.tolist() == b.tolist()


def test_tensor_dataset_errors():
    with pytest.raises(ValueError, match="Size mismatch"):
        TensorDataset(nk.zeros(3, 2), nk.zeros(4))
    with pytest.raises(ValueError, match="at least one"):
        TensorDataset()
    with pytest.raises(TypeError, match="expects tensors"):
        TensorDataset(np.zeros(3))
    with pytest.raises(ValueError, match="0-d"):
        TensorDataset(nk.tensor(1.0))
    with pytest.raises(TypeError, match="integer indices"):
        make_ds().get_batch(np.array([0.5]))


# -- base Dataset ------------------------------------------------------------------------------------------------
def test_base_dataset_get_batch_collates_samples():
    ds = Squares(5)
    batch = ds.get_batch(np.array([1, 3]))
    assert batch["x"].tolist() == [[1.0], [3.0]]
    assert batch["y"].tolist() == [1, 9] and batch["y"].dtype == nk.int64
    assert batch["name"] == ["s1", "s3"]
    assert ds.calls == 2


def test_base_dataset_getitem_must_be_overridden():
    with pytest.raises(NotImplementedError):
        Dataset()[0]


def test_adding_datasets_concatenates():
    both = make_ds(3) + make_ds(2)
    assert isinstance(both, ConcatDataset) and len(both) == 5
    assert both[3][1].item() == 0


# -- Subset ------------------------------------------------------------------------------------------------------
def test_subset_maps_indices():
    ds = make_ds()
    sub = Subset(ds, [9, 2, 5])
    assert len(sub) == 3
    assert sub[0][1].item() == 90 and sub[-1][1].item() == 50
    xb, yb = sub.get_batch([2, 0])
    assert yb.tolist() == [50, 90] and xb.tolist() == [[10.0, 11.0], [18.0, 19.0]]


def test_subset_follows_changed_indices_and_falls_back_for_plain_datasets():
    ds = make_ds()
    sub = Subset(ds, [1, 2])
    assert sub.get_batch([0])[1].tolist() == [10]
    sub.indices = [3, 4]
    assert sub.get_batch([0])[1].tolist() == [30]
    plain = Subset([(nk.tensor(1.0), 1), (nk.tensor(2.0), 2)], [1])
    xb, yb = plain.get_batch([0])
    assert xb.tolist() == [2.0] and yb.tolist() == [2]


# -- ConcatDataset -----------------------------------------------------------------------------------------------
def test_concat_dataset_indexing():
    a, b = make_ds(3), make_ds(4)
    c = ConcatDataset([a, b])
    assert len(c) == 7 and c.cumulative_sizes == [3, 7]
    assert [c[i][1].item() for i in range(7)] == [0, 10, 20, 0, 10, 20, 30]
    assert c[-1][1].item() == 30 and c[-7][1].item() == 0
    with pytest.raises(IndexError):
        c[7]
    with pytest.raises(ValueError, match="absolute value"):
        c[-8]
    with pytest.raises(ValueError, match="empty"):
        ConcatDataset([])


def test_concat_get_batch_across_members_keeps_order():
    a = TensorDataset(nk.arange(3).float(), nk.arange(3))
    b = TensorDataset(nk.arange(100, 104).float(), nk.arange(100, 104))
    c = ConcatDataset([a, Subset(b, [3, 2, 1, 0])])
    idx = [4, 0, 6, -1, 2, 3]
    fast = c.get_batch(idx)
    slow = default_collate([c[i] for i in idx])
    for x, y in zip(fast, slow):
        assert x.tolist() == y.tolist() and x.dtype == y.dtype
    assert fast[1].tolist() == [102, 0, 100, 100, 2, 103]
    with pytest.raises(IndexError):
        c.get_batch([7])


def test_concat_get_batch_with_dicts_and_strings():
    c = ConcatDataset([Squares(2), Squares(3)])
    batch = c.get_batch([3, 0, 4])
    assert batch["y"].tolist() == [1, 0, 4]
    assert batch["name"] == ["s1", "s0", "s2"]
    assert batch["x"].tolist() == [[1.0], [0.0], [2.0]]


# -- random_split ------------------------------------------------------------------------------------------------
def test_random_split_lengths_partition_the_dataset():
    nk.manual_seed(0)
    parts = random_split(range(10), [3, 7])
    assert [len(p) for p in parts] == [3, 7]
    values = sorted(p[i] for p in parts for i in range(len(p)))
    assert values == list(range(10))


def test_random_split_fractions_follow_pytorch():
    assert [len(p) for p in random_split(range(10), [0.33, 0.33, 0.34])] == [4, 3, 3]
    assert [len(p) for p in random_split(range(11), [0.5, 0.5])] == [6, 5]
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        assert [len(p) for p in random_split(range(2), [0.1, 0.9])] == [1, 1]
        assert [len(p) for p in random_split(range(1), [0.5, 0.5])] == [1, 0]
    assert any("Length of split at index 1 is 0" in str(w.message) for w in caught)


def test_random_split_is_reproducible():
    nk.manual_seed(3)
    first = [p.indices for p in random_split(range(20), [5, 15])]
    nk.manual_seed(3)
    second = [p.indices for p in random_split(range(20), [5, 15])]
    assert first == second
    g1 = [p.indices for p in random_split(range(20), [0.5, 0.5], generator=Generator(42))]
    nk.rand(3)  # the global stream does not affect an explicit generator
    g2 = [p.indices for p in random_split(range(20), [0.5, 0.5], generator=Generator(42))]
    assert g1 == g2 and g1 != first


def test_random_split_errors():
    with pytest.raises(ValueError, match="Sum of input lengths does not equal"):
        random_split(range(10), [3, 3])
    with pytest.raises(ValueError, match="non-negative"):
        random_split(range(10), [11, -1])


# -- default_collate ---------------------------------------------------------------------------------------------
def test_default_collate_types():
    batch = default_collate([(1, 2.0, True, "a", np.float32(1.5)), (3, 4.0, False, "b", np.float32(2.5))])
    ints, floats, bools, strings, np_scalars = batch
    assert ints.dtype == nk.int64 and ints.tolist() == [1, 3]
    assert floats.dtype == nk.float64 and floats.tolist() == [2.0, 4.0]
    assert bools.dtype == nk.bool and bools.tolist() == [True, False]
    assert strings == ["a", "b"]
    assert np_scalars.dtype == nk.float32 and np_scalars.tolist() == [1.5, 2.5]


def test_default_collate_nested_containers():
    Point = collections.namedtuple("Point", "x y")
    od = default_collate([collections.OrderedDict(a=nk.ones(2), b=[1, 2]), collections.OrderedDict(a=nk.zeros(2),
                                                                                                    b=[3, 4])])
    assert isinstance(od, collections.OrderedDict)
    assert od["a"].tolist() == [[1.0, 1.0], [0.0, 0.0]]
    assert [t.tolist() for t in od["b"]] == [[1, 3], [2, 4]]
    p = default_collate([Point(1, nk.tensor(1.0)), Point(2, nk.tensor(2.0))])
    assert isinstance(p, Point) and p.x.tolist() == [1, 2] and p.y.tolist() == [1.0, 2.0]
    arrays = default_collate([np.ones(2, np.int16), np.zeros(2, np.int16)])
    assert isinstance(arrays, nk.Tensor) and arrays.dtype == nk.int16 and arrays.shape == (2, 2)


def test_default_collate_keeps_autograd():
    a = nk.ones(2, requires_grad=True)
    out = default_collate([a, a * 2])
    out.sum().backward()
    assert a.grad.tolist() == [3.0, 3.0]


def test_default_collate_errors():
    with pytest.raises(TypeError, match="default_collate: batch must contain"):
        default_collate([object()])
    with pytest.raises(RuntimeError, match="stack expects each tensor to be equal size"):
        default_collate([nk.ones(2), nk.ones(3)])
    with pytest.raises(RuntimeError, match="equal size"):
        default_collate([[1, 2], [3]])


def test_default_collate_matches_torch():
    torch = pytest.importorskip("torch")
    from torch.utils.data import default_collate as torch_collate

    samples = [
        {"img": np.full((2, 2), i, np.float32), "label": i, "w": float(i) / 2, "ok": i % 2 == 0, "pair": (i, -i)}
        for i in range(3)
    ]
    ours = default_collate(samples)
    theirs = torch_collate(samples)
    assert list(ours) == list(theirs)
    for key in ("img", "label", "w", "ok"):
        assert str(ours[key].dtype).split(".")[-1] == str(theirs[key].dtype).split(".")[-1]
        np.testing.assert_array_equal(ours[key].numpy(), theirs[key].numpy())
    assert type(ours["pair"]) is type(theirs["pair"]) is list
    for a, b in zip(ours["pair"], theirs["pair"]):
        np.testing.assert_array_equal(a.numpy(), b.numpy())
    assert torch is not None
