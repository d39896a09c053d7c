"""A refusal is all or nothing per declared capability (issue 18, item 4).

An sgd_step that raises NotImplementedError means "not implemented" (not covered) only when
it is the answer to every case. One that refuses exactly where it would be wrong (eta > 1,
or every float32 case) and answers the rest used to get "pass" with nothing noted, even with
-v; now the sgd_step verdict fails and says how many cases were refused. Controls: the
correct implementation passes, and one that refuses every sgd_step is still "not covered"
and conforms.
"""

from __future__ import annotations

from typing import Any

import pytest

from conformance import check_implementation
from conformance.reporting.report import Report, merge

from .broken_impls import Backprop

pytestmark = pytest.mark.suite  # end to end (tests/test_tiers.py)


class RefusesWhereWrong(Backprop):
    """Its step is wrong for eta > 1 (a clamp), so it refuses exactly those cases."""

    def sgd_step(self, case: Any, eta: float) -> dict[str, Any]:
        if eta > 1:
            raise NotImplementedError("large learning rates")
        return super().sgd_step(case, eta)


class RefusesFloat32(Backprop):
    """Declares float32 (every dtype: no capabilities) but refuses every float32 sgd_step."""

    def sgd_step(self, case: Any, eta: float) -> dict[str, Any]:
        if case.dtype == "float32":
            raise NotImplementedError("float32 steps")
        return super().sgd_step(case, eta)


class AlwaysRefuses(Backprop):
    """The control: no SGD step at all, said the contract's way."""

    def sgd_step(self, case: Any, eta: float) -> dict[str, Any]:
        raise NotImplementedError("no SGD step here")


def _run(impl: Any, in_process: bool = True, **options: Any) -> Report:
    options.setdefault("regimes", ["typical", "small"])
    return check_implementation(impl, quick=True, failures_dir=None, in_process=in_process, **options)


def _sgd(report: Report) -> list[Any]:
    return [v for v in report.verdicts if v.check == "sgd_step"]


@pytest.mark.parametrize("in_process", [True, False], ids=["in-process", "worker"])
def test_refusing_only_where_wrong_fails_sgd_step(in_process: bool) -> None:
    report = _run(RefusesWhereWrong(), in_process, dtypes=["float64"])
    assert not report.ok
    (verdict,) = [v for v in report.failed() if v.check == "sgd_step"]
    assert "refused" in verdict.message and "NotImplementedError" in verdict.message
    assert "all or nothing" in verdict.message and verdict.refused > 0 and verdict.answered > 0
    assert "refused" in report.format()  # printed without -v


def test_refusing_a_declared_dtype_fails_there() -> None:
    report = _run(RefusesFloat32())
    statuses = {v.dtype: v.status for v in _sgd(report)}
    assert statuses == {"float64": "passed", "float32": "failed"}, statuses


def test_refusing_in_one_process_and_answering_in_another_fails_the_merged_report() -> None:
    """pytest-xdist and the plugin merge per-group reports: the counts travel with the verdicts."""
    float32 = _run(RefusesFloat32(), dtypes=["float32"])
    float64 = _run(RefusesFloat32(), dtypes=["float64"])
    assert float32.ok and float64.ok  # each alone is all or nothing
    merged = merge([float32, float64])
    assert not merged.ok
    assert [v.dtype for v in merged.failed()] == ["float32"]


@pytest.mark.parametrize("in_process", [True, False], ids=["in-process", "worker"])
def test_refusing_every_step_is_not_covered_and_conforms(in_process: bool) -> None:
    report = _run(AlwaysRefuses(), in_process)
    assert report.ok, report.format()
    assert {v.status for v in _sgd(report)} == {"not covered"}


def test_the_correct_control_passes_sgd_step() -> None:
    report = _run(Backprop())
    assert report.ok and {v.status for v in _sgd(report)} == {"passed"}
