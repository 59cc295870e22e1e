"""Convolution layers: ``Conv1d`` and ``Conv2d`` (parameters + a call into :mod:`nnkit.nn.functional.conv`)."""

from nnkit import creation
from nnkit.nn.functional.conv import conv1d, conv2d
from nnkit.nn.functional.padding import pad
from nnkit.nn.module import Module, weight_and_bias
from nnkit.nn.modules.linear import Linear
from nnkit.nn.parameter import Parameter

__all__ = ["Conv1d", "Conv2d"]

_PADDING_MODES = ("zeros", "reflect", "replicate", "circular")
_PADDING_STRINGS = ("same", "valid")


def _ntuple(value, n):
    return tuple(value) if isinstance(value, (tuple, list)) else (value,) * n


class _ConvNd(Module):
    """Shared by Conv1d and Conv2d: argument checks as PyTorch's, parameters, initialisation and repr."""

    _nd = 0
    _function = None

    def __init__(self, in_channels, out_channels, kernel_size, stride=1, padding=0, dilation=1, groups=1, bias=True,
                 padding_mode="zeros", device=None, dtype=None):
        super().__init__()
        nd = self._nd
        if not isinstance(groups, int) or isinstance(groups, bool) or groups <= 0:
            raise ValueError(f"groups must be a positive integer (got groups={groups!r})")
        if in_channels % groups != 0:
            raise ValueError(
                f"in_channels must be divisible by groups (got in_channels={in_channels}, groups={groups})"
            )
        if out_channels % groups != 0:
            raise ValueError(
                f"out_channels must be divisible by groups (got out_channels={out_channels}, groups={groups})"
            )
        stride, dilation = _ntuple(stride, nd), _ntuple(dilation, nd)
        kernel_size = _ntuple(kernel_size, nd)
        if isinstance(padding, str):
            if padding not in _PADDING_STRINGS:
                raise ValueError(
                    f"Invalid padding string {padding!r}, should be one of {set(_PADDING_STRINGS)} (or pass an int "
                    f"or a tuple of {nd} ints)"
                )
            if padding == "same" and any(s != 1 for s in stride):
                raise ValueError(
                    f"padding='same' is not supported for strided convolutions (stride={stride}; pass an explicit "
                    "padding instead)"
                )
        else:
            padding = _ntuple(padding, nd)
        if padding_mode not in _PADDING_MODES:
            raise ValueError(
                f"padding_mode must be one of {set(_PADDING_MODES)}, but got padding_mode='{padding_mode}'"
            )
        self.in_channels = in_channels
        self.out_channels = out_channels
        self.kernel_size = kernel_size
        self.stride = stride
        self.padding = padding
        self.dilation = dilation
        self.groups = groups
        self.padding_mode = padding_mode
        # F.pad's amounts for the non-zeros padding modes: last dimension first, (before, after) for each.
        if padding == "same":
            amounts = []
            for d, k in zip(reversed(dilation), reversed(kernel_size)):
                total = d * (k - 1)
                amounts += [total // 2, total - total // 2]
            self._reversed_padding_repeated_twice = tuple(amounts)
        elif padding == "valid":
            self._reversed_padding_repeated_twice = (0,) * (2 * nd)
        else:
            self._reversed_padding_repeated_twice = tuple(p for p in reversed(padding) for _ in range(2))
        self.weight = Parameter(
            creation.empty(out_channels, in_channels // groups, *kernel_size, dtype=dtype, device=device)
        )
        if bias:
            self.bias = Parameter(creation.empty(out_channels, dtype=dtype, device=device))
        else:
            self.register_parameter("bias", None)
        self.reset_parameters()

    # PyTorch's rule, the same as Linear's: weight by kaiming_uniform_(a=sqrt(5)), bias from U(-k, k), both with
    # k = 1 / sqrt(fan_in) where fan_in = in_channels / groups * kernel area
    reset_parameters = Linear.reset_parameters

    def forward(self, input):
        """The convolution of ``input`` with ``weight``, plus ``bias``."""
        function = type(self)._function
        weight, bias = weight_and_bias(self)
        if self.padding_mode != "zeros":
            input = pad(input, self._reversed_padding_repeated_twice, mode=self.padding_mode)
            return function(input, weight, bias, self.stride, 0, self.dilation, self.groups)
        return function(input, weight, bias, self.stride, self.padding, self.dilation, self.groups)

    def extra_repr(self):
        nd = self._nd
        s = f"{self.in_channels}, {self.out_channels}, kernel_size={self.kernel_size}, stride={self.stride}"
        if self.padding != (0,) * nd:
            s += f", padding={self.padding}"
        if self.dilation != (1,) * nd:
            s += f", dilation={self.dilation}"
        if self.groups != 1:
            s += f", groups={self.groups}"
        if self.bias is None:
            s += ", bias=False"
        if self.padding_mode != "zeros":
            s += f", padding_mode={self.padding_mode}"
        return s


class Conv1d(_ConvNd):
    """1-D convolution over an input of ``in_channels`` channels (see :func:`nnkit.nn.functional.conv1d`).

    Args:
        in_channels, out_channels: channels of the input and of the output.
        kernel_size: an int or a 1-tuple.
        stride, dilation: an int or a 1-tuple (default 1).
        padding: an int, a 1-tuple, ``'valid'`` (none) or ``'same'`` (output as long as the input; stride 1).
        groups: split the channels into this many independent groups (both channel counts divisible by it).
        bias: learn an additive bias (default True).
        padding_mode: ``'zeros'`` (default), ``'reflect'``, ``'replicate'`` or ``'circular'``.
        device, dtype: where and in which floating dtype to create the parameters (nnkit: CPU only).

    Attributes:
        weight: ``(out_channels, in_channels / groups, kernel_size)``, from U(-k, k) with
            ``k = 1 / sqrt(in_channels / groups * kernel_size)`` (``kaiming_uniform_`` with ``a = sqrt(5)``).
        bias: ``(out_channels,)``, from U(-k, k); None when ``bias=False``.

    Shape: input ``(N, C_in, L)`` or ``(C_in, L)``; output ``(N, C_out, L_out)`` with
    ``L_out = (L + 2*padding - dilation*(kernel_size - 1) - 1) // stride + 1``.

    Example::

        conv = nn.Conv1d(2, 6, 5, padding="same")
        conv(nk.randn(4, 2, 100)).shape     # (4, 6, 100)
    """

    _nd = 1
    _function = staticmethod(conv1d)


class Conv2d(_ConvNd):
    """2-D convolution over an input of ``in_channels`` channels (see :func:`nnkit.nn.functional.conv2d`).

    Args:
        in_channels, out_channels: channels of the input and of the output.
        kernel_size: an int or ``(kH, kW)``.
        stride, dilation: an int or a pair (default 1).
        padding: an int, a pair, ``'valid'`` (none) or ``'same'`` (output as large as the input; stride 1).
        groups: split the channels into this many independent groups (both channel counts divisible by it).
        bias: learn an additive bias (default True).
        padding_mode: ``'zeros'`` (default), ``'reflect'``, ``'replicate'`` or ``'circular'``.
        device, dtype: where and in which floating dtype to create the parameters (nnkit: CPU only).

    Attributes:
        weight: ``(out_channels, in_channels / groups, kH, kW)``, from U(-k, k) with
            ``k = 1 / sqrt(in_channels / groups * kH * kW)`` (``kaiming_uniform_`` with ``a = sqrt(5)``).
        bias: ``(out_channels,)``, from U(-k, k); None when ``bias=False``.

    Shape: input ``(N, C_in, H, W)`` or ``(C_in, H, W)``; output ``(N, C_out, H_out, W_out)`` with
    ``H_out = (H + 2*pH - dH*(kH - 1) - 1) // sH + 1`` (likewise ``W_out``).

    Example::

        conv = nn.Conv2d(1, 16, 3, padding=1)
        conv(nk.randn(64, 1, 28, 28)).shape     # (64, 16, 28, 28)
    """

    _nd = 2
    _function = staticmethod(conv2d)
