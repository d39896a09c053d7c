"""What the checks find on one case: the checks in their order, a Finding per check, the CaseReport.

Plain data, shared by the checks that write findings (checks, equation_checks, metamorphic)
and the summary that folds them (report).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Literal

from reference import Case

Status = Literal["passed", "failed", "blocked", "not covered"]

# In dependency order (conformance.judging.checks' docstring): a failure blocks the checks after it.
CHECKS: tuple[str, ...] = (
    "structure",
    "determinism",
    "equation1",
    "equation2",
    "equation3",
    "equation4",
    "cost",
    "reduction",
    "sgd_step",
    "no_mutation",
    "batch_additivity",
    "permutation",
)
LAYERED: frozenset[str] = frozenset({"equation1", "equation2", "equation3", "equation4", "reduction"})

# Which failures block which later checks (the rest of the order is in conformance.judging.checks):
# the SGD step and the batch properties need right gradients. A wrong cost blocks neither: the
# batch properties then compare the gradients alone (a cost-only bug, scikit-learn's cost divided
# by n_L, left their gradients unchecked when it did).
BLOCK_SGD_STEP: tuple[str, ...] = ("equation1", "equation2", "equation3", "equation4", "reduction")
BLOCK_BATCH_PROPERTIES: tuple[str, ...] = BLOCK_SGD_STEP

# A cause that explains every failure of a case, whichever check it breaks first (diagnosis.
# float32_cause): the summary files every finding that says it under this text alone.
FLOAT32_PRECISION = (
    "float64 computed in float32: every value returned is a float32 number, within float32 rounding "
    "of the exact result for the case rounded to float32 (here and on the case with another m)"
)

# How a failure no claim explains gives its ratio to the expected value (factors.ratio_text): a
# number, not a cause, so the summary leaves it out of the cause's key.
RATIO_PHRASE = "; the observed ratio to the expected value is"


@dataclass(frozen=True)
class Finding:
    """One check's verdict on one case (and one layer for the layered checks)."""

    check: str
    layer: int | None
    status: Status
    message: str


@dataclass
class CaseReport:
    """Everything the checks found on one case."""

    case: Case
    eta: float
    permutation: tuple[int, ...]
    findings: list[Finding] = field(default_factory=list)
    fatal: bool = False
    answered: bool = False  # the first backprop call returned a value (whatever it was)

    def add(self, check: str, layer: int | None, status: Status, message: str = "") -> None:
        self.findings.append(Finding(check, layer, status, message))

    def root(self) -> Finding | None:
        """The first failure in check order: the one to shrink and to fix first."""
        failed = [f for f in self.findings if f.status == "failed"]
        return min(failed, key=lambda f: (CHECKS.index(f.check), -(f.layer or 0))) if failed else None

    def failed_any(self, checks: Sequence[str]) -> Finding | None:
        for f in self.findings:
            if f.check in checks and f.status in ("failed", "blocked"):
                return f
        return None


def block_after(report: CaseReport, failed: str, cause: str) -> None:
    """Every check after ``failed`` is blocked, except no_mutation, judged on the first call alone."""
    for check in CHECKS[CHECKS.index(failed) + 1 :]:
        if check != "no_mutation":
            report.add(check, None, "blocked", cause)
