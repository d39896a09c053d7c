"""Issue 22's isolation figures: the per-call overhead at the largest generated case, and their target rows."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from benchmarks import conformance_time
from benchmarks.conformance_time import largest_case, per_call_overhead
from benchmarks.report import _isolation_lines
from benchmarks.targets import judge_targets
from conformance.cases.search import SearchSettings

ROOT = Path(__file__).resolve().parent.parent


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


def test_the_isolation_ratio_is_the_median_of_pairs_run_in_alternating_order(monkeypatch: pytest.MonkeyPatch) -> None:
    """A slow first isolated run (a cold cache, the other core busy) no longer decides the figure alone."""
    walls = iter([40.0, 20.0, 22.0, 20.0])  # (in-process, isolated), then (isolated, in-process)
    order: list[str] = []

    def fake(
        impl: str, timeout_s: float, report_option: str | None, extra: tuple[str, ...] = (), split_cpu: bool = False
    ) -> dict[str, Any]:
        order.append("in_process" if extra else "isolated")
        return {"exit_code": 0, "wall_s": next(walls)}

    monkeypatch.setattr(conformance_time, "run_one", fake)
    first = {
        "reference": {"exit_code": 0, "wall_s": 44.0},
        "reference (--in-process)": {"exit_code": 0, "wall_s": 30.0},
    }
    pairs = conformance_time._isolation_pairs(first, 60.0, None)
    assert order == ["in_process", "isolated", "isolated", "in_process"]
    assert [p["ratio"] for p in pairs] == pytest.approx([44 / 30, 20 / 40, 22 / 20])
    assert len(pairs) == conformance_time.ISOLATION_PAIRS == 3


def test_a_failed_run_ends_the_pairs(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(conformance_time, "run_one", lambda *a, **k: {"exit_code": 1, "wall_s": 1.0})
    first = {
        "reference": {"exit_code": 0, "wall_s": 44.0},
        "reference (--in-process)": {"exit_code": 0, "wall_s": 30.0},
    }
    assert len(conformance_time._isolation_pairs(first, 60.0, None)) == 1  # fewer than ISOLATION_PAIRS: no figure


def test_the_page_names_each_pair() -> None:
    pairs = [
        {"isolated_s": 44.0, "in_process_s": 30.0, "ratio": 44 / 30},
        {"isolated_s": 33.0, "in_process_s": 30.0, "ratio": 1.1},
    ]
    line = "\n".join(_isolation_lines({"isolation_ratio": 1.1, "isolation_pairs": pairs}))
    assert "1.10x, the median of 2 pairs (44.0 s / 30.0 s, 33.0 s / 30.0 s)" in line


def test_each_pair_says_where_its_cpu_went(monkeypatch: pytest.MonkeyPatch) -> None:
    """The profile of a miss: the isolated run's CPU in the suite and in its worker, beside the in-process run's."""
    asked: list[bool] = []

    def fake(
        impl: str, timeout_s: float, report_option: str | None, extra: tuple[str, ...] = (), split_cpu: bool = False
    ) -> dict[str, Any]:
        asked.append(split_cpu)
        worker = 0.0 if extra else 12.0
        return {"exit_code": 0, "wall_s": 30.0, "suite_cpu_s": 20.0, "worker_cpu_s": worker}

    monkeypatch.setattr(conformance_time, "run_one", fake)
    first = {
        "reference": {"exit_code": 0, "wall_s": 40.0, "suite_cpu_s": 25.0, "worker_cpu_s": 20.0},
        "reference (--in-process)": {"exit_code": 0, "wall_s": 30.0, "suite_cpu_s": 31.0, "worker_cpu_s": 0.5},
    }
    pairs = conformance_time._isolation_pairs(first, 60.0, None)
    assert all(asked) and len(asked) == 4
    assert (pairs[0]["isolated_suite_cpu_s"], pairs[0]["isolated_worker_cpu_s"], pairs[0]["in_process_cpu_s"]) == (
        25.0,
        20.0,
        31.5,
    )
    assert [p["isolated_worker_cpu_s"] for p in pairs[1:]] == [12.0, 12.0]
    page = "\n".join(_isolation_lines({"isolation_ratio": 1.0, "isolation_pairs": pairs, "round_trip_us": 58.7}))
    assert "isolated 25.0 s in the suite + 20.0 s in its worker against 31.5 s in process" in page
    assert "takes 59 us on this machine" in page
    unsplit = [{k: v for k, v in p.items() if "cpu" not in k} for p in pairs]
    without = "\n".join(_isolation_lines({"isolation_ratio": 1.0, "isolation_pairs": unsplit}))
    assert "in its worker" not in without  # negative control: no split measured, none printed


def _run(module_and_arguments: list[str], where: Path) -> subprocess.CompletedProcess[str]:
    """``python -m MODULE ARGS`` in ``where``, with this checkout importable and no failure files left behind."""
    return subprocess.run(
        [sys.executable, "-m", *module_and_arguments],
        capture_output=True,
        text=True,
        cwd=where,
        env={**os.environ, "PYTHONPATH": str(ROOT), "BACKPROP_CONFORMANCE_FAILURES": str(where / "f")},
        timeout=600,
        check=False,
    )


@pytest.mark.suite
@pytest.mark.parametrize("extra", [(), ("--in-process",)], ids=["isolated", "in process"])
def test_cpu_split_runs_the_cli_and_finds_the_worker_only_when_there_is_one(
    extra: tuple[str, ...], tmp_path: Path
) -> None:
    out = tmp_path / "cpu.json"
    done = _run(["benchmarks.cpu_split", str(out), "--impl", "reference", "--quick", *extra], tmp_path)
    assert done.returncode == 0, done.stderr[-2000:]
    assert "CONFORMS" in done.stdout + done.stderr
    split = json.loads(out.read_text())
    assert split["suite_cpu_s"] > 0.5
    if extra:
        assert split["children_cpu_s"] < 0.3 * split["suite_cpu_s"]  # no worker: at most a helper command
    else:
        assert split["children_cpu_s"] > 0.2  # the worker: numpy's import alone, then every call


@pytest.mark.suite
def test_cpu_split_passes_on_the_cli_exit_code(tmp_path: Path) -> None:
    out = tmp_path / "cpu.json"
    done = _run(["benchmarks.cpu_split", str(out), "--impl", "no_such_module_here"], tmp_path)
    plain = _run(["conformance", "--impl", "no_such_module_here"], tmp_path)
    assert done.returncode == plain.returncode != 0 and out.exists()


def test_the_pipe_round_trip_is_measured() -> None:
    trip = conformance_time.pipe_round_trip_us(rounds=1, trips=200)
    assert trip is not None and 0.5 < trip < 1e5
