"""The seed's pass at the numpy floor keeps its accuracy: the complement 1 - sigma(z) that the
sigmoid path forms once, the residual a^L - y built from it, and the quadratic C as one dot product.

Each is held to mpmath at 50 digits (computed here from the formulas, not from the engine), within
a few units of roundoff relative to itself; each check has a negative control: the textbook
1 - a, a - y formed from the rounded a, and a C off by 1e-12 relative all fail the same bounds.
"""

from __future__ import annotations

import mpmath
import numpy as np
import pytest

from reference import costs
from reference._ops import Array
from reference.activations import sigma_and_complement, sigma_and_prime, sigma_prime_and_complement

U64 = float(np.finfo(np.float64).eps) / 2
Z = np.array([[-700.0, -40.0, -5.0, -0.5, 0.0], [1e-9, 0.5, 5.0, 20.0, 36.0], [-1e-9, 2.0, -20.0, 30.0, 700.0]])


def _mp_complement(z: float) -> mpmath.mpf:
    """1 - sigmoid(z) = 1 / (1 + e^z), at 50 digits."""
    with mpmath.workdps(50):
        return 1 / (1 + mpmath.exp(mpmath.mpf(z)))


def _relative_errors(got: Array, want: list[list[mpmath.mpf]]) -> float:
    with mpmath.workdps(50):
        return max(
            float(abs(mpmath.mpf(float(g)) - w) / abs(w)) if w != 0 else float(abs(g))
            for g_row, w_row in zip(got, want, strict=True)
            for g, w in zip(g_row, w_row, strict=True)
        )


def _within_ulps(got: Array, want: list[list[mpmath.mpf]], ulps: float) -> bool:
    return _relative_errors(got, want) <= ulps * U64


def test_the_complement_is_accurate_where_sigma_saturates() -> None:
    a, complement = sigma_and_complement("sigmoid", Z)
    assert complement is not None
    want = [[_mp_complement(float(v)) for v in row] for row in Z]
    assert _within_ulps(complement, want, 4)
    assert not _within_ulps(1.0 - a, want, 4), "negative control: the textbook 1 - a passed"


def test_the_full_pass_gives_the_same_a_prime_and_complement() -> None:
    a, prime, complement = sigma_prime_and_complement("sigmoid", Z)
    a_only, complement_only = sigma_and_complement("sigmoid", Z)
    base_a, base_prime = sigma_and_prime("sigmoid", Z)
    assert complement is not None and complement_only is not None and prime is not None and base_prime is not None
    assert np.array_equal(a, base_a) and np.array_equal(a, a_only)
    assert np.array_equal(prime, base_prime)
    assert np.array_equal(complement, complement_only)


@pytest.mark.parametrize("z_low", [-709.0, -800.0])
def test_no_complement_where_the_exponential_could_overflow(z_low: float) -> None:
    # e^{-z} overflows below -709.78: the guarded path runs, and the residual takes its own exponential
    z = Z.copy()
    z[0, 0] = z_low
    _, prime, complement = sigma_prime_and_complement("sigmoid", z)
    assert complement is None and prime is not None and bool(np.all(np.isfinite(prime)))
    z[0, 0] = -700.0  # control: the same layer on the guarded range has one
    assert sigma_prime_and_complement("sigmoid", z)[2] is not None


@pytest.mark.parametrize("name", ["tanh", "relu", "softplus", "identity", "softmax"])
def test_only_a_sigmoid_layer_has_a_complement(name: str) -> None:
    assert sigma_prime_and_complement(name, Z)[2] is None
    assert sigma_and_complement(name, Z)[1] is None


def _mp_residual(z: Array, y: Array) -> list[list[mpmath.mpf]]:
    with mpmath.workdps(50):
        return [
            [
                1 / (1 + mpmath.exp(-mpmath.mpf(float(zv)))) - mpmath.mpf(float(yv))
                for zv, yv in zip(zr, yr, strict=True)
            ]
            for zr, yr in zip(z, y, strict=True)
        ]


def test_the_residual_from_the_complement_keeps_its_digits() -> None:
    # y near a^L: the residual cancels, most where the output saturates (z = 20, 30, 36, 700)
    a, complement = sigma_and_complement("sigmoid", Z)
    assert complement is not None
    y = a + np.where(Z >= 0, -complement * 1e-3, a * 1e-3)  # within 0.1% of a, never equal to it
    want = _mp_residual(Z, y)
    got = costs.residual("sigmoid", Z, a, y, complement)
    without = costs.residual("sigmoid", Z, a, y)
    # a - y loses the complement's digits relative to the residual: 1e3 (the cancellation) x a few ulps
    assert _within_ulps(got, want, 1e4) and _within_ulps(without, want, 1e4)
    assert not _within_ulps(a - y, want, 1e4), "negative control: a - y from the rounded a passed"


def test_the_quadratic_cost_as_one_dot_product_is_accurate() -> None:
    rng = np.random.default_rng(7)
    diff = rng.standard_normal((100, 10))
    with mpmath.workdps(50):
        want = sum(mpmath.mpf(float(v)) ** 2 for v in diff.ravel()) / 2
    got = costs.COST_RECORDS["quadratic"].batch_sum("identity", diff, diff, np.zeros_like(diff), diff)  # type: ignore[misc]
    bound = 1000 * U64 * float(want)  # gamma_{m n_L}: 1000 terms of one sign
    assert abs(mpmath.mpf(float(got)) - want) <= bound
    assert abs(mpmath.mpf(float(got) * (1 + 1e-12)) - want) > bound, "negative control: a 1e-12 error passed"
