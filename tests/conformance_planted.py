"""Implementations with one planted fault each, for the conformance suite's own tests.

Each is the reference engine's own computation with exactly one thing changed, so
the suite must pin the diagnosis on that thing. (The big catalogue of real-world
bugs is tests/broken_impls; these are the robustness cases: how the code under
test fails, rather than which equation it gets wrong.)
"""

from __future__ import annotations

import threading
from typing import Any

import numpy as np

import reference
from conformance.judging.tolerances import with_dtype
from reference import engine
from reference.activations import sigma_prime


def _parts(case: Any) -> tuple[Any, list[np.ndarray], list[np.ndarray], list[np.ndarray], list[np.ndarray]]:
    c = reference.validate(case)
    p = engine.backpropagate(c, c.x, c.y)
    return c, p.z, p.a, p.deltas, p.grad_weights + p.grad_biases


def seed_typo(case: Any) -> dict[str, Any]:
    """Equation 2 as the seed prints it: (w^{l+1})^T a^{l+1} instead of (w^{l+1})^T delta^{l+1}."""
    c, z, a, deltas, _ = _parts(case)
    n = len(c.weights)
    for i in range(n - 2, -1, -1):
        deltas[i] = (a[i + 2] @ c.weights[i + 1]) * sigma_prime(c.activations[i], z[i])
    scale = 1.0 / c.m if c.reduction == "mean" else 1.0
    return {
        "grad_weights": [scale * deltas[i].T @ a[i] for i in range(n)],
        "grad_biases": [scale * deltas[i].sum(axis=0) for i in range(n)],
        "deltas": deltas,
    }


def seed_typo_without_deltas(case: Any) -> dict[str, Any]:
    result = seed_typo(case)
    del result["deltas"]
    return result


def weights_off(case: Any) -> dict[str, Any]:
    """Only dC/dw is wrong (by 1%): equations 1-3 must pass."""
    result = reference.backprop(case)
    result["grad_weights"] = [1.01 * g for g in result["grad_weights"]]
    return result


def missing_one_over_m(case: Any) -> dict[str, Any]:
    """The mean reduction's 1/m is forgotten."""
    result = reference.backprop(case)
    if case.reduction == "mean":
        m = np.asarray(case.x).shape[0]
        result["grad_weights"] = [m * g for g in result["grad_weights"]]
        result["grad_biases"] = [m * g for g in result["grad_biases"]]
    return result


def float32_inside(case: Any) -> dict[str, Any]:
    """Right formulas, but computed in float32 whatever the case's dtype."""
    c = reference.validate(case)
    low = with_dtype(c, "float32")
    p = engine.backpropagate(low, low.x, low.y)
    as_case = [np.asarray(v, dtype=c.dtype) for v in (*p.deltas, *p.grad_weights, *p.grad_biases)]
    n = len(p.deltas)
    return {"deltas": as_case[:n], "grad_weights": as_case[n : 2 * n], "grad_biases": as_case[2 * n :]}


def raises(case: Any) -> dict[str, Any]:
    raise ZeroDivisionError("planted")


def hangs(case: Any) -> dict[str, Any]:
    threading.Event().wait(600)  # far beyond the tests' timeout; the suite must not wait for it
    return reference.backprop(case)


def nan_bias(case: Any) -> dict[str, Any]:
    result = reference.backprop(case)
    result["grad_biases"][-1] = result["grad_biases"][-1] * np.nan
    return result


def none_weight(case: Any) -> dict[str, Any]:
    result = reference.backprop(case)
    result["grad_weights"][0] = None
    return result


def column_biases(case: Any) -> dict[str, Any]:
    result = reference.backprop(case)
    result["grad_biases"] = [b[:, None] for b in result["grad_biases"]]
    return result


def nested_lists(case: Any) -> dict[str, Any]:
    """Correct, as plain nested lists and a Python float: the contract accepts these."""
    result = reference.backprop(case)
    return {
        "grad_weights": [g.tolist() for g in result["grad_weights"]],
        "grad_biases": [g.tolist() for g in result["grad_biases"]],
        "deltas": [d.tolist() for d in result["deltas"]],
        "cost": float(result["cost"]),
    }


def ragged_lists(case: Any) -> dict[str, Any]:
    result = nested_lists(case)
    result["grad_weights"][0] = [[1.0], [1.0, 2.0]]
    return result


def returns_tuple(case: Any) -> Any:
    result = reference.backprop(case)
    return result["grad_weights"], result["grad_biases"]


def mutates_input(case: Any) -> dict[str, Any]:
    result = reference.backprop(case)
    case.x[0, 0] += 1.0
    return result


class Accumulates:
    """Keeps adding into the same gradient buffers: the forgotten zero_grad."""

    def __init__(self) -> None:
        self.buffers: dict[tuple[int, ...], list[np.ndarray]] = {}

    def backprop(self, case: Any) -> dict[str, Any]:
        result = reference.backprop(case)
        key = tuple(case.sizes)
        previous = self.buffers.get(key)
        if previous is not None and all(
            p.shape == g.shape for p, g in zip(previous, result["grad_weights"], strict=True)
        ):
            result["grad_weights"] = [p + g for p, g in zip(previous, result["grad_weights"], strict=True)]
        self.buffers[key] = result["grad_weights"]
        return result


class WrongStep:
    """Right gradients, but sgd_step divides eta by m a second time."""

    capabilities = {"dtypes": ["float64"], "outputs": ["deltas", "cost"]}

    def backprop(self, case: Any) -> dict[str, Any]:
        return reference.backprop(case)

    def sgd_step(self, case: Any, eta: float) -> dict[str, Any]:
        return reference.sgd_step(case, eta / np.asarray(case.x).shape[0])


class OnlySigmoidFloat64:
    """A partial implementation that says so: everything else must be reported as not covered."""

    capabilities = {
        "activations": ["sigmoid"],
        "costs": ["quadratic"],
        "reductions": ["mean"],
        "dtypes": ["float64"],
        "outputs": [],
    }

    def backprop(self, case: Any) -> dict[str, Any]:
        result = reference.backprop(case)
        return {"grad_weights": result["grad_weights"], "grad_biases": result["grad_biases"]}
