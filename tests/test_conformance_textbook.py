"""Positive controls for the cost's error model: the textbook formulas, computed from a, pass.

Nielsen's network2.py (and torch's binary_cross_entropy) compute the cross-entropy cost as
-y ln a - (1 - y) ln(1 - a) from a = sigma(z), and the log-likelihood as -sum y ln a of
a softmax a. Correct code; but ln(1 - a) turns a's few-ulp error into a relative error of
about u e^z, 1e4 times the reference's at z = 9.4 already. conformance/judging/tolerances.py
("The cost computed from a") puts that rounding into the model. These tests sweep the
whole range where the textbook values are finite, in float64 and float32, and keep the
model honest from the other side: float32 arithmetic inside float64 (and float16 inside
float32) and a real sign bug still fail at every point of the sweep where they show.
Where a rounds to exactly 1 (0 for the log-likelihood), the textbook value is infinite:
the suite rejects it there (the structure check), rightly, since the exact cost is finite.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
import pytest
from hypothesis import HealthCheck, Phase, given, seed, settings

from conformance import check_implementation, load_implementation
from conformance.cases.search import SearchSettings
from conformance.judging.checks import CaseChecker
from conformance.judging.tolerances import UNIT_ROUNDOFF, Expected, Unusable, expect, norm_mismatch
from reference import Case
from reference.strategies import cases

from .textbook_impls import Network2, cross_entropy_fn, log_likelihood_fn, sigmoid, softmax

DTYPES = ("float64", "float32")
LOWER_ROUNDOFF = {"float32": 2.0**-24, "float16": 2.0**-11}
# float32's value of -ln(1 - a) saturates at ln(2^24) = 16.6, float64's at ln(2^53) = 36.7.
Z = np.concatenate([np.linspace(-120.0, 40.0, 801), [9.4]])
LABELS = (0.0, 0.3, 0.7, 1.0)
# The textbook formulas compute the cost from a: the convention they declare (Network2's
# capabilities), under which alone the cost's bound admits logarithms of the rounded a.
FROM_A = {"cost_from_activations": 1.0}
GAPS = np.linspace(0.0, 800.0, 801)


def _cross_entropy_case(z: float, y: float, dtype: str) -> Case:
    """One sample, one sigmoid output, z^2 = b exactly (w = 0)."""
    return Case(
        (1, 1),
        ("sigmoid",),
        "cross_entropy",
        "sum",
        dtype,
        [np.zeros((1, 1), dtype)],
        [np.array([z], dtype)],
        np.ones((1, 1), dtype),
        np.array([[y]], dtype),
    )


def _log_likelihood_case(logits: list[float], y: list[float], dtype: str) -> Case:
    n = len(logits)
    return Case(
        (1, n),
        ("softmax",),
        "log_likelihood",
        "sum",
        dtype,
        [np.zeros((n, 1), dtype)],
        [np.array(logits, dtype)],
        np.ones((1, 1), dtype),
        np.array([y], dtype),
    )


def _textbook_cost(case: Case, compute: str | None = None) -> float | None:
    """The textbook cost of a one-sample case, computed in ``compute`` (default: the case's dtype).

    None where it is not finite (a rounded to 1 or 0, or nan_to_num's stand-in for infinity).
    """
    dtype = np.dtype(compute or case.dtype)
    z, y = case.biases[0].astype(dtype).reshape(-1, 1), case.y.astype(dtype).reshape(-1, 1)
    with np.errstate(over="ignore", divide="ignore", invalid="ignore"):
        if case.cost == "cross_entropy":
            value = cross_entropy_fn(sigmoid(z), y)
        else:
            value = log_likelihood_fn(softmax(z), y)
    if not np.isfinite(value) or abs(value) >= np.finfo(dtype).max:
        return None
    return float(value)


def _sign_bug(case: Case) -> float | None:
    """-y ln a + (1 - y) ln(1 - a): the second term's sign lost, in the case's own dtype."""
    z, y = case.biases[0].reshape(-1, 1), case.y.reshape(-1, 1)
    with np.errstate(over="ignore", divide="ignore", invalid="ignore"):
        a = sigmoid(z)
        value = np.sum(np.nan_to_num(-y * np.log(a) + (1 - y) * np.log(1 - a)))
    return float(value) if np.isfinite(value) and abs(value) < np.finfo(case.dtype).max else None


def _passes(case: Case, value: float, exp: Expected | None = None) -> bool:
    exp = exp or expect(case, FROM_A)
    return norm_mismatch(np.asarray(value), np.asarray(exp.cost), exp.tol_cost) is None


def _sweep(make: Callable[[str], list[Case]]) -> None:
    """Every finite textbook value passes; the negative controls fail wherever they are finite."""
    for dtype in DTYPES:
        lower = {"float64": "float32", "float32": "float16"}[dtype]
        finite, worst, lower_checked = 0, 0.0, 0
        for case in make(dtype):
            exp = expect(case, FROM_A)
            value = _textbook_cost(case)
            if value is not None:
                finite += 1
                assert _passes(case, value, exp), (dtype, case.biases[0], case.y, value, exp.cost)
                worst = max(worst, abs(value - exp.cost) / (UNIT_ROUNDOFF[dtype] * max(abs(exp.cost), 1e-300)))
            # Lower precision inside: rejected wherever it made an error of its own size, not by
            # coincidence an exact answer (z = -88.5 gives 88.5 in float32 as in float64), nor
            # one below the absolute rounding of ln(1 - a) near 1 (e^-120 taken as 0).
            low = _textbook_cost(case, compute=lower)
            if low is not None and abs(low - exp.cost) > LOWER_ROUNDOFF[lower] * (abs(exp.cost) + 1) / 10:
                lower_checked += 1
                assert not _passes(case, low, exp), (dtype, lower, case.biases[0], case.y, low)
        assert finite >= 200 and lower_checked >= 30, (finite, lower_checked)
        # The sweep reaches where the from-a rounding dominates: errors of 1e3 u |C| and more,
        # which the model without it (about 10 u |C|) rejected.
        assert worst > 1e3, worst


def test_textbook_cross_entropy_passes_wherever_it_is_finite() -> None:
    _sweep(lambda dtype: [_cross_entropy_case(float(z), y, dtype) for z in Z for y in LABELS])


def test_textbook_log_likelihood_passes_wherever_it_is_finite() -> None:
    def make(dtype: str) -> list[Case]:
        out = []
        for d in GAPS:
            out.append(_log_likelihood_case([0.0, -d], [0.0, 1.0], dtype))  # the target is the unlikely class
            out.append(_log_likelihood_case([0.0, -d], [0.2, 0.8], dtype))
            out.append(_log_likelihood_case([d / 3, 0.0, -d, 1.0], [0.1, 0.2, 0.3, 0.4], dtype))
        return out

    _sweep(make)


@pytest.mark.parametrize("dtype", DTYPES)
def test_a_sign_bug_in_the_cross_entropy_still_fails_across_the_range(dtype: str) -> None:
    """The widened bound still rejects a real bug wherever its term is not negligible (z >= -10)."""
    checked = 0
    for z in Z[Z >= -10.0]:
        for y in (0.0, 0.3, 0.7):
            case = _cross_entropy_case(float(z), y, dtype)
            value = _sign_bug(case)
            if value is None or _textbook_cost(case) is None:
                continue
            checked += 1
            assert not _passes(case, value), (dtype, z, y, value)
    assert checked >= 300, checked


# ----- the whole suite, default settings -----

FINITE_REGIMES = ("small", "typical", "zeros", "square", "wide", "deep", "big_batch")


@pytest.mark.suite
@pytest.mark.parametrize("dtype", DTYPES)
def test_network2_conforms_with_the_default_settings(dtype: str) -> None:
    """Every regime, default sizes, 40 cases per group; where its output rounds to exactly 1 (or 0)
    the a-based cost is infinite by construction, which its declared convention says."""
    report = check_implementation(Network2(), max_examples=40, failures_dir=None, dtypes=[dtype])
    assert report.ok, report.format()
    checked = {v.check for v in report.verdicts if v.status == "passed"}
    assert {"cost", "equation1", "equation2", "equation4", "sgd_step", "batch_additivity"} <= checked


_DEFAULT = SearchSettings(1)


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("regime", ["saturating", "scaled"])
def test_network2_is_within_tolerance_where_saturated_whenever_its_cost_is_finite(regime: str, dtype: str) -> None:
    """The saturating regimes, case by case: every finite textbook result is within the tolerances.

    (Through the tolerance model directly: where a rounds to 1 the textbook cost is infinite
    and the whole-suite run rightly rejects it, so the suite cannot show this part.)
    """
    seen = {"finite": 0, "saturated": 0}

    @seed(1)
    @settings(
        max_examples=60,
        database=None,
        deadline=None,
        phases=[Phase.generate],
        suppress_health_check=list(HealthCheck),
    )
    @given(
        case=cases(
            regimes=[regime],
            activations=["sigmoid", "softmax"],
            costs=["cross_entropy", "log_likelihood"],
            dtypes=[dtype],
            max_layers=_DEFAULT.max_layers,
            max_width=_DEFAULT.max_width,
            max_batch=_DEFAULT.max_batch,
            common_layers=_DEFAULT.common_layers,
            common_width=_DEFAULT.common_width,
            common_batch=_DEFAULT.common_batch,
        )
    )
    def run(case: Case) -> None:
        try:
            exp = expect(case, FROM_A)
        except Unusable:
            return
        with np.errstate(all="ignore"):
            result = Network2().backprop(case)
            finite = bool(np.all(np.abs(Network2().sample_costs(case)) < np.finfo(dtype).max))
        if not (finite and np.isfinite(result["cost"])):
            return
        seen["finite"] += 1
        seen["saturated"] += bool(np.max(exp.a[-1]) > 1 - 1e-4)  # z^L > 9.2: the old bound failed there
        assert norm_mismatch(np.asarray(result["cost"]), np.asarray(exp.cost), exp.tol_cost) is None
        for key, tols in (
            ("deltas", exp.tol_deltas),
            ("grad_weights", exp.tol_weights),
            ("grad_biases", exp.tol_biases),
        ):
            for actual, expected, tol in zip(result[key], getattr(exp, key), tols, strict=True):
                assert norm_mismatch(actual, expected, tol) is None, key

    run()
    assert seen["finite"] >= 20 and seen["saturated"] >= 5, seen


def test_where_the_textbook_cost_is_infinite_only_the_cost_fails_and_says_why() -> None:
    """An infinite a-based cost is the cost check's failure, not a malformed answer that blocks the rest.

    At z^L = 40 the sigmoid output rounds to exactly 1 in float64, so ln(1 - a) is -inf: the cost
    is wrong (its exact value, about 40, is finite), but the gradients (a - y) are still right and
    must still be judged.
    """
    case = Case(
        (1, 2),
        ("sigmoid",),
        "cross_entropy",
        "mean",
        "float64",
        [np.array([[10.0], [1.0]])],
        [np.array([0.0, 0.5])],
        np.array([[4.0], [0.5]]),  # z^L = [40, 4.5] for the first sample: a_0 rounds to 1
        np.array([[0.0, 1.0], [1.0, 0.0]]),
    )

    class Undeclared(Network2):
        capabilities = {k: v for k, v in Network2.capabilities.items() if k != "conventions"}

    report = CaseChecker(load_implementation(Undeclared(), in_process=True)).run(case, 0.5, (1, 0))
    assert report is not None
    failed = [f for f in report.findings if f.status == "failed"]
    assert [f.check for f in failed] == ["cost"], failed
    assert "rounds to exactly 0 or 1" in failed[0].message and "from z^L" in failed[0].message, failed[0].message
    assert '{"cost_from_activations": 1}' in failed[0].message
    passed = {f.check for f in report.findings if f.status == "passed"}
    assert {"structure", "determinism", "equation1", "equation3", "equation4"} <= passed, report.findings
    # Declared, the cost is not covered on this case, and nothing fails.
    declared = CaseChecker(load_implementation(Network2(), in_process=True)).run(case, 0.5, (1, 0))
    assert declared is not None
    assert not [f for f in declared.findings if f.status == "failed"], declared.findings
    cost = [f for f in declared.findings if f.check == "cost"]
    assert [f.status for f in cost] == ["not covered"] and "cost_from_activations" in cost[0].message


@pytest.mark.suite
def test_the_a_based_cost_convention_does_not_excuse_a_wrong_finite_cost() -> None:
    """Negative control: declared, a cost that is wrong where it is finite still fails."""

    class WrongCost(Network2):
        def backprop(self, case: Case) -> dict[str, Any]:
            result = super().backprop(case)
            result["cost"] = 2 * result["cost"]
            return result

    report = check_implementation(WrongCost(), quick=True, failures_dir=None, dtypes=["float64"], regimes=["typical"])
    assert "cost" in {v.check for v in report.failed()}, report.format()


@pytest.mark.parametrize("value", [0.5, 2, True, "yes"])
def test_the_a_based_cost_convention_is_0_or_1(value: object) -> None:
    from conformance.implementations.capabilities import CapabilitiesError, parse_capabilities

    with pytest.raises(CapabilitiesError, match="cost_from_activations"):
        parse_capabilities({"conventions": {"cost_from_activations": value}})
    declared = parse_capabilities({"conventions": {"cost_from_activations": 1}})
    assert declared.conventions == {"cost_from_activations": 1.0}
