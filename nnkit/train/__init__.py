"""Helpers for a hand-written training loop: metrics, running averages, history, checks, evaluation, progress.

Small functions, not a framework: the loop stays in your code (see ``recipes/``). A typical epoch::

    from nnkit.train import RunningAverage, accuracy, check_finite, evaluate, progress

    for epoch in progress(range(1, epochs + 1), desc="epochs"):
        model.train()
        loss_avg = RunningAverage()
        for images, labels in progress(train_loader, leave=False):
            loss = loss_fn(model(images), labels)
            loss_avg.update(check_finite(loss, epoch=epoch), len(labels))
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
        val = evaluate(model, val_loader, {"loss": loss_fn, "accuracy": accuracy})
        history.record(epoch, train_loss=loss_avg.average, val_loss=val["loss"], val_accuracy=val["accuracy"])
"""

from nnkit.train.average import RunningAverage
from nnkit.train.data import DataConfig, Splits, load_splits
from nnkit.train.evaluate import evaluate, evaluating, predict
from nnkit.train.files import write_json
from nnkit.train.history import History
from nnkit.train.metrics import accuracy, confusion_matrix
from nnkit.train.nonfinite import NonFiniteLossError, check_finite
from nnkit.train.optimizer import OptimizerConfig, make_optimizer, make_scheduler
from nnkit.train.progress import echo, format_metrics, progress
from nnkit.train.run import RunDir
from nnkit.train.seed import set_seed

__all__ = [
    "accuracy", "confusion_matrix", "RunningAverage", "History", "NonFiniteLossError", "check_finite", "set_seed",
    "evaluate", "evaluating", "predict", "progress", "echo", "format_metrics", "DataConfig", "Splits",
    "load_splits", "OptimizerConfig", "make_optimizer", "make_scheduler", "write_json", "RunDir",
]
