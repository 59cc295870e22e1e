"""``F.conv1d`` / ``F.conv2d`` (spec table against a loop reference, hand values, errors, which gradients are
formed) and ``nn.Conv1d`` / ``nn.Conv2d`` (parameters, initialisation, repr, state_dict, padding modes)."""

import math
import warnings

import numpy as np
import pytest

import nnkit as nk
import nnkit.nn as nn
import nnkit.nn.functional as F
from nnkit.autograd import gradcheck, gradgradcheck
from tests.ops import harness
from tests.ops.harness import OpSpec


# -- an independent reference: the definition, one output element at a time ------------------------------------
def pads_of(padding, kernel, dilation):
    """[(before, after), ...] per spatial dimension, from an int tuple, 'valid' or 'same' (extra after)."""
    if padding == "valid":
        return [(0, 0)] * len(kernel)
    if padding == "same":
        return [(d * (k - 1) // 2, d * (k - 1) - d * (k - 1) // 2) for k, d in zip(kernel, dilation)]
    return [(p, p) for p in padding]


def conv_ref(x, w, b=None, stride=1, padding=0, dilation=1, groups=1):
    """N-d cross-correlation by loops over (sample, output channel, output position); x batched or not."""
    nd = w.ndim - 2
    if x.ndim == nd + 1:
        return conv_ref(x[None], w, b, stride, padding, dilation, groups)[0]
    def tup(v):
        return tuple(v) if isinstance(v, (tuple, list)) else (v,) * nd

    stride, dilation = tup(stride), tup(dilation)
    padding = padding if isinstance(padding, str) else tup(padding)
    kernel = w.shape[2:]
    xp = np.pad(x, [(0, 0), (0, 0)] + pads_of(padding, kernel, dilation))
    out_sizes = [(n - d * (k - 1) - 1) // s + 1 for n, k, s, d in zip(xp.shape[2:], kernel, stride, dilation)]
    batch, out_channels, per_group = x.shape[0], w.shape[0], w.shape[1]
    out = np.zeros((batch, out_channels, *out_sizes))
    for n in range(batch):
        for o in range(out_channels):
            g = o // (out_channels // groups)
            for pos in np.ndindex(*out_sizes):
                window = tuple(slice(p * s, p * s + d * (k - 1) + 1, d)
                               for p, s, d, k in zip(pos, stride, dilation, kernel))
                patch = xp[(n, slice(g * per_group, (g + 1) * per_group)) + window]
                out[(n, o) + pos] = (patch * w[o]).sum() + (0.0 if b is None else b[o])
    return out


def conv_inputs(x_shape, w_shape, bias=True):
    def make(rng):
        arrays = [rng.standard_normal(x_shape), rng.standard_normal(w_shape)]
        return arrays + [rng.standard_normal(w_shape[0])] if bias else arrays
    return make


def conv_spec(name, x_shape, w_shape, bias=True, **kwargs):
    nd = len(w_shape) - 2
    ours = F.conv1d if nd == 1 else F.conv2d

    def torch_fn(*args):
        import torch.nn.functional as tfn

        with warnings.catch_warnings():  # torch warns about 'same' padding with an even kernel
            warnings.simplefilter("ignore")
            return (tfn.conv1d if nd == 1 else tfn.conv2d)(*args, **kwargs)

    batched = len(x_shape) == nd + 2
    return OpSpec(
        name, lambda *args: ours(*args, **kwargs), lambda *args: conv_ref(*args, **kwargs),
        conv_inputs(x_shape, w_shape, bias), torch_fn=torch_fn,
        # PyTorch runs an unbatched input as a batch of one and squeezes the result
        grad_fn="ConvolutionBackward0" if batched else "SqueezeBackward1",
    )


SPECS = [
    conv_spec("conv2d", (2, 3, 6, 5), (4, 3, 3, 3)),
    conv_spec("conv2d_no_bias", (2, 3, 5, 5), (4, 3, 3, 3), bias=False),
    conv_spec("conv2d_stride2_pad1", (2, 2, 7, 6), (3, 2, 3, 3), stride=2, padding=1),
    conv_spec("conv2d_stride_pad_tuples", (2, 2, 7, 6), (3, 2, 3, 2), stride=(2, 1), padding=(1, 0)),
    conv_spec("conv2d_stride3_uneven", (1, 2, 8, 7), (2, 2, 2, 2), stride=3),
    conv_spec("conv2d_same", (2, 2, 5, 6), (3, 2, 3, 3), padding="same"),
    conv_spec("conv2d_same_even_kernel", (2, 2, 5, 6), (3, 2, 2, 4), padding="same"),
    conv_spec("conv2d_same_dilated", (1, 2, 6, 7), (2, 2, 3, 2), padding="same", dilation=(2, 3)),
    conv_spec("conv2d_valid", (2, 2, 5, 6), (3, 2, 3, 3), padding="valid"),
    conv_spec("conv2d_dilation2_pad2", (2, 2, 7, 7), (3, 2, 3, 3), dilation=2, padding=2),
    conv_spec("conv2d_groups2", (2, 4, 5, 5), (6, 2, 3, 3), groups=2, padding=1),
    conv_spec("conv2d_depthwise", (2, 3, 5, 6), (6, 1, 3, 3), groups=3),
    conv_spec("conv2d_all_options", (2, 4, 9, 8), (4, 2, 3, 2), stride=(2, 3), padding=(2, 1), dilation=(2, 1),
              groups=2),
    conv_spec("conv2d_1x1", (2, 3, 4, 4), (5, 3, 1, 1)),
    conv_spec("conv2d_1x1_pad2", (2, 2, 3, 4), (3, 2, 1, 1), padding=2),
    conv_spec("conv2d_pad_one_axis", (2, 2, 4, 5), (3, 2, 3, 3), padding=(0, 2)),
    # 16 channels per group: one product per tap (fewer channels stack taps into one product)
    conv_spec("conv2d_16_channels", (2, 16, 4, 3), (2, 16, 3, 2), padding=1),
    conv_spec("conv2d_16_channels_strided", (2, 16, 5, 4), (2, 16, 2, 2), stride=2, padding=(1, 0), bias=False),
    conv_spec("conv2d_16_channels_groups2", (1, 32, 3, 3), (4, 16, 2, 2), groups=2),
    conv_spec("conv2d_kernel_fills_input", (2, 2, 3, 3), (3, 2, 3, 3)),
    conv_spec("conv2d_unbatched", (2, 5, 5), (3, 2, 3, 3), padding=1),
    conv_spec("conv1d", (2, 3, 8), (4, 3, 3)),
    conv_spec("conv1d_no_bias", (2, 3, 8), (4, 3, 3), bias=False),
    conv_spec("conv1d_stride2_pad2", (2, 2, 9), (3, 2, 4), stride=2, padding=2),
    conv_spec("conv1d_same_even_kernel", (2, 2, 7), (3, 2, 4), padding="same"),
    conv_spec("conv1d_dilation_groups", (2, 4, 10), (6, 2, 3), dilation=3, groups=2, padding=1),
    conv_spec("conv1d_unbatched", (3, 7), (2, 3, 3), padding="valid"),
    conv_spec("conv1d_16_channels_same", (2, 16, 6), (3, 16, 3), padding="same", dilation=2),
    OpSpec("conv2d_input_only", lambda x, w, b: F.conv2d(x, w.detach(), b.detach(), padding=1),
           lambda x, w, b: conv_ref(x, w, b, padding=1), conv_inputs((2, 2, 4, 4), (3, 2, 3, 3)), diff=(0,)),
    OpSpec("conv2d_weight_only", lambda x, w: F.conv2d(x.detach(), w, stride=2),
           lambda x, w: conv_ref(x, w, stride=2), conv_inputs((2, 2, 5, 5), (3, 2, 3, 3), bias=False), diff=(1,)),
]

harness.make_tests(SPECS, globals())


def f64(values, requires_grad=False):
    return nk.tensor(values, dtype=nk.float64, requires_grad=requires_grad)


# -- hand-computed values ------------------------------------------------------------------------------------
def test_hand_computed_conv2d_values_and_gradients():
    x = f64(np.arange(16.0).reshape(1, 1, 4, 4), requires_grad=True)
    w = f64([[[[1.0, 0.0], [0.0, -1.0]]]], requires_grad=True)  # x[i, j] - x[i+1, j+1]: always -5
    b = f64([0.5], requires_grad=True)
    y = F.conv2d(x, w, b)
    np.testing.assert_array_equal(y.detach().numpy(), np.full((1, 1, 3, 3), -4.5))
    y.sum().backward()
    # each input pixel's gradient: +1 per window where it is the top-left tap, -1 where the bottom-right
    expected_x = np.array([[1, 1, 1, 0], [1, 0, 0, -1], [1, 0, 0, -1], [0, -1, -1, -1]], float)
    np.testing.assert_array_equal(x.grad.numpy()[0, 0], expected_x)
    # dL/dw[i, j] = sum of the 3x3 block of x starting at (i, j)
    blocks = [[np.arange(16.0).reshape(4, 4)[i:i + 3, j:j + 3].sum() for j in range(2)] for i in range(2)]
    np.testing.assert_array_equal(w.grad.numpy()[0, 0], blocks)
    np.testing.assert_array_equal(b.grad.numpy(), [9.0])


def test_hand_computed_padding_stride_and_dilation():
    x = f64(np.ones((1, 1, 3, 3)))
    ones = f64(np.ones((1, 1, 3, 3)))
    # padding 1: each output counts the real pixels under its window
    np.testing.assert_array_equal(F.conv2d(x, ones, padding=1).numpy()[0, 0], [[4, 6, 4], [6, 9, 6], [4, 6, 4]])
    np.testing.assert_array_equal(F.conv2d(x, ones, padding=1, stride=2).numpy()[0, 0], [[4, 4], [4, 4]])
    seq = f64(np.arange(7.0).reshape(1, 1, 7))
    # dilation 3, kernel 2: x[i] + x[i + 3]
    np.testing.assert_array_equal(F.conv1d(seq, f64([[[1.0, 1.0]]]), dilation=3).numpy()[0, 0], [3, 5, 7, 9])
    # 'same' with an even kernel pads one before and two after (PyTorch puts the extra on the right)
    np.testing.assert_array_equal(
        F.conv1d(seq, f64([[[0.0, 0.0, 0.0, 1.0]]]), padding="same").numpy()[0, 0], [2, 3, 4, 5, 6, 0, 0]
    )


def test_groups_keep_channels_apart():
    x = f64(np.stack([np.ones((3, 3)), 2 * np.ones((3, 3))])[None])
    w = f64(np.ones((2, 1, 3, 3)))
    np.testing.assert_array_equal(F.conv2d(x, w, groups=2).numpy().ravel(), [9.0, 18.0])
    np.testing.assert_array_equal(F.conv2d(x, w[:1].expand(1, 2, 3, 3)).numpy().ravel(), [27.0])


def test_only_needed_gradients_are_formed_and_float32_stays_float32():
    rng = np.random.default_rng(0)
    x = nk.tensor(rng.standard_normal((2, 3, 6, 6)).astype(np.float32))
    conv = nn.Conv2d(3, 4, 3, padding=1)
    conv.weight.requires_grad_(False)
    out = conv(x)
    assert out.dtype == nk.float32 and out.grad_fn.name() == "ConvolutionBackward0"
    assert out.grad_fn.next_functions[0][0] is None and out.grad_fn.next_functions[1][0] is None
    out.sum().backward()
    assert conv.weight.grad is None
    assert conv.bias.grad.dtype == nk.float32
    np.testing.assert_allclose(conv.bias.grad.numpy(), np.full(4, 72.0))


def test_no_graph_when_nothing_requires_grad_or_under_no_grad():
    conv = nn.Conv2d(2, 3, 3)
    with nk.no_grad():
        out = conv(nk.randn(1, 2, 5, 5, requires_grad=True))
    assert out.grad_fn is None and not out.requires_grad
    conv.requires_grad_(False)
    out = conv(nk.randn(1, 2, 5, 5))
    assert out.grad_fn is None and not out.requires_grad


def test_double_backward_through_a_conv_net():
    rng = np.random.default_rng(3)
    x = f64(rng.standard_normal((2, 2, 5, 5)), requires_grad=True)
    w1 = f64(rng.standard_normal((3, 2, 3, 3)), requires_grad=True)
    w2 = f64(rng.standard_normal((2, 3, 2, 2)), requires_grad=True)

    def net(x, w1, w2):
        return F.conv2d(F.conv2d(x, w1, padding=1).tanh(), w2, stride=2)

    assert gradcheck(net, (x, w1, w2))
    assert gradgradcheck(net, (x, w1, w2))


@pytest.mark.parametrize("x_shape, w_shape, kwargs", [
    ((2, 3, 5, 6), (4, 3, 3, 3), {"padding": 1}),  # 3 channels: two products of 6 and 3 taps
    ((2, 16, 4, 5), (3, 16, 3, 2), {"padding": "same"}),  # 16 channels: one product per tap
    ((2, 16, 5, 5), (4, 8, 2, 3), {"stride": 2, "groups": 2, "dilation": (2, 1)}),
    ((2, 16, 7), (3, 16, 3), {"padding": 2}),
])
def test_per_tap_products_when_the_im2col_matrix_is_too_large(monkeypatch, x_shape, w_shape, kwargs):
    from nnkit.nn.functional import conv as conv_module

    rng = np.random.default_rng(5)
    x, w, b = rng.standard_normal(x_shape), rng.standard_normal(w_shape), rng.standard_normal(w_shape[0])
    op = F.conv1d if len(x_shape) == 3 else F.conv2d
    fn = lambda x, w, b: op(x, w, b, **kwargs)  # noqa: E731
    whole = [f64(a, requires_grad=True) for a in (x, w, b)]
    out = fn(*whole)
    assert out.grad_fn._saved[2] is not None  # the im2col matrix, kept for grad_weight
    out.sum().backward()
    monkeypatch.setattr(conv_module, "_COLUMNS_BYTES", 0)
    inputs = [f64(a, requires_grad=True) for a in (x, w, b)]
    out = fn(*inputs)
    assert out.grad_fn._saved[2] is None  # no im2col matrix kept
    np.testing.assert_allclose(out.detach().numpy(), conv_ref(x, w, b, **kwargs), rtol=1e-12, atol=1e-12)
    out.sum().backward()
    for a, c in zip(inputs, whole):
        np.testing.assert_allclose(a.grad.numpy(), c.grad.numpy(), rtol=1e-12, atol=1e-12)
    assert gradcheck(fn, inputs)
    assert gradgradcheck(fn, inputs)


# -- errors: PyTorch's first sentence, then the op and the shapes ------------------------------------------------
@pytest.mark.parametrize("call, match", [
    (lambda: F.conv2d(nk.randn(1, 3, 5, 5), nk.randn(4, 2, 3, 3)),
     r"Given groups=1, weight of size \[4, 2, 3, 3\], expected input\[1, 3, 5, 5\] to have 2 channels, but got 3 "
     r"channels instead \(conv2d"),
    (lambda: F.conv2d(nk.randn(5, 5), nk.randn(4, 3, 3, 3)),
     r"Expected 3D \(unbatched\) or 4D \(batched\) input to conv2d, but got input of size: \[5, 5\]"),
    (lambda: F.conv1d(nk.randn(1, 3, 5, 5), nk.randn(4, 3, 3)),
     r"Expected 2D \(unbatched\) or 3D \(batched\) input to conv1d, but got input of size: \[1, 3, 5, 5\]"),
    (lambda: F.conv2d(nk.randn(1, 3, 5, 5), nk.randn(4, 3, 3)),
     r"expected stride to be a single integer value or a list of 1 values .*conv2d needs a 4-D weight"),
    (lambda: F.conv2d(nk.randn(1, 3, 2, 2), nk.randn(4, 3, 3, 3)),
     r"Calculated padded input size per channel: \(2 x 2\). Kernel size: \(3 x 3\). Kernel size can't be greater "
     r"than actual input size \(conv2d of input \[1, 3, 2, 2\] with weight \[4, 3, 3, 3\]"),
    (lambda: F.conv2d(nk.randn(1, 4, 5, 5), nk.randn(3, 2, 3, 3), groups=2),
     r"Given groups=2, expected weight to be divisible by 2 at dimension 0, but got weight of size "
     r"\[\[3, 2, 3, 3\]\] instead \(conv2d"),
    (lambda: F.conv2d(nk.randn(1, 3, 5, 5), nk.randn(4, 3, 3, 3), nk.randn(3)),
     r"Given weight of size \[4, 3, 3, 3\], expected bias to be 1-dimensional with 4 elements, but got bias of "
     r"size \[3\] instead \(conv2d"),
    (lambda: F.conv2d(nk.randn(1, 3, 5, 5), nk.randn(4, 3, 3, 3), stride=2, padding="same"),
     r"padding='same' is not supported for strided convolutions"),
    (lambda: F.conv2d(nk.randn(1, 3, 5, 5), nk.randn(4, 3, 3, 3), padding="full"),
     r"Invalid padding string: 'full'"),
    (lambda: F.conv2d(nk.randn(1, 3, 5, 5), nk.randn(4, 3, 3, 3, dtype=nk.float64)),
     r"expected scalar type Float but found Double \(conv2d of a float32 input with a float64 weight"),
    (lambda: F.conv2d(nk.randn(1, 3, 5, 5), nk.randn(4, 3, 3, 3), stride=0),
     r"non-positive stride is not supported"),
    (lambda: F.conv2d(nk.randn(1, 3, 5, 5), nk.randn(4, 3, 3, 3), padding=(1, 2, 3)),
     r"expected padding to be a single integer value or a list of 2 values to match the convolution dimensions"),
])
def test_errors(call, match):
    with pytest.raises(RuntimeError, match=match):
        call()


def test_errors_match_pytorch_first_sentence():
    torch = pytest.importorskip("torch")
    cases = [((1, 3, 5, 5), (4, 2, 3, 3), {}), ((5, 5), (4, 3, 3, 3), {}), ((1, 3, 2, 2), (4, 3, 3, 3), {}),
             ((1, 4, 5, 5), (3, 2, 3, 3), {"groups": 2}), ((1, 3, 5, 5), (4, 3, 3), {})]
    for x_shape, w_shape, kwargs in cases:
        with pytest.raises(RuntimeError) as theirs:
            torch.nn.functional.conv2d(torch.randn(x_shape), torch.randn(w_shape), **kwargs)
        with pytest.raises(RuntimeError) as ours:
            F.conv2d(nk.randn(*x_shape), nk.randn(*w_shape), **kwargs)
        assert str(ours.value).startswith(str(theirs.value).splitlines()[0])


# -- nn.Conv1d / nn.Conv2d ----------------------------------------------------------------------------------------
def test_conv2d_module_parameters_repr_and_state_dict():
    conv = nn.Conv2d(3, 8, 3)
    assert conv.weight.shape == (8, 3, 3, 3) and conv.bias.shape == (8,)
    assert conv.weight.dtype == nk.float32 and conv.weight.requires_grad
    assert (conv.kernel_size, conv.stride, conv.padding, conv.dilation, conv.groups, conv.padding_mode) == (
        (3, 3), (1, 1), (0, 0), (1, 1), 1, "zeros")
    assert list(conv.state_dict()) == ["weight", "bias"]
    assert repr(conv) == "Conv2d(3, 8, kernel_size=(3, 3), stride=(1, 1))"
    grouped = nn.Conv2d(4, 8, (3, 2), stride=2, padding=1, dilation=(1, 2), groups=2, bias=False)
    assert grouped.weight.shape == (8, 2, 3, 2) and grouped.bias is None
    assert list(grouped.state_dict()) == ["weight"]
    assert repr(grouped) == ("Conv2d(4, 8, kernel_size=(3, 2), stride=(2, 2), padding=(1, 1), dilation=(1, 2), "
                             "groups=2, bias=False)")
    assert repr(nn.Conv2d(1, 2, 3, padding="same", padding_mode="reflect")) == (
        "Conv2d(1, 2, kernel_size=(3, 3), stride=(1, 1), padding=same, padding_mode=reflect)")
    assert repr(nn.Conv1d(4, 8, 3)) == "Conv1d(4, 8, kernel_size=(3,), stride=(1,))"
    assert nn.Conv1d(4, 8, 5, padding=2).weight.shape == (8, 4, 5)


def test_conv_module_initialisation_follows_pytorch():
    nk.manual_seed(0)
    conv = nn.Conv2d(8, 64, 3, groups=2)
    fan_in = 4 * 3 * 3  # in_channels / groups * kernel area
    bound = 1 / math.sqrt(fan_in)  # kaiming_uniform_(a=sqrt(5)) and the bias rule both give 1/sqrt(fan_in)
    w, b = conv.weight.detach().numpy(), conv.bias.detach().numpy()
    assert np.abs(w).max() <= bound and np.abs(b).max() <= bound
    assert np.abs(w).max() > 0.95 * bound and np.abs(b).max() > 0.5 * bound
    np.testing.assert_allclose(w.std(), bound / math.sqrt(3), rtol=0.05)
    nk.manual_seed(0)
    np.testing.assert_array_equal(nn.Conv2d(8, 64, 3, groups=2).weight.detach().numpy(), w)


def test_conv_module_forward_matches_functional_and_reference():
    nk.manual_seed(1)
    conv = nn.Conv1d(2, 3, 4, stride=2, padding="valid", dtype=nk.float64)
    x = f64(np.random.default_rng(0).standard_normal((2, 2, 9)))
    expected = conv_ref(x.numpy(), conv.weight.detach().numpy(), conv.bias.detach().numpy(), stride=2)
    np.testing.assert_allclose(conv(x).detach().numpy(), expected, rtol=1e-12, atol=1e-14)


@pytest.mark.parametrize("mode", ["reflect", "replicate", "circular"])
def test_padding_modes_pad_the_input_first(mode):
    conv = nn.Conv2d(2, 3, 3, padding=(1, 2), padding_mode=mode, dtype=nk.float64)
    x = f64(np.random.default_rng(1).standard_normal((2, 2, 5, 6)), requires_grad=True)
    np_mode = {"reflect": "reflect", "replicate": "edge", "circular": "wrap"}[mode]
    xp = np.pad(x.detach().numpy(), [(0, 0), (0, 0), (1, 1), (2, 2)], mode=np_mode)
    expected = conv_ref(xp, conv.weight.detach().numpy(), conv.bias.detach().numpy())
    np.testing.assert_allclose(conv(x).detach().numpy(), expected, rtol=1e-12, atol=1e-14)
    assert gradcheck(lambda x, w: F.conv2d(F.pad(x, (2, 2, 1, 1), mode=mode), w), (x, conv.weight))


def test_same_padding_with_a_padding_mode_pads_extra_on_the_right():
    conv = nn.Conv1d(1, 1, 4, padding="same", padding_mode="replicate", bias=False, dtype=nk.float64)
    with nk.no_grad():
        conv.weight.copy_(f64([[[1.0, 0.0, 0.0, 10.0]]]))
    # padded by replication to [1, | 1, 2, 3, | 3, 3]; out[i] = padded[i] + 10 * padded[i + 3]
    np.testing.assert_array_equal(conv(f64([[[1.0, 2.0, 3.0]]])).detach().numpy(), [[[31.0, 31.0, 32.0]]])


@pytest.mark.parametrize("kwargs, match", [
    ({"groups": 0}, "groups must be a positive integer"),
    ({"groups": 2}, "in_channels must be divisible by groups"),
    ({"groups": 3, "in_channels": 3}, "out_channels must be divisible by groups"),
    ({"padding": "full"}, "Invalid padding string 'full', should be one of"),
    ({"padding": "same", "stride": 2}, "padding='same' is not supported for strided convolutions"),
    ({"padding_mode": "mirror"}, "padding_mode must be one of .* but got padding_mode='mirror'"),
])
def test_module_argument_errors(kwargs, match):
    args = {"in_channels": 3, "out_channels": 8, "kernel_size": 3, **kwargs}
    with pytest.raises(ValueError, match=match):
        nn.Conv2d(**args)


def test_modules_match_pytorch():
    torch = pytest.importorskip("torch")
    configs = [
        (nn.Conv2d, torch.nn.Conv2d, (3, 8, 3), {}),
        (nn.Conv2d, torch.nn.Conv2d, (4, 8, (3, 2)), {"stride": 2, "padding": 1, "groups": 2, "bias": False}),
        (nn.Conv2d, torch.nn.Conv2d, (2, 4, 3), {"padding": "same", "dilation": 2}),
        (nn.Conv2d, torch.nn.Conv2d, (2, 4, (2, 3)), {"padding": "same", "padding_mode": "circular"}),
        (nn.Conv2d, torch.nn.Conv2d, (2, 4, 3), {"padding": 2, "padding_mode": "reflect"}),
        (nn.Conv1d, torch.nn.Conv1d, (2, 4, 3), {"padding": "valid", "stride": 2}),
        (nn.Conv1d, torch.nn.Conv1d, (2, 4, 4), {"padding": "same", "padding_mode": "replicate"}),
    ]
    rng = np.random.default_rng(0)
    for ours_cls, theirs_cls, args, kwargs in configs:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            theirs = theirs_cls(*args, **kwargs).double()
            ours = ours_cls(*args, **kwargs, dtype=nk.float64)
            assert repr(ours) == repr(theirs)
            assert list(ours.state_dict()) == list(theirs.state_dict())
            ours.load_state_dict({k: nk.tensor(v.numpy()) for k, v in theirs.state_dict().items()})
            shape = (2, args[0], 7, 6) if ours_cls is nn.Conv2d else (2, args[0], 9)
            x = rng.standard_normal(shape)
            xt = torch.tensor(x, requires_grad=True)
            xn = f64(x, requires_grad=True)
            yt, yn = theirs(xt), ours(xn)
        np.testing.assert_allclose(yn.detach().numpy(), yt.detach().numpy(), rtol=1e-10, atol=1e-12)
        g = rng.standard_normal(yt.shape)
        yt.backward(torch.tensor(g))
        yn.backward(f64(g))
        np.testing.assert_allclose(xn.grad.numpy(), xt.grad.numpy(), rtol=1e-10, atol=1e-12)
        for (name, p), q in zip(ours.named_parameters(), theirs.parameters()):
            np.testing.assert_allclose(p.grad.numpy(), q.grad.numpy(), rtol=1e-10, atol=1e-12, err_msg=name)
