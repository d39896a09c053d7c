"""Without an optional extra, each entry point that needs it says so in one line; the others run.

The package depends on numpy and mpmath alone (pyproject.toml); Hypothesis and pytest are the
``conformance`` extra's, SymPy the ``symbolic`` extra's. A missing module is simulated by a
directory put first on PYTHONPATH that holds ``hypothesis.py`` or ``sympy.py`` raising the
ModuleNotFoundError an absent module raises; a control shows each stub really blocks its module.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from ._conformance_helpers import ROOT, run_python

pytestmark = pytest.mark.suite  # every test starts a fresh Python


@pytest.fixture
def without(tmp_path: Path) -> dict[str, str]:
    """An environment in which Hypothesis and SymPy cannot be imported (the project stays importable)."""
    for module in ("hypothesis", "sympy"):
        (tmp_path / f"{module}.py").write_text(
            'raise ModuleNotFoundError(f"No module named {__name__!r}", name=__name__)\n', encoding="utf-8"
        )
    return {"PYTHONPATH": os.pathsep.join([str(tmp_path), str(ROOT)])}


def test_the_stubs_block_their_modules(without: dict[str, str]) -> None:
    for module in ("hypothesis", "sympy"):
        run = run_python(["-c", f"import {module}"], ROOT, without)
        assert run.returncode == 1 and f"No module named '{module}'" in run.stderr, run.stderr


def test_python_m_conformance_without_hypothesis_names_the_extra_in_one_line(without: dict[str, str]) -> None:
    run = run_python(["-m", "conformance", "--impl", "reference"], ROOT, without)
    assert run.returncode == 2, run.stderr
    assert run.stderr.splitlines() == [
        "error: python -m conformance needs Hypothesis, which is not installed: "
        "pip install 'backprop-reference[conformance]'"
    ]
    assert run.stdout == ""


def test_python_m_symbolic_without_sympy_names_the_extra_in_one_line(without: dict[str, str]) -> None:
    run = run_python(
        ["-m", "symbolic", "prove", "--sizes", "2,2", "--activations", "tanh", "--cost", "quadratic"], ROOT, without
    )
    assert run.returncode != 0 and run.stdout == ""
    lines = run.stderr.splitlines()
    assert len(lines) == 1 and "Traceback" not in run.stderr, run.stderr
    assert lines[0].endswith(
        "symbolic needs SymPy, which is not installed: pip install 'backprop-reference[symbolic]')"
    ), lines


def test_importing_symbolic_without_sympy_raises_the_same_words(without: dict[str, str]) -> None:
    run = run_python(["-c", "import symbolic"], ROOT, without)
    assert run.returncode == 1
    assert run.stderr.splitlines()[-1] == (
        "ImportError: symbolic needs SymPy, which is not installed: pip install 'backprop-reference[symbolic]'"
    )


def test_the_engine_and_the_pytest_plugin_import_without_the_extras(without: dict[str, str]) -> None:
    """The pytest11 entry point loads the plugin in every pytest run: it must not need Hypothesis."""
    code = "import reference, conformance, conformance.frontends.plugin; print(reference.COSTS[0])"
    run = run_python(["-c", code], ROOT, without)
    assert run.returncode == 0 and run.stdout == "quadratic\n", run.stderr
    # Control: what does need Hypothesis fails in the same environment.
    run = run_python(["-c", "import reference.strategies"], ROOT, without)
    assert run.returncode == 1 and "No module named 'hypothesis'" in run.stderr, run.stderr


def test_pytest_conformance_without_hypothesis_is_a_usage_error_in_one_line(without: dict[str, str]) -> None:
    """The plugin's conformance tests say what to install, before any case, with pytest's usage status 4.

    Hypothesis's own pytest plugin is switched off: without Hypothesis installed it would not be there.
    """
    plain = ["-p", "no:cacheprovider", "-p", "no:hypothesispytest", "-o", "addopts="]
    run = run_python(["-m", "pytest", *plain, "conformance", "--impl", "reference", "-q"], ROOT, without)
    assert run.returncode == 4, run.stdout + run.stderr
    assert (
        "the conformance tests: running the conformance tests needs Hypothesis, which is not installed: "
        "pip install 'backprop-reference[conformance]'"
    ) in run.stdout + run.stderr, run.stdout + run.stderr
    assert "Traceback" not in run.stdout + run.stderr
