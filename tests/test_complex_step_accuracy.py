"""Two elementwise steps held to a few ulps on the inputs a complex step feeds them.

The complex step (reference.numerical.complex_step) is a witness only as accurate as every
step of the cost it differentiates, evaluated in complex128; tests/test_numerical_agreement.py
holds it to 1e-13 of the reference. Random draws found two steps that were not:

  * numpy's complex log1p computes ln(1 + z) with 1 + z rounded first, so its real part errs by
    about u / |z| relative; softplus(z) = log1p(e^z) for z < 0 went through it (and log_softmax
    through log1p of the other units' share).
  * a^L - y for a tanh output was formed as (1 - y) - (1 - a^L) for every z >= 0: near z = 0
    that subtracts two numbers near 1, an absolute error of u where a^L - y itself errs by
    u (|a^L| + |y|).

Error models (u = 2^-53; libm's log1p, atan2, tanh, exp taken within 2 ulp = 4u each, the
documented glibc bounds being 1 to 2 ulp):

  * log1p, x in (0, 1/2), |y| <= x: Re = log1p(v) / 2, v = x (2 + x) + y^2 rounded three times
    (3u relative; y^2 is below u v); log1p(v) moves by at most that relative amount for v > 0
    (log1p(v) >= v / (1 + v)), then its own 4u: 7u. Im = atan2(y, 1 + x): 1 + x rounded (u),
    atan2's 4u: 5u.
  * tanh residual, against tanh(z) - y in mpmath: where |a| < 1/2, a = tanh(z) (4u |a|), then
    the subtraction (u |a - y|): 5u (|a| + |y|). Where |a| >= 1/2, the folded form: 1 - y
    (u |1 - y| <= u (2|a| + |y|)), the complement c = 2e / (1 + e) (exp 4u, three roundings:
    7u |c| <= 7u |a|, since c <= 1/2 <= |a|), the subtraction (u |a - y|): 10u |a| + 2u |y|.
    Bound: 10u (|a| + |y|), both branches.
"""

from __future__ import annotations

from dataclasses import replace

import mpmath
import numpy as np
import pytest

from reference import _ops
from reference.costs import residual
from reference.gradcheck import judge_gradient
from reference.numerical import complex_step, from_case
from reference.strategies import Architecture, make_case

from ._complex_step_cases import GRADIENT_NEAR_UNDERFLOW, GRADIENT_UNDERFLOWS_TO_ZERO, TANH_OUTPUT_NEAR_ZERO

U = 2.0**-53
# Small real parts where the old log1p lost digits, and the tiny imaginary parts of a complex step.
SMALL = [1e-12, 3e-9, 1e-6, 5.348613435508881e-4, 0.0132, 0.1, 0.3, 0.49]


def _relative(value: float, truth: mpmath.mpf) -> float:
    return float(abs((mpmath.mpf(value) - truth) / truth))


def _log1p_errors(log1p: object, z: complex) -> tuple[float, float]:
    """Relative errors of the real and imaginary parts of log1p(z) against mpmath at 40 digits."""
    got = complex(np.asarray(log1p(np.array([z])))[0])  # type: ignore[operator]
    with mpmath.workdps(40):
        truth = mpmath.log1p(mpmath.mpc(z.real, z.imag))
        return _relative(got.real, truth.real), _relative(got.imag, truth.imag)


@pytest.mark.parametrize("x", SMALL)
@pytest.mark.parametrize("step", [2.0**-60, 1e-3])
def test_complex_log1p_is_accurate_near_zero(x: float, step: float) -> None:
    re, im = _log1p_errors(_ops.log1p, complex(x, step * x))
    assert re <= 7 * U and im <= 5 * U, (re / U, im / U)


def test_numpys_complex_log1p_fails_that_bound() -> None:
    """Negative control: ln(1 + z) with 1 + z rounded, the old evaluation, is rejected."""
    re, _ = _log1p_errors(np.log1p, complex(5.348613435508881e-4, 1e-22))
    assert re > 7 * U, re / U


def test_complex_log1p_keeps_the_rest_of_the_plane() -> None:
    """Awkward but right: large, negative-real and mixed entries in one array, each within bound.

    Beyond |z| = 1/2 the value is numpy's (one bit lost at most in 1 + z), so only the domain
    the engine uses near 0 is held to the 7u / 5u above; elsewhere a loose 16u checks the branch.
    """
    zs = np.array([3 + 1j, 1e-9 + 1e-30j, -0.4 + 1e-20j, 100 - 2j, 0.6 + 0j, 0j])
    got = _ops.log1p(zs)
    assert got.shape == zs.shape and got[-1] == 0
    with mpmath.workdps(40):
        for z, g in zip(zs[:-1], got[:-1], strict=True):
            truth = mpmath.log1p(mpmath.mpc(z.real, z.imag))
            assert _relative(g.real, truth.real) <= 16 * U, z
            if truth.imag != 0:
                assert _relative(g.imag, truth.imag) <= 16 * U, z


def _old_tanh_residual(z: np.ndarray, y: np.ndarray) -> np.ndarray:
    """The residual before the fix: the folded form (1 - y) - (1 - a) for every z >= 0."""
    s = -np.abs(z)
    e = np.exp(s + s)
    complement = 2 * e / (1 + e)
    return np.where(z >= 0, (1 - y) - complement, complement - (1 + y))


# (z, y): near 0 with y close to a (the case found), near 0 either sign, and saturated.
TANH_POINTS = [
    (0.0033537315497280196, 0.003903497348226388),
    (0.0033537315497280196, 0.0033),
    (-0.02, -0.019),
    (0.4, 0.39),
    (0.55, 0.5),
    (-0.6, -0.53),
    (3.0, 0.99),
    (-8.0, -1.0),
    (1.0, 250.0),
]


def _tanh_residual_error(compute: object, z: float, y: float) -> float:
    """|computed - (tanh(z) - y)| / (u (|a| + |y|)), the truth in mpmath at 40 digits."""
    zs, ys = np.array([[z]]), np.array([[y]])
    got = float(np.asarray(compute(zs, ys))[0, 0])  # type: ignore[operator]
    with mpmath.workdps(40):
        a = mpmath.tanh(mpmath.mpf(z))
        return float(abs(mpmath.mpf(got) - (a - mpmath.mpf(y))) / (U * (abs(a) + abs(mpmath.mpf(y)))))


@pytest.mark.parametrize(("z", "y"), TANH_POINTS)
def test_the_tanh_residual_errs_by_a_few_ulps_of_its_terms(z: float, y: float) -> None:
    def reference_residual(zs: np.ndarray, ys: np.ndarray) -> np.ndarray:
        return residual("tanh", zs, np.tanh(zs), ys)

    assert _tanh_residual_error(reference_residual, z, y) <= 10


def test_the_folded_tanh_residual_near_zero_fails_that_bound() -> None:
    """Negative control: (1 - y) - (1 - a) at z = 0.0034, y = 0.0039 errs by hundreds of ulps of its terms."""
    assert _tanh_residual_error(_old_tanh_residual, *TANH_POINTS[0]) > 10


@pytest.mark.parametrize(("z", "y"), TANH_POINTS)
def test_the_tanh_residual_of_a_complex_step_is_as_accurate(z: float, y: float) -> None:
    """The same bound on the real part with a complex-step input, and its imaginary part is the
    derivative: Im r / h = sech^2(z) within 8u relative (complex tanh's few ulps, with margin)."""
    h = 2.0**-60
    zs, ys = np.array([[complex(z, h)]]), np.array([[complex(y, 0.0)]])
    got = complex(residual("tanh", zs, np.tanh(zs), ys)[0, 0])
    with mpmath.workdps(40):
        a = mpmath.tanh(mpmath.mpf(z))
        scale = U * (abs(a) + abs(mpmath.mpf(y)))
        assert float(abs(mpmath.mpf(got.real) - (a - mpmath.mpf(y))) / scale) <= 10
        assert _relative(got.imag / h, mpmath.sech(mpmath.mpf(z)) ** 2) <= 8 * U


def test_the_complex_step_gives_up_only_near_underflow() -> None:
    """Its guard flags the gradients of about 1e-294 (Im C subnormal) and nothing in a tame case.

    Negative control of test_numerical_agreement's acceptance of an inconclusive verdict: the
    guard must not fire where the imaginary parts are normal numbers.
    """
    tame = complex_step(from_case(TANH_OUTPUT_NEAR_ZERO))
    assert tame.inconclusive == {}
    problem = from_case(GRADIENT_NEAR_UNDERFLOW)
    deep = complex_step(problem)
    nonzero = {(t, i) for t, g in enumerate(problem.gradient) for i in np.flatnonzero(np.asarray(g).reshape(-1))}
    assert set(deep.inconclusive) == nonzero
    assert max(float(np.max(np.abs(g))) for g in problem.gradient) < 1e-290


def test_an_exact_zero_is_inconclusive_only_for_a_gradient_that_could_have_underflowed() -> None:
    """Im C underflowed to exactly 0 at gradients of 1e-307: inconclusive; a wrong gradient of 1e-3
    or 1e-200 where the truth is exactly 0 (a dead relu unit) is still failed."""
    problem = from_case(GRADIENT_UNDERFLOWS_TO_ZERO)
    assert complex_step(problem).inconclusive
    dead = Architecture((2, 2, 1), ("relu", "identity"), "quadratic")
    case = make_case(dead, "typical", m=2)
    case = replace(case, weights=[case.weights[0], np.zeros_like(case.weights[1])])  # dC/dw^2 = 0 exactly
    for wrong in (1e-3, 1e-200):
        good = from_case(case)
        g = [np.array(x, copy=True) for x in good.gradient]
        assert not g[0].any()
        g[0][0, 0] = wrong
        result = judge_gradient(replace(good, gradient=tuple(g)), complex_step(replace(good, gradient=tuple(g))))
        assert result.failed and result.failures[0].name == "w^2", result.message
