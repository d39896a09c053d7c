"""ReLU kinks: where a pre-activation changes sign inside a finite-difference step.

C is only piecewise smooth in the parameters of a relu network; a difference quotient whose
step straddles a zero of some z^l_j measures a mixture of two slopes. The checkers probe the
relu pre-activations at the centre and at the ends of the widest step and name the first
crossing they find, instead of reporting a false mismatch. (Between two probe points z is
treated as monotone, which holds for steps this small.)
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from .adaptive import Corner
from .steps import format_step


@dataclass(frozen=True)
class Kink:
    """A relu unit whose pre-activation z^layer_unit (sample ``sample``, 0-based) crosses zero.

    at_point: z is exactly 0 at the parameters themselves (C has a corner there); otherwise the
    zero lies strictly inside the step.
    """

    layer: int
    unit: int
    sample: int
    at_point: bool

    def describe(self) -> str:
        where = f"layer {self.layer}, unit {self.unit} (sample {self.sample})"
        if self.at_point:
            return f"kink at the point itself (z = 0 exactly) at {where}"
        return f"kink within step at {where}"


def _first(mask_per_layer: Sequence[np.ndarray], layers: Sequence[int], at_point: bool) -> Kink | None:
    for mask, layer in zip(mask_per_layer, layers, strict=True):
        hits = np.argwhere(mask)
        if hits.size:
            sample, unit = (int(v) for v in hits[0])
            return Kink(layer, unit, sample, at_point)
    return None


def crossing_inside(centre: Sequence[np.ndarray], end: Sequence[np.ndarray], layers: Sequence[int]) -> Kink | None:
    """A unit with z != 0 at the centre whose sign differs at the end of the step."""
    masks = [(c != 0) & (np.sign(e) != np.sign(c)) for c, e in zip(centre, end, strict=True)]
    return _first(masks, layers, at_point=False)


def corner_at_point(
    centre: Sequence[np.ndarray], ends: Sequence[Sequence[np.ndarray]], layers: Sequence[int]
) -> Kink | None:
    """A unit with z == 0 exactly at the centre that moves off zero within the step."""
    masks = []
    for i, c in enumerate(centre):
        moved = np.zeros(c.shape, dtype=bool)
        for end in ends:
            moved |= end[i] != 0
        masks.append((c == 0) & moved)
    return _first(masks, layers, at_point=True)


@dataclass(frozen=True)
class KinkReport:
    """What a checker did about a kink: a smaller central step, or one-sided quotients on each side.

    kink: a relu unit found by probing (reference cases), or a Corner found from the differences
    themselves (any callable).

    left/right: one-sided derivative estimates (nan where that side also straddles a kink) with
    their error bounds; resolved_step: the reduced central step, or None.
    """

    kink: Kink | Corner
    resolved_step: float | None
    left: float
    left_error: float
    right: float
    right_error: float

    def describe(self) -> str:
        text = self.kink.describe()
        if self.resolved_step is not None:
            return f"{text}; central step reduced to h = {format_step(self.resolved_step)}"
        return f"{text}; one-sided derivatives: left {self.left:.6g}, right {self.right:.6g}"
