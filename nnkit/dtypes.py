"""Data types and PyTorch's type-promotion rules.

nnkit stores every tensor as a numpy array; a :class:`dtype` names one of the numpy types nnkit supports and
prints as PyTorch does (``nnkit.float32``). Promotion follows PyTorch, which differs from numpy in three ways
that matter: a Python (or numpy) scalar never widens a tensor's type within its category (``float32 * 2.5``
stays float32), mixing integer and floating tensors gives the floating type (numpy would give float64 for
int64 + float32), and a 0-dim tensor behaves like a scalar next to a tensor with dimensions.
"""

import builtins

import numpy as np

__all__ = [
    "dtype", "float16", "float32", "float64", "half", "float", "double", "uint8", "int8", "int16", "int32",
    "int64", "short", "int", "long", "bool", "get_default_dtype",
]


class dtype:
    """A tensor element type, such as ``nnkit.float32``; compare with ``==`` or ``is``."""

    __slots__ = ("name", "numpy", "is_floating_point", "is_signed", "itemsize")

    def __init__(self, name, numpy_type):
        self.name = name
        self.numpy = np.dtype(numpy_type)
        self.is_floating_point = self.numpy.kind == "f"
        self.is_signed = self.numpy.kind in "fi"
        self.itemsize = self.numpy.itemsize

    def __repr__(self):
        return f"nnkit.{self.name}"

    def __reduce__(self):
        return (_by_name, (self.name,))


float16 = half = dtype("float16", np.float16)
float32 = float = dtype("float32", np.float32)
float64 = double = dtype("float64", np.float64)
uint8 = dtype("uint8", np.uint8)
int8 = dtype("int8", np.int8)
int16 = short = dtype("int16", np.int16)
int32 = int = dtype("int32", np.int32)
int64 = long = dtype("int64", np.int64)
bool = dtype("bool", np.bool_)

_ALL = (float16, float32, float64, uint8, int8, int16, int32, int64, bool)
_FROM_NUMPY = {d.numpy: d for d in _ALL}
_FROM_NAME = {d.name: d for d in _ALL}
_FROM_NAME.update(half=float16, float=float32, double=float64, short=int16, int=int32, long=int64)
_SUPPORTED = ", ".join(d.name for d in (float64, float32, float16, int64, int32, int16, int8, uint8, bool))

DEFAULT_FLOAT = np.dtype(np.float32)
DEFAULT_INT = np.dtype(np.int64)


def _by_name(name):
    return _FROM_NAME[name]


def get_default_dtype():
    """The floating dtype that Python floats become: always ``nnkit.float32``."""
    return float32


def from_numpy(np_dtype):
    """The nnkit dtype of a numpy dtype; TypeError for types nnkit does not support."""
    try:
        return _FROM_NUMPY[np_dtype]
    except KeyError:
        raise TypeError(
            f"can't convert np.ndarray of type {np.dtype(np_dtype)}. The only supported types are: {_SUPPORTED}."
        ) from None


def to_numpy(d):
    """The numpy dtype for ``d``: an nnkit dtype, a numpy dtype or type, a name, or Python float/int/bool."""
    if type(d) is dtype:
        return d.numpy
    if d is builtins.float:
        return np.dtype(np.float64)  # as torch: dtype=float means float64
    if d is builtins.int:
        return DEFAULT_INT
    if d is builtins.bool:
        return np.dtype(np.bool_)
    if isinstance(d, str) and d in _FROM_NAME:
        return _FROM_NAME[d].numpy
    try:
        np_dtype = np.dtype(d)
    except TypeError:
        raise TypeError(f"dtype must be an nnkit dtype such as nnkit.float32, got {d!r}") from None
    from_numpy(np_dtype)
    return np_dtype


def _category(np_dtype):
    kind = np_dtype.kind
    return 2 if kind == "f" else 0 if kind == "b" else 1


def _scalar_category(value):
    return 0 if isinstance(value, (builtins.bool, np.bool_)) else 1 if isinstance(value, builtins.int) else 2


def result_type(a, a_ndim, b, b_ndim):
    """PyTorch's promoted numpy dtype of two tensors with numpy dtypes ``a`` and ``b`` and those ndims."""
    if a is b:
        return a
    cat_a, cat_b = _category(a), _category(b)
    if (a_ndim == 0) != (b_ndim == 0):
        # A 0-dim tensor beside a dimensioned one only counts when its category (bool < int < float) is higher.
        dim_dtype, dim_cat, zero_dtype, zero_cat = (a, cat_a, b, cat_b) if a_ndim else (b, cat_b, a, cat_a)
        return dim_dtype if zero_cat <= dim_cat else zero_dtype
    if cat_a != cat_b:
        return a if cat_a > cat_b else b
    return np.promote_types(a, b)


def scalar_result_type(tensor_dtype, value):
    """PyTorch's result dtype of a tensor with numpy dtype ``tensor_dtype`` and a Python scalar ``value``."""
    cat_s = _scalar_category(value)
    if cat_s <= _category(tensor_dtype):
        return tensor_dtype
    return DEFAULT_FLOAT if cat_s == 2 else DEFAULT_INT
