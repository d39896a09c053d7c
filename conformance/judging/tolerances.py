"""How close is close enough: tolerances by dtype, from a rounding-error model.

The one error model of the suite: the live checks (``expect``) and the golden vectors
(``conformance.vectors.generate``) both derive their tolerances from ``error_bounds``.

The model is a first-order running error bound in the standard model of floating-point
arithmetic (Higham, *Accuracy and Stability of Numerical Algorithms*, ch. 2-3): every
operation errs by at most u relative (u = 2^-53 in float64, 2^-24 in float32), a sum of
n terms by gamma_n = n u/(1 - n u) times the sum of the absolute terms, in any order.
Propagating those absolute bounds through the forward pass and backwards through
equations 1-4 (products of two errors dropped) gives, for every element e of every
result, a bound E_e(u) on how far a correct implementation computing in unit roundoff u
can land from the exact value. Each step is commented where ``error_bounds`` computes it.
Elementary functions (exp, log1p, tanh, the sigmoid) may be off by ELEMENTARY_ULPS
rounding errors of their result; sigma' may be computed the naive way (s(1 - s),
1 - tanh^2), which is accurate absolutely but not relatively once saturated, so its
bound is a few u of max|sigma'|-sized quantities.

The residual a^L - y of an output bounded by 1 (sigmoid, tanh, softmax). A saturated
output rounds to a number near 1 and a^L - y loses the digits its complement 1 - a^L
carries, so the reference (``reference.costs.residual``), like any careful code, forms
the residual through the complement instead: (1 - y) - sigmoid(-z), (1 - y) -
(1 - tanh z) or (1 + tanh z) - (1 + y), and for the largest softmax output
(1 - y_top) - sum_{k != top} a_k. Measured against the naive a - y, whose bound is
err(a) + u (|a| + |y|), the complement route adds

* one rounding of the intermediate 1 -/+ y, at most u (1 + |y|), and one more of the same
  size for the difference whose first operand is 1 -/+ y rather than a: in all
  2 u (1 + |y|), absolute, in every element of a sigmoid or tanh output; and
* for softmax, the complement of the top output is a sum of the other n - 1 outputs:
  the sum of their own errors plus gamma_{n-1} (1 - a_top).

These terms are tiny next to |a - y| for unsaturated outputs but not when a^L - y is
itself tiny (y near a saturated output), where correct float32 code that takes the
complement route errs by about u32 (1 + |y|): without them such code was rejected.

The cost computed from a. The reference evaluates the costs from z (softplus, log-softmax),
and so is every implementation held to, unless it declares the convention
``cost_from_activations`` (a float32 cost of 106.8 at saturated outputs was otherwise
allowed an error of 92, and a cost halved by a bug passed). Declared, the bound admits
what follows, element by element where the logarithms of a enter. The textbook formulas
take logarithms of the computed output: -[y ln a + (1 - y) ln(1 - a)]
(Nielsen's network2.py, torch's binary_cross_entropy) and -sum_j y_j ln a_j of a softmax a.
A logarithm turns its argument's relative error d into an absolute error of its result:
for v' = v (1 + t) + s, |t| <= r, |s| <= sigma, ln v' is off by at most ln(1 + d) upwards
and ln(1 / (1 - d)) downwards, d = r + sigma / v (``log_error``). The arguments:

* a = sigma(z) has a relative error c = ELEMENTARY_ULPS u and, below the normal range, an
  absolute underflow error of at most ``tiny``, the dtype's smallest subnormal: for ln a,
  r = c, sigma = tiny.
* 1 - a' = (1 - a) - (a t + s), rounded once more: r = u, sigma = c a + tiny, so
  d = u + (c a + tiny) / (1 - a), about c u e^z for z > 0. At z = 9.4 in float64 that is
  1.2e4 c u, where the bound before counted c u (absolute, per logarithm) and rejected
  the textbook formula by a factor of 9.
* a softmax a_j (exp, an n-term sum, a division): r = c + gamma_{n+2}, sigma = tiny.

Each term is weighted by |y| or |1 - y| (by |y_j| for the softmax) and generalises the
former c (|y| + |1 - y|), its limit for a in the middle of (0, 1); the logarithm's own
rounding and the sums are bounded as before. d may reach 1, where the first-order bound
ends: a computed argument may then be anything down to 0. But a finite, positive
computed v' is at least ``floor``: the dtype's spacing below 1, u, for 1 - a, and the
smallest subnormal for a, so the downward error is also at most ln(v / floor). Where v'
is not finite (a rounded to exactly 1, or to 0), the textbook cost is infinite and the
structure check rejects it: rightly, the exact cost is finite. The price: once 1 - a is
below u (z > 36.7 in float64, 16.6 in float32) with y < 1, a finite ln(1 - a') is at
least ln u, and the bound grows like (1 - y)(z - ln(1/(c u))): the cost check no longer
tells a clamped logarithm (torch's -100) from the exact value on such cases, which is
what accepting the formula means; every unsaturated case keeps the bound tight, and
float32 arithmetic inside float64 still errs by u32/u64 = 2^29 times the float64 term
at every z (tests/test_conformance_textbook.py).

Expected values and the tolerance. The live checks' expected value R comes from the
reference engine in float64, for float32 cases from the same float32-rounded inputs,
so R itself is within E(u64) of the truth, and ``expect`` uses u = u_dtype + u64 (E is
linear in u to first order). The golden vectors' expected value is the 50-digit truth
rounded to float64, so the generator uses u = u_dtype. Both store

    T_e = SAFETY * E_e(u) + u64 * |R_e|

(``tolerance``), the second term covering one float64 rounding of R. The live checks
pass a layer when, norm-wise, ||actual - R||_2 <= ||T||_2 (so a layer whose exact
gradient cancels to nearly 0 keeps the absolute floor of the propagated |w| |a| + |b|
magnitudes); the vectors compare element by element. Why this separates right from
wrong:

* Correct float64 code (any summation order, numpy, PyTorch, loops) errs by at
  most E(u64) per element, within T. Correct float32 code errs by E(u32), within
  T, because T is computed with u32 for float32 cases.
* float64 code that computes in float32 inside errs by about u32 |R|, which is
  2^29 / (SAFETY * n * depth) > 10^5 times the float64 tolerance for the widths
  (up to 64) and depths (up to 16) the suite generates: it fails every non-trivial
  float64 case.
* A real bug (a transposed matrix, the wrong activation, a factor of m) changes
  a layer by O(||R||), far beyond any T.

The only discontinuity, relu'(0), is not covered by a rounding bound, so a case
in which an exact relu pre-activation lies within its error bound of 0 (without
being exactly 0 in every evaluation order) is skipped, see ``ambiguous_kink``.
Exact zeros made by a zero weight row and a zero bias are exact in any order and
are kept: that is the "zeros" regime.

Declared conventions (CONTRACT.md section 1: relu'(0), a softplus threshold) change the
function being judged, not the error model: the reference computes with them
(``expect(case, conventions)``), so an implementation that follows its declared
convention deviates from the reference by rounding alone. torch's softplus, z itself for
z > 20, is 2e-9 relative away from ln(1 + e^z) at z = 20: a deviation that no rounding
bound may absorb, and which is exact by definition once declared. The bounds above still
hold for each branch: relu'(0) = r is an exact constant (PRIME_SCALE 0), exact zeros are
exact in any order, and softplus's linear branch (a = z, sigma' = 1, both exact) errs less
than the logarithmic one. What no bound covers is the jump at the threshold itself
(log1p(e^-t) in a, sigmoid(-t) in sigma'), so a case in which a softplus pre-activation
lies within its rounding bound of the declared threshold is skipped, like a relu near 0
(``ambiguous_threshold``).

Diagnosis claims use bands derived from T: a result that is k times the reference's has a
least-squares ratio within (k + 1) ||T|| / ||R|| of k, and a factor is named only when that
band is below 1e-3 k (conformance/judging/factors.py, where the derivation is written out).

Diagnosis, not conformance, uses one looser bound: when an implementation's own
deltas are already wrong, its gradients are compared with equations 3 and 4
applied to those deltas with float32's u whatever the dtype, because that check
only decides whether the gradient step itself is also broken (a real bug there is
off by O(1), not by rounding) and an implementation whose deltas are wrong may
well have lost precision too.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field

import numpy as np

from conformance.errors import Unusable
from reference import Case, engine, validate
from reference._ops import Array
from reference.activations import ACTIVATION_RECORDS, BOUNDED, kinks_of, sigma_prime, softplus
from reference.costs import cost_record

UNIT_ROUNDOFF: dict[str, float] = {"float64": 2.0**-53, "float32": 2.0**-24}
U64 = UNIT_ROUNDOFF["float64"]
# The smallest positive (subnormal) number: the absolute error of a result that underflows,
# and the smallest value a finite, positive computed a^L can take.
SMALLEST_SUBNORMAL: dict[str, float] = {"float64": 2.0**-1074, "float32": 2.0**-149}
# The bound is first order and uses worst-case constants; SAFETY covers the dropped
# second-order terms and two independent evaluations (the reference's and the
# implementation's) landing on opposite sides of the exact value.
SAFETY = 4.0
# exp, log1p, tanh and the divisions inside sigma: accurate to a few ulps of the result.
ELEMENTARY_ULPS = 4.0
# The per-activation bounds of the error model, read from each activation's record in
# reference/activations.py (where each number's derivation is written), for the elementwise
# activations (softmax has its own bound in ``error_bounds``): max |sigma'| (LIPSCHITZ) and
# max |sigma''| (SECOND_DERIVATIVE) over the real line, how a z error moves a and sigma'; and
# the size of the quantities sigma' is built from (PRIME_SCALE), an absolute error of a few u
# even where sigma' itself is tiny (0: sigma' is exact).
LIPSCHITZ: dict[str, float] = {n: r.lipschitz for n, r in ACTIVATION_RECORDS.items() if r.lipschitz is not None}
SECOND_DERIVATIVE: dict[str, float] = {
    n: r.second_derivative for n, r in ACTIVATION_RECORDS.items() if r.second_derivative is not None
}
PRIME_SCALE: dict[str, float] = {n: r.prime_scale for n, r in ACTIVATION_RECORDS.items() if r.prime_scale is not None}
# Outputs bounded by 1 whose residual a - y may be formed through the complement 1 - a
# (as the reference does, to keep saturated outputs exact): see ``complement_bound``.
BOUNDED_OUTPUTS = BOUNDED

__all__ = [
    "SAFETY",
    "UNIT_ROUNDOFF",
    "ErrorBounds",
    "Expected",
    "Mismatch",
    "Unusable",
    "ambiguous_kink",
    "ambiguous_threshold",
    "complement_bound",
    "error_bounds",
    "expect",
    "format_number",
    "gamma",
    "log_error",
    "norm_mismatch",
    "tolerance",
    "with_dtype",
]


def gamma(n: int, u: float) -> float:
    """Higham's gamma_n: the relative error bound of a sum of n terms, in any order."""
    return n * u / (1.0 - n * u)


@dataclass(frozen=True)
class ErrorBounds:
    """First-order absolute error bounds, element by element, of a computation in roundoff u."""

    z: list[Array]
    a: list[Array]
    deltas: list[Array]
    grad_weights: list[Array]
    grad_biases: list[Array]
    cost: float


def complement_bound(name: str, a_L: Array, err_a_L: Array, y: Array, u: float) -> Array | float:
    """Extra error of a^L - y formed through the complement 1 - a^L (module docstring)."""
    if name not in BOUNDED_OUTPUTS:
        return 0.0
    extra = 2 * u * (1.0 + np.abs(y))
    if name == "softmax":
        # 1 - a_top = sum of the other outputs: their errors, and a sum of n - 1 terms.
        n = a_L.shape[1]
        top = np.arange(n)[None, :] == np.argmax(a_L, axis=1)[:, None]
        others = np.sum(err_a_L, axis=1, keepdims=True) - err_a_L + gamma(n - 1, u) * (1.0 - a_L)
        extra = extra + np.where(top, others, 0.0)
    return extra


def error_bounds(
    case: Case,
    z: list[Array],
    a: list[Array],
    deltas: list[Array],
    u: float,
    dtype: str | None = None,
    conventions: Mapping[str, float] | None = None,
    cost_from_activations: bool | None = None,
) -> ErrorBounds:
    """Bounds for computing ``case`` in unit roundoff u, from its accurate z, a and deltas.

    ``dtype`` is the precision being modelled (its spacing below 1 and its underflow enter the
    cost bound); by default the one whose unit roundoff u is (u may include the reference's u64).
    ``conventions``: the declared ones, under which sigma' is evaluated (module docstring).
    ``cost_from_activations``: whether the cost's bound admits logarithms of the rounded a
    ("The cost computed from a"); by default only where that convention is declared, so that
    an undeclared implementation is held to the bound of a cost computed from z^L.
    """
    if cost_from_activations is None:
        cost_from_activations = (conventions or {}).get("cost_from_activations") == 1.0
    if dtype is None:
        dtype = "float32" if u >= UNIT_ROUNDOFF["float32"] else "float64"
    weights, biases, y = case.weights, case.biases, case.y
    c = ELEMENTARY_ULPS * u
    abs_w = [np.abs(w) for w in weights]
    # Forward pass. The inputs are exact (they are the case), so the error starts at 0.
    err_a: list[Array] = [np.zeros_like(case.x)]
    err_z: list[Array] = []
    err_prime: list[Array] = []
    for i, name in enumerate(case.activations):
        n_prev = weights[i].shape[1]
        # z = a W^T + b, a dot product of n_prev + 1 terms; plus the incoming error of a, times |W|.
        ez = gamma(n_prev + 1, u) * (np.abs(a[i]) @ abs_w[i].T + np.abs(biases[i])) + err_a[i] @ abs_w[i].T
        err_z.append(ez)
        out = a[i + 1]
        if name == "softmax":
            # |d a_j| <= a_j (|dz_j| + sum_k a_k |dz_k|), plus exp, the n-term sum, the division.
            n = out.shape[1]
            spread = ez + np.sum(out * ez, axis=1, keepdims=True)
            err_a.append(out * spread + (c + gamma(n + 2, u)) * out)
            err_prime.append(np.zeros_like(out))  # unused: softmax enters through its Jacobian
        else:
            err_a.append(LIPSCHITZ[name] * ez + c * np.abs(out))
            err_prime.append(SECOND_DERIVATIVE[name] * ez + c * PRIME_SCALE[name])

    # Output layer: equation 1, or its closed form a - y (times sum(y) for log_likelihood).
    a_L, out_name = a[-1], case.activations[-1]
    n_L = a_L.shape[1]
    complement = complement_bound(out_name, a_L, err_a[-1], y, u)
    closed_form_weight = cost_record(case.cost).closed_form_weight
    if closed_form_weight is not None:  # the closed form a w(y) - y
        weight = closed_form_weight(y)
        err_delta = err_a[-1] * weight + gamma(n_L + 2, u) * (np.abs(a_L) * weight + np.abs(y)) + complement
    else:  # equation 1 with nabla_a C = a - y (Cost.gradient_is_residual: every cost without a closed form)
        g = a_L - y
        err_g = err_a[-1] + u * (np.abs(a_L) + np.abs(y)) + complement
        if out_name == "softmax":
            # delta_j = a_j (g_j - <a, g>)
            inner = np.sum(a_L * g, axis=1, keepdims=True)
            err_inner = np.sum(err_a[-1] * np.abs(g) + a_L * err_g, axis=1, keepdims=True)
            size = np.abs(g) + np.sum(a_L * np.abs(g), axis=1, keepdims=True)
            err_delta = err_a[-1] * np.abs(g - inner) + a_L * (err_g + err_inner) + gamma(n_L + 3, u) * a_L * size
        else:
            prime = np.abs(sigma_prime(out_name, z[-1], conventions))
            err_delta = err_g * prime + np.abs(g) * err_prime[-1] + u * np.abs(g) * prime
    err_deltas: list[Array] = [err_delta] * len(weights)
    # Hidden layers, back to front: equation 2, delta^l = (delta^{l+1} W^{l+1}) (.) sigma'(z^l).
    for i in range(len(weights) - 2, -1, -1):
        n_next = weights[i + 1].shape[0]
        p = deltas[i + 1] @ weights[i + 1]
        err_p = gamma(n_next, u) * (np.abs(deltas[i + 1]) @ abs_w[i + 1]) + err_deltas[i + 1] @ abs_w[i + 1]
        prime = np.abs(sigma_prime(case.activations[i], z[i], conventions))
        err_deltas[i] = err_p * prime + np.abs(p) * err_prime[i] + u * np.abs(p) * prime

    # Equations 3 and 4: sums over the m samples, then the reduction's scale (two more roundings).
    m = case.x.shape[0]
    scale = 1.0 / m if case.reduction == "mean" else 1.0
    grad_w, grad_b = [], []
    for i in range(len(weights)):
        d, ed, ap, eap = np.abs(deltas[i]), err_deltas[i], np.abs(a[i]), err_a[i]
        value_w = d.T @ ap
        grad_w.append(scale * (gamma(m, u) * value_w + ed.T @ ap + d.T @ eap) + 2 * u * scale * value_w)
        value_b = np.sum(d, axis=0)
        grad_b.append(scale * (gamma(m, u) * value_b + np.sum(ed, axis=0)) + 2 * u * scale * value_b)

    cost = _cost_bound(case, z[-1], a_L, err_z[-1], err_a[-1], u, dtype, cost_from_activations)
    return ErrorBounds(err_z, err_a, err_deltas, grad_w, grad_b, cost)


def log_error(log_v: Array, relative: float, absolute: Array | float, floor: float) -> Array:
    """Largest |ln v' - ln v| over finite positive v' = v (1 + t) + s, |t| <= relative, |s| <= absolute, v' >= floor.

    The error of a logarithm taken of a computed value (module docstring, "The cost computed
    from a"): with d = relative + absolute / v, ln(1 + d) upwards and, downwards, ln(1 / (1 - d))
    for d < 1, but never more than ln(v / floor), since a finite v' is at least ``floor``.
    Worked in logarithms (``log_v`` = ln v), so that a v below float64's range stays finite.
    """
    with np.errstate(divide="ignore"):
        log_d = np.logaddexp(np.log(relative), np.log(absolute) - log_v)
    up = np.logaddexp(0.0, log_d)
    d = np.exp(np.minimum(log_d, 0.0))
    with np.errstate(divide="ignore"):
        down = np.where(log_d < 0, -np.log1p(-np.minimum(d, 1.0)), np.inf)
    return np.maximum(up, np.minimum(down, np.maximum(log_v - np.log(floor), 0.0)))


def _cost_bound(
    case: Case, z_L: Array, a_L: Array, err_z: Array, err_a: Array, u: float, dtype: str, from_a: bool
) -> float:
    """Error bound of C = scale * sum_x C_x, for the cost computed from z^L, or also from a^L (``from_a``).

    From z^L, ln a = -softplus(-z) and ln(1 - a) = -softplus(z) (or log-softmax) err by c
    relative to themselves, the c terms of each cost's model; from the rounded a they may err by
    ``log_error`` more, which grows without limit as the output saturates. That excuse is
    added only when declared: a float32 cost of 106.8 at saturated outputs is otherwise
    allowed an error of 92, and a cost halved by a bug would pass.
    """
    m = a_L.shape[0]
    model = cost_error_model(case.cost)
    per_sample, err = model(CostTerms(case, z_L, a_L, err_z, err_a, u, dtype, from_a))
    scale = 1.0 / m if case.reduction == "mean" else 1.0
    total = float(np.sum(np.abs(per_sample)))
    return scale * (gamma(m, u) * total + float(np.sum(err))) + 2 * u * scale * total


@dataclass(frozen=True)
class CostTerms:
    """What a cost's error model reads: the case, the output layer's values and their bounds."""

    case: Case
    z_L: Array
    a_L: Array
    err_z: Array
    err_a: Array
    u: float
    dtype: str
    from_a: bool  # also the error of logarithms taken of the rounded a (``log_error``)


def _quadratic_error(t: CostTerms) -> tuple[Array, Array]:
    """(C_x, its error bound) per sample for C_x = 1/2 ||a - y||^2, the residual as in equation 1."""
    y, a_L, u = t.case.y, t.a_L, t.u
    g = a_L - y
    complement = complement_bound(t.case.activations[-1], a_L, t.err_a, y, u)
    err_g = t.err_a + u * (np.abs(a_L) + np.abs(y)) + complement
    per_sample = 0.5 * np.sum(g * g, axis=1)
    return per_sample, np.sum(np.abs(g) * err_g, axis=1) + gamma(a_L.shape[1] + 2, u) * per_sample


def _cross_entropy_error(t: CostTerms) -> tuple[Array, Array]:
    """(C_x, its error bound) for C_x = sum y softplus(-z) + (1 - y) softplus(z); dC_x/dz = a - y.

    From a: ln a and ln(1 - a) of a computed a = sigma(z)(1 + t) + s, |t| <= c, |s| <= tiny;
    1 - a is then off by c a + tiny absolutely and rounds once more (u): module docstring.
    """
    y, a_L, u = t.case.y, t.a_L, t.u
    c, tiny, gap = ELEMENTARY_ULPS * u, SMALLEST_SUBNORMAL[t.dtype], UNIT_ROUNDOFF[t.dtype]
    log_a, log_not_a = -softplus(-t.z_L), -softplus(t.z_L)
    terms = np.abs(y) * -log_a + np.abs(1 - y) * -log_not_a
    per_sample = np.sum(terms, axis=1)
    from_a_terms = (
        np.abs(y) * log_error(log_a, c, tiny, tiny) + np.abs(1 - y) * log_error(log_not_a, u, c * a_L + tiny, gap)
        if t.from_a
        else 0.0
    )
    err = (
        np.sum(np.abs(a_L - y) * t.err_z, axis=1)
        + gamma(2 * a_L.shape[1] + 2, u) * per_sample
        + np.sum(c * terms + from_a_terms, axis=1)
    )
    return per_sample, err


def _log_likelihood_error(t: CostTerms) -> tuple[Array, Array]:
    """(C_x, its error bound) for C_x = -sum y ln a, d ln a_j / dz_k = [j = k] - a_k.

    ln of a computed softmax a_j (1 + t) + s: |t| <= c + gamma_{n+2}, s an underflow. From z^L,
    log-softmax's two terms (z_j - max, the log-sum-exp) have the sign of log a_j, so
    (c + gamma_{n+2}) |ln a_j| bounds their rounding; from a, ``log_error`` more.
    """
    y, a_L, z_L, u = t.case.y, t.a_L, t.z_L, t.u
    c, tiny, n = ELEMENTARY_ULPS * u, SMALLEST_SUBNORMAL[t.dtype], a_L.shape[1]
    log_a = z_L - np.max(z_L, axis=1, keepdims=True)
    log_a = log_a - np.log(np.sum(np.exp(log_a), axis=1, keepdims=True))
    per_sample = -np.sum(y * log_a, axis=1)
    spread = t.err_z + np.sum(a_L * t.err_z, axis=1, keepdims=True)
    from_a_terms = log_error(log_a, c + gamma(n + 2, u), tiny, tiny) if t.from_a else 0.0
    err = np.sum(np.abs(y) * (spread + (c + gamma(n + 2, u)) * np.abs(log_a) + from_a_terms), axis=1)
    return per_sample, err


# The error model of each cost of reference.costs.COST_RECORDS (tests/test_cost_tables.py checks
# that it lists exactly those): a cost without one has no bound, and ``cost_error_model`` says so.
COST_ERROR_MODELS: dict[str, Callable[[CostTerms], tuple[Array, Array]]] = {
    "quadratic": _quadratic_error,
    "cross_entropy": _cross_entropy_error,
    "log_likelihood": _log_likelihood_error,
}


def cost_error_model(cost: str) -> Callable[[CostTerms], tuple[Array, Array]]:
    """The rounding-error model of ``cost``'s C; a cost without one is an error naming it, never
    another cost's bound."""
    cost_record(cost)  # an unknown cost: the reference's error, naming the known ones
    model = COST_ERROR_MODELS.get(cost)
    if model is None:
        raise ValueError(
            f"cost: {cost!r} has no error model in conformance/judging/tolerances.py COST_ERROR_MODELS "
            f"(it has one for {', '.join(COST_ERROR_MODELS)}); the suite cannot bound its rounding"
        )
    return model


def ambiguous_kink(
    activations: tuple[str, ...], z: list[Array], err_z: list[Array]
) -> tuple[int, int, int, float] | None:
    """(layer, sample, unit, kink) of a pre-activation that rounding could put on either side of
    a kink of its activation (relu: 0; ``kinks_of``), else None.

    A z within SAFETY times its error bound of the kink is ambiguous unless that bound is 0,
    which happens only when every term of the dot product is 0 (a zero weight row and
    a zero bias, or zero inputs): then z is exactly 0 in any evaluation order.
    """
    for i, kink in kinks_of(activations):
        close = (np.abs(z[i] - kink) <= SAFETY * err_z[i]) & (err_z[i] > 0)
        if close.any():
            sample, unit = (int(k) for k in np.argwhere(close)[0])
            return i + 2, sample, unit, kink
    return None


def ambiguous_threshold(
    activations: tuple[str, ...], z: list[Array], err_z: list[Array], threshold: float | None, u: float
) -> tuple[int, int, int] | None:
    """(layer, sample, unit) of a softplus pre-activation within rounding of a declared threshold.

    Above the threshold softplus is z itself, below it ln(1 + e^z): the two differ by
    log1p(e^-t), far beyond rounding, so a z whose side of t could flip is not judged. The
    window is z's own bound and two roundings of t (t in the implementation's dtype, unit
    roundoff u, and the comparison).
    """
    if threshold is None:
        return None
    for i, name in enumerate(activations):
        if name != "softplus":
            continue
        close = np.abs(z[i] - threshold) <= SAFETY * (err_z[i] + 2 * u * abs(threshold))
        if close.any():
            sample, unit = (int(k) for k in np.argwhere(close)[0])
            return i + 2, sample, unit
    return None


@dataclass(frozen=True)
class Expected:
    """The reference's values for one case, in float64, and per-element tolerances for its dtype."""

    case64: Case
    a: list[Array]
    deltas: list[Array]
    grad_weights: list[Array]
    grad_biases: list[Array]
    cost: float
    tol_deltas: list[Array]
    tol_weights: list[Array]
    tol_biases: list[Array]
    tol_a: list[Array]
    tol_cost: float
    u: float
    scale: float
    z: list[Array] = field(default_factory=list)  # the pre-activations, for the diagnoses
    conventions: dict[str, float] = field(default_factory=dict)  # under which it was computed


def with_dtype(case: Case, dtype: str) -> Case:
    """The case with its arrays cast to dtype (exact from float32 to float64)."""
    return case.replace(
        dtype=dtype,
        weights=[np.asarray(w, dtype=dtype) for w in case.weights],
        biases=[np.asarray(b, dtype=dtype) for b in case.biases],
        x=np.asarray(case.x, dtype=dtype),
        y=np.asarray(case.y, dtype=dtype),
    )


def tolerance(bound: Array, value: Array) -> Array:
    """T = SAFETY * E + u64 |R|: the bound, with margin, and one float64 rounding of R."""
    return SAFETY * bound + U64 * np.abs(value)


def expect(case: Case, conventions: Mapping[str, float] | None = None) -> Expected:
    """Reference values and tolerances; raises Unusable for cases no tolerance can judge fairly.

    ``conventions``: the implementation's declared ones (CONTRACT.md section 1), under which
    the reference computes; None or empty: the contract's defaults.
    """
    conventions = dict(conventions or {})
    case = validate(case)
    c64 = with_dtype(case, "float64")
    # The engine's core, not its validating entry points: a float32 case's targets are
    # probability vectors to float32 accuracy, which float64 validation would reject.
    # Overflow is detected from the values, not by trapping floating-point flags, which
    # BLAS kernels can raise spuriously on finite data.
    with np.errstate(all="ignore"):
        p = engine.backpropagate(c64, c64.x, c64.y, conventions)  # one pass: z, a, deltas, gradient and C
        z, a, deltas, grad_w, grad_b = p.z, p.a, p.deltas, p.grad_weights, p.grad_biases
        cost = float(p.cost)  # type: ignore[arg-type]
    if not (np.isfinite(cost) and all(np.isfinite(v).all() for v in (*z, *a, *deltas, *grad_w, *grad_b))):
        raise Unusable("the reference's float64 values of this case are not all finite")
    u = UNIT_ROUNDOFF[case.dtype] + U64
    bounds = error_bounds(c64, z, a, deltas, u, case.dtype, conventions)
    ambiguous = ambiguous_kink(c64.activations, z, bounds.z)
    if ambiguous is not None:
        layer, sample, unit, kink = ambiguous
        raise Unusable(
            f"{c64.activations[layer - 2]} pre-activation z^{layer}[{sample}, {unit}] = "
            f"{z[layer - 2][sample, unit]!r} lies within rounding error of the kink at {kink:g}"
        )
    threshold = conventions.get("softplus_threshold")
    near = ambiguous_threshold(c64.activations, z, bounds.z, threshold, u)
    if near is not None:
        layer, sample, unit = near
        raise Unusable(
            f"softplus pre-activation z^{layer}[{sample}, {unit}] = {z[layer - 2][sample, unit]!r} "
            f"lies within rounding error of the declared softplus_threshold {threshold!r}"
        )

    # a^{l-1}'s own error bound feeds the consistency check of equation 4 with reported deltas.
    tol_a = [SAFETY * e for e in bounds.a]
    return Expected(
        case64=c64,
        a=list(a),
        deltas=list(deltas),
        grad_weights=list(grad_w),
        grad_biases=list(grad_b),
        cost=cost,
        tol_deltas=[tolerance(e, v) for e, v in zip(bounds.deltas, deltas, strict=True)],
        tol_weights=[tolerance(e, v) for e, v in zip(bounds.grad_weights, grad_w, strict=True)],
        tol_biases=[tolerance(e, v) for e, v in zip(bounds.grad_biases, grad_b, strict=True)],
        tol_a=tol_a,
        tol_cost=float(tolerance(np.asarray(bounds.cost), np.asarray(cost))),
        u=u,
        scale=1.0 / case.m if case.reduction == "mean" else 1.0,
        z=list(z),
        conventions=conventions,
    )


@dataclass(frozen=True)
class Mismatch:
    """A layer that fails the norm-wise test, with its worst element for the message."""

    index: tuple[int, ...]
    actual: float
    expected: float
    error: float
    tolerance: float


def norm(array: Array) -> float:
    with np.errstate(over="ignore"):  # an answer near the largest float: its norm is inf, and fails
        return float(np.linalg.norm(np.ravel(array)))


def norm_mismatch(actual: Array, expected: Array, tolerance: Array | float) -> Mismatch | None:
    """None when ||actual - expected|| <= ||tolerance||, else the mismatch and its worst element."""
    diff = np.asarray(actual, dtype=np.float64) - expected
    error = norm(diff)
    limit = norm(np.broadcast_to(tolerance, np.shape(diff)))
    if error <= limit:
        return None
    flat = int(np.argmax(np.abs(diff))) if diff.size else 0
    index = tuple(int(i) for i in np.unravel_index(flat, diff.shape)) if diff.ndim else ()
    return Mismatch(index, float(np.asarray(actual)[index]), float(np.asarray(expected)[index]), error, limit)


def format_number(value: float) -> str:
    """Shortest round-trip form: a float32-sized error in a float64 number stays visible."""
    return repr(float(value))


def place(field: str, layer_index: int | None, index: tuple[int, ...]) -> str:
    """'grad_weights[1][2, 0]', 'cost'."""
    text = field if layer_index is None else f"{field}[{layer_index}]"
    return text + (f"[{', '.join(map(str, index))}]" if index else "")
