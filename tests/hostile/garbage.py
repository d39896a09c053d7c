"""Answers the suite cannot read: garbage for unseen cases, once in a run, or every time.

Loaded in a worker process by spec, e.g. ``tests.hostile.garbage:GarbageForUnseen``.
"""

from __future__ import annotations

from typing import Any

from tests.broken_impls.base import Backprop
from tests.hostile._key import case_key

RAGGED = [[1.0], [2.0, 3.0]]


class GarbageForUnseen(Backprop):
    """Right only for a case it has already seen (keyed by a hash of its arrays); a ragged cost otherwise.

    A suite that asks every case twice and judges only the second answer, or replays a failure
    and believes the replay, would let this conform.
    """

    garbage: Any = RAGGED

    def __init__(self) -> None:
        self.seen: set[str] = set()

    def backprop(self, case: Any) -> dict[str, Any]:
        result = super().backprop(case)
        key = case_key(case)
        if key not in self.seen:
            self.seen.add(key)
            result["cost"] = self.garbage
        return result


class HugeCostForUnseen(GarbageForUnseen):
    """The same, with a cost of 10**400 (an int no float can hold)."""

    garbage = 10**400


class GarbageOnSeventhCall(Backprop):
    """Right on every call but the 7th of its process, where the cost is ragged."""

    def __init__(self) -> None:
        self.calls = 0

    def backprop(self, case: Any) -> dict[str, Any]:
        self.calls += 1
        result = super().backprop(case)
        if self.calls == 7:
            result["cost"] = RAGGED
        return result


class AlwaysRaggedCost(Backprop):
    """The same malformed answer every time: right gradients, a ragged cost."""

    def backprop(self, case: Any) -> dict[str, Any]:
        result = super().backprop(case)
        result["cost"] = RAGGED
        return result
