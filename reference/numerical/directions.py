"""Random directions for directional checks: signed, Gaussian, floored, exactly representable.

Why not torch's non-negative directions: with d >= 0, errors of opposite sign in two entries
cancel in <g, d>. Here each component is sign(z) max(|z|, floor) with z ~ N(0, 1) from an
explicit seed: every entry weighs at least ``floor`` (no entry hides behind a tiny weight), and
signs are random (no systematic cancellation). Components are rounded to 16 significant bits
and scaled by the power of two nearest max(1, |p|), so p + t d is exact for power-of-two
t >= 2^-44 (|p| < 2^8 relative to that scale): the step taken is the step divided by.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from .steps import power_of_two

DEFAULT_FLOOR = 0.25


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
        mag = np.maximum(np.abs(z), floor)
        mantissa, exponent = np.frexp(mag)
        mag = np.ldexp(np.round(mantissa * 2.0**16) / 2.0**16, exponent)
        scale = power_of_two(np.maximum(1.0, np.abs(p.astype(np.float64))))
        out.append((np.sign(z) * mag * scale).astype(p.dtype))
    return out
