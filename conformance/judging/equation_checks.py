"""The checks against the reference's values: the deltas (equations 1 and 2), the gradients
(equations 3 and 4, with the reduction found from them) and the cost.

Top down, so that the first wrong delta is blamed and the layers below it are blocked; a
gradient off by exactly m (or 1/m) is blamed on the reduction; a gradient computed from wrong
deltas is blocked by them when it is consistent with the implementation's own deltas. What
explains a failure further is conformance.judging.diagnosis.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import NamedTuple

import numpy as np

from conformance.judging.diagnosis import (
    a_based_cost_may_be_infinite,
    a_based_hint,
    claim_text,
    cost_cause,
    delta_cause,
    gradients_cause,
    mismatch_text,
)
from conformance.judging.factors import Confirmer, Extract, Observation, ratio_text
from conformance.judging.findings import CaseReport, Status
from conformance.judging.structure import Result
from conformance.judging.tolerances import (
    SAFETY,
    UNIT_ROUNDOFF,
    Expected,
    format_number,
    gamma,
    norm,
    norm_mismatch,
    place,
)
from reference import Case
from reference._ops import Array

LABEL = {
    "equation1": "equation 1",
    "equation2": "equation 2",
    "equation3": "equation 3",
    "equation4": "equation 4",
}


# -- equations 1 and 2: the deltas -------------------------------------------------------------


def check_equations_1_2(report: CaseReport, res: Result, exp: Expected, confirmer: Confirmer) -> dict[int, str | None]:
    """Per layer, None when the reported delta^l is right, else the cause; {} without deltas."""
    case = report.case
    L = len(case.sizes)
    if res.deltas is None:
        why = "the implementation does not report deltas"
        report.add("equation1", None, "not covered", why)
        report.add("equation2", None, "not covered", why)
        return {}
    causes: dict[int, str | None] = {}
    for layer in range(L, 1, -1):
        i = layer - 2
        check = "equation1" if layer == L else "equation2"
        above = causes.get(layer + 1)
        if layer < L and above is not None:
            causes[layer] = above
            report.add(check, layer, "blocked", f"blocked by {above}")
            continue
        mm = norm_mismatch(res.deltas[i], exp.deltas[i], exp.tol_deltas[i])
        if mm is None:
            causes[layer] = None
            report.add(check, layer, "passed")
            continue
        causes[layer] = f"{LABEL[check]} at layer {layer}"
        detail = _delta_detail(report, exp, layer, res.deltas[i], confirmer)
        report.add(
            check, layer, "failed", mismatch_text("deltas", i, mm, layer, LABEL[check], case.dtype) + f": {detail}"
        )
    return causes


def _delta_detail(report: CaseReport, exp: Expected, layer: int, deltas: Array, confirmer: Confirmer) -> str:
    """What is known of a wrong delta^layer: which equation, and a confirmed factor or another cause."""
    case = report.case
    i = layer - 2
    top = layer == len(case.sizes)
    detail = "delta^L" if top else f"delta^{layer}, while delta^{layer + 1} is right"
    first = _observe(case, deltas, exp.deltas[i], exp.tol_deltas[i])
    claim = confirmer.claim(first, _deltas_of(i))
    if claim is not None and claim.name in ("m", "1/m"):
        return detail + (
            f"; the deltas are {claim.text()}: the contract's delta^l is per sample (dC_x/dz^{{x,l}}), "
            "without the reduction's factor"
        )
    if claim is not None:
        return detail + f"; the deltas are {claim_text(claim, case.reduction)}"
    cause = delta_cause(case, exp, i, deltas, confirmer)
    return detail + (f"; {cause}" if cause is not None else ratio_text(first))


def _observe(case: Case, actual: Array, expected: Array, tol: Array) -> Observation:
    return Observation(actual, expected, tol, case.m, case.sizes[-1])


def _deltas_of(i: int) -> Extract:
    def extract(result: Result, exp: Expected) -> tuple[Array, Array, Array] | None:
        return None if result.deltas is None else (result.deltas[i], exp.deltas[i], exp.tol_deltas[i])

    return extract


def _gradient_of(check: str, i: int) -> Extract:
    def extract(result: Result, exp: Expected) -> tuple[Array, Array, Array]:
        g = _gradients(result, exp, i)[check == "equation4"]
        return g.actual, g.expected, g.tol

    return extract


def _gradient_from_own_deltas(check: str, i: int) -> Extract:
    def extract(result: Result, exp: Expected) -> tuple[Array, Array, Array] | None:
        if result.deltas is None:
            return None
        own, own_tol = from_own_deltas(check, result, exp, i)
        return _gradients(result, exp, i)[check == "equation4"].actual, own, own_tol

    return extract


# -- equations 3 and 4: the gradients, and the reduction ----------------------------------------


class _Gradient(NamedTuple):
    """One gradient of one layer, with what it is judged against."""

    check: str
    field_name: str
    actual: Array
    expected: Array
    tol: Array


@dataclass
class _LayerFindings:
    """What the two gradient checks of one layer found, before it is reported."""

    pending: list[tuple[str, Status, str]] = field(default_factory=list)
    wrong: list[str] = field(default_factory=list)  # failed against the reference, not blocked
    reduction: str | None = None  # the reduction check's failure, when a factor m explains a gradient
    reduction_ok: bool = True

    def annotate_failures(self, text: str) -> None:
        self.pending = [(c, s, msg + text) if s == "failed" else (c, s, msg) for c, s, msg in self.pending]


def check_equations_3_4(
    report: CaseReport, res: Result, exp: Expected, causes: dict[int, str | None], confirmer: Confirmer
) -> None:
    """Per layer, top down: dC/db (equation 3) and dC/dw (equation 4), then the reduction."""
    case = report.case
    L = len(case.sizes)
    entry: str | None = None  # without deltas: the layer where both gradients first went wrong
    for layer in range(L, 1, -1):
        i = layer - 2
        cause = causes.get(layer)
        found = _LayerFindings()
        for gradient in _gradients(res, exp, i):
            if cause is None or res.deltas is None:
                _against_reference(found, gradient, report, layer, entry, confirmer)
            else:
                _against_own_deltas(found, gradient, report, res, exp, layer, cause, confirmer)
        if res.deltas is None and entry is None:
            entry = _entry(found, report, res, exp, layer, confirmer)
        for check, status, message in found.pending:
            report.add(check, layer, status, message)
        if found.reduction is not None:
            report.add("reduction", layer, "failed", found.reduction)
        elif found.reduction_ok and case.m > 1 and reduction_visible(exp, i):
            report.add("reduction", layer, "passed")


def _gradients(res: Result, exp: Expected, i: int) -> tuple[_Gradient, _Gradient]:
    return (
        _Gradient("equation3", "grad_biases", res.grad_biases[i], exp.grad_biases[i], exp.tol_biases[i]),
        _Gradient("equation4", "grad_weights", res.grad_weights[i], exp.grad_weights[i], exp.tol_weights[i]),
    )


def _against_reference(
    found: _LayerFindings, g: _Gradient, report: CaseReport, layer: int, entry: str | None, confirmer: Confirmer
) -> None:
    """A gradient whose deltas are right (or not reported), judged against the reference's."""
    case = report.case
    i, m, dtype = layer - 2, case.m, case.dtype
    mm = norm_mismatch(g.actual, g.expected, g.tol)
    if mm is None:
        found.pending.append((g.check, "passed", ""))
        return
    if entry is not None:  # a wrong delta above explains it, a factor m included
        found.reduction_ok = False
        found.pending.append((g.check, "blocked", f"blocked by {entry}"))
        return
    first = _observe(case, g.actual, g.expected, g.tol)
    claim = confirmer.claim(first, _gradient_of(g.check, i))
    if claim is not None and claim.name in ("m", "1/m"):
        found.reduction = (
            f"{place(g.field_name, i, ())} (dC/d{'wb'[g.check == 'equation3']}^{layer}) is "
            f"{claim_text(claim, case.reduction)} (layer {layer}, reduction {case.reduction}, m = {m}, {dtype})"
        )
        found.pending.append((g.check, "blocked", "blocked by the reduction check at this layer"))
        return
    found.reduction_ok = False
    found.wrong.append(g.check)
    text = mismatch_text(g.field_name, i, mm, layer, LABEL[g.check], dtype)
    text += f"; it is {claim_text(claim, case.reduction)}" if claim is not None else ratio_text(first)
    found.pending.append((g.check, "failed", text))


def _against_own_deltas(
    found: _LayerFindings,
    g: _Gradient,
    report: CaseReport,
    res: Result,
    exp: Expected,
    layer: int,
    cause: str,
    confirmer: Confirmer,
) -> None:
    """A gradient of a layer whose deltas are wrong: right anyway, or judged against its own deltas."""
    case = report.case
    i, m, dtype = layer - 2, case.m, case.dtype
    if norm_mismatch(g.actual, g.expected, g.tol) is None:
        found.pending.append((g.check, "passed", ""))  # right, whatever the deltas say
        return
    own, own_tol = from_own_deltas(g.check, res, exp, i)
    if norm_mismatch(g.actual, own, own_tol) is None:
        found.pending.append((g.check, "blocked", f"blocked by {cause}: consistent with the wrong deltas"))
        return
    first = _observe(case, g.actual, own, own_tol)
    claim = confirmer.claim(first, _gradient_from_own_deltas(g.check, i))
    if claim is not None and claim.name in ("m", "1/m"):
        found.reduction = (
            f"{place(g.field_name, i, ())} is {claim_text(claim, case.reduction)}, relative to the "
            f"implementation's own deltas (layer {layer}, m = {m}, {dtype})"
        )
        found.pending.append((g.check, "blocked", "blocked by the reduction check at this layer"))
        return
    found.reduction_ok = False
    mm = norm_mismatch(g.actual, own, own_tol)
    assert mm is not None
    text = (
        mismatch_text(g.field_name, i, mm, layer, LABEL[g.check], dtype)
        + ", where 'should be' is computed from the implementation's own deltas"
    )
    text += f"; it is {claim_text(claim, case.reduction)}" if claim is not None else ratio_text(first)
    found.pending.append((g.check, "failed", text))


def _entry(
    found: _LayerFindings, report: CaseReport, res: Result, exp: Expected, layer: int, confirmer: Confirmer
) -> str | None:
    """Without deltas: the layer where the gradients first go wrong (a cause explains them, or both
    are wrong), its failures annotated; None when this layer is not it."""
    case = report.case
    if found.wrong:
        explained = gradients_cause(case, exp, layer - 2, res, confirmer)
        if explained is not None:
            found.annotate_failures(f"; {explained}")
            return f"layer {layer}, where delta^{layer} is wrong"
    if len(found.wrong) == 2:
        where = "at the output layer" if layer == len(case.sizes) else "while the layers above are right"
        found.annotate_failures(
            f"; both gradients of layer {layer} are wrong {where}: "
            f"delta^{layer} is probably wrong (equation {'1' if layer == len(case.sizes) else '2'}); "
            "report deltas for a sharper diagnosis"
        )
        return f"layer {layer}, where dC/db and dC/dw both go wrong"
    return None


def reduction_visible(exp: Expected, i: int) -> bool:
    """Whether a factor m in layer i + 2's gradients would stand out from their tolerances."""
    m = exp.case64.m
    return norm(exp.grad_biases[i]) * (m - 1) > 2 * m * norm(exp.tol_biases[i]) or norm(exp.grad_weights[i]) * (
        m - 1
    ) > 2 * m * norm(exp.tol_weights[i])


def from_own_deltas(check: str, res: Result, exp: Expected, i: int) -> tuple[Array, Array]:
    """Equation 3 or 4 applied to the implementation's own delta^l, with its rounding bound."""
    assert res.deltas is not None
    d, m = res.deltas[i], exp.case64.m
    u = max(exp.u, UNIT_ROUNDOFF["float32"])  # diagnosis only: see the end of tolerances' docstring
    abs_d = np.abs(d)
    if check == "equation3":
        value = exp.scale * d.sum(axis=0)
        bound = SAFETY * exp.scale * gamma(m + 2, u) * abs_d.sum(axis=0) + exp.tol_biases[i]
        return value, bound
    a_prev = exp.a[i]
    value = exp.scale * (d.T @ a_prev)
    bound = (
        SAFETY * exp.scale * (gamma(m + 2, u) * (abs_d.T @ np.abs(a_prev)) + abs_d.T @ exp.tol_a[i])
        + exp.tol_weights[i]
    )
    return value, bound


# -- the cost ----------------------------------------------------------------------------------


def check_cost(
    report: CaseReport, res: Result, exp: Expected, conventions: dict[str, float], confirmer: Confirmer
) -> None:
    case = report.case
    if res.cost is None:
        report.add("cost", None, "not covered", "the implementation does not report cost")
        return
    if conventions.get("cost_from_activations") == 1.0 and a_based_cost_may_be_infinite(case, exp):
        report.add(
            "cost",
            None,
            "not covered",
            "the output rounds to 0 or 1 here, where a cost computed from a (the declared "
            "convention cost_from_activations) is infinite by construction",
        )
        return
    if not np.isfinite(res.cost):
        report.add("cost", None, "failed", _non_finite_cost(report, res.cost, exp, confirmer))
        return
    mm = norm_mismatch(np.asarray(res.cost), np.asarray(exp.cost), exp.tol_cost)
    if mm is None:
        report.add("cost", None, "passed")
        return
    message = mismatch_text("cost", None, mm, None, f"cost {case.cost}, reduction {case.reduction}", case.dtype)
    report.add("cost", None, "failed", message + cost_cause(case, exp, res.cost, confirmer))


def _non_finite_cost(report: CaseReport, cost: float, exp: Expected, confirmer: Confirmer) -> str:
    """The exact cost is finite (expect() refuses cases where it is not): say so, and where the
    output rounds to exactly 0 or 1 in the case's dtype, why an a-based cost is infinite there."""
    case = report.case
    text = (
        f"cost = {format_number(cost)}, but should be {format_number(exp.cost)} (cost {case.cost}, "
        f"reduction {case.reduction}, {case.dtype}): the exact value is finite"
    )
    return text + a_based_hint(case, exp, cost, confirmer)
