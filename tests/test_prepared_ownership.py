"""A Prepared's scalar certificate rests on norms computed once (``Prepared._bounds``); they stay true
only while nobody writes to the arrays they were computed from. These tests attack that: the
caller changes their own arrays after ``prepare``, writes into the Prepared's, or builds a
Prepared around writeable arrays and changes them in place between batches. Each time the pass
must answer as ``reference.backprop`` does for the arrays as they are, and never return a
non-finite number.
"""

from __future__ import annotations

import numpy as np
import pytest

import reference
from reference import prepared

SIZES = (3, 4, 4, 2)
ACTIVATIONS = ("tanh", "relu", "sigmoid")


def _network(dtype: str = "float64") -> reference.Network:
    rng = np.random.default_rng(7)
    weights = [rng.standard_normal((n, k)).astype(dtype) for k, n in zip(SIZES, SIZES[1:], strict=False)]
    biases = [rng.standard_normal(n).astype(dtype) for n in SIZES[1:]]
    return reference.Network(SIZES, ACTIVATIONS, "quadratic", "mean", dtype, weights, biases)


def _batch(dtype: str = "float64") -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(8)
    return rng.standard_normal((5, SIZES[0])).astype(dtype), rng.random((5, SIZES[-1])).astype(dtype)


def test_prepare_holds_read_only_copies_and_the_callers_arrays_stay_theirs() -> None:
    net = _network()
    p = reference.prepare(net)
    x, y = _batch()
    before = p.backprop(x, y)
    net.weights[0][...] = 1e300  # the caller's array, changed after prepare: not the Prepared's
    after = p.backprop(x, y)
    np.testing.assert_array_equal(after["grad_weights"][0], before["grad_weights"][0])
    assert net.weights[0].flags.writeable  # never made read-only: the caller's own
    with pytest.raises(ValueError, match="read-only"):
        p.weights[0][0, 0] = 1.0
    assert p._bounds is not None  # the scalar certificate applies to what prepare owns


def test_sgd_steps_results_are_owned_read_only_and_keep_the_scalar_certificate() -> None:
    p = reference.prepare(_network())
    x, y = _batch()
    q = p.sgd_step(x, y, 0.5)
    assert all(not a.flags.writeable for a in (*q.weights, *q.biases))
    assert q._bounds is not None
    # reference.sgd_step's arrays are the caller's to change: never read-only
    n = _network()
    case = reference.Case(n.sizes, n.activations, n.cost, n.reduction, n.dtype, n.weights, n.biases, x, y)
    step = reference.sgd_step(case, 0.5)
    assert all(a.flags.writeable for a in (*step["weights"], *step["biases"]))


@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_writeable_arrays_changed_in_place_between_batches_are_never_certified_stale(dtype: str) -> None:
    """The attack: a Prepared around arrays that stay writeable (as ``train_step``'s copies do), one batch
    to compute whatever could be cached, then the weights pushed in place to where z overflows."""
    net = reference.prepare(_network(dtype))
    own = prepared.own(net)  # writeable copies, updated in place by train_step
    x, y = _batch(dtype)
    first = own.backprop(x, y)
    assert all(np.isfinite(g).all() for g in first["grad_weights"])
    _push_to_overflow(own)
    expected = _outcome(lambda: reference.backprop(own.case(x, y)))
    got = _outcome(lambda: own.backprop(x, y))
    assert got == expected
    assert expected[0] == "FloatingPointError", expected  # the pushed weights overflow the pass


def _push_to_overflow(net: prepared.Prepared) -> None:
    """In place: tanh's a^2 = 1, relu's z^3 = 4 x (largest / 2) = +inf, w^4 > 0 so z^4 = +inf and
    a^4 = 1: C stays finite, sigma'(z^4) = 0, delta^4 = 0 and dC/dw^4 = 0 x inf = NaN."""
    net.biases[0][...] = 100.0
    net.weights[1][...] = np.finfo(net.dtype).max / 2
    net.weights[2][...] = np.abs(net.weights[2]) + 1


def test_the_attack_needs_the_guard_a_cache_without_it_certifies_a_stale_network() -> None:
    """Negative control: with the ownership guard removed (the constants of the first batch kept for
    writeable arrays), the same attack gets a non-finite result through, so the test above can fail."""
    net = reference.prepare(_network("float32"))
    own = prepared.own(net)
    x, y = _batch("float32")
    own.__dict__["_bounds"] = prepared._bounds_of(own)  # what an unguarded cache would hold
    own.backprop(x, y)
    _push_to_overflow(own)
    outcome = _outcome(lambda: own.backprop(x, y))
    assert outcome[0] == "returned" and not outcome[1], outcome  # returned, and not all finite


def _outcome(call: object) -> tuple[str, bool]:
    """("returned", every array finite) or (the exception's class name, False)."""
    try:
        result = call()  # type: ignore[operator]
    except (FloatingPointError, ValueError) as error:
        return type(error).__name__, False
    arrays = [*result["grad_weights"], *result["grad_biases"], *result["deltas"]]
    return "returned", bool(all(np.isfinite(a).all() for a in arrays) and np.isfinite(result["cost"]))


# The fused common case (``Prepared._plan``, from ``_bounds``): bounded hidden layers, the quadratic cost.
PLAN_ACTIVATIONS = ("tanh", "tanh", "sigmoid")


def _plan_network(dtype: str) -> reference.Network:
    n = _network(dtype)
    return reference.Network(n.sizes, PLAN_ACTIVATIONS, n.cost, n.reduction, dtype, n.weights, n.biases)


def _push_delta_2_to_overflow(net: prepared.Prepared) -> None:
    """In place: w^2 / E with b^2 = 0 and w^3 E (E = LARGEST / 4): a^2 of size 1/E, z^3 and C
    ordinary (targets of 100: ``_far_targets``), delta^2 = (delta^3 w^3) tanh'(z^2) past the largest float."""
    big = np.asarray(np.finfo(net.dtype).max / 4, dtype=net.dtype)
    net.weights[0][...] = net.weights[0] / big
    net.biases[0][...] = 0.0
    net.weights[1][...] = net.weights[1] * big


def _far_targets(dtype: str) -> tuple[np.ndarray, np.ndarray]:
    """``_batch``'s first 4 rows (m <= n_2: the plan's batches) with targets of 100: delta^4 =
    (a^4 - y) sigma'(z^4) of size 25."""
    x = _batch(dtype)[0][:4]
    return x, np.full((4, SIZES[-1]), 100.0, dtype=dtype)


@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_the_plan_is_never_kept_for_writeable_arrays_changed_in_place(dtype: str) -> None:
    net = reference.prepare(_plan_network(dtype))
    assert net._plan is not None  # what prepare owns gets the plan
    own = prepared.own(net)
    x, y = _far_targets(dtype)
    first = own.backprop(x, y)
    assert all(np.isfinite(g).all() for g in first["grad_weights"])
    assert own._plan is None  # writeable arrays: no constants to keep
    _push_delta_2_to_overflow(own)
    expected = _outcome(lambda: reference.backprop(own.case(x, y)))
    assert expected[0] == "FloatingPointError", expected
    assert _outcome(lambda: own.backprop(x, y)) == expected


@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_negative_control_a_plan_kept_for_writeable_arrays_certifies_a_stale_network(dtype: str) -> None:
    net = reference.prepare(_plan_network(dtype))
    own = prepared.own(net)
    x, y = _far_targets(dtype)
    own.__dict__["_bounds"] = prepared._bounds_of(own)  # what an unguarded cache would hold
    own.backprop(x, y)
    assert own._plan is not None
    _push_delta_2_to_overflow(own)
    outcome = _outcome(lambda: own.backprop(x, y))
    assert outcome[0] == "returned" and not outcome[1], outcome  # returned, and not all finite
