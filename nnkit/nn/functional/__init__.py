"""Stateless functions neural networks are built from: linear, convolution, pooling, activations, dropout,
normalisation, embedding, padding and the losses."""

from nnkit.nn.functional.activation import gelu, leaky_relu, log_softmax, relu, sigmoid, silu, softmax, tanh
from nnkit.nn.functional.conv import conv1d, conv2d
from nnkit.nn.functional.dropout import dropout
from nnkit.nn.functional.embedding import embedding, one_hot
from nnkit.nn.functional.linear import linear
from nnkit.nn.functional.loss import (
    binary_cross_entropy,
    binary_cross_entropy_with_logits,
    cross_entropy,
    huber_loss,
    kl_div,
    l1_loss,
    mse_loss,
    nll_loss,
    smooth_l1_loss,
)
from nnkit.nn.functional.normalization import batch_norm, group_norm, layer_norm, normalize
from nnkit.nn.functional.padding import pad
from nnkit.nn.functional.pooling import adaptive_avg_pool2d, avg_pool2d, max_pool2d

__all__ = [
    "binary_cross_entropy_with_logits", "binary_cross_entropy", "cross_entropy", "nll_loss", "mse_loss", "l1_loss",
    "smooth_l1_loss", "huber_loss", "kl_div", "one_hot",
    "linear", "relu", "leaky_relu", "gelu", "silu", "sigmoid", "tanh", "softmax", "log_softmax", "dropout",
    "batch_norm", "layer_norm", "group_norm", "normalize", "embedding", "pad",
    "conv1d", "conv2d", "max_pool2d", "avg_pool2d", "adaptive_avg_pool2d",
]
