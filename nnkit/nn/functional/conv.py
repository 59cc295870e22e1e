"""Convolutions: ``conv1d`` and ``conv2d`` (cross-correlation, as in PyTorch), one fused node each.

How the math runs on numpy (vectorised: Python loops only over the kernel taps). The input is laid out
*channel-major* in a zero-padded buffer (channels first, then every sample's padded pixels; see ``_Geometry``),
so that each product below covers the whole batch at once:

- A convolution is a sum over the kernel taps: ``out = sum_(i, j) weight[:, :, i, j] @ x_(i, j)`` where
  ``x_(i, j)`` is ``(C, pixels)``: what tap ``(i, j)`` reads at every output pixel of every sample. With stride 1
  that is the padded buffer itself shifted by the tap's offset (a slice: no copy); with a larger stride it is a
  strided copy. Taps are stacked into one product (im2col: the ``x_(i, j)`` copied one above the other, a
  ``(C*kh*kw, pixels)`` matrix) as far as ``_COLUMNS_BYTES`` allows — one large product beats nine small ones
  and their sum — and at least until each product sums over ``_MIN_DEPTH`` values (a first layer has 1 or 3
  channels: a product over so few runs far below speed).
- ``grad_weight = grad_output @ columns.T`` with the forward's im2col matrix when it was built whole (it is
  kept for this), else one product per tap, ``grad_output @ x_(i, j).T``; the inner dimension is every output
  pixel of the batch.
- ``grad_input``: ``weight[:, :, i, j].T @ grad_output`` added at tap ``(i, j)``'s place of the padded input
  gradient (col2im one tap at a time: one contiguous add per tap with stride 1).
- With groups, each product is a batch of ``groups`` products over the channel blocks.

Double backward: the backward node is written with three functions that take numpy arrays or Tensors —
``_conv`` (the forward), ``_conv_input_grad`` and ``_conv_weight_grad`` — each of which records its own node
when given Tensors. The three maps are bilinear and each one's derivatives are the other two, so
``create_graph=True`` works to any order.
"""

import numpy as np
from numpy.lib.stride_tricks import as_strided

from nnkit.autograd.grad_mode import recording
from nnkit.autograd.node import Node
from nnkit.ops import reduction, shape
from nnkit.tensor import Tensor, _make

__all__ = ["conv1d", "conv2d"]

# The im2col matrix may take this many bytes (it lives from forward to backward); past it, taps are stacked
# only until a product sums over _MIN_DEPTH values.
_COLUMNS_BYTES = 32 * 2**20
_MIN_DEPTH = 16

_SCALAR_NAMES = {"float32": "Float", "float64": "Double", "float16": "Half", "int64": "Long", "int32": "Int"}
_CPP_NAMES = {"float32": "float", "float64": "double", "float16": "c10::Half", "int64": "long int"}


class _Geometry:
    """Everything about one convolution but the values, in 2-D form (a 1-D convolution has height 1), and the
    layout of the channel-major padded input buffer. ``pad`` is (top, bottom, left, right).

    Stride 1 (``flat``): the buffer is ``(C, size)``; row ``r`` of image ``n`` starts at
    ``lead + n * plane + r * pitch`` and is followed by ``pitch - W`` zeros; each image by ``rows - H`` zero rows
    (``plane = rows * pitch``). One run of zeros serves as the right padding of a row and the left padding of the
    next (likewise for rows between images), so little is wasted. Output pixel ``(n, h, w)`` is column
    ``n * plane + h * pitch + w`` of every product, and kernel tap ``(i, j)`` reads the buffer from
    ``origin + i * dh * pitch + j * dw``: a plain slice of ``span`` columns, no copy. Outputs that fall in the
    zero runs (``w >= Wo`` or ``h >= Ho``) are computed and dropped.
    Larger strides: the buffer is ``(C, N, Hp, Wp)`` zero-padded; output pixel ``(n, h, w)`` is column
    ``n * Ho * Wo + h * Wo + w`` and each tap's input is a strided copy.
    """

    __slots__ = ("nd", "n", "stride", "dilation", "pad", "groups", "in_hw", "kernel", "out_hw", "flat", "pitch",
                 "plane", "rows", "span", "lead", "origin", "size")

    def __init__(self, nd, n, stride, dilation, pad, groups, in_hw, kernel):
        self.nd, self.n, self.stride, self.dilation, self.pad, self.groups = nd, n, stride, dilation, pad, groups
        self.in_hw, self.kernel = in_hw, kernel
        (h, w), (pt, pb, pl, pr) = in_hw, pad
        self.out_hw = ho, wo = tuple(
            (size + lo + hi - d * (k - 1) - 1) // s + 1
            for size, lo, hi, k, s, d in zip(in_hw, pad[::2], pad[1::2], kernel, stride, dilation)
        )
        self.flat = stride == (1, 1)
        if self.flat:
            self.rows, self.pitch = h + max(pt, pb, ho - h), w + max(pl, pr, wo - w)
            self.lead = (self.rows - h) * self.pitch + self.pitch - w  # zeros before the first image
            self.origin = self.lead - pt * self.pitch - pl
            reach = (kernel[0] - 1) * dilation[0] * self.pitch + (kernel[1] - 1) * dilation[1]
        else:
            self.rows, self.pitch = ho, wo
            reach = 0
        self.plane = self.rows * self.pitch
        self.span = (n - 1) * self.plane + (ho - 1) * self.pitch + wo  # columns up to the last output pixel
        if self.flat:
            self.size = max(self.lead + n * self.plane, self.origin + reach + self.span)

    def buffer(self, c, dtype):
        """A zero input buffer (or input-gradient buffer) of ``c`` channels."""
        if self.flat:
            return np.zeros((c, self.size), dtype)
        (h, w), (pt, pb, pl, pr) = self.in_hw, self.pad
        return np.zeros((c, self.n, h + pt + pb, w + pl + pr), dtype)

    def inside(self, buf):
        """``(C, N, H, W)`` view of the input pixels in a buffer."""
        (h, w), c = self.in_hw, buf.shape[0]
        if self.flat:
            body = buf[:, self.lead:self.lead + self.n * self.plane].reshape(c, self.n, self.rows, self.pitch)
            return body[:, :, :h, :w]
        return buf[:, :, self.pad[0]:self.pad[0] + h, self.pad[2]:self.pad[2] + w]

    def window(self, buf, i, j):
        """What kernel tap ``(i, j)`` reads at each output pixel, as a view of a buffer: ``(C, span)`` with stride
        1, else ``(C, N, Ho, Wo)``."""
        (ho, wo), (sh, sw), (dh, dw) = self.out_hw, self.stride, self.dilation
        if self.flat:
            start = self.origin + i * dh * self.pitch + j * dw
            return buf[:, start:start + self.span]
        return buf[:, :, i * dh:i * dh + sh * (ho - 1) + 1:sh, j * dw:j * dw + sw * (wo - 1) + 1:sw]

    def pixels(self, rows):
        """``(N, O, Ho, Wo)`` view of the output pixels in ``rows``: ``(O, span)`` with unit column stride, or
        ``(O, N * plane)``."""
        it = rows.itemsize
        shape = (self.n, rows.shape[0]) + self.out_hw
        return as_strided(rows, shape, (self.plane * it, rows.strides[0], self.pitch * it, it))


# -- numpy kernels (4-D arrays: (N, C, H, W); a 1-D convolution is reshaped to height 1 around them) ------------
def _to4d(a, nd):
    return a if nd == 2 else a.reshape(a.shape[0], a.shape[1], 1, a.shape[2])


def _from4d(a, nd):
    return a if nd == 2 else a.reshape(a.shape[0], a.shape[1], a.shape[3])


def _weight_shape(gw, nd):
    """A 4-D weight gradient in the weight's own rank (a 1-D convolution's weight has no height)."""
    return gw if nd == 2 else gw.reshape(gw.shape[0], gw.shape[1], gw.shape[3])


def _padded(x, geo):
    """The 4-D input in its channel-major padded buffer (see ``_Geometry``)."""
    xp = geo.buffer(x.shape[1], x.dtype)
    geo.inside(xp)[...] = x.transpose(1, 0, 2, 3)
    return xp


def _tap_input(xp, geo, i, j):
    """``(C, span)``: what kernel tap ``(i, j)`` reads at each output pixel (a view with stride 1, else a copy)."""
    window = geo.window(xp, i, j)
    return window if geo.flat else window.reshape(xp.shape[0], geo.span)


def _grouped(a, groups):
    """Rows ``(G*k, L)`` -> ``(G, k, L)`` (a view) for a batch of per-group products; ``a`` itself for one group."""
    return a if groups == 1 else a.reshape(groups, a.shape[0] // groups, a.shape[1])


def _grad_matrix(gy, geo):
    """``grad_output (N, O, Ho, Wo)`` laid out as the taps' inputs: ``(O, span)``, zero where no output pixel is."""
    rows = (np.zeros if geo.flat else np.empty)((gy.shape[1], geo.n * geo.plane), gy.dtype)
    geo.pixels(rows)[...] = gy
    return rows[:, :geo.span]


def _forward_arrays(x, w, b, geo):
    """(output, columns): the convolution ``(N, O, Ho, Wo)`` of 4-D ``x`` with 4-D ``w`` plus bias ``b`` (or
    None), and the whole im2col matrix ``(C*kh*kw, span)`` if it was built, else None."""
    o, cg, kh, kw = w.shape
    c, g = x.shape[1], geo.groups
    xp = _padded(x, geo)
    taps = [(i, j) for i in range(kh) for j in range(kw)]
    fit = _COLUMNS_BYTES // (c * geo.span * x.itemsize)
    per = min(max(-(-_MIN_DEPTH // cg), fit), len(taps))  # taps per product
    wt = w.reshape(o, cg, kh * kw)
    y = np.empty((o, geo.span), x.dtype)
    part = np.empty_like(y) if per < len(taps) else y
    for start in range(0, len(taps), per):
        chunk = taps[start:start + per]
        if len(chunk) == 1:
            cols = _tap_input(xp, geo, *chunk[0])
        else:  # im2col over these taps: rows (channel, tap) as the weight's
            cols = np.empty((c, len(chunk), geo.span), x.dtype)
            for t, (i, j) in enumerate(chunk):
                cols[:, t] = _tap_input(xp, geo, i, j)
            cols = cols.reshape(-1, geo.span)
        weights = wt[:, :, start:start + len(chunk)].reshape(o, -1)
        np.matmul(_grouped(weights, g), _grouped(cols, g), out=_grouped(y if start == 0 else part, g))
        if start:
            y += part
    out = np.empty((geo.n, o, *geo.out_hw), y.dtype)
    if b is None:
        np.copyto(out, geo.pixels(y))
    else:
        np.add(geo.pixels(y), b[:, None, None], out=out)
    return out, cols if per == len(taps) else None


def _weight_grad_arrays(x, gy, geo, gmat=None, cols=None):
    """d<conv(x, w), gy>/dw for 4-D arrays (from the forward's im2col matrix ``cols`` if given):
    ``(O, C/groups, kh, kw)``."""
    o, c, g = gy.shape[1], x.shape[1], geo.groups
    kh, kw = geo.kernel
    gmat = _grad_matrix(gy, geo) if gmat is None else gmat
    if cols is not None:
        return np.matmul(_grouped(gmat, g), _grouped(cols, g).swapaxes(-1, -2)).reshape(o, c // g, kh, kw)
    xp = _padded(x, geo)
    gw = np.empty((o, c // g, kh, kw), gy.dtype)
    for i in range(kh):
        for j in range(kw):
            tap = _grouped(_tap_input(xp, geo, i, j), g).swapaxes(-1, -2)
            gw[:, :, i, j] = np.matmul(_grouped(gmat, g), tap).reshape(o, c // g)
    return gw


def _input_grad_arrays(gy, w, geo, gmat=None):
    """d<conv(x, w), gy>/dx for 4-D arrays: ``(N, C, H, W)`` (the transposed convolution of gy)."""
    n = gy.shape[0]
    _, cg, kh, kw = w.shape
    c, g = cg * geo.groups, geo.groups
    gmat = _grouped(_grad_matrix(gy, geo) if gmat is None else gmat, g)
    gxp = geo.buffer(c, gy.dtype)
    part = np.empty((c, geo.span), gy.dtype)
    for i in range(kh):
        for j in range(kw):
            np.matmul(_grouped(w[:, :, i, j], g).swapaxes(-1, -2), gmat, out=_grouped(part, g))
            window = geo.window(gxp, i, j)
            window += part.reshape(window.shape)
    gx = np.empty((n, c, *geo.in_hw), gy.dtype)
    np.copyto(gx, geo.inside(gxp).transpose(1, 0, 2, 3))
    return gx


# -- the differentiable maps: arrays in, arrays out; Tensors in, a recorded Tensor out ----------------------------
def _needs(node, i):
    return node._next[i] is not None


def _record(out, node):
    out._requires_grad = True
    out.grad_fn = node
    return node


def _as_tensors(*items):
    return [item if item is None or isinstance(item, Tensor) else _make(item) for item in items]


class ConvolutionBackward0(Node):
    """Backward of conv1d/conv2d; edges ``(input, weight, bias)`` as in PyTorch."""

    __slots__ = ("geo",)
    array_backward = True
    saved_names = ("input", "weight")

    def backward(self, grad):
        x, w, cols = self.saved()
        geo = self.geo
        need_x, need_w, need_b = _needs(self, 0), _needs(self, 1), _needs(self, 2)
        if isinstance(grad, Tensor):  # create_graph: differentiable formulas
            gx = _conv_input_grad(grad, w, geo) if need_x else None
            gw = _conv_weight_grad(x, grad, geo) if need_w else None
            gb = reduction.sum(grad, (0, 2, 3) if geo.nd == 2 else (0, 2)) if need_b else None
            return gx, gw, gb
        gy = _to4d(grad, geo.nd)
        gmat = _grad_matrix(gy, geo) if need_x or need_w else None
        gx = gw = gb = None
        if need_x:
            gx = _from4d(_input_grad_arrays(gy, _to4d(w, geo.nd), geo, gmat), geo.nd)
        if need_w:
            gw = _weight_shape(_weight_grad_arrays(_to4d(x, geo.nd), gy, geo, gmat, cols), geo.nd)
        if need_b:
            gb = gmat.sum(1) if gmat is not None else gy.sum((0, 2, 3))
        return gx, gw, gb


class ConvolutionBackwardBackward0(Node):
    """Backward of the input gradient ``gx = conv_transpose(gy, w)``; edges ``(grad_output, weight)``."""

    __slots__ = ("geo",)
    array_backward = True
    saved_names = ("grad_output", "weight")

    def backward(self, grad):
        gy, w = self.saved()
        g_gy = _conv(grad, w, self.geo) if _needs(self, 0) else None
        g_w = _conv_weight_grad(grad, gy, self.geo) if _needs(self, 1) else None
        return g_gy, g_w


class _WeightGradBackward(Node):
    """Backward of the weight gradient ``gw = weight_grad(x, gy)``; edges ``(input, grad_output)``."""

    __slots__ = ("geo",)
    array_backward = True
    saved_names = ("input", "grad_output")

    def name(self):
        return "ConvolutionBackwardBackward0"  # PyTorch's one node for both gradients of the convolution

    def backward(self, grad):
        x, gy = self.saved()
        g_x = _conv_input_grad(gy, grad, self.geo) if _needs(self, 0) else None
        g_gy = _conv(x, grad, self.geo) if _needs(self, 1) else None
        return g_x, g_gy


def _conv(x, w, geo, b=None):
    """The convolution (arrays or Tensors of the op's own rank); records ConvolutionBackward0 for Tensors."""
    if not isinstance(x, Tensor) and not isinstance(w, Tensor):
        return _from4d(_forward_arrays(_to4d(x, geo.nd), _to4d(w, geo.nd), b, geo)[0], geo.nd)
    x, w, b = _as_tensors(x, w, b)
    needs_grad = recording() and (
        x._requires_grad or w._requires_grad or (b is not None and b._requires_grad)
    )
    data, cols = _forward_arrays(_to4d(x._data, geo.nd), _to4d(w._data, geo.nd), None if b is None else b._data,
                                 geo)
    out = _make(_from4d(data, geo.nd))
    if needs_grad:
        node = _record(out, ConvolutionBackward0((x, w, b)))
        node.geo = geo
        keep = w._requires_grad and cols is not None  # the im2col matrix serves grad_weight
        node.save(x if w._requires_grad else None, w if x._requires_grad else None, _make(cols) if keep else None)
    return out


def _bilinear(array_fn, node_class, a, b, geo):
    """``array_fn(a, b, geo)`` of arrays; of Tensors, the same value with a ``node_class`` node (edges a, b)."""
    if not isinstance(a, Tensor) and not isinstance(b, Tensor):
        return array_fn(a, b, geo)
    a, b = _as_tensors(a, b)
    out = _make(array_fn(a._data, b._data, geo))
    if recording() and (a._requires_grad or b._requires_grad):
        node = _record(out, node_class((a, b)))
        node.geo = geo
        node.save(a if b._requires_grad else None, b if a._requires_grad else None)
    return out


def _input_grad(gy, w, geo):
    return _from4d(_input_grad_arrays(_to4d(gy, geo.nd), _to4d(w, geo.nd), geo), geo.nd)


def _weight_grad(x, gy, geo):
    return _weight_shape(_weight_grad_arrays(_to4d(x, geo.nd), _to4d(gy, geo.nd), geo), geo.nd)


def _conv_input_grad(gy, w, geo):
    """The input gradient of a convolution for ``grad_output`` gy (arrays or Tensors)."""
    return _bilinear(_input_grad, ConvolutionBackwardBackward0, gy, w, geo)


def _conv_weight_grad(x, gy, geo):
    """The weight gradient of a convolution of input x for ``grad_output`` gy (arrays or Tensors)."""
    return _bilinear(_weight_grad, _WeightGradBackward, x, gy, geo)


# -- argument checks, PyTorch's wording ------------------------------------------------------------------------
def _tuple(value, nd, name):
    if isinstance(value, (int, np.integer)) and not isinstance(value, bool):
        return (int(value),) * nd
    if isinstance(value, (tuple, list)) and all(
        isinstance(v, (int, np.integer)) and not isinstance(v, bool) for v in value
    ):
        if len(value) == 1:
            return (int(value[0]),) * nd
        if len(value) == nd:
            return tuple(int(v) for v in value)
    shown = list(value) if isinstance(value, (tuple, list)) else value
    raise RuntimeError(
        f"expected {name} to be a single integer value or a list of {nd} values to match the convolution "
        f"dimensions, but got {name}={shown}"
    )


def _padding(padding, nd, kernel, stride, dilation):
    """(top, bottom, left, right) from an int, a tuple, 'valid' or 'same' (extra padding on the right)."""
    if isinstance(padding, str):
        if padding == "valid":
            return (0, 0, 0, 0)
        if padding != "same":
            raise RuntimeError(f"Invalid padding string: '{padding}' (use 'valid', 'same', an int or a tuple)")
        if any(s != 1 for s in stride):
            raise RuntimeError(
                f"padding='same' is not supported for strided convolutions (stride={list(stride)[2 - nd:]}; "
                "pass an explicit padding instead)"
            )
        pads = []
        for k, d in zip(kernel, dilation):
            total = d * (k - 1)
            pads += [total // 2, total - total // 2]
        return tuple(pads)
    if isinstance(padding, float):
        raise TypeError(f"conv{nd}d(): padding must be an int, a tuple of ints or a string, not float ({padding})")
    lo = _tuple(padding, nd, "padding")
    if any(p < 0 for p in lo):
        raise RuntimeError(f"negative padding is not supported (padding={list(lo)})")
    lo = (0,) * (2 - nd) + lo
    return (lo[0], lo[0], lo[1], lo[1])


def _check(op, nd, x, w, b, stride, padding, dilation, groups):
    """Validate a convolution's arguments; returns its _Geometry (for the batched input)."""
    if not isinstance(x, Tensor) or not isinstance(w, Tensor):
        bad = x if not isinstance(x, Tensor) else w
        raise TypeError(f"{op}(): argument 'input' and 'weight' must be Tensors, not {type(bad).__name__}")
    xs, ws = x._data.shape, w._data.shape
    if w._data.ndim != nd + 2:
        raise RuntimeError(
            f"expected stride to be a single integer value or a list of {w._data.ndim - 2} values to match the "
            f"convolution dimensions, but got stride={list(_tuple(stride, nd, 'stride'))} ({op} needs a "
            f"{nd + 2}-D weight (out_channels, in_channels / groups, {'kH, kW' if nd == 2 else 'kW'}); got "
            f"{list(ws)})"
        )
    stride_t = _tuple(stride, nd, "stride")
    dilation_t = _tuple(dilation, nd, "dilation")
    if not isinstance(groups, (int, np.integer)) or isinstance(groups, bool):
        raise TypeError(f"{op}(): groups must be an int, not {type(groups).__name__}")
    if any(s <= 0 for s in stride_t):
        raise RuntimeError(f"non-positive stride is not supported (stride={list(stride_t)})")
    if any(d <= 0 for d in dilation_t):
        raise RuntimeError(f"non-positive dilation is not supported (dilation={list(dilation_t)})")
    if groups <= 0:
        raise RuntimeError(f"non-positive groups is not supported (groups={groups})")
    kernel = (1,) * (2 - nd) + ws[2:]
    stride2 = (1,) * (2 - nd) + stride_t
    dilation2 = (1,) * (2 - nd) + dilation_t
    pad = _padding(padding, nd, kernel, stride2, dilation2)
    if x._data.dtype != w._data.dtype:
        raise RuntimeError(
            f"expected scalar type {_SCALAR_NAMES.get(x._data.dtype.name, x._data.dtype.name)} but found "
            f"{_SCALAR_NAMES.get(w._data.dtype.name, w._data.dtype.name)} ({op} of a {x._data.dtype} input "
            f"with a {w._data.dtype} weight: convert one, e.g. with .float())"
        )
    if ws[0] == 0 or ws[0] % groups:
        what = "at least 1" if ws[0] == 0 else f"divisible by {groups}"
        shown = f"[{list(ws)}]" if ws[0] else f"{list(ws)}"
        raise RuntimeError(
            f"Given groups={groups}, expected weight to be {what} at dimension 0, but got weight of size "
            f"{shown} instead ({op}: the number of output channels must be a multiple of groups)"
        )
    if xs[1] != ws[1] * groups:
        raise RuntimeError(
            f"Given groups={groups}, weight of size {list(ws)}, expected input{list(xs)} to have "
            f"{ws[1] * groups} channels, but got {xs[1]} channels instead ({op}: the input's channel dimension must "
            "equal weight.shape[1] * groups; check the layer's in_channels)"
        )
    if b is not None:
        if not isinstance(b, Tensor):
            raise TypeError(f"{op}(): argument 'bias' must be a Tensor or None, not {type(b).__name__}")
        if b._data.ndim != 1 or b._data.shape[0] != ws[0]:
            raise RuntimeError(
                f"Given weight of size {list(ws)}, expected bias to be 1-dimensional with {ws[0]} elements, but "
                f"got bias of size {list(b._data.shape)} instead ({op}: one bias per output channel)"
            )
        if b._data.dtype != x._data.dtype:
            raise RuntimeError(
                f"Input type ({_CPP_NAMES.get(x._data.dtype.name, x._data.dtype.name)}) and bias type "
                f"({_CPP_NAMES.get(b._data.dtype.name, b._data.dtype.name)}) should be the same ({op}: convert the "
                "bias, e.g. with .float())"
            )
    in_hw = (1,) * (2 - nd) + xs[2:]
    padded = tuple(size + lo + hi for size, lo, hi in zip(in_hw, pad[::2], pad[1::2]))
    span = tuple(d * (k - 1) + 1 for k, d in zip(kernel, dilation2))
    if any(p < k for p, k in zip(padded, span)):
        shown_p = " x ".join(str(p) for p in padded[2 - nd:])
        shown_k = " x ".join(str(k) for k in span[2 - nd:])
        raise RuntimeError(
            f"Calculated padded input size per channel: ({shown_p}). Kernel size: ({shown_k}). Kernel size can't "
            f"be greater than actual input size ({op} of input {list(xs)} with weight {list(ws)}, padding "
            f"{padding!r}, dilation {list(dilation_t)}: use a larger input or padding, or a smaller kernel)"
        )
    return _Geometry(nd, xs[0], stride2, dilation2, pad, int(groups), in_hw, kernel)


def _conv_nd(op, nd, input, weight, bias, stride, padding, dilation, groups):
    if not isinstance(input, Tensor):
        raise TypeError(f"{op}(): argument 'input' must be a Tensor, not {type(input).__name__}")
    ndim = input._data.ndim
    if ndim not in (nd + 1, nd + 2):
        raise RuntimeError(
            f"Expected {nd + 1}D (unbatched) or {nd + 2}D (batched) input to {op}, but got input of size: "
            f"{list(input._data.shape)}"
        )
    batched = input if ndim == nd + 2 else shape.unsqueeze(input, 0)
    geo = _check(op, nd, batched, weight, bias, stride, padding, dilation, groups)
    out = _conv(batched, weight, geo, bias)
    return out if ndim == nd + 2 else shape.squeeze(out, 0)


def conv2d(input, weight, bias=None, stride=1, padding=0, dilation=1, groups=1):
    """2-D convolution (cross-correlation) of ``input`` with ``weight``, plus ``bias``.

    ``out[n, o, h, w] = bias[o] + sum_{c, i, j} weight[o, c, i, j] * x_pad[n, g*Cg + c, h*sh + i*dh, w*sw + j*dw]``
    where ``g`` is the group of output channel ``o`` and ``Cg = C / groups``.

    Args:
        input: ``(N, C, H, W)``, or ``(C, H, W)`` unbatched.
        weight: ``(O, C / groups, kH, kW)``.
        bias: ``(O,)`` or None.
        stride: an int or ``(sH, sW)``.
        padding: an int, ``(pH, pW)``, ``'valid'`` (no padding) or ``'same'`` (output as large as the input;
            stride 1 only; an odd total padding puts the extra row/column at the bottom/right, as PyTorch).
        dilation: an int or ``(dH, dW)``: spacing between kernel taps.
        groups: split input and output channels into this many independent groups.

    Returns:
        ``(N, O, Ho, Wo)`` with ``Ho = (H + 2*pH - dH*(kH - 1) - 1) // sH + 1`` (likewise ``Wo``).

    Example::

        x = nk.randn(8, 3, 32, 32)
        F.conv2d(x, nk.randn(16, 3, 3, 3), padding=1).shape     # (8, 16, 32, 32)
    """
    return _conv_nd("conv2d", 2, input, weight, bias, stride, padding, dilation, groups)


def conv1d(input, weight, bias=None, stride=1, padding=0, dilation=1, groups=1):
    """1-D convolution (cross-correlation) of ``input`` with ``weight``, plus ``bias``.

    Args:
        input: ``(N, C, L)``, or ``(C, L)`` unbatched.
        weight: ``(O, C / groups, k)``.
        bias: ``(O,)`` or None.
        stride, padding, dilation, groups: as in :func:`conv2d`, one value each (``padding`` also ``'valid'``
            or ``'same'``).

    Returns:
        ``(N, O, Lo)`` with ``Lo = (L + 2*padding - dilation*(k - 1) - 1) // stride + 1``.

    Example::

        F.conv1d(nk.randn(4, 2, 100), nk.randn(6, 2, 5), padding="same").shape    # (4, 6, 100)
    """
    return _conv_nd("conv1d", 1, input, weight, bias, stride, padding, dilation, groups)
