"""Wrong answers of huge finite values: the suite's arithmetic on them must not turn into exit 3.

Each answer is finite (so the structure check accepts it) and wrong, so each run must end
in failed verdicts: exit 1, never "internal error in the conformance suite" (exit 3), also
when warnings are errors (``PYTHONWARNINGS=error``, ``pytest -W error``, ``filterwarnings =
["error"]``), where an overflow in the suite's own differences, norms or sums would raise.
tests/test_conformance_warnings.py runs them; ``Correct`` is the control that must conform.
``HUGE`` is the brief's 1e300; the sign-flipping and mixed ones sit near float64's largest
value, where a difference of two answers overflows.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from .base import Array, Backprop

HUGE = 1e300
LARGEST = float(np.finfo(np.float64).max)


def _filled(arrays: list[Array], value: float) -> list[Array]:
    return [np.full(np.shape(a), value, dtype=np.float64) for a in arrays]


class Correct(Backprop):
    """The control: the correct base implementation."""


class HugeDeltas(Backprop):
    """Every delta 1e300; the gradients as the correct code computes them."""

    def backprop(self, case: Any) -> dict[str, Any]:
        result = super().backprop(case)
        result["deltas"] = _filled(result["deltas"], HUGE)
        return result


class HugeEverything(Backprop):
    """Every gradient, delta and the cost 1e300, and an SGD step to 1e300."""

    def backprop(self, case: Any) -> dict[str, Any]:
        result = super().backprop(case)
        for key in ("grad_weights", "grad_biases", "deltas"):
            result[key] = _filled(result[key], HUGE)
        result["cost"] = HUGE
        return result

    def sgd_step(self, case: Any, eta: float) -> dict[str, Any]:
        step = super().sgd_step(case, eta)
        return {key: _filled(value, HUGE) for key, value in step.items()}


class HugeFlipping(Backprop):
    """Gradients of the largest float, their sign flipping from call to call (a difference overflows)."""

    calls = 0

    def backprop(self, case: Any) -> dict[str, Any]:
        result = super().backprop(case)
        type(self).calls += 1
        sign = 1.0 if type(self).calls % 2 else -1.0
        for key in ("grad_weights", "grad_biases"):
            result[key] = _filled(result[key], sign * LARGEST)
        return result


class HugeMixed(Backprop):
    """The first entry of every array the largest float, the last its negative (sums overflow)."""

    def backprop(self, case: Any) -> dict[str, Any]:
        result = super().backprop(case)
        for key in ("grad_weights", "grad_biases", "deltas"):
            arrays = []
            for a in result[key]:
                a = np.array(a, dtype=np.float64)
                a.flat[0], a.flat[-1] = LARGEST, -LARGEST
                arrays.append(a)
            result[key] = arrays
        result["cost"] = LARGEST
        return result


HUGE_BUGS: tuple[type[Backprop], ...] = (HugeDeltas, HugeEverything, HugeFlipping, HugeMixed)
