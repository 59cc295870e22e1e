"""``F.max_pool2d`` / ``F.avg_pool2d`` / ``F.adaptive_avg_pool2d`` (spec table against loop references, hand
values, ties, errors) and ``nn.MaxPool2d`` / ``nn.AvgPool2d`` / ``nn.AdaptiveAvgPool2d`` (arguments, repr)."""

import math

import numpy as np
import pytest

import nnkit as nk
import nnkit.nn as nn
import nnkit.nn.functional as F
from nnkit.autograd import gradcheck, gradgradcheck
from tests.ops import harness
from tests.ops.harness import OpSpec


# -- independent references: one output element at a time ---------------------------------------------------------
def pair(v):
    return tuple(v) if isinstance(v, (tuple, list)) else (v, v)


def out_size(n, k, s, p, d, ceil_mode):
    """Windows that start inside the input or its left padding (ceil_mode may add a last partial one)."""
    span = d * (k - 1) + 1
    count = (n + 2 * p - span) / s + 1
    out = math.ceil(count) if ceil_mode else math.floor(count)
    if ceil_mode and (out - 1) * s >= n + p:
        out -= 1
    return out


def windows(shape, kernel, stride, padding, dilation, ceil_mode):
    """For each output position (oh, ow): the real (row, col) pairs its window covers, in row-major order."""
    (h, w), (kh, kw), (sh, sw), (ph, pw), (dh, dw) = shape[-2:], kernel, stride, padding, dilation
    oh, ow = out_size(h, kh, sh, ph, dh, ceil_mode), out_size(w, kw, sw, pw, dw, ceil_mode)
    for i in range(oh):
        for j in range(ow):
            rows = [i * sh - ph + a * dh for a in range(kh)]
            cols = [j * sw - pw + b * dw for b in range(kw)]
            yield (i, j), (oh, ow), [(r, c) for r in rows for c in cols if 0 <= r < h and 0 <= c < w], rows, cols


def max_pool_ref(x, kernel_size, stride=None, padding=0, dilation=1, ceil_mode=False, return_indices=False):
    k = pair(kernel_size)
    args = (k, pair(k if stride is None else stride), pair(padding), pair(dilation), ceil_mode)
    lead = x.shape[:-2]
    values = indices = None
    for (i, j), (oh, ow), real, _, _ in windows(x.shape, *args):
        if values is None:
            values, indices = np.zeros(lead + (oh, ow)), np.zeros(lead + (oh, ow), np.int64)
        for plane in np.ndindex(*lead):
            taken = [x[plane + rc] for rc in real]
            best = int(np.argmax(taken))  # the first maximum, row-major
            values[plane + (i, j)] = taken[best]
            indices[plane + (i, j)] = real[best][0] * x.shape[-1] + real[best][1]
    return (values, indices) if return_indices else values


def avg_pool_ref(x, kernel_size, stride=None, padding=0, ceil_mode=False, count_include_pad=True,
                 divisor_override=None):
    k, p = pair(kernel_size), pair(padding)
    h, w = x.shape[-2:]
    out = None
    for (i, j), (oh, ow), real, rows, cols in windows(x.shape, k, pair(k if stride is None else stride), p, (1, 1),
                                                      ceil_mode):
        if out is None:
            out = np.zeros(x.shape[:-2] + (oh, ow))
        if divisor_override is not None:
            divisor = divisor_override
        elif count_include_pad:  # padded positions count, positions past the padding (ceil_mode) do not
            divisor = sum(r < h + p[0] for r in rows) * sum(c < w + p[1] for c in cols)
        else:
            divisor = len(real)
        out[..., i, j] = sum(x[..., r, c] for r, c in real) / divisor
    return out


def adaptive_ref(x, output_size):
    h, w = x.shape[-2:]
    oh, ow = pair(output_size)
    oh, ow = h if oh is None else oh, w if ow is None else ow
    out = np.zeros(x.shape[:-2] + (oh, ow))
    for i in range(oh):
        for j in range(ow):
            r0, r1 = (i * h) // oh, math.ceil((i + 1) * h / oh)
            c0, c1 = (j * w) // ow, math.ceil((j + 1) * w / ow)
            out[..., i, j] = x[..., r0:r1, c0:c1].mean(axis=(-2, -1))
    return out


def normal(shape):
    return lambda rng: [rng.standard_normal(shape)]


def torch_call(name, **kwargs):
    def call(x):
        import torch.nn.functional as tfn

        return getattr(tfn, name)(x, **kwargs)
    return call


def pool_spec(name, op, ref, shape, grad_fn, **kwargs):
    return OpSpec(name, lambda x: op(x, **kwargs), lambda x: ref(x, **kwargs), normal(shape),
                  torch_fn=torch_call(op.__name__, **kwargs), grad_fn=grad_fn)


def max_spec(name, shape, **kwargs):
    return pool_spec(name, F.max_pool2d, max_pool_ref, shape, "MaxPool2DWithIndicesBackward0", **kwargs)


def avg_spec(name, shape, **kwargs):
    return pool_spec(name, F.avg_pool2d, avg_pool_ref, shape, "AvgPool2DBackward0", **kwargs)


def adaptive_spec(name, shape, output_size, grad_fn="AdaptiveAvgPool2DBackward0"):
    return pool_spec(name, F.adaptive_avg_pool2d, adaptive_ref, shape, grad_fn, output_size=output_size)


SPECS = [
    max_spec("max2", (2, 3, 6, 8), kernel_size=2),
    max_spec("max2_odd_size", (2, 2, 7, 5), kernel_size=2),
    max_spec("max3_stride2_overlapping", (2, 2, 7, 8), kernel_size=3, stride=2),
    max_spec("max3_stride1_pad1", (1, 2, 5, 6), kernel_size=3, stride=1, padding=1),
    max_spec("max3_ceil", (2, 2, 7, 8), kernel_size=3, stride=2, ceil_mode=True),
    max_spec("max3_ceil_pad1", (1, 2, 6, 7), kernel_size=3, stride=2, padding=1, ceil_mode=True),
    max_spec("max2_dilation2", (2, 2, 6, 7), kernel_size=2, stride=1, dilation=2),
    max_spec("max_rect", (2, 2, 6, 7), kernel_size=(2, 3), stride=(1, 2), padding=(1, 1)),
    max_spec("max_stride_beyond_kernel", (1, 2, 8, 9), kernel_size=2, stride=3),
    max_spec("max_unbatched", (3, 6, 6), kernel_size=2),
    max_spec("max_return_indices", (2, 2, 5, 6), kernel_size=3, stride=2, padding=1, return_indices=True),
    avg_spec("avg2", (2, 3, 6, 8), kernel_size=2),
    avg_spec("avg3_stride1_overlapping", (1, 2, 5, 6), kernel_size=3, stride=1),
    avg_spec("avg3_pad1_include", (2, 2, 6, 7), kernel_size=3, stride=2, padding=1),
    avg_spec("avg3_pad1_exclude", (2, 2, 6, 7), kernel_size=3, stride=2, padding=1, count_include_pad=False),
    avg_spec("avg2_ceil", (2, 2, 7, 7), kernel_size=2, ceil_mode=True),
    avg_spec("avg3_ceil_pad1_include", (1, 2, 6, 6), kernel_size=3, stride=2, padding=1, ceil_mode=True),
    avg_spec("avg3_ceil_pad1_exclude", (1, 2, 6, 6), kernel_size=3, stride=2, padding=1, ceil_mode=True,
             count_include_pad=False),
    avg_spec("avg_divisor_override", (2, 2, 6, 6), kernel_size=3, stride=2, padding=1, divisor_override=5),
    avg_spec("avg_rect", (2, 2, 6, 7), kernel_size=(2, 3), stride=(2, 1), padding=(1, 0)),
    avg_spec("avg_unbatched", (3, 6, 4), kernel_size=2),
    adaptive_spec("adaptive_divides", (2, 3, 6, 8), (3, 4)),
    adaptive_spec("adaptive_not_dividing", (2, 2, 7, 9), (3, 4)),
    adaptive_spec("adaptive_larger_than_input", (1, 2, 3, 4), (5, 6)),
    adaptive_spec("adaptive_none_keeps_size", (2, 2, 7, 5), (4, None)),
    adaptive_spec("adaptive_same_size", (2, 2, 4, 5), (4, 5)),
    adaptive_spec("adaptive_square_int", (3, 7, 7), 3),
    adaptive_spec("adaptive_global", (2, 3, 5, 4), 1, grad_fn="MeanBackward1"),  # PyTorch takes a mean here
]

harness.make_tests(SPECS, globals())


def f64(values, requires_grad=False):
    return nk.tensor(values, dtype=nk.float64, requires_grad=requires_grad)


# -- hand-computed values ------------------------------------------------------------------------------------
def test_hand_computed_values():
    x = f64(np.arange(16.0).reshape(1, 1, 4, 4), requires_grad=True)
    out, idx = F.max_pool2d(x, 2, return_indices=True)
    np.testing.assert_array_equal(out.detach().numpy()[0, 0], [[5, 7], [13, 15]])
    np.testing.assert_array_equal(idx.numpy()[0, 0], [[5, 7], [13, 15]])
    assert idx.dtype == nk.int64
    out.sum().backward()
    expected = np.zeros((4, 4))
    expected[1, 1] = expected[1, 3] = expected[3, 1] = expected[3, 3] = 1
    np.testing.assert_array_equal(x.grad.numpy()[0, 0], expected)
    x.grad = None
    avg = F.avg_pool2d(x, 2)
    np.testing.assert_array_equal(avg.detach().numpy()[0, 0], [[2.5, 4.5], [10.5, 12.5]])
    avg.sum().backward()
    np.testing.assert_array_equal(x.grad.numpy(), np.full((1, 1, 4, 4), 0.25))
    ones = f64(np.ones((1, 1, 3, 3)))
    # each 3x3 window at stride 2 with padding 1 holds 4 real ones: 4/9 counting the padding, 1 without
    np.testing.assert_allclose(F.avg_pool2d(ones, 3, 2, 1).numpy(), np.full((1, 1, 2, 2), 4 / 9))
    np.testing.assert_array_equal(F.avg_pool2d(ones, 3, 2, 1, count_include_pad=False).numpy(), np.ones((1, 1, 2, 2)))
    # windows [0, 2), [1, 4), [3, 5) of 0..4
    np.testing.assert_allclose(F.adaptive_avg_pool2d(f64(np.arange(5.0).reshape(1, 1, 5)), (1, 3)).numpy(),
                               [[[0.5, 2.0, 3.5]]])


def test_max_pool_ties_send_the_gradient_to_the_first_maximum():
    x = f64(np.ones((1, 1, 2, 4)), requires_grad=True)
    out, idx = F.max_pool2d(x, 2, return_indices=True)
    np.testing.assert_array_equal(idx.numpy()[0, 0], [[0, 2]])
    out.sum().backward()
    np.testing.assert_array_equal(x.grad.numpy()[0, 0], [[1, 0, 1, 0], [0, 0, 0, 0]])
    # overlapping windows on a constant plane: every window picks its own top-left pixel
    y = f64(np.full((1, 1, 3, 4), 2.0), requires_grad=True)
    out = F.max_pool2d(y, 2, stride=1)
    out.sum().backward()
    np.testing.assert_array_equal(y.grad.numpy()[0, 0], [[1, 1, 1, 0], [1, 1, 1, 0], [0, 0, 0, 0]])
    # a tie between a later row and an earlier one: row-major order decides
    z = f64([[[[0.0, 3.0], [3.0, 1.0]]]], requires_grad=True)
    F.max_pool2d(z, 2).sum().backward()
    np.testing.assert_array_equal(z.grad.numpy()[0, 0], [[0, 1], [0, 0]])


def test_max_pool_nan_and_all_padding_windows_match_pytorch():
    nan = float("nan")
    out, idx = F.max_pool2d(f64([[[[1.0, nan, 2.0, nan]]]]), (1, 4), return_indices=True)
    assert np.isnan(out.numpy()).all() and idx.numpy().ravel().tolist() == [3]  # PyTorch: the last NaN
    out, idx = F.max_pool2d(f64(np.full((1, 1, 3, 3), -np.inf)), 3, stride=2, padding=1, return_indices=True)
    assert np.isneginf(out.numpy()).all()
    np.testing.assert_array_equal(idx.numpy()[0, 0], [[0, 1], [3, 4]])  # the first real pixel of each window
    torch = pytest.importorskip("torch")
    for x, kwargs in [(np.array([[[[1.0, nan, 2.0, nan], [nan, 0, 5, 1]]]]), {"kernel_size": 2, "stride": 1}),
                      (np.full((1, 1, 3, 3), -np.inf), {"kernel_size": 3, "stride": 2, "padding": 1})]:
        _, theirs = torch.nn.functional.max_pool2d(torch.tensor(x), return_indices=True, **kwargs)
        _, ours = F.max_pool2d(f64(x), return_indices=True, **kwargs)
        np.testing.assert_array_equal(ours.numpy(), theirs.numpy())


def test_pooling_chain_double_backward_and_float32():
    rng = np.random.default_rng(2)
    x = f64(rng.standard_normal((2, 2, 8, 8)), requires_grad=True)

    def net(x):
        return F.adaptive_avg_pool2d(F.avg_pool2d(F.max_pool2d(x * x, 2), 3, 1, 1), (3, 2))

    assert gradcheck(net, (x,))
    assert gradgradcheck(net, (x,))
    x32 = nk.randn(2, 3, 8, 8)
    for out in (F.max_pool2d(x32, 2), F.avg_pool2d(x32, 2), F.adaptive_avg_pool2d(x32, 3)):
        assert out.dtype == nk.float32


def test_no_graph_under_no_grad_or_without_grad():
    x = nk.randn(1, 2, 6, 6, requires_grad=True)
    with nk.no_grad():
        outs = [F.max_pool2d(x, 2), F.avg_pool2d(x, 2), F.adaptive_avg_pool2d(x, 4), nn.MaxPool2d(3, 1)(x)]
    outs += [F.max_pool2d(x.detach(), 2), F.avg_pool2d(x.detach(), 2), F.adaptive_avg_pool2d(x.detach(), 4)]
    for out in outs:
        assert out.grad_fn is None and not out.requires_grad


# -- errors ----------------------------------------------------------------------------------------------------
@pytest.mark.parametrize("call, match", [
    (lambda: F.max_pool2d(nk.randn(5, 5), 2),
     r"non-empty 3D or 4D \(batch mode\) tensor expected for input \(max_pool2d got a tensor of shape \[5, 5\]"),
    (lambda: F.avg_pool2d(nk.randn(2, 1, 1, 5, 5), 2),
     r"non-empty 3D or 4D \(batch mode\) tensor expected for input \(avg_pool2d got a tensor of shape"),
    (lambda: F.max_pool2d(nk.randn(1, 1, 1, 1), 2),
     r"Given input size: \(1x1x1\). Calculated output size: \(1x0x0\). Output size is too small \(max_pool2d of "
     r"input \[1, 1, 1, 1\] with kernel_size=\[2, 2\]"),
    (lambda: F.avg_pool2d(nk.randn(1, 1, 3, 1), 2),
     r"Given input size: \(1x3x1\). Calculated output size: \(1x1x0\). Output size is too small \(avg_pool2d"),
    (lambda: F.max_pool2d(nk.randn(1, 1, 5, 5), 2, padding=2),
     r"pad should be at most half of effective kernel size, but got pad=2, kernel_size=2 and dilation=1 "
     r"\(max_pool2d"),
    (lambda: F.max_pool2d(nk.randn(1, 1, 5, 5), 2, stride=0), r"stride should not be zero \(max_pool2d"),
    (lambda: F.avg_pool2d(nk.randn(1, 1, 5, 5), 2, divisor_override=0), r"divisor must be not zero"),
    (lambda: F.adaptive_avg_pool2d(nk.randn(1, 1, 1, 5, 5), 2),
     r"adaptive_avg_pool2d\(\): Expected 3D or 4D tensor, but got \[1, 1, 1, 5, 5\]"),
    (lambda: F.adaptive_avg_pool2d(nk.randn(1, 1, 5, 5), -1),
     r"adaptive_avg_pool2d: elements of output_size must be greater than or equal to 0 but received \{-1, -1\}"),
    (lambda: F.adaptive_avg_pool2d(nk.randn(1, 0, 5, 5), 2),
     r"adaptive_avg_pool2d\(\): Expected input to have non-zero size for non-batch dimensions"),
])
def test_errors(call, match):
    with pytest.raises(RuntimeError, match=match):
        call()


def test_errors_match_pytorch_first_sentence():
    torch = pytest.importorskip("torch")
    tfn = torch.nn.functional
    cases = [("max_pool2d", (5, 5), (2,), {}), ("max_pool2d", (1, 1, 1, 1), (2,), {}),
             ("avg_pool2d", (1, 1, 1, 1), (2,), {}), ("max_pool2d", (1, 1, 5, 5), (2,), {"padding": 2}),
             ("adaptive_avg_pool2d", (1, 1, 1, 5, 5), (2,), {})]
    for name, shape, args, kwargs in cases:
        with pytest.raises(RuntimeError) as theirs:
            getattr(tfn, name)(torch.randn(shape), *args, **kwargs)
        with pytest.raises(RuntimeError) as ours:
            getattr(F, name)(nk.randn(*shape), *args, **kwargs)
        assert str(ours.value).startswith(str(theirs.value).splitlines()[0])


# -- modules ---------------------------------------------------------------------------------------------------
def test_modules_arguments_repr_and_no_state():
    pool = nn.MaxPool2d(2)
    assert (pool.kernel_size, pool.stride, pool.padding, pool.dilation, pool.ceil_mode) == (2, 2, 0, 1, False)
    assert repr(pool) == "MaxPool2d(kernel_size=2, stride=2, padding=0, dilation=1, ceil_mode=False)"
    assert repr(nn.MaxPool2d((2, 3), 1, 1, 1, True, True)) == (
        "MaxPool2d(kernel_size=(2, 3), stride=1, padding=1, dilation=1, ceil_mode=True)")
    assert repr(nn.AvgPool2d(2)) == "AvgPool2d(kernel_size=2, stride=2, padding=0)"
    assert repr(nn.AvgPool2d(3, 2, 1, True, False, 2)) == "AvgPool2d(kernel_size=3, stride=2, padding=1)"
    assert repr(nn.AdaptiveAvgPool2d((3, None))) == "AdaptiveAvgPool2d(output_size=(3, None))"
    for module in (pool, nn.AvgPool2d(2), nn.AdaptiveAvgPool2d(1)):
        assert list(module.state_dict()) == [] and list(module.parameters()) == []


def test_modules_forward_as_functional():
    x = f64(np.random.default_rng(4).standard_normal((2, 3, 7, 7)))
    out, idx = nn.MaxPool2d(3, 2, 1, return_indices=True, ceil_mode=True)(x)
    expected, expected_idx = max_pool_ref(x.numpy(), 3, 2, 1, ceil_mode=True, return_indices=True)
    np.testing.assert_array_equal(out.numpy(), expected)
    np.testing.assert_array_equal(idx.numpy(), expected_idx)
    np.testing.assert_allclose(nn.AvgPool2d(3, 2, 1, count_include_pad=False)(x).numpy(),
                               avg_pool_ref(x.numpy(), 3, 2, 1, count_include_pad=False), rtol=1e-13)
    np.testing.assert_allclose(nn.AdaptiveAvgPool2d((2, 5))(x).numpy(), adaptive_ref(x.numpy(), (2, 5)), rtol=1e-13)


def test_modules_match_pytorch_repr():
    torch = pytest.importorskip("torch")
    pairs = [(nn.MaxPool2d(2), torch.nn.MaxPool2d(2)),
             (nn.MaxPool2d((2, 3), 1, (1, 0), 1, True, True), torch.nn.MaxPool2d((2, 3), 1, (1, 0), 1, True, True)),
             (nn.AvgPool2d(3, 2, 1, True, False, 2), torch.nn.AvgPool2d(3, 2, 1, True, False, 2)),
             (nn.AdaptiveAvgPool2d((3, None)), torch.nn.AdaptiveAvgPool2d((3, None)))]
    for ours, theirs in pairs:
        assert repr(ours) == repr(theirs)
