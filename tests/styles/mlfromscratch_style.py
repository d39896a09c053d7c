"""An implementation in the style of ML-From-Scratch's layers, hand-written: a positive control.

ML-From-Scratch (eriklindernoren) builds a network from layer objects with
``forward_pass`` and ``backward_pass(accum_grad)``: a Dense layer keeps its input and
returns ``accum_grad @ W.T``, an Activation layer multiplies by its function's
``gradient(x)``, and the loss gives the starting gradient. Its ReLU gradient is
``np.where(x >= 0, 1, 0)``: relu'(0) = 1. Its weights are stored (n_in, n_out), so the
contract's w^l is their transpose, and its gradients are sums over the batch (the mean
reduction divides here, in the adapter). The accum_grad leaving each activation layer
is the contract's per-sample delta^l, so this style reports deltas.

``MlFromScratchStyle(declare=True)`` declares relu'(0) = 1 (it conforms); undeclared, the
suite must fail it naming relu'(0) and 1. Only its square loss is used: its softmax
gradient is the diagonal p (1 - p) alone, and its cross-entropy clips p, both outside
what this control is for, and the capabilities say so, per position.
"""

from __future__ import annotations

from typing import Any

import numpy as np

Array = np.ndarray


class Sigmoid:
    def __call__(self, x: Array) -> Array:
        e = np.exp(-np.abs(x))  # the library's 1 / (1 + exp(-x)), without its overflow warning
        return np.where(x >= 0, 1.0, e) / (1.0 + e)

    def gradient(self, x: Array) -> Array:
        return self(x) * (1 - self(x))


class TanH:
    def __call__(self, x: Array) -> Array:
        return np.tanh(x)

    def gradient(self, x: Array) -> Array:
        return 1 - np.tanh(x) ** 2


class ReLU:
    def __call__(self, x: Array) -> Array:
        return np.where(x >= 0, x, 0)

    def gradient(self, x: Array) -> Array:
        return np.where(x >= 0, 1, 0)


class Identity:
    def __call__(self, x: Array) -> Array:
        return x

    def gradient(self, x: Array) -> Array:
        return np.ones_like(x)


Function = Sigmoid | TanH | ReLU | Identity
FUNCTIONS: dict[str, type[Function]] = {"sigmoid": Sigmoid, "tanh": TanH, "relu": ReLU, "identity": Identity}


class Dense:
    def __init__(self, W: Array, w0: Array) -> None:
        self.W, self.w0 = W, w0
        self.layer_input: Array | None = None
        self.grad_W: Array | None = None
        self.grad_w0: Array | None = None

    def forward_pass(self, X: Array) -> Array:
        self.layer_input = X
        return X @ self.W + self.w0

    def backward_pass(self, accum_grad: Array) -> Array:
        assert self.layer_input is not None
        W = self.W
        self.grad_W = self.layer_input.T @ accum_grad
        self.grad_w0 = np.sum(accum_grad, axis=0, keepdims=True)
        return accum_grad @ W.T


class Activation:
    def __init__(self, name: str) -> None:
        self.function: Function = FUNCTIONS[name]()
        self.layer_input: Array | None = None

    def forward_pass(self, X: Array) -> Array:
        self.layer_input = X
        return self.function(X)

    def backward_pass(self, accum_grad: Array) -> Array:
        assert self.layer_input is not None
        return accum_grad * self.function.gradient(self.layer_input)


class SquareLoss:
    def loss(self, y: Array, y_pred: Array) -> Array:
        return 0.5 * np.power((y - y_pred), 2)

    def gradient(self, y: Array, y_pred: Array) -> Array:
        return -(y - y_pred)


class MlFromScratchStyle:
    """A layer-object network built per case (module docstring)."""

    def __init__(self, declare: bool = True) -> None:
        self.capabilities: dict[str, Any] = {
            "hidden_activations": ["sigmoid", "tanh", "relu", "identity"],
            "output_activations": ["sigmoid", "tanh", "relu", "identity"],
            "costs": ["quadratic"],
            "outputs": ["deltas", "cost"],
        }
        if declare:
            self.capabilities["conventions"] = {"relu_prime_at_zero": 1}

    def backprop(self, case: Any) -> dict[str, Any]:
        dtype = np.dtype(case.dtype)
        dense = [
            Dense(np.array(w, dtype=dtype).T, np.array(b, dtype=dtype)[None, :])
            for w, b in zip(case.weights, case.biases, strict=True)
        ]
        acts = [Activation(name) for name in case.activations]
        out = np.array(case.x, dtype=dtype)
        for d, act in zip(dense, acts, strict=True):
            out = act.forward_pass(d.forward_pass(out)).astype(dtype)
        y = np.array(case.y, dtype=dtype)
        loss = SquareLoss()
        accum_grad = loss.gradient(y, out)
        deltas: list[Array] = []
        for d, act in zip(reversed(dense), reversed(acts), strict=True):
            accum_grad = act.backward_pass(accum_grad).astype(dtype)
            deltas.append(accum_grad)
            accum_grad = d.backward_pass(accum_grad)
        m = len(out)
        s = dtype.type(1.0 / m if case.reduction == "mean" else 1.0)
        return {
            "grad_weights": [(d.grad_W.T * s).astype(dtype) for d in dense if d.grad_W is not None],
            "grad_biases": [(d.grad_w0[0] * s).astype(dtype) for d in dense if d.grad_w0 is not None],
            "deltas": deltas[::-1],
            "cost": float(np.sum(loss.loss(y, out)) * s),
        }
