"""Section 4: wall time of a default ``python -m conformance`` run, on the reference and on PyTorch.

And the time a per-shape compiler waits under ``"shapes": "few"`` (``few_shapes``): the stand-in
of benchmarks/shape_compiler.py compiling 20 s on every new shape, for ``--quick`` and a
default run. That time is computed, not slept through: the run's COUNT of compiles (the
stand-in logs each) times 20 s, plus the wall time of the same run without the sleep (22
sleeps of 20 s would hold the benchmark 7 minutes). The count is checked once for real:
``--quick`` with a short sleep must take the run's time plus the sleeps.

Each run is a subprocess, timed from outside as a user would see it (interpreter start and
imports included), with the machine's default threading (no pinning: this is the run a
project puts in its CI). The number of cases (Hypothesis examples) comes from the run's JSON
report when the CLI offers one (``--report FILE``), and otherwise from its closing line
"... (N cases in S s)".
"""

from __future__ import annotations

import importlib.util
import json
import os
import re
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from .shape_compiler import LOG_VARIABLE, SLEEP_VARIABLE, compiles
from .threads import torch_available

ROOT = Path(__file__).resolve().parent.parent
IMPLEMENTATIONS = {
    "reference": "reference",
    "PyTorch adapter": "conformance.adapters.torch_adapter",
}
CLOSING = re.compile(r"\((\d+) cases? in ([0-9.]+) s\)")
# The compile time of the tinygrad runs (10 to 25 s per new shape), for the computed figures.
COMPILE_S = 20.0
# The short sleep of the real run that checks the computed figure.
CHECK_SLEEP_S = 0.5


def _env() -> dict[str, str]:
    from . import PINNED_ENV  # the pins this package set for itself: default threading here

    env = {k: v for k, v in os.environ.items() if k not in PINNED_ENV}
    env["PYTHONPATH"] = str(ROOT) + (os.pathsep + env["PYTHONPATH"] if env.get("PYTHONPATH") else "")
    return env


def _report_option() -> str | None:
    """The CLI's option that writes the report as JSON, if it has one."""
    done = subprocess.run(
        [sys.executable, "-m", "conformance", "--help"],
        capture_output=True,
        text=True,
        cwd=ROOT,
        env=_env(),
        timeout=120,
        check=False,
    )
    return next((opt for opt in ("--report", "--json") if opt in done.stdout), None)


def run_one(
    impl: str,
    timeout_s: float,
    report_option: str | None,
    extra: list[str] | None = None,
    variables: dict[str, str] | None = None,
) -> dict[str, Any]:
    """One ``python -m conformance --impl IMPL [EXTRA]`` run, timed from outside; ``variables`` join its environment."""
    command = [sys.executable, "-m", "conformance", "--impl", impl, *(extra or [])]
    with tempfile.TemporaryDirectory() as scratch:
        report_path = Path(scratch) / "report.json"
        if report_option:
            command += [report_option, str(report_path)]
        env = _env()
        env.update(variables or {})
        env["BACKPROP_CONFORMANCE_FAILURES"] = str(Path(scratch) / "failures")  # leave no files behind
        start = time.perf_counter()
        try:
            done = subprocess.run(
                command,
                capture_output=True,
                text=True,
                cwd=scratch,
                env=env,
                timeout=timeout_s,
                check=False,
            )
        except subprocess.TimeoutExpired:
            return {
                "command": _shown(command, report_option),
                "error": f"did not finish within {timeout_s:.0f} s",
            }
        wall = time.perf_counter() - start
        examples: int | None = None
        reported: float | None = None
        if report_option and report_path.exists():
            data = json.loads(report_path.read_text(encoding="utf-8"))
            examples = int(data.get("examples", 0))
            reported = float(data.get("duration_seconds", 0.0))
        else:
            found = CLOSING.findall(done.stdout + done.stderr)
            if found:
                examples, reported = int(found[-1][0]), float(found[-1][1])
    result: dict[str, Any] = {
        "command": _shown(command, report_option),
        "exit_code": done.returncode,
        "wall_s": wall,
        "examples": examples,
        "reported_duration_s": reported,
    }
    if done.returncode != 0:
        result["output_tail"] = (done.stdout + done.stderr)[-600:]
    return result


def _shown(command: list[str], report_option: str | None) -> str:
    """The command as a user types it, without the scratch report file."""
    shown = " ".join(["python", *command[1:]])
    return shown.split(f" {report_option} ")[0] if report_option else shown


def compile_run(impl: str, quick: bool, sleep_s: float, timeout_s: float, report_option: str | None) -> dict[str, Any]:
    """A run of the shape-compiler stand-in ``impl``, sleeping ``sleep_s`` per new shape: its compiles counted."""
    with tempfile.TemporaryDirectory() as scratch:
        log = str(Path(scratch) / "compiles.log")
        variables = {LOG_VARIABLE: log, SLEEP_VARIABLE: str(sleep_s)}
        result = run_one(impl, timeout_s, report_option, ["--quick"] if quick else [], variables)
        result["compiles"] = len(compiles(log)) if Path(log).exists() else 0
    result["sleep_s"] = sleep_s
    return result


def few_shapes(timeout_s: float = 600.0, report_option: str | None = None) -> dict[str, Any]:
    """--quick and default runs of a 20 s-per-shape compiler under "shapes": "few", computed from compile counts.

    ``computed_s`` = compiles x COMPILE_S + the wall time without sleeping. The check: --quick
    again with CHECK_SLEEP_S per compile, whose wall time the same formula predicts; and the
    control, --quick without the capability, whose compile count says what it would cost.
    """
    out: dict[str, Any] = {"compile_s": COMPILE_S}
    for label, quick in (("quick", True), ("default", False)):
        run_ = compile_run("benchmarks.shape_compiler:few", quick, 0.0, timeout_s, report_option)
        if "wall_s" in run_:
            run_["computed_s"] = run_["compiles"] * COMPILE_S + run_["wall_s"]
        out[label] = run_
    check = compile_run("benchmarks.shape_compiler:few", True, CHECK_SLEEP_S, timeout_s, report_option)
    if "wall_s" in check and "wall_s" in out["quick"]:
        check["predicted_s"] = check["compiles"] * CHECK_SLEEP_S + out["quick"]["wall_s"]
    out["check"] = check
    control = compile_run("benchmarks.shape_compiler:every", True, 0.0, timeout_s, report_option)
    if "wall_s" in control:
        control["computed_s"] = control["compiles"] * COMPILE_S + control["wall_s"]
    out["without the capability (quick)"] = control
    return out


def run(timeout_s: float = 600.0) -> dict[str, Any]:
    if importlib.util.find_spec("conformance.__main__") is None:
        return {"skipped": "python -m conformance does not exist yet (issue 5)"}
    report_option = _report_option()
    results: dict[str, Any] = {}
    notes: list[str] = []
    for label, impl in IMPLEMENTATIONS.items():
        if impl.startswith("conformance.adapters.torch") and not torch_available():
            notes.append(f"{label}: torch is not installed, not run")
            continue
        results[label] = run_one(impl, timeout_s, report_option)
    return {"runs": results, "notes": notes, "few_shapes": few_shapes(timeout_s, report_option)}
