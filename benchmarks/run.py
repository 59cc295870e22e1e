"""Benchmark nnkit against a hand-written numpy floor of the same math (and PyTorch when it imports).

    python benchmarks/run.py [--only W1,NG] [--threads 1] [--rounds 5] [--markdown-out FILE] [--no-torch]

Each round runs in a fresh worker process (``worker.py``) whose environment fixes the thread count before
numpy is imported; inside a round the frameworks take turns sample by sample. After warm-up, each framework's
time in a round is the median of its samples. The table gives the min/median/max of those over the rounds,
and the ratio to the numpy floor as the median of the per-round ratios. Workloads live in
``benchmarks/workloads/`` (one module each); every one checks that nnkit (and torch) compute the same result
as the floor before it is timed.
"""

import argparse
import datetime
import json
import os
import platform
import subprocess
import sys
from pathlib import Path

import report

HERE = Path(__file__).resolve().parent
WORKER = HERE / "worker.py"
THREAD_VARS = ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS", "VECLIB_MAXIMUM_THREADS",
               "NUMEXPR_NUM_THREADS")


def parse_args(argv=None):
    """The runner's command line (see the module docstring)."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--only", default="", help="comma-separated workload keys, e.g. W1,NG (default: all)")
    parser.add_argument("--threads", type=int, default=1, help="threads for numpy's BLAS/OpenMP and torch")
    parser.add_argument("--rounds", type=int, default=5, help="rounds, each in a fresh process")
    parser.add_argument("--markdown-out", type=Path, help="also write the markdown report to this file")
    parser.add_argument("--no-torch", action="store_true", help="leave PyTorch out even if installed")
    args = parser.parse_args(argv)
    if args.threads < 1 or args.rounds < 1:
        parser.error("--threads and --rounds must be at least 1")
    return args


def worker_env(threads):
    """This process's environment with every numerical library limited to ``threads`` threads."""
    env = dict(os.environ)
    env.update({name: str(threads) for name in THREAD_VARS})
    return env


def run_round(index, args):
    """Run one round in a fresh worker process and return its parsed JSON; exit with its message on failure."""
    cmd = [sys.executable, str(WORKER), "--threads", str(args.threads), "--round", str(index)]
    if args.only:
        cmd += ["--only", args.only]
    if args.no_torch:
        cmd.append("--no-torch")
    proc = subprocess.run(cmd, env=worker_env(args.threads), capture_output=True, text=True)
    if proc.returncode != 0:
        how = f"signal {-proc.returncode}" if proc.returncode < 0 else f"status {proc.returncode}"
        sys.stderr.write(f"benchmark round {index + 1} failed ({how}):\n{proc.stderr}")
        sys.exit(1)
    return json.loads(proc.stdout.strip().splitlines()[-1])


def cpu_model():
    """The CPU's model name from /proc/cpuinfo (or platform's guess elsewhere)."""
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown CPU"


def _git(*args):
    """stdout of ``git args`` run in the repository, or None if git fails."""
    try:
        out = subprocess.run(["git", *args], cwd=HERE, capture_output=True, text=True)
    except OSError:
        return None
    return out.stdout.strip() if out.returncode == 0 else None


def git_commit():
    """``git rev-parse --short HEAD``, marked when nnkit/ has uncommitted changes; or a note that there is none."""
    commit = _git("rev-parse", "--short", "HEAD")
    if not commit:
        return "uncommitted working tree"
    if _git("status", "--porcelain", "--", str(HERE.parent / "nnkit")):
        commit += " + uncommitted changes in nnkit/"
    return commit


def machine_info():
    """Where and when the run happened: CPU, processor count, date, commit."""
    return {
        "cpu": cpu_model(),
        "nproc": len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count(),
        "date": datetime.datetime.now().astimezone().strftime("%Y-%m-%d %H:%M %Z"),
        "commit": git_commit(),
    }


def main(argv=None):
    """Run the rounds, print the markdown report, and write it to ``--markdown-out`` if given."""
    args = parse_args(argv)
    rounds = []
    for i in range(args.rounds):
        sys.stderr.write(f"round {i + 1}/{args.rounds}...\n")
        rounds.append(run_round(i, args))
    markdown = report.render(rounds, machine_info(), args.threads)
    print(markdown)
    if args.markdown_out is not None:
        args.markdown_out.write_text(markdown + "\n", encoding="utf-8")


if __name__ == "__main__":
    main()
