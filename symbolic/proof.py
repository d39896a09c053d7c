"""What a proof is: its checks, their verdicts and the worst of them.

Apart from ``prove`` (which builds proofs) so that ``render`` can read one without importing
the prover.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

import sympy as sp

from .disprove import NetworkCounterexample
from .spec import Spec
from .zero import Point

Verdict = Literal["proven", "disproven", "not proven"]
Source = Literal["derived", "renamed"]
"""Where a check's chain-rule side comes from: "derived" by sympy.diff, or "renamed" from the
derived unit 1 / entry (1, 1) of its layer under a certified renaming (symbolic/renaming.py)."""

BATCH = 2
"""Samples in the batch checks: the smallest m where the reduction (1/m vs 1) and the sum matter."""


@dataclass(frozen=True)
class Check:
    equation: str
    layer: int
    unit: tuple[int, ...]
    derived: sp.Expr
    claimed: sp.Expr
    verdict: Verdict
    point: Point | None = None
    note: str = ""
    source: Source = "derived"


@dataclass(frozen=True)
class Proof:
    spec: Spec
    checks: tuple[Check, ...]
    counterexamples: tuple[NetworkCounterexample, ...] = ()
    seconds: float = 0.0
    batch: int = BATCH
    notes: tuple[str, ...] = field(default_factory=tuple)

    @property
    def verdict(self) -> Verdict:
        verdicts = {c.verdict for c in self.checks}
        if "disproven" in verdicts:
            return "disproven"
        return "not proven" if "not proven" in verdicts else "proven"

    @property
    def proven(self) -> bool:
        return self.verdict == "proven"

    def verdicts(self) -> dict[tuple[str, int], Verdict]:
        """One verdict per (equation, layer): the worst of its units."""
        order: dict[Verdict, int] = {"proven": 0, "not proven": 1, "disproven": 2}
        out: dict[tuple[str, int], Verdict] = {}
        for c in self.checks:
            key = (c.equation, c.layer)
            if key not in out or order[c.verdict] > order[out[key]]:
                out[key] = c.verdict
        return out

    def failures(self) -> list[Check]:
        return [c for c in self.checks if c.verdict != "proven"]
