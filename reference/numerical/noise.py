"""The rounding noise of a cost evaluation, measured rather than guessed (Moré & Wild's ECnoise).

Moré, J. J. and Wild, S. M., "Estimating computational noise", SIAM J. Sci. Comput. 33 (2011).
Evaluate phi(t) = C(p + t d) (along a few directions d) at 9 points t = tau .. 9 tau (one side,
so that a relu corner at p itself stays outside), with tau so small that the smooth
part's k-th differences (~ tau^k phi^(k)) vanish for k >= 3; what remains is rounding noise.
For independent noise of standard deviation sigma, E[(Delta^k f)^2] = sigma^2 (2k)! / (k!)^2,
so sigma_k = sqrt(gamma_k mean((Delta^k f)^2)) with gamma_k = (k!)^2 / (2k)! estimates sigma.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np

N_POINTS = 9
ORDERS = (3, 4, 5, 6)


def noise_bound(tables: Sequence[np.ndarray], value: float, eps: float) -> float:
    """A bound on |computed C - exact C| near p from equally spaced samples along a few lines.

    6 sigma_hat, floored at 2 eps |C|: sigma_hat pools the k-th differences of each table (three
    tables of 9 give 18 order-3 differences) and takes the largest of the order-3..6 estimates.
    With 18 degrees of freedom, sigma <= 2 sigma_hat except with probability 0.1% (chi-square),
    and a sum of many roundings is near-Gaussian, |error| <= 3 sigma: hence 6 sigma_hat. The
    floor counts four roundings of size |C| (output activation, difference or log, square,
    reduction).
    """
    diffs = [np.asarray(t, dtype=np.float64) - value for t in tables]
    estimates = []
    for k in range(1, max(ORDERS) + 1):
        diffs = [np.diff(d) for d in diffs]
        if k in ORDERS:
            gamma = math.factorial(k) ** 2 / math.factorial(2 * k)
            pooled = np.concatenate(diffs)
            mean_square = float(np.mean(pooled * pooled)) if pooled.size else 0.0
            estimates.append(math.sqrt(gamma * mean_square))
    return max(6.0 * max(estimates), 2.0 * eps * abs(value))


def noise_step(eps: float) -> float:
    """tau = 2^round(log2 sqrt(eps)): above every parameter's ulp; tau^3 |phi^(3)| << eps |C|."""
    return float(2.0 ** round(math.log2(math.sqrt(eps))))
