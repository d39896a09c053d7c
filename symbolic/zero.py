"""Deciding whether a difference is zero: exact simplification, else exact rational points.

``simplifies_to_zero`` only ever answers True when SymPy reduced the expression to the
literal 0; that is the sole route to the verdict "proven". When it cannot, ``find_nonzero``
evaluates the difference exactly at rational points: a point where it is certainly nonzero
disproves the identity; zero at every point tried proves nothing ("not proven").
"""

from __future__ import annotations

import random
from dataclasses import dataclass

import sympy as sp
from sympy import Expr
from sympy.core.function import AppliedUndef

CERTAIN_DIGITS = 30
NONZERO_FLOOR = sp.Float("1e-20")
"""|value| above this at 30 correct digits (SymPy's evalf tracks its own error) is certainly nonzero."""


CASE_LIMIT = 256
"""Most sign cases (2^number of distinct Piecewise conditions) the zero test will enumerate."""


def simplifies_to_zero(expr: Expr, thorough: bool = True) -> bool:
    """True iff one of a few exact rewritings turns ``expr`` into the literal 0 (in every case of
    its Piecewise conditions, if any). thorough=False skips the slowest one (``cancel``), which
    on a large expression that is not zero can take far longer than finding a point that shows it.
    """
    cases = case_split(expr)
    if cases is None:
        return False
    return all(_plain_zero(case, thorough) for case in cases)


def case_split(expr: Expr, limit: int = CASE_LIMIT) -> list[Expr] | None:
    """The expression in every combination of its Piecewise conditions (relu's t <= 0 or not).

    Each step takes an innermost two-branch Piecewise, (e1, c), (e2, True), and replaces every
    Piecewise with that same first condition c by its first branch (case c) or its second
    (case not c), so the same condition is decided consistently. Combinations that cannot occur
    together are still checked: that can only make a proof harder, never wrong. None when a
    Piecewise has another shape or there are more than ``limit`` cases.
    """
    todo, done = [expr], []
    while todo:
        current = todo.pop()
        pieces = [p for p in current.atoms(sp.Piecewise) if not any(a.has(sp.Piecewise) for a in p.args)]
        if not pieces:
            done.append(current)
            continue
        first = pieces[0]
        if len(first.args) != 2 or first.args[1].cond != sp.true:
            return None
        cond = first.args[0].cond
        same = [p for p in pieces if len(p.args) == 2 and p.args[0].cond == cond and p.args[1].cond == sp.true]
        todo.append(current.xreplace({p: p.args[0].expr for p in same}))
        todo.append(current.xreplace({p: p.args[1].expr for p in same}))
        if len(todo) + len(done) > limit:
            return None
    return done


def _plain_zero(expr: Expr, thorough: bool = True) -> bool:
    if expr == 0:
        return True
    if expr.has(sp.tanh, sp.cosh, sp.sinh):
        expr = expr.rewrite(sp.exp)  # one family of atoms: exp(t) and exp(-t) = 1/exp(t)
    if _rational_zero(expr):
        return True
    numerator, _ = sp.together(expr).as_numer_denom()
    if sp.expand(numerator) == 0:  # N/D with N = 0 identically: zero wherever it is defined
        return True
    return thorough and bool(sp.cancel(expr) == 0)


def stand_ins(expr: Expr) -> dict[sp.Basic, Expr]:
    """Each atom of ``expr`` that is not rational arithmetic, as a power of a fresh symbol:
    exp(c u) with c an integer becomes T_u^(+-c) with T_u = exp(+-u) (one positive T per u, so
    exp(u) and exp(-u) stay reciprocal; the sign chosen so that the powers are positive when
    they all can be: a denominator 1 + T is cheaper than 1 + 1/T), and any other function value,
    derivative or Subs a symbol of its own."""
    exps: dict[sp.Basic, list[tuple[sp.Basic, sp.Integer]]] = {}
    for node in expr.atoms(sp.exp):
        c, u = node.exp.as_coeff_Mul()
        if c.is_Integer:
            exps.setdefault(u, []).append((node, c))
    mapping: dict[sp.Basic, Expr] = {}
    for found in exps.values():
        t = sp.Dummy(positive=True)
        sign = -1 if all(c < 0 for _, c in found) else 1
        mapping.update({node: t ** (sign * c) for node, c in found})
    for node in expr.atoms(sp.Function, sp.Derivative, sp.Subs):
        mapping.setdefault(node, sp.Dummy())
    return mapping


def _rational_zero(expr: Expr) -> bool:
    """True when ``expr`` is 0 as a rational function, its other atoms replaced by ``stand_ins``.

    Sound: the stand-ins are independent symbols, so an identity in them holds for every value
    they stand for (exp(c u) = T^c at T = exp(u) > 0), wherever ``expr`` is defined; the
    numerator over one common denominator must expand to the literal 0. Incomplete (atoms that
    are related in another way, such as exp(u + v) and exp(u)), so a False here leads on to the
    slower rewritings. Much faster than ``together`` on the exp atoms themselves: SymPy treats
    exp(-u) as 1/exp(u) afresh at every occurrence, which dominates equation 2's test (a sum of
    n_{l+1} terms, each with sigma'(z^l_j)). Tried only with at most one exponential base u (every
    elementwise activation; not softmax, where expanding over the product of its denominators
    takes ten times as long as ``together`` at width 8).
    """
    if len({node.exp.as_coeff_Mul()[1] for node in expr.atoms(sp.exp)}) > 1:
        return False  # softmax's n coupled exponentials: the numerator over their product grows too fast
    numerator, _ = expr.xreplace(stand_ins(expr)).as_numer_denom()
    return bool(sp.expand(numerator) == 0)


@dataclass(frozen=True)
class Point:
    """An exact point where a difference is nonzero: values by symbol name, and the difference."""

    values: dict[str, sp.Rational]
    difference: str


def free_form(expr: Expr) -> tuple[Expr, dict[sp.Symbol, sp.Basic]]:
    """Replace values of undefined functions (sigma_l(t), its derivative, a tail's partials) by
    fresh symbols.

    Sound for a counterexample: those values sit at distinct points (the rational points
    below are pairwise distinct), so some smooth function takes any values chosen there.
    """
    mapping: dict[sp.Basic, sp.Symbol] = {}
    stand_ins: dict[sp.Symbol, sp.Basic] = {}
    nodes = [n for n in expr.atoms(sp.Subs, sp.Derivative) if n.has(AppliedUndef)]
    nodes += list(expr.atoms(AppliedUndef))
    for i, node in enumerate(sorted(nodes, key=sp.default_sort_key)):
        symbol = sp.Symbol(f"v_{{{i}}}", real=True)
        mapping[node] = symbol  # xreplace works top-down: an outer node hides the inner ones
        stand_ins[symbol] = node
    return expr.xreplace(mapping), stand_ins


def _rationals(rng: random.Random, count: int) -> list[sp.Rational]:
    """Distinct, nonzero small rationals: no kink of relu at 0, no coincident sigma arguments."""
    pool = sorted({sp.Rational(p, q) for p in range(-9, 10) if p for q in range(1, 6)})
    return rng.sample(pool, count)


def certainly_nonzero(value: Expr) -> bool:
    """Exact for rationals; otherwise nonzero at CERTAIN_DIGITS correct digits."""
    if value.is_Rational:
        return bool(value != 0)
    approx = sp.N(value, CERTAIN_DIGITS, maxn=400)
    return bool(approx.is_number and abs(approx) > NONZERO_FLOOR)


def find_nonzero(
    expr: Expr, tries: int = 4, seed: int = 0, fixed: dict[sp.Symbol, sp.Rational] | None = None
) -> Point | None:
    """A rational point where ``expr`` is certainly nonzero, or None if none of ``tries`` is."""
    plain, stand_ins = free_form(expr)
    symbols = sorted(plain.free_symbols - set(fixed or {}), key=str)
    rng = random.Random(seed)
    for _ in range(tries):
        values = dict(zip(symbols, _rationals(rng, len(symbols)), strict=True))
        values.update(fixed or {})
        value = plain.xreplace(values)
        if value.has(sp.Subs, sp.Derivative):
            value = value.doit()
        if certainly_nonzero(value):
            named = {str(stand_ins.get(k, k)): v for k, v in values.items() if k in plain.free_symbols}
            return Point(named, str(sp.N(value, 15)))
    return None
