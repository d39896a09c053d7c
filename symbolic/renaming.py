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

from collections import Counter
from collections.abc import Sequence

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


class Summands:
    """The summands of each expression of a list, indexed by the symbols in them, so that a
    renaming is applied only to the summands it can change.

    Why this is the certificate's own condition, only faster: for an Add, ``xreplace`` rebuilds
    ``Add(*(t.xreplace(mapping) for t in summands))``, and an Add depends only on the multiset of
    its arguments; so ``e.xreplace(mapping) == target`` whenever the renamed summands of e and the
    summands of target are the same multiset (for an expression that is not an Add, its one
    "summand" is the whole expression, and the test is the plain one). A summand with none of
    the mapping's symbols in it is left as it is by ``xreplace``, so only the others are renamed:
    a swap of two units touches O(n) summands of a layer instead of all O(n^2), which is what
    makes the certificate of a wide layer cheap. (Were two renamed summands to merge into one
    term, the multisets would differ and the certificate would fail: never a false pass.)
    """

    def __init__(self, exprs: Sequence[Expr]) -> None:
        self.exprs = list(exprs)
        self.summands = [sp.Add.make_args(e) for e in self.exprs]
        self.counts = [Counter(terms) for terms in self.summands]
        self.containing: dict[sp.Basic, list[tuple[int, int]]] = {}
        for i, terms in enumerate(self.summands):
            for t, term in enumerate(terms):
                for symbol in term.atoms(sp.Symbol):
                    self.containing.setdefault(symbol, []).append((i, t))

    def renamed_to(self, mapping: Renaming, targets: Sequence[int]) -> bool:
        """True iff ``exprs[i].xreplace(mapping) == exprs[targets[i]]`` for every i; ``mapping``
        must send symbols to symbols (``_is_involution``), so that a summand it changes contains
        one of its keys as a symbol."""
        touched: dict[int, set[int]] = {}
        for key in mapping:
            for i, t in self.containing.get(key, ()):
                touched.setdefault(i, set()).add(t)
        for i, terms in enumerate(self.summands):
            changed = touched.get(i, set())
            renamed = Counter(terms[t].xreplace(mapping) for t in changed)
            if targets[i] == i:  # the untouched summands are on both sides: compare the others
                if renamed != Counter(terms[t] for t in changed):
                    return False
                continue
            renamed.update(term for t, term in enumerate(terms) if t not in changed)
            if renamed != self.counts[targets[i]]:
                return False
        return True


def _exchanged(n: int, j: int) -> list[int]:
    """The positions 0..n-1 with 0 and j - 1 exchanged (units 1 and j, 1-based)."""
    order = list(range(n))
    order[0], order[j - 1] = j - 1, 0
    return order


def certify(spec: Spec, l: int, samples: int | None) -> str | None:
    """None when every row and column swap permutes the z^l of every sample as the module
    docstring requires (rows: z_1 and z_j exchanged; columns: every z_i unchanged); else why not."""
    args = {
        s: Summands(network.layer_map(spec, l, [network.a(l - 1, k, s) for k in range(1, spec.n(l - 1) + 1)]))
        for s in _labels(samples)
    }
    n = spec.n(l)
    for j in range(2, n + 1):
        rho = row_swap(spec, l, j, samples)
        if not _is_involution(rho):
            return f"the swap of units 1 and {j} of layer {l} is not a renaming"
        for s, z in args.items():
            if not z.renamed_to(rho, _exchanged(n, j)):
                return f"swapping units 1 and {j} of layer {l} does not exchange z_1 and z_{j} (sample {s})"
    for k in range(2, spec.n(l - 1) + 1):
        kappa = column_swap(spec, l, k, samples)
        if not _is_involution(kappa):
            return f"the swap of units 1 and {k} of layer {l - 1} is not a renaming"
        for s, z in args.items():
            if not z.renamed_to(kappa, range(n)):
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
    summands = Summands(z_next)
    for j in range(2, spec.n(l) + 1):
        swap = hidden_swap(spec, l, j)
        if not _is_involution(swap):
            return f"the swap of units 1 and {j} of layer {l} is not a renaming"
        if not summands.renamed_to(swap, range(len(z_next))):
            return f"swapping units 1 and {j} of layer {l} changes z^{l + 1}"
    return None
