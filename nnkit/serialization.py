"""Checkpoints: ``nnkit.save(obj, path)`` and ``nnkit.load(path)``, in a format that never runs code on load.

A checkpoint is one zip file as ``np.savez`` writes it: each tensor (or numpy array) is a ``.npy`` member
``a0``, ``a1``, ..., and the member ``header`` (uint8 bytes of UTF-8 JSON) describes the object around them:
the nesting of dicts (with their key types: str, int, float, bool, None, tuples of those), OrderedDicts
(with a ``state_dict()``'s ``_metadata``), lists and tuples, the Python numbers, strings, bools and Nones, and
for each tensor its member, dtype and ``requires_grad``. Loading reads it with ``np.load(...,
allow_pickle=False)``, so no pickle is ever involved.

Tensors that share memory (a tensor and its views, or views of one tensor) are saved as one byte span holding
all of them, each recorded by its offset, shape and strides in bytes, and load sharing memory again, as in
PyTorch; the span covers only the saved tensors, not the rest of their base. A tensor saved twice loads as one
object.

Saving writes a temporary file beside the target, flushes and fsyncs it, then renames it over the target
(``os.replace``): a crash mid-save leaves the previous checkpoint intact. Anything the format cannot hold is
rejected when saving, with a TypeError naming where it sits inside the object, so a file that saved loads.

The header format (version 1), as JSON values::

    null | true | false | <int> | <float> | "<str>"          Python None, bools, numbers, strings
    {"t": "list" | "tuple", "items": [v, ...]}
    {"t": "float", "v": "nan" | "inf" | "-inf"}
    {"t": "dict" | "odict", "items": [[k, v], ...]}          keys are encoded like values; an odict may
                                                              carry "metadata": v (its ``_metadata``)
    {"t": "ndarray", "key": "a0", "dtype": "int16"}
    {"t": "tensor", "id": 0, "key": "a0", "dtype": "float32", "requires_grad": false}
    {"t": "tensor", "id": 1, "storage": "a1", "offset": 8, "shape": [2, 3], "strides": [4, 8],
     "dtype": "float32", "requires_grad": false}             a tensor sharing the uint8 span a1 with others
    {"t": "ref", "id": 0}                                     the tensor object with "id": 0 again

(Files from before tensors had an "id" name them by "key", in tensors and refs alike; they load the same.)
"""

import collections
import contextlib
import json
import math
import os
import secrets

import numpy as np

from nnkit import dtypes
from nnkit.creation import _check_device
from nnkit.tensor import Tensor, _make

__all__ = ["save", "load", "atomic_write"]

_FORMAT = "nnkit.save"
_VERSION = 1
_HEADER = "header"


# -- atomic write ------------------------------------------------------------------------------------------------
def _create_temp(directory, name):
    while True:
        tmp = os.path.join(directory, f".{name}.{secrets.token_hex(4)}.tmp")
        try:
            # 0o666 filtered by the umask: the file gets the permissions a plain open() would give it.
            return os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_BINARY", 0), 0o666), tmp
        except FileExistsError:
            continue


def _fsync_directory(directory):
    try:
        fd = os.open(directory, os.O_RDONLY)
    except OSError:
        return  # e.g. Windows, where directories cannot be opened
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


@contextlib.contextmanager
def atomic_write(path):
    """Open a temporary file beside ``path`` for binary writing; on success it atomically replaces ``path``.

    The file is flushed and fsynced before ``os.replace``. If the block raises, the temporary file is removed
    and ``path`` is untouched.

    Example::

        with atomic_write("weights.bin") as f:
            f.write(data)
    """
    path = os.fspath(path)
    directory = os.path.dirname(os.path.abspath(path))
    fd, tmp = _create_temp(directory, os.path.basename(path))
    try:
        with os.fdopen(fd, "wb") as f:
            yield f
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise
    _fsync_directory(directory)


# -- encoding ----------------------------------------------------------------------------------------------------
def _key_repr(key):
    return f"[{key!r}]"


def _memory_root(array):
    """The ndarray at the bottom of ``array``'s chain of numpy views (it holds the memory, or wraps a buffer)."""
    while isinstance(array.base, np.ndarray):
        array = array.base
    return array


def _byte_extent(array):
    """``(first, end)`` addresses of the bytes ``array`` covers (strides may be negative)."""
    first = end = array.ctypes.data
    for size, stride in zip(array.shape, array.strides):
        if stride < 0:
            first += (size - 1) * stride
        else:
            end += (size - 1) * stride
    return first, end + array.itemsize


class _Encoder:
    def __init__(self):
        self.arrays = {}
        self.tensor_nodes = {}  # id(tensor) -> (node, tensor): a tensor saved twice loads as one object
        self.active = set()

    def encode(self, obj, path):
        if obj is None or isinstance(obj, (bool, str)):
            return obj
        if isinstance(obj, np.bool_):
            return bool(obj)
        if isinstance(obj, (int, np.integer)):
            return int(obj)
        if isinstance(obj, (float, np.floating)):
            value = float(obj)
            if math.isfinite(value):
                return value
            return {"t": "float", "v": repr(value)}
        if isinstance(obj, Tensor):
            return self.tensor(obj)
        if isinstance(obj, np.ndarray):
            return self.ndarray(obj, path)
        if isinstance(obj, (list, tuple, dict)):
            if id(obj) in self.active:
                raise TypeError(f"nnkit.save: {path} contains itself (a circular reference); it cannot be saved")
            self.active.add(id(obj))
            try:
                return self.container(obj, path)
            finally:
                self.active.discard(id(obj))
        raise TypeError(
            f"nnkit.save cannot store {path}: an object of type {type(obj).__module__}.{type(obj).__qualname__}. "
            "Checkpoints hold only tensors, numpy arrays, numbers, strings, bools, None, and dicts, lists and "
            "tuples of them (the format never runs code on load); convert it or leave it out"
        )

    def container(self, obj, path):
        if isinstance(obj, dict):
            kind = "odict" if isinstance(obj, collections.OrderedDict) else "dict"
            if type(obj) not in (dict, collections.OrderedDict, collections.defaultdict):
                raise TypeError(
                    f"nnkit.save cannot store {path}: a {type(obj).__qualname__} (only dict and OrderedDict are "
                    "supported; convert it with dict(...))"
                )
            items = []
            for k, v in obj.items():
                items.append([self.key(k, path), self.encode(v, path + _key_repr(k))])
            node = {"t": kind, "items": items}
            metadata = getattr(obj, "_metadata", None) if kind == "odict" else None
            if metadata is not None:  # a state_dict()'s module versions, as PyTorch keeps them
                node["metadata"] = self.encode(metadata, path + "._metadata")
            return node
        if isinstance(obj, tuple) and type(obj) is not tuple:
            raise TypeError(
                f"nnkit.save cannot store {path}: a {type(obj).__qualname__} (a tuple subclass such as a namedtuple); "
                "convert it with tuple(...) or ._asdict()"
            )
        if isinstance(obj, list) and type(obj) is not list:
            raise TypeError(f"nnkit.save cannot store {path}: a {type(obj).__qualname__}; convert it with list(...)")
        kind = "tuple" if isinstance(obj, tuple) else "list"
        return {"t": kind, "items": [self.encode(v, f"{path}[{i}]") for i, v in enumerate(obj)]}

    def key(self, key, path):
        if key is None or isinstance(key, (bool, str, int, float, np.integer, np.floating, np.bool_)):
            return self.encode(key, path)
        if isinstance(key, tuple) and type(key) is tuple:
            return {"t": "tuple", "items": [self.key(k, path) for k in key]}
        raise TypeError(
            f"nnkit.save cannot store a dict key of type {type(key).__qualname__} ({key!r}) in {path}: keys must "
            "be strings, numbers, bools, None or tuples of them"
        )

    def tensor(self, t):
        known = self.tensor_nodes.get(id(t))
        if known is not None:
            return {"t": "ref", "id": known[0]["id"]}
        # The array members are assigned in store_tensors(), once every tensor sharing memory is known.
        node = {"t": "tensor", "id": len(self.tensor_nodes), "dtype": t._data.dtype.name,
                "requires_grad": bool(t._requires_grad)}
        self.tensor_nodes[id(t)] = (node, t)
        return node

    def store_tensors(self):
        """Give each tensor its array member: its own, or one byte span shared by the tensors sharing memory."""
        groups = collections.defaultdict(list)
        for node, t in self.tensor_nodes.values():
            root = _memory_root(t._data)
            shareable = t._data.size and (root.flags.c_contiguous or root.flags.f_contiguous)
            groups[id(root) if shareable else ("alone", node["id"])].append((node, t._data, root))
        for members in groups.values():
            if len(members) == 1:
                node, array, _ = members[0]
                node["key"] = self.add_array(array)
                continue
            root = members[0][2]
            root_bytes = root.ravel(order="K").view(np.uint8)
            extents = [_byte_extent(array) for _, array, _ in members]
            first, end = min(e[0] for e in extents), max(e[1] for e in extents)
            start = first - root.ctypes.data
            name = self.add_array(root_bytes[start:start + end - first])
            for node, array, _ in members:
                node.update(storage=name, offset=array.ctypes.data - first, shape=list(array.shape),
                            strides=list(array.strides))

    def ndarray(self, array, path):
        try:
            dtypes.from_numpy(array.dtype)
        except TypeError:
            raise TypeError(
                f"nnkit.save cannot store {path}: a numpy array of dtype {array.dtype} (supported: "
                f"{dtypes._SUPPORTED})"
            ) from None
        return {"t": "ndarray", "key": self.add_array(array), "dtype": array.dtype.name}

    def add_array(self, array):
        name = f"a{len(self.arrays)}"
        self.arrays[name] = array
        return name


def _write(f, header, arrays):
    header_bytes = np.frombuffer(json.dumps(header, allow_nan=False).encode("utf-8"), dtype=np.uint8)
    np.savez(f, **{_HEADER: header_bytes}, **arrays)


def save(obj, f, **kwargs):
    """Save ``obj`` (e.g. a dict with model and optimizer ``state_dict()``s) to the file ``f``.

    ``obj`` may nest dicts (any of str/int/float/bool/None/tuple keys), OrderedDicts, lists and tuples of
    tensors, numpy arrays, Python or numpy numbers, strings, bools and None. Tensors are stored detached, with
    their dtype and ``requires_grad``; a Parameter loads as a plain tensor; tensors sharing memory (views) load
    sharing it. numpy scalars become Python numbers.
    The file is written atomically: the previous file at ``f`` survives a crash mid-save.

    Args:
        obj: the object to save.
        f: a path (str or os.PathLike) or a writable binary file object (written directly, not atomically).
        **kwargs: PyTorch's ``pickle_module``, ``pickle_protocol`` and ``_use_new_zipfile_serialization`` are
            accepted and ignored (there is no pickle).

    Raises:
        TypeError: naming the place inside ``obj`` of anything that cannot be stored (e.g. ``obj['fn']``).

    Example::

        nk.save({"model": model.state_dict(), "optimizer": opt.state_dict(), "epoch": 3}, "ckpt.pt")
    """
    unknown = set(kwargs) - {"pickle_module", "pickle_protocol", "_use_new_zipfile_serialization"}
    if unknown:
        raise TypeError(f"save() got unexpected keyword argument(s): {', '.join(sorted(unknown))}")
    encoder = _Encoder()
    root = encoder.encode(obj, "obj")
    encoder.store_tensors()
    header = {"format": _FORMAT, "version": _VERSION, "root": root}
    if hasattr(f, "write"):
        _write(f, header, encoder.arrays)
        return
    with atomic_write(f) as out:
        _write(out, header, encoder.arrays)


# -- decoding ----------------------------------------------------------------------------------------------------
class _CheckpointError(RuntimeError):
    """A file that is not a valid checkpoint (the message names the file)."""


class _Decoder:
    def __init__(self, archive, name):
        self.archive = archive
        self.name = name
        self.tensors = {}
        self.storages = {}

    def fail(self, why):
        raise _CheckpointError(f"nnkit.load: {self.name} is not a valid nnkit checkpoint: {why}")

    def decode(self, node):
        if node is None or isinstance(node, (bool, int, float, str)):
            return node
        if isinstance(node, dict):
            kind = node.get("t")
            if kind == "list":
                return [self.decode(v) for v in node["items"]]
            if kind == "tuple":
                return tuple(self.decode(v) for v in node["items"])
            if kind in ("dict", "odict"):
                items = [(self.decode(k), self.decode(v)) for k, v in node["items"]]
                if kind == "dict":
                    return dict(items)
                result = collections.OrderedDict(items)
                if "metadata" in node:
                    result._metadata = self.decode(node["metadata"])
                return result
            if kind == "float":
                return float(node["v"])
            if kind == "tensor":
                t = _make(self.shared_array(node) if "storage" in node else self.array(node))
                if node.get("requires_grad"):
                    t.requires_grad_(True)
                self.tensors[node.get("id", node.get("key"))] = t
                return t
            if kind == "ref":
                ident = node.get("id", node.get("key"))
                if ident not in self.tensors:
                    self.fail(f"the header refers to tensor {ident!r} before storing it")
                return self.tensors[ident]
            if kind == "ndarray":
                return self.array(node)
        self.fail(f"unknown entry in the header: {str(node)[:80]}")

    def member(self, key):
        if key not in self.archive.files or key == _HEADER:
            self.fail(f"the array {key!r} named in the header is missing")
        array = self.archive[key]
        return array if array.flags.writeable else array.copy()

    def array(self, node):
        array = self.member(node["key"])
        if array.dtype.name != node["dtype"]:
            self.fail(f"the array {node['key']!r} has dtype {array.dtype}, the header says {node['dtype']}")
        dtypes.from_numpy(array.dtype)
        return array

    def shared_array(self, node):
        key = node["storage"]
        if key not in self.storages:
            self.storages[key] = self.member(key)
        storage = self.storages[key]
        if storage.dtype != np.uint8 or storage.ndim != 1:
            self.fail(f"the shared storage {key!r} is {storage.dtype} of shape {storage.shape}, not uint8 bytes")
        dtype = np.dtype(node["dtype"])
        dtypes.from_numpy(dtype)
        # ndarray() checks that shape, strides and offset stay inside the span (ValueError otherwise).
        return np.ndarray(tuple(node["shape"]), dtype=dtype, buffer=storage, offset=node["offset"],
                          strides=tuple(node["strides"]))


def load(f, map_location=None, *, weights_only=None, **kwargs):
    """Load an object saved by :func:`save`; tensors come back as nnkit tensors of the same dtype and values.

    Nothing in the file is ever executed (the format has no pickle), so this is always PyTorch's
    ``weights_only=True`` behaviour.

    Args:
        f: a path (str or os.PathLike) or a readable binary file object.
        map_location: accepted for PyTorch compatibility: None, ``'cpu'`` or ``nnkit.device('cpu')``.
        weights_only: accepted for PyTorch compatibility; loading is always safe.
        **kwargs: PyTorch's ``pickle_module`` and ``mmap`` are accepted and ignored.

    Raises:
        RuntimeError: naming the file if it is truncated, corrupt, or not an nnkit checkpoint.

    Example::

        ckpt = nk.load("ckpt.pt")
        model.load_state_dict(ckpt["model"])
    """
    unknown = set(kwargs) - {"pickle_module", "mmap"}
    if unknown:
        raise TypeError(f"load() got unexpected keyword argument(s): {', '.join(sorted(unknown))}")
    if map_location is not None and not isinstance(map_location, str) and not hasattr(map_location, "type"):
        raise TypeError(
            f"load(): map_location must be None, 'cpu' or nnkit.device('cpu') (nnkit runs on the CPU only), got "
            f"{type(map_location).__name__}"
        )
    _check_device(map_location)
    if hasattr(f, "read"):
        return _read(f, f"file object {f!r}")
    # Opened here, not by np.load, which leaks its file when the zip is unreadable; a missing or unreadable
    # file raises FileNotFoundError / PermissionError as usual.
    with open(f, "rb") as opened:
        return _read(opened, repr(os.fspath(f)))


def _read(f, name):
    try:
        archive = np.load(f, allow_pickle=False)
        if not isinstance(archive, np.lib.npyio.NpzFile):
            raise ValueError("it holds a single .npy array, not a checkpoint archive")
        with archive:
            if _HEADER not in archive.files:
                raise ValueError("it has no header (not written by nnkit.save)")
            header = json.loads(archive[_HEADER].tobytes().decode("utf-8"))
            if not isinstance(header, dict) or header.get("format") != _FORMAT:
                raise ValueError("its header is not an nnkit.save header")
            if header.get("version") != _VERSION:
                raise ValueError(f"format version {header.get('version')} is not supported (this nnkit reads "
                                 f"version {_VERSION}); upgrade nnkit")
            return _Decoder(archive, name).decode(header["root"])
    except _CheckpointError:
        raise
    except Exception as err:
        raise _CheckpointError(
            f"nnkit.load: {name} is not a valid nnkit checkpoint (truncated or corrupt?): "
            f"{type(err).__name__}: {err}"
        ) from err
