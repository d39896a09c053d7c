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

Where each part lives: the checks' names and findings in conformance.judging.findings; the
equations and the cost, judged against the reference, in conformance.judging.equation_checks; the
implementation held against itself in conformance.judging.metamorphic; the known causes of a failure
(a factor m, relu'(0), saturation, clamped costs, torch's softplus threshold) in
conformance.judging.diagnosis. This module makes the calls to the implementation: the first
backprop, the SGD step, and whether either modified its inputs.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable, Generator, Iterator, Sequence

import numpy as np

from conformance.errors import StructureError, Unusable
from conformance.implementations.calls import REFUSAL, Answer, Fault, describe_exception
from conformance.implementations.input_mutation import fresh_copy, mutation
from conformance.implementations.loader import Implementation
from conformance.judging.diagnosis import claim_text, costs_comparable, float32_cause, mismatch_text
from conformance.judging.equation_checks import check_cost, check_equations_1_2, check_equations_3_4
from conformance.judging.factors import Confirmer, Extract, Observation, Probe, ratio_text
from conformance.judging.findings import BLOCK_SGD_STEP, CHECKS, FLOAT32_PRECISION, CaseReport, Finding, block_after
from conformance.judging.metamorphic import Ask, batch_additivity, determinism, permutation_invariance
from conformance.judging.structure import Result, parse_parameters, parse_result
from conformance.judging.tolerances import SAFETY, Expected, expect, norm_mismatch
from reference import Case
from reference._ops import Array


class CaseChecker:
    """Runs every check on one case against one implementation."""

    def __init__(self, impl: Implementation) -> None:
        self.impl = impl
        caps = impl.capabilities
        # The declared conventions, under which the reference judges (CONTRACT.md section 1).
        self.conventions: dict[str, float] = dict(getattr(caps, "conventions", None) or {})
        # Required only when declared: capabilities that name other keys say nothing of outputs.
        self.want_deltas = "deltas" in caps.outputs and "outputs" in caps.declared_keys
        self.want_cost = "cost" in caps.outputs and "outputs" in caps.declared_keys
        # In process, code under test sees the caller's floating-point settings, not the judge's.
        self._caller_errstate = np.geterr()

    def _given(self, case: Case) -> Case:
        """The case as the implementation is given it: in process a copy of its own (what it does to
        its arrays must not reach the suite's), else the case itself, which a worker or a program
        receives as bytes and cannot change."""
        return fresh_copy(case) if self.impl.in_process else case

    def _ask(self, report: CaseReport, case: Case, what: str) -> Result | str:
        """One more backprop call for a property check: its parsed result, or why it has none."""
        asked = self._ask_each(report, [case], [what])
        try:
            return next(asked)
        finally:
            asked.close()

    def _ask_each(
        self, report: CaseReport, cases: Sequence[Case], whats: Sequence[str]
    ) -> Generator[Result | str, None, None]:
        """backprop on each case in turn for a property check (``what`` names each call in a message):
        each parsed result, ending after the first that is why there is none.

        The implementation is asked for them together (``backprop_each``: a worker gets them
        pipelined), each call made and judged as one ``_ask`` would; stop iterating to stop asking.
        """
        # Each copy made when its call is reached: not a batch's worth of copies of the weights at once.
        outcomes = self.impl.backprop_each(self._given(case) for case in cases)
        try:
            for case, what in zip(cases, whats, strict=True):
                with np.errstate(**self._caller_errstate):
                    outcome = next(outcomes)
                report.fatal |= isinstance(outcome, Fault) and outcome.fatal
                parsed = self._parse(case, outcome, what)
                yield parsed
                if isinstance(parsed, str):
                    return
        finally:
            _close(outcomes)

    def _next_of(self, calls: Iterator[Answer | Fault]) -> Ask:
        """An ``Ask`` whose call is the next of ``calls`` (asked already, with its case)."""

        def ask(report: CaseReport, case: Case, what: str) -> Result | str:
            with np.errstate(**self._caller_errstate):
                outcome = next(calls)
            report.fatal |= isinstance(outcome, Fault) and outcome.fatal
            return self._parse(case, outcome, what)

        return ask

    def _probe(self, report: CaseReport) -> Probe:
        """backprop on a second case that a cause's claim is confirmed on (conformance.judging.factors)."""

        def probe(case: Case) -> Result | None:
            parsed = self._ask(report, case, "backprop on a second case")
            return None if isinstance(parsed, str) else parsed

        return probe

    def _step_probe(self, report: CaseReport, eta: float) -> Probe:
        """sgd_step on a second case: its new (weights, biases), or None."""

        def probe(case: Case) -> tuple[list[Array], list[Array]] | None:
            with np.errstate(**self._caller_errstate):
                outcome = self.impl.sgd_step(fresh_copy(case), eta)
            if isinstance(outcome, Fault):
                report.fatal |= outcome.fatal
                return None
            try:
                return parse_parameters(outcome.value, case.sizes, case.dtype)
            except Exception:  # noqa: BLE001 - no usable answer: the claim is not confirmed
                return None

        return probe

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

    def run(
        self,
        case: Case,
        eta: float,
        permutation: Sequence[int],
        enough: Callable[[Finding], bool] | None = None,
        through: str | None = None,
    ) -> CaseReport | None:
        """All findings for the case; None when it cannot be judged (see tolerances.expect).

        ``enough``, when given, is asked with the case's root finding (``CaseReport.root``, named as
        the summary will name it) as soon as no check still to run could come before it in the
        order; True ends the judging there, and the report holds the findings made so far. A
        shrink pass needs no more of a value set that does not show the cause it shrinks, and
        the checks after a wrong delta (the gradients against the implementation's own deltas,
        each with its claims) or a wrong SGD step (the batch properties, m + 2 calls) were most of
        what judging a failing case cost.

        ``through``, when given with ``enough``, is the last check the caller needs of a value set
        that has not failed: once it and every check before it passed, the judging ends there
        (the report then holds passed findings only, up to that check). The cause a shrink pass
        shrinks is a root finding of one check; a value set that passed that check and every one
        before it can no longer show it, since a later failure would be a later root. Most of
        the value sets a shrink pass judges are of this kind (the shrinker's candidates that lost
        the cause), and the batch properties after the SGD step were most of their cost.

        The judging runs with numpy's floating-point errors ignored: an answer may hold any
        finite float, so the suite's own arithmetic on it (differences, norms, sums of
        per-sample answers, bounds from the implementation's own deltas) may overflow, and
        under ``-W error`` a RuntimeWarning would turn a wrong answer into an internal error
        (exit 3). Ignoring is safe because every verdict ends in ``norm_mismatch``'s
        ``error <= limit``, which an inf or NaN error fails; the diagnoses claim a cause only
        when a comparison holds, which NaN never does. The calls to the implementation run
        under the caller's settings (``_run``'s first calls, ``_ask_each``, ``_sgd_step``).
        """
        with np.errstate(all="ignore"):
            return self._run(case, eta, permutation, enough, through)

    def _run(
        self,
        case: Case,
        eta: float,
        permutation: Sequence[int],
        enough: Callable[[Finding], bool] | None,
        through: str | None,
    ) -> CaseReport | None:
        try:
            exp = expect(case, self.conventions)
        except Unusable:
            return None
        report = CaseReport(case, eta, tuple(int(p) for p in permutation))
        given = self._given(case)
        # The first call and determinism's second, asked together (a worker gets both at once): the
        # second is made only once the first is a result, as determinism asks it (a worker not sure
        # of the first stops there: protocol.py). The first call's input is compared.
        again = (self._given(case) for _ in range(1))  # in process, copied when its call is reached
        calls = self.impl.backprop_each(itertools.chain([given], again), judged=1)
        try:
            with np.errstate(**self._caller_errstate):
                outcome = next(calls)
            report.fatal |= isinstance(outcome, Fault) and outcome.fatal
            report.answered = isinstance(outcome, Answer)
            parsed = self._parse(case, outcome, "backprop")
            self._no_mutation(report, given, case, "backprop", outcome)
            if isinstance(parsed, str):
                report.add("structure", None, "failed", parsed)
                block_after(report, "structure", "blocked by the structure check")
                return report
            report.add("structure", None, "passed")
            costs = costs_comparable(self.conventions, case, exp)
            deterministic = determinism(report, parsed, exp, self._next_of(calls), costs)
        finally:
            _close(calls)
        if not deterministic:
            block_after(report, "determinism", "blocked by determinism: the same case gave two answers")
            return report
        confirmer = Confirmer(case, self.conventions, self._probe(report))
        root = _Root(report, lambda: float32_cause(case, exp, parsed, self.conventions, confirmer), enough, through)
        delta_ok = check_equations_1_2(report, parsed, exp, confirmer)
        if root.settled("equation3"):
            return report
        check_equations_3_4(report, parsed, exp, delta_ok, confirmer)
        if root.settled("cost"):
            return report
        check_cost(report, parsed, exp, self.conventions, confirmer)
        if root.settled("sgd_step"):
            return report
        # A wrong cost does not block the batch properties; they compare the gradients alone then.
        costs = costs and report.failed_any(("cost",)) is None
        self._sgd_step(report, exp)
        if root.settled("batch_additivity"):  # no_mutation, after sgd_step, is judged by now
            return report
        batch_additivity(report, parsed, exp, self._ask_each, costs)
        permutation_invariance(report, parsed, exp, self._ask, costs)
        root.name_float32()
        return report

    def _no_mutation(self, report: CaseReport, given: Case, original: Case, what: str, outcome: Answer | Fault) -> None:
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
                    "a subprocess receives a serialised copy and cannot modify the inputs",
                )
            return
        if changed:
            report.add("no_mutation", None, "failed", f"{what} modified its input: {changed}")
        elif what == "backprop":
            report.add("no_mutation", None, "passed")

    def _sgd_step(self, report: CaseReport, exp: Expected) -> None:
        case, eta = report.case, report.eta
        if not self.impl.has_sgd_step:
            report.add("sgd_step", None, "not covered", "the implementation does not provide sgd_step")
            return
        blocker = report.failed_any(BLOCK_SGD_STEP)
        if blocker is not None:
            where = f" at layer {blocker.layer}" if blocker.layer else ""
            report.add("sgd_step", None, "blocked", f"blocked by {blocker.check}{where}")
            return
        given = fresh_copy(case)
        with np.errstate(**self._caller_errstate):
            outcome = self.impl.sgd_step(given, eta)
        self._no_mutation(report, given, case, "sgd_step", outcome)
        if isinstance(outcome, Fault):
            report.fatal |= outcome.fatal
            if outcome.kind == "unsupported":  # counted: all or nothing over the run (conformance.reporting.report)
                report.add("sgd_step", None, "not covered", REFUSAL + outcome.message)
            else:
                report.add("sgd_step", None, "failed", "sgd_step " + outcome.message)  # "sgd_step raised ..."
            return
        try:
            weights, biases = parse_parameters(outcome.value, case.sizes, case.dtype)
        except StructureError as error:
            report.add("sgd_step", None, "failed", f"sgd_step: {error}")
            return
        except Exception as error:  # noqa: BLE001 - whatever was sent, it is the answer's fault
            report.add("sgd_step", None, "failed", f"sgd_step: the answer cannot be read ({describe_exception(error)})")
            return
        confirmer = Confirmer(case, self.conventions, self._step_probe(report, eta))
        problem = _step_error(case, eta, exp, weights, biases, confirmer)
        report.add("sgd_step", None, "failed" if problem else "passed", problem or "")


def _close(outcomes: Iterator[Answer | Fault]) -> None:
    """Stop asking (an implementation's ``backprop_each``, iterated or not to its end)."""
    close = getattr(outcomes, "close", None)
    if close is not None:
        close()


class _Root:
    """A case's root finding, named as the summary names it, and whether the judging may end at it.

    ``float32``: whether every failure of the case is float32 arithmetic (diagnosis.float32_cause),
    asked at most once and only when something failed; then every failure says so.
    """

    def __init__(
        self,
        report: CaseReport,
        float32: Callable[[], bool],
        enough: Callable[[Finding], bool] | None,
        through: str | None = None,
    ):
        self.report = report
        self.float32 = float32
        self.enough = enough
        self.through = through
        self._float32: bool | None = None

    def _is_float32(self) -> bool:
        if self._float32 is None:
            self._float32 = self.float32()
        return self._float32

    def settled(self, next_check: str) -> bool:
        """True (and the failures named) when ``enough`` takes the root, and no check from ``next_check``
        on could come before it in the order (findings.CHECKS); or, with nothing failed, when every
        check up to ``through`` has passed (CaseChecker.run)."""
        root = self.report.root()
        if self.enough is None:
            return False
        if root is None:
            return self.through is not None and CHECKS.index(self.through) < CHECKS.index(next_check)
        if CHECKS.index(root.check) >= CHECKS.index(next_check):
            return False
        named = Finding(root.check, root.layer, root.status, f"{root.message}; {FLOAT32_PRECISION}")
        if not self.enough(named if self._is_float32() else root):
            return False
        self.name_float32()
        return True

    def name_float32(self) -> None:
        """Every failure says FLOAT32_PRECISION when that is the cause of the case's failures."""
        if self.report.root() is not None and self._is_float32():
            _name_on_every_failure(self.report, FLOAT32_PRECISION)


def _name_on_every_failure(report: CaseReport, cause: str) -> None:
    """One cause behind every failed finding of the case: said on each, so that they file under it."""
    report.findings = [
        Finding(f.check, f.layer, f.status, f"{f.message}; {cause}") if f.status == "failed" else f
        for f in report.findings
    ]


def _step_tolerance(exp: Expected, eta: float, p: Array, g: Array, t: Array) -> Array:
    """p - eta g: two roundings, the rounding of eta, and eta times the gradient's bound."""
    return SAFETY * exp.u * (np.abs(p) + 2 * eta * np.abs(g)) + eta * t


def _steps(exp: Expected) -> list[tuple[str, int, list[Array], list[Array], list[Array]]]:
    c64 = exp.case64
    return [
        ("weights", 0, c64.weights, exp.grad_weights, exp.tol_weights),
        ("biases", 1, c64.biases, exp.grad_biases, exp.tol_biases),
    ]


def _step_of(which: int, i: int, eta: float) -> Extract:
    """The step p - new of one parameter on a second case, against eta g there."""

    def extract(answer: tuple[list[Array], list[Array]], exp: Expected) -> tuple[Array, Array, Array]:
        _, _, params, grads, tols = _steps(exp)[which]
        p, g = params[i], grads[i]
        return p - answer[which][i], eta * g, _step_tolerance(exp, eta, p, g, tols[i])

    return extract


def _fits_rate(exp: Expected, rate: float, answer: tuple[list[Array], list[Array]]) -> bool:
    """Every parameter of the answer is p - rate g within the step's tolerance at that rate."""
    for _, which, params, grads, tols in _steps(exp):
        for new, p, g, t in zip(answer[which], params, grads, tols, strict=True):
            if norm_mismatch(new, p - rate * g, _step_tolerance(exp, rate, p, g, t)) is not None:
                return False
    return True


def _float32_rate(
    case: Case, eta: float, exp: Expected, answer: tuple[list[Array], list[Array]], confirmer: Confirmer
) -> bool:
    """Whether a float64 step used eta rounded to float32, on this case and on the case with another m.

    Only where the two rates tell apart: the step with eta itself fails (it did), and the step
    with the float32 eta fits every parameter within the same tolerance model.
    """
    eta32 = float(np.float32(eta))
    if case.dtype != "float64" or eta32 == eta or not _fits_rate(exp, eta32, answer):
        return False
    got = confirmer.answer("m")
    return got is not None and _fits_rate(got[1], eta32, got[0])


def _step_error(
    case: Case, eta: float, exp: Expected, weights: list[Array], biases: list[Array], confirmer: Confirmer
) -> str | None:
    """The first parameter the SGD step got wrong (p - eta g, with its rounding), in words; None if none."""
    for name, which, params, grads, tols in _steps(exp):
        got = (weights, biases)[which]
        for i, (new, p, g, t) in enumerate(zip(got, params, grads, tols, strict=True)):
            expected = p - eta * g
            tol = _step_tolerance(exp, eta, p, g, t)
            mm = norm_mismatch(new, expected, tol)
            if mm is None:
                continue
            text = mismatch_text(name, i, mm, i + 2, f"sgd_step with eta = {eta}", case.dtype)
            if _float32_rate(case, eta, exp, (weights, biases), confirmer):
                eta32 = float(np.float32(eta))
                return text + (
                    f"; the learning rate is held in float32: every parameter is p - {eta32!r} g, the float32 "
                    f"number nearest eta = {eta!r} (here and on the case with another m)"
                )
            first = Observation(p - new, eta * g, tol, case.m, case.sizes[-1])
            claim = confirmer.claim(first, _step_of(which, i, eta))
            return text + (f"; the step is {claim_text(claim, case.reduction)}" if claim else ratio_text(first))
    return None
