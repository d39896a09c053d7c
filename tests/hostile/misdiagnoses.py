"""Right or nearly right code that a careless diagnosis blames on the wrong thing (issue 9 item 5)."""

from __future__ import annotations

from typing import Any

from tests.broken_impls.base import Backprop


class DeltasDividedByM(Backprop):
    """Right gradients; deltas reported as dC/dz of the mean-reduced C (what autograd gives): 1/m of the contract's."""

    capabilities = {"reductions": ["mean"], "dtypes": ["float64"]}

    def backprop(self, case: Any) -> dict[str, Any]:
        result = super().backprop(case)
        m = len(case.x)
        result["deltas"] = [d / m for d in result["deltas"]]
        return result


class GradientsOnlyFloat64(Backprop):
    """Declares only its dtype, returns only the two required fields: conforms."""

    capabilities = {"dtypes": ["float64"]}

    def backprop(self, case: Any) -> dict[str, Any]:
        result = super().backprop(case)
        return {"grad_weights": result["grad_weights"], "grad_biases": result["grad_biases"]}
