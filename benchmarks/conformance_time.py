"""Section 4: wall time of a default ``python -m conformance`` run, on the reference and on PyTorch.

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
import resource
import subprocess
import sys
import tempfile
import time
import zlib
from pathlib import Path
from typing import Any

import numpy as np

import reference

from .threads import torch_available

ROOT = Path(__file__).resolve().parent.parent
IMPLEMENTATIONS = {
    "reference": "reference",
    "PyTorch adapter": "conformance.adapters.torch_adapter",
}
CLOSING = re.compile(r"\((\d+) cases? in ([0-9.]+) s\)")


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


def run_one(impl: str, timeout_s: float, report_option: str | None) -> dict[str, Any]:
    command = [sys.executable, "-m", "conformance", "--impl", impl]
    with tempfile.TemporaryDirectory() as scratch:
        report_path = Path(scratch) / "report.json"
        if report_option:
            command += [report_option, str(report_path)]
        env = _env()
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
    return {"runs": results, "notes": notes, "failing": failing_vs_correct(timeout_s * 3)}


# -- a failing run against a passing one of the same speed (issue 22 item 5) --------------------


class Noise:
    """A failing implementation of the reference's speed: its answers, every number replaced by noise.

    The noise is drawn from the case's own values, so the same case gets the same answer (it fails
    the equations, not determinism, and every check after them has something to judge) while every
    new network gets new garbage: the issue's "answers garbage for every new network".
    """

    def backprop(self, case: Any) -> dict[str, Any]:
        result = reference.backprop(case)
        noise = _noise(case)
        scrambled = {k: [noise(a, case.dtype) for a in result[k]] for k in ("grad_weights", "grad_biases", "deltas")}
        return {**scrambled, "cost": float(noise(np.zeros(()), "float64"))}

    def sgd_step(self, case: Any, eta: float) -> dict[str, Any]:
        step = reference.sgd_step(case, eta)
        noise = _noise(case)
        return {k: [noise(a, case.dtype) for a in v] for k, v in step.items()}


def _noise(case: Any) -> Any:
    """Standard normal numbers shaped as a given array, from a generator seeded by the case's values."""
    seed = zlib.crc32(b"".join(np.ascontiguousarray(a).tobytes() for a in (*case.weights, case.x, case.y)))
    rng = np.random.default_rng(seed)
    return lambda like, dtype: rng.standard_normal(np.shape(like)).astype(dtype)


NOISE = Noise()  # the spec benchmarks.conformance_time:NOISE


def _cpu_run(impl: str, timeout_s: float) -> dict[str, Any]:
    """One default ``python -m conformance`` run: CPU seconds of it and its worker, and the report's counts."""
    with tempfile.TemporaryDirectory() as scratch:
        report_path = Path(scratch) / "report.json"
        command = [sys.executable, "-m", "conformance", "--impl", impl, "--report", str(report_path)]
        env = _env()
        env["BACKPROP_CONFORMANCE_FAILURES"] = str(Path(scratch) / "failures")  # leave no files behind
        before = resource.getrusage(resource.RUSAGE_CHILDREN)
        try:
            done = subprocess.run(
                command, capture_output=True, text=True, cwd=scratch, env=env, timeout=timeout_s, check=False
            )
        except subprocess.TimeoutExpired:
            return {"command": " ".join(["python", *command[1:5]]), "error": f"did not finish within {timeout_s:.0f} s"}
        after = resource.getrusage(resource.RUSAGE_CHILDREN)
        data = json.loads(report_path.read_text(encoding="utf-8")) if report_path.exists() else {}
    groups = data.get("groups", [])
    judged = sum(int(g.get("judged", 0)) for g in groups)
    shrink = sum(int(g.get("shrink_judged", 0)) for g in groups)
    reused = sum(int(g.get("shrink_reused", 0)) for g in groups)
    return {
        "command": " ".join(["python", *command[1:5]]),
        "exit_code": done.returncode,
        "cpu_s": (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime),
        "judged": judged,
        "shrink_judged": shrink,
        "shrink_reused": reused,
        "value_sets_asked": judged + shrink - reused,
        "causes": [(c.get("check"), c.get("layer"), c.get("dtype")) for c in data.get("causes", [])],
    }


def failing_vs_correct(timeout_s: float = 1800.0) -> dict[str, Any]:
    """The default run on ``NOISE`` against the reference's, in CPU time (the run and its worker) and in
    value sets asked of the implementation. CPU, not wall: the machine is shared, and the ratio is
    of work done. Counts come from the JSON report (GroupCount)."""
    correct = _cpu_run("reference", timeout_s)
    failing = _cpu_run("benchmarks.conformance_time:NOISE", timeout_s)
    result: dict[str, Any] = {"correct": correct, "failing": failing}
    if "error" not in correct and "error" not in failing and correct["cpu_s"] > 0:
        result["cpu_ratio"] = failing["cpu_s"] / correct["cpu_s"]
        result["asked_ratio"] = failing["value_sets_asked"] / max(1, correct["value_sets_asked"])
    return result
