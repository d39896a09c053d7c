"""The few shapes a search draws from when the implementation declares ``"shapes": "few"``.

Why: code that compiles once per shape (torch.compile, XLA, tinygrad) pays 10 to 25 s for
every new (layer sizes, batch size m, dtype). The usual search meets a new architecture in
almost every example, so tinygrad took 44 minutes for ``--quick`` and would take about 11
hours for a default run (issue 22). Under ``"shapes": "few"`` every case of a dtype takes its
sizes and m from a small pool, and the checks, the regimes and the value sets stay as they
are: activations, cost, reduction, weights, biases, x, y and the learning rate are drawn as
always, so each shape is met with many value sets.

The pool of one dtype (``draw_pool``), all drawn from the seed with numpy (counts, not clocks:
the same seed gives the same pool on any machine; another seed, another pool):

* ``common``: ``SearchSettings.pool_architectures`` shapes in the common sizes (at most
  ``common_layers`` layers, ``common_width`` wide, m from 2 to ``common_batch``); the first
  is square, for the "square" regime, which uses it alone. The other regimes whose point is
  the values (small, typical, saturating, zeros, scaled) use them all.
* the size regimes keep their point with one shape each, where the settings reach beyond the
  common sizes (the default run; ``--quick`` stops at the common sizes, so its size regimes use
  the common shapes): "wide" one layer at a width where kernels change path (15/16/17,
  31/32/33, 64, reference.strategies.BOUNDARY_SIZES) and each other layer wide with
  WIDE_SHARE; "deep" more layers than the common depth, at a boundary when one is in range;
  "big_batch" the first common architecture at a boundary batch size. One seed meets one
  boundary per dimension; the seeds of CI runs meet the others.
* m = 1 of every architecture: the batch_additivity check asks for each sample alone.

So a dtype has at most 2 x pool_architectures + 5 shapes (default: 11; ``--quick``: 4).
Shrinking stays within the pool (the drawn index shrinks towards the first shape, the values
towards seed 0): a smaller network would be another compile, and a case file replays the
shape that failed. What a pool cannot do is the declared trade-off: code that is wrong only at
shapes outside it passes, which the report's header and its "not covered" line say.
"""

from __future__ import annotations

import zlib
from dataclasses import dataclass

import numpy as np
from hypothesis import strategies as st

from reference import Case
from reference.costs import REQUIRED_OUTPUT
from reference.strategies import BOUNDARY_SIZES, SIZE_REGIMES, WIDE_SHARE, Architecture, make_case


@dataclass(frozen=True)
class Shape:
    """Layer sizes and batch size m: with the dtype, what a per-shape compiler compiles for."""

    sizes: tuple[int, ...]
    m: int

    def text(self) -> str:
        return f"{list(self.sizes)} x {self.m}"


@dataclass(frozen=True)
class Pool:
    """One dtype's shapes: the common ones, and one per size regime where the settings reach beyond them."""

    common: tuple[Shape, ...]
    wide: Shape | None = None
    deep: Shape | None = None
    big_batch: Shape | None = None

    def for_regime(self, regime: str) -> tuple[Shape, ...]:
        """The shapes a regime draws from: its own in a size regime, the square one for "square"."""
        if regime == "square":
            return self.common[:1]
        if regime in SIZE_REGIMES:
            own: Shape | None = getattr(self, regime)
            return (own,) if own is not None else self.common
        return self.common

    def drawn(self) -> tuple[Shape, ...]:
        """Every shape a case is drawn at, without repeats, in order."""
        extra = (s for s in (self.wide, self.deep, self.big_batch) if s is not None)
        return tuple(dict.fromkeys((*self.common, *extra)))

    def shapes(self) -> frozenset[Shape]:
        """Every shape the checks call the implementation at on a passing run: the drawn ones and m = 1 of each."""
        drawn = self.drawn()
        return frozenset((*drawn, *(Shape(s.sizes, 1) for s in drawn)))

    def text(self) -> str:
        return ", ".join(s.text() for s in self.drawn())


def _boundary_or_uniform(rng: np.random.Generator, low: int, high: int) -> int:
    """A size in [low, high]: a boundary size when one is in range (where kernels change path), else uniform."""
    edges = [n for n in BOUNDARY_SIZES if low <= n <= high]
    return int(edges[int(rng.integers(len(edges)))]) if edges else int(rng.integers(low, high + 1))


def draw_pool(
    seed: int,
    dtype: str,
    *,
    architectures: int,
    layered: bool,
    common_layers: int,
    common_width: int,
    common_batch: int,
    max_layers: int,
    max_width: int,
    max_batch: int,
) -> Pool:
    """The pool of ``dtype`` for this seed (module docstring); ``layered``: networks may have hidden layers."""
    rng = np.random.default_rng(zlib.crc32(f"{seed}/{dtype}/shapes".encode()))

    def depth() -> int:
        return int(rng.integers(2, max(2, common_layers) + 1)) if layered else 2

    def widths(n: int) -> tuple[int, ...]:
        return tuple(int(w) for w in rng.integers(1, common_width + 1, size=n))

    def batch() -> int:
        return int(rng.integers(2, common_batch + 1)) if common_batch >= 2 else 1

    n = depth()
    common = [Shape((int(rng.integers(min(2, common_width), common_width + 1)),) * n, batch())]
    for _ in range(architectures - 1):
        common.append(Shape(widths(depth()), batch()))
    wide = deep = big = None
    if max_width > common_width:
        sizes = list(widths(depth()))
        forced = int(rng.integers(len(sizes)))
        for i in range(len(sizes)):
            if i == forced or rng.random() < WIDE_SHARE:
                sizes[i] = _boundary_or_uniform(rng, common_width + 1, max_width)
        wide = Shape(tuple(sizes), batch())
    if layered and max_layers > common_layers:
        deep = Shape(widths(_boundary_or_uniform(rng, common_layers + 1, max_layers)), batch())
    if max_batch > common_batch:
        big = Shape(common[0].sizes, _boundary_or_uniform(rng, common_batch + 1, max_batch))
    return Pool(tuple(common), wide, deep, big)


def _outputs(cost: str, allowed: tuple[str, ...]) -> list[str]:
    required = REQUIRED_OUTPUT[cost]
    return [a for a in allowed if required is None or a == required]


@st.composite
def pooled_cases(
    draw: st.DrawFn,
    shapes: tuple[Shape, ...],
    regime: str,
    dtype: str,
    costs: tuple[str, ...],
    hidden: tuple[str, ...],
    outputs: tuple[str, ...],
    reductions: tuple[str, ...],
    targets: str,
) -> Case:
    """Cases at the pool's shapes: activations, cost, reduction and values drawn as reference.strategies.cases does."""
    shape = draw(st.sampled_from(shapes))
    cost = draw(st.sampled_from([c for c in costs if _outputs(c, outputs)]))
    names = [draw(st.sampled_from(hidden)) for _ in range(len(shape.sizes) - 2)]
    names.append(draw(st.sampled_from(_outputs(cost, outputs))))
    reduction = draw(st.sampled_from(reductions))
    value_seed = draw(st.integers(0, 2**32 - 1))
    architecture = Architecture(shape.sizes, tuple(names), cost)
    return make_case(architecture, regime, shape.m, reduction, dtype, value_seed, targets)
