"""Normalisation layers: ``BatchNorm1d``/``2d``/``3d``, ``LayerNorm`` and ``GroupNorm``."""

import numbers

import numpy as np

from nnkit import creation
from nnkit.autograd.grad_mode import no_grad
from nnkit.nn import init
from nnkit.nn.functional import normalization as F
from nnkit.nn.module import Module
from nnkit.nn.parameter import Parameter

__all__ = ["BatchNorm1d", "BatchNorm2d", "BatchNorm3d", "LayerNorm", "GroupNorm"]


class _AffineNorm(Module):
    """A normalisation with an optional learnable ``weight`` (init 1) and ``bias`` (init 0) per feature."""

    def _register_affine(self, shape, affine, bias, dtype, device):
        """Register ``weight`` and ``bias`` Parameters of ``shape`` (None when not ``affine``, or no ``bias``)."""
        def parameter(wanted):
            return Parameter(creation.empty(*shape, dtype=dtype, device=device)) if affine and wanted else None

        self.register_parameter("weight", parameter(True))
        self.register_parameter("bias", parameter(bias))

    def reset_parameters(self):
        """Weight 1 and bias 0."""
        if self.weight is not None:
            init.ones_(self.weight)
        if self.bias is not None:
            init.zeros_(self.bias)


class _BatchNorm(_AffineNorm):
    """Shared by BatchNorm1d/2d/3d; subclasses set ``_input_dims``, the input ranks they accept."""

    _version = 2  # version 2 added num_batches_tracked

    def __init__(self, num_features, eps=1e-5, momentum=0.1, affine=True, track_running_stats=True, device=None,
                 dtype=None, *, bias=True):
        super().__init__()
        self.num_features = num_features
        self.eps = eps
        self.momentum = momentum
        self.affine = affine
        self.track_running_stats = track_running_stats
        self._register_affine((num_features,), affine, bias, dtype, device)
        stats = (None, None, None)
        if track_running_stats:
            stats = (creation.zeros(num_features, dtype=dtype, device=device),
                     creation.ones(num_features, dtype=dtype, device=device), creation.tensor(0, dtype=np.int64))
        for name, value in zip(("running_mean", "running_var", "num_batches_tracked"), stats):
            self.register_buffer(name, value)
        self.reset_parameters()

    def reset_running_stats(self):
        """Running mean 0, running variance 1, no batches tracked."""
        if self.track_running_stats:
            with no_grad():
                self.running_mean.zero_()
                self.running_var.fill_(1)
                self.num_batches_tracked.zero_()

    def reset_parameters(self):
        """Reset the running statistics; weight 1 and bias 0."""
        self.reset_running_stats()
        super().reset_parameters()

    def _check_input_dim(self, input):
        if input.dim() not in self._input_dims:
            wanted = " or ".join(f"{d}D" for d in self._input_dims)
            raise ValueError(f"expected {wanted} input (got {input.dim()}D input)")

    def forward(self, input):
        """Normalise with batch statistics (training, updating the running ones) or running ones (eval)."""
        self._check_input_dim(input)
        factor = 0.0 if self.momentum is None else self.momentum
        if self.training and self.track_running_stats and self.num_batches_tracked is not None:
            with no_grad():
                self.num_batches_tracked.add_(1)
            # momentum=None: the cumulative average of all batches seen so far.
            factor = 1.0 / int(self.num_batches_tracked.item()) if self.momentum is None else self.momentum
        use_batch_stats = self.training or (self.running_mean is None and self.running_var is None)
        update = not self.training or self.track_running_stats
        return F.batch_norm(
            input,
            self.running_mean if update else None,
            self.running_var if update else None,
            self.weight,
            self.bias,
            use_batch_stats,
            factor,
            self.eps,
        )

    def extra_repr(self):
        return (
            f"{self.num_features}, eps={self.eps}, momentum={self.momentum}, affine={self.affine}, "
            f"bias={self.bias is not None}, track_running_stats={self.track_running_stats}"
        )

    def _load_from_state_dict(self, state_dict, prefix, local_metadata, strict, missing_keys, unexpected_keys,
                              error_msgs):
        version = local_metadata.get("version", None)
        if (version is None or version < 2) and self.track_running_stats:
            key = prefix + "num_batches_tracked"
            if key not in state_dict:  # a checkpoint from before the buffer existed
                state_dict[key] = (
                    self.num_batches_tracked if self.num_batches_tracked is not None
                    else creation.tensor(0, dtype=np.int64)
                )
        super()._load_from_state_dict(state_dict, prefix, local_metadata, strict, missing_keys, unexpected_keys,
                                      error_msgs)


_BATCH_NORM_DOC = """Batch normalisation over the channels (dimension 1) of {shapes} inputs.

    Training mode (``model.train()``): each channel is normalised with the batch mean and biased variance
    (over N{over}), then scaled by ``weight`` and shifted by ``bias``; the running statistics are updated as
    ``running = (1 - momentum) * running + momentum * batch`` (unbiased variance for ``running_var``) and
    ``num_batches_tracked`` counts the batches. Evaluation mode: the running statistics normalise the input.
    Freezing the parameters (``requires_grad_(False)``) does not stop the running statistics: ``eval()`` does.

    Args:
        num_features: C, the number of channels.
        eps: added to the variance before the square root (default 1e-5).
        momentum: the weight of each new batch in the running averages (default 0.1); None averages all
            batches equally (cumulative moving average, ``1 / num_batches_tracked``).
        affine: learn ``weight`` (init 1) and ``bias`` (init 0) of shape (C,).
        track_running_stats: keep running statistics (buffers ``running_mean``, ``running_var``,
            ``num_batches_tracked``); when False, batch statistics are used in both modes.
        bias: with ``affine``, also learn the bias (keyword-only, default True).

    Shape: input {shapes}, output the same.

    Example::

        bn = nn.{name}(16)
        y = bn({example})
    """


class BatchNorm1d(_BatchNorm):
    __doc__ = _BATCH_NORM_DOC.format(shapes="``(N, C)`` or ``(N, C, L)``", over=" (and L)", name="BatchNorm1d",
                                     example="nk.randn(8, 16, 30)")
    _input_dims = (2, 3)


class BatchNorm2d(_BatchNorm):
    __doc__ = _BATCH_NORM_DOC.format(shapes="``(N, C, H, W)``", over=", H and W", name="BatchNorm2d",
                                     example="nk.randn(8, 16, 5, 5)")
    _input_dims = (4,)


class BatchNorm3d(_BatchNorm):
    __doc__ = _BATCH_NORM_DOC.format(shapes="``(N, C, D, H, W)``", over=", D, H and W", name="BatchNorm3d",
                                     example="nk.randn(4, 16, 3, 5, 5)")
    _input_dims = (5,)


class LayerNorm(_AffineNorm):
    """Layer normalisation over the trailing ``normalized_shape`` dimensions of each sample.

    Args:
        normalized_shape: an int or the trailing shape to normalise over.
        eps: added to the variance before the square root (default 1e-5).
        elementwise_affine: learn ``weight`` (init 1) and ``bias`` (init 0) of shape ``normalized_shape``.
        bias: with ``elementwise_affine``, also learn the bias (default True).
        device, dtype: where and in which floating dtype to create the parameters (nnkit: CPU only).

    Shape: input ``(*, *normalized_shape)``, output the same.

    Example::

        ln = nn.LayerNorm(64)
        ln(nk.randn(8, 10, 64)).shape      # (8, 10, 64)
    """

    def __init__(self, normalized_shape, eps=1e-5, elementwise_affine=True, bias=True, device=None, dtype=None):
        super().__init__()
        if isinstance(normalized_shape, numbers.Integral):
            normalized_shape = (normalized_shape,)
        self.normalized_shape = tuple(int(s) for s in normalized_shape)
        self.eps = eps
        self.elementwise_affine = elementwise_affine
        self._register_affine(self.normalized_shape, elementwise_affine, bias, dtype, device)
        self.reset_parameters()

    def forward(self, input):
        return F.layer_norm(input, self.normalized_shape, self.weight, self.bias, self.eps)

    def extra_repr(self):
        return (
            f"{self.normalized_shape}, eps={self.eps}, elementwise_affine={self.elementwise_affine}, "
            f"bias={self.bias is not None}"
        )


class GroupNorm(_AffineNorm):
    """Group normalisation: the C channels are split into ``num_groups`` groups, each normalised over its
    channels and spatial positions per sample; then a per-channel affine map.

    Args:
        num_groups: number of groups; must divide ``num_channels``.
        num_channels: C.
        eps: added to the variance before the square root (default 1e-5).
        affine: learn ``weight`` (init 1) and ``bias`` (init 0) of shape (C,).
        bias: with ``affine``, also learn the bias (keyword-only, default True).
        device, dtype: where and in which floating dtype to create the parameters (nnkit: CPU only).

    Shape: input ``(N, C, *)``, output the same.

    Example::

        gn = nn.GroupNorm(4, 32)
        gn(nk.randn(2, 32, 8, 8)).shape     # (2, 32, 8, 8)
    """

    def __init__(self, num_groups, num_channels, eps=1e-5, affine=True, device=None, dtype=None, *, bias=True):
        super().__init__()
        if num_channels % num_groups != 0:
            raise ValueError(f"num_channels ({num_channels}) must be divisible by num_groups ({num_groups})")
        self.num_groups = num_groups
        self.num_channels = num_channels
        self.eps = eps
        self.affine = affine
        self._register_affine((num_channels,), affine, bias, dtype, device)
        self.reset_parameters()

    def forward(self, input):
        return F.group_norm(input, self.num_groups, self.weight, self.bias, self.eps)

    def extra_repr(self):
        return (
            f"{self.num_groups}, {self.num_channels}, eps={self.eps}, affine={self.affine}, "
            f"bias={self.bias is not None}"
        )


