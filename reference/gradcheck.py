"""gradcheck: the analytic gradient against a numerical witness, entry by entry, with a verdict that
names the tensor, the entry, both values, the method, the step and the tolerance.

Tolerances (per entry, absolute): numeric error bound + analytic rounding allowance, where
  central differences: |best - previous Richardson entry| + 2 noise sum_k |w_k| / (2 h_k), noise the
      measured rounding of one cost evaluation (numerical.noise),
      h = 2^round(log2 eps^(1/3) max(1, |p|));
  complex step: the analytic allowance itself (no cancellation; truncation ~h^2 = 2^-120 relative);
  mpmath: half an ulp of float64 (the ground truth rounded);
  analytic allowance: reference cases, 4 (sum(sizes) + m) max(1, max|z|) u max(scale |delta|^T |a|)
      (numerical.problem.analytic_allowance); callables, analytic_rtol max|g_t| (default 64 u).
No tolerance is a tuned constant: each is the error model of its method and the dtypes.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from .numerical.central import NumericGradient, central_differences
from .numerical.complex_step import complex_step
from .numerical.mp import mp_ground_truth
from .numerical.problem import Problem, as_problem
from .numerical.steps import format_step

METHODS: tuple[str, ...] = ("central", "complex_step", "mpmath")


def _fmt(v: float, rel: float) -> str:
    digits = 4 if rel <= 0 or rel >= 1e-3 else min(17, math.ceil(-math.log10(rel)) + 2)
    return f"{v:.{digits}g}"


def _index(shape: tuple[int, ...], flat: int) -> str:
    return (
        "[" + ", ".join(str(int(i)) for i in np.unravel_index(flat, shape)) + "]" if shape else ""
    )


@dataclass(frozen=True)
class TensorReport:
    """One parameter tensor: error summary, worst entry (largest error / tolerance), verdict.

    worst_rel_error and worst_tolerance are relative to max(|analytic|, |numeric|) of that entry.
    n_undetermined counts kinked entries where neither one-sided derivative matched (C has a corner
    there: no derivative to check against); they do not fail the tensor but are listed in kinks.
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
    n_undetermined: int
    kinks: list[str] = field(default_factory=list)

    @property
    def passed(self) -> bool:
        return self.n_failed == 0

    def _how(self) -> str:
        if self.method.startswith("mpmath"):
            return self.method
        label = "central differences" if self.method.startswith("central") else self.method
        return f"{label}, h = {format_step(self.worst_step)}"

    @property
    def message(self) -> str:
        layer = f"layer {self.layer}, " if self.layer is not None else ""
        a = _fmt(self.worst_analytic, self.worst_rel_error)
        n = _fmt(self.worst_numeric, self.worst_rel_error)
        op = ">" if not self.passed else "<="
        count = (
            f"{self.n_failed} of {self.n_entries} entries fail"
            if not self.passed
            else "all entries pass"
        )
        text = (
            f"dC/d{self.name}{self.worst_index}: analytic {a}, numeric {n} ({self._how()}), "
            f"relative error {_sci(self.worst_rel_error)} {op} tolerance {_sci(self.worst_tolerance)} "
            f"({layer}{count}"
        )
        if self.n_undetermined:
            text += f", {self.n_undetermined} undetermined at kinks"
        return text + ")"


@dataclass(frozen=True)
class GradcheckResult:
    """Per-tensor reports; ``passed`` is False if any entry anywhere fails. Not usable as a bool."""

    method: str
    tensors: list[TensorReport]
    numeric: NumericGradient
    notes: list[str] = field(default_factory=list)

    @property
    def passed(self) -> bool:
        return all(t.passed for t in self.tensors)

    @property
    def failures(self) -> list[TensorReport]:
        return [t for t in self.tensors if not t.passed]

    @property
    def message(self) -> str:
        head = f"gradcheck ({self.method}) " + ("passed" if self.passed else "FAILED")
        ordered = self.failures + [t for t in self.tensors if t.passed]
        return "\n".join(
            [head] + ["  " + t.message for t in ordered] + ["  note: " + n for n in self.notes]
        )

    def __str__(self) -> str:
        return self.message

    def __bool__(self) -> bool:
        raise TypeError("a GradcheckResult is not a bool: use .passed, or .raise_for_failure()")

    def raise_for_failure(self) -> None:
        if not self.passed:
            raise AssertionError(self.message)


def compare(problem: Problem, numeric: NumericGradient) -> GradcheckResult:
    """Judge problem.gradient against a numerical gradient (tolerances: module docstring)."""
    reports: list[TensorReport] = []
    notes: list[str] = []
    for t, (g, v, e, h) in enumerate(
        zip(problem.gradient, numeric.values, numeric.errors, numeric.steps, strict=True)
    ):
        analytic = np.asarray(g, dtype=np.float64).reshape(-1)
        value = np.array(v, dtype=np.float64).reshape(-1)
        tol = np.asarray(e, dtype=np.float64).reshape(-1) + problem.allowance[t]
        undetermined = np.zeros(value.size, dtype=bool)
        kinks: list[str] = []
        for (kt, i), report in numeric.kinks.items():
            if kt != t:
                continue
            entry = f"dC/d{problem.names[t]}{_index(g.shape, i)}: {report.describe()}"
            if report.resolved_step is None:
                sides = [(report.left, report.left_error), (report.right, report.right_error)]
                matches = [
                    (s, err)
                    for s, err in sides
                    if not math.isnan(s) and abs(analytic[i] - s) <= err + problem.allowance[t]
                ]
                if matches:
                    value[i], tol[i] = matches[0][0], matches[0][1] + problem.allowance[t]
                    entry += (
                        "; analytic matches the "
                        + ("left" if matches[0][0] == report.left else "right")
                        + " derivative"
                    )
                else:
                    undetermined[i] = True
                    entry += f"; analytic {analytic[i]:.6g} matches neither (undetermined)"
            kinks.append(entry)
        notes += kinks
        diff = np.abs(analytic - value)
        scale = np.maximum(np.abs(analytic), np.abs(value))
        rel = np.divide(diff, scale, out=np.zeros_like(diff), where=scale > 0)
        ok = ~undetermined
        failed = ok & ~(diff <= tol)
        ratio = np.divide(diff, tol, out=np.where(diff > 0, np.inf, 0.0), where=tol > 0)
        ratio[~ok] = -1.0
        worst = int(np.argmax(ratio)) if value.size else 0
        has = value.size > 0 and ok.any()
        reports.append(
            TensorReport(
                name=problem.names[t],
                layer=problem.layers[t],
                shape=tuple(g.shape),
                method=numeric.method,
                max_abs_error=float(diff[ok].max()) if has else 0.0,
                max_rel_error=float(rel[ok].max()) if has else 0.0,
                worst_index=_index(g.shape, worst) if value.size else "",
                worst_analytic=float(analytic[worst]) if value.size else 0.0,
                worst_numeric=float(value[worst]) if value.size else 0.0,
                worst_rel_error=float(rel[worst]) if value.size else 0.0,
                worst_tolerance=float(tol[worst] / scale[worst])
                if value.size and scale[worst] > 0
                else float(tol[worst])
                if value.size
                else 0.0,
                worst_step=float(np.asarray(h).reshape(-1)[worst]) if value.size else 0.0,
                n_entries=int(value.size),
                n_failed=int(failed.sum()),
                n_undetermined=int(undetermined.sum()),
                kinks=kinks,
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
    levels: int = 3,
    seed: int = 0,
    digits: int = 50,
) -> GradcheckResult:
    """Check an analytic gradient entry by entry.

    target: a reference Case; a reference Network with x= and y=; or a callable
    cost(params) -> float with params= (list of arrays) and gradient= (list of arrays, or a
    callable of params), optionally
    names=, complex_cost= (for method "complex_step") and analytic_rtol=.
    method: "central" (Richardson central differences), "complex_step", or "mpmath" (reference
    cases only: the 50-digit ground truth, confirmed by mpmath central differences).
    For large networks use numerical.directional_check (a handful of evaluations, not 2n).
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
        return compare(problem, central_differences(problem, levels=levels, seed=seed))
    if method == "complex_step":
        return compare(problem, complex_step(problem))
    if problem.case is None:
        raise TypeError(
            "method 'mpmath' needs a reference case (the mpmath engine), not a callable"
        )
    truth = mp_ground_truth(problem.case, digits=digits)
    result = compare(problem, truth.numeric)
    if not truth.confirmed:
        return GradcheckResult(
            result.method,
            result.tensors,
            result.numeric,
            result.notes
            + ["mpmath ground truth NOT confirmed by mp central differences:"]
            + truth.unconfirmed,
        )
    return result


def _sci(x: float) -> str:
    """8.7e-2, not 8.7e-02."""
    return f"{x:.1e}".replace("e-0", "e-").replace("e+0", "e+")
