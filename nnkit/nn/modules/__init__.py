"""The layers of ``nnkit.nn``, one file per family (linear, conv, pooling, normalization, activation,
dropout, embedding, loss, flatten). Import them from ``nnkit.nn``: ``nn.Linear``, ``nn.Flatten``...
"""

from nnkit.nn.modules.activation import GELU, LeakyReLU, LogSoftmax, ReLU, Sigmoid, SiLU, Softmax, Tanh
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

__all__ = [
    "Identity", "Flatten", "Unflatten", "BCEWithLogitsLoss", "BCELoss", "CrossEntropyLoss", "NLLLoss", "MSELoss",
    "L1Loss", "SmoothL1Loss", "HuberLoss", "KLDivLoss",
    "Linear", "ReLU", "LeakyReLU", "GELU", "SiLU", "Sigmoid", "Tanh", "Softmax", "LogSoftmax", "BatchNorm1d",
    "BatchNorm2d", "BatchNorm3d", "LayerNorm", "GroupNorm", "Dropout", "Embedding",
]
