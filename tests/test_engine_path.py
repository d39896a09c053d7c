"""One engine path: ``engine.backpropagate`` runs the pass, and everything else reads it.

Its z, a and C are bit for bit those of the forward-only views (``feedforward``, ``evaluate_cost``),
in every array kind and under declared conventions, including a saturated sigmoid layer, where
``sigma_and_prime`` takes its guarded branch. The conformance suite's expected values are the
pass's own. Negative controls: a one-ulp change of one weight is seen by the same comparisons.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import mpmath
import numpy as np
import pytest

from conformance.judging import tolerances
from reference import Case, Network, engine, validate
from reference._ops import Array
from reference.precision import case_to_mp

ARCHITECTURES = [
    ((3, 4, 2), ("sigmoid", "sigmoid"), "quadratic"),
    ((3, 5, 4, 2), ("tanh", "relu", "sigmoid"), "cross_entropy"),
    ((2, 4, 3), ("softplus", "softmax"), "log_likelihood"),
    ((3, 3, 2), ("identity", "tanh"), "quadratic"),
]
CONVENTIONS: list[Mapping[str, float] | None] = [None, {"relu_prime_at_zero": 1.0, "softplus_threshold": 0.5}]


def _case(
    sizes: tuple[int, ...], activations: tuple[str, ...], cost: str, dtype: str = "float64", x_scale: float = 1.0
) -> Case:
    net = Network.random(sizes, activations, cost, "mean", dtype, seed=3)
    rng = np.random.default_rng(4)
    x = x_scale * rng.standard_normal((5, sizes[0]))
    if cost == "log_likelihood":
        y = np.eye(sizes[-1])[rng.integers(sizes[-1], size=5)]
    else:
        y = rng.uniform(size=(5, sizes[-1]))
    return validate(net.case(x.astype(dtype), y.astype(dtype)))


def _identical(got: Sequence[Array], want: Sequence[Array]) -> bool:
    """Same length, dtypes and values, bit for bit (mpf objects compare exactly too)."""
    return len(got) == len(want) and all(
        g.dtype == w.dtype and g.shape == w.shape and bool(np.all(g == w)) for g, w in zip(got, want, strict=True)
    )


def _assert_views_agree(c: Case, conventions: Mapping[str, float] | None = None) -> None:
    p = engine.backpropagate(c, c.x, c.y, conventions)
    z, a = engine.feedforward(c, c.x, conventions)
    assert _identical(p.z, z), "backpropagate's z^l differ from feedforward's"
    assert _identical(p.a, a), "backpropagate's a^l differ from feedforward's"
    cost = engine.evaluate_cost(c, c.x, c.y, conventions)
    assert type(p.cost) is type(cost) and p.cost == cost, (p.cost, cost)
    assert len(p.sigma_prime) == len(p.z)
    for name, prime in zip(c.activations, p.sigma_prime, strict=True):
        assert (prime is None) == (name == "softmax")


@pytest.mark.parametrize("conventions", CONVENTIONS)
@pytest.mark.parametrize("dtype", ["float64", "float32"])
@pytest.mark.parametrize(("sizes", "activations", "cost"), ARCHITECTURES)
def test_forward_views_are_the_pass_bit_for_bit(
    sizes: tuple[int, ...],
    activations: tuple[str, ...],
    cost: str,
    dtype: str,
    conventions: Mapping[str, float] | None,
) -> None:
    _assert_views_agree(_case(sizes, activations, cost, dtype), conventions)


@pytest.mark.parametrize(("dtype", "below"), [("float64", -708.0), ("float32", -87.0)])
def test_a_saturated_sigmoid_layer_gives_the_same_a_in_both_views(dtype: str, below: float) -> None:
    # z^l below the point where e^{-z} overflows: sigma_and_prime's guarded branch, whose a^l once
    # differed from sigma's (e r against 1 / (1 + e^{-z})) in every negative entry of the layer.
    c = _case((3, 4, 2), ("sigmoid", "sigmoid"), "quadratic", dtype, x_scale=2000.0)
    with np.errstate(all="ignore"):
        z, _ = engine.feedforward(c, c.x)
        assert float(np.min(z[0])) < below, "the case no longer reaches the guarded branch"
        _assert_views_agree(c)


def test_forward_views_are_the_pass_in_mpmath() -> None:
    c = _case((2, 3, 2), ("tanh", "sigmoid"), "cross_entropy")
    with mpmath.workdps(30):
        _assert_views_agree(case_to_mp(c))


@pytest.mark.parametrize("conventions", CONVENTIONS)
@pytest.mark.parametrize("dtype", ["float64", "float32"])
@pytest.mark.parametrize(("sizes", "activations", "cost"), ARCHITECTURES)
def test_expected_values_are_the_passs(
    sizes: tuple[int, ...],
    activations: tuple[str, ...],
    cost: str,
    dtype: str,
    conventions: Mapping[str, float] | None,
) -> None:
    case = _case(sizes, activations, cost, dtype)
    expected = tolerances.expect(case, conventions)
    c64 = tolerances.with_dtype(case, "float64")
    p = engine.backpropagate(c64, c64.x, c64.y, conventions)
    assert _identical(expected.z, p.z)
    assert _identical(expected.a, p.a)
    assert _identical(expected.deltas, p.deltas)
    assert _identical(expected.grad_weights, p.grad_weights)
    assert _identical(expected.grad_biases, p.grad_biases)
    assert expected.cost == float(p.cost)  # type: ignore[arg-type]


def test_negative_control_one_ulp_of_one_weight_is_seen() -> None:
    case = _case(*ARCHITECTURES[1])
    expected = tolerances.expect(case)
    w = [v.copy() for v in case.weights]
    w[0][0, 0] = np.nextafter(w[0][0, 0], np.inf)
    nudged = case.replace(weights=w)
    p = engine.backpropagate(nudged, nudged.x, nudged.y)
    assert not _identical(expected.z, p.z)
    assert not _identical(expected.grad_weights, p.grad_weights)
    assert not _identical(engine.feedforward(case, case.x)[0], engine.feedforward(nudged, nudged.x)[0])
