"""What an implementation declares it supports; the suite generates only those cases.

Without a ``capabilities`` mapping the whole contract is expected. A declared name
the contract does not know is a usage error (it is almost always a typo, and a typo
would silently shrink what gets tested).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from reference import ACTIVATIONS, COSTS, DTYPES, REDUCTIONS

OUTPUTS: tuple[str, ...] = ("deltas", "cost")
KEYS: dict[str, tuple[str, ...]] = {
    "activations": ACTIVATIONS,
    "costs": COSTS,
    "reductions": REDUCTIONS,
    "dtypes": DTYPES,
    "outputs": OUTPUTS,
}


class CapabilitiesError(ValueError):
    """The implementation's ``capabilities`` cannot be understood."""


@dataclass(frozen=True)
class Capabilities:
    activations: tuple[str, ...] = ACTIVATIONS
    costs: tuple[str, ...] = COSTS
    reductions: tuple[str, ...] = REDUCTIONS
    dtypes: tuple[str, ...] = DTYPES
    outputs: tuple[str, ...] = OUTPUTS
    declared: bool = False
    declared_keys: frozenset[str] = frozenset()  # which keys the implementation named

    def missing(self) -> list[str]:
        """Human-readable list of the parts of the contract this implementation leaves out."""
        gaps = []
        for key, allowed in KEYS.items():
            absent = [name for name in allowed if name not in getattr(self, key)]
            if absent:
                gaps.append(f"{key}: {', '.join(absent)}")
        return gaps

    def to_dict(self) -> dict[str, list[str]]:
        return {key: list(getattr(self, key)) for key in KEYS}


def parse_capabilities(value: Any) -> Capabilities:
    """A Capabilities from the implementation's mapping (None: everything)."""
    if value is None:
        return Capabilities()
    if not isinstance(value, Mapping):
        raise CapabilitiesError(
            f"capabilities must be a mapping with keys {', '.join(KEYS)}, got {type(value).__name__}"
        )
    unknown_keys = [k for k in value if k not in KEYS]
    if unknown_keys:
        raise CapabilitiesError(
            f"capabilities has unknown key(s) {', '.join(map(repr, unknown_keys))}; expected some of {', '.join(KEYS)}"
        )
    fields: dict[str, tuple[str, ...]] = {}
    for key, allowed in KEYS.items():
        if key not in value:
            continue
        names = value[key]
        if isinstance(names, str) or not isinstance(names, list | tuple | set | frozenset):
            raise CapabilitiesError(f"capabilities[{key!r}] must be a list of names, got {names!r}")
        bad = [n for n in names if n not in allowed]
        if bad:
            raise CapabilitiesError(
                f"capabilities[{key!r}] names {', '.join(map(repr, bad))}, which the contract does "
                f"not know; expected some of {', '.join(allowed)}"
            )
        fields[key] = tuple(n for n in allowed if n in names)  # contract order, no duplicates
    return Capabilities(**fields, declared=True, declared_keys=frozenset(fields))
