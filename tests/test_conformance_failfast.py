"""A failing run costs what its verdicts need (issue 22 item 5), and the savings change no verdict.

Two savings, each held against the behaviour without it (the control) on the same seed:

- a shrink pass does not ask the implementation again for a value set already judged in the group
  that does not show the cause being shrunk (the replay of the search up to the cause's first case,
  a candidate met twice): its verdict is reused (``search._passes_over``; GroupCount.shrink_reused);
- a value set judged while shrinking stops at its root cause when that cause is settled and is not
  the one being shrunk (``CaseChecker.run``'s ``enough``), or, when nothing has failed, once it has
  passed the check the cause being shrunk belongs to (``through``): a later failure would be a later
  root. What a shrink pass learnt of such a value set is kept as "passed up to that check", and a
  later cause's pass reuses it only for a cause of that check or an earlier one.

Counts, not clocks: the calls the implementation receives, counted by a wrapper.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
import pytest

from conformance import check_implementation
from conformance.cases import search
from conformance.implementations.loader import load_implementation
from conformance.judging.checks import CaseChecker
from conformance.judging.findings import FLOAT32_PRECISION, Finding
from reference import Case
from reference.strategies import Architecture, make_case
from tests.broken_impls.base import Backprop
from tests.broken_impls.behaviour import SgdStepIgnoresEta
from tests.broken_impls.gradients import Float32Accumulation
from tests.broken_impls.huge import Correct


class Counting:
    """Counts the calls it passes on (backprop and sgd_step alike)."""

    def __init__(self, inner: Backprop) -> None:
        self.inner = inner
        self.calls = 0

    def backprop(self, case: Any) -> dict[str, Any]:
        self.calls += 1
        return self.inner.backprop(case)

    def sgd_step(self, case: Any, eta: float) -> dict[str, Any]:
        self.calls += 1
        return self.inner.sgd_step(case, eta)


class Garbage(Backprop):
    """Noise of the right shapes for every network, the same noise for the same case (determinism holds)."""

    def backprop(self, case: Any) -> dict[str, Any]:
        result = super().backprop(case)
        rng = _rng(case)
        for key in ("grad_weights", "grad_biases", "deltas"):
            result[key] = [rng.standard_normal(np.shape(a)).astype(case.dtype) for a in result[key]]
        result["cost"] = float(rng.standard_normal())
        return result


def _rng(case: Any) -> np.random.Generator:
    return np.random.default_rng([int(b) for b in np.ascontiguousarray(case.x).tobytes()[:64]] or [0])


# The groups where Garbage shows more than one cause (equation 1 mostly; in a saturated float32
# network the noise sometimes lands inside delta^L's tolerance, and a rarer cause is shrunk).
REGIMES, DTYPES = ["saturating"], ["float32"]


def _run(impl: Backprop) -> tuple[dict[str, Any], int]:
    counting = Counting(impl)
    report = check_implementation(
        counting, quick=True, regimes=REGIMES, dtypes=DTYPES, failures_dir=None, in_process=True
    )
    data = report.to_dict()
    for key in ("duration_seconds", "versions"):
        data.pop(key)
    return data, counting.calls


def _without_reuse(groups: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [{k: v for k, v in g.items() if k != "shrink_reused"} for g in groups]


@pytest.mark.suite
def test_the_savings_change_no_verdict_and_save_calls(monkeypatch: pytest.MonkeyPatch) -> None:
    saving, saving_calls = _run(Garbage())
    judge = search._judge
    monkeypatch.setattr(search, "_passes_over", lambda seen, target, check: False)  # every value set asked again
    monkeypatch.setattr(search, "_judge", lambda c, case, eta, p, target=None, check=None: judge(c, case, eta, p))
    control, control_calls = _run(Garbage())
    assert saving["ok"] is False
    assert sum(g["shrink_judged"] for g in saving["groups"]) > 0  # it shrank
    assert sum(g["shrink_reused"] for g in saving["groups"]) > 0  # and met value sets it had judged
    assert sum(g["shrink_reused"] for g in control["groups"]) == 0
    assert _without_reuse(saving.pop("groups")) == _without_reuse(control.pop("groups"))
    assert saving == control  # the same verdicts, causes and smallest cases
    assert saving_calls < control_calls, (saving_calls, control_calls)


@pytest.mark.suite
def test_a_failing_value_set_costs_no_more_calls_than_a_passing_one() -> None:
    """The calls of a failing quick run are at most a correct run's calls per case times the value sets
    asked of it: the explore pass's, and those the shrinking asked (its budget, runner.QUICK_SHRINK_CASES,
    less the ones it reused). Diagnosis asks for second cases; it must not cost more than the checks a
    correct case goes through."""
    _, correct_calls = _run(Correct())
    failing, failing_calls = _run(Garbage())
    judged = sum(g["judged"] for g in failing["groups"])
    asked_while_shrinking = sum(g["shrink_judged"] - g["shrink_reused"] for g in failing["groups"])
    per_case = correct_calls / judged  # the same seed judges the same number of cases
    assert failing_calls <= per_case * (judged + asked_while_shrinking), (failing_calls, correct_calls)


def _case(dtype: str = "float64") -> Case:
    return make_case(Architecture((3, 4, 2), ("sigmoid", "sigmoid"), "quadratic"), "typical", 3, "mean", dtype, 7)


def _asking(asked: list[Finding], answer: bool) -> Callable[[Finding], bool]:
    """An ``enough`` that notes every root it is asked about and gives ``answer``."""

    def enough(root: Finding) -> bool:
        asked.append(root)
        return answer

    return enough


def _judged(impl: Backprop, case: Case, enough: Any = None, through: str | None = None) -> tuple[Any, int]:
    counting = Counting(impl)
    checker = CaseChecker(load_implementation(counting, in_process=True))
    report = checker.run(case, 0.5, [2, 0, 1], enough, through)
    assert report is not None
    return report, counting.calls


@pytest.mark.parametrize(
    "impl", [Garbage(), Float32Accumulation(), SgdStepIgnoresEta()], ids=["garbage", "float32", "sgd_step"]
)
def test_judging_stops_at_a_settled_root_named_as_in_full(impl: Backprop) -> None:
    case = _case()
    full, full_calls = _judged(impl, case)
    asked: list[Finding] = []
    early, early_calls = _judged(impl, case, _asking(asked, True))
    assert asked == [full.root()]  # asked once, with the root the full judging ends with
    assert early.root() == full.root()
    assert early.findings == full.findings[: len(early.findings)]  # the same findings, fewer of them
    assert len(early.findings) < len(full.findings)
    assert early_calls <= full_calls
    if isinstance(impl, Float32Accumulation):  # named as the summary names it, float32 included
        assert FLOAT32_PRECISION in asked[0].message
    if isinstance(impl, SgdStepIgnoresEta):  # the batch properties' calls are not made
        assert early_calls < full_calls, (early_calls, full_calls)


def test_judging_goes_on_when_the_root_is_the_one_wanted() -> None:
    case = _case()
    full, full_calls = _judged(Garbage(), case)
    wanted, wanted_calls = _judged(Garbage(), case, lambda root: False)
    assert wanted.findings == full.findings and wanted_calls == full_calls


def test_a_case_that_passes_never_asks() -> None:
    asked: list[Finding] = []
    report, _ = _judged(Correct(), _case(), _asking(asked, True))
    assert report.root() is None and asked == []


def test_a_passing_case_stops_after_the_check_wanted() -> None:
    """``through``: a value set that passed the check of the cause being shrunk, and every one before it,
    cannot show that cause; the SGD step's cause needs neither batch property (m + 2 calls)."""
    case = _case()
    full, full_calls = _judged(Correct(), case)
    partial, partial_calls = _judged(Correct(), case, lambda root: True, through="sgd_step")
    assert partial.root() is None
    assert partial.findings == full.findings[: len(partial.findings)]
    assert {f.check for f in partial.findings} >= {"structure", "determinism", "equation1", "sgd_step"}
    assert not {f.check for f in partial.findings} & {"batch_additivity", "permutation"}
    assert partial_calls < full_calls, (partial_calls, full_calls)
    # The checks after ``through`` stay unjudged even when they would fail: the caller asked for no more.
    broken, _ = _judged(_SingleSamplesOff(), case, lambda root: True, through="sgd_step")
    whole, _ = _judged(_SingleSamplesOff(), case)
    assert broken.root() is None
    root = whole.root()
    assert root is not None and root.check == "batch_additivity", whole.findings  # the control: it is wrong


def test_a_failing_case_is_judged_past_through_when_its_root_is_wanted() -> None:
    """A failure at or before ``through`` that is the cause wanted (``enough`` says False) is judged in full."""
    case = _case()
    full, full_calls = _judged(SgdStepIgnoresEta(), case)
    wanted, wanted_calls = _judged(SgdStepIgnoresEta(), case, lambda root: False, through="sgd_step")
    assert wanted.findings == full.findings and wanted_calls == full_calls


class _SingleSamplesOff(Backprop):
    """Right on every batch but a single sample, where its gradients are doubled: batch additivity fails."""

    def backprop(self, case: Any) -> dict[str, Any]:
        result = super().backprop(case)
        if case.m == 1:  # the cases here have m = 3: only batch additivity asks single samples
            for key in ("grad_weights", "grad_biases"):
                result[key] = [2 * np.asarray(g) for g in result[key]]
        return result


def test_what_a_partial_judging_learnt_is_reused_only_for_causes_it_settled() -> None:
    """A value set judged up to the SGD step passed every check to that one: it does not show a cause of
    equation 2 or of the SGD step (reused), but may show one of batch additivity, or float32 precision,
    which can be the root at any check (asked again). Judged in full, it passes over every cause."""
    partial = search._Seen(None, False, "sgd_step")
    assert search._passes_over(partial, "equation2: x", "equation2")
    assert search._passes_over(partial, "sgd_step: x", "sgd_step")
    assert not search._passes_over(partial, "batch_additivity: x", "batch_additivity")
    assert not search._passes_over(partial, "precision: x", None)
    whole = search._Seen(None, False)
    assert all(search._passes_over(whole, t, c) for t, c in [("batch_additivity: x", "batch_additivity"), ("p", None)])
    failed = search._Seen("sgd_step: x", False)
    assert not search._passes_over(failed, "sgd_step: x", "sgd_step")  # the cause itself: asked again
    assert search._passes_over(failed, "batch_additivity: x", "batch_additivity")
