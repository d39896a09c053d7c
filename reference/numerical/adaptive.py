"""Steps chosen by the function, not by |p|: a scan of difference quotients along one line, with an
error model that says when its estimate can be trusted, and a verdict that never blames a right
gradient on an untrusted witness.

Error model (phi(t) = C(p + t d), sigma = ``noise``: a bound on the error of one evaluation):
  central quotient  D_j = (phi(h_j) - phi(-h_j)) / (2 h_j),  h_j = h0 2^j,
      = phi' + c1 h^2 + c2 h^4 + ... + rounding, |rounding| <= sigma / h_j;
  Richardson        R_j = (4 D_j - D_{j+1}) / 3, truncation O(h^4), bounded by
                    T_j = |R_j - D_j| = |D_j - D_{j+1}| / 3 (the h^2 term of D_j), rounding
                    <= (4/3) sigma / h_j + (1/3) sigma / (2 h_j) = 1.5 sigma / h_j;
      error_j = T_j + 1.5 sigma / h_j.
  The bound holds only in the asymptotic regime, which is *tested*, not assumed: with
  a = D_j - D_{j+1} and b = D_{j+1} - D_{j+2}, the model predicts b = 4a - 180 c2 h^4, so step j is
  trusted when |b - 4a| <= |b| / 2 + 6.75 sigma / h_j (the rounding of 4a and b: 4 x 1.5 + 0.75
  sigma / h_j). A step larger than the scale the function varies on (p ~ 1e-6 stepped by 8e-6, a
  ripple, a kink inside the step), or a non-finite value, fails the test.
  one-sided quotients F_j = (phi(+-h_j) - phi(0)) / (+-h_j) = phi'(0+-) + c1 h + c2 h^2 + ...:
      R2_j = 2 F_j - F_{j+1} (no h term), R3 = (4 R2_j - R2_{j+1}) / 3 = (8 F_j - 6 F_{j+1} + F_{j+2}) / 3,
      T = |R3 - R2_j| (the h^2 term of R2_j), rounding <= 2 sigma (8/h + 3/h + 1/(4h)) / 3 = 7.5 sigma / h_j;
      trusted when |b - 2a| <= |b| / 2 + 7.5 sigma / h_j (a = F_j - F_{j+1}: 3 sigma / h_j,
      b = F_{j+1} - F_{j+2}: 1.5 sigma / h_j).

Search: from j = 0 downwards until a trusted step balances truncation against rounding
(T_j <= 4 x rounding: smaller steps only add rounding), then upwards while rounding dominates
and the bound is coarser than RESOLUTION |g| (a function varying on a scale far above |p|). Going
up, a step whose differences are all within rounding (T_j <= rounding / 3) passes the asymptotic test
vacuously: it says nothing about the expansion that far from p (a saturated unit is flat there),
so it never replaces a trusted step found closer to p.

Verdict for an entry whose analytic value g the cheap pass did not confirm:
  pass         a trusted central estimate agrees with g within error + allowance;
  fail         only when the error model leaves no doubt: two adjacent trusted central steps disagree
               with g, and so do the trusted one-sided estimates on *both* sides (so no kink at p
               can explain it);
  kink         one-sided estimates, both trusted, disagree with each other beyond their bounds:
               C has a corner at p; g is compared with each side (match: pass, else inconclusive);
  inconclusive otherwise, with the reason (no trusted step, non-finite cost near p, one-sided
               estimates too coarse to tell a kink from an error).
Three overrides (issue 21):
  jump         C(p +- h) - C(p) at the three finest usable steps stays level as h halves (a
               continuous C, corners included, halves it), each above 64 noise so that noise
               cannot fake the ratio: C jumps at p, no derivative exists: inconclusive, never a
               pass or a corner (``jump``);
  varies       a trusted estimate at a finer step disagrees with the chosen one beyond both bounds
               (checked before every failure, and before a pass when the noise reading saw the
               cost vary below the first step): the function varies between the two scales, the
               coarser error model does not hold: inconclusive (``finer_conflict``);
  relu kinks   an estimate using a point across a known kink (``StepTable.crosses``) is not trusted.
A kink is offered as an excuse ("a one-sided derivative agrees") only when the second differences
showed a corner (``suspect``).
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from typing import Protocol

from .steps import format_step

SLACK = 0.5
MAX_DOWN = 44  # h0 2^-44 ~ 4e-19 max(1, |p|): the line's min_step (2^8 ulps of p) usually stops first
MAX_UP = 30
RESOLUTION = 2.0**-21  # settled once the bound resolves a 1e-6 relative error twice over (~4.8e-7 |g|)
BALANCE = 4.0


class LineLike(Protocol):
    """What the scan needs from a line: phi(t) and the step actually taken (see line.Line)."""

    min_step: float

    def value(self, t: float) -> tuple[float, float]: ...


@dataclass(frozen=True)
class Estimate:
    """A Richardson estimate at base step ``step``: value, error bound, trusted (asymptotic test)."""

    value: float
    error: float
    step: float
    truncation: float
    rounding: float
    trusted: bool
    finite: bool


@dataclass(frozen=True)
class Corner:
    """Non-smoothness found from the differences themselves (any callable, no probe)."""

    at_point: bool

    def describe(self) -> str:
        if self.at_point:
            return "corner at the point (one-sided differences disagree beyond their error bounds)"
        return "non-smooth within every resolvable step (central differences never consistent)"


@dataclass(frozen=True)
class Refined:
    """The outcome of the scan for one entry: status "pass", "fail", "kink" or "inconclusive"."""

    status: str
    value: float
    error: float
    step: float
    reason: str = ""
    left: Estimate | None = None
    right: Estimate | None = None
    corner: Corner | None = None


class StepTable:
    """phi at +-h0 2^j, evaluated lazily and cached; central and one-sided estimates from it."""

    def __init__(
        self,
        line: LineLike,
        h0: float,
        noise: float,
        f0: float,
        max_up: int = MAX_UP,
        crosses: Callable[[float], bool] | None = None,
    ) -> None:
        """max_up: the coarsest step is h0 2^max_up (0: never above h0, for a line whose cost
        varies below its first step, variation.line_variation). crosses(t): whether the segment
        from p to p + t d crosses a known kink (relu probes of reference cases); an estimate that
        uses such a point is never trusted (C is not smooth across it)."""
        self.line, self.h0, self.noise, self.f0, self.max_up = line, h0, noise, f0, max_up
        self.crosses = crosses
        self.crossed: set[tuple[int, int]] = set()
        self.cache: dict[tuple[int, int], tuple[float, float]] = {}
        self.centrals: dict[int, Estimate] = {}
        self.nonfinite: tuple[float, float] | None = None

    def seed(self, j: int, side: int, value: float, realised: float) -> None:
        self.cache[(j, side)] = (value, realised)

    def usable(self, j: int) -> bool:
        return self.h0 * 2.0**j >= self.line.min_step

    def phi(self, j: int, side: int) -> tuple[float, float]:
        key = (j, side)
        if key not in self.cache:
            value, realised = self.line.value(side * self.h0 * 2.0**j)
            if not math.isfinite(value) and self.nonfinite is None:
                self.nonfinite = (side * self.h0 * 2.0**j, value)
            if self.crosses is not None and self.crosses(side * self.h0 * 2.0**j):
                self.crossed.add(key)
            self.cache[key] = (value, realised)
        return self.cache[key]

    def smooth(self, j: int, sides: tuple[int, ...]) -> bool:
        """No point of steps j..j+2 on these sides lies across a known kink."""
        return not any((j + k, side) in self.crossed for k in range(3) for side in sides)

    def central_quotient(self, j: int) -> tuple[float, float]:
        (fp, tp), (fm, tm) = self.phi(j, 1), self.phi(j, -1)
        span = tp - tm
        return ((fp - fm) / span if span > 0 else math.nan), span / 2

    def one_sided_quotient(self, j: int, side: int) -> tuple[float, float]:
        f, t = self.phi(j, side)
        return ((f - self.f0) / t if t != 0 else math.nan), abs(t)

    def central(self, j: int) -> Estimate:
        """The Richardson estimate at h0 2^j (kept in ``centrals``)."""
        (d0, h), (d1, _), (d2, _) = (self.central_quotient(j + k) for k in range(3))
        finite = all(math.isfinite(v) for v in (d0, d1, d2)) and h > 0
        if not finite:
            e = Estimate(math.nan, math.inf, self.h0 * 2.0**j, math.inf, math.inf, False, False)
        else:
            s = self.noise / h
            a, b = d0 - d1, d1 - d2
            trusted = abs(b - 4.0 * a) <= SLACK * abs(b) + 6.75 * s and self.smooth(j, (1, -1))
            truncation, rounding = abs(a) / 3.0, 1.5 * s
            e = Estimate(d0 + a / 3.0, truncation + rounding, h, truncation, rounding, trusted, True)
        self.centrals[j] = e
        return e

    def one_sided(self, j: int, side: int) -> Estimate:
        (f0, h), (f1, _), (f2, _) = (self.one_sided_quotient(j + k, side) for k in range(3))
        finite = all(math.isfinite(v) for v in (f0, f1, f2)) and h > 0 and math.isfinite(self.f0)
        if not finite:
            return Estimate(math.nan, math.inf, self.h0 * 2.0**j, math.inf, math.inf, False, False)
        s = self.noise / h
        a, b = f0 - f1, f1 - f2
        trusted = abs(b - 2.0 * a) <= SLACK * abs(b) + 7.5 * s and self.smooth(j, (side,))
        r2, r2_next = f0 + a, f1 + b  # 2 F_j - F_{j+1}: the O(h) term removed
        r3 = r2 + (r2 - r2_next) / 3.0  # (8 F_j - 6 F_{j+1} + F_{j+2}) / 3: O(h^2) removed too
        truncation = abs(r3 - r2)
        rounding = 7.5 * s  # 2 noise (8/h + 6/(2h) + 1/(4h)) / 3
        return Estimate(r3, truncation + rounding, h, truncation, rounding, trusted, True)


def _scan(table: StepTable, get: Callable[[int], Estimate], g: float) -> tuple[dict[int, Estimate], int | None]:
    """Estimates by j (down from 0 until balanced, then up while rounding-bound); the best trusted j."""
    found: dict[int, Estimate] = {}
    best: int | None = None
    j = 0
    while j >= -MAX_DOWN and table.usable(j):
        e = found[j] = get(j)
        if e.trusted and (best is None or e.error < found[best].error):
            best = j
        if e.trusted and e.truncation <= BALANCE * e.rounding:
            break
        if best is not None and e.rounding > 64.0 * found[best].error:
            break
        j -= 1
    coarse = best is None or (
        found[best].truncation * 16.0 < found[best].rounding and found[best].error > RESOLUTION * abs(g)
    )
    if coarse:
        j = 1
        while j <= table.max_up:
            e = found[j] = get(j)
            if not e.trusted:
                if best is not None:
                    break
                j += 1
                continue
            if best is not None and e.truncation <= e.rounding / 3.0:
                # flat to rounding at this scale: a = D_j - D_{j+1} is within its own rounding
                # (s + s/2, so truncation |a|/3 <= s/2 = rounding/3), the h^2 law passed vacuously,
                # and nothing says the expansion holds this far from p (a saturated unit: its 1e-19
                # derivative "disproven" by a flat plateau at h = 2^16); a coarser step may resolve it
                j += 1
                continue
            if best is None or e.error < found[best].error:
                best = j
            if e.truncation * BALANCE >= e.rounding:
                break
            j += 1
    return found, best


def _agrees(e: Estimate, g: float, allowance: float) -> bool:
    return abs(g - e.value) <= e.error + allowance


def kink_suspected(fp1: float, fm1: float, fp2: float, fm2: float, f0: float, h: float, noise: float) -> bool:
    """Second differences S(h) = (phi(h) + phi(-h) - 2 phi(0)) / h that do not scale like h.

    Smooth: S(h) = h phi'' + O(h^3), so S(2h) - 2 S(h) = h^3 phi'''' / 2, tiny. A corner at 0 with
    jump J = phi'(0+) - phi'(0-): S(h) = J + O(h), so S(2h) - 2 S(h) = -J. Flagged when
    |S(2h) - 2 S(h)| > |S(2h)| / 2 + 10 noise / h (rounding: S(h) <= 4 noise / h, S(2h) <= 2 noise / h).
    Free: the cheap pass already has phi(+-h), phi(+-2h) and phi(0); a flag only costs a scan.
    """
    s1 = (fp1 + fm1 - 2.0 * f0) / h
    s2 = (fp2 + fm2 - 2.0 * f0) / (2.0 * h)
    return bool(abs(s2 - 2.0 * s1) > SLACK * abs(s2) + 10.0 * noise / h)


def _corner_verdict(
    lo: Estimate, hi: Estimate, g: float, allowance: float, table: StepTable, at_point: bool, why: str
) -> Refined:
    """At a corner: pass with the one-sided derivative g matches, else inconclusive (never fail)."""
    corner = Corner(at_point=at_point)
    for side in (lo, hi):
        if _agrees(side, g, allowance):
            return Refined("kink", side.value, side.error, side.step, "", lo, hi, corner)
    return Refined("kink", math.nan, math.inf, table.h0, why, lo, hi, corner)


def _apart(lo: Estimate | None, hi: Estimate | None) -> bool:
    """Both one-sided estimates trusted and different beyond their bounds: a corner at p."""
    return lo is not None and hi is not None and abs(lo.value - hi.value) > lo.error + hi.error


JUMP_RATIO = 0.75  # |phi(h/2) - phi(0)| / |phi(h) - phi(0)|: 1/2 where C is continuous, 1 at a jump
JUMP_NOISE = 64.0  # the differences must stand this far above the noise (so the ratio is not noise's)
JUMP_LEVELS = 3
COARSEST = 2.0**-10  # the finer-step check stops where rounding alone exceeds this relative bound


def finest_usable(table: StepTable) -> int:
    """The smallest j >= -MAX_DOWN whose step the line still resolves exactly."""
    j = 0
    while j > -MAX_DOWN and table.usable(j - 1):
        j -= 1
    return j


def jump(table: StepTable, side: int) -> str:
    """ "" unless C jumps at p on this side: the differences phi(+-h_j) - phi(0) at the JUMP_LEVELS
    finest usable steps stay level as h halves (one-sided quotients growing like 1/h) instead of
    halving (continuous C: phi(h) - phi(0) = O(h), a corner included), each above JUMP_NOISE noise.
    Else a description naming the quotients and the jump."""
    low = finest_usable(table)
    js = [j for j in range(low, low + JUMP_LEVELS) if table.usable(j)]
    if len(js) < JUMP_LEVELS:
        return ""
    deltas = [table.phi(j, side)[0] - table.f0 for j in js]
    if not all(math.isfinite(d) and abs(d) > JUMP_NOISE * table.noise for d in deltas):
        return ""
    if not all(abs(deltas[k]) >= JUMP_RATIO * abs(deltas[k + 1]) for k in range(len(deltas) - 1)):
        return ""
    quotients = ", ".join(f"{table.one_sided_quotient(j, side)[0]:.3g}" for j in js)
    steps = f"h = {format_step(table.h0 * 2.0 ** js[0])} .. {format_step(table.h0 * 2.0 ** js[-1])}"
    label = "right" if side > 0 else "left"
    return (
        f"C jumps at the point: the {label} quotients grow like 1/h ({quotients} at {steps}; "
        f"C(p{'+' if side > 0 else '-'}h) - C(p) stays near {deltas[0]:.3g}): no derivative exists there"
    )


def finer_conflict(table: StepTable, found: dict[int, Estimate], best: int, g: float) -> Estimate | None:
    """A trusted central estimate at a step finer than ``best`` that disagrees with it beyond both
    bounds: the function varies on a scale between the two steps (a ripple, noise that is not
    rounding), so the coarser estimate's error model does not hold there. The descent stops
    where rounding alone (it only grows as h shrinks) exceeds max(|g - best|, COARSEST max(|g|,
    |best|)): finer steps could not tell g from the coarse estimate."""
    e_best = found[best]
    limit = max(abs(g - e_best.value), COARSEST * max(abs(g), abs(e_best.value)))
    j = best - 1
    while j >= -MAX_DOWN and table.usable(j):
        e = found[j] = found.get(j) or table.central(j)
        if e.rounding > limit:
            break
        if e.trusted and abs(e.value - e_best.value) > e.error + e_best.error:
            return e
        j -= 1
    return None


def _varies(coarse: Estimate, fine: Estimate, g: float, allowance: float) -> Refined:
    matches = "; the analytic value matches the finer one" if _agrees(fine, g, allowance) else ""
    reason = (
        f"the function varies faster than the steps resolve: central differences at "
        f"h = {format_step(coarse.step)} ({coarse.value:.10g}) and h = {format_step(fine.step)} "
        f"({fine.value:.10g}) both follow their error model and disagree beyond their bounds{matches}"
    )
    return Refined("inconclusive", fine.value, fine.error, fine.step, reason)


def refine(table: StepTable, g: float, allowance: float, suspect: bool = False, varies: bool = False) -> Refined:
    """Judge g on one line by the search and verdict rules of the module docstring.

    suspect: the cheap pass saw the second differences of a corner (``kink_suspected``): the
    one-sided estimates are compared even when the central estimate agrees with g.
    varies: the noise measurement saw the cost vary below the first step (central.confirm_level):
    a pass is also checked against finer steps (``finer_conflict``), as a failure always is.
    A jump at p (``jump``) overrides every verdict: never a pass, never a corner. Its test (6
    evaluations) is skipped for a pass when some central estimate at a step no coarser than h0 was
    trusted: a jump J puts J / 2h into every central quotient there, so D_j - D_{j+1} = J / 4h and
    D_{j+1} - D_{j+2} = J / 8h fail the asymptotic test (|b - 4a| = 7J / 8h against
    |b| / 2 + 6.75 noise / h) unless J < 8.4 noise, far below the JUMP_NOISE a jump needs.
    """
    verdict = _verdict(table, g, allowance, suspect, varies)
    if verdict.status == "pass" and any(j <= 0 and e.trusted for j, e in table.centrals.items()):
        return verdict
    for direction in (-1, 1):
        why = jump(table, direction)
        if why:
            return Refined("inconclusive", math.nan, math.inf, table.h0, why)
    return verdict


def _verdict(table: StepTable, g: float, allowance: float, suspect: bool, varies: bool) -> Refined:
    """``refine`` without the jump test."""
    central, best = _scan(table, table.central, g)
    confirmed = False
    if best is not None:
        e = central[best]
        agrees = _agrees(e, g, allowance)
        if not agrees or varies:
            finer = finer_conflict(table, central, best, g)
            if finer is not None:
                return _varies(e, finer, g, allowance)
        if agrees:
            if not suspect:
                return Refined("pass", e.value, e.error, e.step)
            lo, hi = _best_one_sided(table, -1, g), _best_one_sided(table, 1, g)
            if lo is None or hi is None or not _apart(lo, hi):
                return Refined("pass", e.value, e.error, e.step)
            why = "analytic matches neither one-sided derivative (central differences average them)"
            return _corner_verdict(lo, hi, g, allowance, table, True, why)
        # a neighbouring trusted step must confirm the disagreement (one more evaluation pair)
        up = central.get(best + 1) or table.central(best + 1)
        down = central.get(best - 1)
        confirmed = any(o is not None and o.trusted and not _agrees(o, g, allowance) for o in (up, down))
    left, right = _best_one_sided(table, -1, g), _best_one_sided(table, 1, g)
    if left is not None and right is not None and _apart(left, right):
        return _corner_verdict(left, right, g, allowance, table, True, "analytic matches neither one-sided derivative")
    sides = [s for s in (left, right) if s is not None]
    if best is not None:
        e = central[best]
        if (
            confirmed
            and left is not None
            and right is not None
            and not _agrees(left, g, allowance)
            and not _agrees(right, g, allowance)
        ):
            return Refined("fail", e.value, e.error, e.step, "", left, right)
        where = f"central differences at h = {format_step(e.step)} disagree with the analytic value"
        if not confirmed:
            reason = f"{where}, but the neighbouring steps do not confirm it"
        elif suspect:
            reason = f"{where}, but one-sided differences cannot rule out a kink at this resolution"
        else:
            bounds = ", ".join(
                f"{label} {'untrusted' if s is None else f'+-{s.error:.3g}'}"
                for label, s in (("left", left), ("right", right))
            )
            reason = f"{where}, but one-sided differences are too coarse to confirm it ({bounds})"
        if suspect:  # the second differences showed a corner: only then is a kink a plausible excuse
            for side in sides:
                if _agrees(side, g, allowance):
                    reason = f"{where}; a one-sided derivative ({side.value:.10g}) agrees: a kink too small to resolve?"
        return Refined("inconclusive", e.value, e.error, e.step, reason, left, right)
    # no trusted central step: a kink near p, or a scale the steps cannot resolve
    for side in sides:
        if _agrees(side, g, allowance):
            return Refined("kink", side.value, side.error, side.step, "", left, right, Corner(at_point=False))
    if table.nonfinite is not None:
        t, v = table.nonfinite
        reason = f"cost not finite near the point (C = {v} at step {t:.3g})"
    else:
        floor = max(table.h0 * 2.0**-MAX_DOWN, table.line.min_step)
        reason = (
            f"no step from {floor:.3g} to {table.h0 * 2.0**table.max_up:.3g} gives differences consistent with "
            "their error model: the cost varies on a scale the steps cannot resolve, or is not smooth"
        )
    return Refined("inconclusive", math.nan, math.inf, table.h0, reason, left, right)


def _best_one_sided(table: StepTable, side: int, g: float) -> Estimate | None:
    found, best = _scan(table, lambda j: table.one_sided(j, side), g)
    return found[best] if best is not None else None
