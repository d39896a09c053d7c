"""Differentiating C along one line t -> C(p + t d) at t = 0: the kernel of every difference check.

A line is a coordinate axis (one parameter entry, for full central differences) or a direction
(directional checks). ``differentiate`` returns the Richardson-extrapolated central difference
with an error bound, and falls back on smaller steps or one-sided quotients at relu kinks.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace

import numpy as np

from .adaptive import RESOLUTION, Refined, StepTable, kink_suspected, refine
from .kinks import Kink, KinkReport, corner_at_point, crossing_inside
from .problem import Problem, to_float
from .richardson import extrapolate
from .variation import line_variation

# Up to 10 halvings of the central step to step over a kink: rounding error grows as 1/h,
# so 2^-10 h (2^-27 for float64) still leaves ~eps^(1/2) relative accuracy.
MAX_HALVINGS = 10


class Line:
    """p + t d for a problem; subclasses realise the move (coordinate or direction).

    min_step: the smallest step whose move is still resolved exactly (adaptive scans stop there).
    """

    min_step: float = 0.0

    def __init__(self, problem: Problem) -> None:
        self.problem = problem
        self.work = [p.copy() for p in problem.params]

    def _move(self, t: float) -> float:
        """Set work to p + t d and return the realised t (t itself unless rounding moved it)."""
        raise NotImplementedError

    def _reset(self) -> None:
        raise NotImplementedError

    def value(self, t: float) -> tuple[float, float]:
        realised = self._move(t)
        try:
            return to_float(self.problem.cost(self.work)), realised
        finally:
            self._reset()

    def probe(self, t: float) -> list[np.ndarray]:
        assert self.problem.probe is not None
        self._move(t)
        try:
            return self.problem.probe(self.work)
        finally:
            self._reset()


class CoordinateLine(Line):
    """t -> p + t e_i for entry ``index`` (flat) of tensor ``tensor``."""

    def __init__(self, problem: Problem, tensor: int, index: int, work: list[np.ndarray] | None = None) -> None:
        self.problem = problem
        self.work = work if work is not None else [p.copy() for p in problem.params]
        self.flat = self.work[tensor].reshape(-1)
        self.index = index
        self.p0 = self.flat[index]
        # 2^8 ulps: a power-of-two step this large moves p exactly (no rounding of p + t)
        ulp = float(np.spacing(np.abs(self.p0)))
        self.min_step = max(256.0 * ulp, float(np.finfo(self.flat.dtype).tiny))

    def _move(self, t: float) -> float:
        self.flat[self.index] = self.p0 + t
        return float(self.flat[self.index]) - float(self.p0)  # exact: Sterbenz

    def _reset(self) -> None:
        self.flat[self.index] = self.p0


class DirectionLine(Line):
    """t -> p + t d for a whole direction d (a list of arrays shaped like the params)."""

    min_step = 2.0**-38  # directions.py: p + t d is exact for t >= 2^-38

    def __init__(self, problem: Problem, direction: Sequence[np.ndarray]) -> None:
        super().__init__(problem)
        self.direction = [np.asarray(d, dtype=problem.numeric_dtype) for d in direction]
        # only tensors the direction moves are touched (per-tensor directions on big networks)
        self.active = [i for i, d in enumerate(self.direction) if np.any(d)]
        self.buffer = {i: np.empty_like(self.direction[i]) for i in self.active}

    def _move(self, t: float) -> float:
        for i in self.active:
            p = self.problem.params[i]
            np.multiply(self.direction[i], p.dtype.type(t), out=self.buffer[i])
            np.add(p, self.buffer[i], out=self.work[i])
        return t

    def _reset(self) -> None:
        for i in self.active:
            self.work[i][...] = self.problem.params[i]


@dataclass(frozen=True)
class LineDerivative:
    """d/dt C(p + t d) at 0: value (nan if only one-sided estimates exist), error bound, step.

    reason: why the witness cannot be trusted here (non-empty: the verdict is inconclusive).
    """

    value: float
    error: float
    step: float
    kink: KinkReport | None = None
    reason: str = ""


def needs_refining(
    value: float,
    error: float,
    truncation: float,
    rounding: float,
    g: float,
    allowance: float,
    carries: bool,
) -> bool:
    """Whether the cheap estimate leaves the entry unsettled: not finite, disagreeing with g, or
    (for an entry that carries the gradient) coarser than RESOLUTION |g|, so that a 1e-6 relative
    error might hide in it, while truncation and rounding are not balanced (a step 2^k times
    larger or smaller would shrink the bound): the scan then looks for that step."""
    if not (math.isfinite(value) and math.isfinite(error)):
        return True
    if abs(g - value) > error + allowance:
        return True
    # truncation > 64 x rounding: a smaller step helps; truncation < rounding: the measured
    # truncation is itself at the level of rounding noise (the third difference or D_j - D_{j+1}
    # carries up to ~0.7 rounding units), so a larger step may help
    lopsided = truncation > 64.0 * rounding or truncation < rounding
    return carries and error > RESOLUTION * abs(g) and lopsided


def _central(table: StepTable, levels: int) -> tuple[float, float, float, float]:
    """(best, error bound, truncation, rounding) from quotients at h, 2h, ..., 2^(levels-1) h."""
    quotients = np.empty(levels)
    halves = np.empty(levels)
    for k in range(levels):
        quotients[k], halves[k] = table.central_quotient(k)
    ex = extrapolate(quotients, power=2)
    # each evaluation is off by <= noise, so quotient k is off by <= 2 noise / (t+ - t-)
    rounding = table.noise * float(np.sum(np.abs(ex.weights) / halves))
    return float(ex.best), float(ex.truncation) + rounding, float(ex.truncation), rounding


def _one_sided(line: Line, side: float, h: float, levels: int, noise: float, f0: float) -> tuple[float, float]:
    quotients = np.empty(levels)
    inv_steps = np.empty(levels)
    for k in range(levels):
        f, t = line.value(side * h * 2.0**k)
        quotients[k] = (f - f0) / t
        inv_steps[k] = 1.0 / abs(t)
    ex = extrapolate(quotients, power=1)
    rounding = 2.0 * noise * float(np.sum(np.abs(ex.weights) * inv_steps))
    return float(ex.best), float(ex.truncation) + rounding


def from_refined(r: Refined) -> LineDerivative:
    """A scan's outcome as a LineDerivative (kinks become KinkReports, doubts become reasons)."""
    if r.corner is not None:
        left, right = r.left, r.right
        report = KinkReport(
            r.corner,
            None,
            left.value if left is not None else math.nan,
            left.error if left is not None else math.inf,
            right.value if right is not None else math.nan,
            right.error if right is not None else math.inf,
        )
        return LineDerivative(math.nan, math.inf, r.step, report, r.reason)
    reason = r.reason if r.status == "inconclusive" else ""
    return LineDerivative(r.value, r.error, r.step, None, reason)


def check_line(
    line: Line,
    h: float,
    levels: int,
    noise: float,
    f0: float,
    centre: list[np.ndarray] | None,
    analytic: float,
    allowance: float,
    carries: bool = True,
    varies: bool = False,
) -> LineDerivative:
    """``differentiate``, then the adaptive scan (``adaptive.refine``) where the cheap estimate
    leaves the analytic value unsettled (``needs_refining``), or everywhere when the noise
    measurement saw the cost vary below the first step (``varies``: no cheap estimate is settled)."""
    table = StepTable(line, h, noise, f0, crosses=kink_guard(line, centre))
    if centre is not None and _relu_kink(line, h, levels, centre):
        return differentiate(line, h, levels, noise, f0, centre)
    value, error, truncation, rounding = _central(table, levels)
    if not math.isfinite(analytic):
        return LineDerivative(value, error, h)
    (fp1, _), (fm1, _), (fp2, _), (fm2, _) = (table.phi(j, s) for j in (0, 1) for s in (1, -1))
    suspect = centre is None and kink_suspected(fp1, fm1, fp2, fm2, f0, h, noise)
    needs = needs_refining(value, error, truncation, rounding, analytic, allowance, carries)
    refined = refine_line(line, table, analytic, allowance, suspect, varies, needs)
    return refined if refined is not None else LineDerivative(value, error, h)


def refine_line(
    line: Line, table: StepTable, g: float, allowance: float, suspect: bool, varies: bool, needs: bool
) -> LineDerivative | None:
    """``adaptive.refine`` for one line, or None when the cheap estimate stands.

    varies (the global noise reading saw the cost vary below the first step): this line is asked
    whether it varies itself (``variation.line_variation``). If it does, its scan starts at the
    reduced step and never goes above it (a coarser step averages the variation away and would
    pass a gradient that ignores it, or fail the exact one); an inconclusive verdict says so. If
    it does not, the entry is judged as if nothing varied (a corner in another coordinate
    changes nothing here). needs: the cheap estimate left the entry unsettled (or suspect).
    """
    if varies:
        found = line_variation(line, table.h0, table.f0, line.problem.eps)
        if found is not None:
            reduced = StepTable(line, found.first_step, table.noise, table.f0, max_up=0, crosses=table.crosses)
            r = refine(reduced, g, allowance, suspect, True)
            if r.reason:
                r = replace(r, reason=f"{found.describe()}; {r.reason}")
            return from_refined(r)
    if not (needs or suspect):
        return None
    return from_refined(refine(table, g, allowance, suspect))


def kink_guard(line: Line, centre: list[np.ndarray] | None) -> Callable[[float], bool] | None:
    """crosses(t) for the scan (adaptive.StepTable): a relu pre-activation changes sign between p
    and p + t d (reference cases; None without probes). The scan may go far from p (up to
    h0 2^MAX_UP), where the first step's kink check says nothing."""
    if centre is None:
        return None
    layers = line.problem.probe_layers

    def crosses(t: float) -> bool:
        return crossing_inside(centre, line.probe(t), layers) is not None

    return crosses


def _relu_kink(line: Line, h: float, levels: int, centre: list[np.ndarray]) -> bool:
    """A relu pre-activation is zero at p or changes sign within the widest step (probes)."""
    layers = line.problem.probe_layers
    span = 2.0 ** (levels - 1)
    plus, minus = line.probe(h * span), line.probe(-h * span)
    return (
        corner_at_point(centre, [plus, minus], layers) is not None
        or crossing_inside(centre, plus, layers) is not None
        or crossing_inside(centre, minus, layers) is not None
    )


def differentiate(
    line: Line, h: float, levels: int, noise: float, f0: float, centre: list[np.ndarray] | None
) -> LineDerivative:
    """Central differences with Richardson at steps h, 2h, ..., 2^(levels-1) h, relu-kink-aware.

    error = |best - previous Richardson entry| (truncation) + 2 noise sum_k |w_k| / (2 h_k)
    (rounding; noise bounds the error of one cost evaluation, see noise.noise_bound).
    centre: the relu pre-activations at t = 0 (None: no kinks to watch for).
    """
    if centre is None:
        value, error, _, _ = _central(StepTable(line, h, noise, f0), levels)
        return LineDerivative(value, error, h)
    layers = line.problem.probe_layers
    span = 2.0 ** (levels - 1)
    plus, minus = line.probe(h * span), line.probe(-h * span)
    corner = corner_at_point(centre, [plus, minus], layers)
    inside = crossing_inside(centre, plus, layers) or crossing_inside(centre, minus, layers)
    if corner is None and inside is None:
        value, error, _, _ = _central(StepTable(line, h, noise, f0), levels)
        return LineDerivative(value, error, h)
    kink: Kink = corner if corner is not None else inside  # type: ignore[assignment]
    if corner is None:
        step = h
        for _ in range(MAX_HALVINGS):
            step /= 2.0
            ends = [line.probe(step * span), line.probe(-step * span)]
            if all(crossing_inside(centre, e, layers) is None for e in ends):
                value, error, _, _ = _central(StepTable(line, step, noise, f0), levels)
                return LineDerivative(value, error, step, KinkReport(kink, step, value, error, value, error))
    sides: list[tuple[float, float]] = []
    for side in (-1.0, 1.0):
        step = h
        estimate = (float("nan"), float("inf"))
        for _ in range(MAX_HALVINGS + 1):
            if crossing_inside(centre, line.probe(side * step * span), layers) is None:
                estimate = _one_sided(line, side, step, levels, noise, f0)
                break
            step /= 2.0
        sides.append(estimate)
    (left, left_err), (right, right_err) = sides
    return LineDerivative(float("nan"), float("inf"), h, KinkReport(kink, None, left, left_err, right, right_err))
