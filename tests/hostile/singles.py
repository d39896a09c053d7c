"""Implementations whose k-th single-sample call (batch_additivity asks each sample alone, m = 1)
is the odd one: it hangs, crashes its process, returns garbage, raises, mutates its input, or is
wrong. The suite sends a batch's single-sample requests to a worker ahead of their answers
(pipelining); each of these must be judged as if they had come one at a time.

The count is of the single-sample calls in a row (a call with more samples starts it again), so
the odd call is the k-th sample of a batch's run, in whatever process it lands.
"""

from __future__ import annotations

import os
import time
from typing import Any

import numpy as np

from tests.broken_impls.base import Backprop

RAGGED = [[1.0], [2.0, 3.0]]


class _OddSingle(Backprop):
    """Right, except on the K-th single-sample call in a row."""

    K = 3

    def __init__(self) -> None:
        self.run = 0

    def backprop(self, case: Any) -> dict[str, Any]:
        self.run = self.run + 1 if np.shape(case.x)[0] == 1 else 0
        if self.run == self.K:
            return self.odd(case)
        return super().backprop(case)

    def odd(self, case: Any) -> dict[str, Any]:
        raise NotImplementedError


class HangsOnThirdSingle(_OddSingle):
    def odd(self, case: Any) -> dict[str, Any]:
        time.sleep(3600)
        return super().backprop(case)


class CrashesOnThirdSingle(_OddSingle):
    def odd(self, case: Any) -> dict[str, Any]:
        os._exit(3)


class RaggedOnThirdSingle(_OddSingle):
    def odd(self, case: Any) -> dict[str, Any]:
        result = super().backprop(case)
        result["cost"] = RAGGED
        return result


class RaisesOnThirdSingle(_OddSingle):
    def odd(self, case: Any) -> dict[str, Any]:
        raise ValueError("the third sample alone")


class MutatesOnThirdSingle(_OddSingle):
    """Zeroes its input on that call: the suite does not judge a single-sample call's inputs."""

    def odd(self, case: Any) -> dict[str, Any]:
        result = super().backprop(case)
        case.x[...] = 0.0
        return result


class DoubledOnThirdSingle(_OddSingle):
    def odd(self, case: Any) -> dict[str, Any]:
        result = super().backprop(case)
        result["grad_weights"] = [2 * g for g in result["grad_weights"]]
        return result


class EveryFifthCallRagged(Backprop):
    """Ragged on every 5th call of its process: the calls it sees, and their order, decide its verdicts."""

    def __init__(self) -> None:
        self.calls = 0

    def backprop(self, case: Any) -> dict[str, Any]:
        self.calls += 1
        result = super().backprop(case)
        if self.calls % 5 == 0:
            result["cost"] = RAGGED
        return result


class EveryFifthCallRaggedInLists(EveryFifthCallRagged):
    """The same, its arrays as nested lists (which the suite reads, but a worker cannot be sure of)."""

    def backprop(self, case: Any) -> dict[str, Any]:
        result = super().backprop(case)
        return {k: [np.asarray(a).tolist() for a in v] if isinstance(v, list) else v for k, v in result.items()}
