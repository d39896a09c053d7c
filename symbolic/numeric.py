"""The numeric engine held against the chain rule: symbolic gradients, lambdified, evaluated at
the engine's own inputs and compared in float64 and at 50 digits.

The symbolic side uses no backpropagation formula: grad_weights and grad_biases are
``sympy.diff`` of the fully composed batch cost C = scale * sum_x C_x with respect to each
parameter symbol, and the per-sample deltas are d/dz^l_j of the composed tail C_x(z^l)
(layers l..L and the cost), evaluated at the sample's z^{x,l}.

Error models (both sides evaluate the same real function at the same, exactly representable
inputs, so the difference is the sum of two rounding errors):

* float64. Each output is a sum/product chain of at most ~100 operations for the small
  networks used here, each with relative rounding error <= u = 2^-53 ~ 1.1e-16, amplified
  by cancellation. The worst cancellation in these expressions is 1 - sigma(z) (in the
  sigmoid derivative and the cross-entropy log), a factor <= 1 + e^{|z|}, which is <= ~21
  for the |z| <= 3 of the points we test. Bound: 100 * 21 * 1.1e-16 ~ 2.3e-13 per side, so
  the two sides agree to FLOAT64_TOL = 1e-12, measured normwise per array
  (max_i |got_i - want_i| <= tol * max_i |want_i|): a component that is itself the result of
  cancellation can have a large relative error without either side being wrong.
* mpmath. The reference runs at 50 digits (unit roundoff 10^-50, the same <= ~100 operations,
  same cancellation factor): error <= ~2e-47 relative; the symbolic side runs at 60 digits,
  so MP_TOL = 1e-45 leaves a factor of ~50 of margin.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import mpmath
import numpy as np
import sympy as sp

import reference

from . import functions, network
from .spec import Spec, make_spec

FLOAT64_TOL = 1e-12
MP_TOL = 1e-45
MP_DIGITS = 50
SYMBOLIC_MP_DIGITS = 60


@dataclass(frozen=True, eq=False)
class Layout:
    """Where each output of the flat lambdified vector goes."""

    n_out: int
    grad_w: list[list[list[int]]]  # [layer i][j][k] -> position
    grad_b: list[list[int]]
    deltas: list[list[list[int]]]  # [layer i][sample s][j]


@dataclass(frozen=True, eq=False)
class SymbolicGradients:
    spec: Spec
    m: int
    inputs: tuple[sp.Symbol, ...]
    outputs: tuple[sp.Expr, ...]
    layout: Layout


def _inputs(spec: Spec, m: int) -> list[sp.Symbol]:
    out = network.parameters(spec)
    for s in range(1, m + 1):
        xs, ys = network.sample_symbols(spec, s)
        out += xs + ys
    return out


@functools.lru_cache(maxsize=32)
def build(spec: Spec, m: int) -> SymbolicGradients:
    """Cost, gradients and deltas of an m-sample batch as expressions (cached per architecture)."""
    samples = []
    for s in range(1, m + 1):
        xs, ys = network.sample_symbols(spec, s)
        samples.append((ys, network.forward(spec, xs, ys)))
    total = functions.batch_cost(spec.reduction, [fwd.cost for _, fwd in samples])
    outputs: list[sp.Expr] = [total]
    grad_w: list[list[list[int]]] = []
    grad_b: list[list[int]] = []
    deltas: list[list[list[int]]] = []
    for l in range(2, spec.L + 1):
        rows = []
        for row in network.weights(spec, l):
            rows.append(list(range(len(outputs), len(outputs) + len(row))))
            outputs += [sp.diff(total, wjk) for wjk in row]
        grad_w.append(rows)
        bs = network.biases(spec, l)
        grad_b.append(list(range(len(outputs), len(outputs) + len(bs))))
        outputs += [sp.diff(total, bj) for bj in bs]
        zeta = [network.z(l, j) for j in range(1, spec.n(l) + 1)]
        per_sample = []
        for ys, fwd in samples:
            tail = network.tail_cost(spec, l, list(zeta), list(ys))
            at_sample = dict(zip(zeta, fwd.z[l], strict=True))
            per_sample.append(list(range(len(outputs), len(outputs) + len(zeta))))
            outputs += [sp.diff(tail, zj).xreplace(at_sample) for zj in zeta]
        deltas.append(per_sample)
    layout = Layout(len(outputs), grad_w, grad_b, deltas)
    return SymbolicGradients(spec, m, tuple(_inputs(spec, m)), tuple(outputs), layout)


@functools.lru_cache(maxsize=64)
def _compiled(spec: Spec, m: int, module: str) -> Callable[..., Any]:
    sg = build(spec, m)
    return sp.lambdify(sg.inputs, list(sg.outputs), modules=module, cse=True)


def _flat_values(case: Any) -> list[float]:
    values: list[float] = []
    for w, b in zip(case.weights, case.biases, strict=True):
        values += [float(v) for v in np.asarray(w, dtype=np.float64).ravel()]
        values += [float(v) for v in np.asarray(b, dtype=np.float64).ravel()]
    for xs, ys in zip(np.asarray(case.x), np.asarray(case.y), strict=True):
        values += [float(v) for v in xs] + [float(v) for v in ys]
    return values


def _unflatten(sg: SymbolicGradients, flat: Sequence[Any], kind: type) -> dict[str, Any]:
    def array(positions: Any) -> np.ndarray:
        return np.array(
            [[flat[p] for p in row] for row in positions]
            if isinstance(positions[0], list)
            else [flat[p] for p in positions],
            dtype=kind,
        )

    return {
        "cost": flat[0],
        "grad_weights": [array(rows) for rows in sg.layout.grad_w],
        "grad_biases": [array(pos) for pos in sg.layout.grad_b],
        "deltas": [array(per_sample) for per_sample in sg.layout.deltas],
    }


def spec_of(case: Any) -> Spec:
    """The architecture of a case-like object (sizes, activations, cost, reduction)."""
    return make_spec(list(case.sizes), list(case.activations), case.cost, case.reduction)


def evaluate(case: Any, precision: str = "float64") -> dict[str, Any]:
    """The symbolic cost, gradients and deltas at the case's inputs: "float64" or "mpmath"."""
    spec = spec_of(case)
    if "sigma" in spec.activations:
        raise ValueError("the undefined activation 'sigma' has no numeric value; pick a concrete one")
    m = int(np.asarray(case.x).shape[0])
    sg = build(spec, m)
    values = _flat_values(case)
    if precision == "float64":
        return _unflatten(sg, _compiled(spec, m, "math")(*values), np.float64)
    if precision == "mpmath":
        with mpmath.workdps(SYMBOLIC_MP_DIGITS):
            flat = _compiled(spec, m, "mpmath")(*[mpmath.mpf(v) for v in values])
        return _unflatten(sg, flat, object)
    raise ValueError(f"precision must be 'float64' or 'mpmath', got {precision!r}")


EQUATION_OF = {"grad_weights": "equation 4", "grad_biases": "equation 3"}


@dataclass
class CrossCheck:
    """Largest normwise relative differences, and one message per array that exceeded its tolerance."""

    float64_error: float = 0.0
    mp_error: float = 0.0
    failures: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.failures


def check_field(name: str, got: Any, want: Any, tol: float, label: str, n_layers: int) -> tuple[float, list[str]]:
    """Check one result field: normwise relative difference of ``got`` (the engine) from ``want`` (the chain rule).

    ``name`` is "cost", or "grad_weights"/"grad_biases"/"deltas" with got/want lists by layer.
    Returns (largest relative difference, failure messages).
    """
    if name == "cost":
        pairs = [("cost", "cost", np.array([got], dtype=object), np.array([want], dtype=object))]
    else:
        pairs = []
        for i, (g, w) in enumerate(zip(got, want, strict=True)):
            layer = i + 2
            eq = EQUATION_OF.get(name) or ("equation 1" if layer == n_layers + 1 else "equation 2")
            pairs.append(
                (f"{name}[{i}]", f"layer {layer}, {eq}", np.asarray(g, dtype=object), np.asarray(w, dtype=object))
            )
    worst = 0.0
    failures = []
    for array_name, where, g, w in pairs:
        if g.shape != w.shape:
            failures.append(f"{array_name} has shape {g.shape}, but should have {w.shape} ({where})")
            continue
        diff = np.abs((g - w).astype(object))
        scale = max((abs(v) for v in w.ravel()), default=0)
        err = max(diff.ravel(), default=0)
        rel = float(err / scale) if scale else float(err)
        worst = max(worst, rel)
        if rel > tol:
            idx = np.unravel_index(int(np.argmax(np.array([float(v) for v in diff.ravel()]))), diff.shape)
            index = ", ".join(str(int(i)) for i in idx)
            failures.append(
                f"{array_name}[{index}] = {mpmath.nstr(g[idx], 17)}, but should be "
                f"{mpmath.nstr(w[idx], 17)} ({where}, {label}, tolerance {tol:g} relative to "
                f"max|{array_name}| = {mpmath.nstr(scale, 6)}; the chain rule gives the latter)"
            )
    return worst, failures


def check_against(
    engine_result: dict[str, Any], symbolic: dict[str, Any], tol: float, label: str, n_layers: int
) -> tuple[float, list[str]]:
    """Compare every array of an engine result with the symbolic one."""
    worst = 0.0
    failures: list[str] = []
    for name in ("cost", "grad_weights", "grad_biases", "deltas"):
        err, fails = check_field(name, engine_result[name], symbolic[name], tol, label, n_layers)
        worst = max(worst, err)
        failures += fails
    return worst, failures


def random_case(spec: Spec, m: int = 2, seed: int = 0) -> Any:
    """A reference.Case from the engine's own random network, with inputs in [-1, 1] and
    targets valid for the cost: small enough that |z| stays below ~3 (see the error model)."""
    net = reference.Network.random(spec.sizes, spec.activations, spec.cost, spec.reduction, seed=seed)
    rng = np.random.default_rng(seed + 1)
    n_out = spec.sizes[-1]
    x = rng.uniform(-1.0, 1.0, (m, spec.sizes[0]))
    if spec.cost == "cross_entropy":
        y = rng.uniform(0.0, 1.0, (m, n_out))
    elif spec.cost == "log_likelihood":
        e = rng.uniform(0.1, 1.0, (m, n_out))
        y = e / e.sum(axis=1, keepdims=True)
    else:
        y = rng.uniform(-1.0, 1.0, (m, n_out))
    return net.case(x, y)


def cross_check(case: Any, digits: int = MP_DIGITS) -> CrossCheck:
    """reference.backprop against the float64 symbolic values (FLOAT64_TOL) and
    reference.backprop_mp(case, digits) against the 60-digit symbolic values (MP_TOL)."""
    n_layers = len(case.sizes) - 1
    report = CrossCheck()
    report.float64_error, fails = check_against(
        reference.backprop(case), evaluate(case, "float64"), FLOAT64_TOL, "float64", n_layers
    )
    report.failures += fails
    report.mp_error, fails = check_against(
        reference.backprop_mp(case, digits=digits),
        evaluate(case, "mpmath"),
        MP_TOL,
        f"mpmath {digits} digits",
        n_layers,
    )
    report.failures += fails
    return report
