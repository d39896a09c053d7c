"""Richardson extrapolation of difference quotients taken at steps h, 2h, 4h, ...

A central difference D(h) = C' + c_1 h^2 + c_2 h^4 + ... (power 2); a one-sided one
F(h) = C' + c_1 h + c_2 h^2 + ... (power 1). Neville's tableau removes one term per level.
The smallest step is the base step h (the one scaled to eps^(1/3)); larger steps only feed
the extrapolation, so rounding error stays that of the base step, amplified by the
extrapolation weights (returned, so callers can bound it).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class Extrapolation:
    """best: the last tableau entry; previous: the best entry one order lower (smallest step).

    truncation = |best - previous| estimates the truncation error of ``previous``, hence bounds
    the (higher-order) truncation error of ``best`` in the asymptotic regime. weights[k] are the
    coefficients of best as a linear combination of the quotients at steps h 2^k.
    """

    best: np.ndarray
    previous: np.ndarray
    truncation: np.ndarray
    weights: np.ndarray


def extrapolate(quotients: np.ndarray, power: int) -> Extrapolation:
    """quotients[k] taken at step h 2^k (k = 0 smallest), any trailing shape; >= two levels."""
    q = np.asarray(quotients, dtype=np.float64)
    levels = q.shape[0]
    if levels < 2:
        raise ValueError(f"Richardson extrapolation needs at least 2 step levels, got {levels}")
    column = [q[k] for k in range(levels)]
    unit = [np.eye(levels)[k] for k in range(levels)]
    previous = column[0]
    for j in range(1, levels):
        factor = 2.0 ** (power * j)
        previous = column[0]
        column = [column[k] + (column[k] - column[k + 1]) / (factor - 1.0) for k in range(len(column) - 1)]
        unit = [unit[k] + (unit[k] - unit[k + 1]) / (factor - 1.0) for k in range(len(unit) - 1)]
    best = column[0]
    return Extrapolation(best, previous, np.abs(best - previous), unit[0])
