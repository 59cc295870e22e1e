"""Neural-network building blocks: Module and Parameter, containers, layers, losses, and the ``functional``,
``init`` and ``utils`` submodules, with PyTorch's names."""

from nnkit.nn import functional, init, utils
from nnkit.nn.containers import ModuleDict, ModuleList, Sequential
from nnkit.nn.module import Module
from nnkit.nn.modules.activation import GELU, LeakyReLU, LogSoftmax, ReLU, Sigmoid, SiLU, Softmax, Tanh
from nnkit.nn.modules.conv import Conv1d, Conv2d
from nnkit.nn.modules.dropout import Dropout
from nnkit.nn.modules.embedding import Embedding
from nnkit.nn.modules.flatten import Flatten, Identity, Unflatten
from nnkit.nn.modules.linear import Linear
from nnkit.nn.modules.loss import (
    BCELoss,
    BCEWithLogitsLoss,
    CrossEntropyLoss,
    HuberLoss,
    KLDivLoss,
    L1Loss,
    MSELoss,
    NLLLoss,
    SmoothL1Loss,
)
from nnkit.nn.modules.normalization import BatchNorm1d, BatchNorm2d, BatchNorm3d, GroupNorm, LayerNorm
from nnkit.nn.modules.pooling import AdaptiveAvgPool2d, AvgPool2d, MaxPool2d
from nnkit.nn.parameter import Parameter

__all__ = [
    "functional", "init", "utils", "Module", "Parameter", "Sequential", "ModuleList", "ModuleDict", "Identity",
    "Flatten", "Unflatten",
    "BCEWithLogitsLoss", "BCELoss", "CrossEntropyLoss", "NLLLoss", "MSELoss", "L1Loss", "SmoothL1Loss",
    "HuberLoss", "KLDivLoss",
    "Linear", "ReLU", "LeakyReLU", "GELU", "SiLU", "Sigmoid", "Tanh", "Softmax", "LogSoftmax", "BatchNorm1d",
    "BatchNorm2d", "BatchNorm3d", "LayerNorm", "GroupNorm", "Dropout", "Embedding",
    "Conv1d", "Conv2d", "MaxPool2d", "AvgPool2d", "AdaptiveAvgPool2d",
]
