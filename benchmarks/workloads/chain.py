"""The elementwise chain shared by W1, W4 and NG, written once per framework family.

The chain repeats a cycle of ``CYCLE_OPS`` = 10 elementwise ops on ``h`` (starting from the input ``x``):

    h*0.9, +x, tanh, *0.5, exp, -1.0, sigmoid, h*h, +0.1, /1.5

It mixes scalar and tensor operands, unary math and a second use of ``x`` (so gradients accumulate), and it
keeps values bounded for any length (tanh and sigmoid squash; exp only sees values in [-0.5, 0.5]), so a
20,000-op chain stays finite in float32.

``cycle`` serves nnkit and torch alike (same operators and method names). The numpy floor is hand-written:
``numpy_forward`` computes the values only; ``numpy_grad`` stores what backward needs (tanh, exp and sigmoid
results) during the forward and runs the hand-derived backward of ``sum(h)``.
"""

import numpy as np

from . import Case

__all__ = [
    "CYCLE_OPS", "make_input", "cycle", "chain", "numpy_forward", "numpy_grad", "as_numpy", "grad_case",
    "no_grad_case",
]

CYCLE_OPS = 10


def make_input(n, seed=0):
    """``n`` float32 values drawn from N(0, 0.5²) with a fixed seed: the chain's input ``x``."""
    return (np.random.default_rng(seed).standard_normal(n) * 0.5).astype(np.float32)


def cycle(h, x):
    """One cycle of the chain on nnkit or torch tensors."""
    h = h * 0.9
    h = h + x
    h = h.tanh()
    h = h * 0.5
    h = h.exp()
    h = h - 1.0
    h = h.sigmoid()
    h = h * h
    h = h + 0.1
    return h / 1.5


def chain(x, n_cycles):
    """``n_cycles`` cycles from ``x`` (nnkit or torch tensors); returns the last ``h``."""
    h = x
    for _ in range(n_cycles):
        h = cycle(h, x)
    return h


def numpy_forward(x, n_cycles):
    """The chain's values on a numpy array, keeping nothing for backward (the no-grad floor)."""
    exp, tanh = np.exp, np.tanh
    h = x
    for _ in range(n_cycles):
        h = h * 0.9
        h = h + x
        h = tanh(h)
        h = h * 0.5
        h = exp(h)
        h = h - 1.0
        h = 1.0 / (1.0 + exp(-h))
        h = h * h
        h = h + 0.1
        h = h / 1.5
    return h


def numpy_grad(x, n_cycles):
    """d sum(chain(x)) / dx by a hand-written forward (storing what backward needs) and backward.

    Returns ``(total, grad)``: the forward's sum and the gradient, a float32 array shaped like ``x``.
    """
    exp, tanh = np.exp, np.tanh
    saved = []
    h = x
    for _ in range(n_cycles):
        h = h * 0.9
        h = h + x
        t = tanh(h)
        h = t * 0.5
        e = exp(h)
        h = e - 1.0
        s = 1.0 / (1.0 + exp(-h))
        h = s * s
        h = h + 0.1
        h = h / 1.5
        saved.append((t, e, s))
    total = h.sum()
    g = np.ones_like(h)
    gx = np.zeros_like(x)
    for t, e, s in reversed(saved):
        g = g / 1.5
        g = g * (s * 2.0)  # h*h
        g = g * (s * (1.0 - s))  # sigmoid
        g = g * e  # exp
        g = g * 0.5
        g = g * (1.0 - t * t)  # tanh
        gx += g  # the +x branch
        g = g * 0.9
    gx += g  # the chain's start is x itself
    return total, gx


def as_numpy(value):
    """A numpy array of a numpy, nnkit or torch result (for the correctness check)."""
    if isinstance(value, np.ndarray):
        return value
    return value.detach().numpy()


def grad_case(leaf, n_cycles):
    """A Case running the chain forward and the backward of its sum from ``leaf`` (nnkit or torch).

    Each run clears ``leaf.grad`` first and returns the new gradient.
    """

    def run():
        leaf.grad = None
        chain(leaf, n_cycles).sum().backward()
        return leaf.grad

    return Case(run)


def no_grad_case(x, no_grad, n_cycles):
    """A Case running the chain forward only, under the framework's ``no_grad`` context manager."""

    def run():
        with no_grad():
            return chain(x, n_cycles)

    return Case(run)
