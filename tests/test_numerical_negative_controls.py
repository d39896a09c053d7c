"""Every checker must reject planted errors (and name where they are), not only accept correct gradients.

Plants, each on a gradient the checkers accept unplanted (asserted first):
  one entry off by 1e-6 relative (the largest-|g| entry of a tensor, so that 1e-6 of it sits far
      above the numerical error bounds ~1e-10 relative),
  a square layer's gradient transposed (same shape, so no shape check can see it),
  a sign flipped (one tensor negated),
  a missing 1/m (reduction "mean" but the gradient of the sum, m >= 2).
Checkers: gradcheck (central, complex step, mpmath), directional_check, taylor_slope_test
(symmetric, order 3). The one-sided slope test (order 2) is held to the gross plants only: its
remainder |t e + t^2 a| shows the O(t) term e only once t < e/a, where t^2 a must still clear the
noise, i.e. e >> sqrt(a noise) ~ 1e-8, which a 1e-6 relative error of one entry does not reach.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import replace

import numpy as np
import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

import reference
from reference.gradcheck import gradcheck, judge_gradient
from reference.numerical import (
    Problem,
    central_differences,
    complex_step,
    directional_check,
    from_case,
    mp_ground_truth,
    taylor_slope_test,
)
from reference.strategies import cases

Plant = Callable[[list[np.ndarray], Problem], tuple[list[np.ndarray], int]]


def _case(acts: tuple[str, ...], cost: str = "quadratic", seed: int = 1, m: int = 5) -> reference.Case:
    sizes = (4,) * (len(acts) + 1)
    if cost == "log_likelihood":
        sizes = sizes[:-1] + (3,)
    net = reference.Network.random(sizes, acts, cost=cost, seed=seed)
    rng = np.random.default_rng(seed)
    y = rng.random((m, sizes[-1]))
    if cost == "log_likelihood":
        y = y / y.sum(axis=1, keepdims=True)
    return net.case(rng.standard_normal((m, sizes[0])), y)


CASES = {
    "tanh-sigmoid": _case(("tanh", "sigmoid")),
    "softplus-identity": _case(("softplus", "softplus", "identity")),
    "sigmoid-softmax-ll": _case(("sigmoid", "softmax"), cost="log_likelihood"),
}


def one_entry(g: list[np.ndarray], p: Problem) -> tuple[list[np.ndarray], int]:
    t = 2
    i = int(np.argmax(np.abs(g[t])))
    g[t].flat[i] *= 1 + 1e-6
    return g, t


def transposed(g: list[np.ndarray], p: Problem) -> tuple[list[np.ndarray], int]:
    g[0] = g[0].T.copy()
    return g, 0


def sign_flipped(g: list[np.ndarray], p: Problem) -> tuple[list[np.ndarray], int]:
    g[1] = -g[1]
    return g, 1


def missing_one_over_m(g: list[np.ndarray], p: Problem) -> tuple[list[np.ndarray], int]:
    m = p.case.m
    return [x * m for x in g], 0


PLANTS: dict[str, Plant] = {
    "one entry 1e-6": one_entry,
    "transposed": transposed,
    "sign flipped": sign_flipped,
    "missing 1/m": missing_one_over_m,
}
GROSS = ("transposed", "sign flipped", "missing 1/m")


def _planted(case_name: str, plant: str) -> tuple[Problem, Problem, int]:
    good = from_case(CASES[case_name])
    g, tensor = PLANTS[plant]([np.array(x, copy=True) for x in good.gradient], good)
    return good, replace(good, gradient=tuple(g)), tensor


@pytest.mark.parametrize("case_name", CASES)
def test_every_checker_accepts_the_unplanted_gradient(case_name: str) -> None:
    good = from_case(CASES[case_name])
    assert judge_gradient(good, central_differences(good)).passed
    assert judge_gradient(good, complex_step(good)).passed
    assert directional_check(good).passed
    assert taylor_slope_test(good).verdict == "pass"
    assert taylor_slope_test(good, symmetric=False).verdict == "pass"


@pytest.mark.parametrize("plant", PLANTS)
@pytest.mark.parametrize("case_name", CASES)
def test_entrywise_checkers_reject_and_locate_plants(case_name: str, plant: str) -> None:
    good, bad, tensor = _planted(case_name, plant)
    changed = np.asarray(bad.gradient[tensor]) != np.asarray(good.gradient[tensor])
    for numeric in (central_differences(bad), complex_step(bad)):
        result = judge_gradient(bad, numeric)
        assert not result.passed, result.message
        report = result.tensors[tensor]
        assert not report.passed, result.message
        # the worst entry reported is one the plant changed
        idx = tuple(int(v) for v in re.findall(r"\d+", report.worst_index))
        assert changed[idx], result.message


@pytest.mark.parametrize("plant", PLANTS)
def test_mpmath_verdict_rejects_plants(plant: str) -> None:
    good, bad, tensor = _planted("tanh-sigmoid", plant)
    truth = mp_ground_truth(good.case, digits=30)
    assert truth.confirmed
    assert judge_gradient(good, truth.numeric).passed
    result = judge_gradient(bad, truth.numeric)
    assert not result.tensors[tensor].passed, result.message


@pytest.mark.parametrize("plant", PLANTS)
@pytest.mark.parametrize("case_name", CASES)
def test_directional_check_rejects_plants_and_names_the_tensor(case_name: str, plant: str) -> None:
    _, bad, tensor = _planted(case_name, plant)
    result = directional_check(bad)
    assert not result.passed, result.message
    failed_tensors = {c.tensor for c in result.failures if c.tensor is not None}
    if plant == "missing 1/m":
        assert failed_tensors == set(range(len(bad.params))), result.message
    else:
        assert failed_tensors == {tensor}, result.message


@pytest.mark.parametrize("plant", PLANTS)
@pytest.mark.parametrize("case_name", CASES)
def test_symmetric_slope_test_rejects_plants(case_name: str, plant: str) -> None:
    _, bad, _ = _planted(case_name, plant)
    result = taylor_slope_test(bad)
    assert result.failed, result.message


@pytest.mark.parametrize("plant", GROSS)
@pytest.mark.parametrize("case_name", CASES)
def test_one_sided_slope_test_rejects_gross_plants(case_name: str, plant: str) -> None:
    _, bad, _ = _planted(case_name, plant)
    result = taylor_slope_test(bad, symmetric=False)
    assert result.failed, result.message


def test_failure_message_names_entry_values_method_step_and_tolerance() -> None:
    _, bad, _ = _planted("tanh-sigmoid", "one entry 1e-6")
    result = judge_gradient(bad, central_differences(bad))
    first = result.message.splitlines()[1].strip()
    pattern = (
        r"^dC/dw\^3\[\d+, \d+\]: analytic -?[\d.e+-]+, numeric -?[\d.e+-]+ "
        r"\(central differences, h = 2\^-1[67]\), relative error 1\.0e-6 > tolerance [\d.]+e-\d+ "
        r"\(layer 3, 1 of 16 entries fail\)$"
    )
    assert re.match(pattern, first), first


def test_plants_through_the_callable_interface() -> None:
    # the same plant, judged through gradcheck(cost, params=, gradient=) with no knowledge of the network
    case = CASES["tanh-sigmoid"]
    good = from_case(case)
    g = [np.array(x, copy=True) for x in good.gradient]
    g[0] = g[0].T.copy()
    result = gradcheck(good.cost, params=list(good.params), gradient=g, names=list(good.names))
    assert not result.passed
    assert result.failures[0].name == "w^2", result.message
    ok = gradcheck(good.cost, params=list(good.params), gradient=list(good.gradient))
    assert ok.passed, ok.message


@settings(max_examples=15)
@given(
    case=cases(
        regimes=("square",),
        activations=("sigmoid", "tanh", "softplus", "identity", "softmax"),
        min_layers=3,
        max_layers=5,
        min_batch=2,
    ),
    layer=st.integers(0, 3),
)
def test_directional_check_rejects_a_transposed_square_layer(case: reference.Case, layer: int) -> None:
    # Square layers: w^T has w's shape, so only the values can give a missing transpose away.
    good = from_case(case)
    t = 2 * (layer % len(case.weights))
    g = np.asarray(good.gradient[t])
    # the plant must change the gradient by more than the checker can resolve: its smallest
    # error bound is ~1e-9 of the scale of C and of the gradient (eps^(2/3) with margin)
    scale = max(float(np.max(np.abs(g))), abs(good.value(good.params)))
    assume(float(np.max(np.abs(g - g.T))) > 1e-6 * scale)
    assert directional_check(good, directions=1).passed
    bad = replace(good, gradient=tuple(g.T.copy() if i == t else x for i, x in enumerate(good.gradient)))
    result = directional_check(bad, directions=1)
    assert not result.passed, result.message
    assert {c.tensor for c in result.failures if c.tensor is not None} == {t}, result.message


def test_mpmath_confirmation_rejects_a_ground_truth_off_by_1e_minus_20() -> None:
    # the mp central differences confirm to ~10^-(2 digits/3) = 1e-26 at 40 digits: an entry of the
    # candidate ground truth off by 1e-20 relative (invisible in float64) must go unconfirmed
    import mpmath

    case = CASES["tanh-sigmoid"]
    with mpmath.workdps(40):
        mp = reference.backprop_mp(case, digits=40)
        candidate = []
        for gw, gb in zip(mp["grad_weights"], mp["grad_biases"], strict=True):
            candidate += [np.array(gw, dtype=object, copy=True), np.array(gb, dtype=object, copy=True)]
        assert mp_ground_truth(case, digits=40, candidate=candidate).confirmed
        candidate[3][1] = candidate[3][1] * (1 + mpmath.mpf("1e-20"))
    truth = mp_ground_truth(case, digits=40, candidate=candidate)
    assert not truth.confirmed
    assert len(truth.unconfirmed) == 1 and truth.unconfirmed[0].startswith("dC/db^3[1]"), truth.unconfirmed
