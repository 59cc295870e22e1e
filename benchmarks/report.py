"""Summaries of benchmark rounds and their markdown tables.

Per workload and framework, each round gives one median time; across rounds the report shows the min, median
and max of those, and the ratio to the numpy floor as the median of the per-round ratios (each round's
frameworks ran side by side, so a round's ratio is insensitive to the machine's drift between rounds).
"""

import statistics

__all__ = ["summarize", "render"]

FLOOR = "numpy"  # = workloads.FLOOR; this module runs in the parent, which never imports the workloads
LABELS = {"numpy": "numpy floor", "nnkit": "nnkit", "torch": "PyTorch"}


def summarize(rounds):
    """Per workload: its description and, per framework, stats over rounds.

    Args:
        rounds: the JSON objects printed by the workers, one per round.

    Returns:
        A list of dicts ``{"key", "title", "unit", "targets", "frameworks": {name: stats}}`` where stats holds
        ``min``, ``median``, ``max`` (in the workload's unit) and ``ratio``, ``ratio_min``, ``ratio_max``.
    """
    summaries = []
    for i, first in enumerate(rounds[0]["results"]):
        per_round = [r["results"][i]["median"] for r in rounds]
        frameworks = {}
        for name in first["median"]:
            values = [m[name] for m in per_round]
            ratios = [m[name] / m[FLOOR] for m in per_round]
            frameworks[name] = {
                "min": min(values), "median": statistics.median(values), "max": max(values),
                "ratio": statistics.median(ratios), "ratio_min": min(ratios), "ratio_max": max(ratios),
            }
        summaries.append({k: first[k] for k in ("key", "title", "unit", "targets")} | {"frameworks": frameworks})
    return summaries


def _num(x):
    """A compact number: 3 significant digits, no exponent for ordinary magnitudes."""
    if x >= 100:
        return f"{x:.0f}"
    return f"{x:#.3g}" if x >= 0.001 else f"{x:.2e}"


def _ratio(stats):
    if stats["ratio_min"] == stats["ratio_max"]:
        return f"{stats['ratio']:.2f}×"
    return f"{stats['ratio']:.2f}× ({stats['ratio_min']:.2f}–{stats['ratio_max']:.2f})"


def results_table(summaries):
    """The main table: one row per workload and framework."""
    lines = [
        "| Workload | Framework | min | median | max | × numpy floor (median of rounds, range) |",
        "|---|---|---:|---:|---:|---:|",
    ]
    for s in summaries:
        first = True
        for name, st in s["frameworks"].items():
            head = f"**{s['key']}** {s['title']} ({s['unit']})" if first else ""
            first = False
            lines.append(
                f"| {head} | {LABELS.get(name, name)} | {_num(st['min'])} | {_num(st['median'])} | "
                f"{_num(st['max'])} | {_ratio(st)} |"
            )
    return lines


def target_status(target, stats, unit, threads):
    """(goal text, measured text, status) for one target of nnkit."""
    if target["kind"] == "ratio":
        goal, measured = f"≤ {target['limit']:g}× numpy floor", stats["ratio"]
        measured_text = f"{measured:.2f}×"
    else:
        goal, measured = f"≤ {target['limit']:g} {unit}", stats["median"]
        measured_text = f"{_num(measured)} {unit}"
    if target["threads"] is not None:
        goal += f" at {target['threads']} thread{'s' if target['threads'] != 1 else ''}"
        if target["threads"] != threads:
            return goal, measured_text, f"n/a (measured at {threads} threads)"
    return goal, measured_text, "met" if measured <= target["limit"] else "**missed**"


def targets_table(summaries, threads):
    """The goals for nnkit beside the measured medians."""
    lines = ["| Workload | Goal for nnkit | Source | Measured (median) | Status |", "|---|---|---|---:|---|"]
    for s in summaries:
        stats = s["frameworks"].get("nnkit")
        if stats is None:
            continue
        for target in s["targets"]:
            goal, measured, status = target_status(target, stats, s["unit"], threads)
            lines.append(f"| {s['key']} | {goal} | {target['label']} | {measured} | {status} |")
    return lines


def header(meta, machine, threads, rounds):
    """The lines describing the run: settings, versions, machine."""
    torch = meta["torch"] or "not used (not importable, or --no-torch)"
    return [
        f"Threads: {threads} · rounds: {rounds} (each a fresh process) · date: {machine['date']} · "
        f"commit: {machine['commit']}",
        "",
        f"Python {meta['python']} · numpy {meta['numpy']} ({meta['blas']}) · PyTorch {torch} · "
        f"nnkit {meta['nnkit']}",
        "",
        f"Machine: {machine['cpu']} · nproc {machine['nproc']}",
        "",
        "Per round: warm-up, then the median of interleaved timing samples per framework. The table gives the "
        "min/median/max of the round medians and the median (and range) over rounds of each round's ratio to "
        "the numpy floor.",
    ]


def render(rounds, machine, threads):
    """The whole markdown report for one run of ``run.py``."""
    summaries = summarize(rounds)
    lines = [f"## nnkit benchmarks, {threads} thread{'s' if threads != 1 else ''}", ""]
    lines += header(rounds[0]["meta"], machine, threads, len(rounds))
    lines += ["", *results_table(summaries), "", *targets_table(summaries, threads), ""]
    return "\n".join(lines)
