"""How much the exact gradient moves when every input moves by one rounding unit.

A float computation that is backward stable returns the exact gradient of inputs perturbed by a
few units of roundoff u; its error is then about (condition number) x u, whatever the algorithm.
Deep saturating networks are ill-conditioned (a z^l of 18 carries an absolute error of 5e-15,
which changes sigma'(z^l) by 5e-15 relative, and identity layers with |w| ~ 10 amplify it), so a
fixed 1e-13 cannot hold there for any float64 code. This module measures rho, the relative change
of each layer's exact gradient (mpmath, 50 digits) under a random relative perturbation of size u
of every weight, bias, input and target, and the tests allow 1e-13 + 100 rho (float64) or
1e-5 + 100 rho (float32): the 100 covers a backward error of several u per input (fan-in <= 8,
a handful of operations per layer) and the difference between a random and a worst-case
perturbation.
"""

from __future__ import annotations

import mpmath
import numpy as np

from reference import Case, engine, validate
from reference.case import Layers
from reference.precision import case_to_mp, to_mp

KEYS = ("grad_weights", "grad_biases", "deltas")


def perturbed_sensitivity(case: Case, truth: dict, seed: int = 0, digits: int = 50) -> dict[tuple[str, int], float]:
    """rho per (key, layer): |g(p (1 + u r)) - g(p)| / |g(p)| with r = +-1 at random, in exact arithmetic."""
    c = validate(case)
    u = float(np.finfo(c.dtype).eps) / 2
    rng = np.random.default_rng(seed)
    with mpmath.workdps(digits):
        mc = case_to_mp(c)

        def nudge(a: np.ndarray) -> np.ndarray:
            return a * (1 + mpmath.mpf(u) * to_mp(rng.choice([-1.0, 1.0], size=a.shape)))

        weights = [nudge(w) for w in mc.weights]
        biases = [nudge(b) for b in mc.biases]
        x, y = nudge(mc.x), nudge(mc.y)
        nudged = engine.backpropagate(Layers(weights, biases, c.activations, c.cost, c.reduction), x, y)
        moved = {"grad_weights": nudged.grad_weights, "grad_biases": nudged.grad_biases, "deltas": nudged.deltas}
        rho = {}
        for key in KEYS:
            for i, (p, t) in enumerate(zip(moved[key], truth[key], strict=True)):
                norm = mpmath.sqrt(mpmath.fsum(v * v for v in t.ravel()))
                change = mpmath.sqrt(mpmath.fsum((v - w) ** 2 for v, w in zip(p.ravel(), t.ravel(), strict=True)))
                rho[(key, i + 2)] = float(change / norm) if norm > 0 else 0.0
    return rho
