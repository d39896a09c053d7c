"""The cost functions C_x of one sample, their gradients, and the reductions over a batch.

cross_entropy and log_likelihood are evaluated from z^L (through softplus and
log-softmax), never from ln(a^L): once sigma saturates, a^L rounds to exactly
0 or 1 and ln(a^L) would be -inf, while the cost itself is finite.

Every fact about a cost that another module needs (the output activation it requires, the kind
of targets it allows, how delta^L is formed) is on its ``Cost`` record in ``COST_RECORDS``;
``cost_record`` looks one up and refuses an unknown name, so no table falls through to another
cost's branch.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from types import MappingProxyType

import numpy as np

from . import _ops
from ._ops import Array
from .activations import _folded, log_softmax, softplus

# C_x (or its batch sum) from (sigma_L, z^L, a^L, y, a^L - y if already computed).
PerSample = Callable[[str, Array, Array, Array, Array | None], Array]

REDUCTIONS: tuple[str, ...] = ("mean", "sum")
# What a cost allows as targets y: any real number, each y_j in [0, 1], or each row a
# probability vector (non-negative, summing to 1). reference/validation.py checks them and
# reference/strategies.py draws them, each by this kind.
TARGET_KINDS: tuple[str, ...] = ("real", "unit_interval", "probability")


def _quadratic(sigma_L: str, z_L: Array, a_L: Array, y: Array, a_minus_y: Array | None) -> Array:
    # C_x = 1/2 ||a^L - y||^2   (the seed's cost)
    diff = residual(sigma_L, z_L, a_L, y) if a_minus_y is None else a_minus_y
    return _ops.const(a_L, 0.5) * (diff * diff).sum(axis=1)


def _quadratic_total(sigma_L: str, z_L: Array, a_L: Array, y: Array, a_minus_y: Array | None) -> Array:
    # 1/2 sum over the whole batch of (a^L - y)^2 (``total`` says why at once)
    diff = residual(sigma_L, z_L, a_L, y) if a_minus_y is None else a_minus_y
    if diff.dtype == np.float64:  # one BLAS dot product (``total`` says why float64 only)
        return 0.5 * np.vdot(diff, diff)
    return _ops.const(a_L, 0.5) * (diff * diff).sum()


def _cross_entropy(sigma_L: str, z_L: Array, a_L: Array, y: Array, a_minus_y: Array | None) -> Array:
    # C_x = -sum_j [y ln a + (1 - y) ln(1 - a)],  ln a = -softplus(-z),  ln(1 - a) = -softplus(z)
    one = _ops.const(a_L, 1.0)
    return np.sum(y * softplus(-z_L) + (one - y) * softplus(z_L), axis=1)


def _log_likelihood(sigma_L: str, z_L: Array, a_L: Array, y: Array, a_minus_y: Array | None) -> Array:
    # C_x = -sum_j y_j ln a_j,  ln a = log_softmax(z)
    return -(y * log_softmax(z_L)).sum(axis=1)


def _sigmoid_cross_entropy_delta(a_minus_y: Array, a_L: Array, y: Array) -> Array:
    # nabla_a C (.) sigma'(z) = (a - y)/(a(1 - a)) * a(1 - a) = a - y
    return a_minus_y


def _softmax_log_likelihood_delta(a_minus_y: Array, a_L: Array, y: Array) -> Array:
    # J^T(-y/a) = -y + a sum_j y_j = (a - y) + a (sum(y) - 1); the second term is 0 for one-hot
    # targets. Keeping sum_j y_j makes it the exact derivative even when float targets such as
    # 0.1 and 0.9 do not sum to exactly 1 in the engine's mpmath ground truth.
    excess = y.sum(axis=1, keepdims=True) - _ops.const(a_L, 1.0)
    return a_minus_y + a_L * excess


def _one(y: Array) -> float:
    return 1.0


def _target_mass(y: Array) -> Array:
    return np.sum(np.abs(y), axis=1, keepdims=True)


@dataclass(frozen=True)
class Cost:
    """One cost C_x and the facts every layer needs about it, kept together.

    delta^L comes one of two ways, and every cost says which: equation 1 with nabla_a C = a^L - y
    (``gradient_is_residual``; the residual is formed by ``residual``, without cancellation), or
    a closed form with the output activation the cost requires (``closed_form``), where
    nabla_a C (.) sigma'(z^L) simplifies exactly. The rounding-error model of the suite
    (conformance/judging/tolerances.py) keeps its own bound per cost, and fails by name for a
    cost it has none for; tests/test_cost_tables.py names every per-cost table that misses one.
    """

    name: str
    per_sample: PerSample  # C_x for every row: (sigma_L, z^L, a^L, y, a^L - y if computed)
    targets: str  # one of TARGET_KINDS
    output: str | None = None  # the output activation the cost requires (None: any)
    gradient_is_residual: bool = False  # nabla_a C = a^L - y: delta^L by equation 1
    closed_form: Callable[[Array, Array, Array], Array] | None = None  # delta^L from (a^L - y, a^L, y)
    # w(y) with delta^L = a^L w - y in the closed form, bounded in magnitude (|a| w + |y| is the
    # size of the terms delta^L is formed from before they cancel; an error in a is scaled by w).
    closed_form_weight: Callable[[Array], Array | float] | None = None
    # C_x takes ln a (and ln(1 - a)): computed from the rounded output rather than from z^L, it
    # loses its digits (and becomes infinite) where the output saturates.
    logarithmic: bool = False
    # C over the batch in one sum (as accurate as per_sample's sums, and faster), before the
    # reduction's scale; None: the per-sample costs are reduced.
    batch_sum: PerSample | None = None

    def __post_init__(self) -> None:
        if self.targets not in TARGET_KINDS:
            raise ValueError(f"Cost {self.name!r}: targets {self.targets!r}; expected one of {TARGET_KINDS}")
        if self.gradient_is_residual == (self.closed_form is not None):
            raise ValueError(
                f"Cost {self.name!r}: delta^L needs exactly one of gradient_is_residual (equation 1) or "
                f"closed_form; got gradient_is_residual={self.gradient_is_residual}, "
                f"closed_form={self.closed_form!r}"
            )
        if self.closed_form is not None and (self.output is None or self.closed_form_weight is None):
            raise ValueError(
                f"Cost {self.name!r}: a closed form holds with one output activation (output) and "
                f"needs its closed_form_weight; got output={self.output!r}, "
                f"closed_form_weight={self.closed_form_weight!r}"
            )


COST_RECORDS: Mapping[str, Cost] = MappingProxyType(
    {
        record.name: record
        for record in (
            Cost("quadratic", _quadratic, "real", gradient_is_residual=True, batch_sum=_quadratic_total),
            Cost(
                "cross_entropy",
                _cross_entropy,
                "unit_interval",
                output="sigmoid",
                closed_form=_sigmoid_cross_entropy_delta,
                closed_form_weight=_one,  # a - y
                logarithmic=True,
            ),
            Cost(
                "log_likelihood",
                _log_likelihood,
                "probability",
                output="softmax",
                closed_form=_softmax_log_likelihood_delta,
                closed_form_weight=_target_mass,  # a sum(y) - y
                logarithmic=True,
            ),
        )
    }
)
"""Every cost by name, in the order the suite lists them."""

COSTS: tuple[str, ...] = tuple(COST_RECORDS)
# The output activation each cost requires (None: any).
REQUIRED_OUTPUT: Mapping[str, str | None] = MappingProxyType({n: r.output for n, r in COST_RECORDS.items()})


def cost_record(name: str, field: str = "cost") -> Cost:
    """The record of the cost called ``name``; an unknown name is a ValueError naming ``field``,
    the known costs and the value given (never another cost's facts)."""
    record = COST_RECORDS.get(name) if isinstance(name, str) else None
    if record is None:
        raise ValueError(f"{field}: unknown cost {name!r}; expected one of {', '.join(COSTS)}")
    return record


def per_sample_cost(cost: str, sigma_L: str, z_L: Array, a_L: Array, y: Array, a_minus_y: Array | None = None) -> Array:
    """C_x for every sample (row) of the batch (a_minus_y: ``residual``, if already computed)."""
    return cost_record(cost).per_sample(sigma_L, z_L, a_L, y, a_minus_y)


def residual(sigma_L: str, z_L: Array, a_L: Array, y: Array, complement: Array | None = None) -> Array:
    """a^L - y, without the cancellation that a saturated output causes.

    When sigma saturates, a^L rounds to a number near 1 (or -1) and a^L - y loses every digit
    that the complement 1 - a^L would carry; float32 loses 1e-3 relative by z = 11. The
    complement is evaluated directly instead: 1 - sigmoid(z) = sigmoid(-z), 1 - tanh(z) =
    2 e^{-2z} / (1 + e^{-2z}), and for softmax 1 - a_top = the sum of the other a_k.
    ``complement``: 1 - a^L as the forward pass formed it (e^{-z} sigmoid(z), without
    cancellation: ``activations.sigma_prime_and_complement``), where it did; then no second
    exponential is taken.
    """
    if sigma_L == "sigmoid" and complement is not None:
        # a^L - y = (1 - y) - (1 - a^L) where a^L >= 1/2, a^L - y below (a^L is accurate there)
        return np.where(z_L >= 0, (1.0 - y) - complement, a_L - y)
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
        # Only where |a^L| >= 1/2, as for sigmoid: near z = 0, (1 - y) - (1 - a^L) would subtract
        # two numbers near 1 to form a small a^L - y, losing what a^L - y itself keeps.
        saturated = _ops.real(complement) <= 0.5
        folded = np.where(positive, (one - y) - complement, complement - (one + y))
        return np.where(saturated, folded, a_L - y)
    if sigma_L == "softmax":
        top = np.argmax(_ops.real(a_L), axis=1)[:, None]
        is_top = np.arange(a_L.shape[1])[None, :] == top
        rest = np.sum(np.where(is_top, a_L * _ops.const(a_L, 0.0), a_L), axis=1, keepdims=True)
        one = _ops.const(a_L, 1.0)
        return np.where(is_top, (one - y) - rest, a_L - y)
    return a_L - y


def closed_form_output_error(cost: str, a_minus_y: Array, a_L: Array, y: Array) -> Array | None:
    """delta^L in closed form where equation 1 simplifies exactly (the record's ``closed_form``);
    None where it does not (nabla_a C = a^L - y goes through equation 1)."""
    closed = cost_record(cost).closed_form
    return None if closed is None else closed(a_minus_y, a_L, y)


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

    A cost with a ``batch_sum`` is summed over the whole batch at once: the quadratic cost's
    C = (scale / 2) sum (a^L - y)^2 is one BLAS dot product of a^L - y with itself in float64
    (one call instead of a square, a sum and their temporaries: a quarter of the time on the seed's
    batches, and its error, a few m n_L u64 at worst, is far inside every tolerance of the suite),
    and one pairwise sum in float32, where a BLAS dot product accumulating m n_L terms in float32
    would not be as accurate at large m; object and complex arrays (mpmath, complex steps) take
    the pairwise form too (np.vdot would conjugate a complex step).
    """
    record = cost_record(cost)
    if record.batch_sum is not None:
        return record.batch_sum(sigma_L, z_L, a_L, y, a_minus_y) * reduction_scale(reduction, a_L.shape[0], a_L)
    return reduce(reduction, record.per_sample(sigma_L, z_L, a_L, y, a_minus_y))


def reduce(reduction: str, per_sample: Array) -> object:
    """C = (1/m) sum_x C_x ("mean") or sum_x C_x ("sum")."""
    total = per_sample.sum()
    return total * reduction_scale(reduction, per_sample.shape[0], per_sample)
