"""The failing stand-ins of benchmarks/conformance_time.py (issue 22 item 5): each is the reference but for one
flaw, so the benchmark's failing / correct ratio measures the suite's work on a failure, not a slower
implementation. Each flaw must be where its docstring says (the suite rejects it there, with the right root
check) and nowhere else (the suite accepts the stand-in on the cases the flaw does not touch: the positive
control that it is otherwise the reference). The benchmark's target row reads the worst stand-in.
"""

from __future__ import annotations

from typing import Any

import pytest

from benchmarks import conformance_time, judging_split
from benchmarks.conformance_time import FAILING, NOISE, SEED_EQUATION_2, UNUSUAL_ETA, WIDE_BATCH
from benchmarks.report import _failing_lines, _split_lines
from benchmarks.targets import _failing_row
from conformance import check_implementation
from conformance.cases import search
from conformance.errors import LoadError
from conformance.implementations.loader import load_implementation
from conformance.judging.checks import CaseChecker
from reference import Case
from reference.strategies import Architecture, make_case

SIGMOIDS = {2: ("sigmoid",), 3: ("sigmoid", "tanh"), 4: ("sigmoid", "tanh", "sigmoid")}


def _case(sizes: tuple[int, ...], m: int, dtype: str = "float64", reduction: str = "mean") -> Case:
    arch = Architecture(sizes, SIGMOIDS[len(sizes)], "quadratic")
    return make_case(arch, "typical", m, reduction, dtype, 11)


def _root(impl: Any, case: Case, eta: float = 0.5) -> str | None:
    """The check of the case's root failure as the suite judges it in process (None: it passes)."""
    report = CaseChecker(load_implementation(impl, in_process=True)).run(case, eta, list(range(case.m))[::-1])
    assert report is not None
    root = report.root()
    return None if root is None else root.check


@pytest.mark.parametrize("dtype", ["float64", "float32"])
def test_unusual_eta_is_wrong_only_outside_its_range(dtype: str) -> None:
    case = _case((3, 4, 2), 3, dtype)
    for eta in (0.01, 0.5, 1.0):
        assert _root(UNUSUAL_ETA, case, eta) is None, eta
    for eta in (0.0, 1e-3, 5.0):
        assert _root(UNUSUAL_ETA, case, eta) == "sgd_step", eta


@pytest.mark.parametrize("reduction", ["mean", "sum"])
def test_wide_batch_is_wrong_only_past_one_tile(reduction: str) -> None:
    assert _root(WIDE_BATCH, _case((3, 4, 2), 32, reduction=reduction)) is None
    assert _root(WIDE_BATCH, _case((3, 4, 2), 33, reduction=reduction)) == "equation3"
    assert _root(WIDE_BATCH, _case((2, 3), 64, "float32", reduction)) == "equation3"


@pytest.mark.parametrize("dtype", ["float64", "float32"])
def test_the_seed_equation_2_is_wrong_only_with_a_hidden_layer(dtype: str) -> None:
    assert _root(SEED_EQUATION_2, _case((3, 2), 4, dtype)) is None
    assert _root(SEED_EQUATION_2, _case((3, 4, 2), 4, dtype)) == "equation2"
    assert _root(SEED_EQUATION_2, _case((3, 4, 5, 2), 2, dtype)) == "equation2"


def test_noise_is_wrong_everywhere() -> None:
    assert _root(NOISE, _case((3, 2), 1)) == "equation1"
    assert _root(NOISE, _case((3, 4, 2), 5, "float32")) == "equation1"


@pytest.mark.suite
@pytest.mark.parametrize(
    ("name", "check"), [("noise", "equation1"), ("unusual_eta", "sgd_step"), ("seed_equation_2", "equation2")]
)
def test_a_quick_run_names_the_stand_ins_cause(name: str, check: str) -> None:
    """A quick run (in process, one group) fails on the flaw and files every failure under its check; the
    smallest case is the smallest network that shows it (a hidden layer for equation 2)."""
    report = check_implementation(
        FAILING[name], quick=True, regimes=["small"], dtypes=["float64"], failures_dir=None, in_process=True
    ).to_dict()
    assert report["ok"] is False
    assert [c["check"] for c in report["causes"]] == [check]
    expected_layers = 3 if name == "seed_equation_2" else 2
    assert report["causes"][0]["size"][1] == expected_layers


def _run(cpu_s: float) -> dict[str, Any]:
    return {"cpu_s": cpu_s, "shrink_judged": 10, "shrink_reused": 4}


def test_the_target_row_reads_the_worst_stand_in() -> None:
    failing = {
        "stand_ins": {
            "noise": {"isolated": {"failing": _run(3.0), "cpu_ratio": 1.5, "asked_ratio": 2.0}},
            "unusual_eta": {"in_process": {"failing": _run(5.0), "cpu_ratio": 2.5, "asked_ratio": 3.0}},
        },
        "cpu_ratio": 2.5,
        "worst": "unusual_eta (in_process)",
    }
    row = _failing_row({"conformance": {"failing": failing}})
    assert row["measured"] == 2.5
    assert row["met"] is False
    assert "unusual_eta (in_process)" in row["target"]
    lines = _failing_lines(failing)
    assert any("| unusual_eta | in_process | 2.50x | 3.00x | 10 (4) |" in line for line in lines)
    assert lines[-1] == "Worst: unusual_eta (in_process), 2.50x (target <= 2)."


def test_the_target_row_reads_a_one_stand_in_result() -> None:
    """Results written before the stand-ins (NOISE alone, isolated) keep their row."""
    row = _failing_row({"conformance": {"failing": {"cpu_ratio": 1.55}}})
    assert row["measured"] == 1.55
    assert row["met"] is True
    assert "noise for every new network" in row["target"]
    assert _failing_lines({"cpu_ratio": 1.55}) == []


def test_the_split_lines_read_each_run() -> None:
    run = {"cpu_s": 90.0, "judging_cpu_s": 40.0, "rest_cpu_s": 50.0, "value_sets_asked": 7000}
    lines = _split_lines({"reference": {**run, "shrink_judged": 0, "shrink_reused": 0}, "x": {"error": "timed out"}})
    assert "| reference | 90.0 s | 40.0 s | 50.0 s | 7000 | 0 (0) |" in lines
    assert not any("| x |" in line for line in lines)  # a run without figures has no row
    assert _split_lines({}) == []


@pytest.mark.suite
def test_the_judging_split_times_the_judging_and_restores_it() -> None:
    before = search._judge
    quick = {"quick": True, "regimes": ["small"], "dtypes": ["float64"]}
    got = judging_split.split(FAILING["unusual_eta"], **quick)
    assert search._judge is before  # the wrapper is gone
    assert 0.0 < got["judging_cpu_s"] <= got["cpu_s"]
    assert got["rest_cpu_s"] == pytest.approx(got["cpu_s"] - got["judging_cpu_s"])
    assert (
        got["shrink_judged"] > 0
        and got["value_sets_asked"] == got["judged"] + got["shrink_judged"] - got["shrink_reused"]
    )
    with pytest.raises(LoadError, match="no_such_module"):  # a run that fails leaves _judge as it was too
        judging_split.split("no_such_module:X", **quick)
    assert search._judge is before


def test_the_worst_stand_in_is_named_and_split(monkeypatch: pytest.MonkeyPatch) -> None:
    """failing_vs_correct with runs made up: the worst ratio names its stand-in and mode, and only that
    stand-in's run (with the reference's) is split."""
    cpu = {"reference": 10.0, FAILING["noise"]: 15.0, FAILING["unusual_eta"]: 30.0}

    def run(impl: str, timeout_s: float, extra: tuple[str, ...] = ()) -> dict[str, Any]:
        return {"cpu_s": cpu[impl] * (2 if extra else 1), "value_sets_asked": 1}  # in process: all twice

    split: list[str] = []

    def fake_split(spec: str, timeout_s: float) -> dict[str, Any]:
        split.append(spec)
        return {"spec": spec}

    monkeypatch.setattr(conformance_time, "_cpu_run", run)
    monkeypatch.setattr(conformance_time, "_split", fake_split)
    got = conformance_time.failing_vs_correct(only=("noise", "unusual_eta"))
    assert got["worst"] == "unusual_eta (isolated)" and got["cpu_ratio"] == 3.0
    assert split == ["reference", FAILING["unusual_eta"]]
    assert set(got["split"]) == {"reference", "unusual_eta"}
