"""The forward pass and backpropagation over a batch, straight from the seed's pseudocode.

One function runs the pass: ``backpropagate`` returns a ``Pass`` with every z^l, a^l and
sigma'(z^l), the deltas, the gradient and C. ``feedforward`` and ``evaluate_cost`` are its
forward-only views, for what needs no gradient (``reference.forward``, ``reference.cost``, finite
differences, complex steps, mpmath): they run the same forward step (``_forward``) without
keeping sigma'(z^l), and the same cost (``_cost``), so their z, a and C are bit for bit the
pass's. The equations themselves are in ``equations``; this module only strings them together.

Every function takes the network as one object (``case.Net``: a ``Network``, ``Case``,
``Prepared``, or ``Layers`` for parameters that are not a network's own) and the batch x, y.
They trust their input (see ``validation`` for the checks) and work on any array kind:
float32, float64, complex128 (complex-step differentiation) and object arrays of mpmath
numbers (ground truth). Lists are indexed from layer 2: ``w[i]``, ``b[i]``, ``z[i]``,
``sigma_prime[i]`` and ``deltas[i]`` belong to layer l = i + 2, while ``a[i]`` is a^{i+1}, so
that a[0] = x = a^1 and equation 4 for layer i + 2 reads ``deltas[i]`` with ``a[i]``.

``conventions`` (relu'(0), a softplus threshold: see ``activations``) default to the
contract's; the conformance suite passes an implementation's declared ones.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import NamedTuple

from . import costs
from ._ops import Array
from .activations import sigma, sigma_and_complement, sigma_prime_and_complement
from .case import Net
from .equations import equation_1, equation_2, equation_3, equation_4


class Pass(NamedTuple):
    """One forward and backward pass: every z^l, a^l and sigma'(z^l) (None for softmax), the
    per-sample deltas, the gradient of C (carrying the reduction's scale) and C.

    A named tuple rather than a frozen dataclass: as immutable, and built in a quarter of the time
    (a frozen dataclass sets each of its seven fields through object.__setattr__: 0.6 us more per
    pass, measured at the seed's workload)."""

    z: list[Array]
    a: list[Array]
    sigma_prime: list[Array | None]
    deltas: list[Array]
    grad_weights: list[Array]
    grad_biases: list[Array]
    cost: object


def backpropagate(net: Net, x: Array, y: Array, conventions: Mapping[str, float] | None = None) -> Pass:
    """The seed's pseudocode for one batch: the forward pass (keeping sigma'(z^l) as it goes),
    the output error, equation 2 back to front, equations 3 and 4, and C.

    deltas[i] holds delta^{x,l} = dC_x/dz^{x,l} for every sample x (independent of the
    reduction); the gradients are of C, so they carry the reduction's scale (1/m or 1).
    """
    z, a, sigma_prime, complement_L = _forward(net, x, conventions, keep_sigma_prime=True, keep_complement=True)
    w, sigma_L, n_layers = net.weights, net.activations[-1], len(z)
    a_minus_y = costs.residual(sigma_L, z[-1], a[-1], y, complement_L)
    delta: list[Array] = [x] * n_layers  # placeholders, each overwritten below
    delta[-1] = output_error(a_minus_y, sigma_prime[-1], a[-1], y, sigma_L, net.cost)  # (1)
    for i in range(n_layers - 2, -1, -1):  # layers L-1, ..., 2
        delta[i] = equation_2(w[i + 1], delta[i + 1], sigma_prime[i])  # type: ignore[arg-type]  # (2)
    scale = costs.reduction_scale(net.reduction, x.shape[0], a[-1])
    grad_b = [equation_3(delta[i], scale) for i in range(n_layers)]  # (3)
    grad_w = [equation_4(delta[i], a[i], scale) for i in range(n_layers)]  # (4)
    return Pass(z, a, sigma_prime, delta, grad_w, grad_b, _cost(net, z[-1], a[-1], y, a_minus_y))


def feedforward(net: Net, x: Array, conventions: Mapping[str, float] | None = None) -> tuple[list[Array], list[Array]]:
    """z^l = w^l a^{l-1} + b^l, a^l = sigma(z^l), with a^1 = x: ``backpropagate``'s (z, a), forward only."""
    z, a, _, _ = _forward(net, x, conventions, keep_sigma_prime=False, keep_complement=False)
    return z, a


def evaluate_cost(net: Net, x: Array, y: Array, conventions: Mapping[str, float] | None = None) -> object:
    """C, forward only: what finite differences and complex steps differentiate; ``backpropagate``'s C."""
    z, a, _, complement_L = _forward(net, x, conventions, keep_sigma_prime=False, keep_complement=True)
    a_minus_y = None  # C's own residual, unless the pass's (from the complement) is to be matched
    if complement_L is not None and costs.cost_record(net.cost).gradient_is_residual:
        a_minus_y = costs.residual(net.activations[-1], z[-1], a[-1], y, complement_L)
    return _cost(net, z[-1], a[-1], y, a_minus_y)


def output_error(a_minus_y: Array, sigma_prime_L: Array | None, a_L: Array, y: Array, sigma_L: str, cost: str) -> Array:
    """delta^L: the closed form a^L - y where the cost allows it, equation 1 otherwise."""
    closed = costs.closed_form_output_error(cost, a_minus_y, a_L, y)
    if closed is not None:
        return closed
    # quadratic: nabla_a C = a^L - y
    return equation_1(a_minus_y, sigma_prime_L, a_L, sigma_L)


def _forward(
    net: Net, x: Array, conventions: Mapping[str, float] | None, keep_sigma_prime: bool, keep_complement: bool
) -> tuple[list[Array], list[Array], list[Array | None], Array | None]:
    """The forward step of every pass, in one place. ``keep_sigma_prime``: also sigma'(z^l), from
    the same exponentials as a^l (``sigma_prime_and_complement``, whose a^l is bit for bit sigma's).
    ``keep_complement``: also 1 - a^L where those exponentials give it (else None), from which
    ``costs.residual`` forms a^L - y without an exponential of its own; the forward-only cost keeps
    it too, so that its C is bit for bit the full pass's."""
    z: list[Array] = []
    a: list[Array] = [x]  # a^1 = x
    sigma_prime: list[Array | None] = []
    complement: Array | None = None
    last = len(net.weights) - 1
    for l, (w, b, name) in enumerate(zip(net.weights, net.biases, net.activations, strict=True)):
        z.append(a[-1] @ w.T + b)  # z^l = w^l a^{l-1} + b^l (row x: its transpose)
        if keep_sigma_prime:  # a^l = sigma(z^l), sigma'(z^l), and 1 - a^l
            a_l, sigma_prime_l, complement = sigma_prime_and_complement(name, z[-1], conventions)
            sigma_prime.append(sigma_prime_l)
        elif keep_complement and l == last:
            a_l, complement = sigma_and_complement(name, z[-1], conventions)  # a^L = sigma(z^L), 1 - a^L
        else:
            a_l = sigma(name, z[-1], conventions)  # a^l = sigma(z^l)
        a.append(a_l)
    return z, a, sigma_prime, complement if keep_complement else None


def _cost(net: Net, z_L: Array, a_L: Array, y: Array, a_minus_y: Array | None = None) -> object:
    """C over the batch from the output layer's z^L and a^L (a_minus_y: ``costs.residual``, if computed)."""
    return costs.total(net.cost, net.reduction, net.activations[-1], z_L, a_L, y, a_minus_y)
