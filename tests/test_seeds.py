"""The code examples of the autograd notes and tutorials users wrote (``/work/shared/seeds``), run with ``torch``
replaced by ``nnkit``; each test asserts what the example prints (random values aside: those are checked by
their shape, format and the formula they must satisfy)."""

import re

import numpy as np
import pytest

import nnkit as nk
import nnkit.nn.functional as F

FLOAT4 = r"-?\d+\.\d{4}"  # one number as PyTorch prints it with 4 decimals


def printed(capsys):
    return capsys.readouterr().out


def sigmoid(v):
    return 1 / (1 + np.exp(-v))


# -- seed 000: "Overview: how the autograd works and records the operations" --------------------------------------
def test_seed_saved_self_and_saved_result(capsys):
    x = nk.randn(5, requires_grad=True)
    y = x.pow(2)
    # y.grad_fn._saved_self refers to the same Tensor object as x.
    print(x.equal(y.grad_fn._saved_self))
    print(x is y.grad_fn._saved_self)

    # But that may not always be the case
    x = nk.randn(5, requires_grad=True)
    y = x.exp()
    print(y.equal(y.grad_fn._saved_result))
    print(y is y.grad_fn._saved_result)
    assert printed(capsys) == "True\nTrue\nTrue\nFalse\n"


def _one_layer_network():
    x = nk.ones(5)  # input tensor
    y = nk.zeros(3)  # expected output
    w = nk.randn(5, 3, requires_grad=True)
    b = nk.randn(3, requires_grad=True)
    z = nk.matmul(x, w) + b
    loss = F.binary_cross_entropy_with_logits(z, y)
    return x, y, w, b, z, loss


def _check_one_layer_gradients(w, b, z):
    zs = z.detach().numpy().astype(np.float64)
    expected_b = sigmoid(zs) / 3  # d mean(log(1 + e^z)) / dz with target 0
    np.testing.assert_allclose(b.grad.numpy(), expected_b, rtol=1e-5, atol=1e-7)
    np.testing.assert_allclose(w.grad.numpy(), np.tile(expected_b, (5, 1)), rtol=1e-5, atol=1e-7)


def test_seed_one_layer_network_binary_cross_entropy(capsys):
    nk.manual_seed(0)
    x, y, w, b, z, loss = _one_layer_network()
    zs = z.detach().numpy().astype(np.float64)
    assert loss.item() == pytest.approx(np.mean(np.log1p(np.exp(zs))), rel=1e-5)
    assert re.fullmatch(rf"tensor\({FLOAT4}, grad_fn=<BinaryCrossEntropyWithLogitsBackward0>\)", repr(loss))

    print(f"Gradient function for z ={z.grad_fn}")
    print(f"Gradient function for loss={loss.grad_fn}")
    out = printed(capsys)
    assert re.fullmatch(
        r"Gradient function for z =<AddBackward0 object at 0x[0-9a-f]+>\n"
        r"Gradient function for loss=<BinaryCrossEntropyWithLogitsBackward0 object at 0x[0-9a-f]+>\n",
        out,
    )

    loss.backward()
    print(w.grad)
    print(b.grad)
    lines = printed(capsys).splitlines()
    row = rf"\[{FLOAT4}, +{FLOAT4}, +{FLOAT4}\]"
    assert re.fullmatch(rf"tensor\(\[{row},", lines[0])
    assert all(re.fullmatch(rf" {{8}}{row},?", line) for line in lines[1:4])
    assert re.fullmatch(rf" {{8}}{row}\]\)", lines[4])
    assert len({line.strip(" tensor([]),") for line in lines[:5]}) == 1  # all five rows are the same
    assert re.fullmatch(rf"tensor\({row}\)", lines[5])
    _check_one_layer_gradients(w, b, z)


def test_seed_disabling_gradient_tracking(capsys):
    nk.manual_seed(1)
    x, y, w, b, z, loss = _one_layer_network()
    z = nk.matmul(x, w) + b
    print(z.requires_grad)

    with nk.no_grad():
        z = nk.matmul(x, w) + b
    print(z.requires_grad)

    z = nk.matmul(x, w) + b
    z_det = z.detach()
    print(z_det.requires_grad)
    assert printed(capsys) == "True\nFalse\nFalse\n"


# -- seed 001: "A Gentle Introduction to torch.autograd" ----------------------------------------------------------
def test_seed_gentle_introduction_external_grad(capsys):
    a = nk.tensor([2.0, 3.0], requires_grad=True)
    b = nk.tensor([6.0, 4.0], requires_grad=True)
    Q = 3 * a**3 - b**2
    external_grad = nk.tensor([1.0, 1.0])
    Q.backward(gradient=external_grad)
    # check if collected gradients are correct
    print(9 * a**2 == a.grad)
    print(-2 * b == b.grad)
    assert printed(capsys) == "tensor([True, True])\ntensor([True, True])\n"
    assert a.grad.tolist() == [36.0, 81.0]
    assert b.grad.tolist() == [-12.0, -8.0]


def test_seed_gentle_introduction_q_sum_backward_is_equivalent():
    a = nk.tensor([2.0, 3.0], requires_grad=True)
    b = nk.tensor([6.0, 4.0], requires_grad=True)
    Q = 3 * a**3 - b**2
    Q.sum().backward()
    assert a.grad.tolist() == [36.0, 81.0]
    assert b.grad.tolist() == [-12.0, -8.0]


def test_seed_gentle_introduction_exclusion_from_the_dag(capsys):
    x = nk.rand(5, 5)
    y = nk.rand(5, 5)
    z = nk.rand((5, 5), requires_grad=True)

    a = x + y
    print(f"Does `a` require gradients? : {a.requires_grad}")
    b = x + z
    print(f"Does `b` require gradients?: {b.requires_grad}")
    assert printed(capsys) == "Does `a` require gradients? : False\nDoes `b` require gradients?: True\n"


class _BasicBlock(nk.nn.Module):
    """ResNet's basic block (two 3x3 convs with BatchNorm and an identity shortcut), as torchvision builds it."""

    def __init__(self, channels):
        super().__init__()
        self.conv1 = nk.nn.Conv2d(channels, channels, 3, padding=1, bias=False)
        self.bn1 = nk.nn.BatchNorm2d(channels)
        self.relu = nk.nn.ReLU()
        self.conv2 = nk.nn.Conv2d(channels, channels, 3, padding=1, bias=False)
        self.bn2 = nk.nn.BatchNorm2d(channels)

    def forward(self, x):
        return self.relu(self.bn2(self.conv2(self.relu(self.bn1(self.conv1(x))))) + x)


class _TinyResNet(nk.nn.Module):
    """Stands in for ``torchvision.models.resnet18(pretrained=True)`` (nnkit has no model zoo): the same
    attribute names (``conv1, bn1, layer1, avgpool, fc``) and a 512-feature classifier ``fc`` with 1000 classes."""

    def __init__(self):
        super().__init__()
        self.conv1 = nk.nn.Conv2d(3, 8, 3, padding=1, bias=False)
        self.bn1 = nk.nn.BatchNorm2d(8)
        self.relu = nk.nn.ReLU()
        self.layer1 = nk.nn.Sequential(_BasicBlock(8))
        self.layer2 = nk.nn.Conv2d(8, 512, 1)
        self.avgpool = nk.nn.AdaptiveAvgPool2d((1, 1))
        self.fc = nk.nn.Linear(512, 1000)

    def forward(self, x):
        x = self.layer2(self.layer1(self.relu(self.bn1(self.conv1(x)))))
        return self.fc(nk.flatten(self.avgpool(x), 1))


def test_seed_gentle_introduction_finetune_resnet():
    from nnkit import nn, optim

    nk.manual_seed(0)
    model = _TinyResNet()

    # Freeze all the parameters in the network
    for param in model.parameters():
        param.requires_grad = False

    model.fc = nn.Linear(512, 10)

    # Optimize only the classifier
    optimizer = optim.SGD(model.fc.parameters(), lr=1e-2, momentum=0.9)

    trainable = [name for name, p in model.named_parameters() if p.requires_grad]
    assert trainable == ["fc.weight", "fc.bias"]
    frozen_before = {name: p.detach().clone() for name, p in model.named_parameters() if name[:3] != "fc."}
    head_before = model.fc.weight.detach().clone()

    x, y = nk.randn(4, 3, 8, 8), nk.tensor([1, 3, 5, 7])
    features = nk.flatten(model.avgpool(model.layer2(model.layer1(model.relu(model.bn1(model.conv1(x)))))), 1)
    assert features.grad_fn is None and not features.requires_grad  # the frozen backbone records nothing
    loss = F.cross_entropy(model(x), y)
    assert loss.grad_fn.name() == "NllLossBackward0"
    optimizer.zero_grad()
    loss.backward()
    optimizer.step()

    for name, p in model.named_parameters():
        if name[:3] == "fc.":
            assert p.grad is not None
        else:
            assert p.grad is None
            np.testing.assert_array_equal(p.numpy(), frozen_before[name].numpy())
    # the head moved by exactly -lr * grad on the first SGD step (the momentum buffer starts as the gradient)
    np.testing.assert_allclose(model.fc.weight.detach().numpy(),
                               head_before.numpy() - 1e-2 * model.fc.weight.grad.numpy(), rtol=1e-6, atol=1e-7)


def test_seed_no_grad_context_manager_and_decorator(capsys):
    x = nk.tensor([1], dtype=nk.float, requires_grad=True)
    with nk.no_grad():
        y = x * 2

    print(y.requires_grad)

    @nk.no_grad()
    def doubler(x):
        return x * 2

    z = doubler(x)
    print(z.requires_grad)
    assert printed(capsys) == "False\nFalse\n"


# -- seed 002: "Automatic differentiation with torch.autograd" ----------------------------------------------------
def test_seed_autograd_tutorial_tensors_print(capsys):
    x = nk.ones(5)
    print(x)
    y = nk.zeros(3)
    print(y)
    assert printed(capsys) == "tensor([1., 1., 1., 1., 1.])\ntensor([0., 0., 0.])\n"

    nk.manual_seed(2)
    w = nk.randn(5, 3, requires_grad=True)
    print(w)
    lines = printed(capsys).splitlines()
    row = rf"\[ ?{FLOAT4}, +{FLOAT4}, +{FLOAT4}\]"
    assert len(lines) == 5
    assert re.fullmatch(rf"tensor\(\[{row},", lines[0])
    assert re.fullmatch(rf" {{8}}{row}\], requires_grad=True\)", lines[4])

    b = nk.randn(3, requires_grad=True)
    print(b)
    assert re.fullmatch(rf"tensor\(\[ ?{FLOAT4}, +{FLOAT4}, +{FLOAT4}\], requires_grad=True\)\n", printed(capsys))

    z = nk.matmul(x, w) + b
    print(z)
    assert re.fullmatch(rf"tensor\(\[ ?{FLOAT4}, +{FLOAT4}, +{FLOAT4}\], grad_fn=<AddBackward0>\)\n", printed(capsys))
    np.testing.assert_allclose(z.detach().numpy(), w.detach().numpy().sum(0) + b.detach().numpy(), rtol=1e-6)


def test_seed_autograd_tutorial_gradients_and_tracking(capsys):
    nk.manual_seed(3)
    x = nk.ones(5)  # input tensor
    y = nk.zeros(3)  # expected output
    w = nk.randn(5, 3, requires_grad=True)
    b = nk.randn(3, requires_grad=True)
    z = nk.matmul(x, w) + b
    loss = F.binary_cross_entropy_with_logits(z, y)
    print(f"Gradient function for z = {z.grad_fn}")
    print(f"Gradient function for loss = {loss.grad_fn}")
    assert re.fullmatch(
        r"Gradient function for z = <AddBackward0 object at 0x[0-9a-f]+>\n"
        r"Gradient function for loss = <BinaryCrossEntropyWithLogitsBackward0 object at 0x[0-9a-f]+>\n",
        printed(capsys),
    )
    loss.backward()
    _check_one_layer_gradients(w, b, z)

    z = nk.matmul(x, w) + b
    print(z.requires_grad)
    with nk.no_grad():
        z = nk.matmul(x, w) + b
    print(z.requires_grad)
    z = nk.matmul(x, w) + b
    z_det = z.detach()
    print(z_det.requires_grad)
    assert printed(capsys) == "True\nFalse\nFalse\n"


def test_seed_autograd_tutorial_retain_graph_and_zeroing(capsys):
    inp = nk.eye(4, 5, requires_grad=True)
    out = (inp + 1).pow(2).t()
    out.backward(nk.ones_like(out), retain_graph=True)
    print(f"First call\n{inp.grad}")
    out.backward(nk.ones_like(out), retain_graph=True)
    print(f"\nSecond call\n{inp.grad}")
    inp.grad.zero_()
    out.backward(nk.ones_like(out), retain_graph=True)
    print(f"\nCall after zeroing gradients\n{inp.grad}")
    assert printed(capsys) == (
        "First call\n"
        "tensor([[4., 2., 2., 2., 2.],\n"
        "        [2., 4., 2., 2., 2.],\n"
        "        [2., 2., 4., 2., 2.],\n"
        "        [2., 2., 2., 4., 2.]])\n"
        "\n"
        "Second call\n"
        "tensor([[8., 4., 4., 4., 4.],\n"
        "        [4., 8., 4., 4., 4.],\n"
        "        [4., 4., 8., 4., 4.],\n"
        "        [4., 4., 4., 8., 4.]])\n"
        "\n"
        "Call after zeroing gradients\n"
        "tensor([[4., 2., 2., 2., 2.],\n"
        "        [2., 4., 2., 2., 2.],\n"
        "        [2., 2., 4., 2., 2.],\n"
        "        [2., 2., 2., 4., 2.]])\n"
    )


# -- seed 003: "Autograd Module" ----------------------------------------------------------------------------------
def test_seed_autograd_module_loss_and_gradients(capsys):
    x = nk.tensor([-1.2365, 1.8245, -1.0701, 0.0869, -0.0376])
    loss = x**2 - 5
    print(loss)
    assert printed(capsys) == "tensor([-3.4711, -1.6712, -3.8549, -4.9924, -4.9986])\n"

    x = nk.tensor([-1.2365, 1.8245, -1.0701, 0.0869, -0.0376], requires_grad=True)
    loss = x**2 - 5
    print(loss)
    assert printed(capsys) == "tensor([-3.4711, -1.6712, -3.8549, -4.9924, -4.9986], grad_fn=<SubBackward0>)\n"
    assert re.fullmatch(r"<SubBackward0 object at 0x[0-9a-f]+>", repr(loss.grad_fn))

    loss.backward(gradient=nk.ones(5))
    print(x.grad)
    print(2 * x)
    assert printed(capsys) == (
        "tensor([-2.4730,  3.6490, -2.1402,  0.1738, -0.0752])\n"
        "tensor([-2.4730,  3.6490, -2.1402,  0.1738, -0.0752], grad_fn=<MulBackward0>)\n"
    )
    assert x.grad.equal(2 * x.detach())


def test_seed_autograd_module_detach_and_no_grad(capsys):
    a = nk.rand(2, 2, requires_grad=True)
    print(a.requires_grad)
    b = a.detach()
    print(b.requires_grad)

    c = nk.rand(2, 2, requires_grad=True)
    with nk.no_grad():
        loss = c**2
        print(loss.requires_grad)
    assert printed(capsys) == "True\nFalse\nFalse\n"


# -- seed 004: "Autograd" (notes in Chinese) ----------------------------------------------------------------------
def test_seed_autograd_notes_gradients_of_parameters_only(capsys):
    nk.manual_seed(4)
    x = nk.ones(5)  # input tensor
    y = nk.zeros(3)  # expected output
    w = nk.randn(5, 3, requires_grad=True)
    b = nk.randn(3, requires_grad=True)
    z = x @ w + b
    loss = F.binary_cross_entropy_with_logits(z, y)
    print(f"Gradient function for z = {z.grad_fn}")
    print(f"Gradient function for loss = {loss.grad_fn}")
    assert re.fullmatch(
        r"Gradient function for z = <AddBackward0 object at 0x[0-9a-f]+>\n"
        r"Gradient function for loss = <BinaryCrossEntropyWithLogitsBackward0 object at 0x[0-9a-f]+>\n",
        printed(capsys),
    )

    loss.backward()
    print(x.grad)
    assert printed(capsys) == "None\n"
    _check_one_layer_gradients(w, b, z)

    z = nk.matmul(x, w) + b
    print(z.requires_grad)
    with nk.no_grad():
        z = nk.matmul(x, w) + b
    print(z.requires_grad)

    z = nk.matmul(x, w) + b
    print(z.requires_grad)
    z_det = z.detach()
    print(z_det.requires_grad)
    assert printed(capsys) == "True\nFalse\nTrue\nFalse\n"


def test_seed_second_backward_without_retain_graph_fails():
    # "We can only perform gradient calculations using backward once on a given graph ... If we need to do several
    # backward calls on the same graph, we need to pass retain_graph=True to the backward call."
    nk.manual_seed(5)
    x, y, w, b, z, loss = _one_layer_network()
    loss.backward()
    with pytest.raises(RuntimeError, match="Trying to backward through the graph a second time"):
        loss.backward()
