"""Benchmark workloads: one module per workload, each defining ``WORKLOAD``.

A workload names what is measured and builds, per framework, a ``Case``: a zero-argument callable doing one
iteration of the work and returning a value to check (a gradient, an output), and optionally a separate check
(the losses of several training steps). The ``"numpy"`` case is the hand-written floor of the same math;
``"nnkit"`` and, when importable, ``"torch"`` are compared with it.

Most workloads are timed (``measure="time"``). A ``measure="memory"`` workload runs each framework in its own
fresh process (``peak_memory.py``): its ``setup`` runs before the baseline, the builder and one ``run()``
after it, and the result is the peak resident memory above the baseline.

To add a workload: write ``benchmarks/workloads/<module>.py`` with ``WORKLOAD = Workload(...)`` and add the
module's name to ``MODULES`` (the list is explicit so that reading it tells what runs).
"""

import importlib
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

__all__ = ["MODULES", "FRAMEWORKS", "FLOOR", "Case", "Target", "Workload", "load"]

MODULES = ("w1_chain", "w2_mlp", "w3_cnn", "w4_long_chain", "w5_memory", "ng_no_grad")
FLOOR = "numpy"
FRAMEWORKS = (FLOOR, "nnkit", "torch")


@dataclass(frozen=True)
class Target:
    """A goal for nnkit on a workload, printed beside the result.

    Attributes:
        label: where the goal comes from, e.g. ``"issue 2"``.
        limit: the largest acceptable value.
        kind: ``"value"`` (in the workload's unit), ``"ratio"`` (times the numpy floor) or ``"torch"`` (times
            PyTorch's value in the same round).
        threads: the thread count the goal is stated for (None: any).
    """

    label: str
    limit: float
    kind: str = "value"
    threads: int | None = None


@dataclass
class Case:
    """One framework's implementation of a workload.

    Attributes:
        run: does one iteration (the timed unit) and returns its result.
        check: returns the value compared with the floor's before timing; None means ``run()``'s result.
    """

    run: Callable[[], Any]
    check: Callable[[], Any] | None = None


@dataclass
class Workload:
    """What one benchmark measures and how to build it for each framework.

    Attributes:
        key: short name used by ``--only`` (``"W1"``).
        title: one line for the table.
        unit: the reported unit (``"µs/op"``, ``"s"``).
        ops: framework ops per iteration (for per-op figures, e.g. in profiles).
        scale: multiplies seconds per iteration into ``unit`` (e.g. ``1e6 / ops`` for µs per op).
        builders: framework name -> ``builder(torch_module_or_None) -> Case``; the ``"numpy"`` floor is required.
        targets: goals for nnkit.
        checked: what the correctness check compares (for the report).
        rtol, atol: tolerances of the correctness check of each framework's result against the floor's.
        sample_seconds: aim for timing samples at least this long (calls are batched to reach it).
        repeat: timing samples per framework per round.
        warmup: untimed calls per framework before timing.
        measure: ``"time"`` or ``"memory"`` (see the module docstring).
        setup: for ``"memory"``: ``setup(framework_name, torch_or_None)``, run before the baseline.
    """

    key: str
    title: str
    unit: str
    ops: int
    scale: float
    builders: dict[str, Callable[[Any], Case]]
    targets: tuple[Target, ...] = ()
    checked: str = "result"
    rtol: float = 1e-4
    atol: float = 1e-6
    sample_seconds: float = 0.02
    repeat: int = 15
    warmup: int = 10
    measure: str = "time"
    setup: Callable[[str, Any], None] | None = None


def load(keys=None):
    """The workloads in ``MODULES`` order, restricted to ``keys`` (e.g. ``{"W1", "NG"}``) when given.

    Raises ValueError naming the known keys for an unknown one.
    """
    workloads = [importlib.import_module(f"{__name__}.{name}").WORKLOAD for name in MODULES]
    if keys is None:
        return workloads
    known = {w.key for w in workloads}
    unknown = sorted(set(keys) - known)
    if unknown:
        raise ValueError(f"unknown workload(s) {', '.join(unknown)}; known: {', '.join(sorted(known))}")
    return [w for w in workloads if w.key in keys]
