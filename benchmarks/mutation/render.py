"""The mutation section of docs/benchmarks.md, from one run's results (run.evaluate's mapping)."""

from __future__ import annotations

from collections import Counter
from typing import Any

from .run import figures
from .survivors import REASONS

DONE_WHEN = {"quick": 0.97, "default": 1.0}  # issue 20: the share of wrong mutants each run must reject


def _cell(text: str) -> str:
    """Text safe inside a Markdown table cell."""
    return text.replace("|", "\\|")


def _share(part: int, whole: int) -> str:
    return f"{part}/{whole} ({100 * part / whole:.1f} %)" if whole else "none"


def section(data: dict[str, Any] | None) -> list[str]:
    if not data or "mutants" not in data:
        reason = (data or {}).get("skipped", "not run")
        return [f"Not run: {reason}."]
    mutants = data["mutants"]
    sampled = (
        f"every one of the {sum(data['mutants_in_subjects'].values())} mutants"
        if data.get("per_subject") is None
        else f"{len(mutants)} of the {sum(data['mutants_in_subjects'].values())} mutants "
        f"({data['per_subject']} per subject, spread evenly over each source)"
    )
    out = [
        "Correct implementations in the styles users write (`benchmarks/mutation/subjects/`: a textbook "
        "per-sample loop, a batched numpy one, and the Python twin of the JSON-lines Node example) are "
        "changed one token at a time (`benchmarks/mutation/mutate.py`). An oracle that never asks the suite "
        f"(`oracle.py`: {data['oracle_cases']} cases drawn with numpy's own generator over the whole contract) "
        "calls each mutant wrong or equivalent; then the suite judges it as a user runs it, in a fresh "
        f"process. This run: {sampled}, in {data['seconds'] / 60:.1f} minutes.",
        "",
        "| run | wrong mutants rejected | target | equivalent mutants passed |",
        "| --- | --- | --- | --- |",
    ]
    per_run = figures(data)
    for run, f in per_run.items():
        target = DONE_WHEN.get(run)
        met = "" if target is None else (" (met)" if f["wrong_rejected"] >= target * f["wrong"] else " (missed)")
        out.append(
            f"| {run} | {_share(f['wrong_rejected'], f['wrong'])} | "
            f"{'' if target is None else f'>= {100 * target:.0f} %'}{met} | "
            f"{_share(f['equivalent_passed'], f['equivalent'])} |"
        )
    out += ["", "By operator (wrong / equivalent):", "", "| operator | wrong | equivalent |", "| --- | --- | --- |"]
    wrong = Counter(m["operator"] for m in mutants if m["oracle"] == "wrong")
    equivalent = Counter(m["operator"] for m in mutants if m["oracle"] == "equivalent")
    for operator in sorted(set(wrong) | set(equivalent)):
        out.append(f"| {operator} | {wrong[operator]} | {equivalent[operator]} |")
    survivors = {name for f in per_run.values() for name in f["survivors"]}
    out += ["", "### Survivors", ""]
    if not survivors:
        out.append("None: every wrong mutant was rejected by every run.")
    else:
        out += ["| mutant | change | runs that passed it | oracle's evidence | reason |", "| --- " * 5 + "|"]
        for m in mutants:
            if m["name"] in survivors:
                passed = ", ".join(r for r in data["runs"] if m["suite"][r] != "rejected")
                reason = REASONS.get(m["name"], "**none: a gap in the suite**")
                out.append(
                    f"| {m['name']} | {_cell(m['description'])} | {passed} | {_cell(m['why_wrong'])} | {reason} |"
                )
    false_failures = {name for f in per_run.values() for name in f["false_failures"]}
    out += ["", "### Equivalent mutants", ""]
    for m in mutants:
        if m["oracle"] == "equivalent":
            flag = " **rejected (a false failure)**" if m["name"] in false_failures else ""
            out.append(f"- {m['name']}: {m['description']}{flag}")
    out += ["", "<details><summary>Every mutant of this run</summary>", ""]
    out += ["| mutant | change | oracle | " + " | ".join(data["runs"]) + " |", "| --- " * (3 + len(data["runs"])) + "|"]
    for m in mutants:
        cells = " | ".join(m["suite"][r] for r in data["runs"])
        out.append(f"| {m['name']} | {_cell(m['description'])} | {m['oracle']} | {cells} |")
    out += ["", "</details>"]
    return out
