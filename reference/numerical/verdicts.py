"""The three verdicts every gradient check gives, how several combine, and how results compare.

"pass"; "fail" only beyond doubt; "inconclusive" when the numerical witness cannot be trusted.
One place for the rule, so that a tensor, a whole gradcheck, a directional run and a large-model
run all combine and answer ``passed`` / ``failed`` / ``inconclusive`` the same way.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING

import numpy as np

Verdict = str  # "pass", "fail" or "inconclusive"


def worst(verdicts: Iterable[Verdict]) -> Verdict:
    """Any failure fails; else anything inconclusive is inconclusive; else pass."""
    seen = set(verdicts)
    return "fail" if "fail" in seen else "inconclusive" if "inconclusive" in seen else "pass"


class VerdictFlags:
    """``passed``, ``failed`` and ``inconclusive`` from a result's ``verdict`` (field or property)."""

    if TYPE_CHECKING:

        @property
        def verdict(self) -> Verdict: ...

    @property
    def passed(self) -> bool:
        """Every checked entry agrees with the witness (none failed, none inconclusive)."""
        return self.verdict == "pass"

    @property
    def failed(self) -> bool:
        return self.verdict == "fail"

    @property
    def inconclusive(self) -> bool:
        return self.verdict == "inconclusive"


def not_a_bool(self: object, other: object) -> bool:
    """``result == True`` would silently be False (a dataclass is not a bool): refuse it instead.

    Between results, the dataclass fields compare, except ``numeric`` (numpy arrays inside).
    """
    if isinstance(other, bool | np.bool_):
        raise TypeError(f"a {type(self).__name__} is not a bool: compare .passed (or .verdict), not the result")
    if type(other) is not type(self):
        return NotImplemented
    return all(
        getattr(self, f) == getattr(other, f)
        for f in self.__dataclass_fields__  # type: ignore[attr-defined]
        if f != "numeric"
    )
