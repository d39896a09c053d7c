"""Backprop one sample at a time, in column vectors, as Nielsen's network.py writes it."""

from __future__ import annotations

from typing import Any

import numpy as np

capabilities = {
    "activations": ["sigmoid", "tanh", "relu", "identity", "softplus", "softmax"],
    "costs": ["quadratic", "cross_entropy", "log_likelihood"],
    "reductions": ["mean", "sum"],
    "dtypes": ["float64", "float32"],
    "outputs": ["deltas", "cost"],
}


def sigmoid(z: np.ndarray) -> np.ndarray:
    e = np.exp(-np.abs(z))  # never overflows
    return np.where(z >= 0, 1 / (1 + e), e / (1 + e))


def softplus(z: np.ndarray) -> np.ndarray:
    return np.maximum(z, 0) + np.log1p(np.exp(-np.abs(z)))


def log_softmax(z: np.ndarray) -> np.ndarray:
    shifted = z - np.max(z)
    return shifted - np.log(np.sum(np.exp(shifted)))


def sigma(name: str, z: np.ndarray) -> np.ndarray:
    if name == "sigmoid":
        return sigmoid(z)
    if name == "tanh":
        return np.tanh(z)
    if name == "relu":
        return np.maximum(z, 0)
    if name == "identity":
        return z
    if name == "softplus":
        return softplus(z)
    return np.exp(log_softmax(z))


def sigma_prime(name: str, z: np.ndarray) -> np.ndarray:
    if name == "sigmoid":
        s = sigmoid(z)
        return s * (1 - s)
    if name == "tanh":
        t = np.tanh(z)
        return 1 - t * t
    if name == "relu":
        return (z > 0).astype(z.dtype)
    if name == "identity":
        return np.ones_like(z)
    return sigmoid(z)  # softplus' = sigmoid


def sample_cost(cost: str, z: np.ndarray, a: np.ndarray, y: np.ndarray) -> float:
    if cost == "quadratic":
        return 0.5 * float(np.sum((a - y) ** 2))
    if cost == "cross_entropy":  # from z: ln a = -softplus(-z), ln(1 - a) = -softplus(z)
        return float(np.sum(y * softplus(-z) + (1 - y) * softplus(z)))
    return -float(np.sum(y * log_softmax(z)))


def output_error(cost: str, name: str, z: np.ndarray, a: np.ndarray, y: np.ndarray) -> np.ndarray:
    """Equation 1: delta^L = nabla_a C (.) sigma'(z^L), with the cost-activation pairs simplified."""
    if cost == "cross_entropy":
        return a - y
    if cost == "log_likelihood":
        return a * np.sum(y) - y
    g = a - y
    if name == "softmax":
        return a * (g - np.sum(a * g))
    return g * sigma_prime(name, z)


def one_sample(case: Any, x: np.ndarray, y: np.ndarray) -> tuple[list[np.ndarray], list[np.ndarray], float]:
    """The per-sample deltas (column vectors), the activations a^1..a^L and C_x."""
    activation = x
    activations = [x]
    zs = []
    for w, b, name in zip(case.weights, case.biases, case.activations):
        z = w @ activation + b.reshape(-1, 1)
        zs.append(z)
        activation = sigma(name, z)
        activations.append(activation)
    delta = output_error(case.cost, case.activations[-1], zs[-1], activations[-1], y)
    deltas = [delta]
    for l in range(2, len(case.sizes)):  # equation 2, back to front
        delta = (case.weights[-l + 1].T @ delta) * sigma_prime(case.activations[-l], zs[-l])
        deltas.insert(0, delta)
    return deltas, activations, sample_cost(case.cost, zs[-1], activations[-1], y)


def backprop(case: Any) -> dict[str, Any]:
    dtype = np.dtype(case.dtype)
    nabla_w = [np.zeros(w.shape, dtype) for w in case.weights]
    nabla_b = [np.zeros((len(b), 1), dtype) for b in case.biases]
    per_sample: list[list[np.ndarray]] = [[] for _ in case.weights]
    total = 0.0
    for x, y in zip(case.x, case.y):
        deltas, activations, cost = one_sample(case, x.reshape(-1, 1), y.reshape(-1, 1))
        total += cost
        for i, delta in enumerate(deltas):
            nabla_b[i] += delta  # equation 3
            nabla_w[i] += delta @ activations[i].T  # equation 4
            per_sample[i].append(delta.ravel())
    scale = 1 / len(case.x) if case.reduction == "mean" else 1
    return {
        "grad_weights": [scale * nw for nw in nabla_w],
        "grad_biases": [scale * nb.ravel() for nb in nabla_b],
        "deltas": [np.array(rows, dtype) for rows in per_sample],
        "cost": scale * total,
    }


def sgd_step(case: Any, eta: float) -> dict[str, Any]:
    grads = backprop(case)
    return {
        "weights": [w - eta * nw for w, nw in zip(case.weights, grads["grad_weights"])],
        "biases": [b.reshape(-1) - eta * nb for b, nb in zip(case.biases, grads["grad_biases"])],
    }
