"""The prepared pass's per-batch checks in one certificate (``prepared._certified``), still strict.

The common batch is certified finite with one dot product per layer, and y's finiteness is read from
C's. Each shortcut is held to what it stands in for: C is non-finite for a NaN or infinity at every
position of y (for every cost whose targets may be any real, the costs the shortcut is taken for),
and the gradient whose bound fails is refused though C and every delta are finite. Negative
controls: a cost that reads one column of y would keep C finite, and the same batch with a
gradient of 1e150 times delta is certified.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import pytest

import reference
from reference import costs, engine, prepared
from reference._ops import Array
from reference.case import Network

SIZES = (5, 4, 3)


def _batch(m: int = 4) -> tuple[Array, Array]:
    rng = np.random.default_rng(2)
    return rng.standard_normal((m, SIZES[0])), rng.standard_normal((m, SIZES[-1]))


def _positions_where_c_stays_finite(cost_of: Callable[[Array], object], y: Array) -> list[tuple[int, int, float]]:
    """Every (row, column, value) with value NaN or +-inf at which C is still finite."""
    missed = []
    for index in np.ndindex(y.shape):
        for value in (np.nan, np.inf, -np.inf):
            bad = y.copy()
            bad[index] = value
            with np.errstate(all="ignore"):
                if np.isfinite(float(cost_of(bad))):  # type: ignore[arg-type]
                    missed.append((*index, value))
    return missed


@pytest.mark.parametrize("cost", [name for name, r in costs.COST_RECORDS.items() if r.targets == "real"])
@pytest.mark.parametrize("output", ["sigmoid", "identity", "tanh"])
def test_a_non_finite_target_anywhere_makes_c_non_finite(cost: str, output: str) -> None:
    net = reference.prepare(Network.random(SIZES, ("tanh", output), cost=cost, seed=5))
    x, y = _batch()
    assert not _positions_where_c_stays_finite(lambda bad: engine.backpropagate(net, x, bad).cost, y)
    # control: a cost that reads only y's first column misses the others
    first_column = _positions_where_c_stays_finite(lambda bad: np.sum((x[:, :1] - bad[:, :1]) ** 2), y)
    assert {(row, col) for row, col, _ in first_column} == {(r, c) for r in range(4) for c in (1, 2)}


@pytest.mark.parametrize("value", [np.nan, np.inf, -np.inf])
def test_a_non_finite_target_is_named_as_before(value: float) -> None:
    net = reference.prepare(Network.random(SIZES, ("sigmoid", "sigmoid"), seed=5))
    x, y = _batch()
    y[3, 2] = value
    with pytest.raises(ValueError, match=r"y contains (nan|-?inf) at index \[3, 2\]"):
        net.backprop(x, y)


def _overflowing_gradient(x_value: float) -> tuple[prepared.Prepared, Array, Array]:
    """Identity layers, x's last column huge and w^2's last column 0: z, a, delta and C are of
    ordinary size, while dC/dw^2 = delta^2T x / m reaches x_value times |delta|."""
    net = Network.random(SIZES, ("identity", "identity"), seed=5)
    w = [v.copy() for v in net.weights]
    w[0][:, -1] = 0.0
    x, y = _batch(m=1)
    x[0, -1] = x_value
    return reference.prepare(net).with_parameters(w, net.biases), x, y * 1e3


def test_a_gradient_past_the_largest_float_is_refused_though_c_and_the_deltas_are_finite() -> None:
    net, x, y = _overflowing_gradient(1.5e308)
    with np.errstate(all="ignore"):
        p = engine.backpropagate(net, x, y)
    assert np.isfinite(float(p.cost)) and all(bool(np.all(np.isfinite(d))) for d in p.deltas)  # type: ignore[arg-type]
    assert not bool(np.all(np.isfinite(p.grad_weights[0]))), "the case no longer overflows dC/dw^2"
    assert not prepared._certified(net, p, prepared._x_square(net, x))
    with pytest.raises(FloatingPointError, match="backpropagation left the range of float64"):
        net.backprop(x, y)
    with pytest.raises(FloatingPointError, match="backpropagation left the range of float64"):
        reference.backprop(net.case(x, y))


def test_control_the_same_batch_with_a_large_finite_gradient_is_certified() -> None:
    net, x, y = _overflowing_gradient(1e150)  # ||x||^2 still finite: the bound itself is certified
    p = engine.backpropagate(net, x, y)
    assert prepared._certified(net, p, prepared._x_square(net, x))
    out = net.backprop(x, y)
    assert np.isfinite(out["grad_weights"][0]).all()


def test_the_certified_pass_is_the_checked_pass_bit_for_bit() -> None:
    net = reference.prepare(Network.random(SIZES, ("sigmoid", "sigmoid"), seed=5))
    x, y = _batch()
    fast = net.backprop(x, y)
    with np.errstate(all="ignore"):
        checked, _ = prepared._checked_pass(net, x, y, False, want_bounds=True)  # the per-layer checks
    slow = prepared.result_dict(checked)
    assert fast["cost"] == slow["cost"]
    for key in ("grad_weights", "grad_biases", "deltas"):
        assert all(a.tobytes() == b.tobytes() for a, b in zip(fast[key], slow[key], strict=True))
