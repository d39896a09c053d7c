"""predict: the network's output a^L for x alone, against a forward pass written out by hand.

The expected values come from a loop over samples, neurons and inputs in Python floats
(``math.exp``, ``math.tanh``), not from the engine; float32 is held to the same loop within
float32's rounding. Bad x is refused with the field named and expected against given, and x is
never written to.
"""

from __future__ import annotations

import math

import numpy as np
import pytest

import reference
from reference.case import Network

SIZES = (3, 5, 4, 2)


def _hand_sigma(name: str, z: list[float]) -> list[float]:
    """sigma of one layer's z for one sample, from the textbook definitions."""
    if name == "sigmoid":
        return [1.0 / (1.0 + math.exp(-v)) for v in z]
    if name == "tanh":
        return [math.tanh(v) for v in z]
    if name == "relu":
        return [max(v, 0.0) for v in z]
    if name == "softmax":
        top = max(z)
        e = [math.exp(v - top) for v in z]
        return [v / sum(e) for v in e]
    raise AssertionError(name)


def _hand_output(net: Network, x: np.ndarray) -> np.ndarray:
    """a^L per sample: z^l_j = sum_k w^l_jk a^{l-1}_k + b^l_j, a^l = sigma(z^l), in Python floats."""
    rows = []
    for sample in x.tolist():
        a = [float(v) for v in sample]
        for w, b, name in zip(net.weights, net.biases, net.activations, strict=True):
            z = [sum(float(w[j, k]) * a[k] for k in range(len(a))) + float(b[j]) for j in range(w.shape[0])]
            a = _hand_sigma(name, z)
        rows.append(a)
    return np.array(rows)


def _net(dtype: str, activations: tuple[str, ...] = ("tanh", "relu", "sigmoid")) -> Network:
    return Network.random(SIZES, activations, dtype=dtype, seed=7)


@pytest.mark.parametrize(("dtype", "rtol"), [("float64", 1e-13), ("float32", 1e-5)])
@pytest.mark.parametrize("activations", [("tanh", "relu", "sigmoid"), ("sigmoid", "tanh", "softmax")])
@pytest.mark.parametrize("m", [1, 6])
def test_predict_matches_a_hand_written_forward_pass(
    dtype: str, rtol: float, activations: tuple[str, ...], m: int
) -> None:
    net = _net(dtype, activations)
    x = np.random.default_rng(m).standard_normal((m, SIZES[0])).astype(dtype)
    expected = _hand_output(net, x)
    for out in (reference.predict(net, x), reference.prepare(net).predict(x)):
        assert out.shape == (m, SIZES[-1])
        assert out.dtype == np.dtype(dtype)  # computed in the network's dtype, not promoted
        np.testing.assert_allclose(out, expected, rtol=rtol, atol=rtol)


@pytest.mark.parametrize("dtype", ["float64", "float32"])
def test_predict_is_the_forward_pass_output_bit_for_bit(dtype: str) -> None:
    """What the docs promise: the same a^L as ``reference.forward`` on a case with those x."""
    net = _net(dtype)
    x = np.random.default_rng(4).standard_normal((7, SIZES[0])).astype(dtype)
    y = np.zeros((7, SIZES[-1]), dtype=dtype)
    assert reference.predict(net, x).tobytes() == reference.forward(net.case(x, y)).a[-1].tobytes()


def test_predict_converts_integer_x_and_a_list() -> None:
    net = _net("float64")
    x = [[1, 0, -2], [3, 1, 0]]
    np.testing.assert_allclose(reference.predict(net, x), _hand_output(net, np.array(x, dtype=float)), rtol=1e-13)


def test_a_wrong_weight_is_seen() -> None:
    """Negative control for the comparison: one changed weight moves the output past the tolerance."""
    net = _net("float64", ("tanh", "tanh", "sigmoid"))
    x = np.random.default_rng(0).standard_normal((4, SIZES[0]))
    changed = Network(net.sizes, net.activations, weights=[w.copy() for w in net.weights], biases=list(net.biases))
    changed.weights[-1][0, 0] += 0.5
    assert not np.allclose(reference.predict(changed, x), _hand_output(net, x), rtol=1e-6)


def test_predict_needs_no_y_and_accepts_a_case() -> None:
    """A Case's batch is ignored, as ``prepare`` ignores it: x alone decides the output."""
    net = _net("float64")
    x = np.random.default_rng(2).standard_normal((3, SIZES[0]))
    case = net.case(np.zeros((1, SIZES[0])), np.zeros((1, SIZES[-1])))
    np.testing.assert_allclose(reference.predict(case, x), _hand_output(net, x), rtol=1e-13)


def test_x_is_not_written_to() -> None:
    net = _net("float64")
    x = np.random.default_rng(3).standard_normal((5, SIZES[0]))
    before = x.copy()
    x.flags.writeable = False  # a write would raise here
    out = reference.prepare(net).predict(x)
    assert np.array_equal(x, before)
    out[...] = 0.0  # the output is the caller's own array, not a view of x
    assert np.array_equal(x, before)


@pytest.mark.parametrize(
    ("x", "error", "message"),
    [
        (np.zeros((2, 4)), ValueError, "x has shape (2, 4); expected (m, 3) because n_1 = 3 (layer 1 has 3 units"),
        (np.zeros(3), ValueError, "a single sample is x[None, :]"),
        (np.zeros((0, 3)), ValueError, "the batch is empty (m = 0)"),
        (np.array([[0.0, np.nan, 1.0]]), ValueError, "x contains nan at index [0, 1]"),
        (np.array([[0.0, 1.0, np.inf]]), ValueError, "x contains inf at index [0, 2]"),
        (np.array([[0.0, 1.0, None]], dtype=object), TypeError, "x must hold real numbers, got dtype object"),
        (np.array([[True, False, True]]), TypeError, "got dtype bool"),
        (np.array([[1j, 0, 0]]), TypeError, "got dtype complex128"),
        ([[0.0, True, 1.0]], TypeError, "x holds the bool True at index [0, 1]"),
        (None, TypeError, "x must hold real numbers, got dtype object"),
    ],
)
def test_bad_x_is_refused_by_name(x: object, error: type[Exception], message: str) -> None:
    with pytest.raises(error) as raised:
        reference.prepare(_net("float64")).predict(x)
    assert message in str(raised.value)


def test_finite_x_too_large_for_float32_is_named() -> None:
    with pytest.raises(ValueError, match=r"x holds 1e\+300 at index \[0, 0\], which is finite but overflows float32"):
        reference.predict(_net("float32"), np.array([[1e300, 0.0, 0.0]]))


def test_an_overflowing_forward_pass_raises() -> None:
    """Finite inputs whose z^l leaves float64's range: a FloatingPointError, not inf in the output."""
    weights = [np.full((n, n_prev), 1e200) for n_prev, n in zip(SIZES[:-1], SIZES[1:], strict=True)]
    biases = [np.zeros(n) for n in SIZES[1:]]
    net = Network(SIZES, ("identity", "identity", "sigmoid"), weights=weights, biases=biases)
    with pytest.raises(FloatingPointError, match="the forward pass left the range of float64"):
        reference.predict(net, np.ones((1, SIZES[0])))


def test_a_bad_network_is_refused_before_x() -> None:
    net = _net("float64")
    broken = Network(net.sizes, net.activations, weights=[net.weights[0].T, *net.weights[1:]], biases=net.biases)
    with pytest.raises(ValueError, match=r"weights\[0\] has shape \(3, 5\); layer 2 needs \(5, 3\)"):
        reference.predict(broken, np.zeros((1, 3)))
