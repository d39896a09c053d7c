"""relu kinks: no false failures, named locations, one-sided comparisons, and errors still caught."""

from __future__ import annotations

from dataclasses import replace

import numpy as np
from hypothesis import given, settings

import reference
from reference import Case
from reference.gradcheck import gradcheck, judge_gradient
from reference.numerical import central_differences, directional_check, from_case, taylor_slope_test
from reference.strategies import cases


def _relu_case(b2: np.ndarray, w2_row0: np.ndarray | None = None) -> Case:
    net = reference.Network.random((3, 4, 2), ("relu", "sigmoid"), seed=5)
    rng = np.random.default_rng(5)
    w2 = np.array(net.weights[0], copy=True)
    if w2_row0 is not None:
        w2[3] = w2_row0
    x = rng.standard_normal((3, 3))
    return replace(net.case(x, rng.random((3, 2))), weights=[w2, net.weights[1]], biases=[b2, net.biases[1]])


def _near_kink_case() -> Case:
    """b^2_3 chosen so that z^2_3 of sample 0 is 1e-6 (and its other units are as drawn)."""
    base = _relu_case(np.array([0.3, -0.2, 0.5, 0.0]))
    b = np.array(base.biases[0], copy=True)
    b[3] = 1e-6 - float(reference.forward(base.replace(biases=[np.zeros(4), base.biases[1]])).z[0][0, 3])
    return _relu_case(b)


def test_exact_zero_pre_activation_is_named_and_matches_a_one_sided_derivative() -> None:
    # unit 3 of layer 2 has w = 0 and b = 0: z = 0 exactly for every sample, a corner of C in b^2_3
    # (w^2_3 entries are corners too, where relu'(0) = 0 matches neither side: inconclusive, not failed)
    case = _relu_case(np.array([0.3, -0.2, 0.5, 0.0]), np.zeros(3))
    result = gradcheck(case)
    assert not result.failed, result.message
    assert result.tensors[1].passed, result.message
    notes = "\n".join(result.notes)
    assert "kink at the point itself (z = 0 exactly) at layer 2, unit 3" in notes, notes
    assert "dC/db^2[3]" in notes and "analytic matches the" in notes, notes


def test_kink_within_step_is_named_and_stepped_around() -> None:
    # z^2_3 of sample 0 is 1e-6: inside the widest step 4 x 2^-17 ~ 3e-5 of b^2_3, not at the point
    case = _near_kink_case()
    result = gradcheck(case)
    assert result.passed, result.message
    notes = "\n".join(result.notes)
    assert "kink within step at layer 2, unit 3 (sample 0)" in notes, notes
    assert "central step reduced" in notes, notes


def test_a_wrong_entry_next_to_a_kink_still_fails() -> None:
    # same near-kink case; b^2_3's gradient off by 1e-3 relative must fail at the reduced step
    problem = from_case(_near_kink_case())
    g = [np.array(x, copy=True) for x in problem.gradient]
    g[1][3] *= 1 + 1e-3
    result = judge_gradient(replace(problem, gradient=tuple(g)), central_differences(problem))
    assert not result.passed and result.failures[0].name == "b^2", result.message


def test_a_wrong_entry_at_a_corner_is_not_passed() -> None:
    # at an exact corner the derivative does not exist: a value matching neither one-sided
    # derivative is reported inconclusive, never passed as correct
    case = _relu_case(np.array([0.3, -0.2, 0.5, 0.0]), np.zeros(3))
    problem = from_case(case)
    g = [np.array(x, copy=True) for x in problem.gradient]
    g[1][3] = 0.123
    result = judge_gradient(replace(problem, gradient=tuple(g)), central_differences(problem))
    assert result.tensors[1].n_inconclusive == 1 and result.tensors[1].verdict == "inconclusive", result.message
    assert "dC/db^2[3]" in result.message and "matches neither (inconclusive)" in result.message, result.message


@settings(max_examples=15)
@given(case=cases(regimes=("zeros",), activations=("relu", "identity", "sigmoid", "softmax"), max_layers=5))
def test_no_false_failures_at_relu_kinks(case: Case) -> None:
    result = gradcheck(case)
    assert not result.failed, result.message
    directional = directional_check(case)
    assert not directional.failed, directional.message
    for symmetric in (True, False):
        slope = taylor_slope_test(case, symmetric=symmetric)
        assert not slope.failed, slope.message
