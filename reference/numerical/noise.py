"""The rounding noise of a cost evaluation, measured rather than guessed (Moré & Wild's ECnoise).

Moré, J. J. and Wild, S. M., "Estimating computational noise", SIAM J. Sci. Comput. 33 (2011).
Evaluate phi(t) = C(p + t d) along a few directions d at 9 points t = tau .. 9 tau (one side, so
that a corner of C at p itself stays outside). For independent noise of standard deviation sigma,
E[(Delta^k f)^2] = sigma^2 (2k)! / (k!)^2, so sigma_k = sqrt(gamma_k mean((Delta^k f)^2)) with
gamma_k = (k!)^2 / (2k)! estimates sigma at every order k. The smooth part contributes
~tau^k phi^(k) to the k-th differences, which *falls* with k while the noise part stays level: so
an order k is accepted only where (ECnoise's test) sigma_k, sigma_{k+1}, sigma_{k+2} agree within
a factor 4 and the k-th differences change sign. A table whose estimates still fall (smooth
variation, e.g. parameters at 1e6 moved by 1e-2) is not noise: tau is divided by 2^8 and the
table taken again. Orders up to 6 are used, so variation that survives three differences is still
told apart from noise.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

N_POINTS = 9
MAX_ORDER = 6
AGREEMENT = 4.0  # ECnoise: three consecutive sigma_k within a factor 4 of each other
ORDERS = tuple(range(1, MAX_ORDER + 1))


@dataclass(frozen=True)
class NoiseLevel:
    """sigma: the estimated standard deviation of one evaluation's rounding (0 if none seen);
    order: the difference order it was read at (0: no order qualified); verdict: "noise" (a
    level was found), "flat" (more than half the values repeat: steps below the resolution of
    C), or "smooth" (estimates still falling with the order: tau too large)."""

    sigma: float
    order: int
    verdict: str


def noise_level(tables: Sequence[np.ndarray], value: float) -> NoiseLevel:
    """ECnoise on equally spaced samples along a few lines, pooling the k-th differences."""
    diffs = [np.asarray(t, dtype=np.float64) - value for t in tables]
    if not diffs or not all(np.all(np.isfinite(d)) for d in diffs):
        return NoiseLevel(0.0, 0, "smooth")
    first = np.concatenate([np.diff(d) for d in diffs])
    if np.count_nonzero(first == 0.0) > first.size / 2:
        return NoiseLevel(float(np.sqrt(np.mean(first * first) / 2.0)), 1, "flat")
    levels: list[float] = []
    sign_change: list[bool] = []
    for k in ORDERS:
        diffs = [np.diff(d) for d in diffs]
        pooled = np.concatenate(diffs)
        gamma = math.factorial(k) ** 2 / math.factorial(2 * k)
        levels.append(math.sqrt(gamma * float(np.mean(pooled * pooled))))
        # a sign change in every table: the smooth part (one sign locally) does not dominate
        sign_change.append(all(np.min(d) < 0 < np.max(d) for d in diffs if d.size))
    for k in range(len(levels) - 2):
        window = levels[k : k + 3]
        if sign_change[k] and max(window) <= AGREEMENT * min(window):
            return NoiseLevel(levels[k], k + 1, "noise")
    return NoiseLevel(min(levels), 0, "smooth")


def noise_bound(tables: Sequence[np.ndarray], value: float, eps: float) -> float:
    """A bound on |computed C - exact C| near p from equally spaced samples along a few lines.

    6 sigma_hat, floored at 2 eps max|C| over the samples: with 18+ pooled differences, sigma <=
    2 sigma_hat except with probability 0.1% (chi-square), and a sum of many roundings is
    near-Gaussian, |error| <= 3 sigma: hence 6 sigma_hat. The floor counts four roundings of size
    |C| (output activation, difference or log, square, reduction). When no order qualifies as
    noise (smooth variation everywhere), the smallest estimate is used: it still holds the noise,
    so the bound only errs upward.
    """
    level = noise_level(tables, value)
    largest = max([abs(value)] + [float(np.max(np.abs(t))) for t in tables if np.size(t)])
    return max(6.0 * level.sigma, 2.0 * eps * largest)


def noise_step(eps: float) -> float:
    """tau = 2^round(log2 sqrt(eps)): the first try; noise_bound's tables shrink it when needed."""
    return float(2.0 ** round(math.log2(math.sqrt(eps))))
