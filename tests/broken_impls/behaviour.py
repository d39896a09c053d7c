"""Bugs outside the equations: side effects, non-determinism, the SGD step and the cost value."""

from __future__ import annotations

from typing import Any

import numpy as np

from .base import Backprop


class ScratchesTheInput(Backprop):
    """Reuses the caller's x as scratch space once the forward pass is done (a memory-saving trick).

    The results are right; the caller's batch is zeroed. Expected diagnosis: no_mutation.
    """

    EXPECTED = ("no_mutation", None)
    MESSAGE = ("backprop modified its input",)

    def backprop(self, case: Any) -> dict[str, Any]:
        result = super().backprop(case)
        scratch = case.x
        scratch *= 0
        return result


class GradientsAccumulateOnRepeat(Backprop):
    """Gradient buffers not zeroed between calls (PyTorch's forgotten zero_grad).

    The buffers are reallocated whenever the input changes, so every new case is
    right, but asking twice in a row for the same case returns twice the gradient:
    the answer depends on the call history. Expected diagnosis: determinism, which the
    suite judges right after the structure, so that even a case whose first answer is
    already wrong (Hypothesis generating the same case twice in a row) is diagnosed as
    non-deterministic and its equations are blocked, not failed.
    """

    EXPECTED = ("determinism", None)
    MESSAGE = ("with the second call on the same case",)

    def __init__(self) -> None:
        self._last: tuple[bytes, dict[str, Any]] | None = None

    def backprop(self, case: Any) -> dict[str, Any]:
        key = b"".join(np.ascontiguousarray(a).tobytes() for a in [*case.weights, *case.biases, case.x, case.y])
        result = super().backprop(case)
        if self._last is not None and self._last[0] == key:
            previous = self._last[1]
            for name in ("grad_weights", "grad_biases"):
                result[name] = [g + p for g, p in zip(result[name], previous[name], strict=True)]
        self._last = (key, result)
        return result


class SgdStepWrongSign(Backprop):
    """sgd_step climbs the cost: w + eta * grad.

    Expected diagnosis: sgd_step (layer None).
    """

    EXPECTED = ("sgd_step", None)
    MESSAGE = ("sgd_step with eta", "the observed ratio to the expected value is -1")

    def sgd_step(self, case: Any, eta: float) -> dict[str, Any]:
        return super().sgd_step(case, -eta)


class SgdStepIgnoresEta(Backprop):
    """sgd_step with the learning rate dropped: w - grad.

    Expected diagnosis: sgd_step (layer None).
    """

    EXPECTED = ("sgd_step", None)
    MESSAGE = ("sgd_step with eta",)

    def sgd_step(self, case: Any, eta: float) -> dict[str, Any]:
        return super().sgd_step(case, 1.0)


class CostNotReduced(Backprop):
    """The reported cost is sum_x C_x even under the mean reduction (gradients are right).

    Expected diagnosis: cost (layer None).
    """

    EXPECTED = ("cost", None)
    MESSAGE = ("exactly m = ", "the 1/m of the mean reduction is missing")

    def cost_value(self, case: Any, z_L: Any, a_L: Any, y: Any, scale: float) -> float:
        return super().cost_value(case, z_L, a_L, y, 1.0)
