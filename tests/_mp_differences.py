"""Central differences of the cost in mpmath, along one layer's random direction.

Error model (why the bound in the tests holds): for D(h) = (C(p + h d) - C(p - h d)) / 2h,
  D(h) - <g, d> = (h^2 / 6) C'''(xi)[d, d, d]          (truncation)
                + (e_+ - e_-) / 2h,  |e_+-| <= kappa 10^-digits |C|   (rounding of each C)
With digits = 60 and h = 1e-20 the rounding term is below 1e-40 kappa |C| and the truncation
term below 1.7e-41 M3, where M3 bounds the third directional derivative. The tests do not
assume M3: they also evaluate D(10h), whose truncation error is 100x that of D(h), and
require |D(10h) - D(h)| to be small, which certifies that D(h) is accurate to far better
than the 1e-30 relative tolerance the tests use.
"""

from __future__ import annotations

import mpmath
import numpy as np

from reference import Case, engine, validate
from reference.precision import case_to_mp, to_mp

DIGITS = 60
H = mpmath.mpf("1e-20")


def layer_direction(case: Case, layer_index: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """A Gaussian direction for (w, b) of one layer, with every component at least 0.1 in magnitude."""
    rng = np.random.default_rng(seed)

    def draw(shape: tuple[int, ...]) -> np.ndarray:
        d = rng.standard_normal(shape)
        return np.sign(d + (d == 0)) * np.maximum(np.abs(d), 0.1)

    return draw(case.weights[layer_index].shape), draw(case.biases[layer_index].shape)


def directional_difference(
    case: Case, layer_index: int, dw: np.ndarray, db: np.ndarray, h: mpmath.mpf = H
) -> mpmath.mpf:
    """D(h) for the cost of ``case`` along (dw, db) in one layer, at DIGITS digits."""
    c = validate(case)
    with mpmath.workdps(DIGITS):
        mc = case_to_mp(c)
        mdw, mdb = to_mp(dw), to_mp(db)

        def cost_at(t: mpmath.mpf) -> mpmath.mpf:
            weights = list(mc.weights)
            biases = list(mc.biases)
            weights[layer_index] = weights[layer_index] + t * mdw
            biases[layer_index] = biases[layer_index] + t * mdb
            return engine.evaluate_cost(mc.replace(weights=weights, biases=biases), mc.x, mc.y)

        return (cost_at(h) - cost_at(-h)) / (2 * h)
