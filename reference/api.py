"""The engine's entry points: each validates its input once, then runs the core in engine.py."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, TypeVar

import mpmath
import numpy as np

from . import architecture, engine, precision, prepared
from ._ops import Array
from .case import Case, Forward, Network, architecture_text
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
        # inside the errstate: huge finite outputs overflow is_finite's dot
        prepared.require_finite(case, case.x, case.y, what, outputs(result))
    return result


def forward(case: Any) -> Forward:
    """Every z^l and a^l for the batch."""
    c = validate(case)
    z, a = _guarded(
        c,
        "the forward pass",
        lambda: engine.feedforward(c, c.x),
        lambda za: [*za[0], *za[1]],
    )
    return Forward(z, a)


def predict(network: Any, x: Any) -> Array:
    """The network's output a^L for the inputs x (m, n_1), without targets: ``prepare(network).predict(x)``.

    For many batches on one network, prepare it once and call ``Prepared.predict``.
    """
    return prepared.checked(network).predict(x)  # one call: no copies of the parameters to keep


def cost(case: Any) -> float:
    """C for the batch, with the case's cost and reduction."""
    c = validate(case)
    value = _guarded(
        c,
        "the cost",
        lambda: engine.evaluate_cost(c, c.x, c.y),
        lambda v: [v],
    )
    return float(value)  # type: ignore[arg-type]


def _backprop_validated(c: Case) -> dict[str, Any]:
    """Every quantity of one pass, unchecked: the mpmath ground truth's path."""
    p = engine.backpropagate(c, c.x, c.y)
    return {
        "grad_weights": p.grad_weights,
        "grad_biases": p.grad_biases,
        "deltas": p.deltas,
        "cost": p.cost,
        "z": p.z,
        "a": p.a,
    }


def backprop(case: Any) -> dict[str, Any]:
    """dC/dw^l and dC/db^l for every layer, the per-sample errors delta^{x,l}, and C.

    Returns {"grad_weights": [...], "grad_biases": [...], "deltas": [...], "cost": float}:
    the Python shape of the conformance contract. The pass is the prepared form's
    (``prepared.checked_pass``), after checking the whole case.
    """
    c = validate(case, finite=False)  # finiteness: checked on z, see prepared.checked_pass
    p, _ = prepared.checked_pass(prepared.trusted(c, parameters_finite=False), c.x, c.y, want_bounds=False)
    return prepared.result_dict(p)


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
        return engine.evaluate_cost(c, c.x, c.y)


def sgd_step(case: Any, eta: float) -> dict[str, list[Array]]:
    """One step of gradient descent on C: {"weights": [...], "biases": [...]} (new arrays)."""
    rate = prepared.eta_value(eta)
    c = validate(case)
    new = prepared.step(prepared.trusted(c, parameters_finite=True), c.x, c.y, rate, "sgd_step")
    return {"weights": list(new.weights), "biases": list(new.biases)}


@dataclass(frozen=True)
class TrainResult:
    """The trained network (a new object) and C over the whole training set after every epoch."""

    network: Network
    costs: list[float]

    def __repr__(self) -> str:
        """One line: the epochs, C after the first and after the last, and the architecture trained."""
        n = self.network
        epochs = f"{len(self.costs)} epoch" + ("" if len(self.costs) == 1 else "s")
        trend = f"C {self.costs[0]:.4g} -> {self.costs[-1]:.4g}" if self.costs else "no C"
        arch = architecture_text(n.sizes, n.activations, n.cost, n.reduction, n.dtype)
        return f"<TrainResult {epochs}, {trend}; {arch}>"


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
    rate = prepared.eta_value(eta)
    epochs = architecture.whole_number("epochs", epochs, "a positive int")
    mini_batch_size = architecture.whole_number("mini_batch_size", mini_batch_size, "a positive int")
    seed = architecture.seed(seed)
    if not isinstance(shuffle, bool | np.bool_):
        raise TypeError(f"shuffle must be True or False, got {shuffle!r}")
    full = validate(_training_case(network, x, y))  # once: every sample's x and y, and the parameters
    rng = np.random.default_rng(seed)
    net = prepared.own(prepared.trusted(full, parameters_finite=True))  # updated in place from here on
    costs: list[float] = []
    for _ in range(epochs):
        order = rng.permutation(full.m) if shuffle else None
        for start in range(0, full.m, mini_batch_size):
            # without shuffling a mini-batch is a slice: a view, where fancy indexing would copy
            batch = slice(start, start + mini_batch_size) if order is None else order[start : start + mini_batch_size]
            # x and y were checked with the whole set, and each update is certified finite
            net = prepared.train_step(net, full.x[batch], full.y[batch], rate)
        costs.append(prepared.full_cost(net, full.x, full.y))
    return TrainResult(net.network(), costs)
