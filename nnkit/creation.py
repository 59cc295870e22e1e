"""Creating tensors: from data, filled with constants, ranges, identity, and random samples.

Python floats become float32, ints int64, bools bool; numpy arrays keep their dtype (as ``torch.tensor``).
Sizes may be given as separate ints or one tuple: ``zeros(2, 3) == zeros((2, 3))``. Random functions draw
from the global generator (:mod:`nnkit.random`) unless given ``generator=``.
"""

import numpy as np

from nnkit import dtypes
from nnkit.random import numpy_generator
from nnkit.tensor import Tensor, _make, _sizes

__all__ = [
    "tensor", "as_tensor", "from_numpy", "zeros", "ones", "full", "empty", "zeros_like", "ones_like",
    "full_like", "empty_like", "rand", "randn", "randint", "rand_like", "randn_like", "randperm", "arange",
    "linspace", "eye", "device", "is_tensor",
]


class device:
    """A device name; nnkit only has ``device('cpu')``. Accepted wherever PyTorch takes a device."""

    __slots__ = ("type",)

    def __init__(self, type="cpu"):
        _check_device(type)
        self.type = "cpu"

    def __repr__(self):
        return "device(type='cpu')"

    def __eq__(self, other):
        return isinstance(other, device) or other == "cpu"

    def __hash__(self):
        return hash("cpu")


def _check_device(dev):
    name = dev if isinstance(dev, str) else getattr(dev, "type", dev)
    if name is not None and str(name).split(":")[0] != "cpu":
        raise RuntimeError(f"nnkit runs on the CPU only; got device {dev!r}. Use 'cpu' or leave device unset.")


def _target_dtype(args, dtype, device):
    """The dtype asked for by the arguments of ``Tensor.to`` and ``Module.to`` (None: keep it), devices
    checked. Each positional argument is a dtype, a device (``'cpu'``, ``nk.device``) or a Tensor (its dtype)."""
    for arg in args:
        if isinstance(arg, Tensor):
            dtype = arg.dtype
        elif isinstance(arg, str) or type(arg).__name__ == "device":
            _check_device(arg)
        else:
            dtype = arg
    if device is not None:
        _check_device(device)
    return dtype


def _finish(data, requires_grad):
    t = _make(data)
    if requires_grad:
        t.requires_grad_(True)
    return t


def _from_python(data):
    """A numpy array from (nested) Python data, with PyTorch's dtype inference."""
    if isinstance(data, Tensor):
        return data._data.copy()
    if isinstance(data, (list, tuple)) and any(isinstance(x, (Tensor, list, tuple)) for x in data):
        data = [_from_python(x) if isinstance(x, (Tensor, list, tuple)) else x for x in data]
    try:
        array = np.array(data)
    except ValueError as err:
        raise ValueError(f"tensor(): the data is not a regular nested sequence of numbers: {err}") from None
    if array.dtype == np.float64 and not isinstance(data, (np.ndarray, np.generic)) and not _has_numpy(data):
        array = array.astype(np.float32)
    if array.dtype.kind in "OUSV":
        raise TypeError(
            f"tensor(): could not infer a numeric dtype from data of type {type(data).__name__} "
            f"(numpy made {array.dtype}); pass numbers, bools, nested lists of them, or numpy arrays"
        )
    return array


def _has_numpy(data):
    if isinstance(data, (list, tuple)):
        return any(_has_numpy(x) for x in data)
    return isinstance(data, (np.ndarray, np.floating))


def tensor(data, dtype=None, device=None, requires_grad=False):
    """A new tensor holding a copy of ``data`` (numbers, nested lists, numpy arrays, tensors).

    Args:
        data: the values. Python floats give float32, ints int64, bools bool; numpy arrays keep their dtype.
        dtype: the element type, e.g. ``nnkit.float64``.
        requires_grad: record operations on it for autograd (floating dtypes only).

    Example::

        x = nk.tensor([[1., 2.], [3., 4.]], requires_grad=True)
    """
    _check_device(device)
    if isinstance(data, np.ndarray):
        array = np.array(data, dtype=dtypes.to_numpy(dtype) if dtype is not None else None)
    else:
        array = _from_python(data)
        if dtype is not None:
            array = array.astype(dtypes.to_numpy(dtype), copy=False)
    dtypes.from_numpy(array.dtype)
    return _finish(array, requires_grad)


def as_tensor(data, dtype=None, device=None):
    """Like ``tensor`` but shares memory with a numpy array or tensor when no conversion is needed."""
    _check_device(device)
    if isinstance(data, Tensor):
        return data if dtype is None else data.to(dtype)
    if isinstance(data, np.ndarray):
        dtypes.from_numpy(data.dtype)
        return _make(data if dtype is None else data.astype(dtypes.to_numpy(dtype), copy=False))
    return tensor(data, dtype=dtype)


def from_numpy(array):
    """A tensor sharing memory with the numpy ``array`` (changes to one show in the other)."""
    if not isinstance(array, np.ndarray):
        raise TypeError(f"expected np.ndarray (got {type(array).__name__})")
    dtypes.from_numpy(array.dtype)
    return _make(array)


def is_tensor(obj):
    """True if ``obj`` is an nnkit Tensor."""
    return isinstance(obj, Tensor)


def _np_dtype(dtype, default=dtypes.DEFAULT_FLOAT):
    return default if dtype is None else dtypes.to_numpy(dtype)


def zeros(*size, dtype=None, device=None, requires_grad=False):
    """A tensor of zeros of the given size (float32 by default)."""
    _check_device(device)
    return _finish(np.zeros(_sizes(size), dtype=_np_dtype(dtype)), requires_grad)


def ones(*size, dtype=None, device=None, requires_grad=False):
    """A tensor of ones of the given size (float32 by default)."""
    _check_device(device)
    return _finish(np.ones(_sizes(size), dtype=_np_dtype(dtype)), requires_grad)


def _fill_dtype(fill_value):
    if isinstance(fill_value, (bool, np.bool_)):
        return np.dtype(np.bool_)
    return dtypes.DEFAULT_INT if isinstance(fill_value, (int, np.integer)) else dtypes.DEFAULT_FLOAT


def full(size, fill_value, *, dtype=None, device=None, requires_grad=False):
    """A tensor of the given size filled with ``fill_value`` (dtype inferred from the value)."""
    _check_device(device)
    if isinstance(size, int):
        size = (size,)
    np_dtype = _fill_dtype(fill_value) if dtype is None else dtypes.to_numpy(dtype)
    return _finish(np.full(tuple(size), fill_value, dtype=np_dtype), requires_grad)


def empty(*size, dtype=None, device=None, requires_grad=False):
    """An uninitialised tensor of the given size (float32 by default)."""
    _check_device(device)
    return _finish(np.empty(_sizes(size), dtype=_np_dtype(dtype)), requires_grad)


def _like_dtype(t, dtype):
    return t._data.dtype if dtype is None else dtypes.to_numpy(dtype)


def zeros_like(input, *, dtype=None, device=None, requires_grad=False):
    """Zeros with the shape (and dtype) of ``input``."""
    return _finish(np.zeros(input.shape, dtype=_like_dtype(input, dtype)), requires_grad)


def ones_like(input, *, dtype=None, device=None, requires_grad=False):
    """Ones with the shape (and dtype) of ``input``."""
    return _finish(np.ones(input.shape, dtype=_like_dtype(input, dtype)), requires_grad)


def full_like(input, fill_value, *, dtype=None, device=None, requires_grad=False):
    """``fill_value`` with the shape (and dtype) of ``input``."""
    return _finish(np.full(input.shape, fill_value, dtype=_like_dtype(input, dtype)), requires_grad)


def empty_like(input, *, dtype=None, device=None, requires_grad=False):
    """Uninitialised, with the shape (and dtype) of ``input``."""
    return _finish(np.empty(input.shape, dtype=_like_dtype(input, dtype)), requires_grad)


def _float_dtype(dtype, fn):
    np_dtype = _np_dtype(dtype)
    if np_dtype.kind != "f":
        raise RuntimeError(f"{fn}: expected a floating point dtype, got {dtypes.from_numpy(np_dtype)}")
    return np_dtype


def rand(*size, generator=None, dtype=None, device=None, requires_grad=False):
    """Samples from the uniform distribution on [0, 1)."""
    _check_device(device)
    np_dtype = _float_dtype(dtype, "rand")
    data = numpy_generator(generator).random(_sizes(size), dtype=np.float64).astype(np_dtype)
    return _finish(data, requires_grad)


def randn(*size, generator=None, dtype=None, device=None, requires_grad=False):
    """Samples from the standard normal distribution."""
    _check_device(device)
    np_dtype = _float_dtype(dtype, "randn")
    data = numpy_generator(generator).standard_normal(_sizes(size), dtype=np.float64).astype(np_dtype)
    return _finish(data, requires_grad)


def rand_like(input, *, dtype=None, device=None, requires_grad=False):
    """Uniform [0, 1) samples with the shape (and dtype) of ``input``."""
    return rand(input.shape, dtype=dtype or input.dtype, requires_grad=requires_grad)


def randn_like(input, *, dtype=None, device=None, requires_grad=False):
    """Standard normal samples with the shape (and dtype) of ``input``."""
    return randn(input.shape, dtype=dtype or input.dtype, requires_grad=requires_grad)


def randint(low, high=None, size=None, *, generator=None, dtype=None, device=None, requires_grad=False):
    """Random integers in [low, high) (``randint(high, size)`` means low=0); int64 by default."""
    _check_device(device)
    if size is None:  # randint(high, size)
        if high is None:
            raise TypeError("randint() missing required argument 'size'")
        low, high, size = 0, low, high
    elif high is None:
        low, high = 0, low
    if isinstance(size, int):
        size = (size,)
    if low >= high:
        raise RuntimeError(f"random_ expects 'from' to be less than 'to', but got from={low} >= to={high}")
    data = numpy_generator(generator).integers(low, high, size=tuple(size), dtype=np.int64)
    return _finish(data.astype(_np_dtype(dtype, dtypes.DEFAULT_INT), copy=False), requires_grad)


def randperm(n, *, generator=None, dtype=None, device=None, requires_grad=False):
    """A random permutation of 0..n-1 (int64)."""
    data = numpy_generator(generator).permutation(n).astype(_np_dtype(dtype, dtypes.DEFAULT_INT))
    return _finish(data, requires_grad)


def arange(start, end=None, step=1, *, dtype=None, device=None, requires_grad=False):
    """Values from ``start`` to ``end`` (exclusive) by ``step``; int64 if all are ints, else float32."""
    _check_device(device)
    if end is None:
        start, end = 0, start
    if step == 0:
        raise RuntimeError("arange: step must be nonzero")
    if dtype is None:
        is_int = all(isinstance(v, (int, np.integer)) and not isinstance(v, bool) for v in (start, end, step))
        np_dtype = dtypes.DEFAULT_INT if is_int else dtypes.DEFAULT_FLOAT
    else:
        np_dtype = dtypes.to_numpy(dtype)
    n = max(int(np.ceil((end - start) / step)), 0)
    data = (start + step * np.arange(n, dtype=np.float64)) if np_dtype.kind == "f" else np.arange(start, end, step)
    return _finish(data.astype(np_dtype), requires_grad)


def linspace(start, end, steps, *, dtype=None, device=None, requires_grad=False):
    """``steps`` evenly spaced values from ``start`` to ``end`` inclusive (float32 by default)."""
    _check_device(device)
    data = np.linspace(start, end, int(steps), dtype=np.float64).astype(_np_dtype(dtype))
    return _finish(data, requires_grad)


def eye(n, m=None, *, dtype=None, device=None, requires_grad=False):
    """The n×m identity matrix (m defaults to n)."""
    _check_device(device)
    return _finish(np.eye(n, n if m is None else m, dtype=_np_dtype(dtype)), requires_grad)
