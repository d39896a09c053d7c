"""--first-failure (-x): the same pass/fail verdict as the full run, sooner.

The attack on it: an implementation wrong only in a group the run reaches late (float32 only) must
still be rejected, since the run stops at the first *failure*, not at the first group; a correct one
must conform exactly as without the option; and a stopped run must say so rather than look complete.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from conformance import check_implementation
from conformance.cases.search import FIRST_FAILURE
from conformance.reporting.report import Report

from .broken_impls import SeedTypo
from .broken_impls.base import Backprop

pytestmark = pytest.mark.suite  # end to end (tests/test_tiers.py)

ROOT = Path(__file__).resolve().parent.parent


class WrongInFloat32Only(Backprop):
    """Right in float64; in float32 every weight gradient is doubled (the float64 groups run first)."""

    def backprop(self, case: Any) -> dict[str, Any]:
        out = dict(super().backprop(case))
        if np.dtype(case.dtype) == np.float32:
            out["grad_weights"] = [2 * g for g in out["grad_weights"]]
        return out


def _run(impl: Any, first_failure: bool) -> Report:
    return check_implementation(impl, quick=True, failures_dir=None, in_process=True, first_failure=first_failure)


def test_a_bug_gives_the_full_runs_verdict_and_the_run_says_it_stopped() -> None:
    full, first = _run(SeedTypo(), False), _run(SeedTypo(), True)
    assert not full.ok and not first.ok
    assert first.failed(), "the stopped run must still name a failed verdict"
    assert {(v.check, v.dtype) for v in first.failed()} <= {(v.check, v.dtype) for v in full.failed()}
    assert first.examples < full.examples
    stopped = [g["stopped"] for g in first.groups if g.get("stopped")]
    assert stopped and all(FIRST_FAILURE in s for s in stopped), stopped
    assert "DOES NOT CONFORM" in first.format()


def test_a_bug_that_only_a_late_group_shows_is_still_rejected() -> None:
    report = _run(WrongInFloat32Only(), True)
    assert not report.ok
    assert {v.dtype for v in report.failed()} == {"float32"}


def test_a_correct_implementation_conforms_with_the_same_cases() -> None:
    full, first = _run(Backprop(), False), _run(Backprop(), True)
    assert full.ok and first.ok
    assert first.examples == full.examples
    assert not [g for g in first.groups if g.get("stopped")]


def test_the_command_line_option_and_its_exit_status(tmp_path: Path) -> None:
    def cli(*args: str) -> subprocess.CompletedProcess[str]:
        command = [sys.executable, "-m", "conformance", "--quick", "-q", "--failures-dir", str(tmp_path), *args]
        return subprocess.run(command, cwd=ROOT, capture_output=True, text=True, check=False)

    wrong = cli("--impl", "tests.broken_impls:SeedTypo", "-x")
    assert wrong.returncode == 1, wrong.stdout[-1500:] + wrong.stderr[-1500:]
    assert "first failure" in wrong.stdout
    right = cli("--impl", "reference", "--first-failure")
    assert right.returncode == 0, right.stdout[-1500:] + right.stderr[-1500:]
