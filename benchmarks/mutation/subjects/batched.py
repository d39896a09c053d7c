"""Backprop on the whole batch at once, one sample per row, as numpy code is usually written."""

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


def softplus(z: np.ndarray) -> np.ndarray:
    return np.logaddexp(z, 0)


def sigmoid(z: np.ndarray) -> np.ndarray:
    return np.exp(-softplus(-z))


def log_softmax(z: np.ndarray) -> np.ndarray:
    shifted = z - z.max(axis=1, keepdims=True)
    return shifted - np.log(np.exp(shifted).sum(axis=1, keepdims=True))


ACTIVATIONS: dict[str, tuple[Any, Any]] = {
    "sigmoid": (sigmoid, lambda z: sigmoid(z) * sigmoid(-z)),
    "tanh": (np.tanh, lambda z: 1 - np.tanh(z) ** 2),
    "relu": (lambda z: np.maximum(z, 0), lambda z: np.where(z > 0, 1, 0).astype(z.dtype)),
    "identity": (lambda z: z, np.ones_like),
    "softplus": (softplus, sigmoid),
    "softmax": (lambda z: np.exp(log_softmax(z)), None),
}


def forward(case: Any) -> tuple[list[np.ndarray], list[np.ndarray]]:
    a = [np.asarray(case.x)]
    zs = []
    for w, b, name in zip(case.weights, case.biases, case.activations):
        zs.append(a[-1] @ w.T + b)
        a.append(ACTIVATIONS[name][0](zs[-1]))
    return zs, a


def costs(case: Any, z: np.ndarray, a: np.ndarray) -> np.ndarray:
    """C_x for every sample x (a row each)."""
    y = case.y
    if case.cost == "quadratic":
        return 0.5 * ((a - y) ** 2).sum(axis=1)
    if case.cost == "cross_entropy":
        return (y * softplus(-z) + (1 - y) * softplus(z)).sum(axis=1)
    return -(y * log_softmax(z)).sum(axis=1)


def backprop(case: Any) -> dict[str, Any]:
    zs, a = forward(case)
    y = case.y
    out = case.activations[-1]
    if case.cost == "cross_entropy":
        delta = a[-1] - y
    elif case.cost == "log_likelihood":
        delta = a[-1] * y.sum(axis=1, keepdims=True) - y
    elif out == "softmax":
        g = a[-1] - y
        delta = a[-1] * (g - (a[-1] * g).sum(axis=1, keepdims=True))
    else:
        delta = (a[-1] - y) * ACTIVATIONS[out][1](zs[-1])  # equation 1
    deltas = [delta]
    for i in range(len(zs) - 2, -1, -1):  # equation 2
        delta = (delta @ case.weights[i + 1]) * ACTIVATIONS[case.activations[i]][1](zs[i])
        deltas.insert(0, delta)
    m = len(case.x)
    s = 1 / m if case.reduction == "mean" else 1
    return {
        "grad_weights": [s * (d.T @ prev) for d, prev in zip(deltas, a)],  # equation 4
        "grad_biases": [s * d.sum(axis=0) for d in deltas],  # equation 3
        "deltas": deltas,
        "cost": s * float(costs(case, zs[-1], a[-1]).sum()),
    }


def sgd_step(case: Any, eta: float) -> dict[str, Any]:
    g = backprop(case)
    weights = [w - eta * gw for w, gw in zip(case.weights, g["grad_weights"])]
    biases = [b - eta * gb for b, gb in zip(case.biases, g["grad_biases"])]
    return {"weights": weights, "biases": biases}
