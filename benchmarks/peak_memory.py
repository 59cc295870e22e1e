"""Peak memory of one framework's side of a memory workload (W5), measured in this fresh process.

    python benchmarks/peak_memory.py W5 nnkit [--threads 1]

The measure is the operating system's view of the process, the resident set size (RSS), so it sees every
allocator alike: numpy's, Python's and PyTorch's own (``tracemalloc`` sees only what goes through Python's
allocator hooks, not PyTorch's). Steps:

1. import numpy, the workloads and the framework (torch only for the torch side);
2. run the workload's ``setup``: it makes the inputs shared by all frameworks (not counted) and runs a tiny
   version of the work, so lazily loaded code and library initialisation (BLAS, thread pools) are not counted;
3. collect garbage, reset the kernel's peak-RSS mark to the current RSS (writing ``5`` to
   ``/proc/self/clear_refs``, Linux ≥ 4.0) and take the current RSS (``VmRSS``) as the baseline;
4. build the case (model, optimizer) and ``run()`` it once;
5. the result is the peak RSS (``VmHWM``) minus the baseline, in MiB.

Where the peak mark cannot be reset, the baseline is the peak so far (``VmHWM``, or ``ru_maxrss`` without
/proc), which undercounts when imports peaked above the later baseline; the JSON says which method ran.
Prints ``{"peak_mib": float, "result": [...], "method": str}`` on stdout.
"""

import argparse
import gc
import json
import os
import resource
import sys
from pathlib import Path

from run import THREAD_VARS

HERE = Path(__file__).resolve().parent
REPO = HERE.parent


def parse_args(argv=None):
    """The command line (see the module docstring)."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("workload", help="a memory workload's key, e.g. W5")
    parser.add_argument("framework", help="numpy, nnkit or torch")
    parser.add_argument("--threads", type=int, default=1, help="threads for numpy's BLAS/OpenMP and torch")
    return parser.parse_args(argv)


def status_kib(field):
    """A ``/proc/self/status`` field such as ``VmRSS`` in KiB, or None without /proc."""
    try:
        with open("/proc/self/status") as f:
            for line in f:
                if line.startswith(field + ":"):
                    return int(line.split()[1])
    except OSError:
        pass
    return None


def max_rss_kib():
    """Peak RSS so far in KiB: ``VmHWM``, else ``ru_maxrss`` (KiB on Linux, bytes on macOS)."""
    hwm = status_kib("VmHWM")
    if hwm is not None:
        return hwm
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return peak // 1024 if sys.platform == "darwin" else peak


def start_baseline():
    """Reset the peak mark if possible; returns (baseline KiB, method description)."""
    try:
        with open("/proc/self/clear_refs", "w") as f:
            f.write("5")
    except OSError:
        return max_rss_kib(), "peak RSS delta from the peak so far (could not reset the peak mark)"
    return status_kib("VmRSS"), "peak RSS (VmHWM, reset after setup) minus RSS after setup"


def main(argv=None):
    """Measure and print the JSON line."""
    args = parse_args(argv)
    for name in THREAD_VARS:  # before numpy is imported (run.py sets them too)
        os.environ.setdefault(name, str(args.threads))
    sys.path.insert(0, str(REPO))

    from worker import import_torch
    from workloads import load

    (workload,) = load({args.workload.upper()})
    if workload.measure != "memory":
        sys.exit(f"{workload.key} is not a memory workload")
    torch = import_torch(args.threads) if args.framework == "torch" else None
    if args.framework == "torch" and torch is None:
        sys.exit("torch is not importable")
    workload.setup(args.framework, torch)
    gc.collect()
    baseline, method = start_baseline()
    case = workload.builders[args.framework](torch)
    result = case.run()
    peak = max_rss_kib()
    json.dump({"peak_mib": (peak - baseline) / 1024, "result": result.tolist(), "method": method}, sys.stdout)
    sys.stdout.write("\n")


if __name__ == "__main__":
    main()
