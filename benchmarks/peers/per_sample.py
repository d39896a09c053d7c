"""The textbook per-sample loop: column vectors, one sample at a time, as in the seed's pseudocode.

It follows Nielsen's network.py (backprop and update_mini_batch), which the seed's pseudocode
describes: for each x, a forward and backward pass on (n, 1) columns, then
nabla = [nb + dnb ...] accumulated over the mini-batch. Biases are (n, 1) columns there; the
conversion from the engine's 1-D biases happens once, in ``columns``, outside the timed calls.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import numpy as np


def sigmoid(z: np.ndarray) -> np.ndarray:
    return 1.0 / (1.0 + np.exp(-z))


def sigmoid_prime(z: np.ndarray) -> np.ndarray:
    return sigmoid(z) * (1 - sigmoid(z))


def columns(biases: Sequence[np.ndarray]) -> list[np.ndarray]:
    """Nielsen's layout: b^l as an (n_l, 1) column."""
    return [b.reshape(-1, 1) for b in biases]


def backprop_one(
    weights: Sequence[np.ndarray], biases: Sequence[np.ndarray], x: np.ndarray, y: np.ndarray
) -> tuple[list[np.ndarray], list[np.ndarray]]:
    """Nielsen's backprop(x, y) for one sample given as columns: (nabla_b, nabla_w) of C_x."""
    nabla_b = [np.zeros(b.shape) for b in biases]
    nabla_w = [np.zeros(w.shape) for w in weights]
    activation = x
    activations = [x]
    zs = []
    for b, w in zip(biases, weights, strict=True):
        z = np.dot(w, activation) + b
        zs.append(z)
        activation = sigmoid(z)
        activations.append(activation)
    delta = (activations[-1] - y) * sigmoid_prime(zs[-1])
    nabla_b[-1] = delta
    nabla_w[-1] = np.dot(delta, activations[-2].transpose())
    for k in range(2, len(weights) + 1):
        sp = sigmoid_prime(zs[-k])
        delta = np.dot(weights[-k + 1].transpose(), delta) * sp
        nabla_b[-k] = delta
        nabla_w[-k] = np.dot(delta, activations[-k - 1].transpose())
    return nabla_b, nabla_w


def backprop(
    weights: Sequence[np.ndarray], bias_columns: Sequence[np.ndarray], x: np.ndarray, y: np.ndarray
) -> tuple[list[np.ndarray], list[np.ndarray]]:
    """(grad_weights, grad_biases as columns) of the mean quadratic cost, one sample at a time."""
    nabla_b = [np.zeros(b.shape) for b in bias_columns]
    nabla_w = [np.zeros(w.shape) for w in weights]
    for xi, yi in zip(x, y, strict=True):
        delta_nabla_b, delta_nabla_w = backprop_one(weights, bias_columns, xi.reshape(-1, 1), yi.reshape(-1, 1))
        nabla_b = [nb + dnb for nb, dnb in zip(nabla_b, delta_nabla_b, strict=True)]
        nabla_w = [nw + dnw for nw, dnw in zip(nabla_w, delta_nabla_w, strict=True)]
    m = x.shape[0]
    return [nw / m for nw in nabla_w], [nb / m for nb in nabla_b]


GradientFn = Callable[[Any, Any, np.ndarray, np.ndarray], tuple[Any, ...]]


def sgd_epoch(
    weights: list[np.ndarray],
    bias_columns: list[np.ndarray],
    x: np.ndarray,
    y: np.ndarray,
    eta: float,
    mini_batch_size: int,
    order: np.ndarray,
    gradient: GradientFn | None = None,
) -> tuple[list[np.ndarray], list[np.ndarray]]:
    """One epoch of Nielsen's SGD (update_mini_batch over the mini-batches in ``order``).

    gradient(weights, biases, x, y) -> (grad_w, grad_b, ...): this module's per-sample
    backprop by default; the batched numpy peer passes its own (its biases are 1-D).
    """
    for start in range(0, len(order), mini_batch_size):
        batch = order[start : start + mini_batch_size]
        grads = (gradient or backprop)(weights, bias_columns, x[batch], y[batch])
        grad_w, grad_b = grads[0], grads[1]
        weights = [w - eta * g for w, g in zip(weights, grad_w, strict=True)]
        bias_columns = [b - eta * g for b, g in zip(bias_columns, grad_b, strict=True)]
    return weights, bias_columns
