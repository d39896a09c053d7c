"""Every cause the diagnosis can name, on hand-built numbers: named where it holds, not where it nearly does.

The causes (conformance/judging/diagnosis.py and factors.py) and where each is tested here:

* a factor k (``factors.HYPOTHESES``: m, 1/m, n_L, 1/n_L, m n_L, 1/(m n_L), 2, 1/2), in words by
  ``diagnosis.claim_text``; else the observed ratio (``factors.ratio_text``);
* relu'(0) other than the judged one (``relu_cause``), with deltas and from the gradients alone,
  in its three wordings (undeclared, against a declared convention, not a subgradient);
* a sigmoid output clipped at +-t (``clip_cause``);
* a saturated output (``saturation_cause`` with deltas, ``saturation_fit`` from the gradients);
* torch's softplus threshold, undeclared (``threshold_cause`` for a layer, ``cost_cause`` for the cost);
* the cost: BCELoss's clamped logarithms (``clamp_cause``), eps inside or around the logarithms
  (``eps_cause``), a cost computed from the rounded output (``a_based_hint``);
* float64 computed in float32 (``float32_cause``).

Each "got" answer is built here by hand in numpy, or by the reference engine under another
convention (``reference.engine.backpropagate``), never by the diagnosis code. The second case a
claim asks for is answered by a probe that runs the same hand-built implementation on it; each
near-miss control is the coincidence the cause's second case (or its band) guards against: an
answer that matches the cause on the first case only. Milliseconds each: no worker, no search.
The end-to-end runs of the catalogue's implementations are in tests/test_conformance_catalogue.py.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import pytest

from conformance.judging.diagnosis import (
    a_based_hint,
    claim_text,
    clamp_cause,
    clip_cause,
    cost_cause,
    eps_cause,
    float32_cause,
    relu_cause,
    saturation_cause,
    saturation_fit,
    threshold_cause,
)
from conformance.judging.factors import Confirmer, Observation, name_factor, ratio_text
from conformance.judging.structure import Result
from conformance.judging.tolerances import expect, with_dtype
from reference import Case
from reference._ops import Array
from reference.engine import backpropagate

from ._written_cases import written_case

Probe = Callable[[Case], Result | None]


def _engine(case: Case, conventions: dict[str, float] | None = None) -> Result:
    """The reference engine's answer in float64, under the given conventions."""
    c64 = with_dtype(case, "float64")
    run = backpropagate(c64, c64.x, c64.y, conventions)
    return Result(list(run.grad_weights), list(run.grad_biases), list(run.deltas), float(run.cost))  # type: ignore[arg-type]


def _sigmoid(z: Array) -> Array:
    return np.where(z >= 0, 1.0 / (1.0 + np.exp(-np.abs(z))), np.exp(-np.abs(z)) / (1.0 + np.exp(-np.abs(z))))


def _one_layer(case: Case, delta_of: Callable[[Array, Array, Array], Array], cost: float | None = None) -> Result:
    """A one-layer network's answer with delta^L = delta_of(z, a, y); the gradients follow from it by
    equations 3 and 4 (x is a^1), the cost is the given one or the engine's."""
    c64 = with_dtype(case, "float64")
    z = c64.x @ c64.weights[0].T + c64.biases[0]
    delta = delta_of(z, _sigmoid(z), c64.y)
    scale = 1.0 / case.m if case.reduction == "mean" else 1.0
    right = _engine(case)
    return Result([scale * delta.T @ c64.x], [scale * delta.sum(axis=0)], [delta], right.cost if cost is None else cost)


def _deltas(result: Result) -> list[Array]:
    """The deltas of an answer that has them (every hand-built one here does)."""
    assert result.deltas is not None
    return result.deltas


def _no_probe(case: Case) -> Result | None:
    raise AssertionError("this cause must not ask for a second case")


# ----- a factor ----------------------------------------------------------------------------------

# Each hypothesis by hand: its value at (m, n_L), and the words claim_text adds for a mean reduction.
FACTORS: dict[str, tuple[Callable[[int, int], float], str]] = {
    "m": (lambda m, n: m, "the 1/m of the mean reduction is missing"),
    "1/m": (lambda m, n: 1 / m, "divided by m twice"),
    "n_L": (lambda m, n: n, "multiplied by the number of outputs"),
    "1/n_L": (lambda m, n: 1 / n, "divided by the number of outputs"),
    "m n_L": (lambda m, n: m * n, "multiplied by the number of samples and of outputs"),
    "1/(m n_L)": (lambda m, n: 1 / (m * n), "a mean over every element"),
    "2": (lambda m, n: 2, "the same factor on every case asked"),
    "1/2": (lambda m, n: 0.5, "the same factor on every case asked"),
}
EXPECTED_R = np.array([1.0, -2.0, 0.5, 3.0])
# The first case and the two second ones (another m, another n_L), as factors.Confirmer asks them.
CASES = ((3, 5), (4, 5), (3, 6))


def _observations(rule: Callable[[int, int], float]) -> list[Observation]:
    return [Observation(rule(m, n) * EXPECTED_R, EXPECTED_R, 1e-14 * np.abs(EXPECTED_R), m, n) for m, n in CASES]


@pytest.mark.parametrize("name", list(FACTORS))
def test_each_factor_is_named_when_every_case_confirms_it(name: str) -> None:
    rule, meaning = FACTORS[name]
    claim = name_factor(_observations(rule))
    assert claim is not None and claim.name == name
    text = claim_text(claim, "mean")
    assert text.startswith("exactly ") and meaning in text, text


@pytest.mark.parametrize("name", [n for n in FACTORS if n not in ("2", "1/2")])
def test_a_constant_equal_to_the_factor_on_the_first_case_is_no_factor(name: str) -> None:
    """The coincidence: k(3, 5) times R on every case. The first case fits the hypothesis, the
    second cases (another m, another n_L) do not: nothing is named."""
    rule, _ = FACTORS[name]
    value = rule(*CASES[0])
    observations = _observations(lambda m, n: value)
    assert observations[0].fits(value)  # the first case alone fits it
    assert name_factor(observations) is None


@pytest.mark.parametrize(("constant", "rule_name", "m"), [("2", "m", 2), ("1/2", "1/m", 2)])
def test_a_constant_factor_is_not_named_where_m_varies_with_it(constant: str, rule_name: str, m: int) -> None:
    """The constants' coincidence: a missing 1/m with m = 2 is 2 on the first case, not on the next."""
    rule, _ = FACTORS[rule_name]
    cases = ((m, 5), (m + 1, 5), (m, 6))
    observations = [Observation(rule(a, b) * EXPECTED_R, EXPECTED_R, 1e-14 * EXPECTED_R, a, b) for a, b in cases]
    assert observations[0].fits(FACTORS[constant][0](m, 5))
    claim = name_factor(observations)
    assert claim is not None and claim.name == rule_name


def test_a_ratio_that_is_no_factor_is_given_as_a_number() -> None:
    """1/22 is no hypothesis: no claim, and the ratio (1/22 = 0.0454545...) in its place."""
    observations = _observations(lambda m, n: 1 / 22)
    assert name_factor(observations) is None
    text = ratio_text(observations[0])
    assert "the observed ratio to the expected value is 0.0454545" in text and "over its 4 elements" in text


# ----- relu'(0) ----------------------------------------------------------------------------------

# Hidden relu unit 1 has a zero weight row and a zero bias: z = 0 exactly, for every sample.
RELU = written_case(
    (2, 2, 1),
    ("relu", "identity"),
    "quadratic",
    weights=[[[0.5, -1.0], [0.0, 0.0]], [[1.5, -2.0]]],
    biases=[[0.25, 0.0], [0.1]],
    x=[[1.0, 2.0], [-1.0, 0.5], [2.0, -0.5]],
    y=[[0.3], [-0.2], [0.7]],
)


def _relu_at(value: float) -> Probe:
    """An implementation with relu'(0) = value: the engine under that convention, on any case."""
    return lambda case: _engine(case, {"relu_prime_at_zero": value})


@pytest.mark.parametrize("with_deltas", [True, False], ids=["deltas", "gradients"])
def test_relu_prime_at_zero_is_named_with_its_value(with_deltas: bool) -> None:
    exp = expect(RELU)
    got = _engine(RELU, {"relu_prime_at_zero": 1.0})
    assert not np.allclose(_deltas(got)[0], exp.deltas[0])  # a failure to explain
    deltas = _deltas(got)[0] if with_deltas else None
    grads = None if with_deltas else (got.grad_biases[0], got.grad_weights[0])
    text = relu_cause(RELU, exp, 0, deltas, grads, Confirmer(RELU, {}, _relu_at(1.0)))
    assert text is not None and "relu'(0) = 1 in this implementation" in text, text
    assert 'declare it: capabilities["conventions"] = {"relu_prime_at_zero": 1}' in text


def test_relu_prime_at_zero_against_a_declared_convention_and_outside_the_subgradients() -> None:
    declared = expect(RELU, {"relu_prime_at_zero": 0.5})
    got = _engine(RELU, {"relu_prime_at_zero": 1.0})
    text = relu_cause(
        RELU, declared, 0, _deltas(got)[0], None, Confirmer(RELU, {"relu_prime_at_zero": 0.5}, _relu_at(1))
    )
    assert text is not None and "its declared convention is relu'(0) = 0.5" in text, text
    bug = _engine(RELU, {"relu_prime_at_zero": 2.0})
    text = relu_cause(RELU, expect(RELU), 0, _deltas(bug)[0], None, Confirmer(RELU, {}, _relu_at(2.0)))
    assert text is not None and "relu'(0) = 2" in text and "not a subgradient of relu" in text, text


def test_relu_prime_at_zero_is_not_named_when_the_second_case_disagrees() -> None:
    """The coincidence: the first case looks like relu'(0) = 1, the case with another m is right."""
    got = _engine(RELU, {"relu_prime_at_zero": 1.0})
    assert relu_cause(RELU, expect(RELU), 0, _deltas(got)[0], None, Confirmer(RELU, {}, _relu_at(0.0))) is None


def test_a_deviation_off_the_zeros_is_no_relu_cause() -> None:
    """The same deviation moved to the unit whose z is not 0: no relu'(0) explains it."""
    exp = expect(RELU)
    got = _engine(RELU, {"relu_prime_at_zero": 1.0})
    moved = exp.deltas[0] + (_deltas(got)[0] - exp.deltas[0])[:, ::-1]
    assert relu_cause(RELU, exp, 0, moved, None, Confirmer(RELU, {}, _relu_at(1.0))) is None


# ----- a clipped sigmoid output ------------------------------------------------------------------

# Sample 0's first output at z = 25 with y = 0 (sigmoid(25) - sigmoid(20) = 2.1e-9), the others
# at |z| <= 10.
SATURATING = written_case(
    (2, 2),
    ("sigmoid",),
    "cross_entropy",
    weights=[[[10.0, 0.0], [0.0, 0.25]]],
    biases=[[5.0, 0.0]],
    x=[[2.0, 2.0], [-1.5, -2.0]],
    y=[[0.0, 1.0], [1.0, 0.0]],
)


def _clipped(case: Case) -> Result:
    """delta^L = sigmoid(clip(z, -20, 20)) - y, by hand."""
    return _one_layer(case, lambda z, a, y: _sigmoid(np.clip(z, -20.0, 20.0)) - y)


def test_a_clipped_sigmoid_is_named() -> None:
    exp = expect(SATURATING)
    got = _clipped(SATURATING)
    assert abs(_deltas(got)[0][0, 0] - exp.deltas[0][0, 0]) > 1e-9  # off at z = 25 only
    text = clip_cause(exp, _deltas(got)[0], Confirmer(SATURATING, {}, _clipped))
    assert text is not None and "clipped at +-20 gives" in text and "the forward pass is clipped" in text, text


def test_a_deviation_as_large_but_not_the_clip_is_no_clip() -> None:
    exp = expect(SATURATING)
    shifted = exp.deltas[0].copy()
    shifted[0, 0] -= 3e-9  # as large as the clip's change, not its value
    assert clip_cause(exp, shifted, Confirmer(SATURATING, {}, _clipped)) is None


def test_a_clip_is_not_named_when_the_unsaturated_case_is_wrong_too() -> None:
    """The coincidence: the clip's values here, and a wrong answer where no output saturates."""

    def wrong(case: Case) -> Result:
        return _one_layer(case, lambda z, a, y: _sigmoid(np.clip(z, -20.0, 20.0)) - y + 0.125)

    got = _clipped(SATURATING)
    assert clip_cause(expect(SATURATING), _deltas(got)[0], Confirmer(SATURATING, {}, wrong)) is None


# ----- a saturated output ------------------------------------------------------------------------

# Sample 0's first output at z = 40 (a rounds to 1 in float64), y = 0; the others at |z| <= 5,
# unsaturated (1 - a > sqrt(u) = 1.05e-8 needs |z| < 18.4).
SATURATED = SATURATING.replace(biases=[np.array([20.0, 0.0])])


def _bce(case: Case) -> Result:
    """BCELoss after Sigmoid, differentiated through the rounded a: delta^L = (a - y) / max(a (1 - a),
    1e-12) * a (1 - a), which is 0 where a rounds to 1."""

    def delta(z: Array, a: Array, y: Array) -> Array:
        slope = a * (1 - a)
        return (a - y) / np.maximum(slope, 1e-12) * slope

    return _one_layer(case, delta)


def _largest_zeroed(case: Case) -> Result:
    """A bug at the largest |z| wherever it is: the same as BCELoss here, wrong on the unsaturated case."""

    def delta(z: Array, a: Array, y: Array) -> Array:
        out = a - y
        out[np.unravel_index(int(np.argmax(np.abs(z))), z.shape)] = 0.0
        return out

    return _one_layer(case, delta)


def test_a_saturated_output_is_named_from_the_deltas() -> None:
    exp = expect(SATURATED)
    got = _bce(SATURATED)
    assert _deltas(got)[0][0, 0] == 0.0 and exp.deltas[0][0, 0] == pytest.approx(1.0)
    text = saturation_cause(
        exp, "float64", _deltas(got)[0], exp.deltas[0], exp.tol_deltas[0], Confirmer(SATURATED, {}, _bce)
    )
    assert text is not None and "sits only where the sigmoid output saturates" in text, text
    assert "delta^L[0, 0] = 0" in text and "(the 3 unsaturated outputs here are right" in text


def test_a_saturated_output_is_named_from_the_gradients() -> None:
    exp = expect(SATURATED)
    got = _bce(SATURATED)
    text = saturation_fit(exp, "float64", got.grad_biases[0], got.grad_weights[0], Confirmer(SATURATED, {}, _bce))
    assert text is not None and "sits only where the sigmoid output saturates" in text, text
    assert "delta^L[0, 0] ~ " in text and "at z^L = 40, where it should be 1" in text


def test_saturation_is_not_named_when_the_unsaturated_case_is_wrong() -> None:
    """The coincidence: wrong only at the saturated output here, but wrong on the case scaled to |z^L| <= 1."""
    exp = expect(SATURATED)
    got = _largest_zeroed(SATURATED)
    assert np.array_equal(_deltas(got)[0], _deltas(_bce(SATURATED))[0])  # the same answer on the first case
    confirmer = Confirmer(SATURATED, {}, _largest_zeroed)
    assert saturation_cause(exp, "float64", _deltas(got)[0], exp.deltas[0], exp.tol_deltas[0], confirmer) is None
    assert saturation_fit(exp, "float64", got.grad_biases[0], got.grad_weights[0], confirmer) is None


def test_a_wrong_unsaturated_output_is_no_saturation() -> None:
    exp = expect(SATURATED)
    got = _deltas(_bce(SATURATED))[0].copy()
    got[1, 1] += 0.25  # an unsaturated output wrong as well
    confirmer = Confirmer(SATURATED, {}, _bce)
    assert saturation_cause(exp, "float64", got, exp.deltas[0], exp.tol_deltas[0], confirmer) is None


def test_no_saturation_for_a_quadratic_cost() -> None:
    """The same saturated output with a quadratic cost: no logarithm of a to lose, no such cause."""
    case = SATURATED.replace(cost="quadratic")
    exp = expect(case)
    wrong = exp.deltas[0].copy()
    wrong[0, 0] = 0.0
    assert exp.deltas[0][0, 0] != 0.0
    assert saturation_cause(exp, "float64", wrong, exp.deltas[0], exp.tol_deltas[0], Confirmer(case, {}, _bce)) is None


# ----- torch's softplus threshold ----------------------------------------------------------------

# Hidden softplus unit 0 at z = 22 (above torch's 20) for sample 0; the rest below.
SOFTPLUS = written_case(
    (1, 2, 1),
    ("softplus", "identity"),
    "quadratic",
    weights=[[[11.0], [0.5]], [[1.0, -1.5]]],
    biases=[[0.0, 0.0], [0.0]],
    x=[[2.0], [0.5]],
    y=[[1.0], [0.0]],
)


def test_torch_softplus_threshold_is_named_for_a_layer_and_for_the_cost() -> None:
    exp = expect(SOFTPLUS)
    got = _engine(SOFTPLUS, {"softplus_threshold": 20.0})
    assert np.linalg.norm(_deltas(got)[0] - exp.deltas[0]) > np.linalg.norm(exp.tol_deltas[0])  # a failure
    text = threshold_cause(SOFTPLUS, exp, 0, _deltas(got)[0], None)
    assert text is not None and text.startswith("layer 2 is right when softplus is z itself above z = 20"), text
    assert got.cost is not None and abs(got.cost - exp.cost) > exp.tol_cost  # the cost is wrong too
    words = cost_cause(
        SOFTPLUS, exp, got.cost, Confirmer(SOFTPLUS, {}, lambda c: _engine(c, {"softplus_threshold": 20}))
    )
    assert words.startswith("; the cost is right when softplus is z itself above z = 20"), words


def test_the_threshold_is_not_named_where_declared_or_where_it_does_not_explain() -> None:
    declared = expect(SOFTPLUS, {"softplus_threshold": 20.0})
    got = _engine(SOFTPLUS, {"softplus_threshold": 20.0})
    shifted = _deltas(got)[0] + 1e-6  # wrong as well where no threshold explains it
    assert threshold_cause(SOFTPLUS, declared, 0, shifted, None) is None
    assert threshold_cause(SOFTPLUS, expect(SOFTPLUS), 0, shifted, None) is None


# ----- the cost: clamped, eps, from the rounded a ------------------------------------------------


def _bce_cost(case: Case) -> float:
    """BCELoss's value by hand: each logarithm of a rounded to the dtype, clamped at -100."""
    c64 = with_dtype(case, "float64")
    a = _sigmoid(c64.x @ c64.weights[0].T + c64.biases[0]).astype(case.dtype).astype(np.float64)
    with np.errstate(divide="ignore"):
        logs = c64.y * np.maximum(np.log(a), -100.0) + (1 - c64.y) * np.maximum(np.log(1 - a), -100.0)
    return float(-np.sum(logs) / case.m)


def _costing(cost_of: Callable[[Case], float]) -> Probe:
    return lambda case: _one_layer(case, lambda z, a, y: a - y, cost_of(case))


def test_a_clamped_cost_is_named() -> None:
    exp = expect(SATURATED)
    cost = _bce_cost(SATURATED)
    assert cost - exp.cost == pytest.approx((100.0 - 40.0) / 2)  # ln(1 - a) at z = 40: -100, not -40; m = 2
    text = clamp_cause(SATURATED, exp, cost, Confirmer(SATURATED, {}, _costing(_bce_cost)))
    assert "every logarithm clamped at -100" in text and "BCEWithLogitsLoss" in text, text


def test_a_cost_off_by_as_much_is_not_called_clamped() -> None:
    exp = expect(SATURATED)
    off = exp.cost + 30.5
    assert clamp_cause(SATURATED, exp, off, Confirmer(SATURATED, {}, _costing(lambda c: off))) == ""


def test_a_clamped_cost_is_not_named_when_the_unsaturated_case_is_wrong() -> None:
    exp = expect(SATURATED)
    wrong = _costing(lambda c: _bce_cost(c) + 1.0)
    assert clamp_cause(SATURATED, exp, _bce_cost(SATURATED), Confirmer(SATURATED, {}, wrong)) == ""


def _eps_cost(eps: float, clipped: bool) -> Callable[[Case], float]:
    """The cross-entropy from a with eps added inside each logarithm, or a clipped to [eps, 1 - eps]."""

    def cost(case: Case) -> float:
        c64 = with_dtype(case, "float64")
        z = c64.x @ c64.weights[0].T + c64.biases[0]
        a, not_a = _sigmoid(z), _sigmoid(-z)
        if clipped:
            logs = c64.y * np.log(np.clip(a, eps, 1 - eps)) + (1 - c64.y) * np.log(np.clip(not_a, eps, 1 - eps))
        else:
            logs = c64.y * np.log(a + eps) + (1 - c64.y) * np.log(not_a + eps)
        return float(-np.sum(logs) / case.m)

    return cost


@pytest.mark.parametrize(
    ("eps", "clipped", "words"),
    [
        (1e-7, False, "added inside each logarithm, eps = 1e-07"),
        (1e-7, True, "clipped to [eps, 1 - eps] before each logarithm, eps = 1e-07"),
        (1e-12, False, "added inside each logarithm, eps = 1e-12"),
    ],
)
def test_eps_in_the_logarithms_is_named(eps: float, clipped: bool, words: str) -> None:
    cost = _eps_cost(eps, clipped)
    text = eps_cause(SATURATED, expect(SATURATED), cost(SATURATED), Confirmer(SATURATED, {}, _costing(cost)))
    assert words in text and "leave eps out" in text, text


def test_eps_is_not_named_when_another_m_disagrees() -> None:
    """The coincidence: the eps cost on the first case, the right cost on the case with another m."""
    cost = _eps_cost(1e-7, False)(SATURATED)
    right = _costing(lambda c: _engine(c).cost or 0.0)
    assert eps_cause(SATURATED, expect(SATURATED), cost, Confirmer(SATURATED, {}, right)) == ""


def _naive_cost(case: Case) -> float:
    """Cross-entropy from z, with ln(1 + e^z) taken naively: infinite once e^z overflows (z > 709.8)."""
    c64 = with_dtype(case, "float64")
    z = c64.x @ c64.weights[0].T + c64.biases[0]
    with np.errstate(over="ignore"):
        per = c64.y * np.log1p(np.exp(-z)) + (1 - c64.y) * np.log1p(np.exp(z))
    return float(np.sum(per) / case.m)


def _from_rounded_a(case: Case) -> float:
    """Cross-entropy from the rounded a: infinite where a rounds to 1 and y < 1."""
    c64 = with_dtype(case, "float64")
    a = _sigmoid(c64.x @ c64.weights[0].T + c64.biases[0])
    with np.errstate(divide="ignore", invalid="ignore"):
        return float(-np.sum(c64.y * np.log(a) + (1 - c64.y) * np.log(1 - a)) / case.m)


# The first output at z = 800 and 765: a rounds to 1, e^z overflows; every target 0 there.
OVERFLOWING = SATURATED.replace(biases=[np.array([780.0, 0.0])], y=np.array([[0.0, 1.0], [0.0, 0.0]]))


def test_a_cost_from_the_rounded_output_is_told_to_use_z() -> None:
    exp = expect(OVERFLOWING)
    assert np.isinf(_from_rounded_a(OVERFLOWING))
    text = a_based_hint(
        OVERFLOWING, exp, _from_rounded_a(OVERFLOWING), Confirmer(OVERFLOWING, {}, _costing(_from_rounded_a))
    )
    assert "rounds to exactly 0 or 1 in float64" in text and "compute the cost from z^L instead" in text, text


def test_a_cost_from_z_that_overflows_is_not_told_to_use_z() -> None:
    """The coincidence: infinite here like an a-based cost, but finite where a rounds to 1 and e^z does not
    overflow (the second case, ``factors.ROUNDS_TO_ONE``)."""
    exp = expect(OVERFLOWING)
    assert np.isinf(_naive_cost(OVERFLOWING))
    assert (
        a_based_hint(OVERFLOWING, exp, _naive_cost(OVERFLOWING), Confirmer(OVERFLOWING, {}, _costing(_naive_cost)))
        == ""
    )


# ----- float64 computed in float32 ---------------------------------------------------------------

FLOAT64 = written_case(
    (3, 2),
    ("sigmoid",),
    "quadratic",
    weights=[[[0.3, -1.2, 0.7], [1.1, 0.4, -0.9]]],
    biases=[[0.1, -0.3]],
    x=[[0.2, -0.7, 1.3], [1.9, 0.05, -0.6], [-1.1, 0.8, 0.35]],
    y=[[0.2, 0.9], [0.6, 0.1], [0.4, 0.5]],
)


def _in_float32(case: Case) -> Result:
    """The reference engine run on the inputs rounded to float32, returned as float64 numbers."""
    c32 = with_dtype(case, "float32")
    run = backpropagate(c32, c32.x, c32.y)
    return Result(
        [np.asarray(g, np.float64) for g in run.grad_weights],
        [np.asarray(g, np.float64) for g in run.grad_biases],
        [np.asarray(d, np.float64) for d in run.deltas],
        float(run.cost),  # type: ignore[arg-type]
    )


def test_float32_arithmetic_is_named() -> None:
    got = _in_float32(FLOAT64)
    assert not np.array_equal(got.grad_weights[0], _engine(FLOAT64).grad_weights[0])
    assert float32_cause(FLOAT64, expect(FLOAT64), got, {}, Confirmer(FLOAT64, {}, _in_float32))


ONE_CLASS = written_case(
    (2, 1),
    ("softmax",),
    "log_likelihood",
    weights=[[[0.3, -1.2]]],
    biases=[[0.1]],
    x=[[0.2, -0.7], [1.9, 0.05]],
    y=[[1.0], [1.0]],
)


def test_float32_arithmetic_is_not_named_where_the_exact_answer_is_float32_numbers() -> None:
    """Softmax over one class: a^L = 1, so every gradient, delta and C is exactly 0, a float32 number in
    any arithmetic. The correct float64 answer there (and on the case with another m) is no evidence of
    float32 (it was named so in CI, on a timeout at sizes (6, 1))."""
    exact = _engine(ONE_CLASS)
    values = [*exact.grad_weights, *exact.grad_biases, *(exact.deltas or []), np.asarray(exact.cost)]
    assert all(np.all(v == 0) for v in values)  # the coincidence this case is built on
    assert not float32_cause(ONE_CLASS, expect(ONE_CLASS), exact, {}, Confirmer(ONE_CLASS, {}, _engine))


def test_float32_arithmetic_is_not_named_for_float64_numbers_or_when_another_m_is_float64() -> None:
    got = _in_float32(FLOAT64)
    nudged = Result(got.grad_weights, [g * (1 + 1e-12) for g in got.grad_biases], got.deltas, got.cost)
    assert not float32_cause(
        FLOAT64, expect(FLOAT64), nudged, {}, Confirmer(FLOAT64, {}, _in_float32)
    )  # not float32 numbers
    # The coincidence: float32 numbers here, a float64 answer on the case with another m.
    assert not float32_cause(FLOAT64, expect(FLOAT64), got, {}, Confirmer(FLOAT64, {}, _engine))
    # A float32 case has no such cause.
    case32 = with_dtype(FLOAT64, "float32")
    assert not float32_cause(case32, expect(case32), got, {}, Confirmer(case32, {}, _no_probe))
