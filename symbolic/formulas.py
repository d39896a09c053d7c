"""The other side of every proof: the backpropagation equations as the seed states them.

Everything here is assembled from the hand-written derivative formulas in ``functions``;
nothing calls ``diff``.
"""

from __future__ import annotations

import sympy as sp
from sympy import Expr

from . import functions, network
from .spec import Spec


def _output(spec: Spec) -> tuple[list[sp.Symbol], list[Expr], list[sp.Symbol]]:
    L = spec.L
    zeta = [network.z(L, j) for j in range(1, spec.n(L) + 1)]
    _, targets = network.sample_symbols(spec, None)
    return zeta, functions.sigma(spec.activation(L), L, zeta), targets


def equation_1(spec: Spec) -> list[Expr]:
    """delta^L = nabla_a C (.) sigma'(z^L); for softmax the Jacobian product (da/dz)^T nabla_a C."""
    zeta, a_out, targets = _output(spec)
    g = functions.grad_a(spec.cost, a_out, targets)
    name = spec.activation(spec.L)
    if name == "softmax":
        n = len(zeta)
        return [sp.Add(*[functions.softmax_jacobian(a_out, i, j) * g[i] for i in range(n)]) for j in range(n)]
    return [gj * functions.sigma_prime(name, spec.L, zj) for gj, zj in zip(g, zeta, strict=True)]


def equation_1_closed(spec: Spec) -> list[Expr] | None:
    """delta^L = a^L - y (cross_entropy with sigmoid, log_likelihood with softmax), else None."""
    _, a_out, targets = _output(spec)
    return functions.closed_output_error(spec.cost, spec.activation(spec.L), a_out, targets)


def probability_constraint(spec: Spec) -> dict[sp.Symbol, Expr]:
    """y_{n_L} = 1 - sum_{j < n_L} y_j: the targets of log_likelihood are probability vectors."""
    _, targets = network.sample_symbols(spec, None)
    return {targets[-1]: 1 - sp.Add(*targets[:-1])}


def _hidden(spec: Spec, l: int) -> tuple[list[sp.Symbol], list[list[sp.Symbol]]]:
    zeta = [network.z(l, j) for j in range(1, spec.n(l) + 1)]
    return zeta, network.weights(spec, l + 1)


def equation_2(spec: Spec, l: int) -> list[Expr]:
    """delta^l_j = sum_k w^{l+1}_kj delta^{l+1}_k sigma'(z^l_j)."""
    zeta, w_next = _hidden(spec, l)
    name = spec.activation(l)
    return [
        sp.Add(*[w_next[k][j] * network.delta(l + 1, k + 1) for k in range(spec.n(l + 1))])
        * functions.sigma_prime(name, l, zeta[j])
        for j in range(spec.n(l))
    ]


def equation_2_seed_typo(spec: Spec, l: int) -> list[Expr]:
    """The seed's printed form: sum_k w^{l+1}_kj sigma^{l+1}_k sigma'(z^l_j), sigma^{l+1} = a^{l+1}."""
    zeta, w_next = _hidden(spec, l)
    name = spec.activation(l)
    z_next = network.layer_map(spec, l + 1, functions.sigma(name, l, zeta))
    a_next = functions.sigma(spec.activation(l + 1), l + 1, z_next)
    return [
        sp.Add(*[w_next[k][j] * a_next[k] for k in range(spec.n(l + 1))]) * functions.sigma_prime(name, l, zeta[j])
        for j in range(spec.n(l))
    ]


def equations_3_4(
    spec: Spec, l: int, samples: int | None = None
) -> tuple[dict[tuple[int, int], Expr], dict[int, Expr]]:
    """dC/dw^l_jk = a^{l-1}_k delta^l_j and dC/db^l_j = delta^l_j; for m samples the seed's
    update: scale * sum_x a^{x,l-1}_k delta^{x,l}_j and scale * sum_x delta^{x,l}_j."""
    labels: list[int | None] = [None] if samples is None else list(range(1, samples + 1))
    scale = network.reduction_scale(spec.reduction, 1 if samples is None else samples)
    grad_w = {
        (j, k): scale * sp.Add(*[network.a(l - 1, k, s) * network.delta(l, j, s) for s in labels])
        for j in range(1, spec.n(l) + 1)
        for k in range(1, spec.n(l - 1) + 1)
    }
    grad_b = {j: scale * sp.Add(*[network.delta(l, j, s) for s in labels]) for j in range(1, spec.n(l) + 1)}
    return grad_w, grad_b


def backprop_errors(spec: Spec, l: int) -> list[Expr]:
    """delta^l as backpropagation computes it, written out as expressions of z^l: equation 1 at
    the output, then equation 2 layer by layer, each delta^{m+1} evaluated at
    z^{m+1} = w^{m+1} sigma_m(z^m) + b^{m+1}."""
    if l == spec.L:
        return equation_1(spec)
    later = backprop_errors(spec, l + 1)
    zeta, w_next = _hidden(spec, l)
    z_next = network.layer_map(spec, l + 1, functions.sigma(spec.activation(l), l, zeta))
    at = {network.z(l + 1, k + 1): zk for k, zk in enumerate(z_next)}
    delta_next = [d.subs(at) for d in later]  # subs, not xreplace: keeps d sigma/dz valid
    name = spec.activation(l)
    return [
        sp.Add(*[w_next[k][j] * delta_next[k] for k in range(spec.n(l + 1))]) * functions.sigma_prime(name, l, zeta[j])
        for j in range(spec.n(l))
    ]
