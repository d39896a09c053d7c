"""README tells the truth: its Python examples run, its commands are the ones CI runs, its names exist."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

import reference
from reference import equations

ROOT = Path(__file__).resolve().parent.parent
README = (ROOT / "README.md").read_text(encoding="utf-8")


def _blocks(language: str) -> list[str]:
    return re.findall(rf"```{language}\n(.*?)```", README, flags=re.DOTALL)


@pytest.mark.parametrize("index", range(len(_blocks("python"))))
def test_python_examples_run(index: int) -> None:
    code = _blocks("python")[index]
    exec(compile(code, f"README.md python block {index}", "exec"), {"__name__": "readme_example"})


def test_quick_start_commands_are_what_ci_runs() -> None:
    commands = [line.strip() for block in _blocks("bash")[:2] for line in block.strip().splitlines()]
    assert commands[0].startswith("pip install -e '.[test,torch]'")
    assert commands[1] == "python -m pytest"
    ci = (ROOT / ".ci" / "run").read_text(encoding="utf-8").splitlines()
    for command in commands:
        assert command in ci, f"README's command {command!r} is not run verbatim by .ci/run"


def test_equation_table_names_real_functions_with_matching_docstrings() -> None:
    for number in (1, 2, 3, 4):
        function = getattr(equations, f"equation_{number}")
        assert f"Equation {number}" in (function.__doc__ or ""), function.__name__
        assert f"`equation_{number}`" in README


def test_public_names_in_readme_exist() -> None:
    for name in ("backprop", "backprop_mp", "sgd_step", "train", "forward", "sigma", "sigma_prime", "Network"):
        assert hasattr(reference, name), name
