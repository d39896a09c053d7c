"""Issue 21, items 1 to 5: the second held-out set, each function with a correct-gradient control
and a planted-error control, over enough seeds that the checker before the fix fails them (it
passed the planted error of item 1 in 3 of these 12 seeds, failed the exact gradient of item 2 in
10 of 10, passed the jump of item 3 in 8 of 10, raised in DirectionalResult.message in 4 of 10,
and printed a kink hint for a smooth function in 2 of 10).

Gradients are written by hand from calculus, never taken from the checker.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import replace

import numpy as np
import pytest

from reference.case import Case
from reference.gradcheck import TensorReport, gradcheck, judge_gradient
from reference.numerical import Corner, KinkReport, central_differences, directional_check, from_callable, from_case
from reference.numerical.central import read_noise
from reference.numerical.directional import DirectionalCheck, DirectionalResult

Cost = Callable[[Sequence[np.ndarray]], float]
EPS = 2.0**-52


# --- item 1: a corner beside p in one coordinate must not widen the others' tolerance ----------


def _corner_beside(seed: int) -> tuple[Cost, list[np.ndarray], np.ndarray]:
    """f = sum sin x + 0.5 sum x_i x_{i+1} + 2 |x_3 - (p_3 + d)|, d in [1e-8, 1e-7]: the corner
    lies inside the first step (2^-17) and inside the noise tables of the first tau (~1e-8)."""
    rng = np.random.default_rng(seed)
    p = rng.standard_normal(8)
    corner = p[3] + rng.uniform(1e-8, 1e-7)

    def cost(ps: Sequence[np.ndarray]) -> float:
        x = ps[0]
        return float(np.sum(np.sin(x)) + 0.5 * np.sum(x[:-1] * x[1:]) + 2.0 * abs(x[3] - corner))

    g = np.cos(p)
    g[:-1] += 0.5 * p[1:]
    g[1:] += 0.5 * p[:-1]
    g[3] += 2.0 * np.sign(p[3] - corner)  # p_3 < corner: slope -2, smooth on the whole side
    return cost, [p], g


@pytest.mark.parametrize("seed", range(12))
def test_a_corner_beside_the_point_hides_no_error_in_another_coordinate(seed: int) -> None:
    cost, params, g = _corner_beside(seed)
    right = gradcheck(cost, params=params, gradient=[g])
    assert not right.failed, right.message
    wrong = g.copy()
    wrong[5] *= 1 + 1e-6
    planted = gradcheck(cost, params=params, gradient=[wrong])
    assert planted.failed, planted.message
    assert planted.tensors[0].worst_index == "[5]" and planted.tensors[0].n_failed == 1, planted.message


@pytest.mark.parametrize("seed", range(12))
def test_the_noise_level_is_rounding_not_the_corner(seed: int) -> None:
    # The corner, seen by the first tables (tau ~ 1.5e-8 |p|), reads as a level ~ 2 |slope jump| tau
    # ~ 1e-8; rounding of C (~10 terms of size <= 4) is a few ulps of 4: 64 eps max(1, |C|) is a
    # generous bound for it and 1e5 times below the corner's level.
    cost, params, g = _corner_beside(seed)
    reading = read_noise(from_callable(cost, params, [g]))
    assert reading.bound <= 64 * EPS * max(1.0, abs(reading.value)), reading


def test_a_smooth_cost_is_not_said_to_vary_below_the_step() -> None:
    # the negative control of the confirmation: no corner, no ripple, nothing to report
    for seed in range(6):
        rng = np.random.default_rng(seed)
        p = rng.standard_normal(8)

        def cost(ps: Sequence[np.ndarray]) -> float:
            x = ps[0]
            return float(np.sum(np.sin(x)) + 0.5 * np.sum(x[:-1] * x[1:]))

        reading = read_noise(from_callable(cost, [p], [np.zeros(8)]))
        assert not reading.varies and reading.note == "", reading


# --- item 2: a ripple below the step: the exact gradient never fails, the ripple-free one never passes


def _ripple(seed: int) -> tuple[Cost, list[np.ndarray], np.ndarray, np.ndarray]:
    """f = sum(x^3/3 + x) + 0.5 x_0 x_1 + 1e-13 sum sin(1e9 x): (exact gradient, ripple-free)."""
    p = np.random.default_rng(seed).standard_normal(5)

    def cost(ps: Sequence[np.ndarray]) -> float:
        x = ps[0]
        return float(np.sum(x**3 / 3 + x) + 0.5 * x[0] * x[1] + 1e-13 * np.sum(np.sin(1e9 * x)))

    smooth = p**2 + 1
    smooth[0] += 0.5 * p[1]
    smooth[1] += 0.5 * p[0]
    return cost, [p], smooth + 1e-4 * np.cos(1e9 * p), smooth


@pytest.mark.parametrize("seed", range(10))
def test_a_ripple_below_the_step_never_fails_the_exact_gradient(seed: int) -> None:
    cost, params, exact, without = _ripple(seed)
    right = gradcheck(cost, params=params, gradient=[exact])
    assert not right.failed, right.message
    wrong = gradcheck(cost, params=params, gradient=[without])
    assert not wrong.passed, wrong.message  # 1e-4 cos(1e9 x) left out: never "all entries pass"
    d_right = directional_check(cost, params=params, gradient=[exact])
    assert not d_right.failed, d_right.message
    d_wrong = directional_check(cost, params=params, gradient=[without])
    assert not d_wrong.passed, d_wrong.message


def test_the_ripple_is_recognised_and_the_steps_stay_below_it() -> None:
    cost, params, exact, without = _ripple(0)
    reading = read_noise(from_callable(cost, params, [exact]))
    assert reading.varies and "varies below the first step" in reading.note, reading
    result = gradcheck(cost, params=params, gradient=[without])
    # the ripple's period is 2 pi 1e-9 ~ 2^-27: no step at or above it may judge any entry
    assert float(np.max(result.numeric.steps[0])) < 2.0**-27, result.numeric.steps


# --- item 3: a jump at the point is never a pass, never a corner with a one-sided derivative ---


def _jump(seed: int, height: float = 0.5) -> tuple[Cost, list[np.ndarray], np.ndarray]:
    """C = sum sin x + height [x_2 >= p_2]: a jump exactly at p in coordinate 2."""
    p = np.random.default_rng(seed).standard_normal(5)
    edge = p[2]

    def cost(ps: Sequence[np.ndarray]) -> float:
        x = ps[0]
        return float(np.sum(np.sin(x)) + height * (x[2] >= edge))

    return cost, [p], np.cos(p)


@pytest.mark.parametrize("seed", range(10))
def test_a_jump_at_the_point_never_passes(seed: int) -> None:
    cost, params, g = _jump(seed)
    result = gradcheck(cost, params=params, gradient=[g])
    assert not result.passed, result.message
    assert not result.failed, result.message  # no derivative exists: nothing to blame g with
    about = [n for n in result.notes if n.startswith("dC/dparams[0][2]")]
    assert about and "jumps at the point" in about[0] and "grow like 1/h" in about[0], result.notes
    assert not any("corner" in n or "one-sided derivatives" in n for n in about), about
    d = directional_check(cost, params=params, gradient=[g])
    assert not d.passed, d.message
    assert "jumps at the point" in d.message, d.message


@pytest.mark.parametrize("seed", range(6))
def test_a_jump_hides_no_error_elsewhere(seed: int) -> None:
    cost, params, g = _jump(seed)
    wrong = g.copy()
    wrong[4] *= 1 + 1e-6
    result = gradcheck(cost, params=params, gradient=[wrong])
    assert result.failed and result.tensors[0].worst_index == "[4]", result.message


@pytest.mark.parametrize("seed", range(6))
def test_a_corner_and_a_steep_slope_are_not_jumps(seed: int) -> None:
    # controls a fragile jump test would fail: |x_2 - p_2| (continuous, a corner at p) and
    # 1e3 x_2 (the differences are large at every step, but halve with h)
    p = np.random.default_rng(seed).standard_normal(5)
    edge = p[2]

    def corner(ps: Sequence[np.ndarray]) -> float:
        return float(np.sum(np.sin(ps[0])) + abs(ps[0][2] - edge))

    g = np.cos(p)
    g[2] += 1.0  # the right derivative
    result = gradcheck(corner, params=[p], gradient=[g])
    assert result.passed and not any("jump" in n for n in result.notes), result.message

    def steep(ps: Sequence[np.ndarray]) -> float:
        return float(np.sum(np.sin(ps[0])) + 1e3 * ps[0][2])

    g = np.cos(p)
    g[2] += 1e3
    result = gradcheck(steep, params=[p], gradient=[g])
    assert result.passed, result.message


# --- item 4: messages are total ------------------------------------------------------------------


@pytest.mark.parametrize("seed", range(10))
def test_directional_messages_of_the_jump_never_raise(seed: int) -> None:
    cost, params, g = _jump(seed)
    result = directional_check(cost, params=params, gradient=[g])
    assert isinstance(result.message, str) and "directional check" in result.message


SPECIAL = [math.nan, math.inf, -math.inf, 0.0, 1.0]


@pytest.mark.parametrize("left", SPECIAL)
@pytest.mark.parametrize("right", SPECIAL)
@pytest.mark.parametrize("numeric", [math.nan, 1.0])
def test_a_directional_check_describes_any_values(left: float, right: float, numeric: float) -> None:
    kink = KinkReport(Corner(at_point=True), None, left, math.inf if math.isnan(left) else 0.1, right, 0.1)
    for reason in ("", "a reason"):
        check = DirectionalCheck("w^2", 0, (0, 0, 1), 1.0, numeric, math.inf, 0.0, 2.0**-17, kink, reason)
        text = DirectionalResult([check], 10, 1e-16).message
        assert "dC/dw^2" in text


@pytest.mark.parametrize("value", [math.nan, math.inf, -math.inf])
def test_a_tensor_report_describes_non_finite_values(value: float) -> None:
    report = TensorReport(
        "w^2", 2, (2, 2), "central", value, value, "[0, 1]", value, value, value, value, 2.0**-17, 4, 1, 0
    )
    assert "dC/dw^2[0, 1]" in report.message


# --- item 5: kink hints only where the differences show a kink ---------------------------------


def _smooth(seed: int) -> tuple[Cost, list[np.ndarray], np.ndarray]:
    p = np.random.default_rng(seed).standard_normal(6)

    def cost(ps: Sequence[np.ndarray]) -> float:
        return float(np.sum(np.exp(ps[0]) * np.cos(3 * ps[0])))

    return cost, [p], np.exp(p) * np.cos(3 * p) - 3 * np.exp(p) * np.sin(3 * p)


@pytest.mark.parametrize("rel", [1e-9, 3e-10])
def test_no_kink_hint_for_a_smooth_function_with_a_real_error(rel: float) -> None:
    # errors this small sit at the edge of resolution: some entries are inconclusive, and the
    # reason must be the resolution, not an invented kink
    inconclusive = 0
    for seed in range(10):
        cost, params, g = _smooth(seed)
        right = gradcheck(cost, params=params, gradient=[g])
        assert right.passed, right.message  # the correct-gradient control
        wrong = g.copy()
        wrong[2] *= 1 + rel
        result = gradcheck(cost, params=params, gradient=[wrong])
        assert not any("kink" in n for n in result.notes), result.notes
        inconclusive += result.inconclusive
    assert inconclusive, "no seed reached the edge of resolution: this test would not see a hint"


def test_a_real_corner_still_gets_its_hint_or_its_name() -> None:
    # the planted-error control of item 5: at a corner of |x| the notes do speak of a kink
    def corner(ps: Sequence[np.ndarray]) -> float:
        return float(np.sum(np.abs(ps[0])) + np.sum(np.cos(ps[0])))

    p = np.array([0.0, 2.0])
    result = gradcheck(corner, params=[p], gradient=[np.sign(p) - np.sin(p)])
    assert any("corner at the point" in n for n in result.notes), result.notes


# --- found by the hypothesis suite while building this: a scan far beyond a relu kink -----------


def _saturated_relu_case() -> Case:
    """A relu layer feeding a saturated sigmoid: dC/dw^2[1, 0] ~ 1e-19, below the noise (2e-16)
    over any step near p, so the upward scan reached h = 2^16, across relu kinks, found those
    differences "trusted" by coincidence and failed the right gradient (on main before issue 21)."""
    return Case(
        sizes=(1, 4, 1, 2),
        activations=("relu", "sigmoid", "sigmoid"),
        cost="quadratic",
        reduction="mean",
        dtype="float64",
        weights=[
            np.array([[3.45584192], [8.21618144], [3.30437076], [-13.03157232]]),
            np.array([[1.82286198, 1.47066248, 0.14211121, 2.73356493]]),
            np.array([[-1.62909948], [-4.82119313]]),
        ],
        biases=[
            np.array([9.05355867, 4.46374572, -5.36953235, 5.81118104]),
            np.array([-7.36454087]),
            np.array([5.98846213, 0.39722107]),
        ],
        x=np.array([[-0.29245675]]),
        y=np.array([[0.20345524, 0.26231334]]),
    )


def test_no_step_across_a_relu_kink_judges_an_entry() -> None:
    case = _saturated_relu_case()
    for levels in (None, 2, 3):
        result = gradcheck(case, method="central", levels=levels)
        assert not result.failed, result.message
    good = from_case(case)
    assert judge_gradient(good, central_differences(good, levels=2)).passed
    # the planted-error control: the guard must not blind the check to a real error elsewhere
    g = [np.array(t, copy=True) for t in good.gradient]
    g[4].flat[0] *= 1 + 1e-6  # dC/dw^4[0, 0], ~1e-2, smooth around p
    bad = replace(good, gradient=tuple(g))
    result = judge_gradient(bad, central_differences(bad, levels=2))
    assert result.failed and result.tensors[4].n_failed == 1, result.message


def _saturated_tanh_case() -> Case:
    """No relu at all: a saturated sigmoid (z ~ -27) makes dC/dw^2[1, 0] ~ 1e-18. The upward scan
    found C flat to rounding at h = 2^4, where the h^2 test passes vacuously (every difference
    within rounding), and judged the entry there: inconclusive on main, with a kink hint."""
    return Case(
        sizes=(2, 6, 1, 2),
        activations=("tanh", "sigmoid", "sigmoid"),
        cost="quadratic",
        reduction="mean",
        dtype="float64",
        weights=[
            np.array(
                [
                    [2.44364926, 5.80971761],
                    [2.33654297, -9.21471315],
                    [6.40183273, 3.15634487],
                    [-3.79683274, 4.10912552],
                    [2.57791614, 2.07983083],
                    [0.2009756, 3.8658446],
                ]
            ),
            np.array([[-3.19212793, -1.04998293, 0.03324031, -1.12514415, 5.2829934, 4.10993481]]),
            np.array([[-18.89013246], [-1.74772092]]),
        ],
        biases=[
            np.array([-7.36454087, -1.62909948, -4.82119313, 5.98846213, 0.39722107, -2.92456751]),
            np.array([-27.11162479]),
            np.array([-4.22190412, 2.13642997]),
        ],
        x=np.array([[0.21732193, 2.11783876], [-1.11202076, -0.37760501]]),
        y=np.array([[0.6130033, 0.9172977], [0.03959288, 0.52858926]]),
    )


def test_a_plateau_far_from_the_point_judges_no_entry() -> None:
    case = _saturated_tanh_case()
    for levels in (2, 3):
        result = gradcheck(case, method="central", levels=levels)
        assert result.passed, result.message
    good = from_case(case)
    g = [np.array(t, copy=True) for t in good.gradient]
    g[5].flat[0] *= 1 + 1e-6  # dC/db^4[0] ~ -4.4e-3, resolved at the first steps
    bad = replace(good, gradient=tuple(g))
    result = judge_gradient(bad, central_differences(bad, levels=2))
    assert result.failed and result.tensors[5].n_failed == 1, result.message
