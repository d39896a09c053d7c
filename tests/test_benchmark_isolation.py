"""Issue 22's isolation figures: the per-call overhead at the largest generated case, and their target rows."""

from __future__ import annotations

import pytest

from benchmarks.conformance_time import largest_case, per_call_overhead
from benchmarks.targets import judge_targets
from conformance.cases.search import SearchSettings


def test_the_largest_case_is_the_search_s_largest() -> None:
    settings = SearchSettings(max_examples=1)
    case = largest_case()
    assert len(case.sizes) == settings.max_layers and set(case.sizes) == {settings.max_width}
    assert case.x.shape == (settings.max_batch, settings.max_width)


def test_the_overhead_is_measured_on_answered_calls() -> None:
    """One round of one call each way: a call that failed would cost nothing and read as no overhead."""
    figures = per_call_overhead(rounds=1, calls=1)
    assert figures["isolated_ms"] > 0 and figures["in_process_ms"] > 0
    assert figures["overhead_ms"] == pytest.approx(figures["isolated_ms"] - figures["in_process_ms"])
    assert figures["case"] == "15 layers of 64, batch 64, float64"


@pytest.mark.parametrize(("ratio", "overhead_ms", "met"), [(1.15, 1.5, True), (1.3, 2.5, False)])
def test_the_targets_are_1_2x_and_2_ms(ratio: float, overhead_ms: float, met: bool) -> None:
    results = {"conformance": {"isolation_ratio": ratio, "per_call": {"overhead_ms": overhead_ms, "case": "c"}}}
    rows = {row["target"].split(" (")[0].split(" <=")[0]: row for row in judge_targets(results)}
    ratio_row = rows["default conformance run on the reference, isolated / --in-process"]
    overhead_row = rows["isolation's overhead per call at the largest generated case"]
    assert (ratio_row["measured"], ratio_row["met"]) == (ratio, met)
    assert overhead_row["measured"] == pytest.approx(overhead_ms / 1e3) and overhead_row["met"] is met
