"""What an implementation declares it supports; the suite generates only those cases.

Without a ``capabilities`` mapping the whole contract is expected. A declared name
the contract does not know is a usage error (it is almost always a typo, and a typo
would silently shrink what gets tested). CONTRACT.md section 1 is the normative text:
the lists of names, the activations allowed per position (hidden layers, output
layer), the targets, and the conventions (relu'(0), a softplus threshold) under which
the reference judges the implementation.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from numbers import Real
from typing import Any

from conformance.errors import CapabilitiesError
from reference import ACTIVATIONS, COSTS, DTYPES, REDUCTIONS
from reference.activations import OUTPUT_ONLY
from reference.costs import REQUIRED_OUTPUT

OUTPUTS: tuple[str, ...] = ("deltas", "cost")
HIDDEN: tuple[str, ...] = tuple(a for a in ACTIVATIONS if a not in OUTPUT_ONLY)
# The lists of names (the table of CONTRACT.md section 1).
KEYS: dict[str, tuple[str, ...]] = {
    "activations": ACTIVATIONS,
    "costs": COSTS,
    "reductions": REDUCTIONS,
    "dtypes": DTYPES,
    "outputs": OUTPUTS,
}
# Activations per position: a list of names each, within ``activations`` when that is declared too.
POSITION_KEYS: dict[str, tuple[str, ...]] = {
    "hidden_activations": HIDDEN,
    "output_activations": ACTIVATIONS,
}
# What the targets y may be: "any" (every target the cost allows) or "one_hot" (class labels).
TARGETS: tuple[str, ...] = ("any", "one_hot")
# How many shapes the cases may have: "any" (the default) or "few", for code that compiles once
# per shape (torch.compile, XLA, tinygrad): the cases come from a small pool of shapes drawn from
# the seed (conformance.cases.pool), and the first call at each new shape gets the warm-up budget.
SHAPES: tuple[str, ...] = ("any", "few")
# Declarable conventions: name -> (lowest, highest) allowed value, and why, for the error message.
#  relu_prime_at_zero: any value in [0, 1] is a subgradient of relu at 0 (0: PyTorch, JAX;
#    0.5: HIPS autograd's np.maximum; 1: z >= 0 tests).
#  softplus_threshold: softplus is z itself above it (torch: 20). At 10 the linear branch is
#    already log1p(e^-10) = 4.5e-5 away from ln(1 + e^z); lower, it is another function, not a
#    convention about rounding-level detail.
#  cost_from_activations: 1 when the cost is computed from the rounded output a (ln a and
#    ln(1 - a), as Nielsen's network2.py and BCELoss do), 0 (the default) when from z^L. Where a
#    rounds to exactly 0 or 1 such a cost is infinite by construction: the cost check is then
#    not covered on that case (everything else is still judged).
CONVENTIONS: dict[str, tuple[float, float, str]] = {
    "relu_prime_at_zero": (0.0, 1.0, "a subgradient of relu at 0 lies in [0, 1]"),
    "cost_from_activations": (0.0, 1.0, "1 (the cost is computed from the rounded output a) or 0 (from z^L)"),
    "softplus_threshold": (
        10.0,
        math.inf,
        "a finite number >= 10 (softplus is z itself above it; below 10 the jump log1p(e^-t) exceeds 4.5e-5)",
    ),
}
ALL_KEYS: tuple[str, ...] = (*KEYS, *POSITION_KEYS, "targets", "shapes", "conventions")


@dataclass(frozen=True)
class Capabilities:
    """The parsed declaration; ``activations`` is every name allowed at some position.

    ``hidden_activations`` and ``output_activations`` are the names allowed per position
    (without position keys: every non-softmax name of ``activations`` and all of it);
    ``conventions`` holds the declared ones only (empty: the contract's defaults).
    """

    activations: tuple[str, ...] = ACTIVATIONS
    costs: tuple[str, ...] = COSTS
    reductions: tuple[str, ...] = REDUCTIONS
    dtypes: tuple[str, ...] = DTYPES
    outputs: tuple[str, ...] = OUTPUTS
    declared: bool = False
    declared_keys: frozenset[str] = frozenset()  # which keys the implementation named
    hidden_activations: tuple[str, ...] = HIDDEN
    output_activations: tuple[str, ...] = ACTIVATIONS
    targets: str = "any"
    shapes: str = "any"
    conventions: dict[str, float] = field(default_factory=dict, hash=False)

    def missing(self) -> list[str]:
        """Human-readable list of the parts of the contract this implementation leaves out."""
        gaps = []
        for key, allowed in KEYS.items():
            absent = [name for name in allowed if name not in getattr(self, key)]
            if absent:
                gaps.append(f"{key}: {', '.join(absent)}")
        hidden_out = [a for a in self.activations if a in HIDDEN and a not in self.hidden_activations]
        if not self.hidden_activations:
            gaps.append("hidden layers: every network with a hidden layer (none declared)")
        elif hidden_out:
            gaps.append(f"hidden layers: {', '.join(hidden_out)} (declared for the output layer only)")
        output_out = [a for a in self.activations if a not in self.output_activations]
        if output_out:
            gaps.append(f"output layer: {', '.join(output_out)} (declared for hidden layers only)")
        unusable = [
            f"{c} (needs a {REQUIRED_OUTPUT[c]} output)"
            for c in self.costs
            if REQUIRED_OUTPUT[c] is not None and REQUIRED_OUTPUT[c] not in self.output_activations
        ]
        if unusable:
            gaps.append(f"costs: {', '.join(unusable)}")
        if self.targets == "one_hot":
            gaps.append("targets: all but one-hot (soft labels, probability vectors, values in [0, 1])")
        if self.shapes == "few":
            gaps.append('shapes: all but a small pool per dtype drawn from the seed (declared "shapes": "few")')
        return gaps

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {key: list(getattr(self, key)) for key in KEYS}
        out.update({key: list(getattr(self, key)) for key in POSITION_KEYS})
        out["targets"] = self.targets
        out["shapes"] = self.shapes
        out["conventions"] = dict(self.conventions)
        return out


def _names(value: Any, key: str, allowed: tuple[str, ...]) -> tuple[str, ...]:
    """The declared names in contract order, no duplicates; CapabilitiesError when malformed."""
    if isinstance(value, str) or not isinstance(value, list | tuple | set | frozenset):
        raise CapabilitiesError(f"capabilities[{key!r}] must be a list of names, got {value!r}")
    bad = [n for n in value if n not in allowed]
    if bad:
        extra = ""
        if key == "hidden_activations" and any(n in OUTPUT_ONLY for n in bad):
            extra = " (softmax couples the units of a layer: the contract allows it at the output only)"
        raise CapabilitiesError(
            f"capabilities[{key!r}] names {', '.join(map(repr, bad))}, which the contract does "
            f"not know there{extra}; expected some of {', '.join(allowed)}"
        )
    return tuple(n for n in allowed if n in value)


def _targets(value: Any) -> str:
    if isinstance(value, list | tuple) and len(value) == 1:
        value = value[0]
    if not isinstance(value, str) or value not in TARGETS:
        raise CapabilitiesError(
            f"capabilities['targets'] must be one of {', '.join(map(repr, TARGETS))} "
            f"(or a list of that one name), got {value!r}"
        )
    return value


def _shapes(value: Any) -> str:
    if not isinstance(value, str) or value not in SHAPES:
        raise CapabilitiesError(f"capabilities['shapes'] must be one of {', '.join(map(repr, SHAPES))}, got {value!r}")
    return value


def shape_of(case: Any) -> tuple[tuple[int, ...], int, str]:
    """A case's shape as a per-shape compiler sees it: (layer sizes, batch size m, dtype).

    Activations, cost and reduction are not part of it: under ``"shapes": "few"`` they vary
    freely within a shape (CONTRACT.md section 1, "Shapes").
    """
    return tuple(int(n) for n in case.sizes), int(case.m), str(case.dtype)


def parse_conventions(value: Any) -> dict[str, float]:
    """The declared conventions as floats; CapabilitiesError naming the field when one is wrong."""
    if not isinstance(value, Mapping):
        raise CapabilitiesError(
            "capabilities['conventions'] must be a mapping of convention names to numbers, e.g. "
            f'{{"relu_prime_at_zero": 0.5}}, got {type(value).__name__} {value!r}'
        )
    out: dict[str, float] = {}
    for name, number in value.items():
        if name not in CONVENTIONS:
            raise CapabilitiesError(
                f"capabilities['conventions'] names {name!r}, which the contract does not know; "
                f"expected some of {', '.join(CONVENTIONS)}"
            )
        low, high, why = CONVENTIONS[name]
        if isinstance(number, bool) or not isinstance(number, Real):
            raise CapabilitiesError(
                f"capabilities['conventions'][{name!r}] must be a number ({why}), "
                f"got {type(number).__name__} {number!r}"
            )
        given = float(number)
        if name == "cost_from_activations" and given not in (0.0, 1.0):
            raise CapabilitiesError(f"capabilities['conventions'][{name!r}] = {number!r} is out of range: {why}")
        if not (low <= given <= high and math.isfinite(given)):
            raise CapabilitiesError(f"capabilities['conventions'][{name!r}] = {number!r} is out of range: {why}")
        out[name] = given
    return out


def parse_capabilities(value: Any) -> Capabilities:
    """A Capabilities from the implementation's mapping (None: everything)."""
    if value is None:
        return Capabilities()
    if not isinstance(value, Mapping):
        raise CapabilitiesError(
            f"capabilities must be a mapping with keys {', '.join(ALL_KEYS)}, got {type(value).__name__}"
        )
    unknown_keys = [k for k in value if k not in ALL_KEYS]
    if unknown_keys:
        raise CapabilitiesError(
            f"capabilities has unknown key(s) {', '.join(map(repr, unknown_keys))}; expected some of "
            f"{', '.join(ALL_KEYS)}"
        )
    fields: dict[str, Any] = {key: _names(value[key], key, allowed) for key, allowed in KEYS.items() if key in value}
    declared_keys = frozenset(k for k in ALL_KEYS if k in value)
    activations = fields.get("activations", ACTIVATIONS)
    positions = {key: _names(value[key], key, allowed) for key, allowed in POSITION_KEYS.items() if key in value}
    for key, names in positions.items():
        outside = [n for n in names if n not in activations]
        if outside:
            raise CapabilitiesError(
                f"capabilities[{key!r}] names {', '.join(map(repr, outside))}, which "
                f"capabilities['activations'] leaves out (declared: {', '.join(activations) or 'none'})"
            )
    hidden = positions.get("hidden_activations", tuple(a for a in activations if a in HIDDEN))
    output = positions.get("output_activations", activations)
    if positions:
        if not output:
            raise CapabilitiesError(
                "capabilities['output_activations'] is empty: every network has an output layer; "
                f"expected some of {', '.join(ACTIVATIONS)}"
            )
        costs = fields.get("costs", COSTS)
        if not any(REQUIRED_OUTPUT[c] in (None, *output) for c in costs):
            needs = ", ".join(f"{c} needs a {REQUIRED_OUTPUT[c]} output" for c in costs)
            raise CapabilitiesError(f"no declared cost can be tested with output_activations {list(output)}: {needs}")
        # Every name allowed somewhere, so that the lists of names alone stay meaningful.
        fields["activations"] = tuple(a for a in ACTIVATIONS if a in hidden or a in output)
    extra: dict[str, Any] = {"hidden_activations": hidden, "output_activations": output}
    if "targets" in value:
        extra["targets"] = _targets(value["targets"])
    if "shapes" in value:
        extra["shapes"] = _shapes(value["shapes"])
    if "conventions" in value:
        extra["conventions"] = parse_conventions(value["conventions"])
    return Capabilities(**fields, **extra, declared=True, declared_keys=declared_keys)
