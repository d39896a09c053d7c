"""``python -m conformance``: exit statuses, the JSON report, saved cases and their replay command."""

from __future__ import annotations

import json
import shlex
import subprocess
from pathlib import Path

import pytest

from ._conformance_helpers import ROOT, run_python

pytestmark = pytest.mark.suite  # end to end (tests/test_tiers.py)

FAST = ["--quick", "--dtypes", "float64", "--regimes", "typical", "-q"]


def _conformance(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return run_python(["-m", "conformance", *args], ROOT, env)


def test_the_reference_conforms_and_the_report_has_the_versions(tmp_path: Path) -> None:
    report_file = tmp_path / "report.json"
    run = _conformance(
        "--impl",
        "reference",
        "--quick",
        "-q",
        "--report",
        str(report_file),
        "--failures-dir",
        str(tmp_path / "failures"),
    )
    assert run.returncode == 0, run.stdout + run.stderr
    assert "implementation: reference" in run.stdout and "CONFORMS" in run.stdout
    assert "equation2" in run.stdout and "l=2" in run.stdout  # the check x layer table
    report = json.loads(report_file.read_text())
    assert report["ok"] is True
    assert set(report["versions"]) == {"suite", "contract", "reference"}
    assert all(report["versions"].values())
    assert {v["status"] for v in report["verdicts"]} == {"passed"}
    assert not (tmp_path / "failures").exists()


def test_a_broken_implementation_exits_1_with_a_replay_command(tmp_path: Path) -> None:
    failures = tmp_path / "failures"
    run = _conformance("--impl", "tests.conformance_planted:seed_typo", *FAST, "--failures-dir", str(failures))
    assert run.returncode == 1, run.stdout + run.stderr
    assert "FAILED: equation2 layer 2 (float64): deltas[0]" in run.stdout
    assert "DOES NOT CONFORM" in run.stdout
    replays = [line.split("replay: ", 1)[1] for line in run.stdout.splitlines() if "replay: " in line]
    assert replays and all(r.startswith("python -m conformance replay ") for r in replays)
    command = shlex.split(replays[0])
    assert command[:3] == ["python", "-m", "conformance"]
    again = _conformance(*command[3:])
    assert again.returncode == 1 and "FAILED: equation2" in again.stdout
    case_file = command[4]
    assert _conformance("replay", case_file, "--impl", "reference").returncode == 0


def test_usage_errors_and_unloadable_implementations_exit_2() -> None:
    for args, message in [
        (["--impl", "no_such_module:backprop"], "cannot load the implementation: cannot import 'no_such_module'"),
        ([], "no implementation"),
        (["--impl", "reference", "--impl-cmd", "true"], "not both"),
        (["--impl-cmd", "exit 3"], "did not answer the capabilities request"),
        (["--impl", "reference", "--examples", "0"], "argument --examples: expected a whole number of at least 1"),
        (["--impl", "reference", "--regimes", "tiny"], "unknown regime"),
        (["replay", "/no/such/case.json", "--impl", "reference"], "cannot read case file"),
        (["verify", "/no/such/directory"], "is not a directory"),
    ]:
        run = _conformance(*args)
        assert run.returncode == 2, (args, run.stdout, run.stderr)
        assert message in run.stderr, (args, run.stderr)


def test_backprop_impl_selects_the_implementation(tmp_path: Path) -> None:
    env = {"BACKPROP_IMPL": "tests.conformance_planted:weights_off", "BACKPROP_CONFORMANCE_FAILURES": str(tmp_path)}
    run = _conformance(*FAST, env=env)
    assert run.returncode == 1 and "FAILED: equation4" in run.stdout
    assert list(tmp_path.glob("equation4-layer2-float64-*.json"))  # $BACKPROP_CONFORMANCE_FAILURES
