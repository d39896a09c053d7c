"""The checks that hold an implementation against itself: the same case asked twice
(determinism), a batch against its samples one by one (batch additivity), and the samples
shuffled (permutation).

Each correct evaluation is within T of the exact value, in any summation order, so two
answers of a correct implementation differ by at most 2T (``differs``). The batch properties
are judged only on cases where nothing they depend on failed (``property_skipped``).
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Generator, Sequence

import numpy as np

from conformance.judging.findings import BLOCK_BATCH_PROPERTIES, CaseReport
from conformance.judging.structure import Result
from conformance.judging.tolerances import Expected, format_number, norm_mismatch, place
from reference import Case
from reference._ops import Array

# One more backprop call for a property check: its parsed result, or why it has none.
Ask = Callable[[CaseReport, Case, str], Result | str]
# Several, in turn (the cases, and what each call is called in a message): each parsed result, ending
# after the first that is why there is none; closing it stops the asking.
AskEach = Callable[[CaseReport, Sequence[Case], Sequence[str]], Generator[Result | str, None, None]]


def determinism(report: CaseReport, first: Result, exp: Expected, ask: Ask, costs: bool) -> bool:
    """Asks for the same case again, right after the first call; True when the answers agree."""
    case = report.case
    second = ask(report, case, "the second backprop call on the same case")
    if isinstance(second, str):
        report.add("determinism", None, "failed", second)
        return False
    again = "the second call on the same case"
    problem = differs(second, first, exp, again, "the first call", case.dtype, costs)
    report.add("determinism", None, "failed" if problem else "passed", problem or "")
    return problem is None


def property_skipped(report: CaseReport, check: str) -> bool:
    """True when a batch property cannot be judged: one sample only, or blocked (then said so)."""
    if report.case.m < 2:
        return True
    root = report.failed_any(BLOCK_BATCH_PROPERTIES)
    if root is None:
        return False
    where = f" at layer {root.layer}" if root.layer else ""
    report.add(check, None, "blocked", f"blocked by {root.check}{where}")
    return True


def batch_additivity(report: CaseReport, batch: Result, exp: Expected, ask_each: AskEach, costs: bool) -> None:
    """The batch's result against the reduction (mean or sum) of its samples' results, one by one.

    The m single-sample calls are asked together (a worker gets them pipelined: m calls, not m
    round trips), each judged on its own, and the asking stops at the first that fails.
    """
    case = report.case
    if property_skipped(report, "batch_additivity"):
        return
    ones = [case.replace(x=case.x[s : s + 1], y=case.y[s : s + 1]) for s in range(case.m)]
    whats = [f"backprop on sample {s} alone (m = 1)" for s in range(case.m)]
    singles: list[Result] = []
    with contextlib.closing(ask_each(report, ones, whats)) as answers:
        for parsed in answers:
            if isinstance(parsed, str):
                report.add("batch_additivity", None, "failed", parsed)
                return
            singles.append(parsed)
    combined = _combined(case, batch, singles)
    how = f"the {case.reduction} of the {case.m} single-sample results"
    problem = differs(combined, batch, exp, how, "the batch result", case.dtype, costs)
    report.add("batch_additivity", None, "failed" if problem else "passed", problem or "")


def _combined(case: Case, batch: Result, singles: list[Result]) -> Result:
    """The single-sample results reduced as the batch's are (deltas stacked, where all reported them)."""
    weight = 1.0 / case.m if case.reduction == "mean" else 1.0
    layers = range(len(batch.grad_weights))
    single_deltas = [r.deltas for r in singles if r.deltas is not None]
    single_costs = [r.cost for r in singles if r.cost is not None]
    return Result(
        grad_weights=[weight * np.sum([r.grad_weights[i] for r in singles], axis=0) for i in layers],
        grad_biases=[weight * np.sum([r.grad_biases[i] for r in singles], axis=0) for i in layers],
        deltas=None
        if batch.deltas is None or len(single_deltas) < case.m
        else [np.concatenate([d[i] for d in single_deltas]) for i in layers],
        cost=None if batch.cost is None or len(single_costs) < case.m else weight * sum(single_costs),
    )


def permutation_invariance(report: CaseReport, batch: Result, exp: Expected, ask: Ask, costs: bool) -> None:
    """The batch's result against that of its samples in the report's order, unshuffled."""
    case, perm = report.case, np.asarray(report.permutation)
    if property_skipped(report, "permutation"):
        return
    shuffled = case.replace(x=case.x[perm], y=case.y[perm])
    parsed = ask(report, shuffled, f"backprop on the samples in the order {perm.tolist()}")
    if isinstance(parsed, str):
        report.add("permutation", None, "failed", parsed)
        return
    inverse = np.argsort(perm)
    unshuffled = Result(
        parsed.grad_weights,
        parsed.grad_biases,
        None if parsed.deltas is None else [d[inverse] for d in parsed.deltas],
        parsed.cost,
    )
    order = f"the samples in the order {perm.tolist()}"
    problem = differs(unshuffled, batch, exp, order, "the original order", case.dtype, costs)
    report.add("permutation", None, "failed" if problem else "passed", problem or "")


def differs(
    got: Result, want: Result, exp: Expected, got_name: str, want_name: str, dtype: str, costs: bool = True
) -> str | None:
    """First disagreement between two results of the same implementation, beyond twice T.

    ``costs``: whether their costs are compared (not where a declared a-based cost may be infinite).
    """
    fields: list[tuple[str, list[Array] | None, list[Array] | None, list[Array]]] = [
        ("grad_weights", got.grad_weights, want.grad_weights, exp.tol_weights),
        ("grad_biases", got.grad_biases, want.grad_biases, exp.tol_biases),
        ("deltas", got.deltas, want.deltas, exp.tol_deltas),
    ]
    for name, a_list, b_list, tols in fields:
        if a_list is None or b_list is None:
            continue
        for i, (a, b, t) in enumerate(zip(a_list, b_list, tols, strict=True)):
            mm = norm_mismatch(a, b, 2 * t)
            if mm is not None:
                return (
                    f"{place(name, i, mm.index)} = {format_number(mm.actual)} with {got_name}, but "
                    f"{format_number(mm.expected)} with {want_name} (layer {i + 2}, {dtype}, "
                    "tolerance "
                    f"{mm.tolerance:.2g} on the layer's error norm, which is {mm.error:.2g})"
                )
    if costs and got.cost is not None and want.cost is not None and not (got.cost == want.cost):  # inf == inf
        mm = norm_mismatch(np.asarray(got.cost), np.asarray(want.cost), 2 * exp.tol_cost)
        if mm is not None:
            return f"cost = {format_number(got.cost)} with {got_name}, but {format_number(want.cost)} with {want_name}"
    return None
