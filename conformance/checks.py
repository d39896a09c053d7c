"""The checks, run on one case in dependency order, each ending in a Finding.

Order and dependencies: structure first (nothing else can be judged without a
well-formed result); then determinism, the same case asked twice: an answer that
depends on the call history (state carried between calls, a forgotten zero_grad)
cannot be judged against anything, so every later check is *blocked* by it and a
stateful implementation is diagnosed as such, not by whichever equation the
history happened to break; delta^L (equation 1) before delta^l (equation 2), top down,
so that the first wrong delta is blamed and the layers below it are *blocked*;
then per layer the gradients (equations 3 and 4), where a gradient off by exactly
m (or 1/m) is blamed on the reduction, and a gradient computed from wrong deltas
is blocked by them when it is consistent with the implementation's own deltas.
The SGD step needs right gradients; batch additivity and permutation invariance
are judged only on cases where nothing earlier failed. The inputs left unmodified
and the cost depend on the structure only (and determinism).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Literal

import numpy as np

from reference import Case

from .calls import Answer, Fault, describe_exception
from .loader import Implementation
from .mutation import fresh_copy, mutation
from .structure import Result, StructureError, parse_parameters, parse_result
from .tolerances import (
    SAFETY,
    UNIT_ROUNDOFF,
    Expected,
    Mismatch,
    Unusable,
    compare,
    expect,
    format_number,
    gamma,
    norm,
    place,
)

Status = Literal["passed", "failed", "blocked", "not covered"]
Array = np.ndarray

CHECKS: tuple[str, ...] = (
    "structure",
    "determinism",
    "equation1",
    "equation2",
    "equation3",
    "equation4",
    "cost",
    "reduction",
    "sgd_step",
    "no_mutation",
    "batch_additivity",
    "permutation",
)
LAYERED: frozenset[str] = frozenset({"equation1", "equation2", "equation3", "equation4", "reduction"})
_LABEL = {
    "equation1": "equation 1",
    "equation2": "equation 2",
    "equation3": "equation 3",
    "equation4": "equation 4",
}


@dataclass(frozen=True)
class Finding:
    """One check's verdict on one case (and one layer for the layered checks)."""

    check: str
    layer: int | None
    status: Status
    message: str


@dataclass
class CaseReport:
    """Everything the checks found on one case."""

    case: Case
    eta: float
    permutation: tuple[int, ...]
    findings: list[Finding] = field(default_factory=list)
    fatal: bool = False
    answered: bool = False  # the first backprop call returned a value (whatever it was)

    def add(self, check: str, layer: int | None, status: Status, message: str = "") -> None:
        self.findings.append(Finding(check, layer, status, message))

    def root(self) -> Finding | None:
        """The first failure in check order: the one to shrink and to fix first."""
        failed = [f for f in self.findings if f.status == "failed"]
        return min(failed, key=lambda f: (CHECKS.index(f.check), -(f.layer or 0))) if failed else None

    def failed_any(self, checks: Sequence[str]) -> Finding | None:
        for f in self.findings:
            if f.check in checks and f.status in ("failed", "blocked"):
                return f
        return None


def _mismatch_text(field_name: str, i: int | None, mm: Mismatch, layer: int | None, what: str, dtype: str) -> str:
    where = f"layer {layer}, " if layer is not None else ""
    return (
        f"{place(field_name, i, mm.index)} = {format_number(mm.actual)}, but should be "
        f"{format_number(mm.expected)} ({where}{what}, {dtype}, tolerance {mm.tolerance:.2g} "
        f"on the layer's error norm, which is {mm.error:.2g})"
    )


def _factor(actual: Array, expected: Array, tol: Array, m: int) -> float | None:
    """m or 1/m when actual is that multiple of expected (a reduction bug), else None.

    Called once ``compare(actual, expected, tol)`` has failed. Computing k R instead of R
    multiplies the implementation's own error by k, so k R is accepted within k T + T. The
    factor explains the mismatch when actual fits k R and k R itself is not within T of R
    (the same test compare applies): otherwise "off by k" and "right" cannot be told apart.
    """
    if m < 2:
        return None
    for k in (float(m), 1.0 / m):
        fits = compare(actual, k * expected, tol * max(k, 1.0) + tol) is None
        if fits and compare(k * expected, expected, tol) is not None:
            return k
    return None


def _fraction(k: float) -> str:
    return f"{k:g}" if k >= 1 else f"1/{round(1 / k)}"


def _factor_text(k: float, m: int, reduction: str) -> str:
    if k > 1:
        return (
            f"exactly m = {m} times the expected value: the 1/m of the mean reduction is missing"
            if reduction == "mean"
            else f"exactly m = {m} times the expected value although the reduction is sum"
        )
    return (
        f"exactly 1/m = 1/{m} of the expected value: averaged although the reduction is sum"
        if reduction == "sum"
        else f"exactly 1/m = 1/{m} of the expected value: divided by m twice?"
    )


class CaseChecker:
    """Runs every check on one case against one implementation."""

    def __init__(self, impl: Implementation) -> None:
        self.impl = impl
        caps = impl.capabilities
        # Required only when declared: capabilities that name other keys say nothing of outputs.
        self.want_deltas = "deltas" in caps.outputs and "outputs" in caps.declared_keys
        self.want_cost = "cost" in caps.outputs and "outputs" in caps.declared_keys

    def _call_backprop(self, case: Case) -> tuple[Case, Answer | Fault]:
        given = fresh_copy(case)
        return given, self.impl.backprop(given)

    def _ask(self, report: CaseReport, case: Case, what: str) -> Result | str:
        """One more backprop call for a property check: its parsed result, or why it has none."""
        _, outcome = self._call_backprop(case)
        report.fatal |= isinstance(outcome, Fault) and outcome.fatal
        return self._parse(case, outcome, what)

    def _parse(self, case: Case, outcome: Answer | Fault, what: str) -> Result | str:
        if isinstance(outcome, Fault):
            return f"{what} {outcome.message}"
        try:
            return parse_result(
                outcome.value,
                case.sizes,
                case.m,
                case.dtype,
                want_deltas=self.want_deltas,
                want_cost=self.want_cost,
            )
        except StructureError as error:
            return f"{what}: {error}"
        except Exception as error:  # noqa: BLE001 - whatever was sent, it is the answer's fault
            return f"{what}: the answer cannot be read as a result ({describe_exception(error)})"

    def run(self, case: Case, eta: float, permutation: Sequence[int]) -> CaseReport | None:
        """All findings for the case; None when it cannot be judged (see tolerances.expect)."""
        try:
            exp = expect(case)
        except Unusable:
            return None
        report = CaseReport(case, eta, tuple(int(p) for p in permutation))
        given, outcome = self._call_backprop(case)
        report.fatal |= isinstance(outcome, Fault) and outcome.fatal
        report.answered = isinstance(outcome, Answer)
        parsed = self._parse(case, outcome, "backprop")
        self._no_mutation(report, given, case, "backprop", outcome)
        if isinstance(parsed, str):
            report.add("structure", None, "failed", parsed)
            _block_after(report, "structure", "blocked by the structure check")
            return report
        report.add("structure", None, "passed")
        if not self._determinism(report, parsed, exp):
            _block_after(report, "determinism", "blocked by determinism: the same case gave two answers")
            return report
        delta_ok = self._equations_1_2(report, parsed, exp)
        self._equations_3_4(report, parsed, exp, delta_ok)
        self._cost(report, parsed, exp)
        self._sgd_step(report, exp)
        self._batch_additivity(report, parsed, exp)
        self._permutation(report, parsed, exp)
        return report

    # -- equations ------------------------------------------------------------------------

    def _equations_1_2(self, report: CaseReport, res: Result, exp: Expected) -> dict[int, str | None]:
        """Per layer, None when the reported delta^l is right, else the cause; {} without deltas."""
        case = report.case
        L = len(case.sizes)
        if res.deltas is None:
            why = "not covered: the implementation does not report deltas"
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
            mm = compare(res.deltas[i], exp.deltas[i], exp.tol_deltas[i])
            if mm is None:
                causes[layer] = None
                report.add(check, layer, "passed")
                continue
            causes[layer] = f"{_LABEL[check]} at layer {layer}"
            detail = "delta^L" if layer == L else f"delta^{layer}, while delta^{layer + 1} is right"
            k = _factor(res.deltas[i], exp.deltas[i], exp.tol_deltas[i], case.m)
            if k is not None:
                detail += (
                    f"; the deltas are exactly {'m' if k > 1 else '1/m'} = {_fraction(k)} times the "
                    "expected ones: the contract's delta^l is per sample (dC_x/dz^{x,l}), without the "
                    "reduction's factor"
                )
            report.add(
                check,
                layer,
                "failed",
                _mismatch_text("deltas", i, mm, layer, _LABEL[check], case.dtype) + f": {detail}",
            )
        return causes

    def _equations_3_4(self, report: CaseReport, res: Result, exp: Expected, causes: dict[int, str | None]) -> None:
        case = report.case
        L, m, dtype = len(case.sizes), case.m, case.dtype
        entry: str | None = None  # without deltas: the layer where both gradients first went wrong
        for layer in range(L, 1, -1):
            i = layer - 2
            cause = causes.get(layer)
            wrong_here: list[str] = []
            reduction_seen: str | None = None
            reduction_ok = True
            pending: list[tuple[str, Status, str]] = []
            for check, field_name, actual, expected, tol in (
                (
                    "equation3",
                    "grad_biases",
                    res.grad_biases[i],
                    exp.grad_biases[i],
                    exp.tol_biases[i],
                ),
                (
                    "equation4",
                    "grad_weights",
                    res.grad_weights[i],
                    exp.grad_weights[i],
                    exp.tol_weights[i],
                ),
            ):
                label = _LABEL[check]
                if cause is None or res.deltas is None:
                    mm = compare(actual, expected, tol)
                    if mm is None:
                        pending.append((check, "passed", ""))
                        continue
                    k = _factor(actual, expected, tol, m)
                    if k is not None:
                        reduction_seen = (
                            f"{place(field_name, i, ())} "
                            f"(dC/d{'wb'[check == 'equation3']}^{layer}) is "
                            f"{_factor_text(k, m, case.reduction)} (layer {layer}, "
                            f"reduction {case.reduction}, "
                            f"m = {m}, {dtype})"
                        )
                        pending.append((check, "blocked", "blocked by the reduction check at this layer"))
                        continue
                    reduction_ok = False
                    if entry is not None:
                        pending.append((check, "blocked", f"blocked by {entry}"))
                        continue
                    wrong_here.append(check)
                    pending.append((check, "failed", _mismatch_text(field_name, i, mm, layer, label, dtype)))
                else:
                    if compare(actual, expected, tol) is None:
                        pending.append((check, "passed", ""))  # right, whatever the deltas say
                        continue
                    own, own_tol = self._from_own_deltas(check, res, exp, i)
                    if compare(actual, own, own_tol) is None:
                        pending.append(
                            (
                                check,
                                "blocked",
                                f"blocked by {cause}: consistent with the wrong deltas",
                            )
                        )
                        continue
                    k = _factor(actual, own, own_tol, m)
                    if k is not None:
                        reduction_seen = (
                            f"{place(field_name, i, ())} is {_factor_text(k, m, case.reduction)}, "
                            "relative to the "
                            f"implementation's own deltas (layer {layer}, m = {m}, {dtype})"
                        )
                        pending.append((check, "blocked", "blocked by the reduction check at this layer"))
                        continue
                    reduction_ok = False
                    mm = compare(actual, own, own_tol)
                    assert mm is not None
                    pending.append(
                        (
                            check,
                            "failed",
                            _mismatch_text(field_name, i, mm, layer, label, dtype)
                            + ", where 'should be' is computed from the implementation's own "
                            "deltas",
                        )
                    )
            if res.deltas is None and len(wrong_here) == 2 and entry is None:
                entry = f"layer {layer}, where dC/db and dC/dw both go wrong"
                pending = [
                    (
                        c,
                        s,
                        msg + f"; both gradients of layer {layer} are wrong while the layers above "
                        "are right: "
                        f"delta^{layer} is probably wrong (equation {'1' if layer == L else '2'}); "
                        "report deltas for a "
                        "sharper diagnosis",
                    )
                    if s == "failed"
                    else (c, s, msg)
                    for c, s, msg in pending
                ]
            for check, status, message in pending:
                report.add(check, layer, status, message)
            if reduction_seen is not None:
                report.add("reduction", layer, "failed", reduction_seen)
            elif reduction_ok and m > 1 and self._reduction_visible(exp, i):
                report.add("reduction", layer, "passed")

    @staticmethod
    def _reduction_visible(exp: Expected, i: int) -> bool:
        m = exp.case64.m
        return norm(exp.grad_biases[i]) * (m - 1) > 2 * m * norm(exp.tol_biases[i]) or norm(exp.grad_weights[i]) * (
            m - 1
        ) > 2 * m * norm(exp.tol_weights[i])

    def _from_own_deltas(self, check: str, res: Result, exp: Expected, i: int) -> tuple[Array, Array]:
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

    # -- the other checks -----------------------------------------------------------------

    def _cost(self, report: CaseReport, res: Result, exp: Expected) -> None:
        if res.cost is None:
            report.add("cost", None, "not covered", "not covered: the implementation does not report cost")
            return
        mm = compare(np.asarray(res.cost), np.asarray(exp.cost), exp.tol_cost)
        if mm is None:
            report.add("cost", None, "passed")
            return
        message = _mismatch_text(
            "cost",
            None,
            mm,
            None,
            f"cost {report.case.cost}, reduction {report.case.reduction}",
            report.case.dtype,
        )
        k = _factor(np.asarray(res.cost), np.asarray(exp.cost), np.asarray(exp.tol_cost), report.case.m)
        if k is not None:
            message += f"; it is {_factor_text(k, report.case.m, report.case.reduction)}"
        report.add("cost", None, "failed", message)

    def _no_mutation(
        self, report: CaseReport, given: Case, original: Case, what: str, outcome: Answer | Fault
    ) -> None:
        if self.impl.in_process:
            changed = mutation(given, original)
        elif self.impl.reports_mutation:
            changed = outcome.mutation  # the worker compared the arrays it passed
        else:
            if not any(f.check == "no_mutation" for f in report.findings):
                report.add(
                    "no_mutation",
                    None,
                    "not covered",
                    "not covered: a subprocess receives a serialised copy and cannot modify the inputs",
                )
            return
        if changed:
            report.add("no_mutation", None, "failed", f"{what} modified its input: {changed}")
        elif what == "backprop":
            report.add("no_mutation", None, "passed")

    def _gradient_cause(self, report: CaseReport) -> Finding | None:
        return report.failed_any(("equation1", "equation2", "equation3", "equation4", "reduction"))

    def _sgd_step(self, report: CaseReport, exp: Expected) -> None:
        case, eta = report.case, report.eta
        if not self.impl.has_sgd_step:
            report.add(
                "sgd_step",
                None,
                "not covered",
                "not covered: the implementation does not provide sgd_step",
            )
            return
        blocker = self._gradient_cause(report)
        if blocker is not None:
            where = f" at layer {blocker.layer}" if blocker.layer else ""
            report.add("sgd_step", None, "blocked", f"blocked by {blocker.check}{where}")
            return
        given = fresh_copy(case)
        outcome = self.impl.sgd_step(given, eta)
        self._no_mutation(report, given, case, "sgd_step", outcome)
        if isinstance(outcome, Fault):
            report.fatal |= outcome.fatal
            status: Status = "not covered" if outcome.kind == "unsupported" else "failed"
            prefix = "not covered: " if status == "not covered" else "sgd_step "  # "sgd_step raised ..."
            report.add("sgd_step", None, status, prefix + outcome.message)
            return
        try:
            weights, biases = parse_parameters(outcome.value, case.sizes, case.dtype)
        except StructureError as error:
            report.add("sgd_step", None, "failed", f"sgd_step: {error}")
            return
        except Exception as error:  # noqa: BLE001 - whatever was sent, it is the answer's fault
            report.add("sgd_step", None, "failed", f"sgd_step: the answer cannot be read ({describe_exception(error)})")
            return
        c64, u = exp.case64, exp.u
        for name, got, params, grads, tols in (
            ("weights", weights, c64.weights, exp.grad_weights, exp.tol_weights),
            ("biases", biases, c64.biases, exp.grad_biases, exp.tol_biases),
        ):
            for i, (new, p, g, t) in enumerate(zip(got, params, grads, tols, strict=True)):
                expected = p - eta * g
                # p - eta g: two roundings, the rounding of eta, and eta times the gradient's bound
                tol = SAFETY * u * (np.abs(p) + 2 * eta * np.abs(g)) + eta * t
                mm = compare(new, expected, tol)
                if mm is None:
                    continue
                text = _mismatch_text(name, i, mm, i + 2, f"sgd_step with eta = {eta}", case.dtype)
                k = _factor(p - new, eta * g, tol, case.m)
                if k is not None:
                    text += f"; the step is {_factor_text(k, case.m, case.reduction)}"
                report.add("sgd_step", None, "failed", text)
                return
        report.add("sgd_step", None, "passed")

    def _determinism(self, report: CaseReport, first: Result, exp: Expected) -> bool:
        """Asks for the same case again, right after the first call; True when the answers agree."""
        case = report.case
        second = self._ask(report, case, "the second backprop call on the same case")
        if isinstance(second, str):
            report.add("determinism", None, "failed", second)
            return False
        problem = _differs(second, first, exp, "the second call on the same case", "the first call", case.dtype)
        report.add("determinism", None, "failed" if problem else "passed", problem or "")
        return problem is None

    def _property_skipped(self, report: CaseReport, check: str) -> bool:
        """True when a batch property cannot be judged: one sample only, or blocked (then said so)."""
        if report.case.m < 2:
            return True
        root = report.failed_any(("equation1", "equation2", "equation3", "equation4", "reduction", "cost"))
        if root is None:
            return False
        where = f" at layer {root.layer}" if root.layer else ""
        report.add(check, None, "blocked", f"blocked by {root.check}{where}")
        return True

    def _batch_additivity(self, report: CaseReport, batch: Result, exp: Expected) -> None:
        case = report.case
        if self._property_skipped(report, "batch_additivity"):
            return
        singles: list[Result] = []
        for s in range(case.m):
            one = case.replace(x=case.x[s : s + 1], y=case.y[s : s + 1])
            parsed = self._ask(report, one, f"backprop on sample {s} alone (m = 1)")
            if isinstance(parsed, str):
                report.add("batch_additivity", None, "failed", parsed)
                return
            singles.append(parsed)
        weight = 1.0 / case.m if case.reduction == "mean" else 1.0
        layers = range(len(batch.grad_weights))
        single_deltas = [r.deltas for r in singles if r.deltas is not None]
        single_costs = [r.cost for r in singles if r.cost is not None]
        combined = Result(
            grad_weights=[weight * np.sum([r.grad_weights[i] for r in singles], axis=0) for i in layers],
            grad_biases=[weight * np.sum([r.grad_biases[i] for r in singles], axis=0) for i in layers],
            deltas=None
            if batch.deltas is None or len(single_deltas) < case.m
            else [np.concatenate([d[i] for d in single_deltas]) for i in layers],
            cost=None if batch.cost is None or len(single_costs) < case.m else weight * sum(single_costs),
        )
        how = f"the {case.reduction} of the {case.m} single-sample results"
        problem = _differs(combined, batch, exp, how, "the batch result", case.dtype)
        report.add("batch_additivity", None, "failed" if problem else "passed", problem or "")

    def _permutation(self, report: CaseReport, batch: Result, exp: Expected) -> None:
        case, perm = report.case, np.asarray(report.permutation)
        if self._property_skipped(report, "permutation"):
            return
        shuffled = case.replace(x=case.x[perm], y=case.y[perm])
        parsed = self._ask(report, shuffled, f"backprop on the samples in the order {perm.tolist()}")
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
        problem = _differs(unshuffled, batch, exp, order, "the original order", case.dtype)
        report.add("permutation", None, "failed" if problem else "passed", problem or "")


def _block_after(report: CaseReport, failed: str, cause: str) -> None:
    """Every check after ``failed`` is blocked, except no_mutation, judged on the first call alone."""
    for check in CHECKS[CHECKS.index(failed) + 1 :]:
        if check != "no_mutation":
            report.add(check, None, "blocked", cause)


def _differs(got: Result, want: Result, exp: Expected, got_name: str, want_name: str, dtype: str) -> str | None:
    """First disagreement between two results of the same implementation, beyond twice T.

    Each correct evaluation is within T of the exact value, in any summation order, so two of
    them differ by at most 2T.
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
            mm = compare(a, b, 2 * t)
            if mm is not None:
                return (
                    f"{place(name, i, mm.index)} = {format_number(mm.actual)} with {got_name}, but "
                    f"{format_number(mm.expected)} with {want_name} (layer {i + 2}, {dtype}, "
                    "tolerance "
                    f"{mm.tolerance:.2g} on the layer's error norm, which is {mm.error:.2g})"
                )
    if got.cost is not None and want.cost is not None:
        mm = compare(np.asarray(got.cost), np.asarray(want.cost), 2 * exp.tol_cost)
        if mm is not None:
            return f"cost = {format_number(got.cost)} with {got_name}, but {format_number(want.cost)} with {want_name}"
    return None
