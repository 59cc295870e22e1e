"""Progress bars (tqdm) for epochs and batches, quiet when not on a terminal, and log lines that go with them."""

import sys

from tqdm import tqdm

__all__ = ["progress", "echo", "format_metrics"]


def _interactive():
    stream = sys.stdout
    return hasattr(stream, "isatty") and stream.isatty()


def progress(iterable=None, *, desc=None, total=None, quiet=False, leave=True, unit="it"):
    """Wrap ``iterable`` in a tqdm bar on stdout; a silent pass-through when ``quiet`` or stdout is not a TTY.

    The result always has tqdm's methods (``set_postfix``, ``update``...), which do nothing when silent, so
    a loop is written once. Show metrics with ``bar.set_postfix(loss=f"{avg.average:.4f}")``.

    Args:
        iterable: what to iterate (a range of epochs, a DataLoader).
        desc: the label in front of the bar.
        total: the number of items, when ``len(iterable)`` does not say.
        quiet: no bar at all (a recipe's ``--quiet``).
        leave: keep the finished bar on screen (False for inner, per-batch bars).
        unit: the name of one item.

    Example::

        for epoch in progress(range(1, epochs + 1), desc="epochs", quiet=quiet):
            batches = progress(loader, desc=f"epoch {epoch}", leave=False, quiet=quiet)
            for xb, yb in batches:
                ...
                batches.set_postfix(loss=f"{loss_avg.average:.4f}")
    """
    return tqdm(iterable, desc=desc, total=total, leave=leave, unit=unit, file=sys.stdout,
                disable=quiet or not _interactive(), dynamic_ncols=True)


def echo(message, *, quiet=False):
    """Print a line without breaking the progress bars on screen (``tqdm.write``); nothing when ``quiet``."""
    if not quiet:
        tqdm.write(message, file=sys.stdout)


def format_metrics(metrics, digits=4):
    """``"train_loss 0.4123  val_accuracy 0.9630"``: a row of numbers for a log line (``epoch`` as an int)."""
    parts = []
    for name, value in metrics.items():
        if isinstance(value, float):
            parts.append(f"{name} {value:.{digits}f}")
        else:
            parts.append(f"{name} {value}")
    return "  ".join(parts)
