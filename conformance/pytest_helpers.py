"""parametrize_with_checks: the conformance checks as parameters of a third party's own pytest test.

    from conformance import parametrize_with_checks

    @parametrize_with_checks(MyNet(), xfail={"sgd_step": "no optimiser yet"})
    def test_conformance(check):
        check()

One pytest parameter per check (ids are the check names). The whole run happens
once, on the first call, and is shared by every parameter: each then asserts its
own verdicts. A check with only "not covered" or "blocked" verdicts is skipped
with the reason; a failed check fails with every verdict message and replay command.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from .checks import CHECKS
from .report import Report


class _SharedRun:
    def __init__(self, impl: Any, options: dict[str, Any]) -> None:
        self.impl = impl
        self.options = options
        self._report: Report | None = None

    def report(self) -> Report:
        if self._report is None:
            from .runner import check_implementation

            self._report = check_implementation(self.impl, **self.options)
        return self._report


class ConformanceCheck:
    """A callable that asserts one check's verdicts (the ``check`` parameter)."""

    def __init__(self, name: str, shared: _SharedRun) -> None:
        self.name = name
        self._shared = shared

    def __repr__(self) -> str:
        return f"<conformance check {self.name}>"

    def __call__(self) -> None:
        import pytest

        verdicts = [v for v in self._shared.report().verdicts if v.check == self.name]
        failed = [v for v in verdicts if v.status == "failed"]
        if failed:
            lines = []
            for v in failed:
                lines.append(v.line())
                if v.replay:
                    lines.append(f"    replay: {v.replay}")
            pytest.fail("\n".join(lines), pytrace=False)
        if not any(v.status == "passed" for v in verdicts):
            reasons = sorted({v.message for v in verdicts}) or ["no verdict"]
            pytest.skip(f"{self.name}: " + "; ".join(reasons)[:500])


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
    seed, quick, impl_cmd, timeout, regimes, dtypes, failures_dir).
    """
    import pytest

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
