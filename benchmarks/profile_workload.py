"""Profile one framework's side of a workload with cProfile and print the hot spots per op.

    python benchmarks/profile_workload.py W1 [--framework nnkit] [--iterations 200] [--top 20] [--threads 1]

Prints two tables, each figure divided by (iterations × the workload's ops): the framework's own functions
by cumulative time (what a call costs including what it calls), and every function by self time (where the
time is actually spent). numpy ufuncs do not appear as rows: their time counts as self time of the Python
function that calls them. cProfile adds a cost per Python call, so absolute figures are inflated (about 2.5×
for nnkit's many small calls); compare rows with each other, not with run.py's timings.
"""

import argparse
import cProfile
import os
import pstats
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
REPO = HERE.parent
THREAD_VARS = ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS")


def parse_args(argv=None):
    """The profiler's command line (see the module docstring)."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("workload", help="workload key, e.g. W1")
    parser.add_argument("--framework", default="nnkit", help="nnkit (default), numpy or torch")
    parser.add_argument("--iterations", type=int, default=200, help="profiled iterations of the workload")
    parser.add_argument("--top", type=int, default=20, help="rows per table")
    parser.add_argument("--threads", type=int, default=1, help="threads for numpy's BLAS/OpenMP")
    return parser.parse_args(argv)


def location(key):
    """'nnkit/ops/elementwise.py:210(mul)' for a pstats key, or the built-in's description."""
    filename, line, name = key
    if filename == "~":
        return name
    path = Path(filename)
    try:
        path = path.relative_to(REPO)
    except ValueError:
        path = Path(path.name)
    return f"{path}:{line}({name})"


def rows(stats, per, keep, sort_index):
    """(location, calls per op, self µs per op, cumulative µs per op) for the kept functions, sorted."""
    out = []
    for key, (_, ncalls, tottime, cumtime, _) in stats.stats.items():
        if keep(key):
            out.append((location(key), ncalls / per, tottime * 1e6 / per, cumtime * 1e6 / per))
    return sorted(out, key=lambda r: r[sort_index], reverse=True)


def table(title, entries, top):
    """A markdown table of ``rows`` output."""
    lines = [
        f"### {title}", "",
        "| function | calls/op | self µs/op | cumulative µs/op | cumulative µs/call |", "|---|---:|---:|---:|---:|",
    ]
    for loc, calls, tot, cum in entries[:top]:
        lines.append(f"| `{loc}` | {calls:.2f} | {tot:.3f} | {cum:.3f} | {cum / calls:.3f} |")
    return "\n".join(lines)


def main(argv=None):
    """Warm up, profile, print the two tables."""
    args = parse_args(argv)
    for name in THREAD_VARS:  # before numpy is imported
        os.environ[name] = str(args.threads)
    sys.path.insert(0, str(REPO))

    from worker import freeze_heap, import_torch
    from workloads import load

    (workload,) = load({args.workload.upper()})
    torch = import_torch(args.threads) if args.framework == "torch" else None
    run = workload.builders[args.framework](torch).run
    freeze_heap()
    for _ in range(max(1, workload.warmup)):
        run()
    profiler = cProfile.Profile()
    profiler.enable()
    for _ in range(args.iterations):
        run()
    profiler.disable()
    stats = pstats.Stats(profiler)
    per = args.iterations * workload.ops
    marker = f"{os.sep}{args.framework}{os.sep}"
    print(f"## cProfile of {workload.key} ({workload.title}), {args.framework}, {args.iterations} iterations × "
          f"{workload.ops} ops; total {stats.total_tt * 1e6 / per:.2f} µs/op under the profiler\n")
    own = rows(stats, per, lambda key: marker in key[0], sort_index=3)
    print(table(f"{args.framework} functions by cumulative time", own, args.top) + "\n")
    every = rows(stats, per, lambda key: True, sort_index=2)
    print(table("all functions by self time", every, args.top))


if __name__ == "__main__":
    main()
