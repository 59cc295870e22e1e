"""Classification metrics on a batch or a whole split: ``accuracy`` and ``confusion_matrix``.

Both take tensors (or numpy arrays) and return plain Python / numpy values, never tensors: a metric kept for
logging must not keep the forward graph alive.
"""

import numpy as np

from nnkit.tensor import Tensor

__all__ = ["accuracy", "confusion_matrix"]


def _array(x):
    return x.detach().numpy() if isinstance(x, Tensor) else np.asarray(x)


def _labels(target, name):
    target = _array(target)
    if target.ndim != 1 or not np.issubdtype(target.dtype, np.integer):
        raise ValueError(f"{name}: target must be a 1-D integer tensor of class indices, got shape "
                         f"{tuple(target.shape)} and dtype {target.dtype}")
    return target


def accuracy(output, target, top_k=1):
    """The fraction of samples whose class is among the ``top_k`` highest scores, as a Python float.

    Args:
        output: scores (logits or probabilities) ``(N, C)``, or predicted class indices ``(N,)``.
        target: true class indices ``(N,)``.
        top_k: count a sample as correct when its class is among the ``top_k`` largest scores (``(N, C)``
            scores only).

    Example::

        accuracy(nk.tensor([[2.0, 0.1], [0.3, 0.9], [0.8, 0.2]]), nk.tensor([0, 1, 1]))   # 0.666...
    """
    scores, target = _array(output), _labels(target, "accuracy")
    if scores.shape[:1] != target.shape:
        raise ValueError(f"accuracy: output has {scores.shape[0] if scores.ndim else 0} samples (shape "
                         f"{tuple(scores.shape)}) but target has {target.shape[0]}")
    if target.shape[0] == 0:
        raise ValueError("accuracy: the batch is empty (no samples to score)")
    if scores.ndim == 1:
        if top_k != 1:
            raise ValueError(f"accuracy: top_k={top_k} needs scores (N, C), got class indices {tuple(scores.shape)}")
        return float(np.mean(scores == target))
    if scores.ndim != 2:
        raise ValueError(f"accuracy: output must be scores (N, C) or class indices (N,), got {tuple(scores.shape)}")
    if not 1 <= top_k <= scores.shape[1]:
        raise ValueError(f"accuracy: top_k must be between 1 and the number of classes {scores.shape[1]}, got {top_k}")
    if top_k == 1:
        return float(np.mean(scores.argmax(axis=1) == target))
    best = np.argpartition(-scores, top_k - 1, axis=1)[:, :top_k]
    return float(np.mean((best == target[:, None]).any(axis=1)))


def confusion_matrix(output, target, num_classes=None):
    """Counts ``matrix[true, predicted]`` as an int64 numpy array ``(C, C)`` (rows: true class, as scikit-learn).

    Args:
        output: scores ``(N, C)`` (the argmax is the prediction) or predicted class indices ``(N,)``.
        target: true class indices ``(N,)``.
        num_classes: ``C``; default: the number of score columns, else ``1 + max`` of the labels seen.

    Example::

        confusion_matrix(nk.tensor([0, 1, 1]), nk.tensor([0, 1, 0]))   # [[1, 1], [0, 1]]
    """
    predicted, target = _array(output), _labels(target, "confusion_matrix")
    if predicted.ndim == 2:
        num_classes = predicted.shape[1] if num_classes is None else num_classes
        predicted = predicted.argmax(axis=1)
    if predicted.shape != target.shape:
        raise ValueError(f"confusion_matrix: {predicted.shape[0]} predictions but {target.shape[0]} targets")
    predicted = predicted.astype(np.int64)
    if num_classes is None:
        num_classes = int(max(predicted.max(initial=-1), target.max(initial=-1))) + 1
    for name, labels in (("predicted", predicted), ("target", target)):
        if labels.size and (labels.min() < 0 or labels.max() >= num_classes):
            raise ValueError(f"confusion_matrix: {name} class indices must be in [0, {num_classes}), got values "
                             f"from {labels.min()} to {labels.max()}")
    counts = np.bincount(target * num_classes + predicted, minlength=num_classes * num_classes)
    return counts.reshape(num_classes, num_classes)
