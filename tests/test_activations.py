"""Each sigma and sigma' against its mathematical definition, evaluated independently with mpmath."""

from __future__ import annotations

import warnings

import mpmath
import numpy as np
import pytest

from reference import activations
from reference.precision import to_mp

# The definitions, written from the textbook, not from the engine.
DEFINITIONS = {
    "sigmoid": lambda z: 1 / (1 + mpmath.exp(-z)),
    "tanh": mpmath.tanh,
    "identity": lambda z: z,
    "softplus": lambda z: mpmath.log(1 + mpmath.exp(z)),
}
POINTS = [-30.0, -7.25, -1.0, -1e-3, 0.0, 0.5, 2.0, 19.5, 30.0]


@pytest.mark.parametrize("name", sorted(DEFINITIONS))
def test_sigma_prime_matches_the_derivative_of_the_definition(name: str) -> None:
    # float64 evaluation of a smooth function and its derivative: a few ulps of error per
    # elementary operation, so 1e-14 relative (about 45 ulps) is a generous bound.
    z = np.array(POINTS)
    got = activations.sigma_prime(name, z)
    with mpmath.workdps(40):
        want = [float(mpmath.diff(DEFINITIONS[name], mpmath.mpf(p))) for p in POINTS]
    np.testing.assert_allclose(got, want, rtol=1e-14, atol=0, err_msg=f"sigma'({name})")


@pytest.mark.parametrize("name", sorted(DEFINITIONS))
def test_sigma_matches_the_definition_in_float64_and_mpmath(name: str) -> None:
    z = np.array(POINTS)
    with mpmath.workdps(50):
        want = [DEFINITIONS[name](mpmath.mpf(p)) for p in POINTS]
        got_mp = activations.sigma(name, to_mp(z))
        for p, g, w in zip(POINTS, got_mp, want, strict=True):
            assert abs(g - w) <= mpmath.mpf(10) ** -45 * max(1, abs(w)), f"{name}({p}) at 50 digits"
    np.testing.assert_allclose(activations.sigma(name, z), [float(w) for w in want], rtol=1e-15, atol=0)


def test_relu_and_its_derivative_with_the_zero_convention() -> None:
    z = np.array([-2.0, -0.0, 0.0, 3.0])
    np.testing.assert_array_equal(activations.sigma("relu", z), [0.0, 0.0, 0.0, 3.0])
    np.testing.assert_array_equal(activations.sigma_prime("relu", z), [0.0, 0.0, 0.0, 1.0])


def test_softmax_rows_and_jacobian_product() -> None:
    z = np.array([[1.0, 2.0, 0.5], [-3.0, 0.0, 3.0]])
    a = activations.sigma("softmax", z)
    e = np.exp(z)
    np.testing.assert_allclose(a, e / e.sum(axis=1, keepdims=True), rtol=1e-15)
    g = np.array([[0.3, -1.0, 2.0], [1.0, 1.0, 1.0]])
    for row in range(2):
        jacobian = np.diag(a[row]) - np.outer(a[row], a[row])
        np.testing.assert_allclose(
            activations.softmax_jacobian_t_dot(a, g)[row], jacobian.T @ g[row], rtol=1e-14, atol=1e-16
        )
    with pytest.raises(ValueError, match="softmax has no elementwise derivative"):
        activations.sigma_prime("softmax", z)


@pytest.mark.parametrize("name", activations.ACTIVATIONS)
def test_extreme_pre_activations_are_finite_and_silent(name: str) -> None:
    z = np.array([[-1000.0, -50.0, 0.0, 50.0, 1000.0]])
    with warnings.catch_warnings(), np.errstate(all="raise", under="ignore"):
        warnings.simplefilter("error")
        a = activations.sigma(name, z)
        assert np.all(np.isfinite(a)), f"{name}({z}) = {a}"
        if name != "softmax":
            d = activations.sigma_prime(name, z)
            assert np.all(np.isfinite(d)), f"{name}'({z}) = {d}"
        c = activations.sigma(name, z + 1e-20j)
        assert np.all(np.isfinite(c)), f"{name}({z} + 1e-20i) = {c}"


def test_saturated_derivatives_keep_their_relative_precision() -> None:
    # 1 - tanh(z)^2 and a(1 - a) round to 0 here; the true values are tiny but not 0.
    z = np.array([25.0, -25.0])
    with mpmath.workdps(40):
        sech2 = float(mpmath.sech(25) ** 2)
        sig = float(mpmath.exp(-25) / (1 + mpmath.exp(-25)) ** 2)
    np.testing.assert_allclose(activations.sigma_prime("tanh", z), [sech2, sech2], rtol=1e-14)
    np.testing.assert_allclose(activations.sigma_prime("sigmoid", z), [sig, sig], rtol=1e-14)


@pytest.mark.parametrize("name", ["sigmoid", "tanh", "softplus", "identity"])
def test_complex_step_of_sigma_gives_sigma_prime(name: str) -> None:
    # Im sigma(z + ih)/h = sigma'(z) + O(h^2): with h = 1e-30 exact to rounding.
    z = np.array(POINTS)
    h = 1e-30
    np.testing.assert_allclose(
        activations.sigma(name, z + 1j * h).imag / h, activations.sigma_prime(name, z), rtol=1e-14
    )


RECORDS = activations.ACTIVATION_RECORDS
ELEMENTWISE = [name for name, record in RECORDS.items() if record.elementwise]


@pytest.mark.parametrize("name", ELEMENTWISE)
def test_the_records_bounds_are_the_maxima_of_sigma_prime_and_sigma_second(name: str) -> None:
    # The error model (conformance/judging/tolerances.py) needs upper bounds; they are also tight, so
    # a wrong record (a bound from another activation, a lost factor) fails either way.
    record = RECORDS[name]
    assert record.lipschitz is not None and record.second_derivative is not None and record.prime_scale is not None
    h = 1e-5
    z = np.linspace(-40.0, 40.0, 160_001)
    for kink in record.kinks:
        z = z[np.abs(z - kink) > 2 * h]  # sigma'' is a Dirac there: no bound applies
    prime = activations.sigma_prime(name, z)
    second = (activations.sigma_prime(name, z + h) - activations.sigma_prime(name, z - h)) / (2 * h)
    assert np.max(np.abs(prime)) <= record.lipschitz
    assert np.max(np.abs(prime)) >= 0.999 * record.lipschitz
    assert np.max(np.abs(second)) <= record.second_derivative * (1 + 1e-6)
    assert np.max(np.abs(second)) >= 0.999 * record.second_derivative


@pytest.mark.parametrize("name", list(RECORDS))
def test_the_records_range_and_kinks(name: str) -> None:
    record = RECORDS[name]
    z = np.random.default_rng(0).normal(0.0, 30.0, (200, 5))
    a = activations.sigma(name, z)
    assert (np.max(np.abs(a)) <= 1.0) == record.bounded
    assert (np.min(a) >= 0.0) == record.nonnegative
    for kink in record.kinks:
        left, right = activations.sigma_prime(name, np.array([kink - 1e-9, kink + 1e-9]))
        assert left != right, f"{name}' is continuous at its kink {kink}"
