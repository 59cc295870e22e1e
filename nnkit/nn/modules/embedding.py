"""``Embedding``: a learnable lookup table of vectors, indexed by integer ids."""

from nnkit import creation
from nnkit.autograd.grad_mode import no_grad
from nnkit.nn import init
from nnkit.nn.functional.embedding import embedding
from nnkit.nn.module import Module
from nnkit.nn.parameter import Parameter

__all__ = ["Embedding"]


class Embedding(Module):
    """A table of ``num_embeddings`` vectors of size ``embedding_dim``; the input holds row indices.

    Args:
        num_embeddings: number of rows (the vocabulary size).
        embedding_dim: size of each vector.
        padding_idx: a row that gets no gradient and starts as zeros (a fixed "pad" vector); negative values
            count from the end.
        max_norm: rows read in a forward pass whose ``norm_type``-norm exceeds it are rescaled in place to it.
        norm_type: the p of that norm (default 2).
        scale_grad_by_freq: divide each row's gradient by its index's frequency in the batch.
        sparse: must be False (nnkit has no sparse gradients).
        device, dtype: where and in which floating dtype to create the weight (nnkit: CPU only).

    Attributes:
        weight: ``(num_embeddings, embedding_dim)``, initialised from N(0, 1) (the padding row zeroed).

    Shape: input ``(*)`` int64 or int32, output ``(*, embedding_dim)``.

    Example::

        emb = nn.Embedding(10, 3, padding_idx=0)
        emb(nk.tensor([[0, 2, 0, 5]])).shape     # (1, 4, 3); rows for index 0 are zeros
    """

    def __init__(self, num_embeddings, embedding_dim, padding_idx=None, max_norm=None, norm_type=2.0,
                 scale_grad_by_freq=False, sparse=False, _weight=None, _freeze=False, device=None, dtype=None):
        super().__init__()
        self.num_embeddings = num_embeddings
        self.embedding_dim = embedding_dim
        if padding_idx is not None:
            if not -num_embeddings <= padding_idx < num_embeddings:
                raise AssertionError(
                    f"Padding_idx must be within num_embeddings (got {padding_idx} for {num_embeddings} embeddings)"
                )
            padding_idx %= num_embeddings
        self.padding_idx = padding_idx
        self.max_norm = max_norm
        self.norm_type = norm_type
        self.scale_grad_by_freq = scale_grad_by_freq
        if sparse:
            raise ValueError("Embedding(sparse=True): nnkit has no sparse tensors, so gradients are always dense; "
                             "pass sparse=False (the default)")
        self.sparse = sparse
        if _weight is None:
            self.weight = Parameter(creation.empty(num_embeddings, embedding_dim, dtype=dtype, device=device),
                                    requires_grad=not _freeze)
            self.reset_parameters()
        else:
            if list(_weight.shape) != [num_embeddings, embedding_dim]:
                raise AssertionError(
                    "Shape of weight does not match num_embeddings and embedding_dim (got "
                    f"{list(_weight.shape)}, expected [{num_embeddings}, {embedding_dim}])"
                )
            self.weight = Parameter(_weight, requires_grad=not _freeze)

    def reset_parameters(self):
        """Re-draw the weight from N(0, 1) and zero the padding row."""
        init.normal_(self.weight)
        self._fill_padding_idx_with_zero()

    def _fill_padding_idx_with_zero(self):
        if self.padding_idx is not None:
            with no_grad():
                self.weight[self.padding_idx].fill_(0)

    def forward(self, input):
        return embedding(input, self.weight, self.padding_idx, self.max_norm, self.norm_type,
                         self.scale_grad_by_freq, self.sparse)

    def extra_repr(self):
        s = f"{self.num_embeddings}, {self.embedding_dim}"
        if self.padding_idx is not None:
            s += f", padding_idx={self.padding_idx}"
        if self.max_norm is not None:
            s += f", max_norm={self.max_norm}"
        if self.norm_type != 2:
            s += f", norm_type={self.norm_type}"
        if self.scale_grad_by_freq is not False:
            s += f", scale_grad_by_freq={self.scale_grad_by_freq}"
        return s

    @classmethod
    def from_pretrained(cls, embeddings, freeze=True, padding_idx=None, max_norm=None, norm_type=2.0,
                        scale_grad_by_freq=False, sparse=False):
        """An Embedding whose weight is the 2-D tensor ``embeddings`` (shared, not copied); frozen by default.

        Example::

            emb = nn.Embedding.from_pretrained(nk.tensor([[1.0, 2.3, 3.0], [4.0, 5.1, 6.3]]))
            emb(nk.tensor([1]))       # tensor([[4.0, 5.1, 6.3]])
        """
        if embeddings.dim() != 2:
            raise AssertionError(
                f"Embeddings parameter is expected to be 2-dimensional (got shape {list(embeddings.shape)})"
            )
        rows, cols = embeddings.shape
        return cls(num_embeddings=rows, embedding_dim=cols, _weight=embeddings, _freeze=freeze,
                   padding_idx=padding_idx, max_norm=max_norm, norm_type=norm_type,
                   scale_grad_by_freq=scale_grad_by_freq, sparse=sparse)
