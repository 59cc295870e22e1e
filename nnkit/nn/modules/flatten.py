"""Shape-only layers: ``Identity``, ``Flatten`` and ``Unflatten`` (handy inside ``nn.Sequential``)."""

from nnkit.nn.module import Module

__all__ = ["Identity", "Flatten", "Unflatten"]


class Identity(Module):
    """Returns its input unchanged: a placeholder, e.g. to remove a layer (``model.fc = nn.Identity()``).

    Any constructor arguments are accepted and ignored, as in PyTorch.

    Shape: input ``(*)``, output the same tensor.

    Example::

        model.fc = nn.Identity()     # the model now returns its features
    """

    def __init__(self, *args, **kwargs):
        super().__init__()

    def forward(self, input):
        """Return ``input`` itself."""
        return input


class Flatten(Module):
    """Merge dimensions ``start_dim`` to ``end_dim`` into one (by default all but the batch dimension).

    Args:
        start_dim: first dimension to flatten (default 1).
        end_dim: last dimension to flatten (default -1).

    Shape: input ``(N, *dims)``, output ``(N, prod(dims))`` with the defaults.

    Example::

        nn.Flatten()(nk.zeros(32, 1, 5, 5)).shape    # (32, 25)
    """

    def __init__(self, start_dim=1, end_dim=-1):
        super().__init__()
        self.start_dim = start_dim
        self.end_dim = end_dim

    def forward(self, input):
        """Flatten ``input`` from ``start_dim`` to ``end_dim`` (a view when possible)."""
        return input.flatten(self.start_dim, self.end_dim)

    def extra_repr(self):
        return f"start_dim={self.start_dim}, end_dim={self.end_dim}"


class Unflatten(Module):
    """Split dimension ``dim`` into the shape ``unflattened_size`` (the inverse of ``Flatten``).

    Args:
        dim: the dimension to split.
        unflattened_size: a tuple or list of ints whose product is the size of ``dim`` (one may be -1).

    Shape: input ``(*, S, *)``, output ``(*, U1, ..., Un, *)`` with ``U1 * ... * Un == S``.

    Example::

        nn.Unflatten(1, (2, 5, 5))(nk.zeros(4, 50)).shape    # (4, 2, 5, 5)
    """

    def __init__(self, dim, unflattened_size):
        super().__init__()
        if not isinstance(unflattened_size, (tuple, list)):
            raise TypeError(
                f"unflattened_size must be a tuple of ints, but found type {type(unflattened_size).__name__}"
            )
        for i, size in enumerate(unflattened_size):
            if not isinstance(size, int):
                raise TypeError(
                    f"unflattened_size must be tuple of ints, but found element of type {type(size).__name__} at "
                    f"pos {i}"
                )
        self.dim = dim
        self.unflattened_size = unflattened_size

    def forward(self, input):
        """Split dimension ``dim`` of ``input`` into ``unflattened_size``."""
        return input.unflatten(self.dim, self.unflattened_size)

    def extra_repr(self):
        return f"dim={self.dim}, unflattened_size={self.unflattened_size}"
