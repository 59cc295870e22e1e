"""Pooling layers: ``MaxPool2d``, ``AvgPool2d`` and ``AdaptiveAvgPool2d`` (see :mod:`nnkit.nn.functional.pooling`)."""

from nnkit.nn.functional.pooling import adaptive_avg_pool2d, avg_pool2d, max_pool2d
from nnkit.nn.module import Module

__all__ = ["MaxPool2d", "AvgPool2d", "AdaptiveAvgPool2d"]


class MaxPool2d(Module):
    """The maximum over each ``kernel_size`` window of the last two dimensions.

    Args:
        kernel_size: an int or ``(kH, kW)``.
        stride: an int or a pair; default (None) ``kernel_size``.
        padding: implicit ``-inf`` padding on each side, at most half the (dilated) kernel.
        dilation: spacing between the window's elements.
        return_indices: also return the flat index ``h * W + w`` of each maximum in its plane.
        ceil_mode: round the output size up instead of down.

    Shape: input ``(N, C, H, W)`` or ``(C, H, W)``; output ``(N, C, H_out, W_out)`` with
    ``H_out = (H + 2*pH - dH*(kH - 1) - 1) // sH + 1`` (rounded up with ``ceil_mode``).

    Example::

        nn.MaxPool2d(2)(nk.randn(8, 16, 28, 28)).shape     # (8, 16, 14, 14)
    """

    def __init__(self, kernel_size, stride=None, padding=0, dilation=1, return_indices=False, ceil_mode=False):
        super().__init__()
        self.kernel_size = kernel_size
        self.stride = stride if stride is not None else kernel_size
        self.padding = padding
        self.dilation = dilation
        self.return_indices = return_indices
        self.ceil_mode = ceil_mode

    def forward(self, input):
        """Max-pool ``input``; ``(output, indices)`` when ``return_indices``."""
        return max_pool2d(input, self.kernel_size, self.stride, self.padding, self.dilation, ceil_mode=self.ceil_mode,
                          return_indices=self.return_indices)

    def extra_repr(self):
        return (f"kernel_size={self.kernel_size}, stride={self.stride}, padding={self.padding}, "
                f"dilation={self.dilation}, ceil_mode={self.ceil_mode}")


class AvgPool2d(Module):
    """The mean over each ``kernel_size`` window of the last two dimensions.

    Args:
        kernel_size: an int or ``(kH, kW)``.
        stride: an int or a pair; default (None) ``kernel_size``.
        padding: implicit zero padding on each side, at most half the kernel.
        ceil_mode: round the output size up instead of down.
        count_include_pad: count the padded zeros in each window's divisor (default True).
        divisor_override: divide every window sum by this instead.

    Shape: input ``(N, C, H, W)`` or ``(C, H, W)``; output ``(N, C, H_out, W_out)`` with
    ``H_out = (H + 2*pH - kH) // sH + 1`` (rounded up with ``ceil_mode``).

    Example::

        nn.AvgPool2d(2)(nk.randn(8, 16, 28, 28)).shape     # (8, 16, 14, 14)
    """

    def __init__(self, kernel_size, stride=None, padding=0, ceil_mode=False, count_include_pad=True,
                 divisor_override=None):
        super().__init__()
        self.kernel_size = kernel_size
        self.stride = stride if stride is not None else kernel_size
        self.padding = padding
        self.ceil_mode = ceil_mode
        self.count_include_pad = count_include_pad
        self.divisor_override = divisor_override

    def forward(self, input):
        """Average-pool ``input``."""
        return avg_pool2d(input, self.kernel_size, self.stride, self.padding, self.ceil_mode, self.count_include_pad,
                          self.divisor_override)

    def extra_repr(self):
        return f"kernel_size={self.kernel_size}, stride={self.stride}, padding={self.padding}"


class AdaptiveAvgPool2d(Module):
    """Average-pool the last two dimensions to ``output_size``, whatever the input size.

    Args:
        output_size: an int (square) or ``(oH, oW)``; ``None`` in the pair keeps that input size.

    Shape: input ``(N, C, H, W)`` or ``(C, H, W)``; output ``(N, C, oH, oW)``.

    Example::

        nn.AdaptiveAvgPool2d(1)(nk.randn(8, 512, 7, 7)).shape     # (8, 512, 1, 1)
    """

    def __init__(self, output_size):
        super().__init__()
        self.output_size = output_size

    def forward(self, input):
        """Adaptive-average-pool ``input``."""
        return adaptive_avg_pool2d(input, self.output_size)

    def extra_repr(self):
        return f"output_size={self.output_size}"
