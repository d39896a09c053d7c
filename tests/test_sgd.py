"""Gradient descent as in the seed: w <- w - (eta/m) sum_x delta^{x,l} (a^{x,l-1})^T, and mini-batch training."""

from __future__ import annotations

import numpy as np
import pytest

import reference
from reference import Case, Network


def _problem(m: int = 10, seed: int = 0) -> tuple[Network, np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    net = Network.random((3, 4, 2), ("tanh", "sigmoid"), seed=seed)
    x = rng.standard_normal((m, 3))
    y = (x[:, :2] > 0).astype(float)  # learnable: the signs of the first two inputs
    return net, x, y


def _per_sample_update(case: Case, eta: float) -> tuple[list[np.ndarray], list[np.ndarray]]:
    """The seed's update written as its sum over samples, each sample back-propagated on its own."""
    m = case.m
    sum_w = [np.zeros_like(w) for w in case.weights]
    sum_b = [np.zeros_like(b) for b in case.biases]
    for j in range(m):
        one = reference.backprop(case.replace(x=case.x[j : j + 1], y=case.y[j : j + 1], reduction="sum"))
        for i, delta in enumerate(one["deltas"]):
            a_prev = reference.forward(case.replace(x=case.x[j : j + 1], y=case.y[j : j + 1])).a[i]
            sum_w[i] += np.outer(delta[0], a_prev[0])  # delta^{x,l} (a^{x,l-1})^T
            sum_b[i] += delta[0]
    scale = eta / m if case.reduction == "mean" else eta
    return (
        [w - scale * s for w, s in zip(case.weights, sum_w, strict=True)],
        [b - scale * s for b, s in zip(case.biases, sum_b, strict=True)],
    )


@pytest.mark.parametrize("reduction", ["mean", "sum"])
def test_one_step_is_the_seed_update(reduction: str) -> None:
    net, x, y = _problem()
    net.reduction = reduction
    case = net.case(x, y)
    got = reference.sgd_step(case, 0.5)
    want_w, want_b = _per_sample_update(case, 0.5)
    # Same sums in another order: entries agree to a few ulps of the weights (|w| ~ 1).
    for g, w in zip(got["weights"] + got["biases"], want_w + want_b, strict=True):
        np.testing.assert_allclose(g, w, rtol=0, atol=1e-14)
    assert any(not np.array_equal(g, w0) for g, w0 in zip(got["weights"], case.weights, strict=True))


def test_step_with_eta_zero_changes_nothing_and_float32_stays_float32() -> None:
    net, x, y = _problem()
    case = net.case(x, y)
    same = reference.sgd_step(case, 0.0)
    for g, w in zip(same["weights"], case.weights, strict=True):
        np.testing.assert_array_equal(g, w)
    c32 = reference.Network.random((3, 4, 2), ("tanh", "sigmoid"), dtype="float32").case(
        x.astype(np.float32), y.astype(np.float32)
    )
    out = reference.sgd_step(c32, 0.1)
    assert all(w.dtype == np.float32 for w in out["weights"] + out["biases"])


def _manual_training(
    net: Network, x: np.ndarray, y: np.ndarray, eta: float, epochs: int, size: int, seed: int
) -> tuple[list[np.ndarray], list[np.ndarray], list[float]]:
    """The seed's pseudocode: shuffle (numpy Generator from seed), cut into mini-batches, step on each."""
    rng = np.random.default_rng(seed)
    weights, biases = list(net.weights), list(net.biases)
    costs = []
    for _ in range(epochs):
        order = rng.permutation(len(x))
        for start in range(0, len(x), size):
            batch = order[start : start + size]
            case = Case(
                net.sizes, net.activations, net.cost, net.reduction, net.dtype, weights, biases, x[batch], y[batch]
            )
            weights, biases = _per_sample_update(case, eta)
        costs.append(
            reference.cost(Case(net.sizes, net.activations, net.cost, net.reduction, net.dtype, weights, biases, x, y))
        )
    return weights, biases, costs


def test_training_follows_the_pseudocode_including_a_short_last_batch() -> None:
    net, x, y = _problem(m=10)
    result = reference.train(net, x, y, eta=1.0, epochs=3, mini_batch_size=4, seed=7)
    weights, biases, costs = _manual_training(net, x, y, 1.0, 3, 4, 7)
    assert len(result.costs) == 3
    np.testing.assert_allclose(result.costs, costs, rtol=1e-12)
    for g, w in zip(result.network.weights + result.network.biases, weights + biases, strict=True):
        np.testing.assert_allclose(g, w, rtol=0, atol=1e-13)
    # the network passed in is untouched
    np.testing.assert_array_equal(net.weights[0], Network.random((3, 4, 2), ("tanh", "sigmoid"), seed=0).weights[0])


def test_training_is_reproducible_from_its_seed_and_learns() -> None:
    net, x, y = _problem(m=64, seed=1)
    first = reference.train(net, x, y, eta=2.0, epochs=30, mini_batch_size=8, seed=3)
    again = reference.train(net, x, y, eta=2.0, epochs=30, mini_batch_size=8, seed=3)
    other = reference.train(net, x, y, eta=2.0, epochs=30, mini_batch_size=8, seed=4)
    assert first.costs == again.costs
    assert first.costs != other.costs
    start = reference.cost(net.case(x, y))
    assert first.costs[-1] < 0.5 * start, f"cost {start:.4f} -> {first.costs[-1]:.4f} after 30 epochs"


def _steep() -> Case:
    """z = 200 against y = -100: dC/dw = (z - y) x = 30000 per weight, so eta = 1e307 overflows."""
    return Case(
        (2, 1),
        ("identity",),
        "quadratic",
        "sum",
        "float64",
        [np.array([[1.0, 1.0]])],
        [np.zeros(1)],
        np.array([[100.0, 100.0]]),
        np.array([[-100.0]]),
    )


def test_an_update_that_overflows_is_an_error_naming_the_parameter_and_layer() -> None:
    case = _steep()
    grad = reference.backprop(case)["grad_weights"][0]
    np.testing.assert_array_equal(grad, [[30000.0, 30000.0]])  # (200 + 100) * 100, by hand
    with pytest.raises(FloatingPointError) as info:
        reference.sgd_step(case, 1e307)
    message = str(info.value)
    for fragment in (
        "sgd_step: the updated weights[0] (layer 2) left the range of float64",
        "at index [0, 0] is -inf",
        "dC/dw = 30000",
        "eta = 1e+307",
    ):
        assert fragment in message, message
    net = Network(case.sizes, case.activations, case.cost, case.reduction, case.dtype, case.weights, case.biases)
    with pytest.raises(FloatingPointError, match=r"train: the updated weights\[0\] \(layer 2\) left the range"):
        reference.train(net, case.x, case.y, eta=1e307, epochs=1, mini_batch_size=1)


def test_an_overflowing_bias_update_is_named_too() -> None:
    # x = 0: dC/dw = 0, dC/db = z - y = 1000, so only b can overflow
    case = _steep().replace(x=np.zeros((1, 2)), y=np.array([[-1e3]]))
    assert reference.backprop(case)["grad_biases"][0][0] == 1e3
    with pytest.raises(FloatingPointError, match=r"the updated biases\[0\] \(layer 2\) .* is -inf"):
        reference.sgd_step(case, 1e306)


def test_a_huge_eta_that_stays_in_range_is_not_refused() -> None:
    """The overflow check is exact, not a threshold on eta: w - eta g is returned whenever it is finite."""
    case = _steep().replace(x=np.array([[1.0, 1.0]]), y=np.array([[0.0]]))  # z = 2, dC/dw = 2
    out = reference.sgd_step(case, 1e307)
    np.testing.assert_array_equal(out["weights"][0], [[1.0 - 2e307, 1.0 - 2e307]])
    np.testing.assert_array_equal(out["biases"][0], [-2e307])


def test_an_eta_beyond_float32_is_named() -> None:
    c32 = reference.Network.random((3, 4, 2), ("tanh", "sigmoid"), dtype="float32").case(
        np.ones((2, 3), dtype=np.float32), np.zeros((2, 2), dtype=np.float32)
    )
    with pytest.raises(ValueError, match=r"eta \(the learning rate\) = 1e\+39 overflows float32"):
        reference.sgd_step(c32, 1e39)
