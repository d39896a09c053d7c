"""The Python twin of conformance/examples/node/backprop.js: the same functions, loops and branches.

The JavaScript example speaks JSON lines; mutating it would need a JavaScript parser, so its twin
carries the mutations: one sample at a time, one unit at a time, every number a double (float32
cases are computed in float64, as the JavaScript does). The innermost sums use numpy dot products
only for speed; the structure, and so every place a mutation can land, is the JavaScript's.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

capabilities = {
    "activations": ["sigmoid", "tanh", "relu", "identity", "softplus", "softmax"],
    "costs": ["quadratic", "cross_entropy", "log_likelihood"],
    "reductions": ["mean", "sum"],
    "dtypes": ["float64", "float32"],
    "outputs": ["deltas", "cost"],
}


def sigmoid(z: float) -> float:
    if z >= 0:
        return 1 / (1 + math.exp(-z))
    e = math.exp(z)
    return e / (1 + e)


def sigmoid_prime(z: float) -> float:
    s = sigmoid(z)
    return s * (1 - s)


def tanh_prime(z: float) -> float:
    t = math.tanh(z)
    return 1 - t * t


def relu(z: float) -> float:
    return z if z > 0 else 0.0


def relu_prime(z: float) -> float:
    return 1.0 if z > 0 else 0.0  # relu'(0) = 0


def identity(z: float) -> float:
    return z


def one(z: float) -> float:
    return 1.0


def softplus(z: float) -> float:
    return max(z, 0.0) + math.log1p(math.exp(-abs(z)))


ACTIVATIONS = {
    "sigmoid": (sigmoid, sigmoid_prime),
    "tanh": (math.tanh, tanh_prime),
    "relu": (relu, relu_prime),
    "identity": (identity, one),
    "softplus": (softplus, sigmoid),
}


def softmax(row: list[float]) -> list[float]:
    shift = max(row)
    e = [math.exp(v - shift) for v in row]
    total = sum(e)
    return [v / total for v in e]


def log_softmax(row: list[float]) -> list[float]:
    shift = max(row)
    lse = math.log(sum(math.exp(v - shift) for v in row))
    return [v - shift - lse for v in row]


def activate(name: str, z: list[float]) -> list[float]:
    if name == "softmax":
        return softmax(z)
    f = ACTIVATIONS[name][0]
    return [f(v) for v in z]


def forward(weights: list[np.ndarray], biases: list[list[float]], activations: list[str], x: list[float]) -> Any:
    zs: list[list[float]] = []
    as_ = [x]  # as_[i] = a^{i+1}
    for i, w in enumerate(weights):
        a_prev = np.array(as_[i])
        z = [biases[i][j] + float(row @ a_prev) for j, row in enumerate(w)]
        zs.append(z)
        as_.append(activate(activations[i], z))
    return zs, as_


def sample_cost(cost: str, z_l: list[float], a_l: list[float], y: list[float]) -> float:
    if cost == "quadratic":
        return 0.5 * sum((a - y[j]) ** 2 for j, a in enumerate(a_l))
    if cost == "cross_entropy":  # ln a = -softplus(-z), ln(1 - a) = -softplus(z)
        return sum(y[j] * softplus(-z) + (1 - y[j]) * softplus(z) for j, z in enumerate(z_l))
    ls = log_softmax(z_l)
    return -sum(y[j] * v for j, v in enumerate(ls))


def output_error(cost: str, out_name: str, z_l: list[float], a_l: list[float], y: list[float]) -> list[float]:
    if cost == "cross_entropy":
        return [a - y[j] for j, a in enumerate(a_l)]
    if cost == "log_likelihood":
        sum_y = sum(y)
        return [a * sum_y - y[j] for j, a in enumerate(a_l)]
    grad = [a - y[j] for j, a in enumerate(a_l)]  # nabla_a C for the quadratic cost
    if out_name == "softmax":
        dot = sum(a * grad[j] for j, a in enumerate(a_l))
        return [a * (grad[j] - dot) for j, a in enumerate(a_l)]
    df = ACTIVATIONS[out_name][1]
    return [g * df(z_l[j]) for j, g in enumerate(grad)]  # equation 1


def sample_deltas(
    c: Any, weights: list[np.ndarray], zs: list[list[float]], as_: list[list[float]], y: list[float]
) -> list[list[float]]:
    l1 = len(weights)  # L - 1 layers carry z
    deltas: list[list[float]] = [[] for _ in range(l1)]
    deltas[l1 - 1] = output_error(c.cost, c.activations[l1 - 1], zs[l1 - 1], as_[l1], y)
    for i in range(l1 - 2, -1, -1):
        # equation 2: delta^l = ((w^{l+1})^T delta^{l+1}) (.) sigma'(z^l)
        back = weights[i + 1].T @ np.array(deltas[i + 1])
        df = ACTIVATIONS[c.activations[i]][1]
        deltas[i] = [float(back[k]) * df(z) for k, z in enumerate(zs[i])]
    return deltas


def backprop(c: Any) -> dict[str, Any]:
    weights = [np.asarray(w, dtype=np.float64) for w in c.weights]
    biases = [[float(v) for v in b] for b in c.biases]
    m = len(c.x)
    scale = 1 / m if c.reduction == "mean" else 1
    grad_w = [np.zeros(w.shape) for w in weights]
    grad_b = [np.zeros(len(b)) for b in biases]
    deltas: list[list[list[float]]] = [[] for _ in weights]
    total = 0.0
    for s, x in enumerate(c.x):
        y = [float(v) for v in c.y[s]]
        zs, as_ = forward(weights, biases, list(c.activations), [float(v) for v in x])
        total += sample_cost(c.cost, zs[-1], as_[-1], y)
        d = sample_deltas(c, weights, zs, as_, y)
        for i, delta in enumerate(d):
            deltas[i].append(delta)
            grad_b[i] += np.array(delta)  # equation 3
            grad_w[i] += np.outer(delta, as_[i])  # equation 4
    return {
        "grad_weights": [g * scale for g in grad_w],
        "grad_biases": [g * scale for g in grad_b],
        "deltas": [np.array(rows) for rows in deltas],
        "cost": total * scale,
    }


def sgd_step(c: Any, eta: float) -> dict[str, Any]:
    g = backprop(c)
    return {
        "weights": [np.asarray(w, dtype=np.float64) - eta * gw for w, gw in zip(c.weights, g["grad_weights"])],
        "biases": [np.asarray(b, dtype=np.float64) - eta * gb for b, gb in zip(c.biases, g["grad_biases"])],
    }
