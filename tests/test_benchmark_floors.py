"""The benchmarks' hand-written numpy floors compute the right math.

The floors of W1/W4 (the elementwise chain), W2/W5 (the MLP) and W3 (the CNN) are checked against central
finite differences in float64 on tiny sizes, against nnkit's autograd (gradients, and parameters after a few
SGD momentum steps), and at the benchmark's layer sizes in float32 (W3 with a smaller batch).
"""

import sys
from pathlib import Path

import numpy as np
import pytest

import nnkit as nk

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "benchmarks"))

from workloads import chain, cnn, mlp, training  # noqa: E402

TINY_MLP = (12, 8, 6, 4)
TINY_CNN = {"channels": (2, 3, 4), "size": 8, "n_classes": 3}


def finite_difference_grads(floor, eps=1e-6):
    """Central differences of ``floor.loss_and_grads()``'s loss with respect to every parameter entry."""
    grads = []
    for p in floor.params:
        g = np.empty_like(p)
        for idx in np.ndindex(p.shape):
            orig = p[idx]
            p[idx] = orig + eps
            up = floor.loss_and_grads()
            p[idx] = orig - eps
            down = floor.loss_and_grads()
            p[idx] = orig
            g[idx] = (up - down) / (2 * eps)
        grads.append(g)
    return grads


def nnkit_grads(model, x, y):
    """Loss and parameter gradients of nnkit's ``model`` on ``(x, y)`` (numpy arrays)."""
    loss = nk.nn.functional.cross_entropy(model(nk.from_numpy(x)), nk.from_numpy(y))
    loss.backward()
    return loss.item(), [p.grad.numpy() for p in model.parameters()]


def mlp_setup(sizes, batch, dtype, seed=0):
    x, y = training.make_batch((batch, sizes[0]), sizes[-1], seed, dtype)
    state = training.initial_state(mlp.layers(sizes), seed, dtype)
    model = mlp.model(nk.nn, sizes)
    model = model.double() if dtype == np.float64 else model
    return mlp.NumpyMLP(state, x, y), training.load_state(nk, model, state), x, y


def cnn_setup(batch, dtype, channels=cnn.CHANNELS, size=cnn.SIZE, n_classes=cnn.N_CLASSES, seed=0):
    x, y = training.make_batch((batch, channels[0], size, size), n_classes, seed, dtype)
    state = training.initial_state(cnn.layers(channels, size, n_classes), seed, dtype)
    model = cnn.model(nk.nn, channels, size, n_classes)
    model = model.double() if dtype == np.float64 else model
    return cnn.NumpyCNN(state, x, y, channels), training.load_state(nk, model, state), x, y


def assert_grads_close(got, expected, rtol, atol):
    assert len(got) == len(expected)
    for g, e in zip(got, expected):
        assert g.shape == e.shape
        np.testing.assert_allclose(g, e, rtol=rtol, atol=atol)


# -- W1/W4: the elementwise chain --------------------------------------------------------------------------------
def test_chain_floor_matches_finite_differences():
    x = chain.make_input(4, seed=1).astype(np.float64)
    total, grad = chain.numpy_grad(x, 2)
    assert total == pytest.approx(chain.numpy_forward(x, 2).sum(), rel=1e-15)
    eps = 1e-6
    fd = np.empty_like(x)
    for i in range(x.size):
        e = np.zeros_like(x)
        e[i] = eps
        fd[i] = (chain.numpy_forward(x + e, 2).sum() - chain.numpy_forward(x - e, 2).sum()) / (2 * eps)
    np.testing.assert_allclose(grad, fd, rtol=1e-7, atol=1e-10)


def test_chain_floor_matches_nnkit_at_w1_size():
    x = chain.make_input(16)
    _, grad = chain.numpy_grad(x, 20)
    assert grad.dtype == np.float32
    leaf = nk.tensor(x, requires_grad=True)
    expected = chain.grad_case(leaf, 20).run().numpy()
    np.testing.assert_allclose(grad, expected, rtol=1e-5, atol=1e-7)
    assert np.abs(grad).max() > 1e-3  # the chain does not squash the gradient to nothing


# -- W2/W5 (the MLP) and W3 (the CNN) ---------------------------------------------------------------------------
TINY = {"mlp": lambda dtype, seed: mlp_setup(TINY_MLP, 5, dtype, seed),
        "cnn": lambda dtype, seed: cnn_setup(2, dtype, seed=seed, **TINY_CNN)}
# W2's layer sizes and batch; W3's layer sizes with a smaller batch (a test must stay fast).
BENCHMARK_SIZE = {"mlp": lambda: mlp_setup(mlp.SIZES, 32, np.float32), "cnn": lambda: cnn_setup(8, np.float32)}


@pytest.mark.parametrize("net", ["mlp", "cnn"])
def test_floor_gradients_match_finite_differences_and_nnkit(net):
    floor, model, x, y = TINY[net](np.float64, 0)
    loss = floor.loss_and_grads()
    grads = [g.copy() for g in floor.grads]
    expected_loss, expected = nnkit_grads(model, x, y)
    assert loss == pytest.approx(expected_loss, rel=1e-13)
    assert_grads_close(grads, expected, rtol=1e-10, atol=1e-13)
    assert_grads_close(grads, finite_difference_grads(floor), rtol=1e-6, atol=1e-9)


@pytest.mark.parametrize("net", ["mlp", "cnn"])
def test_floor_sgd_momentum_steps_match_nnkit(net):
    floor, model, x, y = TINY[net](np.float64, 1)
    start = [p.copy() for p in floor.params]
    step = training.framework_step(nk, model, x, y)
    for _ in range(3):
        assert floor.step() == pytest.approx(step().item(), rel=1e-12)
    for p, q, p0 in zip(floor.params, model.parameters(), start):
        np.testing.assert_allclose(p, q.detach().numpy(), rtol=1e-11, atol=1e-13)
        assert not np.allclose(p, p0, rtol=0, atol=1e-6)  # every parameter moved


@pytest.mark.parametrize("net", ["mlp", "cnn"])
def test_floor_matches_nnkit_at_benchmark_sizes(net):
    floor, model, x, y = BENCHMARK_SIZE[net]()
    loss = floor.loss_and_grads()
    expected_loss, expected = nnkit_grads(model, x, y)
    assert floor.grads[0].dtype == np.float32
    assert loss == pytest.approx(expected_loss, rel=1e-6)
    assert_grads_close(floor.grads, expected, rtol=1e-4, atol=1e-7)
