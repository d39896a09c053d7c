"""A cause's shrinking stops at the floor, the smallest network any network can show it on (issue 22 item 5).

``search.floor_size`` is a lower bound on ``report.case_size``: two layers of width 1 and m = 1, three
layers for a cause of equation 2 (judged only below the output layer). A shrink pass that meets a
failing case of that size stops there: what Hypothesis would shrink after it is the case's values,
never its size. Held against the control (a floor no case meets) on the same seed: the same causes
and the same smallest sizes with fewer value sets judged; and a defect that needs more than the floor
(m >= 2) gets exactly the control's report, value sets and all.
"""

from __future__ import annotations

from typing import Any

import pytest

from conformance import check_implementation
from conformance.cases import search
from conformance.reporting.report import case_size
from reference.strategies import Architecture, make_case
from tests.broken_impls.base import Backprop
from tests.broken_impls.behaviour import SgdStepIgnoresEta


def _size(sizes: tuple[int, ...], m: int) -> tuple[int, int, int]:
    activations = ("sigmoid",) * (len(sizes) - 1)
    return case_size(make_case(Architecture(sizes, activations, "quadratic"), "small", m, "mean", "float64", 0))


def test_the_floor_is_the_size_of_the_smallest_networks() -> None:
    assert search.floor_size("equation1") == search.floor_size(None) == _size((1, 1), 1)
    assert search.floor_size("sgd_step") == _size((1, 1), 1)
    assert search.floor_size("equation2") == _size((1, 1, 1), 1)
    for sizes, m in [((2, 1), 1), ((1, 2), 1), ((1, 1), 2), ((1, 1, 1), 1)]:  # one more unit, sample or layer
        assert _size(sizes, m) > search.floor_size("equation1"), (sizes, m)
    for sizes, m in [((2, 1, 1), 1), ((1, 2, 1), 1), ((1, 1, 2), 1), ((1, 1, 1), 2), ((1, 1, 1, 1), 1)]:
        assert _size(sizes, m) > search.floor_size("equation2"), (sizes, m)


class _DropsOneOverM(Backprop):
    """The mean's 1/m left out of the gradients: right at m = 1, so never seen at the floor."""

    def gradient_scale(self, reduction: str, m: int) -> float:
        return 1.0


def _run(impl: Backprop, monkeypatch: pytest.MonkeyPatch, floor: bool) -> dict[str, Any]:
    with monkeypatch.context() as patch:
        if not floor:  # the control: no case is at the floor, every cause is shrunk to the end
            patch.setattr(search, "floor_size", lambda check: (0, 0, 0))
        report = check_implementation(
            impl, quick=True, regimes=["small"], dtypes=["float64"], failures_dir=None, in_process=True
        ).to_dict()
    report.pop("duration_seconds")
    report.pop("versions")
    return report


def _shrunk(report: dict[str, Any]) -> int:
    return sum(int(g["shrink_judged"]) for g in report["groups"])


@pytest.mark.suite
def test_a_cause_shown_at_the_floor_stops_there_with_the_controls_causes_and_sizes(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    stopped, control = _run(SgdStepIgnoresEta(), monkeypatch, True), _run(SgdStepIgnoresEta(), monkeypatch, False)
    assert stopped["ok"] is False and control["ok"] is False
    assert [c["key"] for c in stopped["causes"]] == [c["key"] for c in control["causes"]]
    assert [c["explains"] for c in stopped["causes"]] == [c["explains"] for c in control["causes"]]
    sizes = [tuple(c["size"]) for c in stopped["causes"]]
    assert sizes == [tuple(c["size"]) for c in control["causes"]]
    assert sizes[0] == search.floor_size("sgd_step")  # shown on the smallest network there is
    assert _verdicts(stopped) == _verdicts(control)
    assert _shrunk(stopped) < _shrunk(control), (_shrunk(stopped), _shrunk(control))


def _verdicts(report: dict[str, Any]) -> list[tuple[str, ...]]:
    """The verdicts less their messages, which name the numbers of the smallest case: at the floor, another
    value set of the same size."""
    keys = ("check", "layer", "dtype", "status", "cases", "size")
    return [tuple(str(v[k]) for k in keys) for v in report["verdicts"]]


@pytest.mark.suite
def test_a_defect_the_floor_cannot_show_is_shrunk_as_before(monkeypatch: pytest.MonkeyPatch) -> None:
    """The attack on the floor: a bug invisible at m = 1. Its smallest case needs m = 2, no case of it
    is at the floor, and the report is the control's to the last count."""
    stopped, control = _run(_DropsOneOverM(), monkeypatch, True), _run(_DropsOneOverM(), monkeypatch, False)
    assert stopped["ok"] is False
    assert all(c["size"][2] >= 2 for c in stopped["causes"]), [c["size"] for c in stopped["causes"]]
    assert _shrunk(stopped) > 0
    assert stopped == control
