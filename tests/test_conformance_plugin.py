"""The pytest side: ``pytest --pyargs conformance --impl ...``, xdist workers, and parametrize_with_checks.

Each test runs pytest in a subprocess from an empty directory, as a user would after
installing the package; PYTHONPATH stands in for the installation.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from ._conformance_helpers import run_python

SCRIPT = Path(__file__).with_name("conformance_subprocess_impl.py")


def _pytest(tmp_path: Path, *args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return run_python(["-m", "pytest", "-p", "no:cacheprovider", "-p", "no:randomly", *args], tmp_path, env)


def test_pyargs_runs_the_suite_with_a_header_and_a_summary_table(tmp_path: Path) -> None:
    run = _pytest(tmp_path, "--pyargs", "conformance", "--impl", "reference", "--conformance-quick")
    assert run.returncode == 0, run.stdout + run.stderr
    assert "backprop conformance: --impl reference (from the command line); examples per group 10" in run.stdout
    assert "10 passed" in run.stdout
    assert "backprop conformance summary" in run.stdout and "CONFORMS" in run.stdout
    assert "float32:" in run.stdout and "equation4" in run.stdout


def test_a_failing_group_names_check_layer_and_replay(tmp_path: Path) -> None:
    run = _pytest(
        tmp_path,
        "--pyargs",
        "conformance",
        "--impl",
        "tests.conformance_planted:seed_typo",
        "--conformance-quick",
        "--conformance-failures",
        str(tmp_path / "f"),
        "-k",
        "float64-typical",
    )
    assert run.returncode == 1, run.stdout + run.stderr
    assert "FAILED: equation2 layer 2 (float64)" in run.stdout
    assert "replay: python -m conformance replay " in run.stdout
    assert "DOES NOT CONFORM" in run.stdout
    assert list((tmp_path / "f").glob("equation2-layer2-float64-*.json"))


def test_without_an_implementation_pytest_reports_a_usage_error(tmp_path: Path) -> None:
    run = _pytest(tmp_path, "--pyargs", "conformance")
    assert run.returncode == 4
    assert "the conformance tests need an implementation" in run.stderr


def test_the_environment_variable_and_xdist_workers_with_their_own_process(tmp_path: Path) -> None:
    command = f"{sys.executable} {SCRIPT} ok"
    run = _pytest(
        tmp_path,
        "--pyargs",
        "conformance",
        "--impl-cmd",
        command,
        "--conformance-quick",
        "-k",
        "typical or zeros",
        "-n",
        "2",
        "-p",
        "no:benchmark",
    )
    assert run.returncode == 0, run.stdout + run.stderr
    assert "4 passed" in run.stdout and "CONFORMS" in run.stdout
    env_run = _pytest(
        tmp_path,
        "--pyargs",
        "conformance",
        "--conformance-quick",
        "-k",
        "float64-small",
        env={"BACKPROP_IMPL": "tests.conformance_planted:weights_off"},
    )
    assert env_run.returncode == 1 and "(from the BACKPROP_IMPL)" in env_run.stdout
    assert "FAILED: equation4" in env_run.stdout


def test_parametrize_with_checks_in_a_third_party_suite(tmp_path: Path) -> None:
    (tmp_path / "test_mine.py").write_text(
        "from conformance import parametrize_with_checks\n"
        "from tests.conformance_planted import WrongStep\n"
        "\n"
        "@parametrize_with_checks(WrongStep(), xfail={'sgd_step': 'eta/m twice, known'}, quick=True,\n"
        "                         regimes=['typical'], failures_dir=None)\n"
        "def test_backprop(check):\n"
        "    check()\n"
    )
    run = _pytest(tmp_path, "test_mine.py", "-v")
    assert run.returncode == 0, run.stdout + run.stderr
    assert "test_backprop[equation2] PASSED" in run.stdout
    assert "test_backprop[sgd_step] XFAIL" in run.stdout
    assert "test_backprop[no_mutation] PASSED" in run.stdout
    assert "11 passed, 1 xfailed" in run.stdout
