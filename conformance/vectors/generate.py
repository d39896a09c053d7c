"""Build the golden vectors: fixed cases, 50-digit expected results, tolerances, the manifest.

Everything is a pure function of the specs below: inputs come from numpy's PCG64
with an explicit seed and are rounded to multiples of 2^-10 (exact in float32 as in
float64, short in JSON); expected values are the mpmath ground truth rounded to the
nearest float64, not a float computation, so regenerating gives byte-identical files
whatever the float engine's summation order. The reference's own float64 (and, for
float32 cases, float32) result is checked against that truth and the agreement is
recorded (as a power-of-ten ceiling, again for byte stability).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import mpmath
import numpy as np

import reference
from conformance.implementations.contract import CONTRACT_VERSION, dumps, encode_case
from conformance.judging.tolerances import (
    SAFETY,
    UNIT_ROUNDOFF,
    ErrorBounds,
    ambiguous_kink,
    error_bounds,
    tolerance,
    with_dtype,
)
from reference import engine, precision
from reference._ops import Array
from reference.activations import ACTIVATION_RECORDS
from reference.costs import COST_RECORDS

from .verify import MANIFEST, sha256

DIGITS = 50
# Every input, weight, bias and soft target is a multiple of this: exact in float32 as in
# float64, and short in JSON.
INPUT_GRID = 2.0**-10
GENERATOR = "python -m conformance.vectors generate"
_RETRIES = 20
_AGREES = "reference.backprop in this dtype agrees with the 50-digit values within the tolerance"
_SEED_STRIDE = 7919


@dataclass(frozen=True)
class VectorSpec:
    """One golden vector's recipe: everything its file is a pure function of."""

    id: str  # the file name without .json; ends in -f64 or -f32, the dtype
    description: str  # one line for a reader of the file
    sizes: tuple[int, ...]  # (n_1, ..., n_L)
    activations: tuple[str, ...]  # sigma of layers 2..L
    cost: str
    reduction: str  # "mean" or "sum" over the batch
    dtype: str  # "float64" or "float32", of the case's arrays
    m: int  # samples in the batch
    seed: int  # the first seed tried; build_vector steps by _SEED_STRIDE past ambiguous cases
    weight_scale: float = 1.0  # times 1/sqrt(n_{l-1}); large values saturate sigmoid and tanh
    bias_scale: float = 1.0  # the biases' standard deviation
    zero_units: tuple[tuple[int, int], ...] = ()  # (layer, unit): zero weight row and bias, so z = 0 exactly
    onehot: bool = False  # log_likelihood targets one-hot instead of soft
    regimes: tuple[str, ...] = field(default=())


_OUTPUTS: tuple[tuple[str, str], ...] = (
    ("sigmoid", "quadratic"),
    ("tanh", "quadratic"),
    ("relu", "quadratic"),
    ("identity", "quadratic"),
    ("softplus", "quadratic"),
    ("softmax", "quadratic"),
    ("sigmoid", "cross_entropy"),
    ("softmax", "log_likelihood"),
)
_HIDDEN = ("tanh", "sigmoid", "relu", "softplus", "identity")
_ARCHS: tuple[tuple[int, ...], ...] = (
    (3, 4, 2),
    (2, 5, 3),
    (4, 3, 5, 2),
    (3, 2, 4),
    (5, 4, 3),
    (2, 3, 2, 3),
)


def _grid() -> Iterator[VectorSpec]:
    """Every output activation x cost x reduction x dtype, on small non-square networks."""
    k = 0
    for out, cost in _OUTPUTS:
        for dtype in ("float64", "float32"):
            for reduction in ("mean", "sum"):
                sizes = _ARCHS[k % len(_ARCHS)]
                hidden = tuple(_HIDDEN[(k + j) % len(_HIDDEN)] for j in range(len(sizes) - 2))
                short = "f64" if dtype == "float64" else "f32"
                yield VectorSpec(
                    id=f"grid-{out}-{cost}-{reduction}-{short}",
                    description=f"{out} output with {cost} cost, {reduction} reduction, {dtype}",
                    sizes=sizes,
                    activations=(*hidden, out),
                    cost=cost,
                    reduction=reduction,
                    dtype=dtype,
                    m=2 + k % 4,
                    seed=1000 + k,
                    onehot=k % 3 == 0,
                    regimes=("grid",),
                )
                k += 1


def _regimes() -> Iterator[VectorSpec]:
    """The regimes the issue names: square, deep, width 1, batch 1, saturated, exact-zero relu.

    One VectorSpec per vector, every field by name (their meaning: ``VectorSpec``). The first
    five come in both dtypes, float64 first; the rest in the one dtype their id ends with.
    """
    for dtype, short in (("float64", "f64"), ("float32", "f32")):
        yield VectorSpec(
            id=f"deep-square-{short}",
            description=f"6 square layers of width 4 (L = 6), {dtype}",
            sizes=(4, 4, 4, 4, 4, 4),
            activations=("tanh", "relu", "sigmoid", "softplus", "identity"),
            cost="quadratic",
            reduction="mean",
            dtype=dtype,
            m=3,
            seed=2000,
            regimes=("square", "deep"),
        )
        yield VectorSpec(
            id=f"width-one-{short}",
            description=f"every layer of width 1 (L = 5), {dtype}",
            sizes=(1, 1, 1, 1, 1),
            activations=("sigmoid", "tanh", "softplus", "sigmoid"),
            cost="quadratic",
            reduction="mean",
            dtype=dtype,
            m=4,
            seed=2100,
            regimes=("width1", "deep"),
        )
        yield VectorSpec(
            id=f"batch-one-{short}",
            description=f"a single sample (m = 1), cross_entropy, {dtype}",
            sizes=(3, 5, 2),
            activations=("tanh", "sigmoid"),
            cost="cross_entropy",
            reduction="mean",
            dtype=dtype,
            m=1,
            seed=2200,
            regimes=("batch1",),
        )
        yield VectorSpec(
            id=f"saturated-sigmoid-{short}",
            description=f"sigmoid and tanh saturated (|z| up to ~30), output included, {dtype}",
            sizes=(3, 4, 4, 2),
            activations=("sigmoid", "tanh", "sigmoid"),
            cost="quadratic",
            reduction="sum",
            dtype=dtype,
            m=3,
            seed=2300,
            weight_scale=12.0,
            bias_scale=4.0,
            regimes=("saturating",),
        )
        yield VectorSpec(
            id=f"relu-zeros-{short}",
            description=f"relu pre-activations exactly 0 in hidden and output layers (relu'(0) = 0), {dtype}",
            sizes=(3, 4, 4, 3),
            activations=("relu", "relu", "relu"),
            cost="quadratic",
            reduction="mean",
            dtype=dtype,
            m=3,
            seed=2400,
            zero_units=((2, 1), (3, 0), (3, 3), (4, 2)),
            regimes=("zeros",),
        )
    yield VectorSpec(
        id="deep-mixed-log-likelihood-sum-f64",
        description="7 non-square layers ending in softmax, log_likelihood, sum",
        sizes=(5, 3, 4, 2, 6, 3, 4),
        activations=("sigmoid", "relu", "tanh", "softplus", "identity", "softmax"),
        cost="log_likelihood",
        reduction="sum",
        dtype="float64",
        m=3,
        seed=2500,
        regimes=("deep",),
    )
    yield VectorSpec(
        id="square-bottleneck-width-one-f64",
        description="a width-1 bottleneck between square layers",
        sizes=(3, 3, 1, 3, 3),
        activations=("tanh", "identity", "softplus", "tanh"),
        cost="quadratic",
        reduction="sum",
        dtype="float64",
        m=2,
        seed=2600,
        regimes=("width1", "square"),
    )
    yield VectorSpec(
        id="batch-one-softmax-log-likelihood-f32",
        description="m = 1, softmax output, log_likelihood, float32",
        sizes=(4, 3, 5),
        activations=("relu", "softmax"),
        cost="log_likelihood",
        reduction="sum",
        dtype="float32",
        m=1,
        seed=2700,
        onehot=True,
        regimes=("batch1",),
    )
    yield VectorSpec(
        id="saturated-softmax-log-likelihood-f64",
        description="softmax logits spread over ~40, log_likelihood",
        sizes=(3, 4, 5),
        activations=("tanh", "softmax"),
        cost="log_likelihood",
        reduction="mean",
        dtype="float64",
        m=3,
        seed=2800,
        weight_scale=15.0,
        regimes=("saturating",),
    )
    yield VectorSpec(
        id="saturated-softmax-quadratic-f32",
        description="softmax logits spread over ~40, quadratic cost, float32",
        sizes=(3, 4, 5),
        activations=("sigmoid", "softmax"),
        cost="quadratic",
        reduction="mean",
        dtype="float32",
        m=3,
        seed=2900,
        weight_scale=20.0,
        regimes=("saturating",),
    )
    yield VectorSpec(
        id="saturated-cross-entropy-hidden-f64",
        description="saturated hidden layers under a moderate cross_entropy output",
        sizes=(4, 5, 3),
        activations=("tanh", "sigmoid"),
        cost="cross_entropy",
        reduction="sum",
        dtype="float64",
        m=4,
        seed=3000,
        weight_scale=10.0,
        bias_scale=0.25,
        regimes=("saturating",),
    )
    yield VectorSpec(
        id="large-batch-sum-f64",
        description="m = 16 samples, sum reduction (the factor-of-m bugs)",
        sizes=(3, 4, 2),
        activations=("softplus", "tanh"),
        cost="quadratic",
        reduction="sum",
        dtype="float64",
        m=16,
        seed=3100,
        regimes=("batch",),
    )
    yield VectorSpec(
        id="large-batch-mean-f32",
        description="m = 16 samples, mean reduction, float32",
        sizes=(3, 4, 2),
        activations=("relu", "sigmoid"),
        cost="quadratic",
        reduction="mean",
        dtype="float32",
        m=16,
        seed=3200,
        regimes=("batch",),
    )


# The textbook families: one activation in every hidden layer (sigmoid), as in the seed's own
# code, so that a first implementation (Nielsen's network.py, network2.py) can compute them.
# log_likelihood needs a softmax output (delta^L = a^L - y holds only there), so its textbook
# form is sigmoid hidden layers under a softmax output layer (the seed's chapter 3), with
# one-hot targets: C_x = -ln a^L_y, the form in which the seed writes the cost.
_TEXTBOOK_FAMILIES: tuple[tuple[str, str], ...] = (
    ("sigmoid", "quadratic"),
    ("sigmoid", "cross_entropy"),
    ("softmax", "log_likelihood"),
)
# (name, sizes, m): one hidden layer (network.py's [784, 30, 10] in small); two hidden layers;
# four layers fed one sample at a time (network.py's backprop(x, y)). Non-square throughout.
_TEXTBOOK_SHAPES: tuple[tuple[str, tuple[int, ...], int], ...] = (
    ("shallow", (6, 4, 3), 4),
    ("deep", (3, 5, 4, 2), 3),
    ("one-sample", (2, 4, 3, 5, 2), 1),
)


def _textbook() -> Iterator[VectorSpec]:
    """Single-activation vectors: every dtype and reduction for each textbook family.

    sigmoid + quadratic gets all three shapes (it is what a first implementation does); the
    other two families get the first two, which keeps the set at a few dozen files.
    """
    k = 0
    for out, cost in _TEXTBOOK_FAMILIES:
        shapes = _TEXTBOOK_SHAPES if cost == "quadratic" else _TEXTBOOK_SHAPES[:2]
        for shape, sizes, m in shapes:
            for dtype in ("float64", "float32"):
                for reduction in ("mean", "sum"):
                    short = "f64" if dtype == "float64" else "f32"
                    hidden = "sigmoid hidden layers" if len(sizes) > 3 else "a sigmoid hidden layer"
                    yield VectorSpec(
                        id=f"textbook-{out}-{cost}-{shape}-{reduction}-{short}",
                        description=f"textbook: {hidden}, {out} output, {cost} cost, {shape} "
                        f"(sizes {list(sizes)}, m = {m}), {reduction} reduction, {dtype}",
                        sizes=sizes,
                        activations=(*("sigmoid",) * (len(sizes) - 2), out),
                        cost=cost,
                        reduction=reduction,
                        dtype=dtype,
                        m=m,
                        seed=4000 + k,
                        onehot=COST_RECORDS[cost].targets == "probability",  # class labels, as network.py
                        regimes=("textbook",),
                    )
                    k += 1


def specs() -> list[VectorSpec]:
    """All golden vectors, in file order."""
    out = [*_grid(), *_regimes(), *_textbook()]
    ids = [s.id for s in out]
    assert len(set(ids)) == len(ids), "vector ids must be unique"
    return out


def _quantize(values: Array) -> Array:
    return np.round(values / INPUT_GRID) * INPUT_GRID


def _targets(spec: VectorSpec, rng: np.random.Generator) -> Array:
    n_L, out = spec.sizes[-1], spec.activations[-1]
    if COST_RECORDS[spec.cost].targets == "probability" or out == "softmax":
        if spec.onehot:
            return np.eye(n_L)[rng.integers(0, n_L, spec.m)]
        counts = rng.multinomial(int(1 / INPUT_GRID), rng.dirichlet(np.ones(n_L)), spec.m)
        return counts * INPUT_GRID  # probability vectors summing to exactly 1
    if ACTIVATION_RECORDS[out].nonnegative:
        return _quantize(rng.uniform(0.0, 1.0, (spec.m, n_L)))
    return _quantize(rng.uniform(-1.0, 1.0, (spec.m, n_L)))


def build_case(spec: VectorSpec, seed: int) -> reference.Case:
    """The spec's case for one seed: quantized Gaussian parameters and inputs."""
    rng = np.random.default_rng(seed)
    weights, biases = [], []
    for layer, (n_prev, n) in enumerate(zip(spec.sizes[:-1], spec.sizes[1:], strict=True), start=2):
        w = _quantize(rng.standard_normal((n, n_prev)) * spec.weight_scale / math.sqrt(n_prev))
        b = _quantize(rng.standard_normal(n) * spec.bias_scale)
        for zero_layer, unit in spec.zero_units:
            if zero_layer == layer:
                w[unit, :] = 0.0
                b[unit] = 0.0
        weights.append(w.astype(spec.dtype))
        biases.append(b.astype(spec.dtype))
    x = _quantize(rng.standard_normal((spec.m, spec.sizes[0]))).astype(spec.dtype)
    y = _targets(spec, rng).astype(spec.dtype)
    fields = dict(
        sizes=spec.sizes,
        activations=spec.activations,
        cost=spec.cost,
        reduction=spec.reduction,
        dtype=spec.dtype,
        weights=weights,
        biases=biases,
        x=x,
        y=y,
    )
    return reference.validate(SimpleNamespace(**fields))


def _truth(case: reference.Case) -> tuple[dict[str, Any], list[Array], list[Array]]:
    """The 50-digit results and forward values, rounded to float64."""
    mp = reference.backprop_mp(case, digits=DIGITS)
    with mpmath.workdps(DIGITS):
        c = precision.case_to_mp(case)
        z, a = engine.feedforward(c, c.x)
    result = {
        "grad_weights": [precision.to_float(g) for g in mp["grad_weights"]],
        "grad_biases": [precision.to_float(g) for g in mp["grad_biases"]],
        "deltas": [precision.to_float(d) for d in mp["deltas"]],
        "cost": float(mp["cost"]),
    }
    return result, [precision.to_float(v) for v in z], [precision.to_float(v) for v in a]


def _bounds(case: reference.Case, truth: dict[str, Any], z: list[Array], a: list[Array], u: float) -> ErrorBounds:
    # The vectors serve implementations whose declarations they cannot see: the cost's bound
    # admits a cost computed from the rounded a (tolerances.py, "The cost computed from a").
    return error_bounds(with_dtype(case, "float64"), z, a, truth["deltas"], u, cost_from_activations=True)


def round_up(value: float) -> float:
    """``value`` rounded up to 2 significant digits, through a decimal string.

    A tolerance needs no 17 digits, and its last bits depend on the float engine (sigma'
    in float64, BLAS summation order); rounded up, the files stay byte-identical across
    machines and engine refactors, and the tolerance never shrinks.
    """
    if value <= 0:
        return 0.0
    exponent = math.floor(math.log10(value)) - 1
    digits = math.ceil(value / 10.0**exponent)
    return float(f"{digits}e{exponent}")


def tolerances(bounds: ErrorBounds, truth: dict[str, Any]) -> dict[str, Any]:
    """conformance.judging.tolerances.tolerance (its u64 |expected| term: rounding the truth to float64), rounded up."""
    up = np.vectorize(round_up, otypes=[np.float64])
    out: dict[str, Any] = {}
    for name in ("grad_weights", "grad_biases", "deltas"):
        out[name] = [up(tolerance(e, t)) for e, t in zip(getattr(bounds, name), truth[name], strict=True)]
    out["cost"] = round_up(float(tolerance(np.asarray(bounds.cost), np.asarray(truth["cost"]))))
    return out


def error_over_tolerance(result: dict[str, Any], truth: dict[str, Any], tol: dict[str, Any]) -> float:
    """max |result - truth| / tol over every element of every field (0 where both are 0)."""
    worst = 0.0
    for name in ("grad_weights", "grad_biases", "deltas"):
        for r, t, e in zip(result[name], truth[name], tol[name], strict=True):
            diff = np.abs(np.asarray(r, dtype=np.float64) - t)
            with np.errstate(divide="ignore", invalid="ignore"):
                ratio = np.where(diff == 0, 0.0, diff / e)
            worst = max(worst, float(np.max(ratio)))
    diff = abs(float(result["cost"]) - truth["cost"])
    worst = max(worst, 0.0 if diff == 0 else diff / tol["cost"])
    return worst


def build_vector(spec: VectorSpec) -> tuple[dict[str, Any], dict[str, float]]:
    """The vector's JSON object and the reference's error/tolerance ratios per dtype.

    Retries seeds (deterministically) until the case is unambiguous.
    """
    problems = []
    for attempt in range(_RETRIES):
        seed = spec.seed + _SEED_STRIDE * attempt
        case = build_case(spec, seed)
        truth, z, a = _truth(case)
        bounds = _bounds(case, truth, z, a, UNIT_ROUNDOFF[spec.dtype])
        where = ambiguous_kink(spec.activations, z, bounds.z)
        if where is not None:
            layer, sample, unit, kink = where
            problems.append(f"seed {seed}: pre-activation near the kink at {kink:g} at layer {layer}, {(sample, unit)}")
            continue
        if not all(np.isfinite(v).all() for k in ("grad_weights", "grad_biases", "deltas") for v in truth[k]):
            problems.append(f"seed {seed}: non-finite expected values")
            continue
        return _vector(spec, seed, case, truth, z, a, bounds)
    raise RuntimeError(f"vector {spec.id}: no usable seed in {_RETRIES} attempts: {'; '.join(problems)}")


def _vector(
    spec: VectorSpec,
    seed: int,
    case: reference.Case,
    truth: dict[str, Any],
    z: list[Array],
    a: list[Array],
    bounds: ErrorBounds,
) -> tuple[dict[str, Any], dict[str, float]]:
    """The JSON object; the agreement ratios are asserted <= 1 and returned, not stored.

    Storing them would tie the files' bytes to the last bits of the float engine; the
    file records the (stable) fact that was checked instead.
    """
    tol = tolerances(bounds, truth)
    ratios: dict[str, float] = {}
    check: dict[str, Any] = {"digits": DIGITS}
    tol64 = tolerances(_bounds(case, truth, z, a, UNIT_ROUNDOFF["float64"]), truth)
    ratio64 = error_over_tolerance(reference.backprop(with_dtype(case, "float64")), truth, tol64)
    if ratio64 > 1:
        raise RuntimeError(f"vector {spec.id}: reference.backprop (float64) is off by {ratio64:.3g} tolerances")
    ratios["float64"] = ratio64
    check["reference_float64"] = _AGREES
    if spec.dtype == "float32":
        ratio32 = error_over_tolerance(reference.backprop(case), truth, tol)
        if ratio32 > 1:
            raise RuntimeError(f"vector {spec.id}: reference.backprop (float32) is off by {ratio32:.3g} tolerances")
        ratios["float32"] = ratio32
        check["reference_float32"] = _AGREES
    vector = {
        "contract_version": CONTRACT_VERSION,
        "id": spec.id,
        "description": spec.description,
        "regimes": list(spec.regimes),
        "case": encode_case(case),
        "expected": truth,
        "tolerance": tol,
        "provenance": {
            "generator": GENERATOR,
            "seed": seed,
            "expected": f"reference.backprop_mp(case, digits={DIGITS}), rounded to the nearest float64",
            "tolerance": f"conformance/judging/tolerances.py: {SAFETY:g} x first-order rounding "
            "bound in "
            f"{spec.dtype} (u = {UNIT_ROUNDOFF[spec.dtype]:.3g}) + u64 |expected|",
            "mp_check": check,
        },
    }
    return vector, ratios


def render(vector: dict[str, Any]) -> str:
    """One top-level key per line, values compact: diffable, byte-identical on regeneration."""
    lines = [f"  {dumps(key)}: {dumps(value)}" for key, value in vector.items()]
    return "{\n" + ",\n".join(lines) + "\n}\n"


def generate(out: Path, log: Callable[[str], None] | None = None) -> list[Path]:
    """Write every vector and the manifest into ``out``; returns the written paths.

    ``log`` receives one line per vector with the reference's worst error/tolerance ratios.
    """
    out.mkdir(parents=True, exist_ok=True)
    written, entries = [], []
    for spec in specs():
        path = out / f"{spec.id}.json"
        vector, ratios = build_vector(spec)
        path.write_text(render(vector), encoding="utf-8")
        if log is not None:
            figures = ", ".join(f"reference {k}: {v:.2g}" for k, v in ratios.items())
            log(f"{spec.id}: worst error/tolerance {figures}")
        written.append(path)
        entries.append(
            {
                "id": spec.id,
                "file": path.name,
                "sha256": sha256(path),
                "dtype": spec.dtype,
                "regimes": list(spec.regimes),
            }
        )
    manifest = {
        "contract_version": CONTRACT_VERSION,
        "generator": GENERATOR,
        "format": "conformance/CONTRACT.md, section 'Golden vectors'",
        "vectors": entries,
    }
    manifest_path = out / MANIFEST
    manifest_path.write_text(render(manifest), encoding="utf-8")
    return [*written, manifest_path]
