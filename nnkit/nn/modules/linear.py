"""``Linear``: the affine layer ``y = x W^T + b``."""

import math

from nnkit import creation
from nnkit.nn import init
from nnkit.nn.functional.linear import linear
from nnkit.nn.module import Module, weight_and_bias
from nnkit.nn.parameter import Parameter

__all__ = ["Linear"]


class Linear(Module):
    """Apply the affine map ``y = x @ weight.T + bias`` to the last dimension of the input.

    Args:
        in_features: size of each input sample.
        out_features: size of each output sample.
        bias: learn an additive bias (default True).
        device, dtype: where and in which floating dtype to create the parameters (nnkit: CPU only).

    Attributes:
        weight: ``(out_features, in_features)``, initialised from U(-k, k) with ``k = 1 / sqrt(in_features)``
            (``kaiming_uniform_`` with ``a = sqrt(5)``, as PyTorch).
        bias: ``(out_features,)``, from U(-k, k); None when ``bias=False``.

    Shape: input ``(*, in_features)``, output ``(*, out_features)``.

    Example::

        fc = nn.Linear(20, 30)
        fc(nk.randn(128, 20)).shape     # (128, 30)
    """

    def __init__(self, in_features, out_features, bias=True, device=None, dtype=None):
        super().__init__()
        self.in_features = in_features
        self.out_features = out_features
        self.weight = Parameter(creation.empty(out_features, in_features, dtype=dtype, device=device))
        if bias:
            self.bias = Parameter(creation.empty(out_features, dtype=dtype, device=device))
        else:
            self.register_parameter("bias", None)
        self.reset_parameters()

    def reset_parameters(self):
        """Re-draw the parameters from PyTorch's default distributions (see the class docstring)."""
        init.kaiming_uniform_(self.weight, a=math.sqrt(5))
        if self.bias is not None:
            fan_in, _ = init._calculate_fan_in_and_fan_out(self.weight)
            bound = 1 / math.sqrt(fan_in) if fan_in > 0 else 0
            init.uniform_(self.bias, -bound, bound)

    def forward(self, input):
        """``input @ weight.T + bias``."""
        weight, bias = weight_and_bias(self)
        return linear(input, weight, bias)

    def extra_repr(self):
        return f"in_features={self.in_features}, out_features={self.out_features}, bias={self.bias is not None}"
