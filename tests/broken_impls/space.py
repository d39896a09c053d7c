"""Bugs that live only in regions of the contract the suite once never generated (issue 18, item 3).

Each is right wherever the suite used to look: quadratic targets in [0, 1) and never
exactly 0, learning rates log-uniform on [1e-3, 10], no repeated sample in a --quick batch.
The contract allows every real quadratic target, every finite eta >= 0 and any batch,
so each of these is wrong on a valid case. tests/test_conformance_contract_space.py runs
them with --quick and with the default settings; the base class is their correct control.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from .base import Array, Backprop


class ClipsTargets(Backprop):
    """Quadratic targets clipped to [0, 1] ("targets are probabilities"): wrong for y < 0 or y > 1."""

    def cost_gradient(self, a: Array, y: Array) -> Array:
        return a - np.clip(y, 0.0, 1.0)

    def cost_value(self, case: Any, z_L: Array, a_L: Array, y: Array, scale: float) -> float:
        return super().cost_value(case, z_L, a_L, np.clip(y, 0.0, 1.0) if case.cost == "quadratic" else y, scale)


class ZeroMeansNoLabel(Backprop):
    """A target of exactly 0 read as "no label": that output's error is dropped (quadratic only)."""

    def cost_gradient(self, a: Array, y: Array) -> Array:
        return np.where(y == 0.0, 0.0, a - y).astype(a.dtype)

    def cost_value(self, case: Any, z_L: Array, a_L: Array, y: Array, scale: float) -> float:
        if case.cost == "quadratic":
            a_L = np.where(y == 0.0, 0.0, a_L)
        return super().cost_value(case, z_L, a_L, y, scale)


class EtaOrHalf(Backprop):
    """``eta = eta or 0.5``: a learning rate of 0 becomes the default one."""

    def sgd_step(self, case: Any, eta: float) -> dict[str, Any]:
        return super().sgd_step(case, eta or 0.5)


class EtaClampedAt10(Backprop):
    """A learning rate capped at 10 ("anything larger diverges anyway"): wrong above 10."""

    def sgd_step(self, case: Any, eta: float) -> dict[str, Any]:
        return super().sgd_step(case, min(eta, 10.0))


class DeduplicatesSamples(Backprop):
    """Each distinct input computed once ("a cache keyed by x"): a repeated x keeps its first y and counts once."""

    def backprop(self, case: Any) -> dict[str, Any]:
        x = np.asarray(case.x)
        _, first, inverse = np.unique(x, axis=0, return_index=True, return_inverse=True)
        if len(first) == len(x):
            return super().backprop(case)
        result = super().backprop(_Subset(case, first))
        result["deltas"] = [d[np.asarray(inverse).ravel()] for d in result["deltas"]]
        return result


class _Subset:
    """The case with only some of its samples (the rows ``rows`` of x and y)."""

    def __init__(self, case: Any, rows: Array) -> None:
        for name in ("sizes", "activations", "cost", "reduction", "dtype", "weights", "biases"):
            setattr(self, name, getattr(case, name))
        self.x = np.asarray(case.x)[rows]
        self.y = np.asarray(case.y)[rows]


SPACE_BUGS: tuple[type[Backprop], ...] = (
    ClipsTargets,
    ZeroMeansNoLabel,
    EtaOrHalf,
    EtaClampedAt10,
    DeduplicatesSamples,
)
