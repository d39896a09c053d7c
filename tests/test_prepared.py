"""The prepared form: checked once, bit-identical to the unprepared pass, and still strict per batch."""

from __future__ import annotations

import numpy as np
import pytest

import reference
from reference import engine, prepared
from reference.case import Network

SIZES = (5, 4, 3)


def _net(dtype: str = "float64", cost: str = "quadratic", acts: tuple[str, ...] = ("sigmoid", "sigmoid")) -> Network:
    return Network.random(SIZES, acts, cost=cost, dtype=dtype, seed=3)


def _batch(m: int = 6, dtype: str = "float64") -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(1)
    y = np.zeros((m, SIZES[-1]))
    y[np.arange(m), rng.integers(0, SIZES[-1], m)] = 1.0
    return rng.standard_normal((m, SIZES[0])).astype(dtype), y.astype(dtype)


def _same(a: object, b: object) -> None:
    if isinstance(a, list):
        assert isinstance(b, list) and len(a) == len(b)
        for u, v in zip(a, b, strict=True):
            _same(u, v)
    elif isinstance(a, np.ndarray):
        assert isinstance(b, np.ndarray) and a.dtype == b.dtype and a.shape == b.shape
        assert a.tobytes() == b.tobytes()  # bit for bit, signed zeros included
    else:
        assert a == b


@pytest.mark.parametrize("dtype", ["float64", "float32"])
@pytest.mark.parametrize(
    ("acts", "cost"),
    [
        (("sigmoid", "sigmoid"), "quadratic"),
        (("tanh", "softmax"), "log_likelihood"),
        (("relu", "sigmoid"), "cross_entropy"),
    ],
)
def test_prepared_pass_is_bit_identical_to_the_unprepared_one(dtype: str, acts: tuple[str, ...], cost: str) -> None:
    net = _net(dtype, cost, acts)
    x, y = _batch(dtype=dtype)
    got = reference.prepare(net).backprop(x, y)
    public = reference.backprop(net.case(x, y))
    raw = engine.backpropagate(net, x, y)
    for key in ("grad_weights", "grad_biases", "deltas", "cost"):
        _same(got[key], public[key])
    _same(got["grad_weights"], raw.grad_weights)
    _same(got["deltas"], raw.deltas)
    assert got["cost"] == float(raw.cost)  # type: ignore[arg-type]
    assert reference.prepare(net).cost_of(x, y) == reference.cost(net.case(x, y))


def test_prepared_sgd_step_and_train_match_the_public_ones() -> None:
    net = _net()
    x, y = _batch()
    step = reference.prepare(net).sgd_step(x, y, 0.5)
    public = reference.sgd_step(net.case(x, y), 0.5)
    _same(list(step.weights), public["weights"])
    _same(list(step.biases), public["biases"])
    # train, one epoch without shuffling and one mini-batch: exactly one such step
    trained = reference.train(net, x, y, eta=0.5, epochs=1, mini_batch_size=len(x), shuffle=False)
    _same(trained.network.weights, public["weights"])


def test_train_updating_in_place_matches_stepping_prepared_networks_bit_for_bit() -> None:
    net = _net()
    x, y = _batch(m=7)
    trained = reference.train(net, x, y, eta=0.8, epochs=3, mini_batch_size=3, seed=5)
    p = reference.prepare(net)
    rng = np.random.default_rng(5)
    for _ in range(3):
        order = rng.permutation(len(x))
        for start in range(0, len(x), 3):  # the last mini-batch has one sample
            rows = order[start : start + 3]
            p = p.sgd_step(x[rows], y[rows], 0.8)
    _same(trained.network.weights, list(p.weights))
    _same(trained.network.biases, list(p.biases))
    assert trained.costs[-1] == p.cost_of(x, y)


def test_nothing_is_mutated() -> None:
    net = _net()
    x, y = _batch()
    before = [a.copy() for a in (*net.weights, *net.biases, x, y)]
    p = reference.prepare(net)
    p.backprop(x, y)
    p.sgd_step(x, y, 1.0)
    reference.train(net, x, y, eta=1.0, epochs=2, mini_batch_size=2, shuffle=False)
    for old, new in zip(before, (*net.weights, *net.biases, x, y), strict=True):
        assert old.tobytes() == new.tobytes()


def test_bad_batches_are_rejected_every_time() -> None:
    p = reference.prepare(_net())
    x, y = _batch()
    with pytest.raises(ValueError, match=r"x has shape \(6, 4\); expected \(m, 5\)"):
        p.backprop(x[:, :4], y)
    with pytest.raises(ValueError, match=r"x has 6 samples .* y has 5"):
        p.backprop(x, y[:5])
    with pytest.raises(TypeError, match="x must hold real numbers"):
        p.backprop(x.astype(complex), y)
    bad_y = y.copy()
    bad_y[2, 1] = np.inf
    with pytest.raises(ValueError, match=r"y contains inf at index \[2, 1\]"):
        p.backprop(x, bad_y)
    for m in (6, 2):  # x larger than dC/dw^2 (searched directly) or smaller (bounded by ||x||)
        for value in (np.nan, np.inf, -np.inf):
            bad_x = x[:m].copy()
            bad_x[1, 3] = value
            with pytest.raises(ValueError, match=r"x contains .* at index \[1, 3\]"):
                p.backprop(bad_x, y[:m])
            with pytest.raises(ValueError, match=r"x contains .* at index \[1, 3\]"):
                p.sgd_step(bad_x, y[:m], 0.1)
            with pytest.raises(ValueError, match=r"x contains .* at index \[1, 3\]"):
                reference.backprop(p.network().case(bad_x, y[:m]))  # the public pass agrees
    p.backprop(x, y)  # and a good batch still passes afterwards


def test_non_finite_results_are_refused() -> None:
    net = _net(acts=("identity", "identity"))
    huge = net.weights[0] * 1e305  # finite, but a^L and C overflow
    p = reference.prepare(net).with_parameters([huge, net.weights[1]], net.biases)
    x, y = _batch()
    with pytest.raises(FloatingPointError, match="backpropagation left the range of float64"):
        p.backprop(x * 1e5, y)
    with pytest.raises(FloatingPointError, match="backpropagation left the range of float64"):
        reference.backprop(p.network().case(x * 1e5, y))  # the public pass agrees
    linear = reference.prepare(net)  # identity layers: |dC/dw^2| grows with |x|, so eta dC/dw^2 overflows
    with pytest.raises(FloatingPointError, match=r"sgd_step: the updated weights\[0\] \(layer 2\) left the range"):
        linear.sgd_step(x * 1e3, y, 1e307)


def test_train_refuses_an_eta_that_overflows_the_dtype_even_where_the_gradient_is_zero() -> None:
    net = _net("float32", acts=("relu", "identity"))
    zero = [np.zeros_like(w) for w in net.weights]  # dC/dw = 0 everywhere: no bound can flag the step
    x, y = _batch(dtype="float32")
    y = np.tile(y[0], (len(x), 1))  # a^L = b^L = y for every sample: delta^L = 0
    flat = Network(SIZES, net.activations, dtype="float32", weights=zero, biases=[np.zeros(4, "float32"), y[0]])
    with pytest.raises(ValueError, match=r"eta .* = 1e\+39 overflows float32"):
        reference.train(flat, x, y, eta=1e39, epochs=1, mini_batch_size=2)


def test_prepare_checks_the_network_once_with_clear_errors() -> None:
    net = _net()
    swapped = [net.weights[0], net.weights[1].T]
    with pytest.raises(ValueError, match=r"weights\[1\] has shape \(4, 3\); layer 3 needs \(3, 4\)"):
        reference.prepare(Network(SIZES, net.activations, weights=swapped, biases=net.biases))
    bad = net.weights[0].copy()
    bad[0, 0] = np.nan
    with pytest.raises(ValueError, match=r"weights\[0\] \(layer 2\) contains nan at index \[0, 0\]"):
        reference.prepare(Network(SIZES, net.activations, weights=[bad, net.weights[1]], biases=net.biases))
    with pytest.raises(ValueError, match=r"biases\[0\] \(layer 2\) contains nan"):
        reference.prepare(net).with_parameters(net.weights, [np.full(4, np.nan), net.biases[1]])
    with pytest.raises(TypeError, match=r"network is missing sizes, .*, weights, biases"):
        reference.prepare(object())
    assert isinstance(reference.prepare(net.case(*_batch())), prepared.Prepared)  # a Case works too
