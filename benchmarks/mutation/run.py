"""The mutation score: which mutants are wrong (the oracle) and which of those the suite rejects.

For each subject (benchmarks/mutation/subjects/) and each of its mutants (mutate.py): the oracle
classifies the mutant as wrong or equivalent without asking the suite; then the suite judges it,
``python -m conformance --impl mutant --quick`` and the default run, each in a fresh process in a
folder of its own, exactly as a user runs it. The figures are the share of wrong mutants the suite
rejects and the share of equivalent ones it passes. Every number here is a count; the seconds are
recorded as information only.
"""

from __future__ import annotations

import importlib.util
import os
import subprocess
import sys
import tempfile
import time
import types
import warnings
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import numpy as np

from . import oracle
from .mutate import Mutant, mutants

SUBJECTS_DIR = Path(__file__).resolve().parent / "subjects"
# The checkout whose suite is measured: its packages go first on the path of every suite run.
ROOT = Path(__file__).resolve().parents[2]
SUBJECTS = ("textbook_loop", "batched", "node_twin")
ORACLE_CASES = 400
RUNS = ("quick", "default")
# Suite options that change a run's time but not its pass/fail verdict: the search draws the same cases
# in the same order and stops at the first failing one (conformance.frontends.runner.search_settings).
FAST_ARGS: tuple[str, ...] = ("--first-failure",)
# A wall-clock cap on one suite run: a guard against a mutant that never returns, never a verdict.
RUN_CAP_SECONDS = 1800


@dataclass
class MutantResult:
    name: str
    subject: str
    operator: str
    line: int
    description: str
    oracle: str  # "wrong" or "equivalent"
    why_wrong: str
    suite: dict[str, str]  # run -> "rejected" | "passed" | "error: ..."
    seconds: dict[str, float]


def subject_source(subject: str) -> str:
    return (SUBJECTS_DIR / f"{subject}.py").read_text(encoding="utf-8")


def load_source(source: str, name: str) -> types.ModuleType:
    """A mutant as a module object, from a file of its own (so tracebacks name its lines)."""
    folder = Path(tempfile.mkdtemp(prefix="mutant-"))
    path = folder / f"{name}.py"
    path.write_text(source, encoding="utf-8")
    spec = importlib.util.spec_from_file_location(name, path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def classify(mutant: Mutant, cases: list[oracle.OracleCase], baseline: list[oracle.Errors]) -> tuple[str, str]:
    """The oracle's verdict on one mutant (a mutant that fails to load is wrong)."""
    with warnings.catch_warnings(), np.errstate(all="ignore"):
        warnings.simplefilter("ignore")
        try:
            module = load_source(mutant.source, "mutant")
        except Exception as error:  # noqa: BLE001 - a mutant may break at import
            return "wrong", f"does not load: {type(error).__name__}: {error}"
        return oracle.classify(module, cases, baseline)


def _environment(folder: Path) -> dict[str, str]:
    """The suite of this checkout (not whichever one is installed), and the mutant's folder, on the path."""
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(p for p in (str(folder), str(ROOT), env.get("PYTHONPATH", "")) if p)
    return env


def suite_verdict(source: str, run: str, extra_args: tuple[str, ...] = ()) -> tuple[str, float]:
    """("rejected" | "passed" | "error: ...", seconds) for one suite run on a program's source."""
    with tempfile.TemporaryDirectory(prefix="mutant-run-") as name:  # removed after the run: 623 of them
        folder = Path(name)
        (folder / "mutant.py").write_text(source, encoding="utf-8")
        command = [sys.executable, "-m", "conformance", "--impl", "mutant", "-q", "--failures-dir", str(folder / "f")]
        command += ["--quick"] if run == "quick" else []
        command += list(extra_args)
        started = time.monotonic()
        try:
            done = subprocess.run(
                command,
                cwd=folder,
                env=_environment(folder),
                capture_output=True,
                text=True,
                timeout=RUN_CAP_SECONDS,
                check=False,
            )
        except subprocess.TimeoutExpired:
            return f"error: no answer in {RUN_CAP_SECONDS} s", time.monotonic() - started
    seconds = time.monotonic() - started
    if done.returncode == 0:
        return "passed", seconds
    if done.returncode == 1:
        return "rejected", seconds
    last = (done.stdout + done.stderr).strip().splitlines()[-1:] or [""]
    return f"error: exit {done.returncode}: {last[0][:200]}", seconds


def sample(all_mutants: list[Mutant], per_subject: int | None) -> list[Mutant]:
    """Every mutant, or ``per_subject`` of them spread evenly over the source (the same ones every run)."""
    if per_subject is None or per_subject >= len(all_mutants):
        return all_mutants
    step = len(all_mutants) / per_subject
    return [all_mutants[int(i * step)] for i in range(per_subject)]


def evaluate(
    per_subject: int | None = None,
    runs: tuple[str, ...] = RUNS,
    subjects: tuple[str, ...] = SUBJECTS,
    extra_args: tuple[str, ...] = FAST_ARGS,
    progress: Any = None,
) -> dict[str, Any]:
    """The whole measurement, as a JSON-ready mapping (see report())."""
    started = time.monotonic()
    cases = oracle.oracle_cases(ORACLE_CASES)
    results: list[MutantResult] = []
    totals: dict[str, int] = {}
    for subject in subjects:
        source = subject_source(subject)
        original = load_source(source, f"original_{subject}")
        baseline = oracle.baseline_of(original, cases)
        found = mutants(subject, source)
        totals[subject] = len(found)
        for mutant in sample(found, per_subject):
            verdict, why = classify(mutant, cases, baseline)
            suite: dict[str, str] = {}
            seconds: dict[str, float] = {}
            for run in runs:
                suite[run], seconds[run] = suite_verdict(mutant.source, run, extra_args)
            result = MutantResult(
                mutant.name, subject, mutant.operator, mutant.line, mutant.description, verdict, why, suite, seconds
            )
            results.append(result)
            if progress:
                progress(f"{mutant.name:18} {verdict:10} " + " ".join(f"{r}={suite[r]}" for r in runs))
    return {
        "subjects": list(subjects),
        "mutants_in_subjects": totals,
        "per_subject": per_subject,
        "oracle_cases": ORACLE_CASES,
        "runs": list(runs),
        "extra_args": list(extra_args),
        "seconds": round(time.monotonic() - started, 1),
        "mutants": [asdict(r) for r in results],
    }


def figures(data: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """Per run: wrong mutants rejected, equivalent ones passed, and the survivors by name."""
    out: dict[str, dict[str, Any]] = {}
    for run in data["runs"]:
        wrong = [m for m in data["mutants"] if m["oracle"] == "wrong"]
        equivalent = [m for m in data["mutants"] if m["oracle"] == "equivalent"]
        out[run] = {
            "wrong": len(wrong),
            "wrong_rejected": sum(m["suite"][run] == "rejected" for m in wrong),
            "equivalent": len(equivalent),
            "equivalent_passed": sum(m["suite"][run] == "passed" for m in equivalent),
            "survivors": [m["name"] for m in wrong if m["suite"][run] != "rejected"],
            "false_failures": [m["name"] for m in equivalent if m["suite"][run] != "passed"],
        }
    return out
