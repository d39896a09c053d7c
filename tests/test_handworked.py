"""Networks small enough to do by hand: every number is computed here, in scalars, from the seed's equations."""

from __future__ import annotations

import math

import numpy as np
import pytest

import reference
from reference import Case


def s(z: float) -> float:
    return 1.0 / (1.0 + math.exp(-z))


def s_prime(z: float) -> float:
    return s(z) * (1.0 - s(z))


def test_one_one_one_sigmoid_network_step_by_step() -> None:
    # Layers 1, 2, 3 with one neuron each; quadratic cost, one sample, reduction "sum".
    w2, b2, w3, b3, x, y = 0.5, -0.25, -1.5, 0.75, 0.8, 0.3
    z2 = w2 * x + b2
    a2 = s(z2)
    z3 = w3 * a2 + b3
    a3 = s(z3)
    C = 0.5 * (a3 - y) ** 2
    delta3 = (a3 - y) * s_prime(z3)  # equation 1
    delta2 = w3 * delta3 * s_prime(z2)  # equation 2
    expected = {"w2": x * delta2, "b2": delta2, "w3": a2 * delta3, "b3": delta3}  # equations 3 and 4

    case = Case(
        (1, 1, 1),
        ("sigmoid", "sigmoid"),
        "quadratic",
        "sum",
        "float64",
        [np.array([[w2]]), np.array([[w3]])],
        [np.array([b2]), np.array([b3])],
        np.array([[x]]),
        np.array([[y]]),
    )
    out = reference.backprop(case)
    assert out["cost"] == pytest.approx(C, rel=1e-15)
    assert out["deltas"][1][0, 0] == pytest.approx(delta3, rel=1e-14)
    assert out["deltas"][0][0, 0] == pytest.approx(delta2, rel=1e-14)
    assert out["grad_weights"][0][0, 0] == pytest.approx(expected["w2"], rel=1e-14)
    assert out["grad_biases"][0][0] == pytest.approx(expected["b2"], rel=1e-14)
    assert out["grad_weights"][1][0, 0] == pytest.approx(expected["w3"], rel=1e-14)
    assert out["grad_biases"][1][0] == pytest.approx(expected["b3"], rel=1e-14)


def test_two_two_one_network_two_samples_mean() -> None:
    # sizes [2, 2, 1], sigmoid everywhere, quadratic cost, two samples, reduction "mean".
    W2 = [[0.1, -0.2], [0.4, 0.3]]
    B2 = [0.05, -0.1]
    W3 = [[0.7, -0.6]]
    B3 = [0.2]
    X = [[1.0, 2.0], [-0.5, 0.25]]
    Y = [[1.0], [0.0]]
    gw2 = [[0.0, 0.0], [0.0, 0.0]]
    gb2 = [0.0, 0.0]
    gw3 = [[0.0, 0.0]]
    gb3 = [0.0]
    C = 0.0
    for x, y in zip(X, Y, strict=True):
        z2 = [sum(W2[j][k] * x[k] for k in range(2)) + B2[j] for j in range(2)]
        a2 = [s(v) for v in z2]
        z3 = sum(W3[0][k] * a2[k] for k in range(2)) + B3[0]
        a3 = s(z3)
        C += 0.5 * (a3 - y[0]) ** 2 / 2
        d3 = (a3 - y[0]) * s_prime(z3)
        d2 = [W3[0][j] * d3 * s_prime(z2[j]) for j in range(2)]
        for j in range(2):
            gb2[j] += d2[j] / 2
            gw3[0][j] += a2[j] * d3 / 2
            for k in range(2):
                gw2[j][k] += x[k] * d2[j] / 2
        gb3[0] += d3 / 2
    case = Case(
        (2, 2, 1),
        ("sigmoid", "sigmoid"),
        "quadratic",
        "mean",
        "float64",
        [np.array(W2), np.array(W3)],
        [np.array(B2), np.array(B3)],
        np.array(X),
        np.array(Y),
    )
    out = reference.backprop(case)
    assert out["cost"] == pytest.approx(C, rel=1e-14)
    np.testing.assert_allclose(out["grad_weights"][0], gw2, rtol=1e-13)
    np.testing.assert_allclose(out["grad_weights"][1], gw3, rtol=1e-13)
    np.testing.assert_allclose(out["grad_biases"][0], gb2, rtol=1e-13)
    np.testing.assert_allclose(out["grad_biases"][1], gb3, rtol=1e-13)


def test_forward_returns_every_z_and_a_in_seed_numbering() -> None:
    net = reference.Network.random((2, 3, 1), ("tanh", "identity"), seed=3)
    x = np.array([[0.5, -1.0]])
    fwd = reference.forward(net.case(x, np.zeros((1, 1))))
    z2 = net.weights[0] @ x[0] + net.biases[0]
    np.testing.assert_allclose(fwd.z_of(2)[0], z2, rtol=1e-15)
    np.testing.assert_allclose(fwd.a_of(2)[0], np.tanh(z2), rtol=1e-15)
    np.testing.assert_allclose(fwd.z_of(3)[0], net.weights[1] @ np.tanh(z2) + net.biases[1], rtol=1e-14)
    assert fwd.a_of(1) is not None and np.array_equal(fwd.a_of(1), x)
    with pytest.raises(IndexError, match="z\\^1 does not exist"):
        fwd.z_of(1)
