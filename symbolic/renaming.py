"""Equations 2, 3 and 4 for every entry from one proven entry: the others are renamings of it.

Fix layer l. The chain-rule side of equations 3 and 4 differentiates C = F(z_1, ..., z_n) with
z_i = sum_k w^l_ik a^{l-1}_k + b^l_i (one such term per sample, under the batch's reduction)
and F an arbitrary differentiable function (``derive.TailFunction``); the claimed side is
a^{l-1}_k delta^l_j and delta^l_j, with delta^l_i the name of (d_i F)(z).

Let sigma swap the units 1 and j of layer l (rows of w^l, b^l, delta^l) and the units 1 and k of
layer l - 1 (columns of w^l, a^{l-1}), in every sample. Renaming variables commutes with
differentiation, so sigma(dC/dw^l_11) = d sigma(C) / d w^l_jk. If sigma maps the list
(z_1, ..., z_n) to the same list with z_1 and z_j exchanged (checked here with SymPy, for every
j and k), then sigma(C) = (F o P)(z) with P the exchange, and F o P is as arbitrary as F; its
i-th partial at z is (d_{P(i)} F)(z), which is why sigma also exchanges delta^l_1 and delta^l_j.
So the identity proven for entry (1, 1) with every F, renamed by sigma, is the identity for
entry (j, k), and ``transport`` is that renaming. SymPy then compares each transported
chain-rule side with that entry's equation like any other check, so a wrong equation for
one entry is still disproven.

Equation 2 is the same argument one layer up: delta^l_j = d/dz^l_j F(z^{l+1}) with
z^{l+1}_i = sum_k w^{l+1}_ik sigma_l(z^l_k) + b^{l+1}_i and F arbitrary. Swapping z^l_1 with
z^l_j and columns 1 and j of w^{l+1} leaves every z^{l+1}_i unchanged when sigma_l acts unit by
unit (checked, so a coupling activation would fail the certificate), hence
sigma(d/dz^l_1 F) = d/dz^l_j F with the same F and the same delta^{l+1}.
"""

from __future__ import annotations

import sympy as sp
from sympy import Expr

from . import network
from .spec import Spec

Renaming = dict[sp.Basic, sp.Basic]


def _labels(samples: int | None) -> list[int | None]:
    return [None] if samples is None else list(range(1, samples + 1))


def _swap(mapping: Renaming, p: sp.Symbol, q: sp.Symbol) -> None:
    if p != q:
        mapping[p], mapping[q] = q, p


def row_swap(spec: Spec, l: int, j: int, samples: int | None) -> Renaming:
    """Exchange units 1 and j of layer l: rows of w^l, b^l, and every sample's delta^l."""
    mapping: Renaming = {}
    for k in range(1, spec.n(l - 1) + 1):
        _swap(mapping, network.w(l, 1, k), network.w(l, j, k))
    _swap(mapping, network.b(l, 1), network.b(l, j))
    for s in _labels(samples):
        _swap(mapping, network.delta(l, 1, s), network.delta(l, j, s))
    return mapping


def column_swap(spec: Spec, l: int, k: int, samples: int | None) -> Renaming:
    """Exchange units 1 and k of layer l - 1: columns of w^l and every sample's a^{l-1}."""
    mapping: Renaming = {}
    for j in range(1, spec.n(l) + 1):
        _swap(mapping, network.w(l, j, 1), network.w(l, j, k))
    for s in _labels(samples):
        _swap(mapping, network.a(l - 1, 1, s), network.a(l - 1, k, s))
    return mapping


def _is_involution(mapping: Renaming) -> bool:
    """A bijection of symbols onto themselves that undoes itself: a pure renaming."""
    return all(isinstance(v, sp.Symbol) and mapping.get(v) == key for key, v in mapping.items())


def certify(spec: Spec, l: int, samples: int | None) -> str | None:
    """None when every row and column swap permutes the z^l of every sample as the module
    docstring requires (rows: z_1 and z_j exchanged; columns: every z_i unchanged); else why not."""
    args = {
        s: network.layer_map(spec, l, [network.a(l - 1, k, s) for k in range(1, spec.n(l - 1) + 1)])
        for s in _labels(samples)
    }
    for j in range(2, spec.n(l) + 1):
        rho = row_swap(spec, l, j, samples)
        if not _is_involution(rho):
            return f"the swap of units 1 and {j} of layer {l} is not a renaming"
        for s, z in args.items():
            expected = list(z)
            expected[0], expected[j - 1] = z[j - 1], z[0]
            if [t.xreplace(rho) for t in z] != expected:
                return f"swapping units 1 and {j} of layer {l} does not exchange z_1 and z_{j} (sample {s})"
    for k in range(2, spec.n(l - 1) + 1):
        kappa = column_swap(spec, l, k, samples)
        if not _is_involution(kappa):
            return f"the swap of units 1 and {k} of layer {l - 1} is not a renaming"
        for s, z in args.items():
            if [t.xreplace(kappa) for t in z] != z:
                return f"swapping units 1 and {k} of layer {l - 1} changes z^{l} (sample {s})"
    return None


def transport(expr: Expr, row: Renaming, column: Renaming) -> Expr:
    """The renaming of an entry-(1, 1) identity to entry (j, k): rows first, then columns."""
    return expr.xreplace(row).xreplace(column)


def hidden_swap(spec: Spec, l: int, j: int) -> Renaming:
    """Exchange z^l_1 and z^l_j, and columns 1 and j of w^{l+1}."""
    mapping: Renaming = {}
    _swap(mapping, network.z(l, 1), network.z(l, j))
    for i in range(1, spec.n(l + 1) + 1):
        _swap(mapping, network.w(l + 1, i, 1), network.w(l + 1, i, j))
    return mapping


def certify_hidden(spec: Spec, l: int, z_next: list[Expr]) -> str | None:
    """None when every ``hidden_swap`` is a renaming that leaves each z^{l+1}_i (as equation 2's
    chain-rule side builds them, ``z_next``) unchanged; else why not."""
    for j in range(2, spec.n(l) + 1):
        swap = hidden_swap(spec, l, j)
        if not _is_involution(swap):
            return f"the swap of units 1 and {j} of layer {l} is not a renaming"
        if [t.xreplace(swap) for t in z_next] != z_next:
            return f"swapping units 1 and {j} of layer {l} changes z^{l + 1}"
    return None
