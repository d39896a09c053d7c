"""Does the cost vary, along one line, on a scale below the first step? (ripple, a nearby corner)

The global noise measurement (central.read_noise) sees that the cost varies below its first tau
somewhere, but not along which entry: a corner in one coordinate must not change how the others
are judged. So each line is asked again, cheaply (2 x 2 x N_POINTS evaluations, only when the
global reading saw variation): ECnoise tables along the line itself, on both sides of p, at
tau_a = h0 2^-9 (nine points span h0 / 57, well inside the first step) and at tau_b = tau_a 2^-8.
Rounding noise is the same at both (each evaluation rounds on its own); a corner a few tau_a
away (its differences read as a level J tau) or a ripple of period below tau_a (its amplitude)
is not: a level at tau_b below the one at tau_a by more than ECnoise's factor AGREEMENT says the
line varies below the first step. Its steps must then stay at or below the scale where the
variation vanished, 9 tau_b (the span of the quiet tables): the returned first step.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from .adaptive import LineLike
from .noise import AGREEMENT, N_POINTS, noise_bound

TAU_A = 2.0**-9  # relative to the line's first step h0
TAU_B = 2.0**-8  # relative to TAU_A (the same shrink as central.CONFIRM_SHRINK)


@dataclass(frozen=True)
class LineVariation:
    """first_step: the step the scan may start from and never exceed; the levels read at both taus."""

    first_step: float
    tau_a: float
    level_a: float
    tau_b: float
    level_b: float

    def describe(self) -> str:
        return (
            f"the cost varies along this line below the first step (noise level {self.level_a:.3g} at "
            f"tau = {self.tau_a:.3g}, {self.level_b:.3g} at tau = {self.tau_b:.3g}): steps kept "
            f"at or below {self.first_step:.3g}"
        )


def _tables(line: LineLike, tau: float) -> list[np.ndarray]:
    out = []
    for side in (1.0, -1.0):
        table = np.array([line.value(side * tau * k)[0] for k in range(1, N_POINTS + 1)])
        if np.all(np.isfinite(table)):
            out.append(table)
    return out


def line_variation(line: LineLike, h0: float, f0: float, eps: float) -> LineVariation | None:
    """None when the line's noise level is the same at tau_a and tau_b (or cannot be read: tau_b
    below the line's min_step, non-finite tables); else the variation and the reduced first step."""
    tau_a = h0 * TAU_A
    tau_b = tau_a * TAU_B
    if tau_b < line.min_step:
        return None
    a, b = _tables(line, tau_a), _tables(line, tau_b)
    if not a or not b:
        return None
    level_a, level_b = noise_bound(a, f0, eps), noise_bound(b, f0, eps)
    if level_b * AGREEMENT >= level_a:
        return None
    first = float(2.0 ** math.floor(math.log2(N_POINTS * tau_b)))
    return LineVariation(first, tau_a, level_a, tau_b, level_b)
