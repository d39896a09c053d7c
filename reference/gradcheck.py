"""gradcheck: the analytic gradient against a numerical witness, entry by entry, with a verdict that
names the tensor, the entry, both values, the method, the step and the tolerance.

Verdicts: "pass"; "fail" only where the witness is trusted and disagrees beyond its bound (for
central differences: confirmed by a neighbouring step and by one-sided differences on both sides,
numerical.adaptive); "inconclusive" where it cannot be trusted, with the reason (never a failure
that blames the analytic gradient). A non-finite analytic entry always fails, named.

Tolerances (per entry, absolute): numeric error bound + analytic rounding allowance, where
  central differences: cheap pass |D(2h..) third difference| / 3h + 3.7 noise / h at the first
      step h = 2^round(log2 eps^(1/3) max(1, |p|)) (numerical.central._third_difference), or, where
      that does not settle the entry, |R_j - D_j| + 1.5 noise / h_j at the step the scan chose
      (numerical.adaptive); noise: the measured rounding of one evaluation (numerical.noise),
      confirmed 2^8 times closer to p (numerical.central.confirm_level);
  complex step: the analytic allowance itself (no cancellation; truncation ~h^2 = 2^-120 relative);
  mpmath: half an ulp of float64 (the ground truth rounded);
  analytic allowance: reference cases, 4 (sum(sizes) + m) max(1, max|z|) u max(scale |delta|^T |a|)
      (numerical.problem.analytic_allowance); callables, analytic_rtol max|g_t| over the finite
      entries (default 64 u).
No tolerance is a tuned constant: each is the error model of its method and the dtypes.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from .numerical.central import NumericGradient, central_differences
from .numerical.complex_step import complex_step
from .numerical.formatting import count, fmt_sci, fmt_value, short_repr
from .numerical.kinks import KinkReport
from .numerical.mp import mp_ground_truth
from .numerical.problem import Problem, as_problem
from .numerical.steps import format_step
from .numerical.verdicts import Verdict, VerdictFlags, not_a_bool, worst

METHODS: tuple[str, ...] = ("central", "complex_step", "mpmath")


def _index(shape: tuple[int, ...], flat: int) -> str:
    return "[" + ", ".join(str(int(i)) for i in np.unravel_index(flat, shape)) + "]" if shape else ""


@dataclass(frozen=True, eq=False)
class TensorReport:
    """One parameter tensor: error summary, worst entry (largest error / tolerance), verdict.

    worst_rel_error and worst_tolerance are relative to max(|analytic|, |numeric|) of that entry.
    n_inconclusive counts entries the numerical witness cannot be trusted at (a kink where the
    analytic value matches neither one-sided derivative, steps that cannot resolve the function,
    a cost not finite nearby): they never fail the tensor, and ``inconclusive`` says why.
    A non-finite analytic entry always fails, named in ``nonfinite``.
    """

    name: str
    layer: int | None
    shape: tuple[int, ...]
    method: str
    max_abs_error: float
    max_rel_error: float
    worst_index: str
    worst_analytic: float
    worst_numeric: float
    worst_rel_error: float
    worst_tolerance: float
    worst_step: float
    n_entries: int
    n_failed: int
    n_inconclusive: int
    kinks: list[str] = field(default_factory=list)
    inconclusive: list[str] = field(default_factory=list)
    nonfinite: list[str] = field(default_factory=list)

    __eq__ = not_a_bool
    __hash__ = None  # type: ignore[assignment]

    def __bool__(self) -> bool:
        raise TypeError("a TensorReport is not a bool: use .passed, .failed or .verdict")

    @property
    def verdict(self) -> Verdict:
        if self.n_failed:
            return "fail"
        return "inconclusive" if self.n_inconclusive else "pass"

    # passed and failed only: ``inconclusive`` is the field naming the undecided entries.
    @property
    def passed(self) -> bool:
        return self.verdict == "pass"

    @property
    def failed(self) -> bool:
        return self.verdict == "fail"

    def _how(self) -> str:
        if self.method.startswith("mpmath"):
            return self.method
        label = "central differences" if self.method.startswith("central") else self.method
        return f"{label}, h = {format_step(self.worst_step)}"

    def counts(self) -> str:
        """Entries checked, failed and inconclusive, in a few words."""
        return (
            f"{count(self.n_entries, 'entry', 'entries')}, {self.n_failed} failed, {self.n_inconclusive} inconclusive"
        )

    def worst_entry(self) -> str:
        """The entry that decides the verdict: the first non-finite one, else the largest error for
        its tolerance (relative to the entry), or "" when no entry could be checked."""
        if self.nonfinite:
            return f"{self.nonfinite[0].partition(': analytic')[0]} not finite"  # "dC/dw^2[0, 1]: analytic nan ..."
        if self.n_entries == self.n_inconclusive:
            return ""
        op = ">" if self.failed else "<="
        return (
            f"worst dC/d{self.name}{self.worst_index} rel. error {fmt_sci(self.worst_rel_error)} "
            f"{op} {fmt_sci(self.worst_tolerance)}"
        )

    def __repr__(self) -> str:
        worst_entry = self.worst_entry()
        return short_repr(
            "TensorReport",
            f"dC/d{self.name} {self.verdict}",
            self.counts() + (f"; {worst_entry}" if worst_entry else ""),
        )

    def __str__(self) -> str:
        return self.message

    @property
    def message(self) -> str:
        layer = f"layer {self.layer}, " if self.layer is not None else ""
        if self.nonfinite:
            return (
                f"{self.nonfinite[0]} ({layer}{self.n_failed} of {self.n_entries} entries fail"
                f"{'; ' + str(len(self.nonfinite)) + ' non-finite' if len(self.nonfinite) > 1 else ''})"
            )
        if self.failed:
            count = f"{self.n_failed} of {self.n_entries} entries fail"
        elif self.n_inconclusive:
            count = f"{self.n_entries - self.n_inconclusive} of {self.n_entries} entries pass"
        else:
            count = "all entries pass"
        if self.n_inconclusive:
            count += f", {self.n_inconclusive} inconclusive"
        if self.n_entries == self.n_inconclusive:
            return f"dC/d{self.name}: no entry could be checked ({layer}{count})"
        a = fmt_value(self.worst_analytic, self.worst_rel_error)
        n = fmt_value(self.worst_numeric, self.worst_rel_error)
        op = ">" if self.failed else "<="
        return (
            f"dC/d{self.name}{self.worst_index}: analytic {a}, numeric {n} ({self._how()}), "
            f"relative error {fmt_sci(self.worst_rel_error)} {op} tolerance {fmt_sci(self.worst_tolerance)} "
            f"({layer}{count})"
        )


MAX_NOTES = 10


@dataclass(frozen=True, eq=False)
class GradcheckResult(VerdictFlags):
    """Per-tensor reports and one verdict: "fail" if any entry anywhere fails beyond doubt,
    "inconclusive" if none fails but some could not be checked, else "pass". Not usable as a bool.
    """

    method: str
    tensors: list[TensorReport]
    numeric: NumericGradient
    notes: list[str] = field(default_factory=list)

    __eq__ = not_a_bool
    __hash__ = None  # type: ignore[assignment]

    @property
    def verdict(self) -> Verdict:
        return worst(t.verdict for t in self.tensors)

    @property
    def failures(self) -> list[TensorReport]:
        return [t for t in self.tensors if t.failed]

    @property
    def message(self) -> str:
        word = {"pass": "passed", "fail": "FAILED", "inconclusive": "INCONCLUSIVE"}[self.verdict]
        head = f"gradcheck ({self.method}) {word}"
        ordered = self.failures + [t for t in self.tensors if not t.failed]
        notes = self.notes[:MAX_NOTES] + (
            [f"... and {len(self.notes) - MAX_NOTES} more notes"] if len(self.notes) > MAX_NOTES else []
        )
        return "\n".join([head] + ["  " + t.message for t in ordered] + ["  note: " + n for n in notes])

    def __str__(self) -> str:
        return self.message

    def __repr__(self) -> str:
        """One line: the verdict, the counts, and the tensor entry that decides it (``str()``: all of it)."""
        entries = sum(t.n_entries for t in self.tensors)
        failed = sum(t.n_failed for t in self.tensors)
        unsure = sum(t.n_inconclusive for t in self.tensors)
        judged = [t for t in self.tensors if t.n_entries > t.n_inconclusive or t.nonfinite]
        decisive = self.failures[:1] or sorted(judged, key=_closeness, reverse=True)[:1]
        worst_entry = f"; {decisive[0].worst_entry()}" if decisive else ""
        sizes = f"{count(len(self.tensors), 'tensor')}, {count(entries, 'entry', 'entries')}"
        return short_repr(
            "GradcheckResult",
            self.verdict,
            f"{self.method.split(' (')[0]}, {sizes}, {failed} failed, {unsure} inconclusive{worst_entry}",
        )

    def __bool__(self) -> bool:
        raise TypeError("a GradcheckResult is not a bool: use .passed, or .raise_for_failure()")

    def raise_for_failure(self, inconclusive_ok: bool = True) -> None:
        """AssertionError with the message when the verdict is "fail" (or "inconclusive" too,
        with inconclusive_ok=False)."""
        if self.failed or (self.inconclusive and not inconclusive_ok):
            raise AssertionError(self.message)


def _closeness(t: TensorReport) -> float:
    """How near a tensor's worst entry came to its tolerance (error / tolerance, both relative)."""
    if t.worst_tolerance > 0:
        return t.worst_rel_error / t.worst_tolerance
    return math.inf if t.worst_rel_error > 0 else 0.0


def _kink_entry(report: KinkReport, analytic: float, allowance: float) -> tuple[float, float, str] | None:
    """(value, tolerance, note) for the one-sided derivative the analytic value matches, or None."""
    sides = [("left", report.left, report.left_error), ("right", report.right, report.right_error)]
    for label, v, err in sides:
        if math.isfinite(v) and abs(analytic - v) <= err + allowance:
            return v, err + allowance, f"; analytic matches the {label} derivative"
    return None


def judge_gradient(problem: Problem, numeric: NumericGradient) -> GradcheckResult:
    """Judge problem.gradient against a numerical gradient (tolerances: module docstring)."""
    reports: list[TensorReport] = []
    notes: list[str] = list(numeric.notes)
    for t, (g, v, e, h) in enumerate(zip(problem.gradient, numeric.values, numeric.errors, numeric.steps, strict=True)):
        analytic = np.asarray(g, dtype=np.float64).reshape(-1)
        value = np.array(v, dtype=np.float64).reshape(-1)
        tol = np.asarray(e, dtype=np.float64).reshape(-1) + problem.allowance[t]
        size = value.size
        checked = np.zeros(size, dtype=bool)
        if numeric.checked is None:
            checked[:] = True
        else:
            checked[np.asarray(numeric.checked[t], dtype=np.int64)] = True
        unsure = np.zeros(size, dtype=bool)
        kinks: list[str] = []
        doubts: list[str] = []
        label = f"dC/d{problem.names[t]}"
        for (kt, i), report in numeric.kinks.items():
            if kt != t:
                continue
            entry = f"{label}{_index(g.shape, i)}: {report.describe()}"
            if report.resolved_step is None:
                match = _kink_entry(report, float(analytic[i]), problem.allowance[t])
                if match is not None:
                    value[i], tol[i], how = match
                    entry += how
                else:
                    unsure[i] = True
                    entry += f"; analytic {analytic[i]:.6g} matches neither (inconclusive)"
            kinks.append(entry)
        for (kt, i), reason in numeric.inconclusive.items():
            if kt == t:
                unsure[i] = True
                doubts.append(f"{label}{_index(g.shape, i)}: inconclusive: {reason}")
        kinked = np.zeros(size, dtype=bool)
        for kt, i in numeric.kinks:
            if kt == t:
                kinked[i] = True
        blind = checked & ~np.isfinite(value) & ~kinked & ~unsure
        for b in np.flatnonzero(blind):
            unsure[b] = True
            doubts.append(f"{label}{_index(g.shape, int(b))}: inconclusive: numerical witness is {value[b]}")
        bad = checked & ~np.isfinite(analytic)
        nonfinite = [
            f"{label}{_index(g.shape, int(i))}: analytic {analytic[i]} is not finite "
            f"(numeric {fmt_value(float(value[i]), 1.0) if math.isfinite(value[i]) else 'not available'})"
            for i in np.flatnonzero(bad)
        ]
        unsure &= ~bad
        notes += kinks + doubts
        ok = checked & ~unsure & ~bad
        with np.errstate(invalid="ignore"):
            diff = np.where(ok, np.abs(analytic - value), 0.0)
            scale = np.where(ok, np.maximum(np.abs(analytic), np.abs(value)), 0.0)
        rel = np.divide(diff, scale, out=np.zeros_like(diff), where=scale > 0)
        failed = ok & ~(diff <= tol)
        ratio = np.divide(diff, tol, out=np.where(diff > 0, np.inf, 0.0), where=tol > 0)
        ratio[~ok] = -1.0
        worst = int(np.argmax(ratio)) if size else 0
        has = bool(ok.any())
        rel_tol = float(tol[worst] / scale[worst]) if has and scale[worst] > 0 else float(tol[worst]) if has else 0.0
        reports.append(
            TensorReport(
                name=problem.names[t],
                layer=problem.layers[t],
                shape=tuple(g.shape),
                method=numeric.method,
                max_abs_error=float(diff[ok].max()) if has else 0.0,
                max_rel_error=float(rel[ok].max()) if has else 0.0,
                worst_index=_index(g.shape, worst) if size else "",
                worst_analytic=float(analytic[worst]) if has else 0.0,
                worst_numeric=float(value[worst]) if has else 0.0,
                worst_rel_error=float(rel[worst]) if has else 0.0,
                worst_tolerance=rel_tol,
                worst_step=float(np.asarray(h).reshape(-1)[worst]) if size else 0.0,
                n_entries=int(checked.sum()),
                n_failed=int(failed.sum() + bad.sum()),
                n_inconclusive=int((unsure & checked).sum()),
                kinks=kinks,
                inconclusive=doubts,
                nonfinite=nonfinite,
            )
        )
    return GradcheckResult(numeric.method, reports, numeric, notes)


def gradcheck(
    target: Any,
    *,
    method: str = "central",
    x: Any = None,
    y: Any = None,
    params: Any = None,
    gradient: Any = None,
    names: Any = None,
    complex_cost: Any = None,
    analytic_rtol: float | None = None,
    levels: int | None = None,
    seed: int = 0,
    digits: int = 50,
) -> GradcheckResult:
    """Check an analytic gradient entry by entry; ``.verdict`` is "pass", "fail" or "inconclusive".

    target: a reference Case; a reference Network with x= and y=; or a callable
    cost(params) -> float with params= (list of arrays) and gradient= (list of arrays, or a
    callable of params), optionally
    names=, complex_cost= (for method "complex_step") and analytic_rtol=.
    method: "central" (Richardson central differences), "complex_step", or "mpmath" (reference
    cases only: the 50-digit ground truth, confirmed by mpmath central differences).
    levels: None (default) for the 3-evaluation cheap pass, or an int >= 2 for a Richardson cheap
    pass with that many levels. For large networks use large_model_check (directional check plus
    a sample of entries) or directional_check (a handful of evaluations, not 3n).
    """
    if method not in METHODS:
        raise ValueError(f"method must be one of {METHODS}, got {method!r}")
    if params is not None or gradient is not None:
        problem = as_problem(
            target,
            params=params,
            gradient=gradient,
            names=names,
            complex_cost=complex_cost,
            analytic_rtol=analytic_rtol,
        )
    else:
        problem = as_problem(target, x=x, y=y)
    if method == "central":
        return judge_gradient(problem, central_differences(problem, levels=levels, seed=seed))
    if method == "complex_step":
        return judge_gradient(problem, complex_step(problem))
    if problem.case is None:
        raise TypeError("method 'mpmath' needs a reference case (the mpmath engine), not a callable")
    truth = mp_ground_truth(problem.case, digits=digits)
    result = judge_gradient(problem, truth.numeric)
    if not truth.confirmed:
        return GradcheckResult(
            result.method,
            result.tensors,
            result.numeric,
            result.notes + ["mpmath ground truth NOT confirmed by mp central differences:"] + truth.unconfirmed,
        )
    return result
