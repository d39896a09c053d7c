"""Hypothesis strategies for networks, parameters, batches and learning rates.

Public, for our tests, the conformance suite and third parties' own tests.
Shapes (depth, widths, batch) are drawn by Hypothesis, so a failing example
shrinks to a small network; the values come from a numpy generator seeded by a
drawn integer (shrinking to seed 0), which keeps generation fast and every case
reproducible from (architecture, regime, m, seed) through ``make_case``.

Sizes. By default every size is uniform on [min, max]. Given a ``common_*`` bound
below the maximum, a size is instead usually drawn from [min, common] and, with
probability ``large_share``, large: half the time one of BOUNDARY_SIZES above the
common bound (where real kernels switch code paths: 15/16/17, 31/32/33, 64), chosen
uniformly, half the time from (common, max]. A failure that needs no large size
shrinks to the common range, one that does to the first size beyond the common
bound that shows it (``_size``).

Regimes:
  small       weights and biases ~ 1e-2: near-linear, tiny gradients
  typical     w ~ N(0, 1/n_{l-1}), b ~ N(0, 1), x ~ N(0, 1)
  saturating  w ~ N(0, 100/n_{l-1}), b ~ N(0, 100): sigmoid/tanh with |z| up to ~30
  zeros       exact zeros: whole rows of w^l with b^l_j = 0 (exact-zero pre-activations,
              the relu kink) and zeros in x
  square      every layer the same width, so a missing transpose keeps the shapes right
  scaled      magnitudes from 1e-3 to 1e3: every input feature (column of x) has its own
              scale 10^U(-3, 3), weights spread over three orders of magnitude within a
              layer, and each layer rescales by a random power of ten; the running scale of
              |z^l| is kept within 10^[-3, 3] (``_scaled``), so that float32 neither
              overflows nor underflows in any layer of a 16-layer, 64-wide network
  wide        typical values; at least one layer wider than the common width
  deep        typical values; more layers than the common depth
  big_batch   typical values; a batch larger than the common batch

Positions and targets. ``hidden_activations`` and ``output_activations`` restrict the
activations per position (micrograd's MLP: relu hidden, identity output); an empty
``hidden_activations`` means networks without hidden layers. ``targets="one_hot"`` draws
class labels only: every row of y one-hot (with one output unit, 0 or 1; 1 under
log_likelihood, whose rows must sum to 1). Without them the draws are those of before.

The last three exist because a share of large draws inside the other regimes is not a
guarantee: Hypothesis replays and mutates earlier choices, in ways that change with the
seed (150 cases with a 10% share gave from 11 to 41 batches above 8, and from 0 to 12 of 33
or more), while a regime in which the dimension is always large covers it in every example. Each still draws
the other dimensions from the common range, so a failure shrinks to a small network that
is large only in the one dimension it needs, at the smallest boundary size that shows it.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np
from hypothesis import strategies as st

from .activations import ACTIVATIONS, BOUNDED, OUTPUT_ONLY
from .architecture import DTYPES
from .case import Case
from .costs import COST_RECORDS, COSTS, REDUCTIONS, REQUIRED_OUTPUT

REGIMES: tuple[str, ...] = ("small", "typical", "saturating", "zeros", "square", "scaled", "wide", "deep", "big_batch")
# The regimes whose sizes, not values, are the point: typical values, one dimension always large.
SIZE_REGIMES: tuple[str, ...] = ("wide", "deep", "big_batch")
# ``cases``' default: the regimes it drew from before "scaled" and the size regimes existed, so
# that property tests written against it keep their meaning; the conformance search names its own.
CLASSIC_REGIMES: tuple[str, ...] = ("small", "typical", "saturating", "zeros", "square")
HIDDEN_ACTIVATIONS: tuple[str, ...] = tuple(a for a in ACTIVATIONS if a not in OUTPUT_ONLY)
# Sizes where kernels typically change path (vector widths, tiles, warps): drawn on purpose.
BOUNDARY_SIZES: tuple[int, ...] = (1, 2, 15, 16, 17, 31, 32, 33, 64)
WIDE_SHARE = 0.3  # in the "wide" regime, each layer is wide with at least this probability
# What the targets may be: "any" (every target the cost allows), "one_hot" (class labels only).
TARGETS: tuple[str, ...] = ("any", "one_hot")
# Learning rates (``learning_rates``): the contract allows any finite eta >= 0.
ETA_ZERO_SHARE = 0.1  # exactly 0: the step leaves every parameter as it is
ETA_WIDE_SHARE = 0.1  # log-uniform over ETA_WIDE, beyond the usual [1e-3, 10]
# Ten decades either side of 1: 1e6 times a gradient of the "scaled" regime (at most about
# 1e6) stays far inside float32's 3.4e38, and 1e-10 times it is still a normal float32.
ETA_WIDE: tuple[float, float] = (1e-10, 1e6)
# Quadratic targets (``_targets``): the contract allows any real y. Shares of the entries:
Y_ZERO_SHARE = 0.15  # exactly 0 ("y == 0 means no label" must meet real zeros)
Y_ONE_SHARE = 0.15  # exactly 1
Y_UNIT_SHARE = 0.2  # uniform on [0, 1), the textbook's range; the rest: N(0, 1) times 10^U(-1, 4)
Y_SCALE_DECADES: tuple[float, float] = (-1.0, 4.0)  # up to about 3e4 in magnitude, either sign
Y_ZERO_ROW_SHARE = 0.25  # a case with m >= 2 has one whole row of y equal to 0 this often
# Duplicate samples (``_duplicate_rows``): a case with m >= 2 repeats rows of x this often
# (half of those with the row's y too, half with a y of its own).
DUPLICATE_SHARE = 0.3


@dataclass(frozen=True)
class Architecture:
    """Layer widths, one activation per layer 2..L, and a cost consistent with the output activation."""

    sizes: tuple[int, ...]
    activations: tuple[str, ...]
    cost: str


def _output_choices(cost: str, activations: Sequence[str]) -> list[str]:
    required = REQUIRED_OUTPUT[cost]
    return [a for a in activations if required is None or a == required]


def _size(draw: st.DrawFn, low: int, high: int, common: int | None, large_share: float, large: bool = False) -> int:
    """A size in [low, high]: see "Sizes" in the module docstring (``large``: always beyond common).

    The choices (large or not, a boundary or not, which boundary) come from numpy's generator
    seeded by one drawn integer: Hypothesis skews its own small-range choices towards their
    shrink target, so ``integers(0, 9) == 9`` comes out at a third of its nominal rate and
    ``sampled_from(edges)`` may skip an edge in 150 draws, differently for every seed. Seed 0,
    the shrink target, means "common" and, when forced large, "not a boundary", whose size is
    drawn by Hypothesis and so shrinks to the first size beyond the common bound.
    """
    if common is None or not low <= common < high:
        return draw(st.integers(low, high))
    rng = np.random.default_rng(draw(st.integers(0, 2**32 - 1)))
    coin, branch = rng.random(2)  # seed 0: 0.64, 0.27
    if not large and coin >= large_share:
        return draw(st.integers(low, common))
    edges = [n for n in BOUNDARY_SIZES if common < n <= high]
    if edges and branch >= 0.5:
        return edges[int(rng.integers(len(edges)))]
    return draw(st.integers(common + 1, high))


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
    common_layers: int | None = None,
    common_width: int | None = None,
    large_share: float = 0.1,
    wide: bool = False,
    deep: bool = False,
    hidden_activations: Sequence[str] | None = None,
    output_activations: Sequence[str] | None = None,
) -> Architecture:
    """Architectures whose activations and cost the engine accepts (softmax only at the output).

    ``common_*``, ``large_share``: see "Sizes" in the module docstring (None: uniform sizes).
    ``deep``: always more than common_layers layers; ``wide``: at least one layer wider than
    common_width, each with probability WIDE_SHARE (both only where the maximum allows).
    ``hidden_activations``, ``output_activations``: the names allowed per position, instead of
    ``activations`` (an empty hidden list: networks without hidden layers; module docstring).
    """
    outputs = list(activations if output_activations is None else output_activations)
    usable = [c for c in costs if _output_choices(c, outputs)]
    if not usable:
        raise ValueError(f"no cost in {list(costs)} has an allowed output activation in {outputs}")
    if hidden_activations is None:
        hidden = [a for a in activations if a not in OUTPUT_ONLY] or list(HIDDEN_ACTIVATIONS)
    else:
        hidden = list(hidden_activations)
        if any(a in OUTPUT_ONLY or a not in ACTIVATIONS for a in hidden):
            raise ValueError(f"hidden_activations must be some of {', '.join(HIDDEN_ACTIVATIONS)}, got {hidden}")
        if not hidden and min_layers > 2:
            raise ValueError(f"no hidden activation is allowed, so no network has min_layers = {min_layers} layers")
    cost = draw(st.sampled_from(usable))
    if hidden:
        n_layers = _size(draw, min_layers, max_layers, common_layers, large_share, large=deep)
    else:
        n_layers = 2  # input and output only
    if square:
        width = _size(draw, max(min_width, 2), max(max_width, 2), common_width, large_share)
        sizes = [width] * n_layers
    else:
        share = max(large_share, WIDE_SHARE) if wide else large_share
        sizes = [_size(draw, min_width, max_width, common_width, share) for _ in range(n_layers)]
        if wide and common_width is not None and common_width < max_width and max(sizes) <= common_width:
            sizes[draw(st.integers(0, n_layers - 1))] = _size(draw, min_width, max_width, common_width, 1.0, large=True)
    names = [draw(st.sampled_from(hidden)) for _ in range(n_layers - 2)]
    names.append(draw(st.sampled_from(_output_choices(cost, outputs))))
    return Architecture(tuple(sizes), tuple(names), cost)


def _log_uniform(rng: np.random.Generator, low: float, high: float) -> float:
    value = 10.0 ** rng.uniform(np.log10(low), np.log10(high))
    return float(min(max(value, low), high))


def _learning_rate(seed: int, low: float, high: float) -> float:
    rng = np.random.default_rng(seed)
    u = float(rng.random())
    if u < ETA_ZERO_SHARE:
        return 0.0
    if u < ETA_ZERO_SHARE + ETA_WIDE_SHARE:
        return _log_uniform(rng, *ETA_WIDE)
    return _log_uniform(rng, low, high)


def learning_rates(low: float = 1e-3, high: float = 10.0) -> st.SearchStrategy[float]:
    """Learning rates over the contract's whole range (eta >= 0), mostly log-uniform on [low, high].

    Not a few fixed values: an sgd_step that is right only for the learning rates a suite
    happens to use (or only for ones exact in binary) must meet others. A share ETA_ZERO_SHARE
    is exactly 0 (``eta = eta or 0.5`` must meet it) and a share ETA_WIDE_SHARE is
    log-uniform over ETA_WIDE, the rest of the allowed range that float32 parameters can
    take a step of (a clamp at 10, or at 1, must meet a larger one). Hypothesis's own floats
    would give 1.0 and the ends a third of the time, so the value comes from a seed.
    """
    if not 0 < low <= high:
        raise ValueError(f"learning rates need 0 < low <= high, got [{low}, {high}]")
    return st.integers(0, 2**32 - 1).map(lambda seed: _learning_rate(seed, low, high))


def _scaled(
    rng: np.random.Generator, sizes: Sequence[int], activations: Sequence[str], m: int
) -> tuple[list[np.ndarray], list[np.ndarray], np.ndarray]:
    """Parameters and inputs over six orders of magnitude (the "scaled" regime).

    Each w^l has entries N(0, 1) 10^{U(-1.5, 1.5)}, rescaled so that its largest absolute row
    sum is 10^{f_l}: then |z^l| <= 10^{f_l} max|a^{l-1}| + |b^l|, and the running scale
    r_l = r_{l-1} + f_l bounds |z^l|. f_l ~ U(-3, 3), moved just enough to keep r_l in [-3, 3]
    (r is capped at 0 after a bounded activation). The inputs come second, so that the first
    layer's weights reach 1e3 as often as any: x_{.j} ~ N(0, 1) 10^{e_j}, e_j ~ U(-3, 3 - f_2)
    (and r_1 = max e_j). b^l ~ N(0, 1) 10^{r_l} / 4. The backward pass telescopes the same
    powers of ten, so every delta and gradient stays far inside float32's range.
    """
    first = rng.uniform(-3.0, 3.0)
    exponents = rng.uniform(-3.0, min(3.0, 3.0 - first), sizes[0])
    x = rng.standard_normal((m, sizes[0])) * 10.0**exponents
    running = float(exponents.max())
    weights, biases = [], []
    for i, (n_prev, n, name) in enumerate(zip(sizes[:-1], sizes[1:], activations, strict=True)):
        step = first if i == 0 else rng.uniform(-3.0, 3.0)
        target = float(np.clip(running + step, -3.0, 3.0))
        w = rng.standard_normal((n, n_prev)) * 10.0 ** rng.uniform(-1.5, 1.5, (n, n_prev))
        w *= 10.0 ** (target - running) / np.abs(w).sum(axis=1, keepdims=True).max()
        weights.append(w)
        biases.append(rng.standard_normal(n) * 10.0**target / 4)
        running = min(target, 0.0) if name in BOUNDED else target  # |a| <= 1 whatever z is
    return weights, biases, x


def make_case(
    architecture: Architecture,
    regime: str = "typical",
    m: int = 4,
    reduction: str = "mean",
    dtype: str = "float64",
    seed: int = 0,
    targets: str = "any",
) -> Case:
    """A deterministic case for an architecture and a regime (the values behind ``cases``).

    ``targets``: "any" or "one_hot" (module docstring, "Positions and targets").
    """
    if regime not in REGIMES:
        raise ValueError(f"unknown regime {regime!r}; expected one of {', '.join(REGIMES)}")
    if targets not in TARGETS:
        raise ValueError(f"unknown targets {targets!r}; expected one of {', '.join(TARGETS)}")
    rng = np.random.default_rng(seed)
    sizes = architecture.sizes
    if regime == "scaled":
        weights, biases, x = _scaled(rng, sizes, architecture.activations, m)
    else:
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
    y = _targets(architecture.cost, rng, m, sizes[-1], targets)
    _duplicate_rows(rng, x, y)
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


def _targets(cost: str, rng: np.random.Generator, m: int, n: int, targets: str = "any") -> np.ndarray:
    """Targets the cost allows (its record's ``targets``); "one_hot": class labels only."""
    kind = COST_RECORDS[cost].targets
    if targets == "one_hot":
        if n > 1:
            return np.eye(n)[rng.integers(0, n, m)]
        if kind == "probability":
            return np.ones((m, 1))  # a one-element probability vector
        return (rng.random((m, 1)) < 0.5).astype(np.float64)  # binary labels
    return TARGET_DRAWS[kind](rng, m, n)


def _probability_targets(rng: np.random.Generator, m: int, n: int) -> np.ndarray:
    """One-hot labels or soft probability vectors, half and half."""
    if n == 1 or rng.random() < 0.5:
        return np.eye(n)[rng.integers(0, n, m)]  # one-hot labels
    p = rng.random((m, n)) + 0.05
    return p / p.sum(axis=1, keepdims=True)


def _unit_interval_targets(rng: np.random.Generator, m: int, n: int) -> np.ndarray:
    """Soft targets in [0, 1) with hard labels 0 and 1 mixed in."""
    y = rng.random((m, n))
    y[rng.random((m, n)) < 0.3] = 1.0  # hard labels mixed with soft ones
    y[rng.random((m, n)) < 0.3] = 0.0
    return y


def _real_targets(rng: np.random.Generator, m: int, n: int) -> np.ndarray:
    """Quadratic targets anywhere on the real line: exact 0 and 1, [0, 1), negative, large.

    The quadratic cost takes any real y (CONTRACT.md section 2), so clipping y to [0, 1],
    reading y == 0 as "no label" or a sign error in a - y must each meet a target that shows
    them: every entry is 0 or 1 exactly, in [0, 1), or N(0, 1) times a per-case power of
    ten (Y_* above), and sometimes a whole row is 0.
    """
    scale = 10.0 ** rng.uniform(*Y_SCALE_DECADES)
    y = rng.standard_normal((m, n)) * scale
    kind = rng.random((m, n))
    y[kind < Y_ZERO_SHARE] = 0.0
    y[(kind >= Y_ZERO_SHARE) & (kind < Y_ZERO_SHARE + Y_ONE_SHARE)] = 1.0
    unit = (kind >= Y_ZERO_SHARE + Y_ONE_SHARE) & (kind < Y_ZERO_SHARE + Y_ONE_SHARE + Y_UNIT_SHARE)
    y[unit] = rng.random(int(unit.sum()))
    if m >= 2 and rng.random() < Y_ZERO_ROW_SHARE:
        y[rng.integers(0, m)] = 0.0
    return y


# One draw per kind of target (reference.costs.TARGET_KINDS; tests/test_cost_tables.py).
TARGET_DRAWS: dict[str, Callable[[np.random.Generator, int, int], np.ndarray]] = {
    "real": _real_targets,
    "unit_interval": _unit_interval_targets,
    "probability": _probability_targets,
}


def _duplicate_rows(rng: np.random.Generator, x: np.ndarray, y: np.ndarray) -> None:
    """Repeat samples in place: a batch may hold the same x twice (CONTRACT.md does not forbid it).

    Code that deduplicates rows, or caches per-sample work keyed by x, is wrong exactly there.
    With probability DUPLICATE_SHARE (and m >= 2) about half the rows become copies of other
    rows' x, half of the time with that row's y as well (a repeated sample), half of the time
    keeping their own y (the same input, another label). Targets stay valid for every cost:
    a row of y is either its own or another valid row.
    """
    m = x.shape[0]
    if m < 2 or rng.random() >= DUPLICATE_SHARE:
        return
    with_y = rng.random() < 0.5
    for row in rng.permutation(m)[: max(1, m // 2)]:
        source = int(rng.integers(0, m - 1))
        source += source >= row  # any other row
        x[row] = x[source]
        if with_y:
            y[row] = y[source]


@st.composite
def cases(
    draw: st.DrawFn,
    *,
    architecture: st.SearchStrategy[Architecture] | None = None,
    regimes: Sequence[str] = CLASSIC_REGIMES,
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
    common_layers: int | None = None,
    common_width: int | None = None,
    common_batch: int | None = None,
    large_share: float = 0.1,
    hidden_activations: Sequence[str] | None = None,
    output_activations: Sequence[str] | None = None,
    targets: str = "any",
) -> Case:
    """Whole cases: architecture, regime, batch size, reduction and dtype, then seeded values.

    ``common_*`` and ``large_share``: see "Sizes" in the module docstring (default: uniform
    sizes on [min, max], as before). The size regimes force their dimension beyond its
    ``common_*`` bound only when one is given (otherwise they are "typical").
    ``hidden_activations``, ``output_activations``, ``targets``: see "Positions and targets"
    (the first two apply only when ``architecture`` is None).
    """
    for d in dtypes:
        if d not in DTYPES:
            raise ValueError(f"unknown dtype {d!r}; expected one of {DTYPES}")
    if targets not in TARGETS:
        raise ValueError(f"unknown targets {targets!r}; expected one of {', '.join(TARGETS)}")
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
            common_layers=common_layers,
            common_width=common_width,
            large_share=large_share,
            wide=regime == "wide",
            deep=regime == "deep",
            hidden_activations=hidden_activations,
            output_activations=output_activations,
        )
    arch = draw(architecture)
    m = _size(draw, min_batch, max_batch, common_batch, large_share, large=regime == "big_batch")
    reduction = draw(st.sampled_from(list(reductions)))
    dtype = draw(st.sampled_from(list(dtypes)))
    seed = draw(st.integers(0, 2**32 - 1))
    return make_case(arch, regime, m, reduction, dtype, seed, targets)
