"""Capabilities declared by the module, not by the function (``--impl tests.hostile.module_caps:backprop``).

The function refuses everything outside them, so a suite that ignored the module's
declaration would fail it.
"""

from __future__ import annotations

from typing import Any

from tests.broken_impls.base import Backprop

capabilities = {
    "activations": ["sigmoid"],
    "costs": ["quadratic"],
    "dtypes": ["float64"],
}

_engine = Backprop()


def backprop(case: Any) -> dict[str, Any]:
    if set(case.activations) != {"sigmoid"} or case.cost != "quadratic" or case.dtype != "float64":
        raise ValueError(f"not supported: {case.activations}, {case.cost}, {case.dtype}")
    return _engine.backprop(case)
