"""Every bad input gets a message that names the field, the layer, and what was expected against what was given."""

from __future__ import annotations

import copy
from typing import Any

import numpy as np
import pytest

import reference
from reference import Case


def good(**changes: Any) -> Case:
    """A valid [4, 5, 3] case; changes replace fields."""
    rng = np.random.default_rng(0)
    case = Case(
        (4, 5, 3), ("sigmoid", "sigmoid"), "quadratic", "mean", "float64",
        [rng.standard_normal((5, 4)), rng.standard_normal((3, 5))],
        [rng.standard_normal(5), rng.standard_normal(3)],
        rng.standard_normal((2, 4)), rng.random((2, 3)),
    )
    return case.replace(**changes)


def rejects(case: Any, error: type[Exception], *fragments: str) -> None:
    with pytest.raises(error) as info:
        reference.backprop(case)
    for fragment in fragments:
        assert fragment in str(info.value), f"{fragment!r} not in {str(info.value)!r}"


def test_weight_shape_names_layer_and_the_reason() -> None:
    c = good(sizes=(4, 5, 3))
    bad = [c.weights[0], np.zeros((3, 4))]
    rejects(c.replace(weights=bad), ValueError,
            "weights[1] has shape (3, 4); layer 3 needs (3, 5) because n_3 = 3 and n_2 = 5")


def test_transposed_weights_get_a_hint() -> None:
    c = good()
    rejects(c.replace(weights=[c.weights[0].T, c.weights[1]]), ValueError,
            "weights[0] has shape (4, 5)", "layer 2 needs (5, 4)", "transposed")


def test_bias_column_vectors_are_rejected_with_a_hint() -> None:
    c = good()
    rejects(c.replace(biases=[c.biases[0].reshape(5, 1), c.biases[1]]), ValueError,
            "biases[0] has shape (5, 1); layer 2 needs (5,)", "b.ravel()")


def test_fewer_than_two_layers() -> None:
    rejects(good(sizes=(4,), activations=(), weights=[], biases=[]), ValueError,
            "sizes = (4,) has 1 layer(s)", "at least two")


def test_zero_width_layer() -> None:
    rejects(good(sizes=(4, 0, 3)), ValueError, "sizes[1] = 0", "layer 2 has zero width")


def test_empty_batch() -> None:
    rejects(good(x=np.zeros((0, 4)), y=np.zeros((0, 3))), ValueError, "x has shape (0, 4)", "m = 0")


def test_x_with_the_wrong_width_and_one_dimensional_x() -> None:
    rejects(good(x=np.zeros((2, 5))), ValueError, "x has shape (2, 5); expected (m, 4) because n_1 = 4")
    rejects(good(x=np.zeros(4)), ValueError, "x has shape (4,)", "x[None, :]")


def test_y_shape_and_sample_count() -> None:
    rejects(good(y=np.zeros((2, 2))), ValueError, "y has shape (2, 2); expected (m, 3) because n_3 = 3")
    rejects(good(y=np.zeros((3, 3))), ValueError, "x has 2 samples (rows) but y has 3")


@pytest.mark.parametrize(("field", "value", "fragment"), [
    ("activations", ("sigmoid", "swish"), "unknown activations[1] (layer 3) 'swish'"),
    ("cost", "hinge", "unknown cost 'hinge'; expected one of quadratic, cross_entropy, log_likelihood"),
    ("reduction", "average", "unknown reduction 'average'; expected one of mean, sum"),
    ("dtype", "float16", "unknown dtype 'float16'; expected one of float64, float32"),
])
def test_unknown_names(field: str, value: Any, fragment: str) -> None:
    rejects(good(**{field: value}), ValueError, fragment)


def test_wrong_number_of_activations() -> None:
    rejects(good(activations=("sigmoid",)), ValueError,
            "activations has 1 names, but sizes (4, 5, 3) has L = 3 layers, which needs 2")


def test_softmax_before_the_output_layer() -> None:
    rejects(good(activations=("softmax", "sigmoid")), ValueError,
            "activations[0] = 'softmax' at layer 2", "only at the output layer L = 3")


def test_cross_entropy_without_sigmoid_output() -> None:
    rejects(good(cost="cross_entropy", activations=("sigmoid", "tanh")), ValueError,
            "cost 'cross_entropy' needs a sigmoid output layer", "output activation is 'tanh'")


def test_log_likelihood_without_softmax_output() -> None:
    rejects(good(cost="log_likelihood"), ValueError,
            "cost 'log_likelihood' needs a softmax output layer", "output activation is 'sigmoid'")


def test_cross_entropy_targets_outside_unit_interval() -> None:
    y = np.array([[0.5, 1.5, 0.0], [0.0, 0.0, 1.0]])
    rejects(good(cost="cross_entropy", y=y), ValueError, "y[0, 1] = 1.5", "must lie in [0, 1]")


def test_log_likelihood_targets_not_probability_vectors() -> None:
    c = good(cost="log_likelihood", activations=("sigmoid", "softmax"))
    rejects(c.replace(y=np.array([[0.5, 0.6, 0.0], [0.0, 0.0, 1.0]])), ValueError,
            "y[0] sums to 1.1", "probability vectors")
    rejects(c.replace(y=np.array([[1.5, -0.5, 0.0], [0.0, 0.0, 1.0]])), ValueError,
            "y[0, 1] = -0.5", "non-negative")


@pytest.mark.parametrize("bad", [np.nan, np.inf, -np.inf])
@pytest.mark.parametrize("field", ["weights", "biases", "x", "y"])
def test_non_finite_inputs_anywhere(field: str, bad: float) -> None:
    c = good()
    if field in ("weights", "biases"):
        arrays = [a.copy() for a in getattr(c, field)]
        arrays[1].flat[1] = bad
        index = "[0, 1]" if field == "weights" else "[1]"
        rejects(c.replace(**{field: arrays}), ValueError, f"{field}[1] (layer 3) contains {bad} at index {index}")
    else:
        array = getattr(c, field).copy()
        array[1, 2] = bad
        rejects(c.replace(**{field: array}), ValueError, f"{field} contains {bad} at index [1, 2]")


@pytest.mark.parametrize(("field", "value", "fragment"), [
    ("x", np.array([["a", "b", "c", "d"]] * 2), "x must hold real numbers, got dtype <U1"),
    ("x", np.ones((2, 4), dtype=bool), "x must hold real numbers, got dtype bool (booleans)"),
    ("weights", [np.ones((5, 4)), [[1, 2], [3]]], "weights[1] (layer 3) is not a rectangular numeric array"),
    ("y", np.full((2, 3), None), "y must hold real numbers, got dtype object"),
])
def test_non_numeric_arrays(field: str, value: Any, fragment: str) -> None:
    rejects(good(**{field: value}), TypeError, fragment)


def test_missing_attributes_and_wrong_containers() -> None:
    rejects(object(), TypeError, "case is missing sizes, activations")
    rejects(good(weights=np.zeros((2, 5, 4))), TypeError, "weights must be a list of 2 arrays")
    rejects(good(sizes=(4, 5.5, 3)), TypeError, "sizes[1] (n_2, layer 2) must be an int, got 5.5")
    rejects(good(weights=[np.zeros((5, 4))]), ValueError, "weights has 1 arrays, but sizes (4, 5, 3) needs 2")


def test_overflow_is_reported_not_returned_as_nan() -> None:
    c = good(activations=("relu", "identity"), weights=[np.full((5, 4), 1e200), np.full((3, 5), -1e200)])
    rejects(c, FloatingPointError, "left the range of float64", "largest |w| = 1e+200")
    tiny = good(sizes=(4, 1), activations=("identity",), weights=[np.full((1, 4), 1e300)], biases=[np.zeros(1)])
    rejects(tiny.replace(x=np.full((2, 4), 1e10), y=np.zeros((2, 1))), FloatingPointError, "left the range")


def test_bad_learning_rate_and_training_arguments() -> None:
    with pytest.raises(ValueError, match="eta \\(the learning rate\\) must be finite and >= 0, got nan"):
        reference.sgd_step(good(), float("nan"))
    with pytest.raises(TypeError, match="eta \\(the learning rate\\) must be a real number"):
        reference.sgd_step(good(), "0.1")  # type: ignore[arg-type]
    net = reference.Network.random((4, 5, 3), ("sigmoid", "sigmoid"))
    with pytest.raises(ValueError, match="mini_batch_size must be a positive int, got 0"):
        reference.train(net, good().x, good().y, eta=0.1, epochs=1, mini_batch_size=0)


def test_inputs_are_never_mutated() -> None:
    c = good()
    before = copy.deepcopy(c)
    reference.backprop(c)
    reference.sgd_step(c, 0.5)
    reference.backprop_mp(c, digits=20)
    for field in ("weights", "biases"):
        for got, was in zip(getattr(c, field), getattr(before, field), strict=True):
            np.testing.assert_array_equal(got, was)
    np.testing.assert_array_equal(c.x, before.x)
    np.testing.assert_array_equal(c.y, before.y)
    # and the arrays are not write-shared with the results
    out = reference.sgd_step(c, 0.5)
    assert not any(np.shares_memory(a, b) for a, b in zip(out["weights"], c.weights, strict=True))


def test_contract_accepts_any_object_and_nested_lists() -> None:
    class Plain:
        sizes = [2, 1]
        activations = ["identity"]
        cost = "quadratic"
        reduction = "sum"
        dtype = "float64"
        weights = [[[1.0, 2.0]]]
        biases = [[0.5]]
        x = [[1.0, 1.0]]
        y = [[0.0]]

    out = reference.backprop(Plain())
    # z = 1 + 2 + 0.5 = 3.5; dC/dz = 3.5; dC/dw = 3.5 * x
    np.testing.assert_array_equal(out["grad_weights"][0], [[3.5, 3.5]])
    assert out["cost"] == 0.5 * 3.5**2
