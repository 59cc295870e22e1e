"""The CNN of W3 as an nnkit/torch model and as its hand-written numpy floor (im2col + matmul).

    Conv2d(1, 16, 3, padding=1), ReLU, MaxPool2d(2), Conv2d(16, 32, 3, padding=1), ReLU, MaxPool2d(2),
    Flatten, Linear(32 * 7 * 7, 10)

The floor is a careful im2col: it works in a (channels, batch, height, width) layout, so each convolution is
one matrix product ``(O, C*9) @ (C*9, N*H*W)`` whose result is already the next layer's layout, and so are the
weight's gradient ``grad (O, N*H*W) @ columns.T`` and the columns' gradient ``W.T @ grad``. The columns are
one strided copy of a window view of a preallocated zero-padded buffer; col2im is nine strided adds; max
pooling is three ``np.maximum`` over the four taps of each 2×2 window, and its backward (fused with the ReLU's)
sends each window's gradient to the taps equal to its maximum when that maximum is positive. (A tie between
two positive values in one window would send the gradient to both, where PyTorch picks the first; with
continuous random data it does not happen, and the worker's loss check would catch it.) What this floor
leaves to better algorithms (no columns copy, flat shifts, fused kernels) is the room issue 5 asks nnkit to
find.
"""

import numpy as np
from numpy.lib.stride_tricks import sliding_window_view

from .training import NumpyTrainer, cross_entropy_

__all__ = ["CHANNELS", "SIZE", "N_CLASSES", "layers", "model", "NumpyCNN"]

CHANNELS = (1, 16, 32)
SIZE = 28
N_CLASSES = 10
_TAPS = ((0, 0), (0, 1), (1, 0), (1, 1))  # the 2×2 pooling window


def _features(channels, size):
    return channels[-1] * (size // 2 ** (len(channels) - 1)) ** 2


def layers(channels=CHANNELS, size=SIZE, n_classes=N_CLASSES):
    """``(name, weight_shape)`` of the Conv2d and Linear layers of ``model`` (Sequential indices 0, 3, ...)."""
    convs = [(str(3 * i), (c_out, c_in, 3, 3)) for i, (c_in, c_out) in enumerate(zip(channels[:-1], channels[1:]))]
    return convs + [(str(3 * len(convs) + 1), (n_classes, _features(channels, size)))]


def model(nn, channels=CHANNELS, size=SIZE, n_classes=N_CLASSES):
    """The CNN built from ``nn`` (``nnkit.nn`` or ``torch.nn``): conv3x3/ReLU/maxpool blocks, Flatten, Linear."""
    modules = []
    for c_in, c_out in zip(channels[:-1], channels[1:]):
        modules += [nn.Conv2d(c_in, c_out, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2)]
    return nn.Sequential(*modules, nn.Flatten(), nn.Linear(_features(channels, size), n_classes))


class _ConvBlock:
    """Buffers and math of conv3x3 (padding 1) + bias + ReLU + 2×2 max pool, in (C, N, H, W) layout."""

    def __init__(self, c_in, c_out, n, size, dtype, input_grad):
        self.padded = np.zeros((c_in, n, size + 2, size + 2), dtype)  # the border stays zero
        self.cols = np.empty((c_in, 3, 3, n, size, size), dtype)
        self.out = np.empty((c_out, n, size, size), dtype)
        self.pooled = np.empty((c_out, n, size // 2, size // 2), dtype)
        self.mask = np.empty(self.pooled.shape, bool)
        self.grad_out = np.empty_like(self.out)
        if input_grad:
            self.grad_cols = np.empty_like(self.cols)
            self.grad_padded = np.empty_like(self.padded)

    def forward(self, x, w, b):
        """Pooled ReLU of the convolution of ``x`` ``(C_in, N, H, W)``: ``(C_out, N, H/2, W/2)``."""
        c_in, size = x.shape[0], x.shape[2]
        self.padded[:, :, 1:size + 1, 1:size + 1] = x
        self.cols[...] = sliding_window_view(self.padded, (3, 3), axis=(2, 3)).transpose(0, 4, 5, 1, 2, 3)
        y = self.out.reshape(w.shape[0], -1)
        np.matmul(w.reshape(w.shape[0], -1), self.cols.reshape(c_in * 9, -1), out=y)
        y += b[:, None]
        np.maximum(y, 0, out=y)
        o, p = self.out, self.pooled
        np.maximum(o[:, :, 0::2, 0::2], o[:, :, 0::2, 1::2], out=p)
        np.maximum(p, o[:, :, 1::2, 0::2], out=p)
        np.maximum(p, o[:, :, 1::2, 1::2], out=p)
        return p

    def backward(self, grad_pooled, w, grad_w, grad_b):
        """Fill ``grad_w``, ``grad_b`` from d loss / d pooled (overwritten); return d loss / d x if kept."""
        np.multiply(grad_pooled, self.pooled > 0, out=grad_pooled)  # the ReLU, at the window's maximum
        for i, j in _TAPS:
            np.equal(self.out[:, :, i::2, j::2], self.pooled, out=self.mask)
            np.multiply(self.mask, grad_pooled, out=self.grad_out[:, :, i::2, j::2])
        c_out, c_in = w.shape[:2]
        g = self.grad_out.reshape(c_out, -1)
        np.matmul(g, self.cols.reshape(c_in * 9, -1).T, out=grad_w.reshape(c_out, -1))
        g.sum(axis=1, out=grad_b)
        if not hasattr(self, "grad_cols"):
            return None
        np.matmul(w.reshape(c_out, -1).T, g, out=self.grad_cols.reshape(c_in * 9, -1))
        size = self.out.shape[2]
        gp = self.grad_padded
        gp.fill(0)
        for i in range(3):
            for j in range(3):
                gp[:, :, i:i + size, j:j + size] += self.grad_cols[:, i, j]
        return gp[:, :, 1:size + 1, 1:size + 1]


class NumpyCNN(NumpyTrainer):
    """The floor of W3: the CNN of ``model`` trained with cross entropy and SGD momentum in numpy.

    Args:
        state: initial weights, a state_dict of arrays as ``initial_state(layers(channels, ...))`` gives (copied).
        x: inputs ``(N, channels[0], S, S)`` with S divisible by ``2 ** len(blocks)``; its dtype is every buffer's.
        y: int64 labels ``(N,)``.
        channels: ``(C_in, C_1, C_2, ...)``, one conv block per step.
    """

    def __init__(self, state, x, y, channels=CHANNELS):
        self.x, self.y = x, y
        self.params = [np.array(a, dtype=x.dtype) for a in state.values()]
        self.grads = [np.empty_like(p) for p in self.params]
        n, size = x.shape[0], x.shape[2]
        self.blocks = [
            _ConvBlock(c_in, c_out, n, size >> i, x.dtype, input_grad=i > 0)
            for i, (c_in, c_out) in enumerate(zip(channels[:-1], channels[1:]))
        ]
        w_fc = self.params[-2]
        self.flat = np.empty((n, w_fc.shape[1]), x.dtype)
        self.logits = np.empty((n, w_fc.shape[0]), x.dtype)
        self.grad_flat = np.empty_like(self.flat)

    def loss_and_grads(self):
        """The mean cross entropy of the current parameters; fills ``self.grads``."""
        p, g = self.params, self.grads
        a = self.x.transpose(1, 0, 2, 3)
        for k, block in enumerate(self.blocks):
            a = block.forward(a, p[2 * k], p[2 * k + 1])
        n = self.x.shape[0]
        self.flat.reshape(n, *a.shape[:1], *a.shape[2:])[...] = a.transpose(1, 0, 2, 3)
        z = self.logits
        np.matmul(self.flat, p[-2].T, out=z)
        z += p[-1]
        loss = cross_entropy_(z, self.y)
        np.matmul(z.T, self.flat, out=g[-2])
        z.sum(axis=0, out=g[-1])
        np.matmul(z, p[-2], out=self.grad_flat)
        grad = self.grad_flat.reshape(n, *a.shape[:1], *a.shape[2:]).transpose(1, 0, 2, 3)
        for k in range(len(self.blocks) - 1, -1, -1):
            grad = self.blocks[k].backward(grad, p[2 * k], g[2 * k], g[2 * k + 1])
        return loss
