"""F.pad: the spec table for the constant, reflect, replicate and circular modes (forward vs numpy's np.pad,
float64 gradcheck and gradgradcheck, graph mode, no-grad, PyTorch parity), hand-computed values and errors."""

import numpy as np
import pytest

import nnkit as nk
import nnkit.nn.functional as F
from tests.ops import harness
from tests.ops.harness import OpSpec

NP_MODES = {"constant": "constant", "reflect": "reflect", "replicate": "edge", "circular": "wrap"}


def tF():
    import torch.nn.functional

    return torch.nn.functional


def np_pad(x, pad, mode="constant", value=0.0):
    """numpy's np.pad with PyTorch's (last dimension first) amounts; negative amounts crop first."""
    widths = [(0, 0)] * x.ndim
    crop = [slice(None)] * x.ndim
    for k in range(len(pad) // 2):
        axis = x.ndim - 1 - k
        before, after = pad[2 * k], pad[2 * k + 1]
        crop[axis] = slice(max(-before, 0), x.shape[axis] - max(-after, 0))
        widths[axis] = (max(before, 0), max(after, 0))
    x = x[tuple(crop)]
    if mode == "constant":
        return np.pad(x, widths, mode="constant", constant_values=value)
    return np.pad(x, widths, mode=NP_MODES[mode])


def spec(name, shape, pad, mode="constant", value=None, grad_fn=None):
    kwargs = {"mode": mode} if value is None else {"mode": mode, "value": value}
    return OpSpec(f"{mode}_{name}", lambda x: F.pad(x, pad, **kwargs),
                  lambda x: np_pad(x, pad, mode, 0.0 if value is None else value),
                  lambda rng: [rng.standard_normal(shape)], torch_fn=lambda x: tF().pad(x, pad, **kwargs),
                  grad_fn=grad_fn)


SPECS = [
    spec("last_dim", (2, 3), (1, 2), grad_fn="ConstantPadNdBackward0"),
    spec("value", (2, 3), (0, 2), value=1.5, grad_fn="ConstantPadNdBackward0"),
    spec("two_dims", (1, 2, 3, 2), (1, 1, 2, 0), grad_fn="ConstantPadNdBackward0"),
    spec("three_dims_of_3d", (2, 2, 3), (1, 0, 0, 1, 2, 1), grad_fn="ConstantPadNdBackward0"),
    spec("crop", (2, 4, 5), (-1, 2, 0, -2), grad_fn="ConstantPadNdBackward0"),
    spec("1d_batched", (2, 3, 5), (2, 1), "reflect", grad_fn="ReflectionPad1DBackward0"),
    spec("1d_unbatched", (3, 5), (4, 3), "reflect", grad_fn="ReflectionPad1DBackward0"),
    spec("2d", (1, 2, 4, 5), (1, 2, 3, 0), "reflect", grad_fn="ReflectionPad2DBackward0"),
    spec("2d_unbatched", (2, 3, 3), (2, 2, 1, 1), "reflect", grad_fn="ReflectionPad2DBackward0"),
    spec("3d", (1, 1, 3, 4, 4), (1, 1, 2, 0, 0, 2), "reflect", grad_fn="ReflectionPad3DBackward0"),
    spec("1d", (2, 3, 4), (3, 1), "replicate", grad_fn="ReplicationPad1DBackward0"),
    spec("2d", (1, 2, 3, 3), (2, 0, 1, 3), "replicate", grad_fn="ReplicationPad2DBackward0"),
    spec("3d_unbatched", (2, 2, 3, 2), (1, 1, 0, 2, 1, 0), "replicate", grad_fn="ReplicationPad3DBackward0"),
    # PyTorch records circular padding as slice copies (grad_fn CopySlices): values and gradients are compared
    spec("1d", (2, 3, 4), (2, 3), "circular"),
    spec("2d", (1, 2, 3, 4), (1, 2, 3, 0), "circular"),
    spec("3d", (1, 1, 2, 3, 3), (1, 0, 2, 1, 1, 1), "circular"),
    spec("crop", (1, 2, 6), (-2, 1), "circular"),
]

harness.make_tests(SPECS, globals())


def test_docstring_values():
    x = nk.tensor([[1.0, 2.0, 3.0]])
    assert F.pad(x, (2, 1)).tolist() == [[0, 0, 1, 2, 3, 0]]
    assert F.pad(x, (2, 1), mode="reflect").tolist() == [[3, 2, 1, 2, 3, 2]]
    assert F.pad(x, (2, 1), mode="replicate").tolist() == [[1, 1, 1, 2, 3, 3]]
    assert F.pad(x, (2, 1), mode="circular").tolist() == [[2, 3, 1, 2, 3, 1]]
    assert F.pad(x, (0, 0, 1, 0), value=9.0).tolist() == [[9, 9, 9], [1, 2, 3]]
    assert F.pad(x, (-1, -1)).tolist() == [[2]]
    assert F.pad(nk.tensor([[1, 2]]), (1, 0)).dtype == nk.int64


def test_gradients_by_hand_sum_over_the_positions_that_read_each_element():
    x = nk.tensor([[[1.0, 2.0, 3.0]]], dtype=nk.float64, requires_grad=True)
    F.pad(x, (2, 1), mode="reflect").backward(nk.tensor([[[1.0, 10.0, 100.0, 1000.0, 10000.0, 100000.0]]],
                                                        dtype=nk.float64))
    # output reads [3, 2, 1, 2, 3, 2]: x[0] <- 100; x[1] <- 10 + 1000 + 100000; x[2] <- 1 + 10000
    np.testing.assert_array_equal(x.grad.numpy(), [[[100.0, 101010.0, 10001.0]]])
    x.grad = None
    F.pad(x, (2, 1), mode="replicate").sum().backward()
    np.testing.assert_array_equal(x.grad.numpy(), [[[3.0, 1.0, 2.0]]])
    x.grad = None
    F.pad(x, (2, 1), mode="circular").sum().backward()
    np.testing.assert_array_equal(x.grad.numpy(), [[[2.0, 2.0, 2.0]]])
    x.grad = None
    F.pad(x, (-1, 2)).sum().backward()
    np.testing.assert_array_equal(x.grad.numpy(), [[[0.0, 1.0, 1.0]]])


def test_circular_node_name_and_second_derivative():
    x = nk.randn(1, 2, 3, dtype=nk.float64, requires_grad=True)
    out = F.pad(x, (1, 1), mode="circular")
    assert out.grad_fn.name() == "CircularPadBackward0"
    assert nk.autograd.gradgradcheck(lambda t: F.pad(t, (1, 2), mode="circular") ** 2, (x,))


def test_errors_use_pytorch_wording():
    x = nk.randn(1, 2, 3)
    with pytest.raises(RuntimeError, match="Padding length must be divisible by 2"):
        F.pad(x, (1,))
    with pytest.raises(RuntimeError, match="Padding length should be less than or equal to two times the input "
                                           "dimension but got padding length 8 and input of dimension 3"):
        F.pad(x, (1,) * 8)
    with pytest.raises(RuntimeError, match=r"Argument #4: Padding size should be less than the corresponding input "
                                           r"dimension, but got: padding \(3, 0\) at dimension 2 of input \[1, 2, 3\]"):
        F.pad(x, (3, 0), mode="reflect")
    with pytest.raises(NotImplementedError, match="Padding size 2 is not supported for 1D input tensor"):
        F.pad(nk.randn(3), (1, 1), mode="reflect")
    with pytest.raises(NotImplementedError, match="Unrecognised padding mode foo"):
        F.pad(x, (1, 1), mode="foo")
    with pytest.raises(RuntimeError, match='Padding mode "reflect" doesn\'t take in value argument'):
        F.pad(x, (1, 1), mode="reflect", value=2.0)
    with pytest.raises(RuntimeError, match="Padding value causes wrapping around more than once"):
        F.pad(x, (4, 0), mode="circular")
    with pytest.raises(RuntimeError, match="narrow\\(\\): length must be non-negative"):
        F.pad(x, (-4, 0))


def test_pytorch_raises_the_same_errors():
    torch = pytest.importorskip("torch")
    x = torch.randn(1, 2, 3)
    for call, error, message in (
        (lambda: tF().pad(x, (1,)), RuntimeError, "Padding length must be divisible by 2"),
        (lambda: tF().pad(x, (3, 0), mode="reflect"), RuntimeError,
         "Argument #4: Padding size should be less than the corresponding input dimension"),
        (lambda: tF().pad(torch.randn(3), (1, 1), mode="reflect"), NotImplementedError,
         "Padding size 2 is not supported for 1D input tensor"),
        (lambda: tF().pad(x, (4, 0), mode="circular"), RuntimeError, "Padding value causes wrapping around more"),
        (lambda: tF().pad(x, (-4, 0)), RuntimeError, r"narrow\(\): length must be non-negative"),
    ):
        with pytest.raises(error, match=message):
            call()
