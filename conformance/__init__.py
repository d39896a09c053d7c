"""The conformance suite: any backprop implementation, in any language, checked against the
reference.

    from conformance import check_implementation
    report = check_implementation("mypackage.net:backprop")
    assert report.ok, report.format()

Command line: ``python -m conformance --impl package.module:attr`` (or ``--impl-cmd "CMD"``);
pytest: ``pytest --pyargs conformance --impl package.module:attr``; in your own test suite:
``conformance.parametrize_with_checks(impl)``. The contract is conformance/CONTRACT.md.

The names below (the version too) are imported on first use: the pytest plugin
(conformance.frontends.plugin) is loaded by every pytest run once the package is installed, and
importing it runs this file, which must stay cheap.
"""

from __future__ import annotations

from importlib import import_module
from typing import TYPE_CHECKING, Any

_EXPORTS = {
    "CHECKS": "judging.findings",
    "CONTRACT_VERSION": "implementations.contract",
    "CaseFileError": "reporting.casefile",
    "SUITE_VERSION": "reporting.versions",
    "Implementation": "implementations.loader",
    "IsolationSettings": "implementations.isolation",
    "LoadError": "implementations.loader",
    "Report": "reporting.report",
    "Verdict": "reporting.report",
    "check_implementation": "frontends.runner",
    "load_case": "reporting.casefile",
    "load_implementation": "implementations.loader",
    "parametrize_with_checks": "frontends.pytest_helpers",
    "replay": "frontends.runner",
}

__all__ = [
    "CHECKS",
    "CONTRACT_VERSION",
    "CaseFileError",
    "SUITE_VERSION",
    "Implementation",
    "IsolationSettings",
    "LoadError",
    "Report",
    "Verdict",
    "check_implementation",
    "load_case",
    "load_implementation",
    "parametrize_with_checks",
    "replay",
]

if TYPE_CHECKING:  # the lazy exports, for type checkers
    from conformance.frontends.pytest_helpers import parametrize_with_checks
    from conformance.frontends.runner import check_implementation, replay
    from conformance.implementations.contract import CONTRACT_VERSION
    from conformance.implementations.isolation import IsolationSettings
    from conformance.implementations.loader import Implementation, LoadError, load_implementation
    from conformance.judging.findings import CHECKS
    from conformance.reporting.casefile import CaseFileError, load_case
    from conformance.reporting.report import Report, Verdict
    from conformance.reporting.versions import SUITE_VERSION

    __version__ = SUITE_VERSION


def __getattr__(name: str) -> Any:
    if name == "__version__":
        name = "SUITE_VERSION"
    if name in _EXPORTS:
        return getattr(import_module(f".{_EXPORTS[name]}", __name__), name)
    raise AttributeError(f"module 'conformance' has no attribute {name!r}")
