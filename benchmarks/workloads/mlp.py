"""The MLP of W2 and W5: 784-512-256-10 with ReLU, as an nnkit/torch model and as its hand-written numpy floor."""

import numpy as np

from .training import NumpyTrainer, cross_entropy_

__all__ = ["SIZES", "layers", "model", "NumpyMLP"]

SIZES = (784, 512, 256, 10)


def layers(sizes=SIZES):
    """``(name, weight_shape)`` of the Linear layers of ``model(nn, sizes)`` (indices 0, 2, 4... in Sequential)."""
    return [(str(2 * i), (n_out, n_in)) for i, (n_in, n_out) in enumerate(zip(sizes[:-1], sizes[1:]))]


def model(nn, sizes=SIZES):
    """``Sequential(Linear, ReLU, Linear, ReLU, ..., Linear)`` built from ``nn`` (``nnkit.nn`` or ``torch.nn``)."""
    modules = []
    for n_in, n_out in zip(sizes[:-1], sizes[1:]):
        modules += [nn.Linear(n_in, n_out), nn.ReLU()]
    return nn.Sequential(*modules[:-1])


class NumpyMLP(NumpyTrainer):
    """The floor: an MLP with ReLU between its layers, trained with cross entropy and SGD momentum in numpy.

    Each step is three calls per layer forward (matmul into a buffer, bias add, ReLU in place), the fused cross
    entropy, and per layer backward a matmul for the weight's gradient, a sum for the bias's, and for all but the
    first layer a matmul and a mask multiply for the input's gradient; then the in-place update. Nothing is
    allocated but the ReLU masks and small per-row temporaries of the loss.

    Args:
        state: initial weights, a state_dict of arrays as ``initial_state(layers(sizes))`` gives (copied).
        x: inputs ``(N, sizes[0])``; its dtype is the dtype of every buffer.
        y: int64 labels ``(N,)``.
    """

    def __init__(self, state, x, y):
        self.x, self.y = x, y
        self.params = [np.array(a, dtype=x.dtype) for a in state.values()]
        self.grads = [np.empty_like(p) for p in self.params]
        n = x.shape[0]
        weights = self.params[0::2]
        self.outputs = [np.empty((n, w.shape[0]), x.dtype) for w in weights]  # after the ReLU, in place
        self.input_grads = [np.empty((n, w.shape[1]), x.dtype) for w in weights[1:]]

    def loss_and_grads(self):
        """The mean cross entropy of the current parameters; fills ``self.grads``."""
        weights, biases = self.params[0::2], self.params[1::2]
        last = len(weights) - 1
        a = self.x
        for i, (w, b, h) in enumerate(zip(weights, biases, self.outputs)):
            np.matmul(a, w.T, out=h)
            h += b
            if i < last:
                np.maximum(h, 0, out=h)
            a = h
        loss = cross_entropy_(a, self.y)
        g = a
        for i in range(last, -1, -1):
            inp = self.outputs[i - 1] if i else self.x
            np.matmul(g.T, inp, out=self.grads[2 * i])
            g.sum(axis=0, out=self.grads[2 * i + 1])
            if i:
                gin = self.input_grads[i - 1]
                np.matmul(g, weights[i], out=gin)
                np.multiply(gin, inp > 0, out=gin)  # ReLU: the gradient passes where its output is positive
                g = gin
        return loss
