"""Directional checks for networks of any size: a handful of cost evaluations instead of 2n.

``directional_check`` compares <g, d> with the Richardson-extrapolated central difference of
t -> C(p + t d), for signed floored Gaussian directions (see ``directions``), once along all
parameters and once per parameter tensor (d zero elsewhere), so a wrong layer is named.
``taylor_slope_test`` checks that the Taylor remainder shrinks at the right order.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from typing import Any

import numpy as np

from .central import cost_noise, read_noise
from .directions import DEFAULT_FLOOR, signed_gaussian_direction
from .formatting import count, fmt_sci, fmt_value, short_repr
from .kinks import Kink, KinkReport, corner_at_point, crossing_inside
from .line import DirectionLine, check_line
from .problem import Params, Problem, as_problem
from .steps import format_step, power_of_two
from .verdicts import VerdictFlags, not_a_bool, worst

PROBLEM_KEYWORDS = ("params", "gradient", "names", "complex_cost", "analytic_rtol", "x", "y")


def _problem(target: Any, caller: str, kwargs: dict[str, Any]) -> Problem:
    """as_problem, with unknown keywords reported against the public function the user called."""
    unknown = sorted(set(kwargs) - set(PROBLEM_KEYWORDS))
    if unknown:
        raise TypeError(
            f"{caller}() got an unexpected keyword argument {unknown[0]!r} "
            f"(problem keywords: {', '.join(PROBLEM_KEYWORDS)})"
        )
    return as_problem(target, **kwargs)


def _nonfinite_entries(problem: Problem) -> list[str]:
    """'dC/dparams[0][0, 0]: analytic inf is not finite' for every non-finite analytic entry."""
    out = []
    for name, g in zip(problem.names, problem.gradient, strict=True):
        a = np.asarray(g, dtype=np.float64)
        for i in np.flatnonzero(~np.isfinite(a.reshape(-1))):
            where = "[" + ", ".join(str(int(v)) for v in np.unravel_index(int(i), a.shape)) + "]"
            out.append(f"dC/d{name}{where if a.shape else ''}: analytic {a.reshape(-1)[i]} is not finite")
    return out


class _Counter:
    def __init__(self, cost: Any) -> None:
        self.cost, self.count = cost, 0

    def __call__(self, params: Params) -> Any:
        self.count += 1
        return self.cost(params)


def _counted(problem: Problem) -> tuple[Problem, _Counter]:
    counter = _Counter(problem.cost)
    return replace(problem, cost=counter), counter


def _inner(problem: Problem, d: Sequence[np.ndarray]) -> tuple[float, float]:
    """(<g, d>, its rounding allowance).

    allowance = sum_t allowance_t sum|d_t| (each analytic entry may be off by allowance_t)
              + n u sum|g_i d_i| (the dot product's own rounding, u of float64).
    """
    value, magnitude, allowance, n = 0.0, 0.0, 0.0, 0
    for g, dt, a in zip(problem.gradient, d, problem.allowance, strict=True):
        if not np.any(dt):  # per-tensor directions: the other tensors contribute nothing
            n += int(np.size(g))
            continue
        g64 = np.asarray(g, dtype=np.float64).reshape(-1)
        d64 = np.asarray(dt, dtype=np.float64).reshape(-1)
        value += float(g64 @ d64)  # inf/nan here fails the check (DirectionalCheck.verdict)
        magnitude += float(np.abs(np.where(np.isfinite(g64), g64, 0.0)) @ np.abs(d64))
        allowance += a * float(np.abs(d64).sum())
        n += g64.size
    return value, allowance + n * 2.0**-53 * magnitude


def _relative(a: float, b: float) -> float:
    scale = max(abs(a), abs(b))
    return abs(a - b) / scale if scale > 0 else 0.0


@dataclass(frozen=True)
class DirectionalCheck:
    """One direction: analytic <g, d> against the numerical directional derivative.

    tolerance = numeric error bound (Richardson truncation + rounding) + analytic allowance.
    At a relu kink no smaller step avoids, the check passes if <g, d> matches either one-sided
    derivative within its bound, and is undetermined (not failed) otherwise.
    """

    scope: str
    tensor: int | None
    seed: tuple[int, ...]
    analytic: float
    numeric: float
    numeric_error: float
    allowance: float
    step: float
    kink: KinkReport | None = None
    reason: str = ""

    @property
    def tolerance(self) -> float:
        return self.numeric_error + self.allowance

    @property
    def verdict(self) -> str:
        """ "pass", "fail" (beyond doubt: adaptive.refine), or "inconclusive" (``reason`` says why)."""
        if not math.isfinite(self.analytic):
            return "fail"
        if math.isnan(self.numeric) or self.reason:
            k = self.kink
            if k is not None and not self.reason:
                for v, e in ((k.left, k.left_error), (k.right, k.right_error)):
                    if not math.isnan(v) and abs(self.analytic - v) <= e + self.allowance:
                        return "pass"
            return "inconclusive"
        return "pass" if abs(self.analytic - self.numeric) <= self.tolerance else "fail"

    def __repr__(self) -> str:
        where = f"dC/d{self.scope}" if self.tensor is not None else "dC/dp"
        rel = _relative(self.analytic, self.numeric)
        scale = max(abs(self.analytic), abs(self.numeric)) or 1.0
        return short_repr(
            "DirectionalCheck",
            f"{where} {self.verdict}",
            f"seed {list(self.seed)}, <g, d> = {self.analytic:.6g}, numeric {self.numeric:.6g}, "
            f"rel. error {fmt_sci(rel)} (tolerance {fmt_sci(self.tolerance / scale)})",
        )

    def describe(self) -> str:
        where = f"dC/d{self.scope}" if self.tensor is not None else "dC/dp (all parameters)"
        head = f"{where} along direction seed {list(self.seed)}"
        if not math.isfinite(self.analytic):
            return f"{head}: analytic <g, d> = {self.analytic} is not finite (a non-finite gradient entry)"
        if self.verdict == "inconclusive":
            why = self.kink.describe() if self.kink is not None else ""
            why += ("; " if why and self.reason else "") + self.reason
            return f"{head}: analytic <g, d> = {self.analytic:.10g}; {why} (inconclusive)"
        numeric = self.numeric
        if math.isnan(numeric):
            assert self.kink is not None
            numeric = (
                self.kink.left
                if abs(self.kink.left - self.analytic) < abs(self.kink.right - self.analytic)
                else self.kink.right
            )
        rel = _relative(self.analytic, numeric)
        scale = max(abs(self.analytic), abs(numeric)) or 1.0
        tol = self.tolerance / scale
        op = "<=" if self.verdict == "pass" else ">"
        text = (
            f"{head}: analytic <g, d> = {fmt_value(self.analytic, rel)}, numeric {fmt_value(numeric, rel)} "
            f"(directional central differences, t = {format_step(self.step)}), "
            f"relative error {fmt_sci(rel)} {op} tolerance {fmt_sci(tol)}"
        )
        return text + (f"; {self.kink.describe()}" if self.kink is not None else "")


@dataclass(frozen=True, eq=False)
class DirectionalResult(VerdictFlags):
    """All directional checks of one run; ``evaluations``: evaluations of C (noise included).

    verdict: "fail" if a check fails beyond doubt or the analytic gradient has a non-finite entry
    (``nonfinite`` names them), "inconclusive" if none fails but some could not be judged, else
    "pass".
    """

    checks: list[DirectionalCheck]
    evaluations: int
    noise: float
    nonfinite: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    __eq__ = not_a_bool
    __hash__ = None  # type: ignore[assignment]

    @property
    def verdict(self) -> str:
        return "fail" if self.nonfinite else worst(c.verdict for c in self.checks)

    @property
    def failures(self) -> list[DirectionalCheck]:
        return [c for c in self.checks if c.verdict == "fail"]

    @property
    def message(self) -> str:
        word = {"pass": "passed", "fail": "FAILED", "inconclusive": "INCONCLUSIVE"}[self.verdict]
        lines = [f"directional check {word} ({len(self.checks)} directions, {self.evaluations} cost evaluations)"]
        lines += ["  " + n for n in self.nonfinite]
        ordered = self.failures + [c for c in self.checks if c.verdict != "fail"]
        lines += ["  " + c.describe() for c in ordered]
        lines += ["  note: " + n for n in self.notes]
        return "\n".join(lines)

    def __str__(self) -> str:
        return self.message

    def __repr__(self) -> str:
        """One line: the verdict and the counts (``str()``: every direction)."""
        unsure = sum(c.verdict == "inconclusive" for c in self.checks)
        nonfinite = (
            f", {count(len(self.nonfinite), 'non-finite entry', 'non-finite entries')}" if self.nonfinite else ""
        )
        return short_repr(
            "DirectionalResult",
            self.verdict,
            f"{count(len(self.checks), 'direction')}, {len(self.failures)} failed, {unsure} inconclusive"
            f"{nonfinite}, {count(self.evaluations, 'evaluation')} of C",
        )

    def __bool__(self) -> bool:
        raise TypeError("a DirectionalResult is not a bool: use .passed (and .message to say why)")

    def raise_for_failure(self, inconclusive_ok: bool = True) -> None:
        """AssertionError with the message when the verdict is "fail" (or "inconclusive" too,
        with inconclusive_ok=False)."""
        if self.failed or (self.inconclusive and not inconclusive_ok):
            raise AssertionError(self.message)


def directional_check(
    target: Any,
    *,
    directions: int = 2,
    seed: int = 0,
    per_tensor: bool = True,
    levels: int = 3,
    floor: float = DEFAULT_FLOOR,
    **problem_kwargs: Any,
) -> DirectionalResult:
    """Check <g, d> against d/dt C(p + t d) for ``directions`` seeded directions over all parameters
    and, with per_tensor, as many per tensor. Cost: 2 levels (1 + #tensors) directions + 28
    evaluations (27 for the noise estimate, 1 for C(p)).

    Step: t = 2^round(log2 eps^(1/3)) (directions already carry the scale max(1, |p|)).
    """
    problem, counter = _counted(_problem(target, "directional_check", problem_kwargs))
    if isinstance(directions, bool) or not isinstance(directions, int) or directions < 1:
        raise ValueError(f"directions must be an int >= 1, got {directions!r}")
    if isinstance(levels, bool) or not isinstance(levels, int) or levels < 2:
        raise ValueError(f"levels must be an int >= 2 (Richardson needs two steps), got {levels!r}")
    reading = read_noise(problem, seed)
    f0, noise, note = reading.value, reading.bound, reading.note
    nonfinite = _nonfinite_entries(problem)
    centre = problem.probe(problem.params) if problem.probe is not None else None
    h = float(power_of_two(problem.eps ** (1.0 / 3.0)))
    scopes: list[int | None] = [None] + (list(range(len(problem.params))) if per_tensor else [])
    checks = []
    for k in range(directions):
        for s, tensor in enumerate(scopes):
            key = (seed, k, s)
            d = signed_gaussian_direction(
                problem.params,
                seed=np.random.SeedSequence(key).generate_state(1)[0],
                floor=floor,
                only=tensor,
            )
            analytic, allowance = _inner(problem, d)
            result = check_line(
                DirectionLine(problem, d), h, levels, noise, f0, centre, analytic, allowance, True, reading.varies
            )
            name = "all parameters" if tensor is None else problem.names[tensor]
            checks.append(
                DirectionalCheck(
                    name,
                    tensor,
                    key,
                    analytic,
                    result.value,
                    result.error,
                    allowance,
                    result.step
                    if result.kink is None or result.kink.resolved_step is None
                    else result.kink.resolved_step,
                    result.kink,
                    result.reason,
                )
            )
    return DirectionalResult(checks, counter.count, noise, nonfinite, [note] if note else [])


@dataclass(frozen=True)
class SlopeResult(VerdictFlags):
    """Taylor-remainder orders: r(t) = |C(p + t d) - C(p) - t <g, d>| (one-sided, expected order 2)
    or |(C(p + t d) - C(p - t d))/2 - t <g, d>| (symmetric, expected order 3); a wrong gradient
    leaves an O(t) term, order 1.

    Steps whose segment crosses a relu kink are left out (C is not smooth across it; ``kink`` names
    the first one), and only remainders >= 64 x their noise floor count (so noise moves each
    log2 slope by < 0.1);
    verdict from the smallest-t pairs of such points: "pass" if the last slope >= expected - 0.5;
    "fail" if the last two slopes are within 0.5 of 1 (the signature of an O(t) term: a wrong
    gradient); "inconclusive" otherwise (too few points above the noise, or slopes still
    pre-asymptotic when the remainder sinks into the noise).
    """

    symmetric: bool
    expected_order: int
    steps: list[float]
    remainders: list[float]
    floors: list[float]
    slopes: list[float]
    verdict: str
    analytic: float
    kink: Kink | None = None

    @property
    def message(self) -> str:
        kind = "symmetric" if self.symmetric else "one-sided"
        observed = f"{self.slopes[-1]:.2f}" if self.slopes else "none"
        text = (
            f"Taylor slope test ({kind}, expected order {self.expected_order}): {self.verdict}; "
            f"observed order at the smallest resolvable step {observed} "
            f"(slopes {', '.join(f'{s:.2f}' for s in self.slopes)})"
        )
        return text + (f"; {self.kink.describe()} at some steps (left out)" if self.kink is not None else "")

    def __str__(self) -> str:
        return self.message

    def __repr__(self) -> str:
        observed = f"{self.slopes[-1]:.2f}" if self.slopes else "none"
        kind = "symmetric" if self.symmetric else "one-sided"
        return short_repr(
            "SlopeResult", self.verdict, f"{kind}, expected order {self.expected_order}, observed {observed}"
        )

    def __bool__(self) -> bool:
        raise TypeError("a SlopeResult is not a bool: use .verdict / .passed / .failed")


def taylor_slope_test(
    target: Any,
    *,
    seed: int = 0,
    symmetric: bool = True,
    halvings: int = 28,
    first_step: float = 2.0**-4,
    floor: float = DEFAULT_FLOOR,
    only: int | None = None,
    **problem_kwargs: Any,
) -> SlopeResult:
    """Remainders at t = first_step 2^-k, k = 0..halvings, along one seeded direction."""
    problem = _problem(target, "taylor_slope_test", problem_kwargs)
    f0, noise = cost_noise(problem, seed)
    d = signed_gaussian_direction(problem.params, seed=seed, floor=floor, only=only)
    gd, allowance = _inner(problem, d)
    line = DirectionLine(problem, d)
    steps, remainders, floors = [], [], []
    centre = problem.probe(problem.params) if problem.probe is not None else None
    kinked: list[bool] = []
    kink: Kink | None = None
    for k in range(halvings + 1):
        t = first_step * 2.0**-k
        if centre is not None:
            ends = [line.probe(t)] + ([line.probe(-t)] if symmetric else [])
            layers = problem.probe_layers
            found = corner_at_point(centre, ends, layers) or next(
                (c for c in (crossing_inside(centre, e, layers) for e in ends) if c is not None),
                None,
            )
            kink = kink or found
            kinked.append(found is not None)
        else:
            kinked.append(False)
        fp = line.value(t)[0]
        if symmetric:
            r = abs((fp - line.value(-t)[0]) / 2 - t * gd)
            fl = noise + t * allowance
        else:
            r = abs(fp - f0 - t * gd)
            fl = 2 * noise + t * allowance
        steps.append(t)
        remainders.append(r)
        floors.append(fl)
    valid = [r > 0 and r >= 64 * fl and not kk for r, fl, kk in zip(remainders, floors, kinked, strict=True)]
    slopes = [math.log2(remainders[k] / remainders[k + 1]) for k in range(halvings) if valid[k] and valid[k + 1]]
    expected = 3 if symmetric else 2
    if slopes and slopes[-1] >= expected - 0.5:
        verdict = "pass"
    elif len(slopes) >= 2 and all(abs(s - 1.0) <= 0.5 for s in slopes[-2:]):
        verdict = "fail"
    else:
        verdict = "inconclusive"
    return SlopeResult(symmetric, expected, steps, remainders, floors, slopes, verdict, gd, kink)
