"""The benchmark's inputs: the seed's network (sigmoid layers, quadratic cost, mean over the batch).

Inputs are synthetic (no data set can be downloaded here): pixels uniform in [0, 1) like
MNIST's scaled grey levels, and one-hot targets. Every peer receives the very same arrays.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

import reference
from reference import Case


@dataclass(frozen=True)
class Workload:
    """A network and batch in the engine's layout: weights[i] is (n_{i+2}, n_{i+1}), x (m, n_1)."""

    sizes: tuple[int, ...]
    batch: int
    dtype: str
    weights: list[np.ndarray]
    biases: list[np.ndarray]
    x: np.ndarray
    y: np.ndarray

    @property
    def label(self) -> str:
        return f"{list(self.sizes)} x {self.batch}"

    @property
    def n_params(self) -> int:
        return sum(w.size + b.size for w, b in zip(self.weights, self.biases, strict=True))

    def case(self) -> Case:
        return reference.Case(
            self.sizes,
            ("sigmoid",) * (len(self.sizes) - 1),
            "quadratic",
            "mean",
            self.dtype,
            self.weights,
            self.biases,
            self.x,
            self.y,
        )

    def astype(self, dtype: str) -> Workload:
        cast = [np.ascontiguousarray(a, dtype=dtype) for a in (self.x, self.y)]
        return Workload(
            self.sizes,
            self.batch,
            dtype,
            [w.astype(dtype) for w in self.weights],
            [b.astype(dtype) for b in self.biases],
            cast[0],
            cast[1],
        )


def n_params(sizes: tuple[int, ...] | list[int]) -> int:
    """Weights and biases of a fully connected network with these layer widths."""
    return sum(n * (n_prev + 1) for n_prev, n in zip(sizes[:-1], sizes[1:], strict=True))


def make(sizes: tuple[int, ...] | list[int], batch: int, dtype: str = "float64", seed: int = 0) -> Workload:
    sizes = tuple(int(n) for n in sizes)
    net = reference.Network.random(sizes, ("sigmoid",) * (len(sizes) - 1), seed=seed)
    rng = np.random.default_rng(seed + 1)
    x = rng.random((batch, sizes[0]))
    y = np.zeros((batch, sizes[-1]))
    y[np.arange(batch), rng.integers(0, sizes[-1], batch)] = 1.0
    return Workload(sizes, batch, "float64", list(net.weights), list(net.biases), x, y).astype(dtype)
