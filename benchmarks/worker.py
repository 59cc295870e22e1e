"""One benchmark round in a fresh process: build, check and time every selected workload.

``run.py`` starts this script once per round, with the thread count already in the environment
(``OMP_NUM_THREADS`` and friends must be set before numpy is imported). It prints one JSON object on stdout:
``{"meta": {...}, "results": [...]}``. A failed correctness check exits with status 2 and a message on stderr.
Timed workloads run in this process; memory workloads start ``peak_memory.py`` once per framework.

    python benchmarks/worker.py --threads 1 --round 0 [--only W1,NG] [--no-torch]
"""

import argparse
import gc
import json
import statistics
import subprocess
import sys
from dataclasses import asdict
from pathlib import Path

HERE = Path(__file__).resolve().parent
REPO = HERE.parent
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
    return {name: builder(torch) for name, builder in workload.builders.items() if name in frameworks(torch)}


def frameworks(torch):
    """The framework names measured in this round: the floor, nnkit, and torch when it is imported."""
    from workloads import FRAMEWORKS

    return [name for name in FRAMEWORKS if name != "torch" or torch is not None]


def freeze_heap():
    """Move every object alive now out of the garbage collector's view (``gc.freeze``).

    Full collections triggered while a graph is built traverse every tracked object; importing torch alone adds
    ~150k of them and made nnkit's W4 40% slower. Freezing after imports and setup makes each framework's
    timing independent of what else the process imported.
    """
    gc.collect()
    gc.freeze()


def compare_with_floor(workload, results, floor):
    """Max abs difference of each framework's result from the floor's; exits with a clear message on a mismatch.

    Args:
        results: framework name -> result (numpy array, or an nnkit/torch tensor).

    Returns:
        framework name -> max abs difference (the floor's is 0).
    """
    import numpy as np
    from workloads.chain import as_numpy

    expected = as_numpy(results[floor])
    diffs = {}
    for name, result in results.items():
        got = as_numpy(result)
        same_shape = got.shape == expected.shape
        diff = float(np.max(np.abs(got.astype(np.float64) - expected))) if same_shape else float("inf")
        diffs[name] = diff
        if not same_shape or not np.allclose(got, expected, rtol=workload.rtol, atol=workload.atol):
            sys.stderr.write(
                f"correctness check failed for {workload.key} ({workload.title}): {name}'s {workload.checked} "
                f"differ from the numpy floor's (shapes {got.shape} vs {expected.shape}, max abs difference "
                f"{diff:.3g}, rtol={workload.rtol}, atol={workload.atol}).\n  {name}:  {got}\n  numpy: {expected}\n"
                "The measurements would compare different math; fix the workload or the framework first.\n"
            )
            sys.exit(EXIT_FAILED)
    return diffs


def check_against_floor(workload, cases, floor):
    """Run each case's check (or ``run``) once and compare it with the floor's; returns the max differences."""
    results = {name: (case.check or case.run)() for name, case in cases.items()}
    return compare_with_floor(workload, results, floor)


def result_entry(workload, values, max_diff, **extra):
    """One workload's result in this round's JSON: its description, per-framework values and check."""
    return {
        "key": workload.key,
        "title": workload.title,
        "unit": workload.unit,
        "targets": [asdict(t) for t in workload.targets],
        "median": values,
        "check": {"what": workload.checked, "rtol": workload.rtol, "atol": workload.atol, "max_diff": max_diff},
        **extra,
    }


def time_workload(workload, cases, round_index):
    """Warm up, then time the cases interleaved; returns this round's values (medians) for the workload."""
    from timing import interleaved_samples, warm_up

    runs = {name: case.run for name, case in cases.items()}
    numbers = {name: warm_up(run, workload.warmup, workload.sample_seconds) for name, run in runs.items()}
    samples = interleaved_samples(runs, numbers, workload.repeat, offset=round_index)
    medians = {name: statistics.median(s) * workload.scale for name, s in samples.items()}
    return medians, {"calls_per_sample": numbers, "samples": workload.repeat}


def measure_memory(workload, names, round_index, threads):
    """Peak memory (MiB), check result and method of each framework, each by ``peak_memory.py`` in a fresh process.

    The frameworks take turns in an order rotated by the round number. Exits with the child's message if one
    fails.
    """
    import numpy as np

    k = round_index % len(names)
    peaks, results, methods = {}, {}, set()
    for name in names[k:] + names[:k]:
        cmd = [sys.executable, str(HERE / "peak_memory.py"), workload.key, name, "--threads", str(threads)]
        proc = subprocess.run(cmd, capture_output=True, text=True)
        if proc.returncode != 0:
            sys.stderr.write(f"peak memory of {name} on {workload.key} failed:\n{proc.stderr}")
            sys.exit(EXIT_FAILED)
        out = json.loads(proc.stdout.strip().splitlines()[-1])
        peaks[name], results[name] = out["peak_mib"], np.array(out["result"])
        methods.add(out["method"])
    return {name: peaks[name] for name in names}, {name: results[name] for name in names}, "; ".join(sorted(methods))


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
    all_cases = [build_cases(w, torch) if w.measure == "time" else None for w in workloads]
    freeze_heap()
    results = []
    for workload, cases in zip(workloads, all_cases):
        if cases is None:
            peaks, outputs, method = measure_memory(workload, frameworks(torch), args.round, args.threads)
            max_diff = compare_with_floor(workload, outputs, FLOOR)
            results.append(result_entry(workload, peaks, max_diff, method=method))
        else:
            max_diff = check_against_floor(workload, cases, FLOOR)
            medians, extra = time_workload(workload, cases, args.round)
            results.append(result_entry(workload, medians, max_diff, **extra))
    json.dump({"meta": meta(np, torch), "results": results}, sys.stdout)
    sys.stdout.write("\n")


if __name__ == "__main__":
    main()
