"""A correct, independent numpy backprop that every broken implementation perturbs in one place.

Written from the seed's equations without importing the reference engine, so
that the catalogue tests the suite against foreign code; each step is a method so
that one bug is one overridden method. The positive control in
tests/test_conformance_catalogue.py shows this base itself conforms.
"""

from __future__ import annotations

from typing import Any

import numpy as np

Array = np.ndarray


def _sigmoid(z: Array) -> Array:
    e = np.exp(-np.abs(z))
    return np.where(z >= 0, 1.0, e) / (1.0 + e)


class Backprop:
    """Batch backprop, one sample per row: z^l = a^{l-1} W^T + b, delta^l = dC_x/dz^l per sample."""

    #: Diagnosis a broken subclass must receive: (check, layer in the seed's numbering or None).
    EXPECTED: tuple[str, int | None] | None = None
    #: The regimes to search (None: all), where a bug's diagnosis depends on the shapes.
    REGIMES: tuple[str, ...] | None = None
    #: The contract's optional capabilities; broken ones narrow it to where their bug lives.
    capabilities: dict[str, list[str]] | None = None

    # ----- numerics -----
    def compute_dtype(self, case: Any) -> np.dtype:
        return np.dtype(case.dtype)

    def sigma(self, name: str, z: Array) -> Array:
        if name == "sigmoid":
            return _sigmoid(z)
        if name == "tanh":
            return np.tanh(z)
        if name == "relu":
            return np.where(z > 0, z, 0.0).astype(z.dtype)
        if name == "identity":
            return z
        if name == "softplus":
            return np.maximum(z, 0) + np.log1p(np.exp(-np.abs(z)))
        if name == "softmax":
            e = np.exp(z - z.max(axis=1, keepdims=True))
            return e / e.sum(axis=1, keepdims=True)
        raise ValueError(f"unknown activation {name!r}")

    def sigma_prime(self, name: str, z: Array, a: Array) -> Array:
        """sigma'(z); a = sigma(z) is passed for the bugs that use it."""
        if name == "sigmoid":
            e = np.exp(-np.abs(z))
            return e / ((1.0 + e) * (1.0 + e))
        if name == "tanh":
            return 1.0 - np.tanh(z) ** 2
        if name == "relu":
            return (z > 0).astype(z.dtype)
        if name == "identity":
            return np.ones_like(z)
        if name == "softplus":
            return _sigmoid(z)
        raise ValueError(f"no elementwise derivative for {name!r}")

    # ----- equations -----
    def output_delta(self, cost: str, name: str, z: Array, a: Array, y: Array) -> Array:
        """Equation 1, or its closed form a - y (cross_entropy/sigmoid, log_likelihood/softmax)."""
        if cost == "cross_entropy":
            return a - y
        if cost == "log_likelihood":
            return a * y.sum(axis=1, keepdims=True) - y
        grad = self.cost_gradient(a, y)
        if name == "softmax":
            return self.softmax_jacobian_t(a, grad)
        return grad * self.sigma_prime(name, z, a)

    def cost_gradient(self, a: Array, y: Array) -> Array:
        """nabla_a C_x of the quadratic cost."""
        return a - y

    def softmax_jacobian_t(self, a: Array, g: Array) -> Array:
        return a * (g - np.sum(a * g, axis=1, keepdims=True))

    def hidden_delta(self, w_next: Array, delta_next: Array, a_next: Array, z: Array, a: Array, name: str) -> Array:
        """Equation 2: delta^l = ((w^{l+1})^T delta^{l+1}) (.) sigma'(z^l)."""
        return (delta_next @ w_next) * self.sigma_prime(name, z, a)

    def backward(self, weights: list[Array], zs: list[Array], acts: list[Array], y: Array, case: Any) -> list[Array]:
        n = len(weights)
        deltas: list[Array] = [np.empty(0)] * n
        deltas[-1] = self.output_delta(case.cost, case.activations[-1], zs[-1], acts[-1], y)
        for i in range(n - 2, -1, -1):
            deltas[i] = self.hidden_delta(
                weights[i + 1], deltas[i + 1], acts[i + 2], zs[i], acts[i + 1], case.activations[i]
            )
        return deltas

    def scale(self, reduction: str, m: int) -> float:
        """The reduction's factor between C and sum_x C_x (used for the cost)."""
        return 1.0 / m if reduction == "mean" else 1.0

    def gradient_scale(self, reduction: str, m: int) -> float:
        """The same factor where the gradients use it (another line of code, so another bug)."""
        return self.scale(reduction, m)

    def grad_weights(self, delta: Array, a_prev: Array, a_here: Array, scale: float) -> Array:
        """Equation 4: sum_x delta^{x,l} (a^{x,l-1})^T, scaled."""
        return (delta.T @ a_prev) * scale

    def grad_biases(self, delta: Array, scale: float) -> Array:
        """Equation 3: sum_x delta^{x,l}, scaled."""
        return delta.sum(axis=0) * scale

    def cost_value(self, case: Any, z_L: Array, a_L: Array, y: Array, scale: float) -> float:
        if case.cost == "quadratic":
            per = 0.5 * np.sum((a_L - y) ** 2, axis=1)
        elif case.cost == "cross_entropy":
            sp = lambda v: np.maximum(v, 0) + np.log1p(np.exp(-np.abs(v)))  # noqa: E731
            per = np.sum(y * sp(-z_L) + (1 - y) * sp(z_L), axis=1)
        else:
            shifted = z_L - z_L.max(axis=1, keepdims=True)
            log_a = shifted - np.log(np.exp(shifted).sum(axis=1, keepdims=True))
            per = -np.sum(y * log_a, axis=1)
        return float(per.sum() * scale)

    # ----- the contract -----
    def inputs(self, case: Any) -> tuple[list[Array], list[Array], Array, Array]:
        dtype = self.compute_dtype(case)
        weights = [np.array(w, dtype=dtype) for w in case.weights]
        biases = [np.array(b, dtype=dtype) for b in case.biases]
        return weights, biases, np.array(case.x, dtype=dtype), np.array(case.y, dtype=dtype)

    def finish(self, array: Array, case: Any) -> Array:
        return np.asarray(array, dtype=case.dtype)

    def backprop(self, case: Any) -> dict[str, Any]:
        weights, biases, x, y = self.inputs(case)
        zs, acts = [], [x]
        for w, b, name in zip(weights, biases, case.activations, strict=True):
            zs.append(acts[-1] @ w.T + b)
            acts.append(self.sigma(name, zs[-1]))
        deltas = self.backward(weights, zs, acts, y, case)
        s = self.scale(case.reduction, x.shape[0])
        g = self.gradient_scale(case.reduction, x.shape[0])
        return {
            "grad_weights": [
                self.finish(self.grad_weights(d, acts[i], acts[i + 1], g), case) for i, d in enumerate(deltas)
            ],
            "grad_biases": [self.finish(self.grad_biases(d, g), case) for d in deltas],
            "deltas": [self.finish(d, case) for d in deltas],
            "cost": self.cost_value(case, zs[-1], acts[-1], y, s),
        }

    def sgd_step(self, case: Any, eta: float) -> dict[str, Any]:
        # The base computation, not a subclass wrapper: a wrapper side effect is its own bug.
        grads = Backprop.backprop(self, case)
        dtype = np.dtype(case.dtype)
        step = dtype.type(eta)
        return {
            "weights": [
                np.asarray(w, dtype=dtype) - step * g for w, g in zip(case.weights, grads["grad_weights"], strict=True)
            ],
            "biases": [
                np.asarray(b, dtype=dtype) - step * g for b, g in zip(case.biases, grads["grad_biases"], strict=True)
            ],
        }
