"""``write_json``: a run's small result files, written atomically."""

import json

from nnkit.serialization import atomic_write

__all__ = ["write_json"]


def write_json(obj, path):
    """Write ``obj`` (plain dicts, lists, numbers, strings) as indented, strict JSON to ``path``; returns ``path``.

    The file is replaced atomically (see :func:`nnkit.serialization.atomic_write`), so a reader never sees half
    of it. NaN and infinities are rejected (strict JSON has no spelling for them).

    Example::

        write_json({"test_accuracy": 0.97, "train_seconds": 12.5}, out / "results.json")
    """
    text = json.dumps(obj, indent=1, allow_nan=False) + "\n"
    with atomic_write(path) as f:
        f.write(text.encode("utf-8"))
    return path
