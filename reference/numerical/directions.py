"""Random directions for directional checks: signed, Gaussian, floored, exactly representable.

Why not torch's non-negative directions: with d >= 0, errors of opposite sign in two entries
cancel in <g, d>. Here each component is sign(z) max(|z|, floor) with z ~ N(0, 1) from an
explicit seed: every entry weighs at least ``floor`` (no entry hides behind a tiny weight), and
signs are random (no systematic cancellation). Components are rounded to multiples of 2^-13 and
scaled by the power of two s nearest max(1, |p|): t d is then exact for t = k 2^-j (k <= 9), and
p + t d is exact while ulp(p) <= t 2^-13 s, i.e. for t >= 2^-38 (|p| / s <= sqrt 2): the step taken
is the step divided by.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

DEFAULT_FLOOR = 0.25
COMPONENT_DENOMINATOR = 2.0**13  # components are multiples of 1 / this, 2^-13: at most 16 significant bits below 8


def _power_of_two_scale(p: np.ndarray) -> np.ndarray:
    """The power of two nearest max(1, |p|) on a log scale (frexp: cheaper than log2 on 10^6 entries)."""
    mantissa, exponent = np.frexp(np.maximum(1.0, np.abs(p.astype(np.float64))))
    return np.ldexp(1.0, exponent - (mantissa < np.sqrt(0.5)))


def signed_gaussian_direction(
    params: Sequence[np.ndarray],
    seed: int,
    floor: float = DEFAULT_FLOOR,
    only: int | None = None,
) -> list[np.ndarray]:
    """A direction shaped like params; ``only``: zero outside tensor ``only`` (localises errors)."""
    if not floor > 0:
        raise ValueError(f"floor must be > 0 (every component needs weight), got {floor}")
    rng = np.random.default_rng(seed)
    out = []
    for t, p in enumerate(params):
        if only is not None and t != only:
            out.append(np.zeros(p.shape, dtype=p.dtype))
            continue
        z = rng.standard_normal(p.shape)
        mag = np.round(np.maximum(np.abs(z), floor) * COMPONENT_DENOMINATOR) / COMPONENT_DENOMINATOR
        out.append((np.copysign(mag, z) * _power_of_two_scale(p)).astype(p.dtype))
    return out


def relative_direction(params: Sequence[np.ndarray], seed: int) -> list[np.ndarray]:
    """A signed floored Gaussian direction scaled to each entry's own magnitude (power of two
    nearest |p_i|; 1 where p_i = 0): the noise estimate moves parameters at 1e6 and at 1e-6 by
    the same relative amount, instead of by max(1, |p|), which is 1e6 times their scale at 1e-6."""
    rng = np.random.default_rng(seed)
    out = []
    for p in params:
        z = rng.standard_normal(p.shape)
        mag = np.round(np.maximum(np.abs(z), DEFAULT_FLOOR) * COMPONENT_DENOMINATOR) / COMPONENT_DENOMINATOR
        a = np.abs(p.astype(np.float64))
        mantissa, exponent = np.frexp(np.where(a > 0, a, 1.0))
        scale = np.ldexp(1.0, exponent - (mantissa < np.sqrt(0.5)))
        out.append((np.copysign(mag, z) * scale).astype(p.dtype))
    return out
