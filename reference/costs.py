"""The cost functions C_x of one sample, their gradients, and the reductions over a batch.

cross_entropy and log_likelihood are evaluated from z^L (through softplus and
log-softmax), never from ln(a^L): once sigma saturates, a^L rounds to exactly
0 or 1 and ln(a^L) would be -inf, while the cost itself is finite.
"""

from __future__ import annotations

import numpy as np

from . import _ops
from ._ops import Array
from .activations import _folded, log_softmax, softplus

COSTS: tuple[str, ...] = ("quadratic", "cross_entropy", "log_likelihood")
REDUCTIONS: tuple[str, ...] = ("mean", "sum")

# The output activation each cost requires (None: any).
REQUIRED_OUTPUT: dict[str, str | None] = {
    "quadratic": None,
    "cross_entropy": "sigmoid",
    "log_likelihood": "softmax",
}


def per_sample_cost(cost: str, sigma_L: str, z_L: Array, a_L: Array, y: Array, a_minus_y: Array | None = None) -> Array:
    """C_x for every sample (row) of the batch (a_minus_y: ``residual``, if already computed)."""
    if cost == "quadratic":
        # C_x = 1/2 ||a^L - y||^2   (the seed's cost)
        diff = residual(sigma_L, z_L, a_L, y) if a_minus_y is None else a_minus_y
        return _ops.const(a_L, 0.5) * (diff * diff).sum(axis=1)
    if cost == "cross_entropy":
        # C_x = -sum_j [y ln a + (1 - y) ln(1 - a)],  ln a = -softplus(-z),  ln(1 - a) = -softplus(z)
        one = _ops.const(a_L, 1.0)
        return np.sum(y * softplus(-z_L) + (one - y) * softplus(z_L), axis=1)
    if cost == "log_likelihood":
        # C_x = -sum_j y_j ln a_j,  ln a = log_softmax(z)
        return -(y * log_softmax(z_L)).sum(axis=1)
    raise ValueError(f"unknown cost {cost!r}; expected one of {COSTS}")


def residual(sigma_L: str, z_L: Array, a_L: Array, y: Array) -> Array:
    """a^L - y, without the cancellation that a saturated output causes.

    When sigma saturates, a^L rounds to a number near 1 (or -1) and a^L - y loses every digit
    that the complement 1 - a^L would carry; float32 loses 1e-3 relative by z = 11. The
    complement is evaluated directly instead: 1 - sigmoid(z) = sigmoid(-z), 1 - tanh(z) =
    2 e^{-2z} / (1 + e^{-2z}), and for softmax 1 - a_top = the sum of the other a_k.
    """
    if sigma_L == "sigmoid":
        positive, s = _folded(z_L)
        e = _ops.exp(s)
        one = _ops.const(a_L, 1.0)
        complement = e / (one + e)  # sigmoid(-|z|)
        return np.where(positive, (one - y) - complement, complement - y)
    if sigma_L == "tanh":
        positive, s = _folded(z_L)
        e = _ops.exp(s + s)
        one = _ops.const(a_L, 1.0)
        complement = (one + one) * e / (one + e)  # 1 - tanh(|z|)
        return np.where(positive, (one - y) - complement, complement - (one + y))
    if sigma_L == "softmax":
        top = np.argmax(_ops.real(a_L), axis=1)[:, None]
        is_top = np.arange(a_L.shape[1])[None, :] == top
        rest = np.sum(np.where(is_top, a_L * _ops.const(a_L, 0.0), a_L), axis=1, keepdims=True)
        one = _ops.const(a_L, 1.0)
        return np.where(is_top, (one - y) - rest, a_L - y)
    return a_L - y


def closed_form_output_error(cost: str, a_minus_y: Array, a_L: Array, y: Array) -> Array | None:
    """delta^L in closed form where equation 1 simplifies exactly; None where it does not.

    cross_entropy with sigmoid: nabla_a C (.) sigma'(z) = (a - y)/(a(1 - a)) * a(1 - a) = a - y.
    log_likelihood with softmax: J^T(-y/a) = -y + a * sum_j y_j, which is a - y for probability
    vectors; keeping sum_j y_j makes it the exact derivative even when float targets such as
    0.1 and 0.9 do not sum to exactly 1 in the engine's mpmath ground truth.
    """
    if cost == "cross_entropy":
        return a_minus_y
    if cost == "log_likelihood":
        # a * sum(y) - y = (a - y) + a * (sum(y) - 1); the second term is 0 for one-hot targets.
        excess = y.sum(axis=1, keepdims=True) - _ops.const(a_L, 1.0)
        return a_minus_y + a_L * excess
    return None


def reduction_scale(reduction: str, m: int, like: Array) -> object:
    """The factor between C and sum_x C_x: 1/m for "mean" (what the seed's update descends), 1 for "sum"."""
    if reduction == "mean":
        return _ops.const(like, 1.0) / m if _ops.is_mp(like) else _ops.const(like, 1.0 / m)
    if reduction == "sum":
        return _ops.const(like, 1.0)
    raise ValueError(f"unknown reduction {reduction!r}; expected one of {REDUCTIONS}")


def total(
    cost: str, reduction: str, sigma_L: str, z_L: Array, a_L: Array, y: Array, a_minus_y: Array | None = None
) -> object:
    """C over the batch: C_x reduced ("mean" or "sum"); a_minus_y: ``residual``, if already computed.

    The quadratic cost is summed over the whole batch at once, C = (scale / 2) sum (a^L - y)^2:
    the per-sample sums' terms in one pairwise sum (as accurate; a BLAS dot product would not be
    in float32 at large m), in half the time on small batches.
    """
    if cost == "quadratic":
        diff = residual(sigma_L, z_L, a_L, y) if a_minus_y is None else a_minus_y
        return _ops.const(a_L, 0.5) * (diff * diff).sum() * reduction_scale(reduction, a_L.shape[0], a_L)
    return reduce(reduction, per_sample_cost(cost, sigma_L, z_L, a_L, y, a_minus_y))


def reduce(reduction: str, per_sample: Array) -> object:
    """C = (1/m) sum_x C_x ("mean") or sum_x C_x ("sum")."""
    total = per_sample.sum()
    return total * reduction_scale(reduction, per_sample.shape[0], per_sample)
