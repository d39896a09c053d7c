"""The engine's entry points: each validates its input once, then runs the core in engine.py."""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, TypeVar

import mpmath
import numpy as np

from . import engine, precision, validation
from ._ops import Array
from .case import Case, Forward, Network
from .validation import validate

T = TypeVar("T")


def _guarded(case: Case, what: str, compute: Callable[[], T], outputs: Callable[[T], list[Any]]) -> T:
    """Run float computation, then make sure that finite input did not yield inf or NaN.

    The results are checked rather than the IEEE flags trapped: BLAS kernels can raise the
    invalid flag on finite data (seen with float32 matmul), and exp overflow inside the sigmoid
    is benign.
    """
    with np.errstate(all="ignore"):
        result = compute()
        _require_finite(case, what, outputs(result))  # inside: huge finite outputs overflow is_finite's dot
    return result


def _require_finite(case: Case, what: str, arrays: list[Any]) -> None:
    if all(validation.is_finite(v) for v in arrays):
        return
    validation.find_non_finite(case)  # non-finite input: name it
    largest = max(float(np.max(np.abs(w))) for w in case.weights)
    raise FloatingPointError(
        f"{what} left the range of {case.dtype}: the inputs are finite, but too large for this "
        f"network (largest |w| = {largest:.3g}, largest |x| = {float(np.max(np.abs(case.x))):.3g})"
    )


def forward(case: Any) -> Forward:
    """Every z^l and a^l for the batch."""
    c = validate(case)
    z, a = _guarded(
        c,
        "the forward pass",
        lambda: engine.feedforward(c.weights, c.biases, c.x, c.activations),
        lambda za: [*za[0], *za[1]],
    )
    return Forward(z, a)


def cost(case: Any) -> float:
    """C for the batch, with the case's cost and reduction."""
    c = validate(case)
    value = _guarded(
        c,
        "the cost",
        lambda: engine.evaluate_cost(c.weights, c.biases, c.x, c.y, c.activations, c.cost, c.reduction),
        lambda v: [v],
    )
    return float(value)  # type: ignore[arg-type]


def _backprop_validated(c: Case) -> dict[str, Any]:
    p = engine.backpropagate(c.weights, c.biases, c.x, c.y, c.activations, c.cost, c.reduction)
    return {
        "grad_weights": p.grad_weights,
        "grad_biases": p.grad_biases,
        "deltas": p.deltas,
        "cost": p.cost,
        "z": p.z,
        "a": p.a,
    }


_LARGEST = {"float64": float(np.finfo(np.float64).max), "float32": float(np.finfo(np.float32).max)}


def _checked_backprop(c: Case) -> tuple[dict[str, Any], list[float]]:
    """backprop in floats, with the finiteness checks that stand in for checking every input.

    z^l finite means weights, biases and x are (validation.check_forward_finite). The gradient
    is then finite when the deltas and C are, unless |dC/dw^l_jk| = |scale sum_x delta_j a_k|,
    at most scale ||delta^l|| ||a^{l-1}|| (Cauchy-Schwarz), can reach the largest float: only
    then are the gradient arrays themselves searched. One dot product per array does it all.

    Also returns, per layer, a bound on every |dC/dw^l_jk| and |dC/db^l_j| (the latter is at
    most scale sqrt(m) ||delta^l||), which lets gradient descent skip checking its update.
    """
    with np.errstate(all="ignore"):
        result = _backprop_validated(c)
        z, a = result.pop("z"), result.pop("a")
        validation.check_forward_finite(c, z)
        limit = _LARGEST[c.dtype] / 2 * (1.0 if c.reduction == "sum" else c.m)
        scale = 1.0 if c.reduction == "sum" else 1.0 / c.m
        root_m = math.sqrt(c.m)
        cost_finite = math.isfinite(float(result["cost"]))
        bounds = []
        for i, delta in enumerate(result["deltas"]):
            d, prev = delta.ravel(), a[i].ravel()
            dd = float(d @ d)
            if not (cost_finite and math.isfinite(dd)):
                _require_finite(c, "backpropagation", [*result["deltas"], result["cost"]])
            norm_d, norm_prev = math.sqrt(dd), math.sqrt(float(prev @ prev))
            if not norm_d * norm_prev < limit:
                _require_finite(c, "backpropagation", [result["grad_weights"][i], result["grad_biases"][i]])
            bounds.append(scale * norm_d * max(norm_prev, root_m))
    return result, bounds


def backprop(case: Any) -> dict[str, Any]:
    """dC/dw^l and dC/db^l for every layer, the per-sample errors delta^{x,l}, and C.

    Returns {"grad_weights": [...], "grad_biases": [...], "deltas": [...], "cost": float}:
    the Python shape of the conformance contract.
    """
    c = validate(case, finite=False)  # finiteness: checked on z, see _checked_backprop
    result, _ = _checked_backprop(c)
    result["cost"] = float(result["cost"])
    return result


def backprop_mp(case: Any, digits: int = 50) -> dict[str, Any]:
    """backprop() computed in mpmath at ``digits`` decimal digits: ground truth for the float paths."""
    digits = precision.check_digits(digits)
    c = validate(case)
    with mpmath.workdps(digits):
        result = _backprop_validated(precision.case_to_mp(c))
    del result["z"], result["a"]
    return result


def cost_mp(case: Any, digits: int = 50) -> Any:
    """C computed in mpmath at ``digits`` decimal digits."""
    digits = precision.check_digits(digits)
    c = precision.case_to_mp(validate(case))
    with mpmath.workdps(digits):
        return engine.evaluate_cost(c.weights, c.biases, c.x, c.y, c.activations, c.cost, c.reduction)


def _eta(eta: Any) -> float:
    if isinstance(eta, bool | np.bool_) or not isinstance(eta, int | float | np.integer | np.floating):
        raise TypeError(f"eta (the learning rate) must be a real number, got {eta!r}")
    if not np.isfinite(eta) or eta < 0:
        raise ValueError(f"eta (the learning rate) must be finite and >= 0, got {eta!r}")
    return float(eta)


# Half an ulp of the largest float, with a factor 2 to spare for rounding: when every
# |eta dC/dp| is below it, p - eta dC/dp rounds to a finite number for every finite p.
_SAFE_STEP = {
    name: math.ldexp(1.0, int(np.finfo(name).maxexp) - int(np.finfo(name).nmant) - 3) for name in ("float64", "float32")
}


def _descend(
    c: Case, eta: float, grad_w: list[Array], grad_b: list[Array], bounds: list[float], what: str
) -> tuple[list[Array], list[Array]]:
    """w^l <- w^l - eta dC/dw^l and b^l <- b^l - eta dC/db^l: the seed's update, with dC carrying the 1/m.

    ``bounds[i]`` bounds every |dC/dp| of layer i + 2 (from _checked_backprop): only when eta
    times it could overflow are the new parameters searched, so the check costs nothing in
    ordinary training.
    """
    with np.errstate(all="ignore"):
        step = c.x.dtype.type(eta)
        weights = [w - step * g for w, g in zip(c.weights, grad_w, strict=True)]
        biases = [b - step * g for b, g in zip(c.biases, grad_b, strict=True)]
        if not np.isfinite(step):
            raise ValueError(
                f"eta (the learning rate) = {eta!r} overflows {c.dtype} (largest finite value "
                f"{float(np.finfo(c.dtype).max):.4g})"
            )
        if not eta * max(bounds) < _SAFE_STEP[c.dtype]:
            _require_finite_update(c, eta, what, (("weights", "w", weights, grad_w), ("biases", "b", biases, grad_b)))
    return weights, biases


def _require_finite_update(
    c: Case, eta: float, what: str, groups: tuple[tuple[str, str, list[Array], list[Array]], ...]
) -> None:
    """Name the first parameter that p - eta dC/dp pushed out of the dtype's range."""
    for field, symbol, new, grads in groups:
        for i, (p, g) in enumerate(zip(new, grads, strict=True)):
            if validation.is_finite(p):
                continue
            index = tuple(int(k) for k in np.argwhere(~np.isfinite(p))[0])
            old = getattr(c, field)[i]
            raise FloatingPointError(
                f"{what}: the updated {field}[{i}] (layer {i + 2}) left the range of {c.dtype}: "
                f"{symbol} - eta dC/d{symbol} at index {list(index)} is {p[index]} "
                f"({symbol} = {old[index]:.6g}, dC/d{symbol} = {g[index]:.6g}, eta = {eta:.6g}); "
                "use a smaller eta"
            )


def sgd_step(case: Any, eta: float) -> dict[str, list[Array]]:
    """One step of gradient descent on C: {"weights": [...], "biases": [...]} (new arrays)."""
    eta = _eta(eta)
    c = validate(case)
    result, bounds = _checked_backprop(c)
    weights, biases = _descend(c, eta, result["grad_weights"], result["grad_biases"], bounds, "sgd_step")
    return {"weights": weights, "biases": biases}


@dataclass(frozen=True)
class TrainResult:
    """The trained network (a new object) and C over the whole training set after every epoch."""

    network: Network
    costs: list[float]


def _train_step(mini: Case, eta: float) -> Case:
    result, bounds = _checked_backprop(mini)
    weights, biases = _descend(mini, eta, result["grad_weights"], result["grad_biases"], bounds, "train")
    return mini.replace(weights=weights, biases=biases)


def _full_cost(c: Case) -> float:
    args = (c.weights, c.biases, c.x, c.y, c.activations, c.cost, c.reduction)
    return float(_guarded(c, "the cost", lambda: engine.evaluate_cost(*args), lambda v: [v]))  # type: ignore[arg-type]


_NETWORK_FIELDS = ("sizes", "activations", "cost", "reduction", "dtype", "weights", "biases")


def _training_case(network: Any, x: Any, y: Any) -> Case:
    """The network with the whole training set, unconverted: validation sees x and y as given."""
    missing = [f for f in _NETWORK_FIELDS if not hasattr(network, f)]
    if missing:
        raise TypeError(
            f"network is missing {', '.join(missing)}; train needs a reference.Network (or an object with "
            f"{', '.join(_NETWORK_FIELDS)}), got a {type(network).__name__}"
        )
    n = network
    return Case(n.sizes, n.activations, n.cost, n.reduction, n.dtype, n.weights, n.biases, x, y)


def train(
    network: Network,
    x: Any,
    y: Any,
    *,
    eta: float,
    epochs: int,
    mini_batch_size: int,
    seed: int = 0,
    shuffle: bool = True,
) -> TrainResult:
    """Mini-batch stochastic gradient descent, as in the seed's pseudocode.

    Each epoch shuffles the samples (from ``seed``, so runs repeat exactly), cuts them
    into mini-batches of ``mini_batch_size`` (the last may be smaller) and, for each,
    applies w^l <- w^l - (eta/m) sum_x delta^{x,l} (a^{x,l-1})^T and the same for b^l
    (reduction "mean"; with "sum" the 1/m is absent).
    """
    eta = _eta(eta)
    epochs = validation.whole_number("epochs", epochs, "a positive int")
    mini_batch_size = validation.whole_number("mini_batch_size", mini_batch_size, "a positive int")
    seed = validation.seed(seed)
    if not isinstance(shuffle, bool | np.bool_):
        raise TypeError(f"shuffle must be True or False, got {shuffle!r}")
    full = validate(_training_case(network, x, y))
    rng = np.random.default_rng(seed)
    c = full
    costs: list[float] = []
    for _ in range(epochs):
        order = rng.permutation(full.m) if shuffle else np.arange(full.m)
        for start in range(0, full.m, mini_batch_size):
            batch = order[start : start + mini_batch_size]
            c = _train_step(c.replace(x=full.x[batch], y=full.y[batch]), eta)
        costs.append(_full_cost(c.replace(x=full.x, y=full.y)))
    trained = Network(c.sizes, c.activations, c.cost, c.reduction, c.dtype, c.weights, c.biases)
    return TrainResult(trained, costs)
