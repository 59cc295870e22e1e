"""nk.save / nk.load: round trips, the safe (pickle-free) format, atomic writes, and clear errors."""

import collections
import io
import json
import math
import os
import pathlib
import zipfile

import numpy as np
import pytest

import nnkit as nk
from nnkit import nn


def roundtrip(obj, tmp_path, name="ckpt.pt"):
    path = tmp_path / name
    nk.save(obj, path)
    return nk.load(path)


def assert_same(a, b):
    """Equal values and equal types all the way down (tuple vs list, OrderedDict vs dict, dtypes)."""
    assert type(a) is type(b), (type(a), type(b))
    if isinstance(a, nk.Tensor):
        assert a.dtype == b.dtype and a.shape == b.shape
        np.testing.assert_array_equal(a.detach().numpy(), b.detach().numpy())
    elif isinstance(a, np.ndarray):
        assert a.dtype == b.dtype
        np.testing.assert_array_equal(a, b)
    elif isinstance(a, dict):
        assert list(a.keys()) == list(b.keys())
        assert [type(k) for k in a] == [type(k) for k in b]
        for k in a:
            assert_same(a[k], b[k])
    elif isinstance(a, (list, tuple)):
        assert len(a) == len(b)
        for x, y in zip(a, b):
            assert_same(x, y)
    elif isinstance(a, float) and math.isnan(a):
        assert math.isnan(b)
    else:
        assert a == b


# -- round trips -------------------------------------------------------------------------------------------------
def test_nested_structure_roundtrip(tmp_path):
    obj = {
        "od": collections.OrderedDict([("b", 1), ("a", 2)]),
        "int_keys": {0: "zero", 7: [1, 2], -3: None},
        "mixed_keys": {1.5: "f", True: "t", None: "n", (1, "x"): "tuple key", "s": "str"},
        "tuple": (1, 2.5, "three", None, True),
        "list": [[], {}, (), collections.OrderedDict(), [[]]],
        "numbers": [0, -1, 2**70, 1e-300, -0.0, 3.25],
        "special": [float("inf"), float("-inf"), float("nan")],
        "strings": ["", "ünïcödé ✓", "quote\"s and \\ backslash", "{\"t\": \"tensor\"}"],
        "bools": [True, False],
        "none": None,
    }
    loaded = roundtrip(obj, tmp_path)
    assert_same(obj, loaded)
    assert isinstance(loaded["od"], collections.OrderedDict)
    assert type(loaded["int_keys"]) is dict and list(loaded["int_keys"]) == [0, 7, -3]
    assert loaded["numbers"][2] == 2**70
    assert math.copysign(1, loaded["numbers"][4]) == -1.0


@pytest.mark.parametrize("value", [{}, [], (), None, 5, "x", collections.OrderedDict()])
def test_top_level_scalars_and_empty_containers(tmp_path, value):
    assert_same(value, roundtrip(value, tmp_path))


def test_tensors_keep_dtype_shape_and_values(tmp_path):
    tensors = {
        "f32": nk.tensor([[1.5, -2.0], [3.0, 4.25]]),
        "f64": nk.tensor(np.array([1e-310, 1e300, 0.1])),
        "f16": nk.tensor([0.5, 65504.0], dtype=nk.float16),
        "i64": nk.tensor([2**62, -5]),
        "i32": nk.tensor([1, 2], dtype=nk.int32),
        "i16": nk.tensor([-3], dtype=nk.int16),
        "i8": nk.tensor([-128, 127], dtype=nk.int8),
        "u8": nk.tensor([0, 255], dtype=nk.uint8),
        "bool": nk.tensor([True, False, True]),
        "scalar": nk.tensor(3.5),
        "int_scalar": nk.tensor(7),
        "empty": nk.zeros(0, 3),
        "nan": nk.tensor([float("nan"), float("inf")]),
    }
    loaded = roundtrip(tensors, tmp_path)
    assert_same(tensors, loaded)
    assert loaded["scalar"].shape == () and loaded["scalar"].item() == 3.5
    assert loaded["int_scalar"].dtype == nk.int64 and loaded["int_scalar"].item() == 7
    for t in loaded.values():
        assert isinstance(t, nk.Tensor) and t.grad_fn is None


def test_non_contiguous_tensor_roundtrip(tmp_path):
    base = nk.arange(12).reshape(3, 4).float()
    views = [base.t(), base[:, ::2], base[1]]
    loaded = roundtrip(views, tmp_path)
    for v, w in zip(views, loaded):
        np.testing.assert_array_equal(v.numpy(), w.numpy())


def test_loaded_tensors_are_writable_and_independent(tmp_path):
    t = nk.ones(3)
    loaded = roundtrip({"t": t}, tmp_path)["t"]
    loaded.add_(1)  # in-place on a loaded tensor must work
    assert loaded.tolist() == [2.0, 2.0, 2.0] and t.tolist() == [1.0, 1.0, 1.0]


def test_numpy_scalars_become_python_numbers_and_arrays_stay_arrays(tmp_path):
    obj = {"f": np.float32(1.5), "d": np.float64(2.5), "i": np.int64(3), "u": np.uint8(4), "b": np.bool_(True),
           "arr": np.arange(4, dtype=np.int16).reshape(2, 2)}
    loaded = roundtrip(obj, tmp_path)
    assert type(loaded["f"]) is float and loaded["f"] == 1.5
    assert type(loaded["d"]) is float and type(loaded["i"]) is int and type(loaded["u"]) is int
    assert loaded["b"] is True
    assert isinstance(loaded["arr"], np.ndarray) and loaded["arr"].dtype == np.int16
    np.testing.assert_array_equal(loaded["arr"], [[0, 1], [2, 3]])


def test_requires_grad_is_kept_and_saved_data_is_detached(tmp_path):
    w = nk.randn(2, 3, requires_grad=True)
    y = w * 2  # non-leaf: stored detached, loads as a leaf
    p = nn.Parameter(nk.ones(2))
    plain = nk.zeros(2)
    loaded = roundtrip({"w": w, "y": y, "p": p, "plain": plain}, tmp_path)
    assert loaded["w"].requires_grad and loaded["w"].is_leaf
    assert loaded["y"].requires_grad and loaded["y"].grad_fn is None
    np.testing.assert_allclose(loaded["y"].detach().numpy(), 2 * w.detach().numpy())
    assert type(loaded["p"]) is nk.Tensor and loaded["p"].requires_grad
    assert not loaded["plain"].requires_grad


def test_one_tensor_saved_twice_loads_as_one_object(tmp_path):
    t = nk.arange(3)
    loaded = roundtrip({"a": t, "b": [t], "c": nk.arange(3)}, tmp_path)
    assert loaded["a"] is loaded["b"][0]
    assert loaded["c"] is not loaded["a"]
    with zipfile.ZipFile(tmp_path / "ckpt.pt") as z:
        assert sorted(z.namelist()) == ["a0.npy", "a1.npy", "header.npy"]


@pytest.mark.parametrize("dtype", [np.float32, np.float64, np.int64, np.bool_, np.uint8])
@pytest.mark.parametrize("shape", [(), (0,), (3, 0, 2), (1,), (2, 3), (2, 1, 3)])
def test_dtype_and_shape_roundtrip(tmp_path, dtype, shape):
    values = np.random.default_rng(0).normal(scale=100, size=shape).astype(dtype)
    loaded = roundtrip({"t": nk.from_numpy(values)}, tmp_path)["t"]
    assert loaded.shape == shape and loaded.numpy().dtype == dtype
    np.testing.assert_array_equal(loaded.numpy(), values)


def test_tensors_sharing_memory_load_sharing_memory(tmp_path):
    array = np.arange(24, dtype=np.float32).reshape(4, 6)
    base = nk.from_numpy(array)
    views = {"row": base[1], "t": base.t(), "flipped": nk.from_numpy(array[:, ::-1]), "cols": base[:, 1:5:2],
             "base": base, "other": nk.ones(3)}
    loaded = roundtrip(views, tmp_path)
    assert_same(views, loaded)
    for name in ("row", "t", "flipped", "cols"):
        assert np.shares_memory(loaded[name].numpy(), loaded["base"].numpy()), name
    assert not np.shares_memory(loaded["other"].numpy(), loaded["base"].numpy())
    loaded["base"].mul_(-1)  # writes through to every view, as in the saved object
    assert loaded["row"].tolist() == (-base[1]).tolist() and loaded["flipped"][0, 0].item() == -5.0
    with zipfile.ZipFile(tmp_path / "ckpt.pt") as z:
        assert len(z.namelist()) == 3  # header, one span for base and its views, the unrelated tensor


def test_views_alone_save_only_the_bytes_they_cover(tmp_path):
    big = nk.zeros(1000, 100)
    small = [big[3, :4], big[5, 2:6]]  # two views of one 400 kB tensor
    nk.save(small, tmp_path / "v.pt")
    assert (tmp_path / "v.pt").stat().st_size < 3000
    loaded = nk.load(tmp_path / "v.pt")
    loaded[0].fill_(1.0)
    assert loaded[1].tolist() == [0.0] * 4  # disjoint in the original, disjoint after loading
    shared = nk.load(tmp_path / "v.pt")
    assert np.shares_memory(shared[0].numpy(), shared[1].numpy()) is False


def test_state_dict_metadata_roundtrip(tmp_path):
    model = nn.Sequential(nn.Linear(2, 2), nn.BatchNorm1d(2))
    sd = model.state_dict()
    loaded = roundtrip(sd, tmp_path)
    assert loaded._metadata == sd._metadata and loaded._metadata["1"]["version"] == 2
    model.load_state_dict(loaded)


def _random_object(rng, depth=0):
    """A random nested object of everything nk.save accepts."""
    leaves = [
        lambda: None, lambda: bool(rng.integers(2)), lambda: int(rng.integers(-(2**40), 2**40)),
        lambda: float(rng.normal()), lambda: "s" * int(rng.integers(4)), lambda: np.float32(rng.normal()),
        lambda: nk.from_numpy(rng.normal(size=tuple(rng.integers(0, 3, size=int(rng.integers(3)))))),
        lambda: nk.from_numpy(rng.integers(0, 255, size=(2,), dtype=np.uint8)),
    ]
    if depth > 3 or rng.random() < 0.4:
        return leaves[int(rng.integers(len(leaves)))]()
    size = int(rng.integers(4))
    kind = int(rng.integers(4))
    if kind == 0:
        return [_random_object(rng, depth + 1) for _ in range(size)]
    if kind == 1:
        return tuple(_random_object(rng, depth + 1) for _ in range(size))
    keys = [int(rng.integers(10)), f"k{int(rng.integers(10))}", None, (1, "a")][:size]
    made = {k: _random_object(rng, depth + 1) for k in keys}
    return collections.OrderedDict(made) if kind == 2 else made


def _numpy_scalars_to_python(obj):
    if isinstance(obj, np.generic):
        return obj.item()
    if isinstance(obj, dict):
        return type(obj)((k, _numpy_scalars_to_python(v)) for k, v in obj.items())
    if isinstance(obj, (list, tuple)):
        return type(obj)(_numpy_scalars_to_python(v) for v in obj)
    return obj


def test_anything_that_saves_loads_back_equal(tmp_path):
    rng = np.random.default_rng(1)
    for i in range(40):
        obj = _random_object(rng)
        assert_same(_numpy_scalars_to_python(obj), roundtrip(obj, tmp_path, f"r{i}.pt"))


class TwoLayer(nn.Module):
    """A hand-made module with its own Parameters and an integer buffer."""

    def __init__(self):
        super().__init__()
        self.w1 = nn.Parameter(nk.randn(4, 3))
        self.b1 = nn.Parameter(nk.zeros(4))
        self.w2 = nn.Parameter(nk.randn(2, 4))
        self.register_buffer("steps", nk.tensor(0))

    def forward(self, x):
        return ((x @ self.w1.t() + self.b1).relu()) @ self.w2.t()


def _sequential():
    return nn.Sequential(nn.Linear(3, 4), nn.BatchNorm1d(4), nn.ReLU(), nn.Linear(4, 2))


OPTIMIZERS = {
    "sgd_momentum": (nk.optim.SGD, {"lr": 0.1, "momentum": 0.9}),
    "sgd_nesterov_wd": (nk.optim.SGD, {"lr": 0.1, "momentum": 0.9, "nesterov": True, "weight_decay": 1e-2}),
    "adam": (nk.optim.Adam, {"lr": 0.01}),
    "adam_amsgrad_wd": (nk.optim.Adam, {"lr": 0.01, "weight_decay": 1e-2, "amsgrad": True}),
}


def _train_step(model, opt, x):
    opt.zero_grad()
    model(x).square().mean().backward()
    opt.step()


@pytest.mark.parametrize("make_model", [_sequential, TwoLayer], ids=["library_layers", "handmade_module"])
@pytest.mark.parametrize("opt_name", sorted(OPTIMIZERS))
def test_model_and_optimizer_state_dicts_roundtrip_and_resume_exactly(tmp_path, opt_name, make_model):
    opt_class, kwargs = OPTIMIZERS[opt_name]
    nk.manual_seed(0)
    model = make_model()
    opt = opt_class(model.parameters(), **kwargs)
    x = nk.randn(5, 3)
    for _ in range(2):
        _train_step(model, opt, x)
    ckpt = {"model": model.state_dict(), "optimizer": opt.state_dict(), "epoch": 2, "rng": nk.get_rng_state()}
    nk.save(ckpt, tmp_path / "ckpt.pt")
    loaded = nk.load(tmp_path / "ckpt.pt")

    # Exactly what was saved: keys, order, types, dtypes and values (momentum buffers, exp_avg, step...).
    assert_same(ckpt, loaded)
    assert isinstance(loaded["model"], collections.OrderedDict)
    assert loaded["model"]._metadata == model.state_dict()._metadata  # module versions, as PyTorch keeps them
    assert list(loaded["optimizer"]["state"]) == list(range(len(list(model.parameters()))))
    state_names = {name for s in loaded["optimizer"]["state"].values() for name in s}
    expected = {"momentum_buffer"} if opt_class is nk.optim.SGD else {"step", "exp_avg", "exp_avg_sq"}
    assert expected <= state_names

    nk.manual_seed(123)  # a fresh model and optimizer, initialised differently
    resumed = make_model()
    resumed.load_state_dict(loaded["model"])
    resumed_opt = opt_class(resumed.parameters(), **kwargs)
    resumed_opt.load_state_dict(loaded["optimizer"])
    for _ in range(3):
        _train_step(model, opt, x)
        _train_step(resumed, resumed_opt, x)
    for (name, a), (_, b) in zip(model.state_dict().items(), resumed.state_dict().items()):
        np.testing.assert_array_equal(a.numpy(), b.numpy(), err_msg=name)
    assert_same(opt.state_dict(), resumed_opt.state_dict())


def test_rng_state_roundtrip_restores_the_random_stream(tmp_path):
    nk.manual_seed(7)
    nk.rand(3)
    nk.save({"rng": nk.get_rng_state()}, tmp_path / "rng.pt")
    expected = nk.rand(5).tolist()
    nk.rand(10)
    state = nk.load(tmp_path / "rng.pt")["rng"]
    assert state.dtype == nk.uint8
    nk.set_rng_state(state)
    assert nk.rand(5).tolist() == expected


def test_file_objects_and_pathlike(tmp_path):
    buffer = io.BytesIO()
    nk.save({"x": nk.ones(2)}, buffer)
    buffer.seek(0)
    assert nk.load(buffer)["x"].tolist() == [1.0, 1.0]
    path = pathlib.Path(tmp_path) / "p.ckpt"
    nk.save([1], path)
    assert nk.load(str(path)) == [1]


def test_torch_compatibility_keywords(tmp_path):
    path = tmp_path / "c.pt"
    nk.save({"a": 1}, path, pickle_protocol=2)
    assert nk.load(path, map_location="cpu", weights_only=True) == {"a": 1}
    assert nk.load(path, map_location=nk.device("cpu"), weights_only=False) == {"a": 1}
    with pytest.raises(RuntimeError, match="CPU only"):
        nk.load(path, map_location="cuda:0")
    with pytest.raises(TypeError, match="map_location"):
        nk.load(path, map_location={"cuda:0": "cpu"})
    with pytest.raises(TypeError, match="unexpected keyword"):
        nk.load(path, bogus=1)


# -- the format --------------------------------------------------------------------------------------------------
def test_file_is_a_plain_zip_of_npy_without_pickle(tmp_path):
    path = tmp_path / "model.pt"
    nk.save({"w": nk.ones(2, 2), "meta": {"epoch": 1}}, path)
    assert path.exists() and not (tmp_path / "model.pt.npz").exists()  # the exact name, no suffix added
    assert zipfile.is_zipfile(path)
    with np.load(path, allow_pickle=False) as archive:
        header = json.loads(archive["header"].tobytes().decode())
        assert header["format"] == "nnkit.save" and header["version"] == 1
        np.testing.assert_array_equal(archive["a0"], np.ones((2, 2), np.float32))
        for name in archive.files:
            assert archive[name].dtype != object
    with zipfile.ZipFile(path) as z:
        for name in z.namelist():
            assert name.endswith(".npy")
            assert b"\x80\x04\x95" not in z.read(name)  # no pickle protocol-4 frame anywhere


# -- rejecting what cannot be stored -----------------------------------------------------------------------------
class Thing:
    pass


@pytest.mark.parametrize(
    "obj, where, what",
    [
        ({"state": {"fn": len}}, "obj['state']['fn']", "builtin_function_or_method"),
        ({"a": [1, {2, 3}]}, "obj['a'][1]", "set"),
        ([Thing()], "obj[0]", "Thing"),
        ({0: {"step": 1 + 2j}}, "obj[0]['step']", "complex"),
        ({"b": b"bytes"}, "obj['b']", "bytes"),
        ({"arr": np.array([object()])}, "obj['arr']", "object"),
        ({"lam": lambda x: x}, "obj['lam']", "function"),
    ],
)
def test_unstorable_objects_are_rejected_at_save_time(tmp_path, obj, where, what):
    path = tmp_path / "bad.pt"
    with pytest.raises(TypeError) as info:
        nk.save(obj, path)
    assert where in str(info.value) and what in str(info.value)
    assert list(tmp_path.iterdir()) == []  # nothing written, no temp file


def test_rejected_keys_namedtuples_subclasses_and_cycles(tmp_path):
    point = collections.namedtuple("Point", "x y")
    with pytest.raises(TypeError, match=r"Point.*_asdict"):
        nk.save({"p": point(1, 2)}, tmp_path / "a")
    with pytest.raises(TypeError, match="dict key of type Tensor"):
        nk.save({nk.ones(1): 1}, tmp_path / "a")
    with pytest.raises(TypeError, match="Counter"):
        nk.save({"c": collections.Counter("aab")}, tmp_path / "a")
    loop = []
    loop.append(loop)
    with pytest.raises(TypeError, match=r"obj\[0\]\[0\] contains itself"):
        nk.save([loop], tmp_path / "a")
    assert list(tmp_path.iterdir()) == []


def test_rejection_leaves_the_previous_checkpoint(tmp_path):
    path = tmp_path / "ckpt.pt"
    nk.save({"epoch": 1}, path)
    with pytest.raises(TypeError, match=r"obj\['fn'\]"):
        nk.save({"epoch": 2, "fn": print}, path)
    assert nk.load(path) == {"epoch": 1}


# -- atomic writes -----------------------------------------------------------------------------------------------
def test_crash_mid_save_keeps_the_old_checkpoint_and_leaves_no_temp_file(tmp_path, monkeypatch):
    path = tmp_path / "ckpt.pt"
    nk.save({"w": nk.ones(1000), "epoch": 1}, path)
    before = path.read_bytes()

    real_write_array = np.lib.format.write_array
    calls = []

    def failing_write_array(fp, array, *args, **kwargs):
        calls.append(array.shape)
        if len(calls) == 2:  # header written, the first tensor half-written: then the "crash"
            fp.write(b"\x00" * 100)
            raise OSError("simulated disk failure mid-save")
        return real_write_array(fp, array, *args, **kwargs)

    monkeypatch.setattr(np.lib.format, "write_array", failing_write_array)
    with pytest.raises(OSError, match="simulated disk failure"):
        nk.save({"w": nk.zeros(1000), "epoch": 2}, path)
    monkeypatch.undo()

    assert len(calls) == 2
    assert path.read_bytes() == before
    assert [p.name for p in tmp_path.iterdir()] == ["ckpt.pt"]
    loaded = nk.load(path)
    assert loaded["epoch"] == 1 and loaded["w"].tolist() == [1.0] * 1000


def test_crash_before_rename_keeps_the_old_checkpoint(tmp_path, monkeypatch):
    path = tmp_path / "ckpt.pt"
    nk.save([1], path)

    def failing_replace(src, dst):
        raise OSError("simulated crash before rename")

    monkeypatch.setattr(os, "replace", failing_replace)
    with pytest.raises(OSError, match="before rename"):
        nk.save([2], path)
    monkeypatch.undo()
    assert nk.load(path) == [1]
    assert [p.name for p in tmp_path.iterdir()] == ["ckpt.pt"]


def test_save_syncs_to_disk_before_renaming(tmp_path, monkeypatch):
    events = []
    real_fsync, real_replace = os.fsync, os.replace
    monkeypatch.setattr(os, "fsync", lambda fd: (events.append("fsync"), real_fsync(fd))[1])
    monkeypatch.setattr(os, "replace", lambda a, b: (events.append("replace"), real_replace(a, b))[1])
    nk.save({"a": 1}, tmp_path / "c.pt")
    assert events == ["fsync", "replace", "fsync"]  # the file, the rename, then the directory entry


def test_overwrite_replaces_the_file(tmp_path):
    path = tmp_path / "c.pt"
    nk.save({"v": 1}, path)
    nk.save({"v": 2}, path)
    assert nk.load(path) == {"v": 2}
    assert [p.name for p in tmp_path.iterdir()] == ["c.pt"]


# -- corrupt and foreign files -----------------------------------------------------------------------------------
@pytest.fixture
def checkpoint(tmp_path):
    path = tmp_path / "good.pt"
    nk.save({"w": nk.arange(2000).float(), "meta": {"epoch": 3}}, path)
    return path


def _load_error(path):
    with pytest.raises(RuntimeError) as info:
        nk.load(path)
    message = str(info.value)
    assert str(path) in message and "not a valid nnkit checkpoint" in message
    return message


@pytest.mark.parametrize("keep", [0.5, 0.9, 0.99])
def test_truncated_file_names_the_file(checkpoint, keep):
    data = checkpoint.read_bytes()
    checkpoint.write_bytes(data[: int(len(data) * keep)])
    _load_error(checkpoint)


def test_corrupted_array_bytes_are_detected(checkpoint):
    data = bytearray(checkpoint.read_bytes())
    with zipfile.ZipFile(checkpoint) as z:
        info = z.getinfo("a0.npy")
    position = info.header_offset + 30 + len(info.filename) + info.file_size // 2
    data[position] ^= 0xFF
    checkpoint.write_bytes(bytes(data))
    assert "CRC" in _load_error(checkpoint)


@pytest.mark.parametrize(
    "content",
    [b"", b"garbage that is not a zip file at all", b"\x80\x04\x95\x00\x00\x00"],
    ids=["empty", "garbage", "pickle"],
)
def test_foreign_bytes_are_rejected(tmp_path, content):
    path = tmp_path / "x.pt"
    path.write_bytes(content)
    _load_error(path)


def test_other_npy_npz_files_are_rejected(tmp_path):
    npy = tmp_path / "a.npy"
    np.save(npy, np.arange(3))
    assert "single .npy array" in _load_error(npy)
    npz = tmp_path / "b.npz"
    np.savez(npz, x=np.arange(3))
    assert "no header" in _load_error(npz)


def test_random_bytes_are_rejected(tmp_path):
    path = tmp_path / "random.pt"
    for seed in range(5):
        path.write_bytes(np.random.default_rng(seed).bytes(4096))
        _load_error(path)


def test_wrong_magic_is_rejected(checkpoint):
    data = bytearray(checkpoint.read_bytes())
    assert data[:4] == b"PK\x03\x04"
    data[:4] = b"XX\x03\x04"
    checkpoint.write_bytes(bytes(data))
    _load_error(checkpoint)


class _Trap:
    """Unpickling this would create the file ``marker``: proof that code ran."""

    def __init__(self, marker):
        self.marker = marker

    def __reduce__(self):
        return (pathlib.Path.touch, (pathlib.Path(self.marker),))


def test_pickled_object_arrays_are_refused_without_running_code(tmp_path):
    marker = tmp_path / "pwned"
    trap = np.array([_Trap(str(marker))], dtype=object)
    for root in ({"t": "tensor", "id": 0, "key": "a0", "dtype": "object"},
                 {"t": "ndarray", "key": "a0", "dtype": "object"}):
        path = _with_header(tmp_path, {"format": "nnkit.save", "version": 1, "root": root}, a0=trap)
        assert "pickle" in _load_error(path).lower()
        assert not marker.exists()
    header = np.array([{"format": "nnkit.save"}], dtype=object)  # even the header itself pickled
    with open(tmp_path / "h2.pt", "wb") as f:
        np.savez(f, header=header)
    _load_error(tmp_path / "h2.pt")


def test_shared_storage_out_of_bounds_is_rejected(tmp_path):
    node = {"t": "tensor", "id": 0, "dtype": "float32", "storage": "a0", "offset": 8, "shape": [4],
            "strides": [4]}
    path = _with_header(tmp_path, {"format": "nnkit.save", "version": 1, "root": node}, a0=np.zeros(16, np.uint8))
    assert "incompatible" in _load_error(path)
    node.update(offset=0, dtype="object")
    _load_error(_with_header(tmp_path, {"format": "nnkit.save", "version": 1, "root": node},
                             a0=np.zeros(16, np.uint8)))


def _with_header(tmp_path, header, **arrays):
    path = tmp_path / "h.pt"
    with open(path, "wb") as f:  # a file object, so np.savez adds no ".npz" suffix
        np.savez(f, header=np.frombuffer(json.dumps(header).encode(), np.uint8), **arrays)
    return path


def test_bad_headers_are_rejected(tmp_path):
    assert "version 99" in _load_error(_with_header(tmp_path, {"format": "nnkit.save", "version": 99, "root": 1}))
    assert "missing" in _load_error(_with_header(
        tmp_path, {"format": "nnkit.save", "version": 1, "root": {"t": "tensor", "key": "a0", "dtype": "float32"}}
    ))
    assert "header says" in _load_error(_with_header(
        tmp_path, {"format": "nnkit.save", "version": 1, "root": {"t": "tensor", "key": "a0", "dtype": "int8"}},
        a0=np.zeros(2, np.float32),
    ))
    assert "unknown entry" in _load_error(_with_header(
        tmp_path, {"format": "nnkit.save", "version": 1, "root": {"t": "pickle", "data": "..."}}
    ))
    assert "not an nnkit.save header" in _load_error(_with_header(tmp_path, {"format": "other"}))


def test_files_whose_tensors_are_named_by_key_still_load(tmp_path):
    """The first version-1 writer named tensors and refs by their member key instead of an id."""
    tensor = {"t": "tensor", "key": "a0", "dtype": "float32", "requires_grad": False}
    root = {"t": "dict", "items": [["a", tensor], ["b", {"t": "ref", "key": "a0"}]]}
    loaded = nk.load(_with_header(tmp_path, {"format": "nnkit.save", "version": 1, "root": root},
                                  a0=np.ones(2, np.float32)))
    assert loaded["a"] is loaded["b"] and loaded["a"].tolist() == [1.0, 1.0]


def test_missing_file_raises_file_not_found(tmp_path):
    with pytest.raises(FileNotFoundError):
        nk.load(tmp_path / "nope.pt")
