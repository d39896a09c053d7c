"""The network in SymPy, in the seed's notation.

Symbols are 1-based as in the seed: ``w^{l}_{jk}`` is the weight from neuron k of layer l-1 to
neuron j of layer l (the engine's ``weights[l-2][j-1, k-1]``), ``b^{l}_{j}`` is
``biases[l-2][j-1]``, ``x_{k}`` and ``y_{j}`` are one sample's input and target. With several
samples, sample s carries the superscript ``(s)``. ``z^{l}_{j}``, ``a^{l}_{j}`` and
``delta^{l}_{j}`` as *symbols* are free variables, used where a proof quantifies over their
values; the forward pass below builds z and a as *expressions* of the parameters instead.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass

import sympy as sp
from sympy import Expr

from . import functions
from .spec import Spec


def _pair(j: int, k: int) -> str:
    return f"{j}{k}" if j < 10 and k < 10 else f"{j},{k}"


def _sample(s: int | None) -> str:
    return "" if s is None else f",({s})"


# The symbol constructors below are cached: a proof asks for the same symbol thousands of times
# (every renaming, certificate and equation names them), and SymPy's own cache (1,000 entries)
# is flushed by a wide layer's expressions, after which each Symbol costs its construction again.


@functools.cache
def w(l: int, j: int, k: int) -> sp.Symbol:
    return sp.Symbol(f"w^{{{l}}}_{{{_pair(j, k)}}}", real=True)


@functools.cache
def b(l: int, j: int) -> sp.Symbol:
    return sp.Symbol(f"b^{{{l}}}_{{{j}}}", real=True)


@functools.cache
def x(k: int, s: int | None = None) -> sp.Symbol:
    return sp.Symbol(f"x^{{({s})}}_{{{k}}}" if s is not None else f"x_{{{k}}}", real=True)


@functools.cache
def y(j: int, s: int | None = None) -> sp.Symbol:
    return sp.Symbol(f"y^{{({s})}}_{{{j}}}" if s is not None else f"y_{{{j}}}", real=True)


@functools.cache
def z(l: int, j: int, s: int | None = None) -> sp.Symbol:
    return sp.Symbol(f"z^{{{l}{_sample(s)}}}_{{{j}}}", real=True)


@functools.cache
def a(l: int, j: int, s: int | None = None) -> sp.Symbol:
    return sp.Symbol(f"a^{{{l}{_sample(s)}}}_{{{j}}}", real=True)


@functools.cache
def delta(l: int, j: int, s: int | None = None) -> sp.Symbol:
    return sp.Symbol(f"delta^{{{l}{_sample(s)}}}_{{{j}}}", real=True)


def weights(spec: Spec, l: int) -> list[list[sp.Symbol]]:
    """w^l as rows j = 1..n_l of columns k = 1..n_{l-1}."""
    return [[w(l, j, k) for k in range(1, spec.n(l - 1) + 1)] for j in range(1, spec.n(l) + 1)]


def biases(spec: Spec, l: int) -> list[sp.Symbol]:
    return [b(l, j) for j in range(1, spec.n(l) + 1)]


def parameters(spec: Spec) -> list[sp.Symbol]:
    """Every w and b, layer by layer, in the engine's row-major order."""
    out: list[sp.Symbol] = []
    for l in range(2, spec.L + 1):
        out += [s for row in weights(spec, l) for s in row]
        out += biases(spec, l)
    return out


def layer_map(spec: Spec, l: int, a_prev: list[Expr]) -> list[Expr]:
    """z^l = w^l a^{l-1} + b^l."""
    return list(_layer_map(spec, l, tuple(a_prev)))


@functools.lru_cache(maxsize=64)
def _layer_map(spec: Spec, l: int, a_prev: tuple[Expr, ...]) -> tuple[Expr, ...]:
    """Cached: the renaming certificate and the chain-rule derivation of a layer build the same
    z^l (n_l n_{l-1} products) for each sample, and SymPy's own cache does not hold a wide layer."""
    return tuple(
        sp.Add(*[wjk * ak for wjk, ak in zip(row, a_prev, strict=True)], bj)
        for row, bj in zip(weights(spec, l), biases(spec, l), strict=True)
    )


def tail_cost(spec: Spec, l: int, z_l: list[Expr], targets: list[Expr]) -> Expr:
    """C_x as a function of z^l: layers l..L composed with the cost (no backprop formula involved)."""
    act = functions.sigma(spec.activation(l), l, z_l)
    for m in range(l + 1, spec.L + 1):
        act = functions.sigma(spec.activation(m), m, layer_map(spec, m, act))
    return functions.cost(spec.cost, act, targets)


@dataclass(frozen=True)
class Forward:
    """One sample's forward pass as expressions: z[l] and a[l] keyed by the seed's layer number."""

    z: dict[int, list[Expr]]
    a: dict[int, list[Expr]]
    cost: Expr


def forward(spec: Spec, inputs: list[Expr], targets: list[Expr]) -> Forward:
    """The fully composed forward pass of one sample: every z^l, a^l and C_x as expressions."""
    zs: dict[int, list[Expr]] = {}
    acts: dict[int, list[Expr]] = {1: list(inputs)}
    for l in range(2, spec.L + 1):
        zs[l] = layer_map(spec, l, acts[l - 1])
        acts[l] = functions.sigma(spec.activation(l), l, zs[l])
    return Forward(zs, acts, functions.cost(spec.cost, acts[spec.L], targets))


def sample_symbols(spec: Spec, s: int | None) -> tuple[list[sp.Symbol], list[sp.Symbol]]:
    """(x, y) symbols of sample s (None: the single, unlabelled sample)."""
    return (
        [x(k, s) for k in range(1, spec.n(1) + 1)],
        [y(j, s) for j in range(1, spec.n(spec.L) + 1)],
    )


def reduction_scale(reduction: str, m: int) -> sp.Rational:
    """C = scale * sum_x C_x: 1/m for "mean", 1 for "sum"."""
    return sp.Rational(1, m) if reduction == "mean" else sp.Integer(1)
