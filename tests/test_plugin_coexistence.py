"""Issue 9 item 7: the plugin, loaded by every pytest run once installed, must not break other projects.

A project whose conftest defines its own ``--impl`` failed with "conflicting option
string" before any of its tests ran. Each test runs pytest in a subprocess on such a
project, as its developers would.
"""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from ._conformance_helpers import run_python

pytestmark = pytest.mark.suite  # end to end (tests/test_tiers.py)

CONFTEST = """
def pytest_addoption(parser):
    parser.addoption("--impl", action="store", default="default", help="this project's own --impl")
"""
TEST = """
def test_sees_its_own_option(request):
    assert request.config.getoption("--impl") == "theirs"
"""


@pytest.fixture
def project(tmp_path: Path) -> Path:
    """A project with its own --impl option and a test that reads it."""
    (tmp_path / "conftest.py").write_text(CONFTEST)
    (tmp_path / "test_theirs.py").write_text(TEST)
    return tmp_path


def _pytest(cwd: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return run_python(["-m", "pytest", "-p", "no:cacheprovider", "-p", "no:randomly", *args], cwd)


def test_a_project_with_its_own_impl_option_runs_untouched(project: Path) -> None:
    run = _pytest(project, "test_theirs.py", "--impl", "theirs", "-v")
    assert run.returncode == 0, run.stdout + run.stderr
    assert "test_sees_its_own_option PASSED" in run.stdout
    assert "conflicting option" not in run.stdout + run.stderr
    assert "backprop conformance" not in run.stdout  # no header, no summary: nothing of ours ran


def test_the_namespaced_option_still_selects_the_implementation_there(project: Path) -> None:
    run = _pytest(
        project,
        "test_theirs.py",
        "--pyargs",
        "conformance",
        "--impl",
        "theirs",
        "--conformance-impl",
        "reference",
        "--conformance-examples",
        "3",
        "-k",
        "own_option or float64-small",
        "-v",
    )
    assert run.returncode == 0, run.stdout + run.stderr
    assert "test_sees_its_own_option PASSED" in run.stdout
    assert "test_conformance[float64-small] PASSED" in run.stdout
    assert "backprop conformance: --conformance-impl reference (from the command line)" in run.stdout


def test_without_an_implementation_the_message_names_the_free_spelling(project: Path) -> None:
    run = _pytest(project, "--pyargs", "conformance", "--impl", "theirs", "-k", "float64-small")
    assert run.returncode == 4, run.stdout + run.stderr
    assert "pass --conformance-impl package.module:attr" in run.stderr
    assert "--impl-cmd 'COMMAND'" in run.stderr  # --impl-cmd is still free in this project, so it is ours


def test_the_short_options_work_where_they_are_free(tmp_path: Path) -> None:
    run = _pytest(tmp_path, "--pyargs", "conformance", "--impl", "reference", "--collect-only", "-q")
    assert run.returncode == 0, run.stdout + run.stderr
    help_run = _pytest(tmp_path, "--help")
    assert "--impl=SPEC" in help_run.stdout and "--conformance-impl=SPEC" in help_run.stdout
