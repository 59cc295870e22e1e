"""Run a model over a loader for evaluation: ``evaluating`` (the mode switch), ``evaluate`` and ``predict``."""

import contextlib

import numpy as np

from nnkit.autograd.grad_mode import no_grad
from nnkit.tensor import Tensor, _make

__all__ = ["evaluating", "evaluate", "predict"]


@contextlib.contextmanager
def evaluating(model):
    """Run the block under ``no_grad()`` with ``model`` in eval mode, then restore each module's own mode.

    Each submodule gets back its own ``training`` flag, not one flag for the whole model: a frozen backbone
    whose BatchNorm layers are kept in eval mode inside a training model stays that way.

    Example::

        with evaluating(model):
            logits = model(images)       # no graph recorded, dropout off, BatchNorm uses running statistics
    """
    modes = [(module, module.training) for module in model.modules()]
    model.eval()
    try:
        with no_grad():
            yield model
    finally:
        for module, training in modes:
            module.training = training


def _number(value, name):
    if isinstance(value, Tensor):
        if value.numel() != 1:
            raise ValueError(f"evaluate: metric {name!r} returned a tensor of shape {tuple(value.shape)}; a metric "
                             "must return a number (the batch's mean)")
        return value.item()
    return float(value)


def evaluate(model, loader, metrics):
    """The mean of each metric over the samples of ``loader``, as Python floats.

    Runs under :func:`evaluating` (no graph, eval mode, modes restored after). Each metric is called per
    batch as ``fn(output, target)`` and must return the batch's mean (a number or one-element tensor, e.g.
    ``nn.CrossEntropyLoss()`` or :func:`accuracy`); batches are weighted by their size, so the result is the
    mean over samples.

    Args:
        model: called as ``model(inputs)`` on each ``(inputs, targets)`` batch.
        loader: an iterable of ``(inputs, targets)`` batches (a DataLoader).
        metrics: ``{name: fn(output, target)}``.

    Returns:
        ``{name: float}``.

    Example::

        evaluate(model, val_loader, {"loss": nn.CrossEntropyLoss(), "accuracy": accuracy})
        # {'loss': 0.112, 'accuracy': 0.967}
    """
    totals = dict.fromkeys(metrics, 0.0)
    count = 0
    with evaluating(model):
        for inputs, targets in loader:
            output = model(inputs)
            n = len(targets)
            for name, fn in metrics.items():
                totals[name] += _number(fn(output, targets), name) * n
            count += n
    if count == 0:
        raise ValueError("evaluate: the loader yielded no samples")
    return {name: total / count for name, total in totals.items()}


def predict(model, loader):
    """``(outputs, targets)``: the model's outputs for every batch of ``loader`` and the targets, concatenated.

    Runs under :func:`evaluating`. Use it for whole-split statistics such as a confusion matrix.

    Example::

        logits, labels = predict(model, test_loader)
        matrix = confusion_matrix(logits, labels)
    """
    outputs, targets = [], []
    with evaluating(model):
        for inputs, target in loader:
            outputs.append(model(inputs).numpy())
            targets.append(target.numpy() if isinstance(target, Tensor) else np.asarray(target))
    if not outputs:
        raise ValueError("predict: the loader yielded no batches")
    return _make(np.concatenate(outputs)), _make(np.concatenate(targets))
