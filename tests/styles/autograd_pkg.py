"""The HIPS autograd package itself as an implementation under test (optional: ``pip install autograd``).

Written as an autograd user writes a network: the cost in ``autograd.numpy``, relu as
``np.maximum(z, 0)``, and ``value_and_grad`` for the gradients. autograd splits the gradient
of ``maximum`` evenly at a tie, so this code's relu'(0) is 0.5: it conforms when it declares
that convention and must fail, naming relu'(0) and 0.5, when it does not. Costs are written
on z^L (``logaddexp``, a log-softmax), as careful autograd code does.
"""

from __future__ import annotations

from typing import Any

import autograd.numpy as anp
import numpy as np
from autograd import value_and_grad


def _sigma(name: str, z: Any) -> Any:
    if name == "sigmoid":
        return 0.5 * (anp.tanh(0.5 * z) + 1.0)
    if name == "tanh":
        return anp.tanh(z)
    if name == "relu":
        return anp.maximum(z, 0.0)
    if name == "identity":
        return z
    if name == "softplus":
        return anp.logaddexp(z, 0.0)
    shifted = z - anp.max(z, axis=1, keepdims=True)
    return anp.exp(shifted - anp.log(anp.sum(anp.exp(shifted), axis=1, keepdims=True)))


def _cost(params: list[tuple[Any, Any]], case: Any) -> Any:
    a = np.asarray(case.x)
    z = a
    for (w, b), name in zip(params, case.activations, strict=True):
        z = anp.dot(a, w.T) + b
        a = _sigma(name, z)
    y = np.asarray(case.y)
    if case.cost == "quadratic":
        per = 0.5 * anp.sum((a - y) ** 2, axis=1)
    elif case.cost == "cross_entropy":
        per = anp.sum(y * anp.logaddexp(0.0, -z) + (1 - y) * anp.logaddexp(0.0, z), axis=1)
    else:
        shifted = z - anp.max(z, axis=1, keepdims=True)
        log_a = shifted - anp.log(anp.sum(anp.exp(shifted), axis=1, keepdims=True))
        per = -anp.sum(y * log_a, axis=1)
    total = anp.sum(per)
    return total / y.shape[0] if case.reduction == "mean" else total


class AutogradNet:
    """``backprop`` through ``autograd.value_and_grad``; gradients and cost, no deltas."""

    def __init__(self, declare: bool = True) -> None:
        self.capabilities: dict[str, Any] = {
            "dtypes": ["float64"],
            "outputs": ["cost"],
            **({"conventions": {"relu_prime_at_zero": 0.5}} if declare else {}),
        }

    def backprop(self, case: Any) -> dict[str, Any]:
        params = [(np.asarray(w), np.asarray(b)) for w, b in zip(case.weights, case.biases, strict=True)]
        cost, grads = value_and_grad(_cost)(params, case)
        return {
            "grad_weights": [np.asarray(g_w) for g_w, _ in grads],
            "grad_biases": [np.asarray(g_b) for _, g_b in grads],
            "cost": float(cost),
        }
