"""An implementation in the style of HIPS autograd, hand-written in numpy: a positive control.

autograd users write the cost with numpy operations and let reverse-mode differentiation
do the rest; relu is ``np.maximum(z, 0)``, whose derivative autograd defines with
``balanced_eq``: at a tie (z = 0) the gradient is split evenly, so relu'(0) = 0.5. This
module does the same with a small tape of its own (no autograd import: the library's code
stays outside the project), so it is what an autograd user's code computes, including that
convention. Like ``autograd.value_and_grad`` it returns the cost and the gradients, and
no deltas.

``HipsStyle(declare=True)`` declares relu'(0) = 0.5 (it conforms); ``declare=False`` leaves
it to the contract's default 0, and the suite must fail it naming relu'(0) and 0.5.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

Array = np.ndarray


class Var:
    """A value on the tape, with the vector-Jacobian products back to its parents."""

    def __init__(self, value: Array, parents: tuple[tuple[Var, Callable[[Array], Array]], ...] = ()) -> None:
        self.value = value
        self.parents = parents
        self.grad: Array | None = None


def _unbroadcast(g: Array, shape: tuple[int, ...]) -> Array:
    while g.ndim > len(shape):
        g = g.sum(axis=0)
    for axis, n in enumerate(shape):
        if n == 1 and g.shape[axis] != 1:
            g = g.sum(axis=axis, keepdims=True)
    return g


def add(a: Var, b: Var) -> Var:
    return Var(
        a.value + b.value,
        ((a, lambda g: _unbroadcast(g, a.value.shape)), (b, lambda g: _unbroadcast(g, b.value.shape))),
    )


def sub(a: Var, b: Var) -> Var:
    return Var(
        a.value - b.value,
        ((a, lambda g: _unbroadcast(g, a.value.shape)), (b, lambda g: -_unbroadcast(g, b.value.shape))),
    )


def mul(a: Var, b: Var) -> Var:
    return Var(
        a.value * b.value,
        (
            (a, lambda g: _unbroadcast(g * b.value, a.value.shape)),
            (b, lambda g: _unbroadcast(g * a.value, b.value.shape)),
        ),
    )


def matmul_t(x: Var, w: Var) -> Var:
    """x @ w.T, the batch layout of w a + b."""
    return Var(x.value @ w.value.T, ((x, lambda g: g @ w.value), (w, lambda g: g.T @ x.value)))


def maximum(x: Var, y: Var) -> Var:
    """np.maximum with autograd's balanced_eq: a tie sends half of the gradient each way."""
    out = np.maximum(x.value, y.value)

    def share(mine: Array, other: Array) -> Array:
        return (mine == out) / (1.0 + (mine == other))

    return Var(
        out,
        (
            (x, lambda g: _unbroadcast(g * share(x.value, y.value), x.value.shape)),
            (y, lambda g: _unbroadcast(g * share(y.value, x.value), y.value.shape)),
        ),
    )


def tanh(x: Var) -> Var:
    with np.errstate(over="ignore"):
        return Var(np.tanh(x.value), ((x, lambda g: g / np.cosh(x.value) ** 2),))


def logaddexp0(x: Var) -> Var:
    """np.logaddexp(0, x); autograd's derivative exp(x - ans) is sigmoid(x)."""
    out = np.logaddexp(np.zeros_like(x.value), x.value)
    return Var(out, ((x, lambda g: g * np.exp(x.value - out)),))


def expit(x: Var) -> Var:
    """scipy.special.expit's value, and autograd's derivative ans (1 - ans)."""
    z = x.value
    e = np.exp(-np.abs(z))
    out = np.where(z >= 0, 1.0, e) / (1.0 + e)
    return Var(out.astype(z.dtype), ((x, lambda g: g * out * (1 - out)),))


def logsumexp_rows(x: Var) -> Var:
    top = x.value.max(axis=1, keepdims=True)
    out = top + np.log(np.exp(x.value - top).sum(axis=1, keepdims=True))
    return Var(out, ((x, lambda g: g * np.exp(x.value - out)),))


def exp(x: Var) -> Var:
    out = np.exp(x.value)
    return Var(out, ((x, lambda g: g * out),))


def total(x: Var) -> Var:
    return Var(np.sum(x.value), ((x, lambda g: np.broadcast_to(g, x.value.shape)),))


def scale(x: Var, k: float) -> Var:
    factor = x.value.dtype.type(k)
    return Var(x.value * factor, ((x, lambda g: g * factor),))


def backward(out: Var) -> None:
    """Reverse-mode: every Var's grad, visiting the tape in reverse topological order."""
    order: list[Var] = []
    seen: set[int] = set()
    stack: list[tuple[Var, bool]] = [(out, False)]
    while stack:
        node, done = stack.pop()
        if done:
            order.append(node)
            continue
        if id(node) in seen:
            continue
        seen.add(id(node))
        stack.append((node, True))
        stack.extend((p, False) for p, _ in node.parents)
    out.grad = np.ones_like(out.value)
    for node in reversed(order):
        if node.grad is None:
            continue
        for parent, vjp in node.parents:
            g = vjp(node.grad)
            parent.grad = g if parent.grad is None else parent.grad + g


def _activation(name: str, z: Var) -> Var:
    if name == "relu":
        return maximum(z, Var(np.zeros((), dtype=z.value.dtype)))
    if name == "sigmoid":
        return expit(z)
    if name == "tanh":
        return tanh(z)
    if name == "softplus":
        return logaddexp0(z)
    if name == "identity":
        return z
    if name == "softmax":
        return exp(sub(z, logsumexp_rows(z)))
    raise ValueError(f"unknown activation {name!r}")


def _cost(cost: str, z: Var, a: Var, y: Var) -> Var:
    if cost == "quadratic":
        r = sub(a, y)
        return scale(total(mul(r, r)), 0.5)
    if cost == "cross_entropy":  # from z: y softplus(-z) + (1 - y) softplus(z)
        one = Var(np.ones_like(y.value))
        return total(add(mul(y, logaddexp0(scale(z, -1.0))), mul(sub(one, y), logaddexp0(z))))
    if cost == "log_likelihood":
        return scale(total(mul(y, sub(z, logsumexp_rows(z)))), -1.0)
    raise ValueError(f"unknown cost {cost!r}")


class HipsStyle:
    """value_and_grad of the cost written with numpy operations (module docstring)."""

    def __init__(self, declare: bool = True) -> None:
        self.capabilities: dict[str, Any] = {"outputs": ["cost"]}
        if declare:
            self.capabilities["conventions"] = {"relu_prime_at_zero": 0.5}

    def backprop(self, case: Any) -> dict[str, Any]:
        dtype = np.dtype(case.dtype)
        weights = [Var(np.array(w, dtype=dtype)) for w in case.weights]
        biases = [Var(np.array(b, dtype=dtype)) for b in case.biases]
        a = Var(np.array(case.x, dtype=dtype))
        y = Var(np.array(case.y, dtype=dtype))
        z = a
        for w, b, name in zip(weights, biases, case.activations, strict=True):
            z = add(matmul_t(a, w), b)
            a = _activation(name, z)
        c = _cost(case.cost, z, a, y)
        if case.reduction == "mean":
            c = scale(c, 1.0 / len(case.x))
        backward(c)
        return {
            "grad_weights": [np.asarray(w.grad, dtype=dtype) for w in weights],
            "grad_biases": [np.asarray(b.grad, dtype=dtype) for b in biases],
            "cost": float(c.value),
        }
