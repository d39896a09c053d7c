"""Full central differences: every entry of every parameter tensor (or a chosen sample of entries),
Richardson, an error bound, and a step chosen by the function where the first one does not settle.

Two passes. The cheap pass takes, for every entry, C at p + h, p - h and p + 2h (default: D(h)
with a third-difference bound, 3 evaluations per entry) or at +-h, +-2h, ... (``levels``:
Richardson, 2 x levels evaluations), h = 2^round(log2 eps^(1/3) max(1, |p|)) a first guess,
vectorised over the tensor (reference cases evaluate all entries in a few batched forward
passes: Problem.batch). An entry is settled
there when the analytic value agrees within the error bound and the bound is fine enough
(``line.needs_refining``). Every other entry (a disagreement, a non-finite value, a bound far
from balanced) goes to ``adaptive.refine``: a scan of steps chosen by the function's own
differences, which passes, fails only beyond doubt, names a kink, or says why it is inconclusive.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import Any

import numpy as np

from .adaptive import StepTable, kink_suspected
from .directions import relative_direction
from .formatting import count, fmt_sci, short_repr
from .kinks import KinkReport, crossing_inside
from .line import CoordinateLine, DirectionLine, check_line, needs_refining, refine_line
from .noise import AGREEMENT, N_POINTS, noise_bound, noise_level, noise_step
from .problem import Problem, as_problem, to_float
from .richardson import extrapolate
from .steps import central_steps


@dataclass(frozen=True)
class NumericGradient:
    """A numerical gradient: per tensor, values, an absolute error bound per entry, and steps.

    kinks maps (tensor, flat index) to what was done at a kink (value nan when only one-sided
    estimates exist); inconclusive maps entries the witness cannot be trusted at to the reason;
    checked (None: every entry) holds, per tensor, the flat indices that were differentiated
    (the others are nan). evaluations: cost evaluations spent (noise estimate included).
    """

    method: str
    values: list[np.ndarray]
    errors: list[np.ndarray]
    steps: list[np.ndarray]
    noise: float
    kinks: dict[tuple[int, int], KinkReport] = field(default_factory=dict)
    inconclusive: dict[tuple[int, int], str] = field(default_factory=dict)
    checked: list[np.ndarray] | None = None
    evaluations: int = 0
    notes: list[str] = field(default_factory=list)

    def __repr__(self) -> str:
        """One line: the method and the counts (the values stay in the fields)."""
        entries = sum(int(v.size) for v in self.values) if self.checked is None else sum(len(c) for c in self.checked)
        return short_repr(
            "NumericGradient",
            self.method.split(" (")[0],
            f"{count(len(self.values), 'tensor')}, {count(entries, 'entry', 'entries')} differentiated, "
            f"{count(len(self.kinks), 'kink')}, {len(self.inconclusive)} inconclusive, "
            f"{count(self.evaluations, 'evaluation')} of C, noise {fmt_sci(self.noise)}",
        )


NOISE_DIRECTIONS = 3
NOISE_ATTEMPTS = 6
SMOOTH_SHRINK = 2.0**-8  # ECnoise: smooth variation seen -> a much smaller tau
FLAT_GROWTH = 2.0**5  # values repeat -> tau below C's resolution
CONFIRM_SHRINK = 2.0**-8  # a level is read again this much closer to p (confirm_level)
MIN_RELATIVE_TAU = 2.0**10  # in units of eps: relative moves below 2^10 ulps are not confirmed


def _noise_table(problem: Problem, line: DirectionLine, tau: float) -> np.ndarray | None:
    """C at t = s tau k, k = 1..9, on a side s whose segment crosses no relu kink (reference cases)."""
    for side in (1.0, -1.0):
        ts = side * tau * np.arange(1, N_POINTS + 1)
        if problem.probe is not None:
            near, far = line.probe(float(ts[0])), line.probe(float(ts[-1]))
            if crossing_inside(near, far, problem.probe_layers) is not None:
                continue
        return np.array([line.value(float(t))[0] for t in ts])
    return None


def _level(problem: Problem, lines: Sequence[DirectionLine], tau: float, f0: float) -> tuple[float, str] | None:
    """(noise bound, ECnoise verdict) from the tables at tau, or None when no side is kink-free."""
    tables = [t for t in (_noise_table(problem, line, tau) for line in lines) if t is not None]
    if not tables:
        return None
    finite = [t for t in tables if np.all(np.isfinite(t))]
    if not finite:
        return math.inf, "non-finite"
    level = noise_level(finite, f0)
    return noise_bound(finite, f0, problem.eps), level.verdict


@dataclass(frozen=True)
class NoiseReading:
    """C(p), a bound on the rounding error of one evaluation near p, a note ("" when a level was
    found and confirmed), and varies: the cost was seen to vary below the first tau (a corner or
    a ripple near p; ``confirm_level``), so no step's error model may be taken on trust alone."""

    value: float
    bound: float
    note: str
    varies: bool


def measure_noise(problem: Problem, seed: int = 0) -> tuple[float, float, str]:
    """(C(p), bound, note) of ``read_noise``."""
    r = read_noise(problem, seed)
    return r.value, r.bound, r.note


def read_noise(problem: Problem, seed: int = 0) -> NoiseReading:
    """C(p), a bound on the rounding error of one evaluation near p, and what was seen.

    ECnoise (noise.noise_level) on NOISE_DIRECTIONS seeded directions whose components are scaled
    to each |p_i| (directions.relative_direction), so that parameters at 1e6 and at 1e-6 move by
    the same relative amount; tau shrinks by 2^8 while the tables still show smooth variation
    and grows while they are flat, for up to NOISE_ATTEMPTS tables. note is "" when a noise level
    was found, else says what was used instead (an upper bound: the smallest estimate).

    Rounding noise does not depend on tau (each evaluation rounds on its own), but anything the
    function does between the sample points does: a corner a few tau from p (its k-th differences
    look like noise, level J tau) or a ripple of period below tau (level its amplitude). So a
    level is accepted only when the tables at tau 2^-8 (``confirm_level``) read the same level
    within ECnoise's factor AGREEMENT; a lower level there replaces it (and is confirmed in turn),
    and the note says the cost varies below the step.
    """
    f0 = problem.value_at_point()
    lines = [
        DirectionLine(problem, relative_direction(problem.params, seed=int(s)))
        for s in np.random.SeedSequence([seed, 7]).generate_state(NOISE_DIRECTIONS)
    ]
    tau = noise_step(problem.eps)
    bound, note = 2.0 * problem.eps * abs(f0), "noise: no kink-free segment found; floor 2 eps |C| used"
    for _ in range(NOISE_ATTEMPTS):
        found = _level(problem, lines, tau, f0)
        if found is None:
            tau *= SMOOTH_SHRINK
            continue
        level, verdict = found
        if verdict == "noise":
            confirmed, varies = confirm_level(problem, lines, tau, level, f0)
            return NoiseReading(f0, confirmed, varies, bool(varies))
        if math.isfinite(level):
            bound = level
            note = (
                f"noise: no difference order looked like noise (last tau = {tau:.3g}, {verdict}); "
                "the smallest estimate was used"
            )
        tau *= FLAT_GROWTH if verdict == "flat" else SMOOTH_SHRINK
    return NoiseReading(f0, bound, note, False)


def confirm_level(
    problem: Problem, lines: Sequence[DirectionLine], tau: float, level: float, f0: float
) -> tuple[float, str]:
    """(the confirmed level, note): the level read at tau again at tau 2^-8 (CONFIRM_SHRINK), down
    to relative moves of MIN_RELATIVE_TAU (2^10 ulps: the rounding there is still independent
    from point to point). A level that falls by more than AGREEMENT was not rounding: the smaller
    one replaces it and is confirmed in turn; the note names both taus (the scale the cost varies
    below). A smaller tau whose tables are flat or not finite leaves the level as it is."""
    note = ""
    while tau * CONFIRM_SHRINK >= MIN_RELATIVE_TAU * problem.eps:
        found = _level(problem, lines, tau * CONFIRM_SHRINK, f0)
        if found is None or not math.isfinite(found[0]) or found[1] == "flat":
            break
        smaller, _ = found
        if smaller * AGREEMENT >= level:
            break
        note = (
            f"noise: the level read at tau = {tau:.3g} ({level:.3g}) fell to {smaller:.3g} at tau = "
            f"{tau * CONFIRM_SHRINK:.3g}: the cost varies below the first step (a corner or a ripple "
            "near the point); the smaller level is used"
        )
        level, tau = smaller, tau * CONFIRM_SHRINK
    return level, note


def cost_noise(problem: Problem, seed: int = 0) -> tuple[float, float]:
    """(C(p), bound on the rounding error of one evaluation of C near p): see measure_noise."""
    f0, noise, _ = measure_noise(problem, seed)
    return f0, noise


def carrying(g: np.ndarray) -> np.ndarray:
    """Entries that carry the gradient: finite and nonzero. Only these get a step search for
    resolution (the aim: a 1e-6 relative error detectable with margin); an entry whose analytic
    value is 0 has no relative error to resolve."""
    return np.isfinite(g) & (g != 0)


def _cheap_pass(
    problem: Problem,
    t: int,
    idx: np.ndarray,
    h: np.ndarray,
    offsets: Sequence[tuple[int, int]],
    work: list[np.ndarray],
) -> tuple[np.ndarray, np.ndarray]:
    """C(p + side 2^j h e_i) for every (j, side) in offsets: values and realised steps, (len, n)."""
    flat = work[t].reshape(-1)
    cost = problem.cost
    n = idx.size
    values = np.empty((len(offsets), n))
    realised = np.empty((len(offsets), n))
    if problem.batch is not None and n:
        base = flat[idx]
        for r, (j, side) in enumerate(offsets):
            realised[r] = (base + side * h * 2.0**j) - base  # exact (Sterbenz)
            values[r] = problem.batch(t, idx, realised[r])
        return values, realised
    moves = [(r, side * 2.0**j) for r, (j, side) in enumerate(offsets)]
    for col in range(n):
        i = int(idx[col])
        p0 = flat[i]
        base = float(p0)
        hc = float(h[col])
        for r, factor in moves:
            flat[i] = p0 + factor * hc
            realised[r, col] = float(flat[i]) - base  # exact (Sterbenz)
            values[r, col] = to_float(cost(work))
        flat[i] = p0
    return values, realised


THIRD = ((0, 1), (0, -1), (1, 1))  # phi(h), phi(-h), phi(2h): the default cheap pass


def _third_difference(
    values: np.ndarray, realised: np.ndarray, f0: float, noise: float
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(D(h), truncation bound, rounding bound) from phi(h), phi(-h), phi(2h) and phi(0).

    D(h) = (phi(h) - phi(-h)) / 2h = phi' + h^2 phi3 / 6 + O(h^4) (phi3, phi4: third and fourth
    derivatives). The third difference
        Delta3 = phi(2h) - 3 phi(h) + 3 phi(0) - phi(-h) = h^3 phi3 + h^4 phi4 / 2 + ...
    estimates the truncation h^2 phi3 / 6 = Delta3 / 6h (Gill, Murray, Saunders & Wright's use of a third
    difference), whose own rounding is <= 8 noise / 6h. Bound, with a factor 2 on the estimate:
    truncation 2 |Delta3| / 6h, plus rounding 2 (8 noise) / 6h + noise / h (that of D). A cheap-pass bound that is
    wrong can only send an entry to the scan (adaptive.refine), which alone may fail it.
    """
    fp, fm, f2 = values
    h = (realised[0] - realised[1]) / 2.0
    d = (fp - fm) / (realised[0] - realised[1])
    delta3 = f2 - 3.0 * fp + 3.0 * f0 - fm
    return d, np.abs(delta3) / (3.0 * h), (1.0 + 16.0 / 6.0) * noise / h


def central_differences(
    target: Any,
    *,
    levels: int | None = None,
    seed: int = 0,
    entries: Mapping[int, Sequence[int] | np.ndarray] | None = None,
) -> NumericGradient:
    """dC/dp for every entry (or, with entries={tensor: flat indices}, those only).

    Cheap pass, levels=None (default): D(h) with a third-difference bound (``_third_difference``),
    3 evaluations per entry; levels >= 2: central differences at h and its doubles, Richardson,
    bound |best - previous| + rounding, 2 levels evaluations per entry. Then ``adaptive.refine``
    wherever that leaves the problem's own analytic gradient unsettled (module docstring).
    Reference cases with relu probe every step for pre-activations that change sign
    (``line.differentiate``, Richardson with ``levels`` or 2).
    """
    problem = as_problem(target)
    if levels is not None and (isinstance(levels, bool) or not isinstance(levels, int) or levels < 2):
        raise ValueError(f"levels must be None or an int >= 2 (Richardson needs two steps), got {levels!r}")
    counter = [0]
    inner = problem.cost

    def counted(ps: Sequence[np.ndarray]) -> Any:
        counter[0] += 1
        return inner(ps)

    problem = replace(problem, cost=counted)
    reading = read_noise(problem, seed)
    f0, noise, note, varies = reading.value, reading.bound, reading.note, reading.varies
    centre = problem.probe(problem.params) if problem.probe is not None else None
    work = [p.copy() for p in problem.params]
    values, errors, steps, checked = [], [], [], []
    kinks: dict[tuple[int, int], KinkReport] = {}
    doubts: dict[tuple[int, int], str] = {}
    for t, p in enumerate(problem.params):
        idx = _indices(entries, t, p.size)
        checked.append(idx)
        g = np.asarray(problem.gradient[t], dtype=np.float64).reshape(-1)
        carries = carrying(g)
        allowance = problem.allowance[t]
        h_all = central_steps(p, problem.numeric_dtype).reshape(-1)
        val = np.full(p.size, np.nan)
        err = np.full(p.size, np.inf)
        used = h_all.copy()
        if centre is None:
            offsets = THIRD if levels is None else [(k, sd) for k in range(levels) for sd in (1, -1)]
            raw, realised = _cheap_pass(problem, t, idx, h_all[idx], offsets, work)
            if problem.batch is not None:
                counter[0] += raw.size  # batched evaluations bypass the counted cost
            if levels is None:
                best, trunc, rounding = _third_difference(raw, realised, f0, noise)
            else:
                plus, minus = raw[0::2], raw[1::2]
                halves = (realised[0::2] - realised[1::2]) / 2.0
                ex = extrapolate((plus - minus) / (2.0 * halves), power=2)
                rounding = noise * np.sum(np.abs(ex.weights)[:, None] / halves, axis=0)
                best, trunc = np.asarray(ex.best), np.asarray(ex.truncation)
            for col, i in enumerate(idx):
                i = int(i)
                b, tr, ro = float(best[col]), float(trunc[col]), float(rounding[col])
                val[i], err[i] = b, tr + ro
                if not math.isfinite(g[i]):
                    continue
                if levels is None:  # a corner shows as a third difference far above its rounding
                    suspect = tr > 64.0 * ro
                else:
                    suspect = kink_suspected(
                        raw[0, col], raw[1, col], raw[2, col], raw[3, col], f0, float(halves[0, col]), noise
                    )
                needs = suspect or needs_refining(b, tr + ro, tr, ro, float(g[i]), allowance, bool(carries[i]))
                if needs or varies:
                    line = CoordinateLine(problem, t, i, work)
                    table = StepTable(line, float(h_all[i]), noise, f0)
                    for r, (j, sd) in enumerate(offsets):
                        table.seed(j, sd, float(raw[r, col]), float(realised[r, col]))
                    refined = refine_line(line, table, float(g[i]), allowance, suspect, varies, needs)
                    if refined is None:
                        continue
                    d = refined
                    val[i], err[i], used[i] = d.value, d.error, d.step
                    if d.kink is not None:
                        kinks[(t, i)] = d.kink
                    elif d.reason:
                        doubts[(t, i)] = d.reason
        else:
            for i in idx:
                i = int(i)
                line = CoordinateLine(problem, t, i, work)
                gi = float(g[i]) if math.isfinite(g[i]) else math.nan
                d = check_line(
                    line, float(h_all[i]), levels or 2, noise, f0, centre, gi, allowance, bool(carries[i]), varies
                )
                val[i], err[i], used[i] = d.value, d.error, d.step
                if d.kink is not None:
                    kinks[(t, i)] = d.kink
                    if d.kink.resolved_step is not None:
                        used[i] = d.kink.resolved_step
                elif d.reason:
                    doubts[(t, i)] = d.reason
        values.append(val.reshape(p.shape))
        errors.append(err.reshape(p.shape))
        steps.append(used.reshape(p.shape))
    return NumericGradient(
        "central differences (third-difference bound, adaptive step)"
        if levels is None
        else f"central differences (Richardson, {levels} levels, adaptive step)",
        values,
        errors,
        steps,
        noise,
        kinks,
        doubts,
        None if entries is None else checked,
        counter[0],
        [note] if note else [],
    )


def _indices(entries: Mapping[int, Any] | None, t: int, size: int) -> np.ndarray:
    if entries is None:
        return np.arange(size)
    chosen = np.asarray(entries.get(t, ()), dtype=np.int64).reshape(-1)
    if chosen.size and (chosen.min() < 0 or chosen.max() >= size):
        bad = int(chosen[(chosen < 0) | (chosen >= size)][0])
        raise ValueError(f"entries[{t}] holds flat index {bad}, but tensor {t} has {size} entries")
    return np.unique(chosen)
