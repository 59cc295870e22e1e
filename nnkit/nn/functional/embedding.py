"""Embedding lookup (one fused node) and ``one_hot`` (re-exported from :mod:`nnkit.ops.indexing`).

``embedding(idx, W)`` is ``W[idx]``. Its weight gradient adds each row of the incoming gradient into the row
of ``W`` it was read from (repeated indices accumulate), skipping ``padding_idx``; plain backward scatters
with numpy, ``create_graph`` with the differentiable scatter of the indexing ops.
"""

import numpy as np

from nnkit.autograd.grad_mode import recording
from nnkit.autograd.node import Node
from nnkit.ops import elementwise as ew
from nnkit.ops import reduction
from nnkit.ops.indexing import _scatter, one_hot
from nnkit.tensor import Tensor, _make

__all__ = ["embedding", "one_hot"]


class EmbeddingBackward0(Node):
    """Edge ``(weight,)``; ``indices`` is the int64 index array, ``padding_idx`` None or a row index."""

    __slots__ = ("indices", "padding_idx", "scale_grad_by_freq", "num_weights")
    array_backward = True

    def backward(self, grad):
        idx = self.indices
        dtype = grad._data.dtype if isinstance(grad, Tensor) else grad.dtype
        dim = grad.shape[-1]
        if self.padding_idx is not None:
            grad = ew.where((idx != self.padding_idx)[..., None], grad, grad * 0)
        if self.scale_grad_by_freq:
            counts = np.bincount(idx.reshape(-1), minlength=self.num_weights)
            grad = grad * (1 / counts[idx])[..., None].astype(dtype)
        if isinstance(grad, Tensor):
            return (_scatter(grad, (self.num_weights, dim), (idx,), True),)
        out = np.zeros((self.num_weights, dim), dtype)
        np.add.at(out, idx.reshape(-1), grad.reshape(-1, dim))
        return (out,)

    @property
    def _saved_indices(self):
        return _make(self.indices)

    @property
    def _saved_padding_idx(self):
        return -1 if self.padding_idx is None else self.padding_idx


def _renorm(weight, indices, max_norm, norm_type):
    """Rescale in place the rows of ``weight`` read by ``indices`` whose ``norm_type``-norm exceeds ``max_norm``
    to norm ``max_norm`` (PyTorch's embedding_renorm_; untracked by autograd)."""
    w = weight._data
    rows = np.unique(indices)
    norms = reduction.norm(_make(w[rows]), norm_type, 1)._data
    big = norms > max_norm
    if big.any():
        rows = rows[big]
        w[rows] *= (max_norm / (norms[big] + 1e-7))[:, None].astype(w.dtype)
        if weight._counter is not None:
            weight._counter[0] += 1


def embedding(input, weight, padding_idx=None, max_norm=None, norm_type=2.0, scale_grad_by_freq=False,
              sparse=False):
    """Look up rows of ``weight``: ``out[..., :] = weight[input[...], :]``.

    Args:
        input: an int64 (or int32) tensor of indices, any shape.
        weight: ``(num_embeddings, embedding_dim)``.
        padding_idx: an index whose row receives no gradient (it stays a fixed "pad" vector).
        max_norm: if given, rows that are looked up and whose ``norm_type``-norm exceeds it are first rescaled
            in place to norm ``max_norm`` (this modifies ``weight``).
        norm_type: the p of the norm for ``max_norm``.
        scale_grad_by_freq: divide each row's gradient by how often its index occurs in ``input``.
        sparse: sparse gradients are not supported (must be False).

    Returns:
        ``input.shape + (embedding_dim,)``.

    Example::

        W = nk.randn(10, 3)
        F.embedding(nk.tensor([[1, 2], [4, 1]]), W).shape     # (2, 2, 3)
    """
    if sparse:
        raise ValueError("embedding(): sparse=True needs sparse tensors, which nnkit does not have; pass "
                         "sparse=False (the default) for a dense gradient")
    w = weight._data
    if w.ndim != 2:
        raise RuntimeError(f"'weight' must be 2-D (embedding got a weight of shape {list(w.shape)})")
    if not isinstance(input, Tensor):
        raise TypeError(f"embedding(): argument 'input' (position 1) must be Tensor, not {type(input).__name__}")
    idx = input._data
    if idx.dtype != np.int64 and idx.dtype != np.int32:
        names = {"float32": "Float", "float64": "Double", "bool": "Bool", "uint8": "Byte"}
        raise RuntimeError(
            "Expected tensor for argument #1 'indices' to have one of the following scalar types: Long, Int; but "
            f"got nnkit.{names.get(idx.dtype.name, idx.dtype.name)}Tensor instead (while checking arguments for "
            "embedding; convert the indices with .long())"
        )
    num = w.shape[0]
    if padding_idx is not None:
        if not -num <= padding_idx < num:
            raise AssertionError(f"Padding_idx must be within num_embeddings (got {padding_idx} for {num} embeddings)")
        padding_idx %= num
    if idx.size and (idx.min() < 0 or idx.max() >= num):
        bad = int(idx.min()) if idx.min() < 0 else int(idx.max())
        raise IndexError(f"index out of range in self (embedding index {bad} for a weight of {num} rows)")
    if max_norm is not None:
        _renorm(weight, idx, max_norm, norm_type)
    out = _make(w[idx])
    if weight._requires_grad and recording():
        node = EmbeddingBackward0((weight,))
        node.indices = idx.astype(np.int64, copy=True)  # a copy: later in-place changes of input cannot leak in
        node.num_weights, node.padding_idx, node.scale_grad_by_freq = num, padding_idx, bool(scale_grad_by_freq)
        out._requires_grad = True
        out.grad_fn = node
    return out
