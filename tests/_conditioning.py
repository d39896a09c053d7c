"""The accuracy tests' error model: how much the exact gradient moves when every input moves by
one rounding unit (rho), and how much rounding of intermediate values can add (the bound beta).

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

rho cannot see rounding of intermediate values whose exact counterparts obey an identity that
every input perturbation keeps. For softmax with log-likelihood and sum(y) = 1, delta^L = a - y
sums to exactly 0 for all inputs, so (w^L)^T delta^L = delta_1 (w_1 - w_2) for two outputs: a
difference of nearly equal rows. The float a^L sums to 1 only within a few u, which leaves a
component of size ~u |delta^L| |w^L| that no perturbed exact problem has; rho is then ~u while
the error is ~u |w| / |w_1 - w_2|. ``rounding_bound`` is the standard first-order running error
bound for that (Higham, Accuracy and Stability of Numerical Algorithms, ch. 3): with
gamma_k = k u / (1 - k u), a computed sum or dot product of n terms obeys
|fl(sum t) - sum t| <= gamma_n sum |t|, and an error e_x in its inputs adds |A| e_x. Propagating
from the exact values (|w|, |delta|, |a|, |sigma'|, in float64) through the engine's formulas:

  residual r = a^L - y:  e_r = gamma_{n_L + 5} R, R = the magnitudes of the two operands the
      engine subtracts (|a| + |y|; |1 - a| + |1 - y| on its cancellation-free branches for
      sigmoid z >= 0, tanh |a| >= 1/2 (|1 + a| + |1 + y| for z < 0) and the largest softmax unit); a^L or
      its complement costs an exponential, a sum and a division (3 u), a softmax sum n_L u more.
  delta^L: cross-entropy, e_r; log-likelihood, r + a (sum(y) - 1): e_r + gamma_{n_L+2} |a| (sum|y| + 1);
      quadratic, r sigma'(z): (e_r + gamma_5 |r|) |sigma'| (sigma' to 4 u, the product u);
      quadratic softmax, a (c - <a, c>) with c = r - r_top: gamma_{n_L+4} |a| (C + <|a|, C>)
      plus the same with C = e_r + e_r,top (errors of c), C = |r| + |r_top|.
  delta^l = (delta^{l+1} w^{l+1}) (.) sigma'(z^l), a dot product of n_{l+1} terms:
      e = (e^{l+1} |w| + gamma_{n_{l+1}} |delta^{l+1}| |w|) |sigma'| + gamma_5 |delta^{l+1} w| |sigma'|.
  dC/db = scale sum_x delta (m terms and the scale): scale (sum_x e + gamma_{m+1} sum_x |delta|).
  dC/dw = scale delta^T a^{l-1} (m terms, the scale, and a^{l-1}'s own rounding, 4 u, counted for x too):
      scale (e^T |a| + gamma_{m+5} |delta|^T |a|).

Each bound E is componentwise, so ||error|| <= ||E||, and the bound returned is ||E|| / ||truth||
per (key, layer). The tests allow target + 100 rho + 1 x this bound: the constant is 1 because
the bound is already the worst case (every rounding error aligned, gamma_k rather than sqrt(k) u);
the neglected terms are O(u^2) and the rounding of z^l in the forward pass, which is a backward
error of w and b and so in rho. Without cancellation |delta| is the size of the exact answer and
the bound is the sum of the gamma_k along the path: 83 u (5e-6 in float32) at most for a quadratic
cost, widths and batches of 8 and six layers (tests/test_conditioning_model.py derives it), inside
the target, so the tests keep their power; mixed signs make it larger only where sums cancel.
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


def _gamma(k: int, u: float) -> float:
    """gamma_k = k u / (1 - k u): the relative error bound of k rounded operations in sequence."""
    return k * u / (1 - k * u)


def _residual_operands(sigma_l: str, z: np.ndarray, a: np.ndarray, y: np.ndarray) -> np.ndarray:
    """|x| + |y'| for the x - y' that ``costs.residual`` computes, branch by branch (see its docstring)."""
    plain = np.abs(a) + np.abs(y)
    if sigma_l == "sigmoid":
        return np.where(z >= 0, np.abs(1 - y) + np.abs(1 - a), plain)
    if sigma_l == "tanh":  # folded only where |a| >= 1/2; either form within rounding of the edge
        folded = np.where(z >= 0, np.abs(1 - y) + np.abs(1 - a), np.abs(1 + a) + np.abs(1 + y))
        return np.where(np.abs(a) >= 0.5 * (1 - 1e-9), np.maximum(folded, plain), plain)
    if sigma_l == "softmax":
        is_top = np.arange(a.shape[1])[None, :] == np.argmax(a, axis=1)[:, None]
        return np.where(is_top, np.abs(1 - y) + np.abs(1 - a), plain)
    return plain


def _output_error_bound(
    c: Case, z: np.ndarray, a: np.ndarray, sp: np.ndarray | None, y: np.ndarray, u: float
) -> np.ndarray:
    """Componentwise bound on |fl(delta^L) - delta^L| (module docstring), from the exact values."""
    n_l = a.shape[1]
    r = a - y
    e_r = _gamma(n_l + 5, u) * _residual_operands(c.activations[-1], z, a, y)
    if c.cost == "cross_entropy":
        return e_r
    if c.cost == "log_likelihood":
        return e_r + _gamma(n_l + 2, u) * np.abs(a) * (np.abs(y).sum(axis=1, keepdims=True) + 1)
    if sp is not None:  # quadratic: r sigma'(z)
        return (e_r + _gamma(5, u) * np.abs(r)) * np.abs(sp)
    top = np.argmax(a, axis=1)[:, None]  # quadratic softmax: a (c - <a, c>), c = r - r_top

    def through(m: np.ndarray) -> np.ndarray:
        both = m + np.take_along_axis(m, top, axis=1)
        return np.abs(a) * (both + (np.abs(a) * both).sum(axis=1, keepdims=True))

    return through(e_r) + _gamma(n_l + 4, u) * through(np.abs(r))


def rounding_bound(case: Case, digits: int = 50, largest: bool = False) -> dict[tuple[str, int], float]:
    """||E|| / ||g|| per (key, layer): the running error bound of the backward pass (module docstring).

    ``largest``: max|E| / max|g| instead of the 2-norms, for tests that measure errors entry-wise
    against the largest entry (componentwise |error| <= E gives max|error| <= max|E|).
    """
    c = validate(case)
    u = float(np.finfo(c.dtype).eps) / 2
    with mpmath.workdps(digits):
        mc = case_to_mp(c)
        exact = engine.backpropagate(mc, mc.x, mc.y)
    f = np.vectorize(float, otypes=[np.float64])
    z, a = [f(v) for v in exact.z], [f(v) for v in exact.a]
    sp = [None if s is None else f(s) for s in exact.sigma_prime]
    deltas = [f(d) for d in exact.deltas]
    weights = [np.abs(np.asarray(w, dtype=np.float64)) for w in c.weights]
    y = np.asarray(c.y, dtype=np.float64)
    errors = [np.zeros_like(d) for d in deltas]
    errors[-1] = _output_error_bound(c, z[-1], a[-1], sp[-1], y, u)
    for i in range(len(deltas) - 2, -1, -1):
        w, d, e, s = weights[i + 1], np.abs(deltas[i + 1]), errors[i + 1], np.abs(sp[i])  # type: ignore[arg-type]
        product = np.abs(deltas[i + 1] @ np.asarray(c.weights[i + 1], dtype=np.float64))
        errors[i] = (e @ w + _gamma(w.shape[0], u) * (d @ w) + _gamma(5, u) * product) * s
    m = c.m
    scale = 1.0 / m if c.reduction == "mean" else 1.0
    bounds = {
        "deltas": errors,
        "grad_biases": [
            scale * (e.sum(axis=0) + _gamma(m + 1, u) * np.abs(d).sum(axis=0))
            for e, d in zip(errors, deltas, strict=True)
        ],
        "grad_weights": [
            scale * (e.T @ np.abs(ap) + _gamma(m + 5, u) * (np.abs(d).T @ np.abs(ap)))
            for e, d, ap in zip(errors, deltas, a[:-1], strict=True)
        ],
    }
    truth = {
        "deltas": deltas,
        "grad_biases": [f(g) for g in exact.grad_biases],
        "grad_weights": [f(g) for g in exact.grad_weights],
    }
    out = {}
    for key in KEYS:
        for i, (e, t) in enumerate(zip(bounds[key], truth[key], strict=True)):
            if largest:
                norm_e, norm_t = float(np.max(np.abs(e), initial=0.0)), float(np.max(np.abs(t), initial=0.0))
            else:
                norm_e, norm_t = float(np.linalg.norm(e)), float(np.linalg.norm(t))
            # an exact zero gets no relative slack: the tests' underflow floor is its only allowance
            out[(key, i + 2)] = norm_e / norm_t if norm_t > 0 else 0.0
    return out
