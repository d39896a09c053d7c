"""Every bad input gets a message that names the field, the layer, and what was expected against what was given."""

from __future__ import annotations

import copy
import warnings
from typing import Any

import numpy as np
import pytest

import reference
from reference import Case


def good(**changes: Any) -> Case:
    """A valid [4, 5, 3] case; changes replace fields."""
    rng = np.random.default_rng(0)
    case = Case(
        (4, 5, 3),
        ("sigmoid", "sigmoid"),
        "quadratic",
        "mean",
        "float64",
        [rng.standard_normal((5, 4)), rng.standard_normal((3, 5))],
        [rng.standard_normal(5), rng.standard_normal(3)],
        rng.standard_normal((2, 4)),
        rng.random((2, 3)),
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
    rejects(
        c.replace(weights=bad),
        ValueError,
        "weights[1] has shape (3, 4); layer 3 needs (3, 5) because n_3 = 3 and n_2 = 5",
    )


def test_transposed_weights_get_a_hint() -> None:
    c = good()
    rejects(
        c.replace(weights=[c.weights[0].T, c.weights[1]]),
        ValueError,
        "weights[0] has shape (4, 5)",
        "layer 2 needs (5, 4)",
        "transposed",
    )


def test_bias_column_vectors_are_rejected_with_a_hint() -> None:
    c = good()
    rejects(
        c.replace(biases=[c.biases[0].reshape(5, 1), c.biases[1]]),
        ValueError,
        "biases[0] has shape (5, 1); layer 2 needs (5,)",
        "b.ravel()",
    )


def test_fewer_than_two_layers() -> None:
    rejects(
        good(sizes=(4,), activations=(), weights=[], biases=[]),
        ValueError,
        "sizes = (4,) has 1 layer(s)",
        "at least two",
    )


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


@pytest.mark.parametrize(
    ("field", "value", "fragment"),
    [
        ("activations", ("sigmoid", "swish"), "unknown activations[1] (layer 3) 'swish'"),
        ("cost", "hinge", "unknown cost 'hinge'; expected one of quadratic, cross_entropy, log_likelihood"),
        ("reduction", "average", "unknown reduction 'average'; expected one of mean, sum"),
        ("dtype", "float16", "unknown dtype 'float16'; expected one of float64, float32"),
    ],
)
def test_unknown_names(field: str, value: Any, fragment: str) -> None:
    rejects(good(**{field: value}), ValueError, fragment)


def test_wrong_number_of_activations() -> None:
    rejects(
        good(activations=("sigmoid",)),
        ValueError,
        "activations has 1 names, but sizes (4, 5, 3) has L = 3 layers, which needs 2",
    )


def test_softmax_before_the_output_layer() -> None:
    rejects(
        good(activations=("softmax", "sigmoid")),
        ValueError,
        "activations[0] = 'softmax' at layer 2",
        "only at the output layer L = 3",
    )


def test_cross_entropy_without_sigmoid_output() -> None:
    rejects(
        good(cost="cross_entropy", activations=("sigmoid", "tanh")),
        ValueError,
        "cost 'cross_entropy' needs a sigmoid output layer",
        "output activation is 'tanh'",
    )


def test_log_likelihood_without_softmax_output() -> None:
    rejects(
        good(cost="log_likelihood"),
        ValueError,
        "cost 'log_likelihood' needs a softmax output layer",
        "output activation is 'sigmoid'",
    )


def test_cross_entropy_targets_outside_unit_interval() -> None:
    y = np.array([[0.5, 1.5, 0.0], [0.0, 0.0, 1.0]])
    rejects(good(cost="cross_entropy", y=y), ValueError, "y[0, 1] = 1.5", "must lie in [0, 1]")


def test_log_likelihood_targets_not_probability_vectors() -> None:
    c = good(cost="log_likelihood", activations=("sigmoid", "softmax"))
    rejects(
        c.replace(y=np.array([[0.5, 0.6, 0.0], [0.0, 0.0, 1.0]])), ValueError, "y[0] sums to 1.1", "probability vectors"
    )
    rejects(c.replace(y=np.array([[1.5, -0.5, 0.0], [0.0, 0.0, 1.0]])), ValueError, "y[0, 1] = -0.5", "non-negative")


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


@pytest.mark.parametrize(
    ("field", "value", "fragment"),
    [
        ("x", np.array([["a", "b", "c", "d"]] * 2), "x must hold real numbers, got dtype <U1"),
        ("x", np.ones((2, 4), dtype=bool), "x must hold real numbers, got dtype bool (booleans)"),
        ("weights", [np.ones((5, 4)), [[1, 2], [3]]], "weights[1] (layer 3) is not a rectangular numeric array"),
        ("y", np.full((2, 3), None), "y must hold real numbers, got dtype object"),
    ],
)
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


# ----- issue 12, item 8: the engine as users import it -----


def _rejects_everywhere(case: Any, error: type[Exception], *fragments: str) -> None:
    """backprop, forward, cost, sgd_step and validate all refuse the case with the same message."""
    for call in (
        reference.backprop,
        reference.forward,
        reference.cost,
        reference.validate,
        lambda c: reference.sgd_step(c, 0.1),
    ):
        with pytest.raises(error) as info:
            call(case)
        for fragment in fragments:
            assert fragment in str(info.value), f"{fragment!r} not in {str(info.value)!r}"


@pytest.mark.parametrize(
    ("value", "why"),
    [
        ({"sigmoid", "tanh"}, "a set has no fixed order"),
        (frozenset({"sigmoid", "tanh"}), "a frozenset has no fixed order"),
        ({"sigmoid": 0, "tanh": 1}, "a dict is not a per-layer sequence"),
        ("sigmoid", "a string is one name"),
        (iter(["sigmoid", "tanh"]), "is not a list or tuple"),
    ],
)
def test_activations_must_be_a_list_or_tuple(value: Any, why: str) -> None:
    # A set used to pass, in hash order: which activation landed on which layer changed with PYTHONHASHSEED.
    _rejects_everywhere(
        good(activations=value), TypeError, "activations must be a list or tuple of 2 names, one per layer 2..3", why
    )


def test_a_set_of_activation_names_is_refused_by_network_random_too() -> None:
    with pytest.raises(TypeError, match="a set has no fixed order"):
        reference.Network.random((4, 5, 3), {"sigmoid", "tanh"})  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("value", "why"),
    [
        ({4, 5, 3}, "a set has no fixed order"),
        ({4: 0, 5: 0, 3: 0}, "a dict is not a per-layer sequence"),
        ((n for n in (4, 5, 3)), "is not a list or tuple"),
        (np.array([[4, 5, 3]]), "a numpy array of sizes must be 1-D"),
    ],
)
def test_sizes_must_be_ordered_and_flat(value: Any, why: str) -> None:
    _rejects_everywhere(good(sizes=value), TypeError, "sizes must be a list or tuple of layer widths", why)


def test_sizes_and_activations_as_lists_and_numpy_integers_are_accepted() -> None:
    want = reference.backprop(good())
    got = reference.backprop(good(sizes=np.array([4, 5, 3]), activations=["sigmoid", "sigmoid"]))
    got2 = reference.backprop(good(sizes=[np.int64(4), np.int32(5), 3]))
    for out in (got, got2):
        for g, w in zip(out["grad_weights"], want["grad_weights"], strict=True):
            np.testing.assert_array_equal(g, w)


def test_dtype_none_is_not_taken_for_float64() -> None:
    _rejects_everywhere(good(dtype=None), ValueError, "dtype is None; expected one of float64, float32")
    with pytest.raises(ValueError, match="dtype is None; expected one of float64, float32"):
        reference.Network.random((4, 5, 3), ("sigmoid", "sigmoid"), dtype=None)  # type: ignore[arg-type]
    # real dtype objects are still welcome
    assert reference.validate(good(dtype=np.dtype("float64"))).dtype == "float64"
    assert reference.validate(good(dtype=np.float32)).dtype == "float32"


def _masked(array: np.ndarray) -> np.ma.MaskedArray:
    mask = np.zeros(array.shape, dtype=bool)
    mask.flat[0] = True
    return np.ma.masked_array(array, mask=mask)


@pytest.mark.parametrize("field", ["weights", "biases", "x", "y"])
def test_masked_arrays_are_refused_not_unmasked(field: str) -> None:
    c = good()
    if field in ("weights", "biases"):
        arrays = list(getattr(c, field))
        arrays[1] = _masked(arrays[1])
        case, name = c.replace(**{field: arrays}), f"{field}[1] (layer 3)"
    else:
        case, name = c.replace(**{field: _masked(getattr(c, field))}), field
    _rejects_everywhere(case, TypeError, f"{name} is a numpy masked array", "mask would be silently dropped")


def test_masked_training_data_is_refused_by_train_and_network_case() -> None:
    c = good()
    net = reference.Network((4, 5, 3), ("sigmoid", "sigmoid"), weights=c.weights, biases=c.biases)
    with pytest.raises(TypeError, match="x is a numpy masked array"):
        reference.train(net, _masked(c.x), c.y, eta=0.1, epochs=1, mini_batch_size=1)
    with pytest.raises(TypeError, match="y is a numpy masked array"):
        reference.backprop(net.case(c.x, _masked(c.y)))


def test_finite_values_that_overflow_float32_are_named_not_called_inf() -> None:
    c = good(dtype="float32")
    x = c.x.copy()
    x[1, 2] = 1e39
    _rejects_everywhere(
        c.replace(x=x),
        ValueError,
        "x holds 1e+39 at index [1, 2], which is finite but overflows float32",
        "largest finite value 3.403e+38",
        "use dtype float64",
    )
    weights = [w.copy() for w in c.weights]
    weights[1][2, 0] = -5e38
    _rejects_everywhere(
        c.replace(weights=weights),
        ValueError,
        "weights[1] (layer 3) holds -5e+38 at index [2, 0], which is finite but overflows float32",
    )
    # and a real infinity is still reported as one
    x[1, 2] = np.inf
    _rejects_everywhere(c.replace(x=x), ValueError, "x contains inf at index [1, 2]")


def test_long_double_values_that_overflow_float64_are_named() -> None:
    if np.finfo(np.longdouble).max <= np.finfo(np.float64).max:
        pytest.skip("long double is float64 on this platform")
    x = good().x.astype(np.longdouble)
    x[0, 3] = np.longdouble(10) ** 400
    _rejects_everywhere(good(x=x), ValueError, "x holds 1e+400 at index [0, 3], which is finite but overflows float64")


@pytest.mark.parametrize(
    "make",
    [
        lambda c: c.replace(x=np.full((2, 4), 1e200)),
        lambda c: c.replace(weights=[np.full((5, 4), 1e200), c.weights[1]]),
        lambda c: c.replace(biases=[c.biases[0], np.full(3, -1e300)]),
        lambda c: c.replace(x=np.full((2, 4), 1e39), dtype="float32"),
        lambda c: c.replace(
            cost="log_likelihood",
            activations=("sigmoid", "softmax"),
            y=np.array([[1e308, 1e308, 0.0], [0.0, 0.0, 1.0]]),
        ),
    ],
    ids=["x-1e200", "weights-1e200", "biases-1e300", "float32-1e39", "y-row-sum-overflow"],
)
def test_no_warning_escapes_validation_or_the_entry_points(make: Any) -> None:
    """Huge finite input: a clear error or a result, never a RuntimeWarning (an error under -W error)."""
    case = make(good())
    for call in (
        reference.validate,
        reference.forward,
        reference.cost,
        reference.backprop,
        lambda c: reference.sgd_step(c, 0.1),
    ):
        with warnings.catch_warnings():
            warnings.simplefilter("error")
            try:
                call(case)
            except (ValueError, FloatingPointError):
                pass  # a clear error is fine; a RuntimeWarning raised as an error is not one of these


@pytest.mark.parametrize(
    ("kwargs", "error", "message"),
    [
        ({"seed": -1}, ValueError, "seed must be an int >= 0 (runs repeat exactly from it), got -1"),
        ({"seed": True}, TypeError, "seed must be an int >= 0 (runs repeat exactly from it), got True (bool)"),
        ({"seed": 1.5}, TypeError, "seed must be an int >= 0 (runs repeat exactly from it), got 1.5 (float)"),
        ({"seed": None}, TypeError, "seed must be an int >= 0 (runs repeat exactly from it), got None"),
        ({"epochs": "3"}, TypeError, "epochs must be a positive int, got '3' (str)"),
        ({"epochs": 2.0}, TypeError, "epochs must be a positive int, got 2.0 (float)"),
        ({"epochs": 0}, ValueError, "epochs must be a positive int, got 0"),
        ({"mini_batch_size": True}, TypeError, "mini_batch_size must be a positive int, got True (bool)"),
        ({"shuffle": "no"}, TypeError, "shuffle must be True or False, got 'no'"),
        ({"eta": True}, TypeError, "eta (the learning rate) must be a real number, got True"),
        ({"eta": np.bool_(True)}, TypeError, "eta (the learning rate) must be a real number"),
        ({"eta": -0.1}, ValueError, "eta (the learning rate) must be finite and >= 0, got -0.1"),
    ],
)
def test_every_train_argument_is_checked_by_name(kwargs: dict[str, Any], error: type[Exception], message: str) -> None:
    c = good()
    net = reference.Network.random((4, 5, 3), ("sigmoid", "sigmoid"))
    args: dict[str, Any] = {"eta": 0.1, "epochs": 1, "mini_batch_size": 1, **kwargs}
    with pytest.raises(error) as info:
        reference.train(net, c.x, c.y, **args)
    assert message in str(info.value)


def test_train_needs_a_network_and_numpy_integers_are_welcome() -> None:
    c = good()
    with pytest.raises(TypeError, match=r"network is missing sizes, .* train needs a reference\.Network"):
        reference.train(object(), c.x, c.y, eta=0.1, epochs=1, mini_batch_size=1)  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="seed must be an int >= 0"):
        reference.Network.random((4, 5, 3), ("sigmoid", "sigmoid"), seed=-1)
    net = reference.Network.random((4, 5, 3), ("sigmoid", "sigmoid"))
    numpy_scalars: dict[str, Any] = {  # numpy scalars where the signature says float, int and bool
        "eta": np.float32(0.5),
        "epochs": np.int64(2),
        "mini_batch_size": np.int32(1),
        "seed": np.uint8(3),
        "shuffle": np.bool_(True),
    }
    a = reference.train(net, c.x, c.y, **numpy_scalars)
    b = reference.train(net, c.x, c.y, eta=0.5, epochs=2, mini_batch_size=1, seed=3)
    np.testing.assert_allclose(a.costs, b.costs, rtol=1e-6)  # eta went through float32(0.5), which is exact
    assert a.costs == b.costs


def test_a_bool_hidden_among_numbers_in_nested_lists_is_refused() -> None:
    # np.asarray([[1.0, True]]) is [[1.0, 1.0]]: the bool would pass as a number.
    rejects(
        good(x=[[1.0, 2.0, 3.0, 4.0], [0.5, True, 0.0, 0.0]]),
        TypeError,
        "x holds the bool True at index [1, 1]; expected a real number",
    )
    rejects(
        good(biases=[[0.0, np.bool_(False), 0.0, 0.0, 0.0], good().biases[1]]),
        TypeError,
        "biases[0] (layer 2) holds the bool False at index [1]",
    )


@pytest.mark.parametrize(
    ("field", "value", "fragment"),
    [
        ("x", np.array(1.0), "x has shape (); expected (m, 4)"),
        ("weights", [np.array(1.0), np.zeros((3, 5))], "weights[0] has shape (); layer 2 needs (5, 4)"),
        ("x", np.ones((2, 4), dtype=complex), "x must hold real numbers, got dtype complex128 (complex numbers)"),
        ("x", np.ones((2, 4)).astype(object), "x must hold real numbers, got dtype object (Python objects"),
        ("weights", "ab", "weights must be a list of 2 arrays (layers 2..3), got str"),
        ("biases", {0: np.zeros(5), 1: np.zeros(3)}, "biases must be a list of 2 arrays (layers 2..3), got dict"),
    ],
)
def test_zero_dimensional_complex_object_and_container_mistakes(field: str, value: Any, fragment: str) -> None:
    error = ValueError if "shape" in fragment else TypeError
    rejects(good(**{field: value}), error, fragment)


def test_read_only_strided_fortran_and_integer_arrays_give_the_same_answer() -> None:
    """Layout and integer storage are not mistakes: the result is bit-identical to plain float arrays."""
    c = good()
    wide = np.zeros((2, 8))
    wide[:, ::2] = c.x  # a non-contiguous view
    frozen = [np.asfortranarray(w) for w in c.weights]
    for w in frozen:
        w.flags.writeable = False
    x_int = np.array([[1, -2, 3, 0], [4, 0, -1, 2]], dtype=np.int32)
    want = reference.backprop(c)
    got = reference.backprop(c.replace(x=wide[:, ::2], weights=frozen))
    for g, w in zip(got["grad_weights"] + got["deltas"], want["grad_weights"] + want["deltas"], strict=True):
        np.testing.assert_allclose(g, w, rtol=1e-15, atol=0)
    as_int = reference.backprop(c.replace(x=x_int))
    as_float = reference.backprop(c.replace(x=x_int.astype(np.float64)))
    for g, w in zip(as_int["grad_weights"], as_float["grad_weights"], strict=True):
        np.testing.assert_array_equal(g, w)
    step = reference.sgd_step(c.replace(weights=frozen), 0.1)  # read-only inputs: never written to
    assert all(w.flags.writeable for w in step["weights"])
