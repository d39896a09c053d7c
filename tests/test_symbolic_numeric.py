"""The engine against the chain rule: reference.backprop (float64, FLOAT64_TOL) and
reference.backprop_mp (50 digits, MP_TOL) against lambdified symbolic derivatives of the
composed cost. Tolerances and their error model: symbolic/numeric.py. Negative controls:
a planted error just above each tolerance, and a backprop that follows the seed's typo."""

from __future__ import annotations

from typing import Any

import mpmath
import numpy as np
import pytest

import reference
from reference.activations import sigma, sigma_prime
from symbolic import cross_check, random_case
from symbolic.numeric import FLOAT64_TOL, MP_TOL, check_against, evaluate
from symbolic.spec import make_spec

CASES = [
    ((2, 2, 2), ("sigmoid", "sigmoid"), "quadratic", "mean"),
    ((2, 2, 2), ("tanh", "softmax"), "log_likelihood", "mean"),
    ((2, 2, 2), ("relu", "sigmoid"), "cross_entropy", "sum"),
    ((2, 2, 2), ("softplus", "softmax"), "quadratic", "mean"),
    ((2, 2, 2), ("identity", "tanh"), "quadratic", "sum"),
    ((2, 3, 1), ("sigmoid", "relu"), "quadratic", "mean"),
    ((1, 2, 2), ("tanh", "softplus"), "quadratic", "mean"),
    ((2, 2, 2, 2), ("sigmoid", "tanh", "identity"), "quadratic", "sum"),
]


@pytest.mark.parametrize(("sizes", "activations", "cost", "reduction"), CASES)
def test_engine_agrees_with_the_chain_rule(
    sizes: tuple[int, ...], activations: tuple[str, ...], cost: str, reduction: str
) -> None:
    case = random_case(make_spec(sizes, activations, cost, reduction), m=2, seed=len(sizes))
    report = cross_check(case)
    assert report.ok, "\n".join(report.failures)
    assert report.float64_error <= FLOAT64_TOL and report.mp_error <= MP_TOL


def _planted(result: dict[str, Any], name: str, relative: Any) -> dict[str, Any]:
    """A copy of an engine result with the largest entry of name[0] off by ``relative``."""
    out = dict(result)
    arrays = [np.array(a, copy=True) for a in result[name]]
    target = arrays[0]
    idx = np.unravel_index(int(np.argmax(np.abs(target.astype(float)))), target.shape)
    target[idx] = target[idx] * (1 + relative)
    out[name] = arrays
    return out


@pytest.mark.parametrize("name", ["grad_weights", "grad_biases", "deltas"])
def test_a_planted_error_above_tolerance_is_caught(name: str) -> None:
    case = random_case(make_spec((2, 2, 2), ("sigmoid", "sigmoid"), "quadratic"), m=2, seed=0)
    engine = reference.backprop(case)
    symbolic = evaluate(case, "float64")
    assert check_against(engine, symbolic, FLOAT64_TOL, "float64", 2)[1] == []
    _, failures = check_against(_planted(engine, name, 10 * FLOAT64_TOL), symbolic, FLOAT64_TOL, "float64", 2)
    assert len(failures) == 1 and failures[0].startswith(f"{name}[0][")
    assert "layer 2" in failures[0] and "float64" in failures[0] and "tolerance 1e-12" in failures[0]
    with mpmath.workdps(60):
        engine_mp = reference.backprop_mp(case, digits=50)
        symbolic_mp = evaluate(case, "mpmath")
        assert check_against(engine_mp, symbolic_mp, MP_TOL, "mpmath", 2)[1] == []
        planted = _planted(engine_mp, name, 10 * mpmath.mpf(MP_TOL))
        _, failures = check_against(planted, symbolic_mp, MP_TOL, "mpmath", 2)
    assert len(failures) == 1


def _typo_backprop(case: Any) -> dict[str, Any]:
    """Backprop as the seed prints it: (w^{l+1})^T a^{l+1} where (w^{l+1})^T delta^{l+1} belongs."""
    fwd = reference.forward(case)
    good = reference.backprop(case)
    deltas = list(good["deltas"])
    for i in range(len(deltas) - 2, -1, -1):
        deltas[i] = (fwd.a[i + 2] @ case.weights[i + 1]) * sigma_prime(case.activations[i], fwd.z[i])
    m = case.x.shape[0]
    scale = 1.0 / m if case.reduction == "mean" else 1.0
    return {
        "cost": good["cost"],
        "deltas": deltas,
        "grad_weights": [scale * d.T @ a for d, a in zip(deltas, fwd.a[:-1], strict=True)],
        "grad_biases": [scale * d.sum(axis=0) for d in deltas],
    }


def test_the_seed_typo_in_an_engine_is_caught() -> None:
    case = random_case(make_spec((2, 3, 2), ("sigmoid", "sigmoid"), "quadratic"), m=2, seed=5)
    assert sigma("sigmoid", np.zeros(1))[0] == 0.5  # the engine's activations are what we think
    _, failures = check_against(_typo_backprop(case), evaluate(case, "float64"), FLOAT64_TOL, "float64", 2)
    assert any(f.startswith("deltas[0]") and "equation 2" in f for f in failures)
    assert any(f.startswith("grad_weights[0]") and "equation 4" in f for f in failures)
    assert not any(f.startswith(("deltas[1]", "grad_weights[1]")) for f in failures)  # output layer is right


def test_symbolic_float64_and_mp_agree() -> None:
    """Two evaluations of the same expressions: a check on the lambdify paths themselves."""
    case = random_case(make_spec((2, 2, 2), ("tanh", "softmax"), "log_likelihood"), m=2, seed=3)
    f64, mp = evaluate(case, "float64"), evaluate(case, "mpmath")
    worst, failures = check_against(f64, mp, FLOAT64_TOL, "float64 vs mpmath", 2)
    assert failures == [] and worst > 0  # float64 rounding is visible, and small


def test_generic_sigma_has_no_numeric_value() -> None:
    class Fake:
        sizes = (1, 1)
        activations = ("sigma",)
        cost = "quadratic"
        reduction = "mean"
        x = np.zeros((1, 1))
        y = np.zeros((1, 1))
        weights = [np.zeros((1, 1))]
        biases = [np.zeros(1)]

    with pytest.raises(ValueError, match="sigma"):
        evaluate(Fake(), "float64")
