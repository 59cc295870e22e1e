"""``RunDir``: a training run's output folder and the files a run writes into it."""

import os
from pathlib import Path

from nnkit.config import save_config
from nnkit.serialization import save
from nnkit.train.files import write_json
from nnkit.train.metrics import confusion_matrix
from nnkit.viz import plot_confusion_matrix, plot_curves

__all__ = ["RunDir"]


class RunDir:
    """The folder a run writes to, created on construction, with one method per kind of output.

    Every file is written atomically, so an interrupted run never leaves half a file. ``written`` lists the
    file names in the order written.

    Args:
        path: the folder (created with its parents if missing).

    Example::

        run = RunDir(args.out)
        run.save_config(config)                           # config.toml
        ...training...
        run.save_history(history)                         # metrics.csv, metrics.json, curves.png
        run.save_confusion_matrix(logits, labels, names)  # confusion_matrix.png
        run.save_checkpoint({"model": model.state_dict()})  # checkpoint.nkpt
        run.save_results({"test_accuracy": acc})          # results.json
    """

    def __init__(self, path):
        self.path = Path(os.fspath(path))
        self.path.mkdir(parents=True, exist_ok=True)
        self.written = []

    def _file(self, name):
        if name not in self.written:
            self.written.append(name)
        return self.path / name

    def save_config(self, config, header=None, name="config.toml"):
        """The resolved config as TOML, reloadable with ``--config``."""
        return save_config(config, self._file(name), header=header)

    def save_history(self, history, suffix="", title=None):
        """``metrics{suffix}.csv``, ``metrics{suffix}.json`` and the curves ``curves{suffix}.png``."""
        history.to_csv(self._file(f"metrics{suffix}.csv"))
        history.to_json(self._file(f"metrics{suffix}.json"))
        return plot_curves(history, self._file(f"curves{suffix}.png"), title=title)

    def save_confusion_matrix(self, output, target, class_names, name="confusion_matrix.png"):
        """The confusion matrix of ``output`` (scores or predicted classes) against ``target``, as PNG."""
        matrix = confusion_matrix(output, target, len(class_names))
        return plot_confusion_matrix(matrix, self._file(name), class_names=class_names)

    def save_checkpoint(self, obj, name="checkpoint.nkpt"):
        """``nnkit.save(obj)`` into the folder (state_dicts, epoch, RNG state...)."""
        path = self._file(name)
        save(obj, path)
        return path

    def save_results(self, results, name="results.json"):
        """The run's final numbers as strict JSON."""
        return write_json(results, self._file(name))

    def __repr__(self):
        return f"RunDir({str(self.path)!r})"
