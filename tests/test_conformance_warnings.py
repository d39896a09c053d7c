"""A wrong implementation is never exit 3, also when warnings are errors (issue 18, item 6).

Huge finite answers (tests/broken_impls/huge.py) made the suite's own arithmetic overflow:
under ``PYTHONWARNINGS=error``, ``pytest -W error`` or ``filterwarnings = ["error"]`` the
RuntimeWarning became an exception, and a wrong implementation was reported as "internal
error in the conformance suite ... please report it". Each way of turning warnings into
errors runs here, through the front end it belongs to, with each huge implementation
(which must fail, exit 1) and the correct control (which must conform, exit 0).
"""

from __future__ import annotations

import subprocess
import warnings
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from conformance import check_implementation

from ._conformance_helpers import run_python
from .broken_impls.huge import HUGE_BUGS, Correct

pytestmark = pytest.mark.suite  # end to end (tests/test_tiers.py)

MODULE = "tests.broken_impls.huge"
ALL = [Correct, *HUGE_BUGS]
# Two groups of --quick: every huge implementation fails in each, and a group fails alone as
# it fails in the whole run (each group has its own seed).
REGIMES = ["typical", "saturating"]
GROUPS = ["--regimes", ",".join(REGIMES)]


def _verdict(run: subprocess.CompletedProcess[str], name: str) -> None:
    out = run.stdout + run.stderr
    assert "internal error" not in out, out[-3000:]
    assert "Traceback" not in out, out[-3000:]
    if name == "Correct":
        assert run.returncode == 0, out[-3000:]
    else:
        assert run.returncode == 1, out[-3000:]


@pytest.mark.parametrize("impl", ALL, ids=lambda cls: cls.__name__)
def test_the_cli_under_pythonwarnings_error(tmp_path: Path, impl: type) -> None:
    run = run_python(
        ["-m", "conformance", "--impl", f"{MODULE}:{impl.__name__}", "--quick", "--dtypes", "float64", *GROUPS],
        tmp_path,
        {"PYTHONWARNINGS": "error"},
    )
    _verdict(run, impl.__name__)
    if impl is not Correct:
        assert "DOES NOT CONFORM" in run.stdout


@pytest.mark.parametrize("impl", ALL, ids=lambda cls: cls.__name__)
def test_the_plugin_under_pytest_w_error(tmp_path: Path, impl: type) -> None:
    run = run_python(
        [
            "-m",
            "pytest",
            "-p",
            "no:cacheprovider",
            "-p",
            "no:randomly",
            "-W",
            "error",
            "--pyargs",
            "conformance",
            "--impl",
            f"{MODULE}:{impl.__name__}",
            "--conformance-quick",
            "--conformance-failures",
            str(tmp_path / "f"),
            "-k",
            "float64-typical or float64-saturating",
        ],
        tmp_path,
    )
    _verdict(run, impl.__name__)


@pytest.mark.parametrize("impl", ALL, ids=lambda cls: cls.__name__)
def test_parametrize_with_checks_under_filterwarnings_error(tmp_path: Path, impl: type) -> None:
    (tmp_path / "pyproject.toml").write_text('[tool.pytest.ini_options]\nfilterwarnings = ["error"]\n')
    (tmp_path / "test_mine.py").write_text(
        "from conformance import parametrize_with_checks\n"
        f"from {MODULE} import {impl.__name__}\n"
        "\n"
        f"@parametrize_with_checks({impl.__name__}(), quick=True, dtypes=['float64'],\n"
        "                         regimes=['typical', 'saturating'], failures_dir=None)\n"
        "def test_backprop(check):\n"
        "    check()\n"
    )
    run = run_python(["-m", "pytest", "-p", "no:cacheprovider", "-p", "no:randomly", "test_mine.py"], tmp_path)
    _verdict(run, impl.__name__)


@pytest.mark.parametrize("impl", ALL, ids=lambda cls: cls.__name__)
def test_in_process_with_warnings_as_errors(impl: type) -> None:
    """The same from Python, the implementation in the suite's own process and thread."""
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        report = check_implementation(
            impl(), quick=True, dtypes=["float64"], regimes=REGIMES, failures_dir=None, in_process=True, timeout=None
        )
    assert report.ok is (impl is Correct), report.format()


def test_the_implementation_keeps_the_callers_floating_point_settings() -> None:
    """The judge ignores overflow in its own arithmetic; the code under test still sees the caller's."""
    seen: list[Any] = []

    class Spy(Correct):
        def backprop(self, case: object) -> dict[str, object]:
            seen.append(np.geterr())
            return super().backprop(case)

    with np.errstate(over="raise", invalid="warn"):
        check_implementation(
            Spy(),
            max_examples=2,
            regimes=["typical"],
            dtypes=["float64"],
            failures_dir=None,
            in_process=True,
            timeout=None,
        )
    assert seen and all(s["over"] == "raise" and s["invalid"] == "warn" for s in seen)
