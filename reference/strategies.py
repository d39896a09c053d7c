"""Hypothesis strategies for networks, parameters and batches.

Public, for our tests, the conformance suite and third parties' own tests.
Shapes (depth, widths, batch) are drawn by Hypothesis, so a failing example
shrinks to a small network; the values come from a numpy generator seeded by a
drawn integer (shrinking to seed 0), which keeps generation fast and every case
reproducible from (architecture, regime, m, seed) through ``make_case``.

Regimes:
  small       weights and biases ~ 1e-2: near-linear, tiny gradients
  typical     w ~ N(0, 1/n_{l-1}), b ~ N(0, 1), x ~ N(0, 1)
  saturating  w ~ N(0, 100/n_{l-1}), b ~ N(0, 100): sigmoid/tanh with |z| up to ~30
  zeros       exact zeros: whole rows of w^l with b^l_j = 0 (exact-zero pre-activations,
              the relu kink) and zeros in x
  square      every layer the same width, so a missing transpose keeps the shapes right
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from hypothesis import strategies as st

from .activations import ACTIVATIONS, OUTPUT_ONLY
from .case import DTYPES, Case
from .costs import COSTS, REDUCTIONS, REQUIRED_OUTPUT

REGIMES: tuple[str, ...] = ("small", "typical", "saturating", "zeros", "square")
HIDDEN_ACTIVATIONS: tuple[str, ...] = tuple(a for a in ACTIVATIONS if a not in OUTPUT_ONLY)


@dataclass(frozen=True)
class Architecture:
    """Layer widths, one activation per layer 2..L, and a cost consistent with the output activation."""

    sizes: tuple[int, ...]
    activations: tuple[str, ...]
    cost: str


def _output_choices(cost: str, activations: Sequence[str]) -> list[str]:
    required = REQUIRED_OUTPUT[cost]
    return [a for a in activations if required is None or a == required]


@st.composite
def architectures(
    draw: st.DrawFn,
    *,
    min_layers: int = 2,
    max_layers: int = 8,
    min_width: int = 1,
    max_width: int = 8,
    activations: Sequence[str] = ACTIVATIONS,
    costs: Sequence[str] = COSTS,
    square: bool = False,
) -> Architecture:
    """Architectures whose activations and cost the engine accepts (softmax only at the output)."""
    usable = [c for c in costs if _output_choices(c, activations)]
    if not usable:
        raise ValueError(f"no cost in {list(costs)} has an allowed output activation in {list(activations)}")
    cost = draw(st.sampled_from(usable))
    n_layers = draw(st.integers(min_layers, max_layers))
    if square:
        width = draw(st.integers(max(min_width, 2), max(max_width, 2)))
        sizes = (width,) * n_layers
    else:
        sizes = tuple(draw(st.lists(st.integers(min_width, max_width), min_size=n_layers, max_size=n_layers)))
    hidden = [a for a in activations if a not in OUTPUT_ONLY] or list(HIDDEN_ACTIVATIONS)
    names = [draw(st.sampled_from(hidden)) for _ in range(n_layers - 2)]
    names.append(draw(st.sampled_from(_output_choices(cost, activations))))
    return Architecture(sizes, tuple(names), cost)


def make_case(
    architecture: Architecture,
    regime: str = "typical",
    m: int = 4,
    reduction: str = "mean",
    dtype: str = "float64",
    seed: int = 0,
) -> Case:
    """A deterministic case for an architecture and a regime (the values behind ``cases``)."""
    if regime not in REGIMES:
        raise ValueError(f"unknown regime {regime!r}; expected one of {', '.join(REGIMES)}")
    rng = np.random.default_rng(seed)
    sizes = architecture.sizes
    weights, biases = [], []
    for n_prev, n in zip(sizes[:-1], sizes[1:], strict=True):
        if regime == "small":
            w, b = 1e-2 * rng.standard_normal((n, n_prev)), 1e-2 * rng.standard_normal(n)
        elif regime == "saturating":
            w, b = 10 * rng.standard_normal((n, n_prev)) / np.sqrt(n_prev), 10 * rng.standard_normal(n)
        else:
            w, b = rng.standard_normal((n, n_prev)) / np.sqrt(n_prev), rng.standard_normal(n)
        if regime == "zeros":
            dead = rng.random(n) < 0.4
            w[dead, :] = 0.0
            b[dead] = 0.0
        weights.append(w)
        biases.append(b)
    x = rng.standard_normal((m, sizes[0]))
    if regime == "zeros":
        x[rng.random(x.shape) < 0.3] = 0.0
    y = _targets(architecture.cost, rng, m, sizes[-1])
    return Case(
        sizes,
        architecture.activations,
        architecture.cost,
        reduction,
        dtype,
        [w.astype(dtype) for w in weights],
        [b.astype(dtype) for b in biases],
        x.astype(dtype),
        y.astype(dtype),
    )


def _targets(cost: str, rng: np.random.Generator, m: int, n: int) -> np.ndarray:
    if cost == "log_likelihood":
        if n == 1 or rng.random() < 0.5:
            return np.eye(n)[rng.integers(0, n, m)]  # one-hot labels
        p = rng.random((m, n)) + 0.05
        return p / p.sum(axis=1, keepdims=True)
    y = rng.random((m, n))
    if cost == "cross_entropy":
        y[rng.random((m, n)) < 0.3] = 1.0  # hard labels mixed with soft ones
        y[rng.random((m, n)) < 0.3] = 0.0
    return y


@st.composite
def cases(
    draw: st.DrawFn,
    *,
    architecture: st.SearchStrategy[Architecture] | None = None,
    regimes: Sequence[str] = REGIMES,
    min_layers: int = 2,
    max_layers: int = 8,
    min_width: int = 1,
    max_width: int = 8,
    min_batch: int = 1,
    max_batch: int = 8,
    activations: Sequence[str] = ACTIVATIONS,
    costs: Sequence[str] = COSTS,
    reductions: Sequence[str] = REDUCTIONS,
    dtypes: Sequence[str] = ("float64",),
) -> Case:
    """Whole cases: architecture, regime, batch size, reduction and dtype, then seeded values."""
    for d in dtypes:
        if d not in DTYPES:
            raise ValueError(f"unknown dtype {d!r}; expected one of {DTYPES}")
    regime = draw(st.sampled_from(list(regimes)))
    if architecture is None:
        architecture = architectures(
            min_layers=min_layers,
            max_layers=max_layers,
            min_width=min_width,
            max_width=max_width,
            activations=activations,
            costs=costs,
            square=regime == "square",
        )
    arch = draw(architecture)
    m = draw(st.integers(min_batch, max_batch))
    reduction = draw(st.sampled_from(list(reductions)))
    dtype = draw(st.sampled_from(list(dtypes)))
    seed = draw(st.integers(0, 2**32 - 1))
    return make_case(arch, regime, m, reduction, dtype, seed)
