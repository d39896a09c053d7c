"""The conformance suite passes the reference and pins planted bugs on the right check and layer."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from conformance import Report, check_implementation

from . import conformance_planted as planted

pytestmark = pytest.mark.suite  # end to end (tests/test_tiers.py)


def _run(impl: Any, tmp_path: Path, **options: Any) -> Report:
    options.setdefault("dtypes", ["float64"])
    options.setdefault("regimes", ["typical", "square"])
    return check_implementation(impl, quick=True, failures_dir=tmp_path, **options)


def _failed(report: Report) -> set[str]:
    return {v.check for v in report.failed()}


def _sizes(case_file: str | None) -> list[int]:
    assert case_file is not None
    return json.loads(Path(case_file).read_text())["case"]["sizes"]


def test_the_reference_conforms_in_both_dtypes(tmp_path: Path) -> None:
    report = check_implementation("reference", quick=True, failures_dir=tmp_path)
    assert report.ok, report.format()
    assert report.examples >= 50
    statuses = {(v.check, v.dtype): v.status for v in report.verdicts if v.layer is None}
    for check in ("structure", "cost", "sgd_step", "no_mutation", "determinism", "batch_additivity"):
        assert statuses[(check, "float64")] == statuses[(check, "float32")] == "passed"
    assert not list(tmp_path.iterdir()), "a passing run saves no failing cases"


def test_the_seed_typo_fails_equation_2_at_the_deepest_hidden_layer(tmp_path: Path) -> None:
    report = _run(planted.seed_typo, tmp_path)
    assert not report.ok
    assert _failed(report) == {"equation2"}, report.format()  # not equation 1, nothing downstream
    for verdict in report.failed():
        assert verdict.layer == len(_sizes(verdict.case_file)) - 1  # L - 1 of its own network
        assert "delta^" in verdict.message and "should be" in verdict.message
        assert verdict.replay and verdict.replay.startswith("python -m conformance replay ")
    blocked = [v for v in report.verdicts if v.status == "blocked"]
    assert any(v.check == "equation3" for v in blocked)
    assert all(v.message.startswith("blocked by") for v in blocked)


def test_the_smallest_failing_network_is_found(tmp_path: Path) -> None:
    report = _run(planted.seed_typo, tmp_path, regimes=["typical"])
    smallest = min(report.failed(), key=lambda v: sum(_sizes(v.case_file)))
    assert _sizes(smallest.case_file) == [1, 1, 1]  # one hidden layer of width 1: the typo's minimum


def test_without_deltas_the_first_wrong_layer_is_still_named(tmp_path: Path) -> None:
    report = _run(planted.seed_typo_without_deltas, tmp_path)
    assert _failed(report) == {"equation3", "equation4"}
    statuses = {v.check: v.status for v in report.verdicts if v.check in ("equation1", "equation2")}
    assert statuses == {"equation1": "not covered", "equation2": "not covered"}
    for verdict in report.failed():
        assert verdict.layer == len(_sizes(verdict.case_file)) - 1
    # Where both gradients of that layer are wrong, delta^l is named; where a relu layer below
    # outputs 0, dC/dw carries no information on delta and only equation 3 fails, unnamed.
    named = [v for v in report.failed() if "delta^" in v.message and "(equation 2)" in v.message]
    assert named, report.format()


def test_a_bug_only_in_dw_fails_equation_4_alone(tmp_path: Path) -> None:
    report = _run(planted.weights_off, tmp_path)
    assert _failed(report) == {"equation4"}
    for check in ("equation1", "equation2", "equation3"):
        assert {v.status for v in report.verdicts if v.check == check} == {"passed"}
    sgd = [v for v in report.verdicts if v.check == "sgd_step"]
    assert [v.status for v in sgd] == ["not covered"] and "sgd_step" in sgd[0].message  # a plain function


def test_a_missing_one_over_m_is_a_reduction_failure(tmp_path: Path) -> None:
    report = _run(planted.missing_one_over_m, tmp_path, regimes=["typical"])
    assert _failed(report) == {"reduction"}
    for verdict in report.failed():
        assert "exactly m = " in verdict.message and "1/m of the mean reduction is missing" in verdict.message


def test_float64_computed_in_float32_fails_float64(tmp_path: Path) -> None:
    report = _run(planted.float32_inside, tmp_path, regimes=["typical"])
    assert "equation1" in _failed(report)
    assert all(v.dtype == "float64" for v in report.failed())
    message = next(v.message for v in report.failed() if v.check == "equation1")
    assert "float64, tolerance" in message


def test_a_wrong_sgd_step_is_named(tmp_path: Path) -> None:
    report = _run(planted.WrongStep(), tmp_path, regimes=["typical"], dtypes=None)
    assert _failed(report) == {"sgd_step"}
    assert any("sgd_step with eta" in v.message for v in report.failed())


def test_declared_capabilities_limit_the_cases_and_the_rest_is_listed(tmp_path: Path) -> None:
    report = _run(planted.OnlySigmoidFloat64(), tmp_path, dtypes=None)
    assert report.ok, report.format()
    assert any(item.startswith("activations: tanh") for item in report.not_covered)
    assert any(item.startswith("outputs: deltas, cost") for item in report.not_covered)
    float32 = {v.status for v in report.verdicts if v.dtype == "float32"}
    assert float32 == {"not covered"}
    assert {v.status for v in report.verdicts if v.check == "equation1"} == {"not covered"}


@pytest.mark.parametrize("dtype", ["float64", "float32"])
def test_replay_reproduces_the_saved_case(tmp_path: Path, dtype: str) -> None:
    from conformance import replay

    report = _run(planted.weights_off, tmp_path, regimes=["typical"], dtypes=[dtype])
    verdict = report.failed()[0]
    assert verdict.case_file is not None
    again = replay(verdict.case_file, planted.weights_off)
    assert {v.check for v in again.failed()} == {"equation4"}
    assert replay(verdict.case_file, "reference").ok
