"""parametrize_with_checks: the conformance checks as parameters of a third party's own pytest test.

    from conformance import parametrize_with_checks

    @parametrize_with_checks(MyNet(), xfail={"sgd_step": "no optimiser yet"})
    def test_conformance(check):
        check()

One pytest parameter per check (ids are the check names). The whole run happens
once, on the first call, and is shared by every parameter: each then asserts its
own verdicts over every layer and dtype, by the plugin's rule (conformance.frontends.plugin.fail_skip_or_pass):
failed anywhere: the test fails with every failed verdict and its replay command;
otherwise blocked anywhere (not judged there, because something it depends on
failed): skipped, naming the blocking cause, never passed, since CONFORMS requires
no blocked verdict; otherwise only "not covered": skipped with the reason, unless the
whole run checked nothing (the CLI's NOTHING WAS CHECKED): then every check fails.

The exit status is the CLI's (issue 18): 1 when a check failed, the run is incomplete or
nothing was checked; an implementation that cannot be loaded fails every check and the
session exits 2, a bug of the suite 3 (through conformance.frontends.plugin's pytest_sessionfinish,
which reads ``ConformanceCheck.conformance_exit_status``). ``xfail`` and ``checks`` are the
caller's own waivers: a check they leave out or expect to fail does not count.
"""

from __future__ import annotations

import inspect
from collections.abc import Mapping
from typing import Any

import pytest

from conformance.errors import InternalError, LoadError
from conformance.frontends.plugin import (
    INTERNAL_ERROR_STATUS,
    LOAD_ERROR_STATUS,
    fail_skip_or_pass,
    nothing_checked_reason,
)
from conformance.frontends.runner import check_implementation
from conformance.implementations.isolation import SETTING_NAMES
from conformance.judging.findings import CHECKS
from conformance.reporting.report import Report


class _SharedRun:
    def __init__(self, impl: Any, options: dict[str, Any]) -> None:
        self.impl = impl
        self.options = options
        self._report: Report | None = None
        self._error: Exception | None = None

    @property
    def error(self) -> Exception | None:
        """What the run raised, if it ran and raised."""
        return self._error

    def report(self) -> Report:
        """The run's report, computed once; a run that raised raises again without running again."""
        if self._error is not None:
            raise self._error
        if self._report is None:
            try:
                self._report = check_implementation(self.impl, **self.options)
            except Exception as error:
                self._error = error
                raise
        return self._report


class ConformanceCheck:
    """A callable that asserts one check's verdicts (the ``check`` parameter)."""

    def __init__(self, name: str, shared: _SharedRun) -> None:
        self.name = name
        self._shared = shared

    def __repr__(self) -> str:
        return f"<conformance check {self.name}>"

    def report(self) -> Report:
        """The shared run's Report (the run happens on the first call of any check): to save or print it."""
        return self._shared.report()

    def conformance_exit_status(self) -> int | None:
        """The CLI's exit status for the shared run's error outcome (2: not loaded, 3: a suite bug), else None."""
        error = self._shared.error
        if isinstance(error, LoadError):
            return LOAD_ERROR_STATUS
        if isinstance(error, InternalError):
            return INTERNAL_ERROR_STATUS
        return None

    def __call__(self) -> None:
        try:
            report = self._shared.report()
        except LoadError as error:
            pytest.fail(f"cannot load the implementation: {error}", pytrace=False)
        except InternalError as error:
            pytest.fail(f"error: {error}", pytrace=False)
        verdicts = [v for v in report.verdicts if v.check == self.name]
        fail_skip_or_pass(self.name, verdicts, report.incomplete(), nothing_checked_reason(report))


def parametrize_with_checks(
    impl: Any,
    *,
    xfail: Mapping[str, str] | None = None,
    checks: list[str] | None = None,
    **options: Any,
) -> Any:
    """A ``pytest.mark.parametrize("check", ...)`` decorator with one parameter per check.

    ``xfail`` maps check names to reasons (strict: an xfailed check that passes is
    reported). Other keyword arguments go to ``check_implementation`` (max_examples,
    seed, quick, impl_cmd, regimes, dtypes, failures_dir, first_failure, and isolation or
    its settings: timeout, warmup_timeout, in_process, max_answer_bytes, max_memory_mb); an
    unknown one is a TypeError here, at collection, rather than one error per check.
    """
    accepted = [
        name
        for name, p in inspect.signature(check_implementation).parameters.items()
        if p.kind is inspect.Parameter.KEYWORD_ONLY and name != "progress"
    ] + list(SETTING_NAMES)
    wrong = sorted(set(options) - set(accepted))
    if wrong:
        raise TypeError(f"parametrize_with_checks: unknown option(s) {wrong}; accepted: {', '.join(accepted)}")

    xfail = dict(xfail or {})
    selected = list(checks) if checks is not None else list(CHECKS)
    unknown = [name for name in [*xfail, *selected] if name not in CHECKS]
    if unknown:
        raise ValueError(f"unknown check name(s) {unknown}; the checks are {', '.join(CHECKS)}")
    shared = _SharedRun(impl, options)
    params = [
        pytest.param(
            ConformanceCheck(name, shared),
            id=name,
            marks=[pytest.mark.xfail(reason=xfail[name], strict=True)] if name in xfail else [],
        )
        for name in selected
    ]
    return pytest.mark.parametrize("check", params)
