"""What the wheel ships: reference, symbolic and conformance, with the suite's data files.

Reads pyproject.toml through setuptools' own configuration reader, which expands
[tool.setuptools.packages.find] into the package list a build would use: as exact as
building the wheel, without a build (offline, a few milliseconds). benchmarks/, tests/,
examples/ and docs/ run from a clone and stay out of the wheel. The metadata: the engine's
dependencies, the ``symbolic`` and ``conformance`` extras, and the ``test`` extra that holds both.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from setuptools.config import pyprojecttoml

ROOT = Path(__file__).resolve().parent.parent
SHIPPED = {"reference", "symbolic", "conformance"}


def _setuptools_config() -> dict[str, Any]:
    config: dict[str, Any] = pyprojecttoml.read_configuration(ROOT / "pyproject.toml")["tool"]["setuptools"]
    return config


def _package_dir(package: str) -> Path:
    return ROOT.joinpath(*package.split("."))


def _data_files(config: dict[str, Any]) -> set[str]:
    """The package-data globs applied as setuptools' build_py applies them: relative to each package."""
    found: set[str] = set()
    for package, patterns in config.get("package-data", {}).items():
        assert package in config["packages"], f"package-data names {package}, which is not shipped"
        for pattern in patterns:
            found.update(p.relative_to(ROOT).as_posix() for p in _package_dir(package).glob(pattern) if p.is_file())
    return found


def test_the_wheel_ships_reference_symbolic_and_conformance_only() -> None:
    packages = _setuptools_config()["packages"]
    assert {p.split(".")[0] for p in packages} == SHIPPED, packages
    for name in ("reference.numerical", "conformance.adapters", "conformance.vectors"):
        assert name in packages, f"{name} is missing from {packages}"


def test_the_suites_data_files_are_package_data() -> None:
    shipped = _data_files(_setuptools_config())
    vectors = sorted(p.relative_to(ROOT).as_posix() for p in (ROOT / "conformance" / "vectors").glob("*.json"))
    node = sorted(p.relative_to(ROOT).as_posix() for p in (ROOT / "conformance" / "examples" / "node").glob("*.js"))
    assert vectors and node, "the golden vectors and the Node example are where pyproject.toml expects them"
    needed = {"conformance/CONTRACT.md", *vectors, *node}
    assert needed <= shipped, sorted(needed - shipped)


def _project() -> dict[str, Any]:
    project: dict[str, Any] = pyprojecttoml.read_configuration(ROOT / "pyproject.toml")["project"]
    return project


def _names(requirements: list[str]) -> set[str]:
    """The distribution names of requirement strings ("sympy>=1.12" -> "sympy")."""
    return {re.split(r"[<>=!~\[; ]", r, maxsplit=1)[0].lower() for r in requirements}


def test_the_engine_needs_numpy_and_mpmath_only() -> None:
    """``import reference`` needs no Hypothesis, pytest or SymPy (tests/test_extras.py runs it without them)."""
    assert _names(_project()["dependencies"]) == {"numpy", "mpmath"}


def test_the_suite_and_the_proofs_are_extras() -> None:
    extras = _project()["optional-dependencies"]
    assert _names(extras["symbolic"]) == {"sympy"}
    assert _names(extras["conformance"]) == {"hypothesis", "pytest"}


def test_the_test_extra_installs_every_layer() -> None:
    """README's install command (the test extra) must still bring the suite's and the proofs' dependencies."""
    extras = _project()["optional-dependencies"]
    tested = _names(extras["test"])
    for extra in ("symbolic", "conformance"):
        assert _names(extras[extra]) <= tested, f"the test extra misses {sorted(_names(extras[extra]) - tested)}"
        # the same lower bounds, so that the test extra never tests older versions than users get
        assert set(extras[extra]) <= set(extras["test"]), extras[extra]


def test_the_pytest_plugin_is_registered() -> None:
    assert _project()["entry-points"]["pytest11"] == {"backprop_conformance": "conformance.frontends.plugin"}
