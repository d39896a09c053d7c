"""Costs against their definitions, and the closed forms of delta^L against equation 1."""

from __future__ import annotations

import math

import numpy as np
import pytest

import reference
from reference import Case


def _case(cost: str, out: str, y: np.ndarray, reduction: str = "sum") -> Case:
    w = np.array([[0.5, -1.0], [2.0, 0.25], [-0.75, 1.5]])
    b = np.array([0.1, -0.2, 0.3])
    x = np.array([[1.0, 2.0], [-1.0, 0.5]])
    return Case((2, 3), (out,), cost, reduction, "float64", [w], [b], x, y)


def _z(case: Case) -> np.ndarray:
    return case.x @ case.weights[0].T + case.biases[0]


def test_quadratic_is_half_the_squared_distance() -> None:
    y = np.array([[0.0, 1.0, 0.5], [1.0, 0.0, 0.25]])
    case = _case("quadratic", "identity", y)
    z = _z(case)
    assert reference.cost(case) == pytest.approx(0.5 * np.sum((z - y) ** 2), rel=1e-15)
    assert reference.cost(case.replace(reduction="mean")) == pytest.approx(0.25 * np.sum((z - y) ** 2), rel=1e-15)


def test_cross_entropy_matches_its_definition() -> None:
    y = np.array([[0.0, 1.0, 0.5], [1.0, 0.0, 0.25]])
    case = _case("cross_entropy", "sigmoid", y)
    a = 1 / (1 + np.exp(-_z(case)))
    want = -sum(yj * math.log(aj) + (1 - yj) * math.log(1 - aj) for yj, aj in zip(y.ravel(), a.ravel(), strict=True))
    assert reference.cost(case) == pytest.approx(want, rel=1e-14)


def test_log_likelihood_matches_its_definition() -> None:
    y = np.array([[0.0, 1.0, 0.0], [0.25, 0.25, 0.5]])
    case = _case("log_likelihood", "softmax", y)
    z = _z(case)
    a = np.exp(z) / np.exp(z).sum(axis=1, keepdims=True)
    assert reference.cost(case) == pytest.approx(-np.sum(y * np.log(a)), rel=1e-14)


@pytest.mark.parametrize(
    ("cost", "out", "y"),
    [
        ("cross_entropy", "sigmoid", [[0.0, 1.0, 0.5], [1.0, 0.0, 0.25]]),
        ("log_likelihood", "softmax", [[0.0, 1.0, 0.0], [0.25, 0.25, 0.5]]),
    ],
)
def test_closed_form_delta_L_equals_equation_1(cost: str, out: str, y: list[list[float]]) -> None:
    # Equation 1 written out: nabla_a C (.) sigma'(z), with softmax's Jacobian where it applies.
    case = _case(cost, out, np.array(y))
    z = _z(case)
    yy = np.array(y)
    if out == "sigmoid":
        a = 1 / (1 + np.exp(-z))
        eq1 = (-(yy / a) + (1 - yy) / (1 - a)) * a * (1 - a)
    else:
        a = np.exp(z) / np.exp(z).sum(axis=1, keepdims=True)
        g = -yy / a
        eq1 = np.stack([(np.diag(r) - np.outer(r, r)).T @ gr for r, gr in zip(a, g, strict=True)])
    delta = reference.backprop(case)["deltas"][-1]
    np.testing.assert_allclose(delta, eq1, rtol=1e-12, atol=1e-15)
    np.testing.assert_allclose(delta, a - yy, rtol=1e-13, atol=1e-16)


def test_saturated_cross_entropy_stays_finite_and_exact() -> None:
    # z = +-40: a rounds to 1 or 0 in float64, yet C_x = softplus(-z) for y = 1 is exp(-40)-ish, not 0 or inf.
    case = Case(
        (1, 1),
        ("sigmoid",),
        "cross_entropy",
        "sum",
        "float64",
        [np.array([[1.0]])],
        [np.array([0.0])],
        np.array([[40.0], [-40.0]]),
        np.array([[1.0], [0.0]]),
    )
    c = reference.cost(case)
    want = 2 * math.log1p(math.exp(-40.0))
    assert c == pytest.approx(want, rel=1e-15)
