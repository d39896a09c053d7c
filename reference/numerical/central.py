"""Full central differences: every entry of every parameter tensor, Richardson, an error bound.

Cost: 2 x levels evaluations of C per parameter (plus two probes per parameter at relu layers),
so this is for small networks; large ones use ``directional``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np

from .directions import signed_gaussian_direction
from .kinks import KinkReport, crossing_inside
from .line import CoordinateLine, DirectionLine, differentiate
from .noise import N_POINTS, noise_bound, noise_step
from .problem import Problem, as_problem
from .steps import central_steps


@dataclass(frozen=True)
class NumericGradient:
    """A numerical gradient: per tensor, values, an absolute error bound per entry, and steps.

    At a relu kink that no smaller central step avoids, the value is nan and ``kinks`` holds the
    one-sided estimates; kinks maps (tensor, flat index) to what was done there.
    """

    method: str
    values: list[np.ndarray]
    errors: list[np.ndarray]
    steps: list[np.ndarray]
    noise: float
    kinks: dict[tuple[int, int], KinkReport] = field(default_factory=dict)


NOISE_DIRECTIONS = 3
NOISE_ATTEMPTS = 6


def _noise_table(problem: Problem, line: DirectionLine, tau: float) -> np.ndarray | None:
    """C at t = s tau k, k = 1..9, on a side s and a scale tau whose segment crosses no kink."""
    for _ in range(NOISE_ATTEMPTS):
        for side in (1.0, -1.0):
            ts = side * tau * np.arange(1, N_POINTS + 1)
            if problem.probe is not None:
                near, far = line.probe(float(ts[0])), line.probe(float(ts[-1]))
                if crossing_inside(near, far, problem.probe_layers) is not None:
                    continue
            return np.array([line.value(float(t))[0] for t in ts])
        tau /= 4.0  # still >= 2^-38 for float64: far above ulp(p), which the directions scale with
    return None


def cost_noise(problem: Problem, seed: int = 0) -> tuple[float, float]:
    """(C(p), bound on the rounding error of one evaluation of C near p): noise.noise_bound on
    NOISE_DIRECTIONS seeded directions (27 evaluations), avoiding segments that cross a relu kink;
    if every segment crosses one, only the floor 2 eps |C| remains."""
    f0 = problem.value(problem.params)
    tables = []
    for s in np.random.SeedSequence([seed, 7]).generate_state(NOISE_DIRECTIONS):
        line = DirectionLine(problem, signed_gaussian_direction(problem.params, seed=int(s)))
        table = _noise_table(problem, line, noise_step(problem.eps))
        if table is not None:
            tables.append(table)
    return f0, noise_bound(tables, f0, problem.eps)


def central_differences(target: Any, *, levels: int = 3, seed: int = 0) -> NumericGradient:
    """dC/dp for every entry: central differences at h = 2^round(log2(eps^(1/3) max(1, |p|)))
    and its doubles, extrapolated (Richardson, ``levels`` steps), with the error bound of
    ``line.differentiate``.
    """
    problem = as_problem(target)
    if levels < 2:
        raise ValueError(f"levels must be >= 2 (Richardson needs two steps), got {levels}")
    f0, noise = cost_noise(problem, seed)
    centre = problem.probe(problem.params) if problem.probe is not None else None
    work = [p.copy() for p in problem.params]
    values, errors, steps = [], [], []
    kinks: dict[tuple[int, int], KinkReport] = {}
    for t, p in enumerate(problem.params):
        h = central_steps(p, problem.numeric_dtype).reshape(-1)
        val = np.empty(p.size)
        err = np.empty(p.size)
        for i in range(p.size):
            line = CoordinateLine(problem, t, i, work)
            d = differentiate(line, float(h[i]), levels, noise, f0, centre)
            val[i], err[i] = d.value, d.error
            if d.kink is not None:
                kinks[(t, i)] = d.kink
                h[i] = d.step if d.kink.resolved_step is None else d.kink.resolved_step
        values.append(val.reshape(p.shape))
        errors.append(err.reshape(p.shape))
        steps.append(h.reshape(p.shape))
    return NumericGradient(
        f"central differences (Richardson, {levels} levels)", values, errors, steps, noise, kinks
    )
