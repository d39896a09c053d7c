"""Forward pass and backpropagation over a batch, straight from the seed's pseudocode.

These functions trust their input (see ``validation`` for the checks) and work
on any array kind: float32, float64, complex128 (complex-step differentiation)
and object arrays of mpmath numbers (ground truth). Lists are indexed from
layer 2: ``weights[i]``, ``biases[i]``, ``z[i]`` and ``deltas[i]`` belong to layer
l = i + 2, while ``a[i]`` is a^{i+1}, so that a[0] = x = a^1 and equation 4 for
layer i + 2 reads ``deltas[i]`` with ``a[i]``.

``conventions`` (relu'(0), a softplus threshold: see ``activations``) default to the
contract's; the conformance suite passes an implementation's declared ones.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from . import costs
from ._ops import Array
from .activations import sigma, sigma_and_prime, sigma_prime
from .equations import equation_1, equation_2, equation_3, equation_4


def feedforward(
    weights: Sequence[Array],
    biases: Sequence[Array],
    x: Array,
    activations: Sequence[str],
    conventions: Mapping[str, float] | None = None,
) -> tuple[list[Array], list[Array]]:
    """z^l = w^l a^{l-1} + b^l,  a^l = sigma(z^l),  with a^1 = x.  Returns (z, a)."""
    a: list[Array] = [x]
    z: list[Array] = []
    for w, b, name in zip(weights, biases, activations, strict=True):
        z.append(a[-1] @ w.T + b)  # row x: (w^l a^{x,l-1} + b^l)^T
        a.append(sigma(name, z[-1], conventions))
    return z, a


def cost_of(
    z: Sequence[Array], a: Sequence[Array], y: Array, activations: Sequence[str], cost: str, reduction: str
) -> object:
    """C over the batch, from the output layer's z^L and a^L."""
    return costs.reduce(reduction, costs.per_sample_cost(cost, activations[-1], z[-1], a[-1], y))


def evaluate_cost(
    weights: Sequence[Array],
    biases: Sequence[Array],
    x: Array,
    y: Array,
    activations: Sequence[str],
    cost: str,
    reduction: str,
    conventions: Mapping[str, float] | None = None,
) -> object:
    """C for the given parameters: what finite differences and complex steps differentiate."""
    z, a = feedforward(weights, biases, x, activations, conventions)
    return cost_of(z, a, y, activations, cost, reduction)


def output_error(a_minus_y: Array, sigma_prime_L: Array | None, a_L: Array, y: Array, sigma_L: str, cost: str) -> Array:
    """delta^L: the closed form a^L - y where the cost allows it, equation 1 otherwise."""
    closed = costs.closed_form_output_error(cost, a_minus_y, a_L, y)
    if closed is not None:
        return closed
    # quadratic: nabla_a C = a^L - y
    return equation_1(a_minus_y, sigma_prime_L, a_L, sigma_L)


def _backward(
    weights: Sequence[Array],
    a: Sequence[Array],
    primes: Sequence[Array | None],
    a_minus_y: Array,
    y: Array,
    activations: Sequence[str],
    cost: str,
    reduction: str,
) -> tuple[list[Array], list[Array], list[Array]]:
    n_layers = len(weights)
    deltas: list[Array] = [a[0]] * n_layers  # placeholders, each overwritten below
    deltas[-1] = output_error(a_minus_y, primes[-1], a[-1], y, activations[-1], cost)
    for i in range(n_layers - 2, -1, -1):  # layers L-1, ..., 2
        deltas[i] = equation_2(weights[i + 1], deltas[i + 1], primes[i])  # type: ignore[arg-type]
    scale = costs.reduction_scale(reduction, a[0].shape[0], a[-1])
    grad_w = [equation_4(deltas[i], a[i], scale) for i in range(n_layers)]
    grad_b = [equation_3(deltas[i], scale) for i in range(n_layers)]
    return deltas, grad_w, grad_b


def backward(
    weights: Sequence[Array],
    z: Sequence[Array],
    a: Sequence[Array],
    y: Array,
    activations: Sequence[str],
    cost: str,
    reduction: str,
    conventions: Mapping[str, float] | None = None,
) -> tuple[list[Array], list[Array], list[Array]]:
    """Back-propagate the errors from a forward pass and return (deltas, grad_weights, grad_biases).

    deltas[i] holds delta^{x,l} = dC_x/dz^{x,l} for every sample x (independent of
    the reduction); the gradients are of C, so they carry the reduction's scale.
    """
    primes = [
        None if name == "softmax" else sigma_prime(name, zl, conventions)
        for name, zl in zip(activations, z, strict=True)
    ]
    a_minus_y = costs.residual(activations[-1], z[-1], a[-1], y)
    return _backward(weights, a, primes, a_minus_y, y, activations, cost, reduction)


@dataclass(frozen=True)
class Pass:
    """One forward and backward pass: every z^l and a^l, the deltas, the gradient and C."""

    z: list[Array]
    a: list[Array]
    deltas: list[Array]
    grad_weights: list[Array]
    grad_biases: list[Array]
    cost: object


def backpropagate(
    weights: Sequence[Array],
    biases: Sequence[Array],
    x: Array,
    y: Array,
    activations: Sequence[str],
    cost: str,
    reduction: str,
    conventions: Mapping[str, float] | None = None,
) -> Pass:
    """The seed's pseudocode for one batch: the forward pass (keeping sigma'(z^l) as it goes),
    the output error, equation 2 back to front, equations 3 and 4, and C."""
    a: list[Array] = [x]
    z: list[Array] = []
    primes: list[Array | None] = []
    for w, b, name in zip(weights, biases, activations, strict=True):
        z.append(a[-1] @ w.T + b)
        a_l, prime = sigma_and_prime(name, z[-1], conventions)
        a.append(a_l)
        primes.append(prime)
    a_minus_y = costs.residual(activations[-1], z[-1], a[-1], y)
    deltas, grad_w, grad_b = _backward(weights, a, primes, a_minus_y, y, activations, cost, reduction)
    per_sample = costs.per_sample_cost(cost, activations[-1], z[-1], a[-1], y, a_minus_y)
    return Pass(z, a, deltas, grad_w, grad_b, costs.reduce(reduction, per_sample))
