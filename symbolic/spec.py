"""The architecture a proof is about, checked once with messages that name the field and layer."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from reference.architecture import check_sizes

ACTIVATIONS: tuple[str, ...] = (
    "sigmoid",
    "tanh",
    "relu",
    "identity",
    "softplus",
    "softmax",
    "sigma",
)
"""Activation names; "sigma" is an undefined function: a proof with it holds for every differentiable sigma."""

OUTPUT_ONLY: frozenset[str] = frozenset({"softmax"})
COSTS: tuple[str, ...] = ("quadratic", "cross_entropy", "log_likelihood")
REDUCTIONS: tuple[str, ...] = ("mean", "sum")
HIDDEN_RULES: tuple[str, ...] = ("seed", "seed-typo")

# Output activations each cost accepts (None: any). "sigma" stands for any elementwise sigma,
# which keeps equation 1 meaningful for cross_entropy; its closed form a - y needs the sigmoid.
ALLOWED_OUTPUT: dict[str, frozenset[str] | None] = {
    "quadratic": None,
    "cross_entropy": frozenset({"sigmoid", "sigma"}),
    "log_likelihood": frozenset({"softmax"}),
}


@dataclass(frozen=True)
class Spec:
    """sizes = (n_1, ..., n_L); activations[i] is sigma of layer i + 2 (so there are L - 1)."""

    sizes: tuple[int, ...]
    activations: tuple[str, ...]
    cost: str
    reduction: str = "mean"
    hidden_rule: str = "seed"

    @property
    def L(self) -> int:
        return len(self.sizes)

    def n(self, l: int) -> int:
        """n_l, the width of layer l (1-based, as in the seed)."""
        return self.sizes[l - 1]

    def activation(self, l: int) -> str:
        """The activation of layer l = 2..L."""
        return self.activations[l - 2]

    def describe(self) -> str:
        return (
            f"sizes {list(self.sizes)}, activations {', '.join(self.activations)}, cost {self.cost}, "
            f"reduction {self.reduction}, hidden rule {self.hidden_rule}"
        )


MAX_WORK = 2_500_000
"""Largest proof attempted: work = sum over layers of (n_{l-1} n_l)^2. With ``per_entry``, equation 4
has n_{l-1} n_l derivations per layer, each differentiating a sum over n_l tail arguments of
n_{l-1} + 1 terms, so the time grows with this sum (CPU seconds on a shared 2-core machine:
[16, 16, 16] 131k in 10 s, [24, 24, 24] 663k in 33 s, [32, 32, 32] 2.1M in 99 s); 2,500,000 is
about two minutes. The default derives one entry per layer and renames it (``renaming``):
[24, 24, 24] in about 1.5 s, [32, 32, 32] in about 3 s. Beyond the limit a proof would run for
hours and exhaust memory (sizes 99999999999,1 would allocate ~1e11 symbols before failing)."""


def proof_work(sizes: tuple[int, ...]) -> int:
    """sum_l (n_{l-1} n_l)^2: the measure MAX_WORK limits (exact integer arithmetic, no overflow)."""
    return sum((a * b) ** 2 for a, b in zip(sizes[:-1], sizes[1:], strict=True))


def check_size(spec: Spec) -> None:
    """Refuse an architecture whose proof cannot finish, naming the limit (ValueError)."""
    work = proof_work(spec.sizes)
    if work > MAX_WORK:
        raise ValueError(
            f"sizes {list(spec.sizes)}: a proof would need work sum_l (n_(l-1) n_l)^2 = {work:.3g}, "
            f"above the limit {MAX_WORK:,} (e.g. sizes 32,32,32: about 3 s on one core, 100 s with --per-entry); "
            "prove a smaller architecture (each architecture is its own proof)"
        )


def make_spec(sizes: Any, activations: Any, cost: Any, reduction: Any = "mean", hidden_rule: Any = "seed") -> Spec:
    """Validate and freeze an architecture; raise TypeError/ValueError naming what is wrong."""
    checked_sizes = check_sizes(sizes)
    checked_acts = _activations(activations, checked_sizes)
    checked_cost = _name("cost", cost, COSTS)
    checked_reduction = _name("reduction", reduction, REDUCTIONS)
    checked_rule = _name("hidden_rule", hidden_rule, HIDDEN_RULES)
    allowed = ALLOWED_OUTPUT[checked_cost]
    output = checked_acts[-1]
    if allowed is not None and output not in allowed:
        raise ValueError(
            f"cost {checked_cost!r} needs the output layer {len(checked_sizes)} to use "
            f"{' or '.join(sorted(allowed))}, got {output!r}"
        )
    return Spec(checked_sizes, checked_acts, checked_cost, checked_reduction, checked_rule)


def _activations(value: Any, sizes: tuple[int, ...]) -> tuple[str, ...]:
    if isinstance(value, str | bytes) or not isinstance(value, Iterable):
        raise TypeError(f"activations must be a sequence of names, one per layer 2..L, got {value!r}")
    names = tuple(value)
    if len(names) != len(sizes) - 1:
        raise ValueError(
            f"activations: expected {len(sizes) - 1} names (one per layer 2..{len(sizes)}), "
            f"got {len(names)}: {list(names)}"
        )
    for i, name in enumerate(names):
        layer = i + 2
        if not isinstance(name, str):
            raise TypeError(f"activations[{i}] (layer {layer}) must be a string, got {name!r}")
        if name not in ACTIVATIONS:
            raise ValueError(
                f"activations[{i}] (layer {layer}): unknown activation {name!r}; "
                f"expected one of {', '.join(ACTIVATIONS)}"
            )
        if name in OUTPUT_ONLY and layer != len(sizes):
            raise ValueError(
                f"activations[{i}] (layer {layer}): {name} is allowed only at the output layer {len(sizes)}"
            )
    return names


def _name(field: str, value: Any, allowed: tuple[str, ...]) -> str:
    if not isinstance(value, str):
        raise TypeError(f"{field} must be a string, one of {', '.join(allowed)}; got {value!r}")
    if value not in allowed:
        raise ValueError(f"unknown {field} {value!r}; expected one of {', '.join(allowed)}")
    return value
