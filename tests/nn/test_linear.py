"""``F.linear`` (spec table, hand values, errors, which gradients are formed) and ``nn.Linear`` (parameters,
initialisation, repr, state_dict)."""

import math

import numpy as np
import pytest

import nnkit as nk
import nnkit.nn as nn
import nnkit.nn.functional as F
from tests.ops import harness
from tests.ops.harness import OpSpec


def inputs(x_shape, out_features=4, bias=True):
    def make(rng):
        arrays = [rng.standard_normal(x_shape), rng.standard_normal((out_features, x_shape[-1]))]
        return arrays + [rng.standard_normal(out_features)] if bias else arrays
    return make


def ref(x, w, b=None):
    return x @ w.T + (0 if b is None else b)


def torch_linear(*args):
    import torch.nn.functional as tfn

    return tfn.linear(*args)


SPECS = [
    OpSpec("linear", F.linear, ref, inputs((5, 3)), torch_fn=torch_linear, grad_fn="AddmmBackward0"),
    OpSpec("linear_no_bias", F.linear, ref, inputs((5, 3), bias=False), torch_fn=torch_linear,
           grad_fn="MmBackward0"),
    # PyTorch wraps the product in views for these ranks (ViewBackward0 on top); nnkit keeps one node.
    OpSpec("linear_3d", F.linear, ref, inputs((2, 3, 3)), torch_fn=torch_linear),
    OpSpec("linear_3d_no_bias", F.linear, ref, inputs((2, 1, 3, 2), bias=False), torch_fn=torch_linear),
    OpSpec("linear_1d", F.linear, ref, inputs((3,)), torch_fn=torch_linear),
    OpSpec("linear_1d_no_bias", F.linear, ref, inputs((3,), bias=False), torch_fn=torch_linear),
    OpSpec("linear_input_only", lambda x, w, b: F.linear(x, w.detach(), b.detach()), ref, inputs((4, 2)), diff=(0,)),
    OpSpec("linear_weight_only", lambda x, w: F.linear(x.detach(), w), ref, inputs((4, 2), bias=False), diff=(1,)),
]

harness.make_tests(SPECS, globals())


def f64(values, requires_grad=False):
    return nk.tensor(values, dtype=nk.float64, requires_grad=requires_grad)


def test_hand_computed_values_and_gradients():
    x = f64([[1.0, 2.0]], requires_grad=True)
    w = f64([[1.0, 0.0], [0.0, 1.0], [1.0, 1.0]], requires_grad=True)
    b = f64([0.5, 0.0, -1.0], requires_grad=True)
    y = F.linear(x, w, b)
    np.testing.assert_array_equal(y.detach().numpy(), [[1.5, 2.0, 2.0]])
    y.backward(f64([[1.0, 2.0, 3.0]]))
    np.testing.assert_array_equal(x.grad.numpy(), [[4.0, 5.0]])            # g @ W
    np.testing.assert_array_equal(w.grad.numpy(), [[1.0, 2.0], [2.0, 4.0], [3.0, 6.0]])   # g.T @ x
    np.testing.assert_array_equal(b.grad.numpy(), [1.0, 2.0, 3.0])


def test_edges_follow_pytorch_order_and_only_needed_operands_are_saved():
    x = f64(np.ones((2, 3)), requires_grad=True)
    w = f64(np.ones((4, 3)))
    b = f64(np.ones(4), requires_grad=True)
    node = F.linear(x, w, b).grad_fn
    assert node.name() == "AddmmBackward0"
    assert node.next_functions[0][0].variable is b and node.next_functions[1][0].variable is x
    assert node.next_functions[2] == (None, 0)
    saved_x, saved_w = node._saved
    assert saved_x is None and saved_w is w  # x is needed only for the weight's gradient


def test_frozen_weight_gets_no_gradient():
    x = f64(np.ones((2, 3)), requires_grad=True)
    w = f64(np.ones((4, 3)))
    F.linear(x, w).sum().backward()
    assert w.grad is None
    np.testing.assert_array_equal(x.grad.numpy(), np.full((2, 3), 4.0))


def test_float32_stays_float32_and_matches_numpy():
    rng = np.random.default_rng(0)
    x, w, b = (rng.standard_normal(s).astype(np.float32) for s in ((6, 5), (3, 5), (3,)))
    y = F.linear(nk.tensor(x), nk.tensor(w), nk.tensor(b))
    assert y.dtype == nk.float32
    np.testing.assert_allclose(y.numpy(), x @ w.T + b, rtol=1e-6)


def test_errors():
    x = f64(np.ones((2, 3, 4)))
    with pytest.raises(RuntimeError, match=r"mat1 and mat2 shapes cannot be multiplied \(6x4 and 3x5\)"):
        F.linear(x, f64(np.ones((5, 3))))
    with pytest.raises(RuntimeError, match="expected m1 and m2 to have the same dtype, but got: double != float"):
        F.linear(x, nk.ones(5, 4))
    with pytest.raises(RuntimeError, match=r"The expanded size of the tensor \(5\) must match the existing size \(3\)"):
        F.linear(x, f64(np.ones((5, 4))), f64(np.ones(3)))
    with pytest.raises(RuntimeError, match="both arguments to linear need to be at least 1D"):
        F.linear(f64(1.0), f64(np.ones((5, 1))))


def test_matches_pytorch_in_float32():
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(1)
    x, w, b = (rng.standard_normal(s).astype(np.float32) for s in ((7, 5), (3, 5), (3,)))
    ours = [nk.tensor(a, requires_grad=True) for a in (x, w, b)]
    theirs = [torch.tensor(a, requires_grad=True) for a in (x, w, b)]
    y, ty = F.linear(*ours), torch.nn.functional.linear(*theirs)
    g = rng.standard_normal(y.shape).astype(np.float32)
    y.backward(nk.tensor(g))
    ty.backward(torch.tensor(g))
    np.testing.assert_allclose(y.detach().numpy(), ty.detach().numpy(), rtol=1e-5, atol=1e-6)
    for a, t in zip(ours, theirs):
        assert a.grad.dtype == nk.float32
        np.testing.assert_allclose(a.grad.numpy(), t.grad.numpy(), rtol=1e-5, atol=1e-5)


# -- nn.Linear -----------------------------------------------------------------------------------------------------
def test_linear_module_parameters_repr_and_state_dict():
    fc = nn.Linear(20, 30)
    assert fc.weight.shape == (30, 20) and fc.bias.shape == (30,)
    assert fc.weight.dtype == nk.float32 and fc.weight.requires_grad and fc.weight.is_leaf
    assert [n for n, _ in fc.named_parameters()] == ["weight", "bias"]
    assert list(fc.state_dict()) == ["weight", "bias"]
    assert repr(fc) == "Linear(in_features=20, out_features=30, bias=True)"
    no_bias = nn.Linear(3, 4, bias=False)
    assert no_bias.bias is None
    assert list(no_bias.state_dict()) == ["weight"]
    assert repr(no_bias) == "Linear(in_features=3, out_features=4, bias=False)"


def test_linear_module_initialisation_follows_pytorch():
    nk.manual_seed(0)
    fc = nn.Linear(50, 400)
    bound = 1 / math.sqrt(50)  # kaiming_uniform_(a=sqrt(5)) and the bias rule both give 1/sqrt(fan_in)
    w, b = fc.weight.detach().numpy(), fc.bias.detach().numpy()
    assert np.abs(w).max() <= bound and np.abs(b).max() <= bound
    assert np.abs(w).max() > 0.95 * bound
    np.testing.assert_allclose(w.std(), bound / math.sqrt(3), rtol=0.05)
    nk.manual_seed(0)
    again = nn.Linear(50, 400)
    np.testing.assert_array_equal(again.weight.detach().numpy(), w)


def test_linear_module_forward_and_dtype():
    fc = nn.Linear(3, 2, dtype=nk.float64)
    assert fc.weight.dtype == nk.float64
    x = f64(np.random.default_rng(0).standard_normal((4, 5, 3)))
    y = fc(x)
    assert y.shape == (4, 5, 2)
    np.testing.assert_allclose(y.detach().numpy(), ref(x.numpy(), fc.weight.detach().numpy(),
                                                       fc.bias.detach().numpy()), rtol=1e-14)
    y.sum().backward()
    np.testing.assert_allclose(fc.bias.grad.numpy(), [20.0, 20.0])


def test_linear_module_zero_in_features():
    with pytest.warns(UserWarning, match="Initializing zero-element tensors is a no-op"):  # as PyTorch
        fc = nn.Linear(0, 3)
    np.testing.assert_array_equal(fc.bias.detach().numpy(), np.zeros(3))
    assert fc(nk.zeros(2, 0)).shape == (2, 3)


def test_linear_module_reads_a_weight_moved_out_of_the_registry():
    # What reparametrizations do (PyTorch's old weight_norm): the parameter leaves ``_parameters`` and the layer
    # gets a computed plain attribute of that name; forward must use it, not the registry.
    fc = nn.Linear(2, 1, dtype=nk.float64)
    scale = nk.tensor(3.0, dtype=nk.float64, requires_grad=True)
    base = fc.weight
    del fc._parameters["weight"]
    fc.weight = base * scale
    x = nk.tensor([[1.0, 2.0]], dtype=nk.float64)
    y = fc(x)
    expected = 3.0 * (base.detach().numpy() @ [1.0, 2.0]) + fc.bias.detach().numpy()
    np.testing.assert_allclose(y.detach().numpy().ravel(), expected, rtol=1e-14)
    y.sum().backward()
    np.testing.assert_allclose(scale.grad.numpy(), base.detach().numpy() @ [1.0, 2.0], rtol=1e-14)
    fc.bias = None  # a layer whose bias was set to None after construction: no bias added
    assert fc(x).grad_fn.name() == "MmBackward0"


def test_linear_edges_name_the_output_of_a_multi_output_producer():
    # The three-input node records each operand's output number: here the input and weight are outputs 1 and 2
    # of one split, the bias output 0 of another.
    rng = np.random.default_rng(3)
    source = nk.tensor(rng.standard_normal((3, 2)), requires_grad=True)
    _, x, w = source.split(1)
    b, _ = nk.tensor(rng.standard_normal(2), requires_grad=True).split(1)
    y = F.linear(x, w, b)
    split = source.split(1)[0].grad_fn  # a node of the same kind, for the name
    assert [(type(n).__name__, nr) for n, nr in y.grad_fn.next_functions] == [
        (type(split).__name__, 0), (type(split).__name__, 1), (type(split).__name__, 2)
    ]
    y.sum().backward()
    expected = np.zeros((3, 2))
    expected[1] = source.detach().numpy()[2]  # d(x . w)/dx = w
    expected[2] = source.detach().numpy()[1]
    np.testing.assert_allclose(source.grad.numpy(), expected, rtol=1e-14)
