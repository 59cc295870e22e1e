"""Pooling: ``max_pool2d``, ``avg_pool2d`` and ``adaptive_avg_pool2d`` over the last two dimensions.

Inputs are ``(N, C, H, W)`` or unbatched ``(C, H, W)``; the leading dimensions are flattened into one batch of
planes ``(B, H, W)`` for the numpy kernels (no Python loop over planes or output pixels).

- ``max_pool2d`` takes a running maximum over the kernel taps, each tap a strided ``(B, Ho, Wo)`` view of the
  input (no copy), then (only when a gradient or the indices are asked for) finds the first tap that holds
  each maximum (PyTorch's rule for ties; a NaN wins, the last one if several) and keeps it as one byte per
  output. Its backward writes ``grad * (tap == t)`` into tap ``t``'s strided view of the input gradient, one
  tap at a time (an add instead of a write when windows overlap): no index arrays, no scatter.
- ``avg_pool2d`` sums the taps separably (along the width, then the height) on strided views and divides by
  each window's count; its backward spreads the gradient back the same way.
- ``adaptive_avg_pool2d`` is ``A_h @ x @ A_w.T`` with two small averaging matrices (windows
  ``[floor(i*H/oh), ceil((i+1)*H/oh))``); an output of ``1x1`` is a ``mean`` over the plane, as in PyTorch.

Given the indices (max) or the geometry (average), each pooling is a fixed linear map. Backward applies its
adjoint; the adjoint's backward applies the map again. Both directions take arrays or Tensors, so
``create_graph=True`` works to any order.
"""

import numpy as np

from nnkit.autograd.grad_mode import recording
from nnkit.autograd.node import Node
from nnkit.ops import reduction
from nnkit.tensor import Tensor, _make

__all__ = ["max_pool2d", "avg_pool2d", "adaptive_avg_pool2d"]

_TORCH_NAMES = {"int64": "Long", "int32": "Int", "int16": "Short", "int8": "Char", "uint8": "Byte", "bool": "Bool"}


# -- geometry -----------------------------------------------------------------------------------------------------
def _pair(value, op, name, omitted_ok=False):
    if isinstance(value, (int, np.integer)) and not isinstance(value, bool):
        return (int(value), int(value))
    if isinstance(value, (tuple, list)) and len(value) in (1, 2) and all(
        isinstance(v, (int, np.integer)) and not isinstance(v, bool) for v in value
    ):
        return (int(value[0]), int(value[-1]))
    how = "either be omitted, a single int, or" if omitted_ok else "either be a single int, or"
    raise RuntimeError(f"{op}: {name} must {how} a tuple of two ints (got {value!r})")


def _out_size(size, k, s, p, d, ceil_mode):
    """PyTorch's pooling_output_shape."""
    numerator = size + 2 * p - d * (k - 1) - 1 + (s - 1 if ceil_mode else 0)
    out = numerator // s + 1
    if ceil_mode and (out - 1) * s >= size + p:
        out -= 1
    return out


class _PoolGeometry:
    """Kernel, stride, padding, dilation and the input/output plane sizes of one pooling call."""

    __slots__ = ("kernel", "stride", "padding", "dilation", "in_hw", "out_hw", "shape")

    def __init__(self, kernel, stride, padding, dilation, in_hw, out_hw, shape):
        self.kernel, self.stride, self.padding, self.dilation = kernel, stride, padding, dilation
        self.in_hw, self.out_hw, self.shape = in_hw, out_hw, shape

    @property
    def extent(self):
        """Rows and columns the windows reach on the padded input (top/left padding included)."""
        return tuple((o - 1) * s + d * (k - 1) + 1 for o, s, d, k in zip(self.out_hw, self.stride, self.dilation,
                                                                           self.kernel))

    @property
    def overlapping(self):
        return any(s < d * (k - 1) + 1 for s, d, k in zip(self.stride, self.dilation, self.kernel))

    @property
    def plain(self):
        """No padding needed: every window lies inside the input."""
        return not any(self.padding) and all(e <= n for e, n in zip(self.extent, self.in_hw))

    def out_shape(self):
        return self.shape[:-2] + self.out_hw


def _geometry(op, input, kernel_size, stride, padding, dilation, ceil_mode):
    if not isinstance(input, Tensor):
        raise TypeError(f"{op}(): argument 'input' must be a Tensor, not {type(input).__name__}")
    shape = input._data.shape
    kernel = _pair(kernel_size, op, "kernel_size")
    stride = kernel if stride is None or (isinstance(stride, (tuple, list)) and len(stride) == 0) else _pair(
        stride, op, "stride", omitted_ok=True)
    padding = _pair(padding, op, "padding")
    dilation = _pair(dilation, op, "dilation")
    if len(shape) not in (3, 4) or (len(shape) == 4 and shape[1] == 0) or (len(shape) == 3 and shape[0] == 0):
        raise RuntimeError(
            "non-empty 3D or 4D (batch mode) tensor expected for input "
            f"({op} got a tensor of shape {list(shape)}; pool over (N, C, H, W) or (C, H, W))"
        )
    if any(k <= 0 for k in kernel):
        raise RuntimeError(
            f"kernel size should be greater than zero, but got kH: {kernel[0]} kW: {kernel[1]} ({op})"
        )
    if any(s <= 0 for s in stride):
        raise RuntimeError(f"stride should not be zero ({op} got stride={list(stride)})")
    if any(d <= 0 for d in dilation):
        raise RuntimeError(
            f"dilation should be greater than zero, but got dilationH: {dilation[0]} dilationW: {dilation[1]} ({op})"
        )
    if any(p < 0 for p in padding):
        raise RuntimeError(f"pad must be non-negative, but got pad: {min(padding)} ({op})")
    for p, k, d in zip(padding, kernel, dilation):
        if p > ((k - 1) * d + 1) // 2:
            raise RuntimeError(
                f"pad should be at most half of effective kernel size, but got pad={p}, kernel_size={k} and "
                f"dilation={d} ({op}: use padding <= {((k - 1) * d + 1) // 2})"
            )
    in_hw = shape[-2:]
    out_hw = tuple(_out_size(n, k, s, p, d, ceil_mode) for n, k, s, p, d in zip(in_hw, kernel, stride, padding,
                                                                                 dilation))
    if any(o <= 0 for o in out_hw):
        lead = shape[-3]
        raise RuntimeError(
            f"Given input size: ({lead}x{in_hw[0]}x{in_hw[1]}). Calculated output size: "
            f"({lead}x{max(out_hw[0], 0)}x{max(out_hw[1], 0)}). Output size is too small ({op} of input "
            f"{list(shape)} with kernel_size={list(kernel)}, stride={list(stride)}, padding={list(padding)}, "
            f"dilation={list(dilation)}: use a larger input or a smaller kernel)"
        )
    return _PoolGeometry(kernel, stride, padding, dilation, in_hw, out_hw, shape)


def _planes(a):
    """An array of shape ``(*lead, H, W)`` as ``(B, H, W)`` (a view when possible)."""
    return a.reshape(-1, *a.shape[-2:])


def _padded_hw(geo):
    """Size of the input planes padded to cover every window: top/left by the padding, bottom/right as needed."""
    (h, w), (ph, pw), (eh, ew) = geo.in_hw, geo.padding, geo.extent
    return ph + max(h, eh - ph), pw + max(w, ew - pw)


def _unpadded(geo):
    """Index of the input inside padded ``(B, Hp, Wp)`` planes."""
    (h, w), (ph, pw) = geo.in_hw, geo.padding
    return slice(None), slice(ph, ph + h), slice(pw, pw + w)


def _padded(x, geo, fill):
    """``(B, H, W)`` planes padded with ``fill`` to cover every window (see ``_padded_hw``)."""
    xp = np.full((x.shape[0], *_padded_hw(geo)), fill, x.dtype)
    xp[_unpadded(geo)] = x
    return xp


def _tap_slices(geo, i, j):
    """Rows and columns of the padded input that kernel tap (i, j) reads, one per output pixel."""
    (ho, wo), (sh, sw), (dh, dw) = geo.out_hw, geo.stride, geo.dilation
    return (slice(i * dh, i * dh + sh * (ho - 1) + 1, sh), slice(j * dw, j * dw + sw * (wo - 1) + 1, sw))


def _tap_views(planes, geo):
    """For each kernel tap (row-major): the ``(B, Ho, Wo)`` strided view of what it reads in padded planes."""
    kh, kw = geo.kernel
    return [planes[(slice(None),) + _tap_slices(geo, i, j)] for i in range(kh) for j in range(kw)]


# -- fixed linear maps and their nodes ----------------------------------------------------------------------------
def _record(out, node):
    out._requires_grad = True
    out.grad_fn = node
    return node


def _apply(linear_map, x, adjoint):
    """The map (or its adjoint) of an array, or of a Tensor with a node recording it."""
    if not isinstance(x, Tensor):
        return linear_map.adjoint(x) if adjoint else linear_map.forward(x)
    out = _make(linear_map.adjoint(x._data) if adjoint else linear_map.forward(x._data))
    if x._requires_grad and recording():
        node = _record(out, (linear_map.adjoint_node if adjoint else linear_map.forward_node)((x,)))
        node.map = linear_map
    return out


class _MapBackward(Node):
    """Backward of a fixed linear map: applies its adjoint (or, for a ``...BackwardBackward0``, the map)."""

    __slots__ = ("map",)
    array_backward = True
    adjoint = True

    def backward(self, grad):
        self.saved()  # raises if freed, or if a saved tensor (max_pool2d's indices) was modified in place
        return (_apply(self.map, grad, self.adjoint),)


class MaxPool2DWithIndicesBackward0(_MapBackward):
    __slots__ = ()
    saved_names = ("result1",)


class MaxPool2DWithIndicesBackwardBackward0(_MapBackward):
    __slots__ = ()
    adjoint = False


class AvgPool2DBackward0(_MapBackward):
    __slots__ = ()


class AvgPool2DBackwardBackward0(_MapBackward):
    __slots__ = ()
    adjoint = False


class AdaptiveAvgPool2DBackward0(_MapBackward):
    __slots__ = ()


class AdaptiveAvgPool2DBackwardBackward0(_MapBackward):
    __slots__ = ()
    adjoint = False


# -- max pooling --------------------------------------------------------------------------------------------------
def _fill_value(dtype):
    return -np.inf if dtype.kind == "f" else np.iinfo(dtype).min


def _max_pool_arrays(x, geo, need_tap):
    """(max, tap) of ``(B, H, W)`` planes: the maximum of each window, ``(B, Ho, Wo)``, and (if ``need_tap``) the
    kernel tap ``i * kw + j`` that holds it (uint8, or int32 for kernels of 256 taps or more), else None."""
    fill = _fill_value(x.dtype)
    views = _tap_views(x if geo.plain else _padded(x, geo, fill), geo)
    out = views[0].copy()
    for view in views[1:]:
        np.maximum(out, view, out=out)
    if not need_tap:
        return out, None
    # The first tap that holds the maximum (PyTorch's rule for ties) in Horner form over "tap t is not it":
    # ne_0 * (1 + ne_1 * (1 + ... * (1 + ne_(kk-2)))), whole-array arithmetic instead of masked writes.
    kk = len(views)
    tap = np.zeros(out.shape, np.uint8 if kk < 256 else np.int32)
    for t in range(kk - 2, -1, -1):
        tap += 1
        tap *= views[t] != out
    if x.dtype.kind == "f" and np.isnan(out).any():  # PyTorch: a NaN is the maximum (the last NaN of a window)
        for t, view in enumerate(views):
            np.putmask(tap, np.isnan(view), t)
    if not geo.plain:
        empty = out == fill  # all real values at the fill value: PyTorch points at the window's first real one
        if empty.any():
            (ho, wo), kw = geo.out_hw, geo.kernel[1]
            (sh, sw), (dh, dw), (ph, pw) = geo.stride, geo.dilation, geo.padding
            first_i = np.maximum(-(-(ph - np.arange(ho) * sh) // dh), 0)
            first_j = np.maximum(-(-(pw - np.arange(wo) * sw) // dw), 0)
            first = np.broadcast_to(first_i[:, None] * kw + first_j, out.shape)
            tap = np.where(empty, first, tap).astype(tap.dtype)
    return out, tap


def _plane_index(tap, geo):
    """The flat index ``h * W + w`` in its plane of the input pixel each window's ``tap`` points at."""
    w, (ho, wo), kw = geo.in_hw[1], geo.out_hw, geo.kernel[1]
    (sh, sw), (dh, dw), (ph, pw) = geo.stride, geo.dilation, geo.padding
    index = (tap // kw).astype(np.int64)
    index *= dh * w - kw * dw  # row * dh * w + col * dw, with col = tap - row * kw
    index += tap if dw == 1 else tap * np.int64(dw)
    index += (np.arange(ho) * sh - ph)[:, None] * w + (np.arange(wo) * sw - pw)
    return index


class _MaxPoolMap:
    """Gather at fixed positions (the max pool, given its argmax taps) and its adjoint, the scatter."""

    __slots__ = ("geo", "tap")
    forward_node = MaxPool2DWithIndicesBackward0
    adjoint_node = MaxPool2DWithIndicesBackwardBackward0

    def __init__(self, geo, tap):
        self.geo, self.tap = geo, tap

    def forward(self, x):
        geo = self.geo
        planes = _planes(x)
        out = np.zeros(self.tap.shape, x.dtype)
        for t, view in enumerate(_tap_views(planes if geo.plain else _padded(planes, geo, 0), geo)):
            np.copyto(out, view, where=self.tap == t)
        return out.reshape(geo.out_shape())

    def adjoint(self, grad):
        geo = self.geo
        g = _planes(grad)
        gxp = np.zeros((g.shape[0], *_padded_hw(geo)), grad.dtype)
        for t, target in enumerate(_tap_views(gxp, geo)):
            if geo.overlapping:
                target += g * (self.tap == t)
            else:  # each input pixel is in one window at most: write, no read
                np.multiply(g, self.tap == t, out=target)
        return np.ascontiguousarray(gxp[_unpadded(geo)]).reshape(geo.shape)


def max_pool2d(input, kernel_size, stride=None, padding=0, dilation=1, ceil_mode=False, return_indices=False):
    """2-D max pooling over the last two dimensions.

    ``out[..., h, w]`` is the maximum of the window starting at ``(h*sH - pH, w*sW - pW)`` with taps
    ``dilation`` apart; padding counts as ``-inf``. The gradient flows to the first maximum of each window
    (row-major order; a NaN counts as the maximum), as in PyTorch.

    Args:
        input: ``(N, C, H, W)`` or ``(C, H, W)``.
        kernel_size: an int or ``(kH, kW)``.
        stride: an int or ``(sH, sW)``; default ``kernel_size``.
        padding: an int or ``(pH, pW)``, at most half the (dilated) kernel.
        dilation: an int or ``(dH, dW)``.
        ceil_mode: round the output size up instead of down (a last partial window, which must start inside
            the input or its left padding).
        return_indices: also return the flat index ``h * W + w`` of each maximum within its plane (int64).

    Returns:
        ``(N, C, Ho, Wo)`` with ``Ho = (H + 2*pH - dH*(kH - 1) - 1) // sH + 1``; and the indices if asked.

    Example::

        F.max_pool2d(nk.randn(8, 16, 28, 28), 2).shape      # (8, 16, 14, 14)
    """
    geo = _geometry("max_pool2d", input, kernel_size, stride, padding, dilation, ceil_mode)
    data = input._data
    if data.dtype.kind == "b":
        raise RuntimeError('"max_pool2d" not implemented for \'Bool\' (convert the input with .float())')
    need_tap = return_indices or (input._requires_grad and recording())
    values, tap = _max_pool_arrays(_planes(data), geo, need_tap)
    out_shape = geo.out_shape()
    out = _make(values.reshape(out_shape))
    indices = _make(_plane_index(tap, geo).reshape(out_shape)) if return_indices else None
    if input._requires_grad and recording():
        node = _record(out, MaxPool2DWithIndicesBackward0((input,)))
        node.map = _MaxPoolMap(geo, tap)
        node.save(indices)  # the indices returned (if any): backward fails if they are changed in place
    return (out, indices) if return_indices else out


# -- average pooling ----------------------------------------------------------------------------------------------
def _window_counts(n, k, s, p, out, include_pad):
    """Per output row (or column): the number of input rows its window averages over."""
    start = np.arange(out) * s - p
    end = np.minimum(start + k, n + p)
    if include_pad:
        return end - start
    return np.minimum(end, n) - np.maximum(start, 0)


class _AvgPoolMap:
    """Window sums divided by each window's count (or by ``divisor_override``), and the adjoint."""

    __slots__ = ("geo", "divisor")
    forward_node = AvgPool2DBackward0
    adjoint_node = AvgPool2DBackwardBackward0

    def __init__(self, geo, count_include_pad, divisor_override, dtype):
        self.geo = geo
        if divisor_override is not None:
            self.divisor = divisor_override
        else:
            (h, w), (kh, kw), (sh, sw), (ph, pw) = geo.in_hw, geo.kernel, geo.stride, geo.padding
            ch = _window_counts(h, kh, sh, ph, geo.out_hw[0], count_include_pad)
            cw = _window_counts(w, kw, sw, pw, geo.out_hw[1], count_include_pad)
            self.divisor = (ch[:, None] * cw).astype(dtype if dtype.kind == "f" else np.float64)

    def forward(self, x):
        geo = self.geo
        kh, kw = geo.kernel
        xp = _planes(x)
        if not geo.plain:
            xp = _padded(xp, geo, 0)
        acc_dtype = np.float64 if xp.dtype.kind != "f" else xp.dtype
        # separable: sum along the width for every padded row, then along the height
        rows = xp[:, :, _tap_slices(geo, 0, 0)[1]].astype(acc_dtype)
        for j in range(1, kw):
            rows += xp[:, :, _tap_slices(geo, 0, j)[1]]
        total = rows[:, _tap_slices(geo, 0, 0)[0], :].copy()
        for i in range(1, kh):
            total += rows[:, _tap_slices(geo, i, 0)[0], :]
        with np.errstate(invalid="ignore", divide="ignore"):
            out = total / self.divisor
        if x.dtype.kind != "f":
            out = np.trunc(out)
        return out.astype(x.dtype, copy=False).reshape(geo.out_shape())

    def adjoint(self, grad):
        geo = self.geo
        kh, kw = geo.kernel
        with np.errstate(invalid="ignore", divide="ignore"):
            g = (_planes(grad) / self.divisor).astype(grad.dtype, copy=False)
        b = g.shape[0]
        hp, wp = _padded_hw(geo)
        rows = np.zeros((b, hp, geo.out_hw[1]), grad.dtype)
        for i in range(kh):
            rows[:, _tap_slices(geo, i, 0)[0], :] += g
        gxp = np.zeros((b, hp, wp), grad.dtype)
        for j in range(kw):
            gxp[:, :, _tap_slices(geo, 0, j)[1]] += rows
        return np.ascontiguousarray(gxp[_unpadded(geo)]).reshape(geo.shape)


def avg_pool2d(input, kernel_size, stride=None, padding=0, ceil_mode=False, count_include_pad=True,
               divisor_override=None):
    """2-D average pooling over the last two dimensions.

    Args:
        input: ``(N, C, H, W)`` or ``(C, H, W)``.
        kernel_size: an int or ``(kH, kW)``.
        stride: an int or ``(sH, sW)``; default ``kernel_size``.
        padding: zero padding on each side, an int or ``(pH, pW)``, at most half the kernel.
        ceil_mode: round the output size up (a last partial window).
        count_include_pad: divide by the window size including padded zeros (True) or by the number of real
            input pixels in the window (False). A window cut by ``ceil_mode`` never counts past the padding.
        divisor_override: divide every window sum by this instead.

    Returns:
        ``(N, C, Ho, Wo)`` with ``Ho = (H + 2*pH - kH) // sH + 1``.

    Example::

        F.avg_pool2d(nk.randn(8, 16, 28, 28), 2).shape      # (8, 16, 14, 14)
    """
    geo = _geometry("avg_pool2d", input, kernel_size, stride, padding, 1, ceil_mode)
    if divisor_override is not None and divisor_override == 0:
        raise RuntimeError("divisor must be not zero")
    data = input._data
    if data.dtype.kind == "b":
        raise RuntimeError('"avg_pool2d" not implemented for \'Bool\' (convert the input with .float())')
    return _apply(_AvgPoolMap(geo, count_include_pad, divisor_override, data.dtype), input, adjoint=False)


# -- adaptive average pooling --------------------------------------------------------------------------------------
def _averaging_matrix(n, out, dtype):
    """(out, n): row i averages input rows [floor(i*n/out), ceil((i+1)*n/out))."""
    i = np.arange(out)
    start = (i * n) // out
    end = -((-(i + 1) * n) // out)
    cols = np.arange(n)
    inside = (cols >= start[:, None]) & (cols < end[:, None])
    return (inside / (end - start)[:, None]).astype(dtype)


class _SeparableMap:
    """``A_h @ x @ A_w.T`` on the last two dimensions, and the adjoint ``A_h.T @ g @ A_w``."""

    __slots__ = ("a_h", "a_w", "in_shape", "out_shape")
    forward_node = AdaptiveAvgPool2DBackward0
    adjoint_node = AdaptiveAvgPool2DBackwardBackward0

    def __init__(self, a_h, a_w, in_shape):
        self.a_h, self.a_w, self.in_shape = a_h, a_w, in_shape
        self.out_shape = in_shape[:-2] + (a_h.shape[0], a_w.shape[0])

    @staticmethod
    def _both(x, a_h, a_w, shape):
        h, w = x.shape[-2:]
        oh, ow = a_h.shape[0], a_w.shape[0]
        y = (x.reshape(-1, w) @ a_w.T).reshape(-1, h, ow)
        z = (y.swapaxes(1, 2).reshape(-1, h) @ a_h.T).reshape(-1, ow, oh).swapaxes(1, 2)
        return np.ascontiguousarray(z).reshape(shape)

    def forward(self, x):
        return self._both(x, self.a_h, self.a_w, self.out_shape)

    def adjoint(self, grad):
        return self._both(grad, self.a_h.T, self.a_w.T, self.in_shape)


def adaptive_avg_pool2d(input, output_size):
    """2-D average pooling to a fixed output size, whatever the input size.

    Output pixel ``(i, j)`` averages input rows ``[floor(i*H/oh), ceil((i+1)*H/oh))`` and the columns alike
    (windows may differ in size by one and may overlap).

    Args:
        input: ``(N, C, H, W)`` or ``(C, H, W)``, floating point.
        output_size: an int (square) or ``(oh, ow)``; ``None`` keeps that input size.

    Returns:
        ``(N, C, oh, ow)``.

    Example::

        F.adaptive_avg_pool2d(nk.randn(8, 512, 7, 7), 1).shape       # (8, 512, 1, 1)
        F.adaptive_avg_pool2d(nk.randn(8, 3, 10, 9), (4, None)).shape  # (8, 3, 4, 9)
    """
    if not isinstance(input, Tensor):
        raise TypeError(f"adaptive_avg_pool2d(): argument 'input' must be a Tensor, not {type(input).__name__}")
    data = input._data
    if data.ndim not in (3, 4):
        raise RuntimeError(f"adaptive_avg_pool2d(): Expected 3D or 4D tensor, but got {list(data.shape)}")
    for d in range(1, data.ndim):
        if data.shape[d] == 0:
            raise RuntimeError(
                "adaptive_avg_pool2d(): Expected input to have non-zero size for non-batch dimensions, but input "
                f"has sizes {list(data.shape)} with dimension {d} being empty"
            )
    if data.dtype.kind != "f":
        raise RuntimeError(
            f'"adaptive_avg_pool2d" not implemented for \'{_TORCH_NAMES.get(data.dtype.name, data.dtype.name)}\' '
            "(convert the input with .float())"
        )
    if isinstance(output_size, (tuple, list)):
        if len(output_size) != 2:
            raise RuntimeError(f"adaptive_avg_pool2d: output_size must be 2 (got {list(output_size)})")
        size = tuple(n if s is None else s for s, n in zip(output_size, data.shape[-2:]))
    else:
        size = (output_size, output_size)
    if not all(isinstance(s, (int, np.integer)) and not isinstance(s, bool) for s in size):
        raise TypeError(f"adaptive_avg_pool2d(): output_size must be ints or None, got {output_size!r}")
    if any(s < 0 for s in size):
        raise RuntimeError(
            "adaptive_avg_pool2d: elements of output_size must be greater than or equal to 0 but received "
            f"{{{size[0]}, {size[1]}}}"
        )
    if size == (1, 1):
        return reduction.mean(input, (-2, -1), True)
    h, w = data.shape[-2:]
    linear_map = _SeparableMap(_averaging_matrix(h, size[0], data.dtype), _averaging_matrix(w, size[1], data.dtype),
                               data.shape)
    return _apply(linear_map, input, adjoint=False)
