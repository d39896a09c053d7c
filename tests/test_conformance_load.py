"""Same seed, same report, whatever the load (issue 17).

The shrinking budget used to be seconds: on a busy machine shrinking stopped earlier, so
the smallest network and the layers a cause explains changed with the load (the one-root-
cause test came out (9, 3, 1) at load 10 on two cores). It is now a count of value sets
judged (search.SearchSettings.shrink_cases). Here a run quiet and the same run with four
busy processes beside it give the same causes, verdicts and smallest cases, on catalogue
bugs whose smallest case needs shrinking, one of them with a budget that binds (its
shrinking stops at the budget, which is where a clock would have stopped elsewhere).
"""

from __future__ import annotations

import contextlib
import json
import re
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import replace
from typing import Any

import pytest
from hypothesis.internal.conjecture import engine as hypothesis_engine

import conformance.cases.search as search
import conformance.frontends.runner as runner
from conformance import check_implementation
from conformance.cases.search import SearchSettings
from conformance.reporting.report import Report, merge

from .broken_impls import SeedTypo, SgdStepIgnoresEta

pytestmark = pytest.mark.suite  # end to end (tests/test_tiers.py)

BUSY = 4


@contextmanager
def busy_processes(n: int = BUSY) -> Iterator[list[subprocess.Popen[bytes]]]:
    """``n`` processes spinning on the CPU beside the test, killed (by their own pid) afterwards."""
    procs: list[subprocess.Popen[bytes]] = []
    try:
        for _ in range(n):
            procs.append(subprocess.Popen([sys.executable, "-c", "while 1: pass"]))
        yield procs
    finally:
        for proc in procs:
            proc.kill()
        for proc in procs:
            proc.wait()


def _fingerprint(report: Report) -> str:
    """Causes (with their smallest cases), verdicts and the shrinking accounting, as canonical JSON."""
    data = merge([report]).to_dict()
    groups = [
        {k: g.get(k) for k in ("dtype", "regime", "judged", "shrink_judged", "shrink_budget_hit")}
        for g in report.groups
    ]
    return json.dumps({"causes": data["causes"], "verdicts": data["verdicts"], "groups": groups}, indent=1)


def _text(report: Report) -> str:
    return re.sub(r" in [0-9.]+ s\)$", ")", report.format(verbose=True))


# (implementation, the run's options): SeedTypo shrinks to [1, 1, 1] within the budget;
# SgdStepIgnoresEta's float32/scaled group has four causes, and in today's generated space
# runs out of --quick's budget (it ran out of the 5 s that budget replaced, too).
RUNS: dict[str, tuple[Any, dict[str, Any]]] = {
    "SeedTypo": (SeedTypo, {"regimes": ["typical", "saturating"], "dtypes": ["float64"]}),
    "SgdStepIgnoresEta": (SgdStepIgnoresEta, {"regimes": ["scaled"], "dtypes": ["float32"]}),
}


def _run(name: str, **extra: Any) -> Report:
    impl, options = RUNS[name]
    return check_implementation(impl(), quick=True, failures_dir=None, in_process=True, **options, **extra)


@pytest.fixture(scope="module")
def quiet() -> dict[str, Report]:
    """Each run of RUNS once, without busy processes, shared by the tests below (they add seconds each)."""
    return {name: _run(name) for name in RUNS}


@pytest.fixture
def shrink_budget(monkeypatch: pytest.MonkeyPatch) -> Any:
    """Run with another shrink_cases (check_implementation builds SearchSettings from quick/max_examples)."""
    original = runner.search_settings

    def use(cases: int) -> None:
        def chosen(n: int | None, seed: int, quick: bool) -> SearchSettings:
            return replace(original(n, seed, quick), shrink_cases=cases)

        monkeypatch.setattr(runner, "search_settings", chosen)

    return use


@pytest.mark.parametrize("name", list(RUNS))
def test_a_report_is_the_same_with_four_busy_processes_beside_it(name: str, quiet: dict[str, Report]) -> None:
    with busy_processes() as procs:
        busy = _run(name)
        assert all(p.poll() is None for p in procs), "the busy processes ran through the whole run"
    assert quiet[name].causes, quiet[name].format()
    assert sum(g["shrink_judged"] for g in quiet[name].groups) > 0, quiet[name].groups  # it did shrink
    assert _fingerprint(busy) == _fingerprint(quiet[name])
    assert _text(busy) == _text(quiet[name])  # the printed report too, but for its duration


def test_the_budget_binds_and_says_so(shrink_budget: Any, quiet: dict[str, Report]) -> None:
    """Negative control: where shrinking stops shows in the report, so the comparison above can see a change.

    With 10 cases per group SeedTypo's shrinking stops at the budget (it needs 30 to 90), the
    accounting and a note say so, and its smallest cases are not the full budget's [1, 1, 1].
    """
    shrink_budget(10)
    cut = _run("SeedTypo")
    assert all(g["shrink_judged"] == 10 and g["shrink_budget_hit"] >= 1 for g in cut.groups), cut.groups
    assert "note: shrinking stopped at its budget of 10 cases per group" in cut.format()
    assert "10 judged while shrinking (the budget, for " in cut.format(verbose=True)
    assert [c.network for c in cut.causes] != [c.network for c in quiet["SeedTypo"].causes]
    assert _fingerprint(cut) != _fingerprint(quiet["SeedTypo"])


def test_a_budget_that_is_not_reached_leaves_no_note(quiet: dict[str, Report]) -> None:
    """SeedTypo shrinks to [1, 1, 1] within the budget: no note that its smallest case may not be minimal."""
    report = quiet["SeedTypo"]
    assert all(not g["shrink_budget_hit"] for g in report.groups), report.groups
    assert all(c.network.startswith("network sizes (1, 1, 1)") for c in report.causes), report.format()
    assert "shrinking stopped at its budget" not in report.format()


class _RacingClock:
    """A clock that runs 50 s per reading: a machine so slow that any clock-based limit trips."""

    def __init__(self) -> None:
        self.now = 0.0

    def perf_counter(self) -> float:
        self.now += 50.0
        return self.now

    monotonic = perf_counter

    def __getattr__(self, name: str) -> Any:
        return getattr(time, name)


def test_no_clock_decides_a_report(monkeypatch: pytest.MonkeyPatch, quiet: dict[str, Report]) -> None:
    """Hypothesis stops shrinking after five minutes of its clock (engine.MAX_SHRINKING_SECONDS); the search
    switches that off (search._counts_only). With a clock racing 50 s per reading the report is unchanged.

    Negative control: without that switch the racing clock stops shrinking early, and the smallest cases
    (and so the report) change, as they would on a slow enough machine.
    """
    expected = _fingerprint(quiet["SeedTypo"])
    monkeypatch.setattr(hypothesis_engine, "time", _RacingClock())
    assert _fingerprint(_run("SeedTypo")) == expected
    monkeypatch.setattr(search, "_counts_only", contextlib.nullcontext)
    assert _fingerprint(_run("SeedTypo")) != expected
