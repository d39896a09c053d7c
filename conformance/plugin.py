"""The pytest plugin: ``pytest --pyargs conformance --impl package.module:attr`` (or
``--impl-cmd``).

Registered through the ``pytest11`` entry point, so pytest loads it in every run
once the package is installed. It only adds options; everything else happens
only when the conformance tests (conformance/test_conformance.py) are collected.
Those tests are one per (dtype, regime) group, so pytest-xdist spreads the groups
over its workers, each of which starts its own ``--impl-cmd`` process; the
workers' reports travel back in the test reports' user_properties and the
controller prints one merged check x layer table at the end.
"""

from __future__ import annotations

import os
from typing import TYPE_CHECKING, Any

import pytest

from .defaults import DEFAULT_EXAMPLES, QUICK_EXAMPLES

if TYPE_CHECKING:
    from collections.abc import Iterator

    from .loader import Implementation
    from .report import Report

GROUPS: list[tuple[str, str]] = [
    (dtype, regime)
    for dtype in ("float64", "float32")
    for regime in ("small", "typical", "saturating", "zeros", "square")
]
FIXTURE = "conformance_session"
_PROPERTY = "backprop_conformance_report"
_REPORTS = pytest.StashKey[list[dict[str, Any]]]()


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("backprop-conformance", "backprop conformance suite (pytest --pyargs conformance)")
    group.addoption(
        "--impl",
        metavar="SPEC",
        default=None,
        help="implementation under test: package.module:attr, package.module, file.py:attr or "
        "'reference' (fallback: $BACKPROP_IMPL)",
    )
    group.addoption(
        "--impl-cmd",
        metavar="COMMAND",
        default=None,
        help="implementation under test as a command speaking the JSON-lines protocol",
    )
    group.addoption(
        "--conformance-examples",
        type=int,
        default=None,
        metavar="N",
        help=f"Hypothesis examples per (dtype, regime) group (default {DEFAULT_EXAMPLES}, "
        f"{QUICK_EXAMPLES} with --conformance-quick)",
    )
    group.addoption("--conformance-seed", type=int, default=0, metavar="S", help="Hypothesis seed (default 0)")
    group.addoption("--conformance-quick", action="store_true", default=False, help="fewer, smaller cases")
    group.addoption(
        "--conformance-timeout",
        type=float,
        default=10.0,
        metavar="SECONDS",
        help="per-call timeout (default 10)",
    )
    group.addoption(
        "--conformance-failures",
        metavar="DIR",
        default=None,
        help="where failing cases are saved (default .conformance-failures)",
    )


def _selection(config: pytest.Config) -> tuple[str | None, str | None, str]:
    """(impl, impl_cmd, how it was chosen)."""
    impl, cmd = config.getoption("--impl"), config.getoption("--impl-cmd")
    if impl or cmd:
        return impl, cmd, "command line"
    env = os.environ.get("BACKPROP_IMPL")
    return (env, None, "BACKPROP_IMPL") if env else (None, None, "")


def _settings_text(config: pytest.Config) -> str:
    examples = config.getoption("--conformance-examples")
    quick = config.getoption("--conformance-quick")
    return (
        f"examples per group {examples if examples is not None else (QUICK_EXAMPLES if quick else DEFAULT_EXAMPLES)}, "
        f"seed {config.getoption('--conformance-seed')}, quick {quick}, "
        f"timeout {config.getoption('--conformance-timeout'):g} s"
    )


def pytest_report_header(config: pytest.Config) -> list[str] | None:
    impl, cmd, how = _selection(config)
    if not how:
        return None
    what = f"--impl {impl}" if impl else f"--impl-cmd {cmd!r}"
    return [f"backprop conformance: {what} (from the {how}); {_settings_text(config)}"]


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    if not any(FIXTURE in getattr(item, "fixturenames", ()) for item in items):
        return
    impl, cmd, _ = _selection(config)
    if impl and cmd:
        raise pytest.UsageError("give either --impl or --impl-cmd, not both")
    if not impl and not cmd:
        raise pytest.UsageError(
            "the conformance tests need an implementation: pass --impl package.module:attr "
            "(or reference), "
            "--impl-cmd 'COMMAND', or set BACKPROP_IMPL"
        )


class ConformanceSession:
    """One loaded implementation per pytest process (xdist worker), shared by the group tests."""

    def __init__(self, config: pytest.Config, implementation: Implementation) -> None:
        self.config = config
        self.implementation = implementation

    def check_group(self, dtype: str, regime: str, node: pytest.Item) -> Report:
        from .runner import check_implementation

        caps = self.implementation.capabilities
        if dtype not in caps.dtypes:
            pytest.skip(f"not covered: {self.implementation.name} does not declare {dtype}")
        options: dict[str, Any] = {}
        failures = self.config.getoption("--conformance-failures")
        if failures:
            options["failures_dir"] = failures
        report = check_implementation(
            self.implementation,
            max_examples=self.config.getoption("--conformance-examples"),
            seed=self.config.getoption("--conformance-seed"),
            quick=self.config.getoption("--conformance-quick"),
            timeout=self.config.getoption("--conformance-timeout"),
            regimes=[regime],
            dtypes=[dtype],
            **options,
        )
        node.user_properties.append((_PROPERTY, report.to_dict()))
        if not report.ok:
            lines = []
            for v in report.verdicts:
                if v.status != "failed":
                    continue
                lines.append(v.line())
                if v.replay:
                    lines.append(f"    replay: {v.replay}")
            pytest.fail("\n".join(lines) or "nothing was checked", pytrace=False)
        return report


@pytest.fixture(scope="session")
def conformance_session(request: pytest.FixtureRequest) -> Iterator[ConformanceSession]:
    from .loader import LoadError, load_implementation

    config = request.config
    impl, cmd, _ = _selection(config)
    try:
        implementation = load_implementation(impl, impl_cmd=cmd, timeout=config.getoption("--conformance-timeout"))
    except LoadError as error:
        pytest.fail(f"cannot load the implementation: {error}", pytrace=False)
    try:
        yield ConformanceSession(config, implementation)
    finally:
        implementation.close()


def pytest_configure(config: pytest.Config) -> None:
    config.stash[_REPORTS] = []


def pytest_runtest_logreport(report: pytest.TestReport) -> None:
    if report.when != "call":
        return
    for name, value in report.user_properties:
        if name == _PROPERTY and isinstance(value, dict):
            _collected(report).append(value)


_COLLECTED: list[dict[str, Any]] = []


def _collected(report: pytest.TestReport) -> list[dict[str, Any]]:
    config = getattr(report, "config", None)
    if config is not None and _REPORTS in config.stash:
        return config.stash[_REPORTS]
    return _COLLECTED


def pytest_terminal_summary(terminalreporter: Any, config: pytest.Config) -> None:
    data = config.stash.get(_REPORTS, []) + _COLLECTED
    if not data:
        return
    from .report import Report, merge

    merged = merge([Report.from_dict(d) for d in data])
    terminalreporter.section("backprop conformance summary")
    terminalreporter.write_line(merged.header())
    if merged.not_covered:
        terminalreporter.write_line("not covered: " + "; ".join(merged.not_covered))
    terminalreporter.write_line("")
    for line in merged.table().splitlines():
        terminalreporter.write_line(line)
    terminalreporter.write_line("")
    verdict = "CONFORMS" if merged.ok else f"DOES NOT CONFORM: {len(merged.failed())} failed verdict(s)"
    terminalreporter.write_line(f"{verdict} ({merged.examples} cases)")
