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


# -- state_dict: resuming mid-epoch --------------------------------------------------------------------------------
def run_epochs(loader, epochs, stop_after=None):
    """Labels of every batch over ``epochs`` epochs; with ``stop_after=k``, stop after k batches in total."""
    seen = []
    for _ in range(epochs):
        for _, yb in loader:
            seen.append(yb.tolist())
            if stop_after is not None and len(seen) == stop_after:
                return seen
    return seen


@pytest.mark.parametrize("own_generator", [None, "nnkit", "numpy"])
def test_state_dict_resumes_mid_epoch_exactly(tmp_path, own_generator):
    def build():
        kwargs = {}
        if own_generator == "nnkit":
            kwargs["generator"] = Generator(5)
        elif own_generator == "numpy":
            kwargs["generator"] = np.random.default_rng(5)
        return DataLoader(make_ds(23), batch_size=5, shuffle=True, **kwargs)

    nk.manual_seed(0)
    full = run_epochs(build(), 3)
    assert len(full) == 15 and sorted(sum(full[:5], [])) == list(range(23))

    nk.manual_seed(0)
    loader = build()
    first = run_epochs(loader, 3, stop_after=7)  # two batches into the second epoch
    nk.save({"loader": loader.state_dict(), "rng": nk.get_rng_state()}, tmp_path / "ckpt.pt")
    nk.manual_seed(999)  # as a new process: a different global state until the checkpoint is restored
    ckpt = nk.load(tmp_path / "ckpt.pt")
    resumed = build()
    resumed.load_state_dict(ckpt["loader"])
    nk.set_rng_state(ckpt["rng"])
    rest = run_epochs(resumed, 2)  # the rest of epoch 2, then epoch 3
    assert first + rest == full


def test_state_dict_contents_between_and_within_epochs():
    nk.manual_seed(1)
    loader = DataLoader(make_ds(10), batch_size=4, shuffle=True)
    assert loader.state_dict() == {"order": None, "batches_yielded": 0, "generator": None}
    it = iter(loader)
    order = loader.state_dict()["order"].tolist()
    assert sorted(order) == list(range(10)) and loader.state_dict()["batches_yielded"] == 0
    assert next(it)[1].tolist() == order[:4]
    assert loader.state_dict()["batches_yielded"] == 1
    list(it)
    assert loader.state_dict()["order"] is None and loader.state_dict()["batches_yielded"] == 0

    plain = DataLoader(make_ds(10), batch_size=4)
    it = iter(plain)
    next(it)
    state = plain.state_dict()
    assert state == {"order": None, "batches_yielded": 1, "generator": None}
    fresh = DataLoader(make_ds(10), batch_size=4)
    fresh.load_state_dict(state)
    assert labels_per_batch(fresh) == [[4, 5, 6, 7], [8, 9]]
    assert labels_per_batch(fresh) == [[0, 1, 2, 3], [4, 5, 6, 7], [8, 9]]  # later epochs start afresh


def test_state_saved_after_the_last_batch_resumes_an_empty_rest_of_epoch():
    nk.manual_seed(2)
    loader = DataLoader(make_ds(8), batch_size=4, shuffle=True)
    it = iter(loader)
    next(it), next(it)  # both batches yielded, StopIteration not yet reached
    state = loader.state_dict()
    assert state["batches_yielded"] == 2
    resumed = DataLoader(make_ds(8), batch_size=4, shuffle=True)
    resumed.load_state_dict(state)
    assert list(resumed) == []  # the interrupted epoch had nothing left
    assert len(list(resumed)) == 2


def test_load_state_dict_errors():
    loader = DataLoader(make_ds(10), batch_size=4, shuffle=True)
    with pytest.raises(ValueError, match="outside 0..3"):
        loader.load_state_dict({"order": None, "batches_yielded": 4, "generator": None})
    with pytest.raises(ValueError, match="not a permutation of the dataset's 10 indices"):
        loader.load_state_dict({"order": nk.arange(9), "batches_yielded": 1, "generator": None})
    with pytest.raises(ValueError, match="without shuffle=True"):
        loader.load_state_dict({"order": None, "batches_yielded": 1, "generator": None})
    with pytest.raises(ValueError, match="has none"):
        loader.load_state_dict({"order": None, "batches_yielded": 0, "generator": Generator(1).get_state()})
