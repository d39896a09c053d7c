"""The golden vectors' per-element tolerances: a first-order running rounding-error bound.

Why a bound and not a constant: a tolerance must admit every correct implementation
in the case's dtype (any summation order, any sane formula for sigma') and reject a
float64 implementation that computes in float32 inside. Both follow from the
standard model of floating-point arithmetic (Higham, *Accuracy and Stability of
Numerical Algorithms*, ch. 2-3): each operation has relative error at most u
(u = 2^-53 for float64, 2^-24 for float32), and a sum or dot product of n terms
has absolute error at most gamma_n * sum|terms|, gamma_n = n u / (1 - n u), in any
order. Propagating absolute error bounds through the forward pass and then
backwards through equations 1-4 (first order: products of two errors dropped)
gives a bound E for every element of every result array. Each step is commented
where it is computed below. The stored tolerance is

    tol = SAFETY * E + u64 * |expected|

where the second term covers rounding the 50-digit ground truth to float64.
SAFETY = 4 absorbs the dropped second-order terms and the constants of the
elementary functions; it is far from the 2^29 that separates float32 from float64,
so a float64 implementation computing in float32 fails by a factor of about 10^7.

Elementary functions (exp, log1p, tanh, the sigmoid) are assumed accurate to
ELEMENTARY_ULPS relative rounding errors of their result, and sigma' to that many
absolute rounding errors of max|sigma'|-sized quantities (a naive s(1 - s) for
the sigmoid or 1 - t^2 for tanh loses relative accuracy when saturated, but not
absolute accuracy, which is what this bound measures).

The one discontinuity, relu' at 0, is not covered by a rounding bound: a
pre-activation whose exact value lies within its own error bound of 0 (but is
not exactly 0 in every evaluation order) could take either branch. The vector
generator rejects such cases (see ``ambiguous_relu``); exact zeros made by a zero
weight row and zero bias are exact in every order and stay.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from reference.activations import sigma_prime, softplus

Array = np.ndarray

UNIT_ROUNDOFF: dict[str, float] = {"float64": 2.0**-53, "float32": 2.0**-24}
SAFETY = 4.0
ELEMENTARY_ULPS = 4.0

# max |sigma'| (Lipschitz constant of sigma) and max |sigma''|, for first-order propagation.
LIPSCHITZ: dict[str, float] = {
    "sigmoid": 0.25,
    "tanh": 1.0,
    "relu": 1.0,
    "identity": 1.0,
    "softplus": 1.0,
}
SECOND_DERIVATIVE: dict[str, float] = {
    "sigmoid": 0.0963,  # max |s(1-s)(1-2s)| = 1/(6 sqrt 3)
    "tanh": 0.7699,  # max |2 t (1 - t^2)| = 4/(3 sqrt 3)
    "relu": 0.0,  # away from 0, see ambiguous_relu
    "identity": 0.0,
    "softplus": 0.25,  # softplus'' = sigmoid'
}
# Size of the quantities whose rounding makes up sigma' (s and 1 - s, t^2 and 1, ...); 0: exact.
PRIME_SCALE: dict[str, float] = {
    "sigmoid": 1.0,
    "tanh": 1.0,
    "relu": 0.0,
    "identity": 0.0,
    "softplus": 1.0,
}


def gamma(n: int, u: float) -> float:
    """Higham's gamma_n: the relative error bound of a sum of n terms, in any order."""
    return n * u / (1.0 - n * u)


@dataclass(frozen=True)
class ErrorBounds:
    """First-order absolute error bounds, element by element, for a computation in one dtype."""

    z: list[Array]
    deltas: list[Array]
    grad_weights: list[Array]
    grad_biases: list[Array]
    cost: float


def error_bounds(
    weights: list[Array],
    biases: list[Array],
    x: Array,
    y: Array,
    activations: tuple[str, ...],
    cost: str,
    reduction: str,
    z: list[Array],
    a: list[Array],
    deltas: list[Array],
    u: float,
) -> ErrorBounds:
    """Bounds for computing the case in unit roundoff u, from accurate forward values and deltas."""
    c = ELEMENTARY_ULPS * u
    m = x.shape[0]
    abs_w = [np.abs(w) for w in weights]
    # Forward pass. The inputs are exact (they are the case), so the error starts at 0.
    err_a: list[Array] = [np.zeros_like(x)]
    err_z: list[Array] = []
    err_prime: list[Array] = []
    for i, name in enumerate(activations):
        n_prev = weights[i].shape[1]
        # z = a W^T + b: a dot product of n_prev + 1 terms, plus the incoming error of a times |W|.
        ez = gamma(n_prev + 1, u) * (np.abs(a[i]) @ abs_w[i].T + np.abs(biases[i])) + err_a[i] @ abs_w[i].T
        err_z.append(ez)
        out = a[i + 1]
        if name == "softmax":
            # |d a_j| <= a_j (|dz_j| + sum_k a_k |dz_k|), plus exp, the sum of n and the division.
            n = out.shape[1]
            spread = ez + np.sum(out * ez, axis=1, keepdims=True)
            err_a.append(out * spread + (c + gamma(n + 2, u)) * out)
            err_prime.append(np.zeros_like(out))  # unused: softmax enters through its Jacobian
        else:
            err_a.append(LIPSCHITZ[name] * ez + c * np.abs(out))
            err_prime.append(SECOND_DERIVATIVE[name] * ez + c * PRIME_SCALE[name])

    # Output layer: equation 1 (or its closed form a - y).
    a_L, out_name = a[-1], activations[-1]
    n_L = a_L.shape[1]
    if cost in ("cross_entropy", "log_likelihood"):
        sum_y = np.sum(np.abs(y), axis=1, keepdims=True) if cost == "log_likelihood" else 1.0
        # delta = a sum(y) - y (or a - y): the error of a, the rounding of sum, product, difference.
        err_delta = err_a[-1] * sum_y + gamma(n_L + 2, u) * (np.abs(a_L) * sum_y + np.abs(y))
    else:
        g = a_L - y
        err_g = err_a[-1] + u * (np.abs(a_L) + np.abs(y))
        if out_name == "softmax":
            # delta_j = a_j (g_j - <a, g>)
            inner = np.sum(a_L * g, axis=1, keepdims=True)
            err_inner = np.sum(err_a[-1] * np.abs(g) + a_L * err_g, axis=1, keepdims=True)
            size = np.abs(g) + np.sum(a_L * np.abs(g), axis=1, keepdims=True)
            err_delta = err_a[-1] * np.abs(g - inner) + a_L * (err_g + err_inner) + gamma(n_L + 3, u) * a_L * size
        else:
            prime = np.abs(sigma_prime(out_name, z[-1]))
            err_delta = err_g * prime + np.abs(g) * err_prime[-1] + u * np.abs(g) * prime
    err_deltas: list[Array] = [err_delta] * len(weights)
    # Hidden layers, back to front: equation 2, delta^l = (delta^{l+1} W^{l+1}) (.) sigma'(z^l).
    for i in range(len(weights) - 2, -1, -1):
        n_next = weights[i + 1].shape[0]
        p = deltas[i + 1] @ weights[i + 1]
        err_p = gamma(n_next, u) * (np.abs(deltas[i + 1]) @ abs_w[i + 1]) + err_deltas[i + 1] @ abs_w[i + 1]
        prime = np.abs(sigma_prime(activations[i], z[i]))
        err_deltas[i] = err_p * prime + np.abs(p) * err_prime[i] + u * np.abs(p) * prime

    # Equations 3 and 4: sums over the m samples, then the reduction's scale (two more roundings).
    scale = 1.0 / m if reduction == "mean" else 1.0
    grad_w, grad_b = [], []
    for i in range(len(weights)):
        d, ed, ap, eap = np.abs(deltas[i]), err_deltas[i], np.abs(a[i]), err_a[i]
        value_w = d.T @ ap
        grad_w.append(scale * (gamma(m, u) * value_w + ed.T @ ap + d.T @ eap) + 2 * u * scale * value_w)
        value_b = np.sum(d, axis=0)
        grad_b.append(scale * (gamma(m, u) * value_b + np.sum(ed, axis=0)) + 2 * u * scale * value_b)

    cost_bound = _cost_bound(cost, reduction, z[-1], a_L, y, err_z[-1], err_a[-1], u)
    return ErrorBounds(err_z, err_deltas, grad_w, grad_b, cost_bound)


def _cost_bound(
    cost: str,
    reduction: str,
    z_L: Array,
    a_L: Array,
    y: Array,
    err_z: Array,
    err_a: Array,
    u: float,
) -> float:
    """Error bound of C = scale * sum_x C_x."""
    c = ELEMENTARY_ULPS * u
    m, n = a_L.shape
    if cost == "quadratic":
        g = a_L - y
        err_g = err_a + u * (np.abs(a_L) + np.abs(y))
        per_sample = 0.5 * np.sum(g * g, axis=1)
        err = np.sum(np.abs(g) * err_g, axis=1) + gamma(n + 2, u) * per_sample
    elif cost == "cross_entropy":
        # C_x = sum y softplus(-z) + (1 - y) softplus(z); dC_x/dz = a - y. A naive ln(a) errs by the
        # relative error of a, i.e. ~c absolute, which the last term covers.
        terms = np.abs(y) * softplus(-z_L) + np.abs(1 - y) * softplus(z_L)
        per_sample = np.sum(terms, axis=1)
        err = (
            np.sum(np.abs(a_L - y) * err_z, axis=1)
            + gamma(2 * n + 2, u) * per_sample
            + c * np.sum(terms + np.abs(y) + np.abs(1 - y), axis=1)
        )
    else:  # log_likelihood: C_x = -sum y ln a, d ln a_j/dz_k = [j = k] - a_k
        log_a = z_L - np.max(z_L, axis=1, keepdims=True)
        log_a = log_a - np.log(np.sum(np.exp(log_a), axis=1, keepdims=True))
        per_sample = -np.sum(y * log_a, axis=1)
        spread = err_z + np.sum(a_L * err_z, axis=1, keepdims=True)
        err = np.sum(np.abs(y) * (spread + (c + gamma(n + 2, u)) * (np.abs(log_a) + 1.0)), axis=1)
    scale = 1.0 / m if reduction == "mean" else 1.0
    total = float(np.sum(np.abs(per_sample)))
    return scale * (gamma(m, u) * total + float(np.sum(err))) + 2 * u * scale * total


def ambiguous_relu(
    activations: tuple[str, ...], z: list[Array], err_z: list[Array]
) -> tuple[int, tuple[int, int]] | None:
    """(layer, (sample, unit)) of a relu pre-activation whose sign rounding could flip, else None.

    z must be the exact (ground-truth) pre-activations. A z within SAFETY times its error
    bound of 0 is ambiguous unless that bound is 0, which happens only when every term of
    the dot product is 0 (zero weight row, zero bias): then z is exactly 0 in any order.
    """
    for i, name in enumerate(activations):
        if name != "relu":
            continue
        close = (np.abs(z[i]) <= SAFETY * err_z[i]) & (err_z[i] > 0)
        if close.any():
            sample, unit = (int(k) for k in np.argwhere(close)[0])
            return i + 2, (sample, unit)
    return None
