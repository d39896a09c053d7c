"""Proofs of the four backpropagation equations for one architecture, check by check.

Each check compares a chain-rule derivative (``derive``) with the equation's right-hand side
(``formulas``) for one layer and one unit. Verdicts:

* "proven": SymPy reduced derived - claimed to the literal 0 (``zero.simplifies_to_zero``);
* "disproven": it did not, and an exact rational point makes the difference certainly nonzero;
* "not proven": neither; the difference vanished at every rational point tried.

What a "proven" check covers: equations 1 and 2 and, for one sample, 3 and 4, for every
input, target and parameter value of this architecture with these activations and cost
(for relu: away from the kink, plus the convention relu'(0) = 0; for log_likelihood's closed
form: for probability-vector targets). The batch checks ("eq3-batch", "eq4-batch") prove the
seed's update rule dC/dw^l = scale * sum_x delta^{x,l} (a^{x,l-1})^T for m = 2 samples with
the chosen reduction (scale 1/m for "mean", 1 for "sum"), where delta^{x,l} is each sample's
own dC_x/dz^{x,l}. See ``derive`` for why the layer-by-layer argument is a proof about the
fully composed cost.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import replace

import sympy as sp

from . import derive, formulas, functions, network, renaming
from .disprove import NetworkCounterexample, seed_typo_counterexample
from .proof import BATCH, Check, Proof, Source, Verdict
from .spec import Spec, check_size, make_spec
from .zero import Point, find_nonzero, simplifies_to_zero


def judge_difference(
    derived: sp.Expr, claimed: sp.Expr, constraint: dict[sp.Symbol, sp.Expr] | None = None
) -> tuple[Verdict, Point | None]:
    if derived == claimed:  # the same expression, so the difference is the literal 0 (no Add to build)
        return "proven", None
    difference = derived - claimed
    if constraint:
        difference = difference.xreplace(constraint)
    if simplifies_to_zero(difference, thorough=False):
        return "proven", None
    point = find_nonzero(difference, tries=1)  # cheap when it is not an identity at all
    if point is not None:
        return "disproven", point
    if simplifies_to_zero(difference):
        return "proven", None
    point = find_nonzero(difference, seed=1)
    return ("disproven", point) if point is not None else ("not proven", None)


def _unit_checks(
    equation: str,
    layer: int,
    derived: Sequence[sp.Expr],
    claimed: Sequence[sp.Expr],
    constraint: dict[sp.Symbol, sp.Expr] | None = None,
    note: str = "",
) -> list[Check]:
    out = []
    for j, (d, c) in enumerate(zip(derived, claimed, strict=True), start=1):
        verdict, point = judge_difference(d, c, constraint)
        out.append(Check(equation, layer, (j,), d, c, verdict, point, note))
    return out


def _parameter_checks(spec: Spec, l: int, samples: int | None, per_entry: bool = False) -> list[Check]:
    """Equations 3 and 4 at layer l: every entry derived (``per_entry``), or entry (1, 1) and bias 1
    derived and the others renamings of them, when ``renaming.certify`` certifies the renaming for
    this layer. An uncertified renaming is never judged: every entry is then derived with
    sympy.diff, and the checks' note says why."""
    suffix = "" if samples is None else "-batch"
    claimed_w, claimed_b = formulas.equations_3_4(spec, l, samples)
    why = None if per_entry else renaming.certify(spec, l, samples)
    if per_entry or why is not None:
        derived_w, derived_b = derive.parameter_gradients(spec, l, samples)
        note = "" if why is None else f"{UNCERTIFIED}: {why}"
    else:
        w11, b1 = derive.parameter_gradients(spec, l, samples, weights=[(1, 1)], biases=[1])
        rows = {j: renaming.row_swap(spec, l, j, samples) for j in range(1, spec.n(l) + 1)}
        columns = {k: renaming.column_swap(spec, l, k, samples) for k in range(1, spec.n(l - 1) + 1)}
        derived_b = {j: renaming.transport(b1[1], rows[j], {}) for j in claimed_b}
        derived_w = {(j, k): renaming.transport(w11[(1, 1)], rows[j], columns[k]) for j, k in claimed_w}
        note = ""
    renamed = not per_entry and why is None
    out = []
    for j, d in derived_b.items():
        verdict, point = judge_difference(d, claimed_b[j])
        source: Source = "renamed" if renamed and j != 1 else "derived"
        out.append(Check("eq3" + suffix, l, (j,), d, claimed_b[j], verdict, point, note, source))
    for (j, k), d in derived_w.items():
        verdict, point = judge_difference(d, claimed_w[(j, k)])
        source = "renamed" if renamed and (j, k) != (1, 1) else "derived"
        out.append(Check("eq4" + suffix, l, (j, k), d, claimed_w[(j, k)], verdict, point, note, source))
    return out


UNCERTIFIED = "renaming not certified, every entry derived with sympy.diff instead"


def _hidden_checks(spec: Spec, l: int, claimed: Sequence[sp.Expr], equation: str, per_entry: bool) -> list[Check]:
    """Equation 2 at layer l: every unit derived (``per_entry``), or unit 1 derived and the others
    its renamings when ``renaming.certify_hidden`` certifies them; an uncertified renaming is never
    judged (every unit derived with sympy.diff, the note says why)."""
    if per_entry:
        return _unit_checks(equation, l, derive.hidden_errors(spec, l), claimed)
    zeta = [network.z(l, j) for j in range(1, spec.n(l) + 1)]
    why = renaming.certify_hidden(spec, l, network.layer_map(spec, l + 1, functions.sigma(spec.activation(l), l, zeta)))
    if why is not None:
        return _unit_checks(equation, l, derive.hidden_errors(spec, l), claimed, note=f"{UNCERTIFIED}: {why}")
    (first,) = derive.hidden_errors(spec, l, units=[1])
    renamed = [first] + [first.xreplace(renaming.hidden_swap(spec, l, j)) for j in range(2, len(claimed) + 1)]
    return [c if c.unit == (1,) else replace(c, source="renamed") for c in _unit_checks(equation, l, renamed, claimed)]


def composed_checks(spec: Spec) -> list[Check]:
    """delta^l for every hidden layer, differentiated from the cost written out in full (no
    undefined tail), against the backprop recursion written out in full: an independent check
    of the layer-by-layer argument, for small networks (both sides grow exponentially with depth).
    """
    if "relu" in spec.activations:
        raise ValueError(
            "the composed check does not support relu: SymPy folds nested Piecewise into "
            "conditions it cannot decide consistently; the layer-by-layer proof covers relu"
        )
    out: list[Check] = []
    for l in range(spec.L - 1, 1, -1):
        out += _unit_checks("composed", l, derive.composed_errors(spec, l), formulas.backprop_errors(spec, l))
    return out


def prove_spec(spec: Spec, batch: bool = True, composed: bool = False, per_entry: bool = False) -> Proof:
    check_size(spec)
    start = time.perf_counter()
    L = spec.L
    checks = _unit_checks("eq1", L, derive.output_errors(spec), formulas.equation_1(spec))
    closed = formulas.equation_1_closed(spec)
    if closed is not None:
        constraint = formulas.probability_constraint(spec) if spec.cost == "log_likelihood" else None
        note = "for probability-vector targets (sum_j y_j = 1)" if constraint else ""
        checks += _unit_checks("eq1-closed", L, derive.output_errors(spec), closed, constraint, note)
    counterexamples: list[NetworkCounterexample] = []
    typo = spec.hidden_rule == "seed-typo"
    for l in range(L - 1, 1, -1):
        claimed = formulas.equation_2_seed_typo(spec, l) if typo else formulas.equation_2(spec, l)
        layer_checks = _hidden_checks(spec, l, claimed, "eq2-typo" if typo else "eq2", per_entry)
        checks += layer_checks
        if typo and any(c.verdict != "proven" for c in layer_checks):
            found = seed_typo_counterexample(spec, l)
            if found is not None:
                counterexamples.append(found)
    for l in range(2, L + 1):
        checks += _parameter_checks(spec, l, None, per_entry)
        if batch:
            checks += _parameter_checks(spec, l, BATCH, per_entry)
    if composed:
        checks += composed_checks(spec)
    notes = []
    if "relu" in spec.activations:
        notes.append(
            "relu is Piecewise((0, z <= 0), (z, True)); SymPy differentiates it branch by branch, "
            "so relu'(0) = 0, the engine's convention (relu has no derivative at 0)."
        )
    if not per_entry:
        notes.append(
            "Equations 2, 3 and 4: unit 1, entry (1, 1) and bias 1 of each layer are derived with "
            "sympy.diff; every other unit and entry is their renaming (swap units 1 and j of a layer), "
            "certified by SymPy to permute the tail's arguments as the proof needs (symbolic/renaming.py), "
            "then judged like any check; where the certificate fails, every entry of that layer is "
            "derived instead. --per-entry derives every one."
        )
    if "sigma" in spec.activations:
        notes.append("sigma_l is an undefined function: the proof holds for every differentiable sigma_l.")
    return Proof(spec, tuple(checks), tuple(counterexamples), time.perf_counter() - start, BATCH, tuple(notes))


def prove(
    sizes: Sequence[int],
    activations: Sequence[str],
    cost: str,
    reduction: str = "mean",
    hidden_rule: str = "seed",
    batch: bool = True,
    composed: bool = False,
    per_entry: bool = False,
) -> Proof:
    """Derive every delta and gradient of this architecture from the chain rule and prove (or
    disprove) the backpropagation equations for it. ``composed=True`` adds the written-out
    check (``composed_checks``), practical for small networks only. ``per_entry=True`` derives
    equations 3 and 4 for every entry instead of one per layer and its renamings (``renaming``)."""
    spec = make_spec(sizes, activations, cost, reduction, hidden_rule)
    return prove_spec(spec, batch=batch, composed=composed, per_entry=per_entry)
