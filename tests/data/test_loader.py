"""DataLoader: batching, drop_last, len, shuffling reproducibility, the per-batch fast path, collate_fn."""

import numpy as np
import pytest

import nnkit as nk
from nnkit.data import DataLoader, Dataset, Subset, TensorDataset
from nnkit.random import Generator


def make_ds(n=10):
    return TensorDataset(nk.arange(n).float().reshape(n, 1), nk.arange(n))


def labels_per_batch(loader):
    return [yb.tolist() for _, yb in loader]


class CountingTensorDataset(TensorDataset):
    def __init__(self, *tensors):
        super().__init__(*tensors)
        self.item_calls = 0
        self.batch_calls = 0

    def __getitem__(self, index):
        self.item_calls += 1
        return super().__getitem__(index)

    def get_batch(self, indices):
        self.batch_calls += 1
        return super().get_batch(indices)


def test_sequential_batches_and_len():
    loader = DataLoader(make_ds(10), batch_size=4)
    assert len(loader) == 3
    assert labels_per_batch(loader) == [[0, 1, 2, 3], [4, 5, 6, 7], [8, 9]]
    xb, yb = next(iter(loader))
    assert xb.shape == (4, 1) and xb.dtype == nk.float32 and yb.dtype == nk.int64


def test_drop_last():
    loader = DataLoader(make_ds(10), batch_size=4, drop_last=True)
    assert len(loader) == 2
    assert labels_per_batch(loader) == [[0, 1, 2, 3], [4, 5, 6, 7]]
    assert len(DataLoader(make_ds(8), batch_size=4, drop_last=True)) == 2
    assert len(DataLoader(make_ds(3), batch_size=4, drop_last=True)) == 0
    assert list(DataLoader(make_ds(3), batch_size=4, drop_last=True)) == []


def test_default_batch_size_is_one():
    loader = DataLoader(make_ds(3))
    assert len(loader) == 3
    assert labels_per_batch(loader) == [[0], [1], [2]]


def test_shuffle_visits_every_sample_once_per_epoch_and_reshuffles():
    nk.manual_seed(0)
    loader = DataLoader(make_ds(50), batch_size=8, shuffle=True)
    epochs = [sum(labels_per_batch(loader), []) for _ in range(3)]
    for order in epochs:
        assert sorted(order) == list(range(50))
    assert epochs[0] != epochs[1] != epochs[2]
    assert epochs[0] != list(range(50))


def test_shuffle_is_reproducible_under_manual_seed():
    def run():
        nk.manual_seed(1234)
        loader = DataLoader(make_ds(20), batch_size=6, shuffle=True)
        return [labels_per_batch(loader) for _ in range(2)]

    assert run() == run()


def test_shuffle_draws_from_the_global_generator():
    nk.manual_seed(5)
    order = sum(labels_per_batch(DataLoader(make_ds(20), batch_size=20, shuffle=True)), [])
    nk.manual_seed(5)
    assert order == nk.randperm(20).tolist()  # the same draw: one permutation of the dataset per epoch


def test_generator_and_seed_give_independent_reproducible_streams():
    orders = []
    for _ in range(2):
        nk.manual_seed(0)
        nk.rand(7)  # global draws don't matter with an own generator
        loader = DataLoader(make_ds(20), batch_size=20, shuffle=True, generator=Generator(9))
        orders.append([labels_per_batch(loader) for _ in range(2)])
    assert orders[0] == orders[1]
    assert orders[0][0] != orders[0][1]

    seeded = DataLoader(make_ds(20), batch_size=20, shuffle=True, seed=9)
    assert [labels_per_batch(seeded) for _ in range(2)] == orders[0]
    numpy_gen = DataLoader(make_ds(20), batch_size=20, shuffle=True, generator=np.random.default_rng(0))
    assert sorted(labels_per_batch(numpy_gen)[0]) == list(range(20))


def test_order_is_drawn_when_iteration_starts():
    nk.manual_seed(2)
    loader = DataLoader(make_ds(10), batch_size=10, shuffle=True)
    it = iter(loader)
    nk.manual_seed(2)
    expected = nk.randperm(10).tolist()
    nk.manual_seed(99)  # reseeding after iter() must not change this epoch's order
    assert next(it)[1].tolist() == expected


def test_array_datasets_are_batched_without_per_sample_calls():
    ds = CountingTensorDataset(nk.randn(100, 3), nk.arange(100))
    batches = list(DataLoader(ds, batch_size=32, shuffle=True))
    assert ds.item_calls == 0 and ds.batch_calls == 4
    assert [b[0].shape[0] for b in batches] == [32, 32, 32, 4]
    sub_loader = DataLoader(Subset(ds, list(range(0, 100, 2))), batch_size=10)
    assert labels_per_batch(sub_loader)[1] == list(range(20, 40, 2))
    assert ds.item_calls == 0


def test_collate_fn_receives_the_samples():
    ds = CountingTensorDataset(nk.arange(6).float(), nk.arange(6))
    seen = []

    def collate(samples):
        seen.append(len(samples))
        return [int(y) for _, y in samples]

    loader = DataLoader(ds, batch_size=4, collate_fn=collate)
    assert list(loader) == [[0, 1, 2, 3], [4, 5]]
    assert seen == [4, 2] and ds.item_calls == 6


def test_plain_sequences_and_map_datasets_work():
    data = [(np.float32(i), {"id": i}) for i in range(5)]
    batches = list(DataLoader(data, batch_size=2))
    assert len(batches) == 3
    x, meta = batches[0]
    assert x.tolist() == [0.0, 1.0] and meta["id"].tolist() == [0, 1]

    class Strings(Dataset):
        def __len__(self):
            return 3

        def __getitem__(self, i):
            return "abc"[i]

    assert list(DataLoader(Strings(), batch_size=2)) == [["a", "b"], ["c"]]


def test_argument_errors():
    with pytest.raises(ValueError, match="batch_size should be a positive integer"):
        DataLoader(make_ds(), batch_size=0)
    with pytest.raises(ValueError, match="batch_size"):
        DataLoader(make_ds(), batch_size=2.5)
    with pytest.raises(ValueError, match="either generator= or seed="):
        DataLoader(make_ds(), generator=Generator(1), seed=1)
    with pytest.raises(TypeError, match="generator must be"):
        DataLoader(make_ds(), generator=1)
    with pytest.raises(TypeError, match="collate_fn must be callable"):
        DataLoader(make_ds(), collate_fn=3)
    with pytest.raises(TypeError, match="map-style dataset"):
        DataLoader(iter([1, 2]))


def test_torch_compatible_keywords_are_accepted():
    loader = DataLoader(make_ds(4), batch_size=2, num_workers=2, pin_memory=True)
    assert labels_per_batch(loader) == [[0, 1], [2, 3]]
    assert loader.dataset is not None and loader.batch_size == 2 and loader.drop_last is False
