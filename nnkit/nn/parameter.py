"""``Parameter``: a Tensor that a Module registers as one of its learnable weights."""

import numpy as np

from nnkit import dtypes
from nnkit.autograd.grad_mode import in_inference
from nnkit.tensor import Tensor

__all__ = ["Parameter"]


class Parameter(Tensor):
    """A leaf Tensor that, assigned as an attribute of a :class:`Module`, is registered as its parameter.

    ``Parameter(data)`` shares storage (and the version counter) with ``data``, as in PyTorch: it is ``data``
    seen as a fresh leaf, cut from any graph ``data`` belongs to. Everything a Tensor can do, a Parameter can
    do; the results of ops on it are plain Tensors.

    Args:
        data: the initial values (a Tensor). ``None`` gives an empty float32 parameter.
        requires_grad: whether the parameter receives gradients (default True).

    Example::

        w = nn.Parameter(nk.randn(3, 4))
        w.requires_grad, w.is_leaf      # (True, True)
    """

    __slots__ = ()

    def __new__(cls, data=None, requires_grad=True):
        if data is None:
            data = Tensor._make(np.empty((0,), dtype=dtypes.DEFAULT_FLOAT))
        elif not isinstance(data, Tensor):
            raise TypeError(
                f"Parameter(): argument 'data' must be a Tensor, not {type(data).__name__} (wrap values with "
                "nnkit.tensor(...) first)"
            )
        requires_grad = bool(requires_grad)
        if requires_grad and data._data.dtype.kind != "f":
            raise RuntimeError(
                "Only Tensors of floating point and complex dtype can require gradients "
                f"(Parameter() got a {data.dtype} tensor; convert it with .float() first, or pass "
                "requires_grad=False)"
            )
        p = object.__new__(cls)
        p._data = data._data
        p._requires_grad = requires_grad
        p.grad_fn = None
        p._grad = None
        p._counter = data._counter if data._counter is not None or in_inference() else [0]
        p._output_nr = 0
        p._base = None
        p._acc = None
        p._extra = None
        return p

    def __repr__(self):
        return "Parameter containing:\n" + super().__repr__()

    def __deepcopy__(self, memo):
        if id(self) in memo:
            return memo[id(self)]
        result = type(self)(Tensor._make(self._data.copy()), self._requires_grad)
        memo[id(self)] = result
        return result

    def __reduce_ex__(self, protocol):
        return _rebuild_parameter, (self._data, self._requires_grad)


def _rebuild_parameter(data, requires_grad):
    return Parameter(Tensor._make(data), requires_grad)
