"""Step sizes: powers of two scaled to each parameter and to the dtype's machine epsilon.

A power-of-two step h makes p + h and p - h exact whenever h >= ulp(p) and no binade
is crossed, so the step the difference quotient divides by is the step that was taken;
the checkers still divide by the step actually realised ((p + h) - p) for the rare
binade crossing.
"""

from __future__ import annotations

import math

import numpy as np


def machine_epsilon(dtype: np.dtype | str | type) -> float:
    """eps = 2^-52 for float64, 2^-23 for float32 (the spacing of floats just above 1)."""
    return float(np.finfo(np.dtype(dtype)).eps)


def power_of_two(x: np.ndarray | float) -> np.ndarray:
    """The power of two nearest to x on a log scale (x > 0)."""
    return np.asarray(2.0 ** np.round(np.log2(np.asarray(x, dtype=np.float64))))


def central_steps(p: np.ndarray, dtype: np.dtype | str | type, exponent: float = 1.0 / 3.0) -> np.ndarray:
    """h = 2^round(log2(eps^exponent * max(1, |p|))) for every entry of p.

    exponent 1/3 balances the central difference's truncation error (h^2 |C'''| / 6) against its
    rounding error (eps |C| / h): both are then O(eps^(2/3)); h = 2^-17 for float64, 2^-8 for
    float32.
    """
    scale = np.maximum(1.0, np.abs(np.asarray(p, dtype=np.float64)))
    return power_of_two(machine_epsilon(dtype) ** exponent * scale)


def format_step(h: float) -> str:
    """'2^-17' for a power of two, '%.3g' otherwise."""
    if h > 0:
        k = math.log2(h)
        if k == round(k):
            return f"2^{int(k)}"
    return f"{h:.3g}"
