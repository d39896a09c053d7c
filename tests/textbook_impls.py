"""Textbook backprop, written the way the books and frameworks write it: positive controls.

``Network2`` follows Nielsen's network2.py line by line (one sample at a time, column
vectors, sigmoid as 1/(1 + e^{-z}), sigma' = s(1 - s), the cost computed from a:
nan_to_num(-y ln a - (1 - y) ln(1 - a)), delta^L = a - y), with a softmax output layer
for the log-likelihood cost as in network3.py (-sum y ln a from a = e^{z - max} / sum).
It is correct code: its only differences from the reference are rounding, so the
conformance suite must pass it, in float64 and in float32. Independent of the
reference engine on purpose.
"""

from __future__ import annotations

from typing import Any

import numpy as np

Array = np.ndarray


def sigmoid(z: Array) -> Array:
    with np.errstate(over="ignore"):  # e^{-z} overflows to inf for very negative z: 1/inf = 0, right
        return 1.0 / (1.0 + np.exp(-z))


def sigmoid_prime(z: Array) -> Array:
    return sigmoid(z) * (1 - sigmoid(z))


def softmax(z: Array) -> Array:
    e = np.exp(z - np.max(z))
    return e / np.sum(e)


def cross_entropy_fn(a: Array, y: Array) -> Array:
    """network2.CrossEntropyCost.fn: the cost from a, with nan_to_num for 0 * ln 0."""
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.sum(np.nan_to_num(-y * np.log(a) - (1 - y) * np.log(1 - a)))


def log_likelihood_fn(a: Array, y: Array) -> Array:
    """-sum_j y_j ln a_j, from the softmax output a (network3.SoftmaxLayer.cost, soft targets allowed)."""
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.sum(np.nan_to_num(-y * np.log(a)))


class Network2:
    """Per-sample backprop in the case's dtype, sigmoid hidden layers, sigmoid or softmax output."""

    capabilities = {
        "activations": ["sigmoid", "softmax"],
        "costs": ["cross_entropy", "log_likelihood"],
        "reductions": ["mean", "sum"],
        "dtypes": ["float64", "float32"],
        "outputs": ["deltas", "cost"],
        # Its cost is computed from the rounded output a, by design: declared (CONTRACT.md section 1).
        "conventions": {"cost_from_activations": 1},
    }

    def _one(self, case: Any, x: Array, y: Array) -> tuple[list[Array], list[Array], list[Array], Array]:
        """network2.Network.backprop for one sample (column vectors): nabla_b, nabla_w, deltas, cost."""
        weights, biases = case.weights, [b.reshape(-1, 1) for b in case.biases]
        activation = x.reshape(-1, 1)
        activations, zs = [activation], []
        for i, (b, w) in enumerate(zip(biases, weights, strict=True)):
            z = np.dot(w, activation) + b
            zs.append(z)
            activation = softmax(z) if case.activations[i] == "softmax" else sigmoid(z)
            activations.append(activation)
        y = y.reshape(-1, 1)
        a = activations[-1]
        cost = cross_entropy_fn(a, y) if case.cost == "cross_entropy" else log_likelihood_fn(a, y)
        delta = a - y  # CrossEntropyCost.delta; the softmax/log-likelihood delta is the same
        n = len(weights)
        nabla_b: list[Array] = [np.empty(0)] * n
        nabla_w: list[Array] = [np.empty(0)] * n
        deltas: list[Array] = [np.empty(0)] * n
        nabla_b[-1], nabla_w[-1], deltas[-1] = delta, np.dot(delta, activations[-2].T), delta
        for k in range(2, n + 1):
            delta = np.dot(weights[-k + 1].T, delta) * sigmoid_prime(zs[-k])
            nabla_b[-k], nabla_w[-k], deltas[-k] = delta, np.dot(delta, activations[-k - 1].T), delta
        return nabla_b, nabla_w, deltas, cost

    def sample_costs(self, case: Any) -> Array:
        """C_x of every sample as the textbook computes it (nan_to_num makes an infinite one the largest float)."""
        return np.array([self._one(case, case.x[s], case.y[s])[3] for s in range(case.x.shape[0])])

    def backprop(self, case: Any) -> dict[str, Any]:
        m = case.x.shape[0]
        nabla_b = [np.zeros_like(b) for b in case.biases]
        nabla_w = [np.zeros_like(w) for w in case.weights]
        rows: list[list[Array]] = [[] for _ in case.weights]
        total = np.zeros((), dtype=case.x.dtype)
        for s in range(m):
            db, dw, ds, c = self._one(case, case.x[s], case.y[s])
            nabla_b = [nb + d.ravel() for nb, d in zip(nabla_b, db, strict=True)]
            nabla_w = [nw + d for nw, d in zip(nabla_w, dw, strict=True)]
            for r, d in zip(rows, ds, strict=True):
                r.append(d.ravel())
            total = total + c
        scale = 1 / m if case.reduction == "mean" else 1
        return {
            "grad_weights": [(scale * g).astype(case.dtype) for g in nabla_w],
            "grad_biases": [(scale * g).astype(case.dtype) for g in nabla_b],
            "deltas": [np.array(r, dtype=case.dtype) for r in rows],
            "cost": float(total * scale),
        }

    def sgd_step(self, case: Any, eta: float) -> dict[str, Any]:
        """network2.update_mini_batch without regularisation: w - eta * dC/dw."""
        grads = self.backprop(case)
        step = np.dtype(case.dtype).type(eta)
        return {
            "weights": [w - step * g for w, g in zip(case.weights, grads["grad_weights"], strict=True)],
            "biases": [b - step * g for b, g in zip(case.biases, grads["grad_biases"], strict=True)],
        }
