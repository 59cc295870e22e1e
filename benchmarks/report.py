"""Summaries of benchmark rounds and their markdown tables.

Per workload and framework, each round gives one value (a median time, or a peak memory); across rounds the
report shows the min, median and max of those, and the ratios to the numpy floor and to PyTorch as the
medians of the per-round ratios (each round's frameworks ran side by side, so a round's ratio is insensitive
to the machine's drift between rounds). It also lists what each round's correctness check compared and the
largest difference from the floor it saw.
"""

import statistics

__all__ = ["summarize", "render"]

FLOOR = "numpy"  # = workloads.FLOOR; this module runs in the parent, which never imports the workloads
TORCH = "torch"
LABELS = {"numpy": "numpy floor", "nnkit": "nnkit", "torch": "PyTorch"}


def summarize(rounds):
    """Per workload: its description, per framework stats over rounds, and its correctness check.

    Args:
        rounds: the JSON objects printed by the workers, one per round.

    Returns:
        A list of dicts ``{"key", "title", "unit", "targets", "check", "frameworks": {name: stats}}`` where stats
        holds ``min``, ``median``, ``max`` (in the workload's unit), ``ratio``, ``ratio_min``, ``ratio_max`` (to
        the floor) and ``vs_torch`` (median ratio to PyTorch, None without it); ``check`` holds ``what``,
        ``rtol``, ``atol`` and ``max_diff`` (per framework, the largest over rounds).
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
                "vs_torch": statistics.median([m[name] / m[TORCH] for m in per_round])
                if TORCH in first["median"] else None,
            }
        check = dict(first["check"])
        check["max_diff"] = {name: max(r["results"][i]["check"]["max_diff"][name] for r in rounds)
                             for name in first["check"]["max_diff"]}
        summaries.append({k: first[k] for k in ("key", "title", "unit", "targets")}
                         | {"frameworks": frameworks, "check": check, "method": first.get("method")})
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
    """The main table: one row per workload and framework (the PyTorch column only when it was measured)."""
    with_torch = any(st["vs_torch"] is not None for s in summaries for st in s["frameworks"].values())
    lines = [
        "| Workload | Framework | min | median | max | × numpy floor (median of rounds, range) |"
        + (" × PyTorch |" if with_torch else ""),
        "|---|---|---:|---:|---:|---:|" + ("---:|" if with_torch else ""),
    ]
    for s in summaries:
        first = True
        for name, st in s["frameworks"].items():
            head = f"**{s['key']}** {s['title']} ({s['unit']})" if first else ""
            first = False
            lines.append(
                f"| {head} | {LABELS.get(name, name)} | {_num(st['min'])} | {_num(st['median'])} | "
                f"{_num(st['max'])} | {_ratio(st)} |" + (f" {st['vs_torch']:.2f}× |" if with_torch else "")
            )
    return lines


def target_status(target, stats, unit, threads):
    """(goal text, measured text, status) for one target of nnkit."""
    kind, limit = target["kind"], target["limit"]
    if kind == "ratio":
        goal, measured = f"≤ {limit:g}× numpy floor", stats["ratio"]
    elif kind == "torch":
        goal = "≤ PyTorch" if limit == 1 else f"≤ {limit:g}× PyTorch"
        measured = stats["vs_torch"]
    else:
        goal, measured = f"≤ {limit:g} {unit}", stats["median"]
    if target["threads"] is not None:
        goal += f" at {target['threads']} thread{'s' if target['threads'] != 1 else ''}"
    if measured is None:
        return goal, "—", "n/a (PyTorch not measured)"
    measured_text = f"{_num(measured)} {unit}" if kind == "value" else f"{measured:.2f}×"
    if target["threads"] is not None and target["threads"] != threads:
        return goal, measured_text, f"n/a (measured at {threads} thread{'s' if threads != 1 else ''})"
    return goal, measured_text, "met" if measured <= limit else "**missed**"


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


def checks_table(summaries):
    """What each correctness check compared with the floor, its tolerance, and the largest difference seen."""
    lines = [
        "| Workload | Compared with the numpy floor | Tolerance | Max abs difference (over rounds) |",
        "|---|---|---|---|",
    ]
    for s in summaries:
        c = s["check"]
        diffs = ", ".join(f"{LABELS.get(n, n)} {d:.2g}" for n, d in c["max_diff"].items() if n != FLOOR)
        lines.append(f"| {s['key']} | {c['what']} | rtol {c['rtol']:g}, atol {c['atol']:g} | {diffs or '—'} |")
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
        "Per round: warm-up, then the median of interleaved timing samples per framework (W5: the peak memory "
        "of each framework in its own fresh process). The table gives the min/median/max of the round values "
        "and the median (and range) over rounds of each round's ratio to the numpy floor and to PyTorch.",
    ]


def render(rounds, machine, threads):
    """The whole markdown report for one run of ``run.py``."""
    summaries = summarize(rounds)
    lines = [f"## nnkit benchmarks, {threads} thread{'s' if threads != 1 else ''}", ""]
    lines += header(rounds[0]["meta"], machine, threads, len(rounds))
    lines += ["", *results_table(summaries), "", *targets_table(summaries, threads), ""]
    for s in summaries:
        if s.get("method"):
            lines += [f"{s['key']} memory method: {s['method']} (see benchmarks/README.md).", ""]
    lines += ["Correctness checks (each round, before measuring; a difference beyond the tolerance aborts the run):",
              "", *checks_table(summaries), ""]
    return "\n".join(lines)
