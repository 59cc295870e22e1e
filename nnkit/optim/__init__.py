"""Optimizers and learning-rate schedulers, with PyTorch's API and update rules.

``nnkit.optim.SGD``, ``Adam``, ``AdamW`` update parameters in place from their ``.grad``; ``nnkit.optim.
lr_scheduler`` adjusts their learning rates over training. Each optimizer's math is a pure function on numpy
arrays beside its class (``nnkit.optim.sgd.sgd``, ``nnkit.optim.adam.adam``), its rule in the docstring.
"""

from nnkit.optim import lr_scheduler
from nnkit.optim.adam import Adam, AdamW
from nnkit.optim.optimizer import Optimizer
from nnkit.optim.sgd import SGD

__all__ = ["Optimizer", "SGD", "Adam", "AdamW", "lr_scheduler"]
