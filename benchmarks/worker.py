"""One benchmark round in a fresh process: build, check and time every selected workload.

``run.py`` starts this script once per round, with the thread count already in the environment
(``OMP_NUM_THREADS`` and friends must be set before numpy is imported). It prints one JSON object on stdout:
``{"meta": {...}, "results": [...]}``. A failed correctness check exits with status 2 and a message on stderr.

    python benchmarks/worker.py --threads 1 --round 0 [--only W1,NG] [--no-torch]
"""

import argparse
import gc
import json
import statistics
import sys
from dataclasses import asdict
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
EXIT_FAILED = 2  # a correctness check failed or the arguments were wrong


def parse_args(argv=None):
    """The worker's command line (see the module docstring)."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--threads", type=int, required=True, help="threads for torch (numpy's come from env)")
    parser.add_argument("--round", type=int, default=0, help="round number (rotates the order of frameworks)")
    parser.add_argument("--only", default="", help="comma-separated workload keys, e.g. W1,NG (default: all)")
    parser.add_argument("--no-torch", action="store_true", help="do not import torch even if installed")
    return parser.parse_args(argv)


def import_torch(threads):
    """torch limited to ``threads`` threads, or None when it is not installed."""
    try:
        import torch
    except ImportError:
        return None
    torch.set_num_threads(threads)
    try:
        torch.set_num_interop_threads(threads)
    except RuntimeError:  # only settable before torch's first parallel work; harmless if already set
        pass
    return torch


def build_cases(workload, torch):
    """framework name -> Case for the frameworks available in this process (the floor first)."""
    cases = {}
    for name, builder in workload.builders.items():
        if name == "torch" and torch is None:
            continue
        cases[name] = builder(torch)
    return cases


def freeze_heap():
    """Move every object alive now out of the garbage collector's view (``gc.freeze``).

    Full collections triggered while a graph is built traverse every tracked object; importing torch alone adds
    ~150k of them and made nnkit's W4 40% slower. Freezing after imports and setup makes each framework's
    timing independent of what else the process imported.
    """
    gc.collect()
    gc.freeze()


def check_against_floor(workload, cases, floor):
    """Run each case once and compare its result with the floor's; exit with a clear message on a mismatch."""
    import numpy as np
    from workloads.chain import as_numpy

    expected = as_numpy(cases[floor].run())
    for name, case in cases.items():
        if name == floor:
            continue
        got = as_numpy(case.run())
        if got.shape != expected.shape or not np.allclose(got, expected, rtol=workload.rtol, atol=workload.atol):
            diff = np.max(np.abs(got.astype(np.float64) - expected)) if got.shape == expected.shape else "n/a"
            sys.stderr.write(
                f"correctness check failed for {workload.key} ({workload.title}): {name}'s result differs from "
                f"the numpy floor's (shapes {got.shape} vs {expected.shape}, max abs difference {diff}, "
                f"rtol={workload.rtol}, atol={workload.atol}).\n  {name}:  {got}\n  numpy: {expected}\n"
                "The timings would compare different math; fix the workload or the framework before timing.\n"
            )
            sys.exit(EXIT_FAILED)


def time_workload(workload, cases, round_index):
    """Warm up, then time the cases interleaved; returns this round's result for the workload."""
    from timing import interleaved_samples, warm_up

    runs = {name: case.run for name, case in cases.items()}
    numbers = {name: warm_up(run, workload.warmup, workload.sample_seconds) for name, run in runs.items()}
    samples = interleaved_samples(runs, numbers, workload.repeat, offset=round_index)
    return {
        "key": workload.key,
        "title": workload.title,
        "unit": workload.unit,
        "targets": [asdict(t) for t in workload.targets],
        "median": {name: statistics.median(s) * workload.scale for name, s in samples.items()},
        "calls_per_sample": numbers,
        "samples": workload.repeat,
    }


def blas_name(np):
    """numpy's BLAS as 'name version' (from ``np.show_config``), or 'unknown'."""
    try:
        blas = np.show_config(mode="dicts")["Build Dependencies"]["blas"]
        return f"{blas.get('name', '?')} {blas.get('version', '')}".strip()
    except Exception:  # older numpy without mode="dicts"
        return "unknown"


def meta(np, torch):
    """Versions of what was measured, for the report header."""
    import nnkit

    return {
        "python": sys.version.split()[0],
        "numpy": np.__version__,
        "blas": blas_name(np),
        "torch": torch.__version__ if torch is not None else None,
        "torch_threads": torch.get_num_threads() if torch is not None else None,
        "nnkit": nnkit.__version__,
    }


def main(argv=None):
    """Run one round and print its JSON on stdout."""
    args = parse_args(argv)
    sys.path.insert(0, str(REPO))  # measure the working tree's nnkit, not an installed copy

    import numpy as np
    from workloads import FLOOR, load

    torch = None if args.no_torch else import_torch(args.threads)
    keys = {k.strip().upper() for k in args.only.split(",") if k.strip()} or None
    try:
        workloads = load(keys)
    except ValueError as e:
        sys.stderr.write(f"{e}\n")
        sys.exit(EXIT_FAILED)
    all_cases = [build_cases(workload, torch) for workload in workloads]
    freeze_heap()
    results = []
    for workload, cases in zip(workloads, all_cases):
        check_against_floor(workload, cases, FLOOR)
        results.append(time_workload(workload, cases, args.round))
    json.dump({"meta": meta(np, torch), "results": results}, sys.stdout)
    sys.stdout.write("\n")


if __name__ == "__main__":
    main()
