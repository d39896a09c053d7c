"""What every checker differentiates: a cost of a list of parameter arrays, with labels.

A ``Problem`` is built from a reference case (``from_case``) or from any callable
``cost(params) -> float`` with an analytic gradient (``from_callable``). The checkers
never write to the caller's arrays: a Problem holds its own float copies.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from .. import costs, engine
from ..activations import kinks_of, sigma, sigma_prime
from ..api import backprop
from ..case import Layers
from ..validation import validate
from .steps import machine_epsilon

Params = Sequence[np.ndarray]
CostFn = Callable[[Params], Any]
Probe = Callable[[Params], list[np.ndarray]]
# batch(t, flat indices, steps) -> C at p + steps[r] e_{idx[r]} (tensor t) for every r, vectorised
Batch = Callable[[int, np.ndarray, np.ndarray], np.ndarray]

# Rounding allowance for an analytic gradient of a callable whose error model we cannot know:
# 64 unit roundoffs of the gradient's dtype, relative to the largest |entry| of each tensor.
# Pass analytic_rtol for longer computations.
DEFAULT_ANALYTIC_GAMMA = 64.0


@dataclass(frozen=True)
class Problem:
    """A differentiable scalar function of parameter tensors, its analytic gradient, and labels.

    params: float copies in ``numeric_dtype`` (the dtype the numerical witness computes in).
    names: "w^3", "b^3" (reference cases) or "params[0]" (callables); layers: l or None.
    allowance[t]: absolute rounding allowance for every entry of the analytic gradient of tensor t
    (see ``analytic_allowance`` for the error model).
    probe: z^l - k for each kink k of a layer's activation (relu: z^l itself), at given parameters
    (kink detection), one array (m, n_l) per entry of probe_layers; None when the function has no
    known kinks.
    complex_cost: the same cost evaluated on complex128 parameters (complex step), or None.
    """

    params: tuple[np.ndarray, ...]
    names: tuple[str, ...]
    layers: tuple[int | None, ...]
    cost: CostFn
    gradient: tuple[np.ndarray, ...]
    allowance: tuple[float, ...]
    numeric_dtype: np.dtype
    analytic_dtype: np.dtype
    complex_cost: CostFn | None = None
    probe: Probe | None = None
    probe_layers: tuple[int, ...] = ()
    case: Any = None
    batch: Batch | None = None

    @property
    def eps(self) -> float:
        return machine_epsilon(self.numeric_dtype)

    @property
    def n_params(self) -> int:
        return sum(int(p.size) for p in self.params)

    def value(self, params: Params) -> float:
        return to_float(self.cost(params))

    def value_at_point(self) -> float:
        """C(p), refused loudly when it is not finite (nothing can be differentiated there)."""
        c = self.value(self.params)
        if not math.isfinite(c):
            raise ValueError(
                f"cost(params) is {c} at the given params: the cost must be finite at the point "
                "being checked (check the params, or the cost's domain)"
            )
        return c


def to_float(value: Any) -> float:
    """A cost's value as a float: Python and numpy scalars, 0-d or one-element arrays (np.array([c])),
    anything with .item(); anything else is refused with what was given."""
    if type(value) is float:
        return value
    if isinstance(value, complex | np.complexfloating):
        raise TypeError(
            f"cost(params) must return a real scalar, got complex {value!r} (pass a complex cost as complex_cost=)"
        )
    try:
        array = np.asarray(value)
    except Exception:  # noqa: BLE001 - e.g. a tensor that requires grad: fall back on .item()
        item = getattr(value, "item", None)
        if callable(item):
            return to_float(item())
        raise TypeError(f"cost(params) must return a real scalar, got {type(value).__name__}") from None
    if array.size != 1:
        raise TypeError(f"cost(params) must return a scalar, got an array of shape {array.shape}")
    if array.dtype.kind not in "fiub":
        raise TypeError(f"cost(params) must return a real scalar, got {type(value).__name__} of dtype {array.dtype}")
    return float(array.reshape(()))


def _index(shape: tuple[int, ...], flat: int) -> str:
    return "[" + ", ".join(str(int(i)) for i in np.unravel_index(flat, shape)) + "]" if shape else ""


def _finite(arrays: Sequence[np.ndarray], what: Sequence[str]) -> None:
    """Refuse non-finite parameters, naming the tensor, the entry and the value."""
    for a, name in zip(arrays, what, strict=True):
        bad = ~np.isfinite(a)
        if bad.any():
            i = int(np.flatnonzero(bad.reshape(-1))[0])
            raise ValueError(
                f"{name}{_index(a.shape, i)} is {a.reshape(-1)[i]}: parameters must be finite "
                f"({int(bad.sum())} non-finite entries in {name})"
            )


def _float_dtype(arrays: Sequence[np.ndarray], what: str) -> np.dtype:
    kinds = {a.dtype for a in arrays}
    for dt in kinds:
        if dt not in (np.dtype(np.float32), np.dtype(np.float64)):
            raise TypeError(f"{what} must be float32 or float64 arrays, got dtype {dt}")
    return np.dtype(np.float64) if np.dtype(np.float64) in kinds else np.dtype(np.float32)


def from_callable(
    cost: CostFn,
    params: Sequence[Any],
    gradient: Sequence[Any] | Callable[[Params], Sequence[Any]],
    *,
    names: Sequence[str] | None = None,
    complex_cost: CostFn | None = None,
    analytic_rtol: float | None = None,
) -> Problem:
    """A Problem for any cost(params) -> float; gradient: a list of arrays or a callable of params.

    The numerical witness computes in the params' dtype. The analytic allowance is
    analytic_rtol * max|g_t| per tensor, analytic_rtol defaulting to 64 unit roundoffs of the
    gradient's dtype (an assumption about a short computation; state yours when it is longer).
    """
    if not callable(cost):
        raise TypeError(f"cost must be callable as cost(params) -> float, got {type(cost).__name__}")
    if isinstance(params, np.ndarray) or not isinstance(params, Sequence) or len(params) == 0:
        raise TypeError("params must be a non-empty list of arrays (one per parameter tensor)")
    arrays = [np.asarray(p) for p in params]
    dtype = _float_dtype(arrays, "params")
    own = tuple(np.array(a, dtype=dtype, copy=True) for a in arrays)
    grad_list = gradient(own) if callable(gradient) else gradient
    grads = tuple(np.asarray(g) for g in grad_list)
    if len(grads) != len(own):
        raise ValueError(f"gradient has {len(grads)} tensors, but params has {len(own)}")
    for t, (g, p) in enumerate(zip(grads, own, strict=True)):
        if g.shape != p.shape:
            raise ValueError(f"gradient[{t}] has shape {g.shape}, but params[{t}] has shape {p.shape}")
    analytic_dtype = _float_dtype(list(grads), "gradient")
    labels = tuple(names) if names is not None else tuple(f"params[{t}]" for t in range(len(own)))
    if len(labels) != len(own):
        raise ValueError(f"names has {len(labels)} entries, but params has {len(own)}")
    if analytic_rtol is not None and not (
        isinstance(analytic_rtol, int | float) and math.isfinite(analytic_rtol) and analytic_rtol >= 0
    ):
        raise ValueError(f"analytic_rtol must be a finite number >= 0, got {analytic_rtol!r}")
    rtol = (
        DEFAULT_ANALYTIC_GAMMA * machine_epsilon(analytic_dtype) / 2 if analytic_rtol is None else float(analytic_rtol)
    )
    _finite(own, [f"params[{t}]" for t in range(len(own))])
    # over finite entries only: an inf in g must fail at its entry, not widen every tolerance
    allowance = tuple(rtol * float(np.max(np.abs(np.where(np.isfinite(g), g, 0.0)), initial=0.0)) for g in grads)
    return Problem(
        params=own,
        names=labels,
        layers=tuple(None for _ in own),
        cost=cost,
        gradient=grads,
        allowance=allowance,
        numeric_dtype=dtype,
        analytic_dtype=analytic_dtype,
        complex_cost=complex_cost,
    )


def _output_magnitude(case: Any, z_L: np.ndarray, a_L: np.ndarray, y: np.ndarray) -> np.ndarray:
    """|.|-magnitude of the terms that delta^L = dC_x/dz^L is computed from, before they cancel."""
    weight = costs.cost_record(case.cost).closed_form_weight
    if weight is not None:  # the closed form a w(y) - y
        return np.abs(a_L) * weight(y) + np.abs(y)
    ay = np.abs(a_L) + np.abs(y)
    if case.activations[-1] == "softmax":  # a (g - <a, g>), g = a - y
        return np.abs(a_L) * (ay + (np.abs(a_L) * ay).sum(axis=1, keepdims=True))
    return ay * np.abs(sigma_prime(case.activations[-1], z_L))


def analytic_allowance(case: Any, z: Sequence[np.ndarray], a: Sequence[np.ndarray], y: np.ndarray) -> list[float]:
    """Per-tensor rounding allowance of a gradient computed from the network's equations (an error
    model, not a proven bound); it applies to backprop and to complex step (forward mode) alike.

    Magnitudes M^l replay backpropagation on absolute values, seeded at the output with the terms
    delta^L is formed from before they cancel (|a| + |y| for a - y): M^l = (|w^{l+1}|^T M^{l+1}) (.)
    |sigma'(z^l)|, and |G^l| = scale M^l^T |a^{l-1}| bounds every product summed into dC/dw^l.
    Each entry ends a chain of dot products whose lengths sum to at most 2 sum(sizes) + m (forward,
    backward, batch sum); a length-n dot product errs by n u relative to its |.|-magnitude
    (Higham's gamma_n), elementwise operations add a few u, and exp(-|z|) inside sigma' turns an
    absolute error in z into a relative one up to |z| times larger. Hence
        allowance_t = 4 (sum(sizes) + m) max(1, max|z|) u max_entries |G_t|
    with u the unit roundoff of the case's dtype.
    """
    u = machine_epsilon(case.dtype) / 2
    m = int(y.shape[0])
    z_max = max(float(np.max(np.abs(zl), initial=0.0)) for zl in z)
    gamma = 4.0 * (sum(case.sizes) + m) * max(1.0, z_max)
    scale = 1.0 / m if case.reduction == "mean" else 1.0
    mags = [np.empty(0)] * len(z)
    mags[-1] = _output_magnitude(case, z[-1], a[-1], y)
    for i in range(len(z) - 2, -1, -1):
        mags[i] = (mags[i + 1] @ np.abs(case.weights[i + 1].astype(np.float64))) * np.abs(
            sigma_prime(case.activations[i], z[i])
        )
    out: list[float] = []
    for mag, a_prev in zip(mags, a[:-1], strict=True):
        out.append(gamma * u * scale * float(np.max(mag.T @ np.abs(a_prev), initial=0.0)))
        out.append(gamma * u * scale * float(np.max(mag.sum(axis=0), initial=0.0)))
    return out


def from_case(target: Any, x: Any = None, y: Any = None) -> Problem:
    """A Problem for a reference case (or a reference Network with a batch x, y).

    Parameters are ordered w^2, b^2, w^3, b^3, ...; the cost is evaluated in float64 even for
    float32 cases (the exact cost of the float32 parameters), so a float32 gradient is judged
    by its own rounding error, not by float32 finite differences.
    """
    if x is not None or y is not None:
        if not hasattr(target, "case"):
            raise TypeError(f"x and y are given, so target must be a reference Network, got {type(target).__name__}")
        target = target.case(x, y)
    case = validate(target)
    f64 = np.dtype(np.float64)
    params: list[np.ndarray] = []
    names: list[str] = []
    layers: list[int | None] = []
    for i, (w, b) in enumerate(zip(case.weights, case.biases, strict=True)):
        params += [np.array(w, dtype=f64), np.array(b, dtype=f64)]
        names += [f"w^{i + 2}", f"b^{i + 2}"]
        layers += [i + 2, i + 2]
    xs = np.array(case.x, dtype=f64)
    ys = np.array(case.y, dtype=f64)
    acts, cost_name, reduction = case.activations, case.cost, case.reduction

    def at(ps: Params) -> Layers:
        """The case's network with the parameters ps (w^2, b^2, w^3, ...)."""
        return Layers(ps[0::2], ps[1::2], acts, cost_name, reduction)

    def cost(ps: Params) -> float:
        return float(engine.evaluate_cost(at(ps), xs, ys))  # type: ignore[arg-type]

    def complex_cost(ps: Params) -> complex:
        return complex(engine.evaluate_cost(at(ps), xs, ys))  # type: ignore[call-overload]

    kinked = kinks_of(acts)  # relu: (layer index, 0.0)

    def probe(ps: Params) -> list[np.ndarray]:
        z, _ = engine.feedforward(at(ps), xs)
        return [z[i] - k for i, k in kinked]  # changes sign where z crosses the kink

    net64 = at(params)
    z_base, a_base = engine.feedforward(net64, xs)
    per_row = max(sum(case.sizes), 1) * max(int(xs.shape[0]), 1)
    chunk = max(1, (1 << 21) // per_row)  # copies per forward pass: ~16 MB of float64 at most

    def batch(t: int, idx: np.ndarray, steps: np.ndarray) -> np.ndarray:
        """C at K one-entry perturbations of tensor t in a few forward passes: the layers below are
        shared, z^l of copy r is z^l + steps[r] a^{l-1}_k in unit j (w^l_jk) or + steps[r] (b^l_j),
        and the layers above run on all copies stacked along the batch. Same equations as
        engine.evaluate_cost; the rounding differs by a few ulps of C, inside the measured noise."""
        layer = t // 2
        m = xs.shape[0]
        a_prev, z_l = a_base[layer], z_base[layer]
        n_in = net64.weights[layer].shape[1]
        out = np.empty(idx.size)
        for lo in range(0, idx.size, chunk):
            sel, st = idx[lo : lo + chunk], steps[lo : lo + chunk]
            k = sel.size
            zz = np.repeat(z_l[None], k, axis=0)
            rows = np.arange(k)
            if t % 2 == 0:
                j, col = np.divmod(sel, n_in)
                zz[rows, :, j] += st[:, None] * a_prev[:, col].T
            else:
                j = sel
                zz[rows, :, j] += st[:, None]
            zs = zz.reshape(k * m, -1)
            a_l = sigma(acts[layer], zs)
            if layer + 1 < len(net64.weights):
                z_up, a_up = engine.feedforward(net64[layer + 1 :], a_l)  # the layers above, on every copy
                z_out, a_out = z_up[-1], a_up[-1]
            else:
                z_out, a_out = zs, a_l
            per = costs.per_sample_cost(cost_name, acts[-1], z_out, a_out, np.tile(ys, (k, 1)))
            scale = 1.0 / m if reduction == "mean" else 1.0
            out[lo : lo + k] = per.reshape(k, m).sum(axis=1) * scale
        return out

    result = backprop(case)
    gradient: list[np.ndarray] = []
    for gw, gb in zip(result["grad_weights"], result["grad_biases"], strict=True):
        gradient += [np.asarray(gw), np.asarray(gb)]
    return Problem(
        params=tuple(params),
        names=tuple(names),
        layers=tuple(layers),
        cost=cost,
        gradient=tuple(gradient),
        allowance=tuple(analytic_allowance(case, z_base, a_base, ys)),
        numeric_dtype=f64,
        analytic_dtype=np.dtype(case.dtype),
        complex_cost=complex_cost,
        probe=probe if kinked else None,
        probe_layers=tuple(i + 2 for i, _ in kinked),
        case=case,
        batch=batch,
    )


def as_problem(target: Any, **kwargs: Any) -> Problem:
    """Problem, case, Network + (x, y), or callable cost (with params= and gradient=)."""
    if isinstance(target, Problem):
        return target
    if hasattr(target, "weights") and hasattr(target, "biases"):
        return from_case(target, kwargs.pop("x", None), kwargs.pop("y", None))
    if callable(target):
        if "params" not in kwargs or "gradient" not in kwargs:
            raise TypeError("a callable cost needs params=[arrays] and gradient=[arrays] or gradient=callable")
        return from_callable(target, kwargs.pop("params"), kwargs.pop("gradient"), **kwargs)
    raise TypeError(
        f"cannot check a {type(target).__name__}: pass a reference Case, a Network with x and y, "
        "or a callable cost(params) -> float with params= and gradient="
    )
