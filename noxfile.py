"""Task runner: the sessions CI runs (`.ci/run` calls `nox -s lint format types`).

Every session runs in the current environment (`python=False`): CI has already built a fresh venv with
`pip install -e '.[test,torch]'`, and a second venv per session would only repeat that install.
Run all checks with `nox`, or one with `nox -s tests`.
"""

from __future__ import annotations

import nox

nox.options.sessions = ["lint", "format", "types", "tests", "conformance"]


@nox.session(python=False)
def lint(session: nox.Session) -> None:
    """Ruff's rule set from pyproject.toml."""
    session.run("ruff", "check", ".")


@nox.session(name="format", python=False)
def format_check(session: nox.Session) -> None:
    """The tree as `ruff format` writes it; fix with `ruff format .`."""
    session.run("ruff", "format", "--check", ".")


@nox.session(python=False)
def types(session: nox.Session) -> None:
    """mypy over the packages, benchmarks and tests (the file list is in pyproject.toml)."""
    session.run("mypy")


@nox.session(python=False)
def tests(session: nox.Session) -> None:
    """The test suite; extra arguments go to pytest (`nox -s tests -- tests/test_sgd.py`)."""
    session.run("python", "-m", "pytest", *session.posargs)


@nox.session(python=False)
def conformance(session: nox.Session) -> None:
    """The conformance suite against the reference engine, as in README."""
    session.run("python", "-m", "conformance", "--impl", "reference", *session.posargs)
