"""The Tensor: a numpy array plus its place in the autograd graph.

A Tensor holds its values in a numpy array (``_data``), whether it ``requires_grad``, the backward node that
produced it (``grad_fn``, None for leaves), its accumulated ``.grad``, and a version counter shared with its
views that every in-place op bumps. Each math method is one line into ``nnkit.ops``; the late imports at the
bottom of this file are the only place the tensor layer reaches up into the ops layer.
"""

import weakref

import numpy as np

from nnkit import dtypes
from nnkit.autograd.grad_mode import in_inference, recording

__all__ = ["Tensor"]

_ndarray = np.ndarray
_new = object.__new__


def _make(data, requires_grad=False, grad_fn=None):
    """A new Tensor around the array ``data`` (no copy). The ops' constructor: no checks beyond the type."""
    t = _new(Tensor)
    t._data = data if type(data) is _ndarray else np.asarray(data)
    t._requires_grad = requires_grad
    t.grad_fn = grad_fn
    t._grad = None
    t._counter = None if in_inference() else [0]
    t._output_nr = 0
    t._base = None
    t._acc = None
    t._extra = None
    return t


def _view_of(base, data):
    """A Tensor over ``data``, a numpy view of ``base``'s storage: it shares base's version counter.

    The root tensor (the one owning the storage) keeps weak references to its views: an in-place op on one view
    while recording gives the root a new history, and every other view must then read from it (see
    ``nnkit.ops.inplace``)."""
    t = _make(data)
    t._counter = base._counter
    root = base._base if base._base is not None else base
    t._base = root
    if root._requires_grad and not recording():
        t._extra = {"no_grad_view": True}  # modifying it in place with recording on is an error (PyTorch's)
    extra = root._extra
    if extra is None:
        extra = root._extra = {}
    views = extra.get("views")
    if views is None:
        extra["views"] = [weakref.ref(t)]
    else:
        views.append(weakref.ref(t))
        n = len(views)
        if n >= 64 and not n & (n - 1):  # at each power of two: forget the views that are gone
            views[:] = [ref for ref in views if ref() is not None]
    return t


class Tensor:
    """A multi-dimensional array that can record the operations applied to it for reverse-mode autograd.

    Create tensors with :func:`nnkit.tensor`, :func:`nnkit.zeros`, :func:`nnkit.randn` and friends rather
    than with this class. ``Tensor(data)`` is accepted as a shorthand for ``nnkit.tensor(data)``.

    Example::

        x = nk.tensor([1.0, 2.0], requires_grad=True)
        y = (x * x).sum()
        y.backward()
        x.grad                # tensor([2., 4.])
    """

    __slots__ = (
        "_data", "_requires_grad", "grad_fn", "_grad", "_counter", "_output_nr", "_base", "_acc", "_extra",
        "__weakref__",
    )
    __array_ufunc__ = None  # numpy defers to our reflected operators: np.float32(2) * t is a Tensor op
    __array_priority__ = 1000

    def __new__(cls, data=None, *, dtype=None, requires_grad=False):
        from nnkit.creation import tensor

        return tensor([] if data is None else data, dtype=dtype, requires_grad=requires_grad)

    _make = staticmethod(_make)

    # -- autograd state ----------------------------------------------------------------------------------
    @property
    def requires_grad(self):
        """Whether operations on this tensor are recorded so gradients can flow to it."""
        return self._requires_grad

    @requires_grad.setter
    def requires_grad(self, value):
        if self.grad_fn is not None:
            raise RuntimeError(
                "you can only change requires_grad flags of leaf variables. If you want to use a computed "
                "variable in a subgraph that doesn't require differentiation use var_no_grad = var.detach(). "
                f"(This tensor was produced by {self.grad_fn.name()}.)"
            )
        self.requires_grad_(value)

    def requires_grad_(self, requires_grad=True):
        """Set ``requires_grad`` of this leaf in place and return it (for chaining)."""
        requires_grad = bool(requires_grad)
        if self.grad_fn is not None:
            if requires_grad:
                return self
            raise RuntimeError(
                "you can only change requires_grad flags of leaf variables. If you want to use a computed "
                "variable in a subgraph that doesn't require differentiation use var_no_grad = var.detach(). "
                f"(This tensor was produced by {self.grad_fn.name()}.)"
            )
        if requires_grad and not self._data.dtype.kind == "f":
            raise RuntimeError(
                "only Tensors of floating point dtype can require gradients "
                f"(this tensor is {self.dtype}; convert it with .float() first)"
            )
        self._requires_grad = requires_grad
        return self

    @property
    def is_leaf(self):
        """True for tensors not produced by a recorded op: user-created tensors and parameters."""
        return self.grad_fn is None

    @property
    def grad(self):
        """The gradient accumulated by backward (leaves and ``retain_grad()`` tensors only), else None."""
        if self.grad_fn is not None and self._grad is None and not self.retains_grad:
            import warnings

            warnings.warn(
                "The .grad attribute of a Tensor that is not a leaf Tensor is being accessed. Its .grad "
                "attribute won't be populated during autograd.backward(). If you indeed want the .grad field "
                "to be populated for a non-leaf Tensor, use .retain_grad() on the non-leaf Tensor. If you "
                "access the non-leaf Tensor by mistake, make sure you access the leaf Tensor instead.",
                UserWarning,
                stacklevel=2,
            )
        return self._grad

    @grad.setter
    def grad(self, value):
        if value is not None:
            if not isinstance(value, Tensor):
                raise TypeError(f"assigned grad expected to be a Tensor or None but got {type(value).__name__}")
            if value.shape != self.shape:
                raise RuntimeError(
                    f"assigned grad has data of a different size: grad {list(value.shape)}, "
                    f"tensor {list(self.shape)}"
                )
            if value._data.dtype != self._data.dtype:
                raise RuntimeError(
                    f"assigned grad has data of a different type: grad {value.dtype}, tensor {self.dtype}"
                )
        self._grad = value

    @grad.deleter
    def grad(self):
        self._grad = None

    @property
    def retains_grad(self):
        """True if ``retain_grad()`` was called on this non-leaf tensor."""
        return self.grad_fn is not None and self._extra is not None and self._extra.get("retains_grad", False)

    def retain_grad(self):
        """Make backward fill ``.grad`` of this non-leaf tensor too (a no-op on leaves)."""
        if self.grad_fn is None:
            if not self._requires_grad:
                raise RuntimeError("can't retain_grad on Tensor that has requires_grad=False")
            return
        if self.retains_grad:
            return
        import weakref

        self._set_extra("retains_grad", True)
        self.grad_fn._hook_list("retained").append((self._output_nr, weakref.ref(self)))

    def register_hook(self, hook):
        """Call ``hook(grad)`` whenever a gradient for this tensor is computed; a returned tensor replaces it.

        Returns a handle whose ``remove()`` unregisters the hook.
        """
        from nnkit.autograd.node import RemovableHandle

        if not self._requires_grad:
            raise RuntimeError("cannot register a hook on a tensor that doesn't require gradient")
        if self.grad_fn is None:
            if self._extra is None:
                self._extra = {}
            hooks = self._extra.setdefault("hooks", [])
            hooks.append(hook)
            return RemovableHandle(hooks, hook)
        hooks = self.grad_fn._hook_list("tensor_hooks")
        entry = (self._output_nr, hook)
        hooks.append(entry)
        return RemovableHandle(hooks, entry)

    def _set_extra(self, key, value):
        if self._extra is None:
            self._extra = {}
        self._extra[key] = value

    def backward(self, gradient=None, retain_graph=None, create_graph=False, inputs=None):
        """Accumulate the gradient of this tensor w.r.t. the graph's leaves into their ``.grad``.

        Args:
            gradient: d(something)/d(self), same shape as self; optional when self has one element.
            retain_graph: keep the graph's saved tensors for another backward (default: ``create_graph``).
            create_graph: record the backward pass, for higher-order derivatives.
            inputs: only accumulate into these tensors' ``.grad``.
        """
        from nnkit.autograd.engine import backward

        backward(self, gradient, retain_graph, create_graph, inputs)

    def detach(self):
        """A new tensor sharing this one's storage (and version counter), cut from the graph."""
        t = _make(self._data)
        t._counter = self._counter
        return t

    def detach_(self):
        """Cut this tensor from the graph in place: it becomes a leaf that does not require grad."""
        if self._base is not None and self._base._requires_grad:
            raise RuntimeError(
                "Can't detach views in-place. Use detach() instead. (This tensor is a view of another tensor "
                "that requires grad.)"
            )
        self.grad_fn = None
        self._requires_grad = False
        self._output_nr = 0
        return self

    @property
    def data(self):
        """This tensor's values as a new tensor that shares storage and is outside the graph."""
        return self.detach()

    @data.setter
    def data(self, value):
        if not isinstance(value, Tensor):
            raise TypeError(f"data must be set to a Tensor, got {type(value).__name__}")
        self._data = value._data

    @property
    def _version(self):
        """How many in-place operations have modified this tensor's storage (shared with its views)."""
        if self._counter is None:
            raise RuntimeError(
                "Inference tensors do not track version counter. (This tensor was created under "
                "inference_mode(); clone() it outside inference_mode to get a normal tensor.)"
            )
        return self._counter[0]

    @property
    def output_nr(self):
        """Which output of ``grad_fn`` this tensor is."""
        return self._output_nr

    def is_inference(self):
        """True if this tensor was created under ``inference_mode()``."""
        return self._counter is None

    # -- metadata ----------------------------------------------------------------------------------------
    @property
    def shape(self):
        """The size of each dimension, as a tuple (PyTorch's ``torch.Size`` is a tuple too)."""
        return self._data.shape

    def size(self, dim=None):
        """The shape, or the size of dimension ``dim``."""
        if dim is None:
            return self._data.shape
        return self._data.shape[_dim(dim, self._data.ndim, "size")]

    @property
    def dtype(self):
        """The element type, e.g. ``nnkit.float32``."""
        return dtypes.from_numpy(self._data.dtype)

    @property
    def ndim(self):
        """The number of dimensions."""
        return self._data.ndim

    def dim(self):
        """The number of dimensions."""
        return self._data.ndim

    def numel(self):
        """The number of elements."""
        return self._data.size

    def nelement(self):
        """The number of elements (alias of ``numel``)."""
        return self._data.size

    def element_size(self):
        """Bytes per element."""
        return self._data.itemsize

    @property
    def itemsize(self):
        """Bytes per element."""
        return self._data.itemsize

    @property
    def nbytes(self):
        """Bytes of all elements."""
        return self._data.nbytes

    @property
    def device(self):
        """Always ``nnkit.device('cpu')``: nnkit runs on the CPU only."""
        from nnkit.creation import device

        return device("cpu")

    @property
    def is_cuda(self):
        """Always False."""
        return False

    def is_floating_point(self):
        """True for float16/32/64 tensors."""
        return self._data.dtype.kind == "f"

    def is_contiguous(self):
        """True if the storage is C-contiguous."""
        return self._data.flags.c_contiguous

    def data_ptr(self):
        """The address of the first element (tells whether two tensors share storage)."""
        return self._data.__array_interface__["data"][0]

    # -- conversion --------------------------------------------------------------------------------------
    def item(self):
        """The value of a one-element tensor as a Python number."""
        if self._data.size != 1:
            raise RuntimeError(
                f"a Tensor with {self._data.size} elements cannot be converted to Scalar "
                f"(shape {list(self.shape)}); index one element first, e.g. t[0].item()"
            )
        return self._data.reshape(()).item()

    def tolist(self):
        """The values as (nested) Python lists of numbers."""
        return self._data.tolist()

    def numpy(self, *, force=False):
        """The numpy array behind this tensor (shared memory, so changes show in both).

        Raises RuntimeError for tensors that require grad: use ``t.detach().numpy()``.
        """
        if self._requires_grad and not force:
            raise RuntimeError(
                "Can't call numpy() on Tensor that requires grad. Use tensor.detach().numpy() instead."
            )
        return self._data

    def __array__(self, dtype=None, copy=None):
        array = self.numpy()
        if dtype is not None and array.dtype != dtype:
            return array.astype(dtype)
        return array.copy() if copy else array

    def to(self, *args, dtype=None, device=None, copy=False, non_blocking=False):
        """Convert to ``dtype`` (differentiably); a device of 'cpu' is accepted and changes nothing.

        ``t.to(nnkit.float64)``, ``t.to('cpu')``, ``t.to(other_tensor)`` (its dtype).
        """
        from nnkit.creation import _target_dtype

        dtype = _target_dtype(args, dtype, device)
        if dtype is None:
            return clone(self) if copy else self
        return to_dtype(self, dtypes.to_numpy(dtype), copy)

    def type(self, dtype=None):
        """Without arguments the type name (``'nnkit.FloatTensor'``); with a dtype, ``to(dtype)``."""
        if dtype is None:
            names = {"float32": "Float", "float64": "Double", "float16": "Half", "int64": "Long",
                     "int32": "Int", "int16": "Short", "int8": "Char", "uint8": "Byte", "bool": "Bool"}
            return f"nnkit.{names[self._data.dtype.name]}Tensor"
        return self.to(dtype)

    def type_as(self, other):
        """Convert to ``other``'s dtype."""
        return self.to(other.dtype)

    def float(self):
        """Convert to float32."""
        return to_dtype(self, dtypes.float32.numpy, False)

    def double(self):
        """Convert to float64."""
        return to_dtype(self, dtypes.float64.numpy, False)

    def half(self):
        """Convert to float16."""
        return to_dtype(self, dtypes.float16.numpy, False)

    def long(self):
        """Convert to int64."""
        return to_dtype(self, dtypes.int64.numpy, False)

    def int(self):
        """Convert to int32."""
        return to_dtype(self, dtypes.int32.numpy, False)

    def bool(self):
        """Convert to bool."""
        return to_dtype(self, dtypes.bool.numpy, False)

    def cpu(self):
        """This tensor (nnkit is CPU only)."""
        return self

    def clone(self):
        """A copy with its own storage that stays in the graph (``CloneBackward0``)."""
        return clone(self)

    def contiguous(self):
        """This tensor if C-contiguous, else a contiguous copy (in the graph)."""
        return self if self._data.flags.c_contiguous else clone(self)

    def equal(self, other):
        """True if ``other`` has the same shape and the same values."""
        return bool(self.shape == other.shape and np.array_equal(self._data, other._data))

    def allclose(self, other, rtol=1e-05, atol=1e-08, equal_nan=False):
        """True if all values are close: ``|self - other| <= atol + rtol * |other|``."""
        other_data = other._data if isinstance(other, Tensor) else other
        return bool(np.allclose(self._data, other_data, rtol=rtol, atol=atol, equal_nan=equal_nan))

    def isclose(self, other, rtol=1e-05, atol=1e-08, equal_nan=False):
        """Elementwise closeness as a bool tensor."""
        other_data = other._data if isinstance(other, Tensor) else other
        return _make(np.isclose(self._data, other_data, rtol=rtol, atol=atol, equal_nan=equal_nan))

    # -- Python protocol ---------------------------------------------------------------------------------
    def __repr__(self):
        from nnkit.printing import format_tensor

        suffixes = []
        if self.grad_fn is not None:
            suffixes.append(f"grad_fn=<{self.grad_fn.name()}>")
        elif self._requires_grad:
            suffixes.append("requires_grad=True")
        return format_tensor(self._data, self._data.dtype.name, suffixes)

    def __str__(self):
        return self.__repr__()

    def __len__(self):
        if self._data.ndim == 0:
            raise TypeError("len() of a 0-d tensor")
        return self._data.shape[0]

    def __iter__(self):
        if self._data.ndim == 0:
            raise TypeError("iteration over a 0-d tensor")
        return (getitem(self, i) for i in range(self._data.shape[0]))

    def __bool__(self):
        if self._data.size != 1:
            raise RuntimeError(
                f"Boolean value of Tensor with more than one value is ambiguous (shape {list(self.shape)}); "
                "use .any() or .all()"
            )
        return bool(self._data.reshape(()))

    def __float__(self):
        return float(self.item())

    def __int__(self):
        return int(self.item())

    def __index__(self):
        if self._data.dtype.kind not in "iub" or self._data.size != 1:
            raise TypeError("only integer tensors of a single element can be converted to an index")
        return int(self._data.reshape(()))

    def __hash__(self):
        return id(self)

    def __deepcopy__(self, memo):
        if self.grad_fn is not None:
            raise RuntimeError(
                "Only Tensors created explicitly by the user (graph leaves) support the deepcopy protocol at "
                "the moment. Use .detach().clone() first."
            )
        t = _make(self._data.copy(), self._requires_grad)
        if self._grad is not None:
            t._grad = _make(self._grad._data.copy())
        memo[id(self)] = t
        return t

    # -- arithmetic operators ----------------------------------------------------------------------------
    def __radd__(self, other):
        return add(other, self)

    def __iadd__(self, other):
        return add_(self, other)

    def __rsub__(self, other):
        return sub(other, self)

    def __isub__(self, other):
        return sub_(self, other)

    def __rmul__(self, other):
        return mul(other, self)

    def __imul__(self, other):
        return mul_(self, other)

    def __rtruediv__(self, other):
        return div(other, self)

    def __itruediv__(self, other):
        return div_(self, other)

    def __floordiv__(self, other):
        return floor_divide(self, other)

    def __rfloordiv__(self, other):
        return floor_divide(other, self)

    def __mod__(self, other):
        return remainder(self, other)

    def __rmod__(self, other):
        return remainder(other, self)

    def __pow__(self, exponent):
        return pow(self, exponent)

    def __rpow__(self, base):
        return pow(base, self)

    def __ipow__(self, exponent):
        return pow_(self, exponent)

    def __matmul__(self, other):
        return matmul(self, other)

    def __rmatmul__(self, other):
        return matmul(other, self)

    def __neg__(self):
        return neg(self)

    def __pos__(self):
        return self

    def __abs__(self):
        return abs(self)

    def __invert__(self):
        return logical_not(self) if self._data.dtype.kind == "b" else bitwise_not(self)

    def __and__(self, other):
        return bitwise_and(self, other)

    def __rand__(self, other):
        return bitwise_and(other, self)

    def __or__(self, other):
        return bitwise_or(self, other)

    def __ror__(self, other):
        return bitwise_or(other, self)

    def __xor__(self, other):
        return bitwise_xor(self, other)

    def __rxor__(self, other):
        return bitwise_xor(other, self)

    def __eq__(self, other):
        if other is None:
            return False  # as PyTorch: comparing with None is a plain False, not an elementwise result
        return eq(self, other)

    def __ne__(self, other):
        if other is None:
            return True
        return ne(self, other)

    def __lt__(self, other):
        return lt(self, other)

    def __le__(self, other):
        return le(self, other)

    def __gt__(self, other):
        return gt(self, other)

    def __ge__(self, other):
        return ge(self, other)

    def __getitem__(self, index):
        return getitem(self, index)

    def __setitem__(self, index, value):
        setitem(self, index, value)

    # -- elementwise math --------------------------------------------------------------------------------
    def add(self, other, *, alpha=1):
        """``self + alpha * other``, with broadcasting."""
        return add(self, other, alpha=alpha)

    def sub(self, other, *, alpha=1):
        """``self - alpha * other``, with broadcasting."""
        return sub(self, other, alpha=alpha)

    subtract = sub

    def mul(self, other):
        """``self * other``, with broadcasting."""
        return mul(self, other)

    multiply = mul

    def div(self, other, *, rounding_mode=None):
        """``self / other`` (true division; ``rounding_mode`` 'trunc' or 'floor' gives no gradient)."""
        return div(self, other, rounding_mode=rounding_mode)

    divide = div
    true_divide = div

    def pow(self, exponent):
        """``self ** exponent`` (tensor or scalar exponent)."""
        return pow(self, exponent)

    def neg(self):
        """``-self``."""
        return neg(self)

    negative = neg

    def log(self):
        """Elementwise natural logarithm."""
        return log(self)

    def log1p(self):
        """Elementwise log(1 + x), accurate for small x."""
        return log1p(self)

    def sqrt(self):
        """Elementwise square root."""
        return sqrt(self)

    def rsqrt(self):
        """Elementwise 1 / sqrt(x)."""
        return rsqrt(self)

    def abs(self):
        """Elementwise absolute value (gradient 0 at 0)."""
        return abs(self)

    def sin(self):
        """Elementwise sine."""
        return sin(self)

    def cos(self):
        """Elementwise cosine."""
        return cos(self)

    def square(self):
        """Elementwise x * x."""
        return square(self)

    def reciprocal(self):
        """Elementwise 1 / x."""
        return reciprocal(self)

    def sign(self):
        """Elementwise sign (-1, 0 or 1); its gradient is zero."""
        return sign(self)

    def floor(self):
        """Elementwise floor; its gradient is zero."""
        return floor(self)

    def ceil(self):
        """Elementwise ceiling; its gradient is zero."""
        return ceil(self)

    def round(self):
        """Elementwise round half to even; its gradient is zero."""
        return round(self)

    def clamp(self, min=None, max=None):
        """Limit values to [min, max] (either may be None or a tensor)."""
        return clamp(self, min, max)

    clip = clamp

    def maximum(self, other):
        """Elementwise maximum of two tensors (ties split the gradient evenly)."""
        return maximum(self, other)

    def minimum(self, other):
        """Elementwise minimum of two tensors (ties split the gradient evenly)."""
        return minimum(self, other)

    def where(self, condition, other):
        """``self`` where ``condition`` holds, else ``other``."""
        return where(condition, self, other)

    def eq(self, other):
        """Elementwise ``==`` as a bool tensor."""
        return eq(self, other)

    def ne(self, other):
        """Elementwise ``!=`` as a bool tensor."""
        return ne(self, other)

    def lt(self, other):
        """Elementwise ``<`` as a bool tensor."""
        return lt(self, other)

    def le(self, other):
        """Elementwise ``<=`` as a bool tensor."""
        return le(self, other)

    def gt(self, other):
        """Elementwise ``>`` as a bool tensor."""
        return gt(self, other)

    def ge(self, other):
        """Elementwise ``>=`` as a bool tensor."""
        return ge(self, other)

    def logical_not(self):
        """Elementwise logical not, as a bool tensor."""
        return logical_not(self)

    def isnan(self):
        """Elementwise NaN test."""
        return isnan(self)

    def isinf(self):
        """Elementwise infinity test."""
        return isinf(self)

    def isfinite(self):
        """Elementwise finiteness test."""
        return isfinite(self)

    # -- reductions --------------------------------------------------------------------------------------
    def sum(self, dim=None, keepdim=False, *, dtype=None):
        """Sum over ``dim`` (int, tuple, or None for all)."""
        return sum(self, dim, keepdim, dtype=dtype)

    def mean(self, dim=None, keepdim=False, *, dtype=None):
        """Mean over ``dim`` (int, tuple, or None for all)."""
        return mean(self, dim, keepdim, dtype=dtype)

    def prod(self, dim=None, keepdim=False, *, dtype=None):
        """Product over ``dim`` (None for all)."""
        return prod(self, dim, keepdim, dtype=dtype)

    def max(self, dim=None, keepdim=False):
        """The maximum; with ``dim``, a ``(values, indices)`` pair; with a tensor, the elementwise maximum."""
        return max(self, dim, keepdim)

    def min(self, dim=None, keepdim=False):
        """The minimum; with ``dim``, a ``(values, indices)`` pair; with a tensor, the elementwise minimum."""
        return min(self, dim, keepdim)

    def amax(self, dim=(), keepdim=False):
        """Maximum over ``dim`` (all dims by default); ties share the gradient evenly."""
        return amax(self, dim, keepdim)

    def amin(self, dim=(), keepdim=False):
        """Minimum over ``dim`` (all dims by default); ties share the gradient evenly."""
        return amin(self, dim, keepdim)

    def var(self, dim=None, unbiased=None, keepdim=False, *, correction=None):
        """Variance over ``dim`` with Bessel's ``correction`` (default 1)."""
        return var(self, dim, unbiased, keepdim, correction=correction)

    def std(self, dim=None, unbiased=None, keepdim=False, *, correction=None):
        """Standard deviation over ``dim`` with Bessel's ``correction`` (default 1)."""
        return std(self, dim, unbiased, keepdim, correction=correction)

    def logsumexp(self, dim, keepdim=False):
        """``log(sum(exp(x)))`` over ``dim``, computed stably."""
        return logsumexp(self, dim, keepdim)

    def norm(self, p="fro", dim=None, keepdim=False, dtype=None):
        """The p-norm over ``dim`` (default: 2-norm of all elements)."""
        return norm(self, p, dim, keepdim, dtype=dtype)

    def softmax(self, dim, dtype=None):
        """Softmax along ``dim``."""
        return softmax(self, dim, dtype=dtype)

    def log_softmax(self, dim, dtype=None):
        """Log of softmax along ``dim``, computed stably."""
        return log_softmax(self, dim, dtype=dtype)

    def argmax(self, dim=None, keepdim=False):
        """Index of the maximum (over the flattened tensor when ``dim`` is None); no gradient."""
        return argmax(self, dim, keepdim)

    def argmin(self, dim=None, keepdim=False):
        """Index of the minimum (over the flattened tensor when ``dim`` is None); no gradient."""
        return argmin(self, dim, keepdim)

    def all(self, dim=None, keepdim=False):
        """True if all elements (along ``dim``) are nonzero."""
        return all(self, dim, keepdim)

    def any(self, dim=None, keepdim=False):
        """True if any element (along ``dim``) is nonzero."""
        return any(self, dim, keepdim)

    # -- shape -------------------------------------------------------------------------------------------
    def reshape(self, *shape):
        """The same values in a new shape (a view when possible); one size may be -1."""
        return reshape(self, _sizes(shape))

    def view(self, *shape):
        """A view with a new shape; RuntimeError if the strides do not allow one (use reshape)."""
        return view(self, _sizes(shape))

    def view_as(self, other):
        """A view with ``other``'s shape."""
        return view(self, other.shape)

    def reshape_as(self, other):
        """The same values in ``other``'s shape."""
        return reshape(self, other.shape)

    def transpose(self, dim0, dim1):
        """Swap two dimensions (a view)."""
        return transpose(self, dim0, dim1)

    swapaxes = transpose

    def permute(self, *dims):
        """Reorder the dimensions (a view)."""
        return permute(self, _sizes(dims))

    def t(self):
        """Transpose a tensor of at most 2 dimensions."""
        return t(self)

    @property
    def T(self):
        """All dimensions reversed (for 2-D, the transpose)."""
        return permute(self, tuple(range(self._data.ndim - 1, -1, -1)))

    @property
    def mT(self):
        """The last two dimensions swapped (a batch of matrix transposes)."""
        return transpose(self, -2, -1)

    def squeeze(self, dim=None):
        """Remove dimensions of size 1 (all, or only ``dim``)."""
        return squeeze(self, dim)

    def unsqueeze(self, dim):
        """Insert a dimension of size 1 at ``dim``."""
        return unsqueeze(self, dim)

    def flatten(self, start_dim=0, end_dim=-1):
        """Merge dimensions ``start_dim``..``end_dim`` into one."""
        return flatten(self, start_dim, end_dim)

    def unflatten(self, dim, sizes):
        """Split dimension ``dim`` into ``sizes``."""
        return unflatten(self, dim, sizes)

    def expand(self, *sizes):
        """Broadcast to a larger shape without copying (-1 keeps a size)."""
        return expand(self, _sizes(sizes))

    def expand_as(self, other):
        """Broadcast to ``other``'s shape."""
        return expand(self, other.shape)

    def repeat(self, *sizes):
        """Tile the tensor ``sizes[i]`` times along each dimension (copies)."""
        return repeat(self, _sizes(sizes))

    def split(self, split_size_or_sections, dim=0):
        """Split into pieces of ``split_size`` (or the listed sizes) along ``dim``; views."""
        return split(self, split_size_or_sections, dim)

    def chunk(self, chunks, dim=0):
        """Split into ``chunks`` nearly equal pieces along ``dim``; views."""
        return chunk(self, chunks, dim)

    def unbind(self, dim=0):
        """The slices along ``dim``, as a tuple of views."""
        return unbind(self, dim)

    # -- indexing ----------------------------------------------------------------------------------------
    def gather(self, dim, index):
        """``out[i][j] = self[index[i][j]][j]`` for dim=0 (and so on): values picked along ``dim``."""
        return gather(self, dim, index)

    def index_select(self, dim, index):
        """The entries at the integer ``index`` along ``dim``."""
        return index_select(self, dim, index)

    def masked_fill(self, mask, value):
        """A copy with ``value`` where the bool ``mask`` is True."""
        return masked_fill(self, mask, value)

    # -- linear algebra ----------------------------------------------------------------------------------
    def matmul(self, other):
        """Matrix product with numpy/PyTorch rules for 1-D, 2-D and batched operands."""
        return matmul(self, other)

    def mm(self, other):
        """Product of two 2-D tensors."""
        return mm(self, other)

    def bmm(self, other):
        """Batched product of two 3-D tensors."""
        return bmm(self, other)

    def mv(self, vec):
        """Product of a 2-D tensor and a 1-D tensor."""
        return mv(self, vec)

    def dot(self, other):
        """Inner product of two 1-D tensors."""
        return dot(self, other)

    # -- in-place ----------------------------------------------------------------------------------------
    def add_(self, other, *, alpha=1):
        """In place: ``self += alpha * other``."""
        return add_(self, other, alpha=alpha)

    def sub_(self, other, *, alpha=1):
        """In place: ``self -= alpha * other``."""
        return sub_(self, other, alpha=alpha)

    def mul_(self, other):
        """In place: ``self *= other``."""
        return mul_(self, other)

    def div_(self, other):
        """In place: ``self /= other``."""
        return div_(self, other)

    def pow_(self, exponent):
        """In place: ``self **= exponent``."""
        return pow_(self, exponent)

    def neg_(self):
        """In place: ``self = -self``."""
        return mul_(self, -1)

    def zero_(self):
        """In place: fill with zeros."""
        return fill_(self, 0)

    def fill_(self, value):
        """In place: fill with ``value``."""
        return fill_(self, value)

    def clamp_(self, min=None, max=None):
        """In place: limit values to [min, max]."""
        return clamp_(self, min, max)

    clip_ = clamp_

    def copy_(self, src):
        """In place: copy ``src``'s values (broadcast to this shape) into this tensor."""
        return copy_(self, src)

    def masked_fill_(self, mask, value):
        """In place: set ``value`` where the bool ``mask`` is True."""
        return masked_fill_(self, mask, value)

    def uniform_(self, a=0.0, b=1.0):
        """In place: fill with samples from U(a, b) drawn from the global generator."""
        return uniform_(self, a, b)

    def normal_(self, mean=0.0, std=1.0):
        """In place: fill with samples from N(mean, std²) drawn from the global generator."""
        return normal_(self, mean, std)


def _sizes(args):
    """Accept both f(2, 3) and f((2, 3)) / f([2, 3]) as PyTorch does."""
    if len(args) == 1 and isinstance(args[0], (tuple, list)):
        return tuple(args[0])
    return args


def _dim(dim, ndim, op):
    """Normalise a possibly negative dimension, with PyTorch's IndexError when out of range."""
    lo = -ndim if ndim else -1
    hi = ndim - 1 if ndim else 0
    if not lo <= dim <= hi:
        raise IndexError(
            f"Dimension out of range (expected to be in range of [{lo}, {hi}], but got {dim}) in {op}"
        )
    return dim % ndim if ndim else 0


# The one upward edge of the stack: Tensor methods call into the ops layer, imported once here.
from nnkit.ops.elementwise import (  # noqa: E402
    abs,
    add,
    bitwise_and,
    bitwise_not,
    bitwise_or,
    bitwise_xor,
    ceil,
    clamp,
    clone,
    cos,
    div,
    eq,
    exp,
    floor,
    floor_divide,
    ge,
    gt,
    isfinite,
    isinf,
    isnan,
    le,
    log,
    log1p,
    logical_not,
    lt,
    maximum,
    minimum,
    mul,
    ne,
    neg,
    pow,
    reciprocal,
    relu,
    remainder,
    round,
    rsqrt,
    sigmoid,
    sign,
    sin,
    sqrt,
    square,
    sub,
    tanh,
    to_dtype,
    where,
)
from nnkit.ops.indexing import gather, getitem, index_select, masked_fill, setitem  # noqa: E402
from nnkit.ops.inplace import (  # noqa: E402
    add_,
    clamp_,
    copy_,
    div_,
    fill_,
    masked_fill_,
    mul_,
    normal_,
    pow_,
    sub_,
    uniform_,
)
from nnkit.ops.linalg import bmm, dot, matmul, mm, mv  # noqa: E402
from nnkit.ops.reduction import (  # noqa: E402
    all,
    amax,
    amin,
    any,
    argmax,
    argmin,
    log_softmax,
    logsumexp,
    max,
    mean,
    min,
    norm,
    prod,
    softmax,
    std,
    sum,
    var,
)
from nnkit.ops.shape import (  # noqa: E402
    chunk,
    expand,
    flatten,
    permute,
    repeat,
    reshape,
    split,
    squeeze,
    t,
    transpose,
    unbind,
    unflatten,
    unsqueeze,
    view,
)

# Still the late-import block: the operators and methods that run most often are the op functions
# themselves (same arguments, same meaning) rather than one-line methods calling them. One Python call less
# per op is 2-3% of a recorded op and of a no-grad op on small tensors (W1, NG in benchmarks/).
Tensor.__add__, Tensor.__sub__, Tensor.__mul__, Tensor.__truediv__ = add, sub, mul, div
Tensor.exp, Tensor.tanh, Tensor.sigmoid, Tensor.relu = exp, tanh, sigmoid, relu
