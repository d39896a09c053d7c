"""Is a mutant wrong? A differential check against the reference, on cases the suite never draws.

The suite's generator (reference/strategies.py, Hypothesis) is not used here, so a region the suite
never generates still makes a mutant *wrong*: the figure then counts it as a mutant the suite missed,
which is the point. The cases below are drawn with numpy's own generator, over the whole contract
(conformance/CONTRACT.md): depths 2 to 10, widths 1 to 8 with the kernel boundaries 16, 17 and 33,
batches 1 to 6 and 17, weights from 0.3 to 20 in scale (saturated units included), relu units whose
pre-activation is exactly 0, duplicate samples, quadratic targets anywhere on the real line (exactly 0
and 1 too), cross-entropy targets in [0, 1] with both ends, soft and one-hot log-likelihood rows, both
reductions, both dtypes, and learning rates from 0 to 10.

The verdict. A mutant is *wrong* when, on some case, one of its outputs (every gradient, the deltas,
the cost, the parameters after sgd_step) is missing, raises, is not finite, has another shape, or is
further from the reference than rounding explains. What rounding explains, per output and case
(``bounds``): ``RELATIVE`` = 1e-7 of the output's largest entry in float64 (``RELATIVE_FLOAT32`` = 1e-2
in float32), or 1000 times the unmutated subject's own difference from the reference on that output,
whichever is larger. Why that separates rounding from mistakes: the unmutated subjects, correct
programs, differ from the reference by 1e-16 to 1e-12 of an output on well-conditioned cases (float32:
up to about 1e-5), and on the ill-conditioned ones (deep saturated networks, float32 underflow) by
whatever those cases' rounding is, which the second term measures instead of guessing; a mistake in an
operator, constant, index or transpose changes an output by a factor of order one on most cases, and
the oracle needs only one. A mutant that is wrong nowhere is *equivalent*: within these cases no test
of the contract can tell it from the original.
"""

from __future__ import annotations

import math
import types
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np

import reference
from reference import Case

RELATIVE = 1e-7
RELATIVE_FLOAT32 = 1e-2
# An output that is 0, or nearly, because terms of the case's own size cancel (a^L - y with a^L = y) is
# judged against this share of the case's scale (the largest |y| or gradient entry, at least 1) instead of
# its own size: 1e-4 of RELATIVE is 1e-11 in float64 and 1e-6 in float32, about 50 and 10 unit roundoffs.
FLOOR = 1e-4

HIDDEN = ("sigmoid", "tanh", "relu", "identity", "softplus")
OUTPUT = (*HIDDEN, "softmax")
ETAS = (0.0, 1e-3, 0.1, 0.5, 1.0, 3.0, 10.0)


def _width(rng: np.random.Generator) -> int:
    return int(rng.choice([16, 17, 33])) if rng.random() < 0.06 else int(rng.integers(1, 9))


def _targets(rng: np.random.Generator, cost: str, m: int, n: int) -> np.ndarray:
    if cost == "quadratic":
        y = rng.normal(0.0, 2.0, (m, n))
        mask = rng.random((m, n))
        y[mask < 0.15] = 0.0
        y[(mask >= 0.15) & (mask < 0.3)] = 1.0
        return y
    if cost == "cross_entropy":
        y = rng.random((m, n))
        mask = rng.random((m, n))
        y[mask < 0.2] = 0.0
        y[mask > 0.8] = 1.0
        return y
    if rng.random() < 0.5:
        return np.eye(n)[rng.integers(0, n, m)]
    return rng.dirichlet(np.ones(n), m)


def draw_case(rng: np.random.Generator) -> tuple[Case, float]:
    """One case of the contract, and a learning rate for sgd_step."""
    depth = int(rng.choice([2, 2, 3, 3, 3, 4, 4, 5, 7, 10]))
    sizes = tuple(_width(rng) for _ in range(depth))
    cost = str(rng.choice(["quadratic", "quadratic", "cross_entropy", "log_likelihood"]))
    hidden = [str(rng.choice(HIDDEN)) for _ in range(depth - 2)]
    output = {"cross_entropy": "sigmoid", "log_likelihood": "softmax"}.get(cost) or str(rng.choice(OUTPUT))
    activations = (*hidden, output)
    m = 17 if rng.random() < 0.06 else int(rng.integers(1, 7))
    scale = float(rng.choice([0.3, 1.0, 1.0, 2.0, 5.0, 20.0]))
    shapes = zip(sizes[1:], sizes[:-1], strict=True)
    weights = [rng.normal(0.0, scale / math.sqrt(n_in), (n_out, n_in)) for n_out, n_in in shapes]
    biases = [rng.normal(0.0, scale / 2, n_out) for n_out in sizes[1:]]
    for i, name in enumerate(activations):
        if name == "relu" and rng.random() < 0.4:  # a unit whose z is exactly 0 on every sample
            unit = int(rng.integers(0, sizes[i + 1]))
            weights[i][unit] = 0.0
            biases[i][unit] = 0.0
    x = rng.normal(0.0, float(rng.choice([0.5, 1.0, 3.0])), (m, sizes[0]))
    if m > 1 and rng.random() < 0.25:
        x[-1] = x[0]  # a duplicate sample
    y = _targets(rng, cost, m, sizes[-1])
    dtype = "float32" if rng.random() < 0.25 else "float64"
    cast = np.dtype(dtype).type
    case = Case(
        sizes=sizes,
        activations=activations,
        cost=cost,
        reduction=str(rng.choice(["mean", "sum"])),
        dtype=dtype,
        weights=[w.astype(cast) for w in weights],
        biases=[b.astype(cast) for b in biases],
        x=x.astype(cast),
        y=y.astype(cast),
    )
    return case, float(rng.choice(ETAS))


@dataclass(frozen=True)
class OracleCase:
    case: Case
    eta: float
    expected: dict[str, Any]  # the reference's backprop, with "weights" and "biases" after sgd_step


def oracle_cases(count: int, seed: int = 20261207) -> list[OracleCase]:
    rng = np.random.default_rng(seed)
    out: list[OracleCase] = []
    while len(out) < count:
        case, eta = draw_case(rng)
        expected = dict(reference.backprop(case))
        if not all(np.all(np.isfinite(g)) for g in expected["grad_weights"]):
            continue  # the reference itself overflows: not a case of the contract's interior
        step = reference.sgd_step(case, eta)
        expected["weights"], expected["biases"] = step["weights"], step["biases"]
        out.append(OracleCase(case, eta, expected))
    return out


def _error(actual: Any, expected: np.ndarray) -> float | str:
    """The largest absolute difference from ``expected``, or why there is none to measure."""
    try:
        got = np.asarray(actual, dtype=np.float64)
    except (TypeError, ValueError) as error:
        return f"not an array ({str(error)[:60]})"
    want = np.asarray(expected, dtype=np.float64)
    if got.shape != want.shape:
        return f"shape {got.shape}, expected {want.shape}"
    if not np.all(np.isfinite(got)):
        return "not finite"
    return float(np.max(np.abs(got - want))) if want.size else 0.0


Errors = dict[str, float]


def _getter(answer: Any, field: str, i: int) -> Callable[[], Any]:
    return lambda: answer[field][i]


def errors(impl: types.ModuleType | Any, oc: OracleCase) -> Errors | str:
    """Every output's largest difference from the reference on this case, or why the answer is unusable."""
    try:
        result = impl.backprop(oc.case)
        step = impl.sgd_step(oc.case, oc.eta)
    except Exception as error:  # noqa: BLE001 - a mutant may raise anything
        return f"raised {type(error).__name__}: {str(error)[:80]}"
    pairs: list[tuple[str, Callable[[], Any], Any]] = []
    for field in ("grad_weights", "grad_biases", "deltas"):
        for i, want in enumerate(oc.expected[field]):
            pairs.append((f"{field}[{i}]", _getter(result, field, i), want))
    pairs.append(("cost", lambda: result["cost"], oc.expected["cost"]))
    for field in ("weights", "biases"):
        for i, want in enumerate(oc.expected[field]):
            pairs.append((f"sgd_step {field}[{i}]", _getter(step, field, i), want))
        if len(step.get(field, ())) != len(oc.expected[field]):
            return f"sgd_step {field}: {len(step.get(field, ()))} arrays, expected {len(oc.expected[field])}"
    for field in ("grad_weights", "grad_biases", "deltas"):
        if len(result.get(field, ())) != len(oc.expected[field]):
            return f"{field}: {len(result.get(field, ()))} arrays, expected {len(oc.expected[field])}"
    out: Errors = {}
    for name, get, want in pairs:
        try:
            actual = get()
        except Exception as error:  # noqa: BLE001 - a missing field
            return f"{name}: {type(error).__name__}"
        measured = _error(actual, want)
        if isinstance(measured, str):
            return f"{name}: {measured}"
        out[name] = measured
    return out


def bounds(oc: OracleCase, baseline: Errors) -> Errors:
    """Per output, the largest difference rounding explains: RELATIVE of the output's scale (or of the
    case's, FLOOR, where the output is near 0), or 1000 times what the unmutated subject itself differs by
    on this case (its rounding, measured)."""
    relative = RELATIVE_FLOAT32 if oc.case.dtype == "float32" else RELATIVE
    grads = [*oc.expected["grad_weights"], *oc.expected["grad_biases"], np.asarray(oc.case.y)]
    floor = FLOOR * max(1.0, *(float(np.max(np.abs(g))) for g in grads if np.size(g)))
    out: Errors = {}
    for name, error in baseline.items():
        field, _, index = name.removeprefix("sgd_step ").partition("[")
        want = oc.expected[field] if not index else oc.expected[field][int(index.rstrip("]"))]
        scale = float(np.max(np.abs(want))) if np.size(want) else 0.0
        out[name] = max(relative * max(scale, floor), 1000.0 * error)
    return out


def baseline_of(impl: Any, cases: list[OracleCase]) -> list[Errors]:
    """The unmutated subject's own differences: it must answer every case."""
    found = []
    for index, oc in enumerate(cases):
        with np.errstate(all="ignore"):  # overflow inside a saturated case, as the reference's own
            measured = errors(impl, oc)
        if isinstance(measured, str):
            raise AssertionError(f"the unmutated subject fails oracle case {index}: {measured}")
        found.append(measured)
    return found


def classify(impl: Any, cases: list[OracleCase], baseline: list[Errors]) -> tuple[str, str]:
    """("wrong", the first differing case and output) or ("equivalent", "")."""
    for index, (oc, base) in enumerate(zip(cases, baseline, strict=True)):
        measured = errors(impl, oc)
        why = measured if isinstance(measured, str) else None
        if why is None:
            assert isinstance(measured, dict)
            limit = bounds(oc, base)
            worst = max(measured, key=lambda k: measured[k] / limit[k])
            if measured[worst] > limit[worst]:
                why = f"{worst} off by {measured[worst]:.3g} (rounding explains {limit[worst]:.3g})"
        if why is not None:
            c = oc.case
            where = f"sizes {c.sizes}, {c.activations[-1]}, {c.cost}, {c.reduction}, {c.dtype}, m={c.m}, eta={oc.eta:g}"
            return "wrong", f"oracle case {index} ({where}): {why}"
    return "equivalent", ""
