"""The optimizer side of a recipe: a config section, ``make_optimizer`` and ``make_scheduler``."""

import dataclasses
import typing

from nnkit.optim.adam import Adam, AdamW
from nnkit.optim.lr_scheduler import CosineAnnealingLR, LambdaLR
from nnkit.optim.sgd import SGD

__all__ = ["OptimizerConfig", "make_optimizer", "make_scheduler"]


@dataclasses.dataclass
class OptimizerConfig:
    """The ``[optim]`` section of a recipe's config.

    Attributes:
        name: ``"sgd"``, ``"adam"`` or ``"adamw"``.
        lr: learning rate.
        momentum: SGD's momentum (ignored by Adam/AdamW).
        weight_decay: L2 penalty (SGD, Adam) or decoupled weight decay (AdamW).
        schedule: the learning rate per epoch: ``"constant"``, or ``"cosine"`` (from ``lr`` down to 0 over the
            run, ``CosineAnnealingLR``).
    """

    name: typing.Literal["sgd", "adam", "adamw"] = "adam"
    lr: float = 1e-3
    momentum: float = 0.9
    weight_decay: float = 0.0
    schedule: typing.Literal["constant", "cosine"] = "constant"

    def __post_init__(self):
        if not self.lr > 0:
            raise ValueError(f"lr must be positive, got {self.lr}")
        if not 0 <= self.momentum < 1:
            raise ValueError(f"momentum must be in [0, 1), got {self.momentum}")
        if self.weight_decay < 0:
            raise ValueError(f"weight_decay must be non-negative, got {self.weight_decay}")


def make_optimizer(params, config):
    """The optimizer that ``config`` (an :class:`OptimizerConfig`) names, over ``params``.

    Example::

        optimizer = make_optimizer(model.parameters(), OptimizerConfig(name="sgd", lr=0.1))
    """
    if config.name == "sgd":
        return SGD(params, lr=config.lr, momentum=config.momentum, weight_decay=config.weight_decay)
    cls = Adam if config.name == "adam" else AdamW
    return cls(params, lr=config.lr, weight_decay=config.weight_decay)


def make_scheduler(optimizer, config, epochs):
    """The per-epoch learning-rate schedule ``config.schedule`` names, over ``epochs`` epochs.

    Call its ``step()`` once at the end of each epoch. ``"constant"`` gives a ``LambdaLR`` whose factor is
    always 1, so the loop is the same for every schedule.
    """
    if config.schedule == "cosine":
        return CosineAnnealingLR(optimizer, T_max=epochs)
    return LambdaLR(optimizer, lambda epoch: 1.0)
