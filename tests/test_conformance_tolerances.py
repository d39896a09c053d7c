"""The error model behind the suite's tolerances: loose enough for correct code, tight enough for bugs."""

from __future__ import annotations

import dataclasses
from typing import Any

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings

import reference
from conformance.cases.search import SearchSettings
from conformance.judging.tolerances import Unusable, ambiguous_kink, expect, norm_mismatch
from reference import activations
from reference.strategies import SIZE_REGIMES, Architecture, cases, make_case

from . import conformance_planted as planted


def _per_sample_reversed(case: Any) -> dict[str, list[np.ndarray]]:
    """A correct implementation with another summation order: one sample at a time, summed backwards."""
    m = case.m
    parts = [reference.backprop(case.replace(x=case.x[s : s + 1], y=case.y[s : s + 1])) for s in range(m)]
    out: dict[str, list[np.ndarray]] = {"deltas": [], "grad_weights": [], "grad_biases": []}
    for i in range(len(case.weights)):
        out["deltas"].append(np.concatenate([p["deltas"][i] for p in parts]))
        for key in ("grad_weights", "grad_biases"):
            total = np.zeros_like(parts[0][key][i])
            for p in reversed(parts):
                total = total + p[key][i]  # each part is a one-sample gradient (no 1/m yet)
            out[key].append(total / m if case.reduction == "mean" else total)
    return out


def _mismatches(result: dict[str, list[np.ndarray]], case: Any) -> list[str]:
    exp = expect(case)
    found = []
    for key, tols in (("deltas", exp.tol_deltas), ("grad_weights", exp.tol_weights), ("grad_biases", exp.tol_biases)):
        for i, (actual, expected, tol) in enumerate(zip(result[key], getattr(exp, key), tols, strict=True)):
            if norm_mismatch(actual, expected, tol) is not None:
                found.append(f"{key}[{i}]")
    return found


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(cases(dtypes=("float32",), max_layers=6))
def test_correct_float32_code_is_within_tolerance(case: Any) -> None:
    try:
        result = reference.backprop(case)  # computed in float32 throughout
        _ = expect(case)
    except (Unusable, FloatingPointError):
        return
    assert _mismatches(result, case) == []


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(cases(dtypes=("float64",), max_layers=6, min_batch=2))
def test_another_summation_order_in_float64_is_within_tolerance(case: Any) -> None:
    try:
        _ = expect(case)
    except Unusable:
        return
    assert _mismatches(_per_sample_reversed(case), case) == []


@pytest.mark.parametrize("seed", range(10))
def test_float64_computed_in_float32_is_rejected(seed: int) -> None:
    arch = Architecture((4, 5, 5, 3), ("tanh", "sigmoid", "identity"), "quadratic")
    case = make_case(arch, "typical", m=4, seed=seed)
    assert len(_mismatches(planted.float32_inside(case), case)) == 9  # every layer of every quantity


# The default search's space (conformance.cases.search.SearchSettings): the new value regime and the
# size regimes, at the sizes the default run draws (up to 16 layers, 64 units, 64 samples).
_DEFAULT = SearchSettings(1)
_LARGE: dict[str, Any] = {
    "max_layers": _DEFAULT.max_layers,
    "max_width": _DEFAULT.max_width,
    "max_batch": _DEFAULT.max_batch,
    "common_layers": _DEFAULT.common_layers,
    "common_width": _DEFAULT.common_width,
    "common_batch": _DEFAULT.common_batch,
}


@settings(max_examples=100, deadline=None, suppress_health_check=list(HealthCheck))
@given(cases(regimes=("scaled", *SIZE_REGIMES), dtypes=("float32",), **_LARGE))
def test_correct_float32_code_is_within_tolerance_at_every_scale_and_size(case: Any) -> None:
    """Magnitudes from 1e-3 to 1e3 and 64-wide, 16-deep, 64-sample cases: correct float32 code passes."""
    try:
        _ = expect(case)
    except Unusable:
        return
    with np.errstate(all="ignore"):
        result = reference.backprop(case)
    assert _mismatches(result, case) == []


@settings(max_examples=60, deadline=None, suppress_health_check=list(HealthCheck))
@given(cases(regimes=("scaled", *SIZE_REGIMES), dtypes=("float64",), min_batch=2, **_LARGE))
def test_another_summation_order_is_within_tolerance_at_every_scale_and_size(case: Any) -> None:
    try:
        _ = expect(case)
    except Unusable:
        return
    assert _mismatches(_per_sample_reversed(case), case) == []


@pytest.mark.parametrize("regime", ["scaled", *SIZE_REGIMES])
def test_float64_computed_in_float32_is_rejected_in_the_new_regimes(regime: str) -> None:
    """The wider space must not widen the tolerances: float32 inside float64 still fails.

    At least in every layer of every quantity whose tolerance is finer than float32 could be (below
    1e-9 of its norm, 100 times under u32). The exceptions are honest: below a saturated
    tanh (the scaled regime reaches |z| ~ 1e3) the gradients are ~1e-20, under the absolute
    floor of a naive sigma' (1 - tanh^2 errs by u absolutely), which no dtype can beat.
    """
    arch = Architecture((4, 5, 5, 3), ("tanh", "sigmoid", "identity"), "quadratic")
    total = 0
    for seed in range(10):
        case = make_case(arch, regime, m=4, seed=seed)
        exp = expect(case)
        quantities = (("deltas", exp.tol_deltas), ("grad_weights", exp.tol_weights), ("grad_biases", exp.tol_biases))
        fine = [
            f"{key}[{i}]"
            for key, tols in quantities
            for i, (value, tol) in enumerate(zip(getattr(exp, key), tols, strict=True))
            if np.linalg.norm(tol) < 1e-9 * np.linalg.norm(value)
        ]
        assert set(fine) <= set(_mismatches(planted.float32_inside(case), case)), seed
        total += len(fine)
    assert total >= 60, total  # most layers are judged that finely: the test is not vacuous


def test_norm_mismatch_reports_the_worst_element_and_the_norms() -> None:
    expected = np.array([[1.0, 2.0], [3.0, 4.0]])
    tol = np.full((2, 2), 1e-12)
    assert norm_mismatch(expected + 1e-13, expected, tol) is None
    actual = expected.copy()
    actual[1, 0] += 1e-9
    mismatch = norm_mismatch(actual, expected, tol)
    assert mismatch is not None
    assert mismatch.index == (1, 0) and mismatch.actual == actual[1, 0] and mismatch.expected == 3.0
    assert mismatch.error == pytest.approx(1e-9, rel=1e-6) and mismatch.tolerance == pytest.approx(2e-12)


def test_a_relu_kink_within_rounding_is_skipped_but_an_exact_zero_is_kept() -> None:
    arch = Architecture((2, 1, 1), ("relu", "identity"), "quadratic")
    base = make_case(arch, "typical", m=1, seed=0)
    x = np.array([[0.1, 0.2]])
    # 0.1 * 3 - 0.2 * 1.5 rounds to exactly 0, but a fused multiply-add leaves the rounding error
    # of 0.1 * 3 instead: which side of the kink an implementation lands on is unknowable.
    near = base.replace(x=x, weights=[np.array([[3.0, -1.5]]), base.weights[1]], biases=[np.zeros(1), base.biases[1]])
    with pytest.raises(Unusable, match="within rounding error of the kink"):
        expect(near)
    exact = near.replace(weights=[np.zeros((1, 2)), base.weights[1]])
    assert expect(exact).deltas[0][0, 0] == 0.0


def test_a_kink_on_the_activation_record_is_what_the_suite_refuses_to_judge_beside(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # The kinks come from the record (reference.activations.kinks_of), not from the name "relu":
    # give identity a kink at 1 and a z one rounding error from 1 becomes ambiguous.
    z = [np.array([[1.0 + 2.0**-50, 3.0]])]
    err = [np.full((1, 2), 2.0**-45)]
    assert ambiguous_kink(("identity",), z, err) is None  # identity: no kink
    assert ambiguous_kink(("relu",), z, err) is None  # relu's kink is at 0, far from z
    records = dict(activations.ACTIVATION_RECORDS)
    records["identity"] = dataclasses.replace(records["identity"], kinks=(1.0,))
    monkeypatch.setattr(activations, "ACTIVATION_RECORDS", records)
    assert ambiguous_kink(("identity",), z, err) == (2, 0, 0, 1.0)
    assert ambiguous_kink(("relu",), [np.array([[2.0**-50, 3.0]])], err) == (2, 0, 0, 0.0)
