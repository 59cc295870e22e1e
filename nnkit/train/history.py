"""``History``: per-epoch metrics of a training run, written as CSV and JSON."""

import csv
import io
import json
import math
import os

from nnkit.serialization import atomic_write
from nnkit.tensor import Tensor

__all__ = ["History"]

_NON_FINITE = {"nan": math.nan, "inf": math.inf, "-inf": -math.inf}


def _number(name, value):
    if isinstance(value, Tensor):
        if value.numel() != 1:
            raise ValueError(f"History: metric {name!r} must be a number, got a tensor of shape {tuple(value.shape)}")
        value = value.item()
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        try:
            value = float(value)  # numpy scalars
        except (TypeError, ValueError):
            raise TypeError(f"History: metric {name!r} must be a number, got {type(value).__name__}") from None
    return value


class History:
    """A table with one row per epoch: ``{"epoch": 1, "train_loss": 0.41, "val_accuracy": 0.93, ...}``.

    Values are stored as Python numbers (a one-element tensor is converted with ``.item()``). Epochs may record
    different metrics (say, validation every other epoch): the missing cells are empty in CSV and absent in
    JSON. ``history["val_loss"]`` gives a column, with None where an epoch did not record it.

    Files: ``to_csv`` writes a header ``epoch,<metric>,...`` and one line per epoch; ``to_json`` writes
    ``{"epochs": [{...}, ...]}``, strict JSON, with non-finite values as the strings ``"nan"``, ``"inf"``,
    ``"-inf"``. ``History.from_csv`` / ``History.from_json`` read them back to an equal History. Files are
    written atomically (see :func:`nnkit.serialization.atomic_write`).

    Example::

        history = History()
        for epoch in range(1, epochs + 1):
            ...
            history.record(epoch, train_loss=loss_avg.average, val_accuracy=val["accuracy"])
        history.to_csv(out / "metrics.csv")
        history.to_json(out / "metrics.json")
    """

    def __init__(self, rows=()):
        self.rows = []
        for row in rows:
            row = dict(row)
            self.record(row.pop("epoch", None), **row)

    def record(self, epoch=None, **metrics):
        """Append the row of ``epoch`` (default: the previous epoch + 1, starting at 1); returns the row."""
        if epoch is None:
            epoch = self.rows[-1]["epoch"] + 1 if self.rows else 1
        if isinstance(epoch, bool) or not isinstance(epoch, int):
            raise TypeError(f"History.record: epoch must be an int, got {type(epoch).__name__}")
        if self.rows and epoch <= self.rows[-1]["epoch"]:
            raise ValueError(f"History.record: epoch {epoch} is not after the last recorded epoch "
                             f"{self.rows[-1]['epoch']}")
        row = {"epoch": epoch}
        row.update((name, _number(name, value)) for name, value in metrics.items())
        self.rows.append(row)
        return row

    @property
    def columns(self):
        """``['epoch', ...]``: every metric name, in the order first recorded."""
        names = {}
        for row in self.rows:
            names.update(dict.fromkeys(row))
        return list(names)

    @property
    def last(self):
        """The last row (an empty dict before the first ``record``)."""
        return dict(self.rows[-1]) if self.rows else {}

    def __getitem__(self, name):
        if name not in self.columns:
            raise KeyError(f"History has no metric {name!r}; recorded: {', '.join(self.columns) or 'nothing yet'}")
        return [row.get(name) for row in self.rows]

    def __len__(self):
        return len(self.rows)

    def __iter__(self):
        return iter(self.rows)

    def __eq__(self, other):
        if not isinstance(other, History):
            return NotImplemented
        # NaN == NaN here: a recorded NaN read back from a file is the same history.
        return [{k: _key(v) for k, v in r.items()} for r in self.rows] == \
            [{k: _key(v) for k, v in r.items()} for r in other.rows]

    def best(self, name, mode="max"):
        """``(epoch, value)`` of the best recorded ``name`` (``mode='max'`` or ``'min'``), NaNs ignored."""
        if mode not in ("max", "min"):
            raise ValueError(f"History.best: mode must be 'max' or 'min', got {mode!r}")
        found = [(v, row["epoch"]) for row, v in zip(self.rows, self[name]) if v is not None and not math.isnan(v)]
        if not found:
            raise ValueError(f"History.best: no finite value of {name!r} recorded")
        value, epoch = (max if mode == "max" else min)(found, key=lambda item: item[0])
        return epoch, value

    # -- files ------------------------------------------------------------------------------------------------
    def to_csv(self, path):
        """Write the table as CSV (``repr`` of each float: exact round trip); returns ``path``."""
        buffer = io.StringIO(newline="")
        writer = csv.writer(buffer, lineterminator="\n")
        columns = self.columns
        writer.writerow(columns)
        for row in self.rows:
            writer.writerow(["" if row.get(c) is None else repr(row[c]) for c in columns])
        _write(path, buffer.getvalue())
        return path

    def to_json(self, path):
        """Write ``{"epochs": [row, ...]}`` as strict JSON; returns ``path``."""
        rows = [{k: _encode(v) for k, v in row.items()} for row in self.rows]
        _write(path, json.dumps({"epochs": rows}, indent=1, allow_nan=False) + "\n")
        return path

    @classmethod
    def from_csv(cls, path):
        """Read a History written by ``to_csv``."""
        with open(path, newline="", encoding="utf-8") as f:
            reader = csv.reader(f)
            try:
                columns = next(reader)
            except StopIteration:
                raise ValueError(f"{os.fspath(path)} is empty: not a History CSV") from None
            if not columns or columns[0] != "epoch":
                raise ValueError(f"{os.fspath(path)} is not a History CSV: the first column is not 'epoch'")
            rows = []
            for line_number, cells in enumerate(reader, start=2):
                if len(cells) != len(columns):
                    raise ValueError(f"{os.fspath(path)} line {line_number}: {len(cells)} cells for "
                                     f"{len(columns)} columns")
                rows.append({c: _parse(v) for c, v in zip(columns, cells) if v != ""})
        return cls(rows)

    @classmethod
    def from_json(cls, path):
        """Read a History written by ``to_json``."""
        with open(path, encoding="utf-8") as f:
            data = json.load(f)
        if not isinstance(data, dict) or not isinstance(data.get("epochs"), list):
            raise ValueError(f"{os.fspath(path)} is not a History JSON: expected {{\"epochs\": [...]}}")
        return cls({k: _decode(v) for k, v in row.items()} for row in data["epochs"])

    def __repr__(self):
        return f"History({len(self.rows)} epochs: {', '.join(self.columns[1:])})"


def _key(value):
    return "nan" if isinstance(value, float) and math.isnan(value) else value


def _encode(value):
    return value if not isinstance(value, float) or math.isfinite(value) else repr(value)


def _decode(value):
    return _NON_FINITE[value] if isinstance(value, str) and value in _NON_FINITE else value


def _parse(text):
    try:
        return int(text)
    except ValueError:
        return float(text)


def _write(path, text):
    with atomic_write(path) as f:
        f.write(text.encode("utf-8"))
