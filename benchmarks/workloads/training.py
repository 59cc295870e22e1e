"""What the training-step workloads (W2, W3, W5) share: data, initial weights, the step, and the floor's pieces.

Every framework trains the same model from the same start. The initial weights come from one source: numpy
arrays drawn as PyTorch's default initialisation draws them (U(-k, k), k = 1/sqrt(fan_in), for weights and
biases of ``Linear`` and ``Conv2d``), loaded into nnkit's and PyTorch's models with ``load_state_dict`` and
copied by the numpy floor. nnkit mirrors PyTorch's names, so ``framework_step`` serves both: it is the loop a
user writes (``zero_grad``, forward, ``cross_entropy``, ``backward``, ``step``).

Before timing, each framework's ``check`` runs ``CHECK_STEPS + 1`` steps and returns their losses; the last
one is the loss after ``CHECK_STEPS`` updates. The worker compares them with the floor's, so every row of a
table computes the same math.

The floor (``NumpyTrainer`` and its subclasses in ``mlp.py`` and ``cnn.py``) works in the dtype of its inputs
(float32 in the benchmarks, float64 in the tests' finite-difference checks), preallocates every buffer and
updates in place; ``loss_and_grads`` fills ``grads`` so the tests can check them on their own.
"""

import functools
import math

import numpy as np

import nnkit as nk

from . import FRAMEWORKS, Case

__all__ = [
    "LR", "MOMENTUM", "CHECK_STEPS", "make_batch", "initial_state", "load_state", "framework_step", "make_step",
    "step_builders", "cross_entropy_", "NumpyTrainer",
]

LR = 0.01
MOMENTUM = 0.9
CHECK_STEPS = 20


def make_batch(shape, n_classes, seed, dtype=np.float32):
    """A fixed batch: inputs ``shape`` from N(0, 1) and int64 labels in ``[0, n_classes)`` for ``shape[0]`` rows."""
    rng = np.random.default_rng(seed)
    x = rng.standard_normal(shape).astype(dtype)
    y = rng.integers(0, n_classes, shape[0]).astype(np.int64)
    return x, y


def initial_state(layers, seed, dtype=np.float32):
    """A state_dict of numpy arrays drawn like PyTorch's default ``Linear``/``Conv2d`` initialisation.

    Args:
        layers: ``(name, weight_shape)`` pairs in the model's order, e.g. ``("0", (512, 784))``; each layer gets
            ``name.weight`` and ``name.bias``.
        seed: for ``np.random.default_rng``.

    Returns:
        dict ``{"0.weight": array, "0.bias": array, ...}`` with PyTorch's keys, in the model's order.
    """
    rng = np.random.default_rng(seed)
    state = {}
    for name, shape in layers:
        bound = 1 / math.sqrt(math.prod(shape[1:]))
        state[f"{name}.weight"] = rng.uniform(-bound, bound, shape).astype(dtype)
        state[f"{name}.bias"] = rng.uniform(-bound, bound, shape[0]).astype(dtype)
    return state


def load_state(fw, model, state):
    """Copy the numpy ``state`` into ``model`` (an nnkit or torch module; ``fw`` is ``nnkit`` or ``torch``)."""
    model.load_state_dict({key: fw.from_numpy(value) for key, value in state.items()})
    return model


def framework_step(fw, model, x, y):
    """One training step of ``model`` on ``(x, y)`` as a user writes it, for nnkit or torch (``fw``).

    Returns a zero-argument function: zero_grad, forward, cross entropy, backward, SGD momentum step; it
    returns the loss tensor.
    """
    functional = fw.nn.functional
    opt = fw.optim.SGD(model.parameters(), lr=LR, momentum=MOMENTUM)
    inputs, targets = fw.from_numpy(x), fw.from_numpy(y)

    def step():
        opt.zero_grad()
        loss = functional.cross_entropy(model(inputs), targets)
        loss.backward()
        opt.step()
        return loss

    return step


def make_step(framework, torch, inputs, floor, model):
    """The training step of ``framework`` (``"numpy"``, ``"nnkit"`` or ``"torch"``), from the initial weights.

    Args:
        torch: the torch module (used for ``"torch"`` only).
        inputs: ``(x, y, state)``: the batch and the initial state_dict, numpy arrays.
        floor: ``floor(state, x, y)`` -> the numpy floor (a ``NumpyTrainer``).
        model: ``model(nn)`` -> the model built from ``nnkit.nn`` or ``torch.nn``.
    """
    x, y, state = inputs
    if framework == "numpy":
        return floor(state, x, y).step
    fw = nk if framework == "nnkit" else torch
    return framework_step(fw, load_state(fw, model(fw.nn), state), x, y)


def _step_case(framework, inputs, floor, model, torch):
    step = make_step(framework, torch, inputs(), floor, model)
    return Case(step, check=lambda: np.array([step().item() for _ in range(CHECK_STEPS + 1)]))


def step_builders(inputs, floor, model):
    """The builders of a workload timing one training step, for every framework.

    Each Case's ``run`` is one step; its ``check`` returns the losses of ``CHECK_STEPS + 1`` steps from the
    start. ``inputs()`` returns ``(x, y, state)`` (cache it: every framework must get the same arrays);
    ``floor`` and ``model`` as for :func:`make_step`.
    """
    return {name: functools.partial(_step_case, name, inputs, floor, model) for name in FRAMEWORKS}


def cross_entropy_(z, y):
    """Mean cross entropy of logits ``z`` ``(N, C)`` and labels ``y``; overwrites ``z`` with d loss / d z."""
    n = z.shape[0]
    rows = np.arange(n)
    z -= z.max(axis=1, keepdims=True)
    picked = z[rows, y]
    np.exp(z, out=z)
    total = z.sum(axis=1, keepdims=True)
    loss = (np.log(total).sum() - picked.sum()) / n
    total *= n
    z /= total
    z[rows, y] -= 1 / n
    return loss


class NumpyTrainer:
    """Base of the hand-written numpy floors: parameters, gradient buffers, and PyTorch's SGD momentum step.

    Subclasses set ``params`` (arrays, in the state_dict's order) and ``grads`` (same shapes), and implement
    ``loss_and_grads()``, which returns the loss and fills ``grads``.
    """

    params: list
    grads: list
    buffers = None

    def step(self):
        """Forward, backward and the SGD momentum update (PyTorch's rule); returns the loss before the update."""
        loss = self.loss_and_grads()
        self.update()
        return loss

    def update(self):
        """``buf = g`` on the first step, else ``buf = momentum * buf + g``; then ``p -= lr * buf``, in place.

        The gradient buffers serve as scratch space for ``lr * buf``, so ``grads`` is spent afterwards.
        """
        if self.buffers is None:
            self.buffers = [g.copy() for g in self.grads]
        else:
            for buf, g in zip(self.buffers, self.grads):
                buf *= MOMENTUM
                buf += g
        for p, buf, g in zip(self.params, self.buffers, self.grads):
            np.multiply(buf, LR, out=g)
            p -= g
