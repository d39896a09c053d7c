"""Issue 17: every cause the suite names is true.

A cause is a claim (a factor k, a clamp, saturation, float32 arithmetic, a float32 learning
rate, state). These tests reproduce the misdiagnoses the issue lists, each on hand-built
values (milliseconds: the diagnosis functions, or one case judged in process) and each with
its positive control, so that an assertion "the cause is not named" cannot pass by naming
nothing ever. The end-to-end runs of the new catalogue entries are in
tests/test_conformance_catalogue.py.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import numpy as np
import pytest

from conformance import load_implementation, replay
from conformance.judging.checks import CaseChecker
from conformance.judging.diagnosis import _cost_values, clamp_cause, clamped_costs
from conformance.judging.factors import HYPOTHESES, TIGHT, Confirmer, Observation, name_factor, survivors
from conformance.judging.findings import FLOAT32_PRECISION, CaseReport
from conformance.judging.structure import Result
from conformance.judging.tolerances import expect
from conformance.reporting.casefile import save_case
from conformance.reporting.report import Collector
from reference import Case, validate

from .broken_impls import (
    Backprop,
    CostDividedByOutputs,
    EpsInsideTheLog,
    Float32Accumulation,
    ForwardCachedByShape,
    LearningRateInFloat32,
    SgdStepIgnoresEta,
)

Rule = Callable[[int, int], float]
# The sweep of the issue: factors k as functions of (m, n_L).
RULES: dict[str, Rule] = {
    "1/n_L": lambda m, n: 1.0 / n,
    "2": lambda m, n: 2.0,
    "1/2": lambda m, n: 0.5,
    "0.039": lambda m, n: 0.039,
    "1/22": lambda m, n: 1.0 / 22,
}
# The rules the suite must name (the others are no hypothesis of factors.HYPOTHESES: numbers only).
NAMEABLE = {"1/n_L", "2", "1/2"}


def _case(m: int, n_L: int, dtype: str = "float64", cost: str = "quadratic", out: str = "sigmoid") -> Case:
    rng = np.random.default_rng(100 * m + n_L)
    y = rng.uniform(0.0, 1.0, (m, n_L))
    if out == "softmax":
        y = y / y.sum(axis=1, keepdims=True)
    return validate(
        SimpleNamespace(
            sizes=(3, n_L),
            activations=(out,),
            cost=cost,
            reduction="mean",
            dtype=dtype,
            weights=[rng.standard_normal((n_L, 3)).astype(dtype)],
            biases=[rng.standard_normal(n_L).astype(dtype)],
            x=rng.standard_normal((m, 3)).astype(dtype),
            y=y.astype(dtype),
        )
    )


def _cost_probe(rule: Rule, calls: list[Case]) -> Callable[[Case], Result]:
    """An implementation whose cost is rule(m, n_L) times the right one, on any case."""

    def probe(case: Case) -> Result:
        calls.append(case)
        exp = expect(case)
        return Result(exp.grad_weights, exp.grad_biases, None, rule(case.m, case.sizes[-1]) * exp.cost)

    return probe


def _same_rule(name: str, rule: Rule, m: int, n: int) -> bool:
    """Whether the named hypothesis is the rule itself on the case and on the two second cases."""
    named = dict(HYPOTHESES)[name]
    return all(np.isclose(named(a, b), rule(a, b)) for a, b in ((m, n), (m + 1, n), (m, n + 1)))


# ----- the sweep: never a factor that is not k ------------------------------------------------------


@pytest.mark.parametrize("dtype", ["float64", "float32"])
@pytest.mark.parametrize("rule_name", list(RULES))
def test_the_factor_sweep_never_names_a_factor_that_is_not_k(rule_name: str, dtype: str) -> None:
    rule = RULES[rule_name]
    for m in (1, 2, 3, 4):
        for n in (1, 2, 3, 4):
            k = rule(m, n)
            if k == 1.0:
                continue  # no failure to explain
            case = _case(m, n, dtype)
            exp = expect(case)
            calls: list[Case] = []
            first = Observation(np.asarray(k * exp.cost), np.asarray(exp.cost), np.asarray(exp.tol_cost), m, n)
            claim = Confirmer(case, {}, _cost_probe(rule, calls)).claim(first, _cost_values)
            if rule_name in NAMEABLE:
                assert claim is not None, (rule_name, m, n)
                assert _same_rule(claim.name, rule, m, n), (rule_name, m, n, claim)
                assert len(claim.seen) >= 2  # confirmed on a second case
            else:
                assert claim is None, (rule_name, m, n, claim)
            assert len(calls) <= 2


def test_a_ratio_near_a_factor_is_not_that_factor() -> None:
    """0.254 is not 1/4, 0.039 not 1/25 or 1/26, 2.02 not 2: each off by more than the band."""
    r = np.array([1.0, -2.0, 0.5])
    tol = 1e-12 * np.abs(r)
    for wrong, near in ((0.254, 0.25), (0.039, 0.04), (0.039, 1 / 26), (2.02, 2.0)):
        assert not Observation(wrong * r, r, tol, 4, 26).fits(near)
    assert Observation(0.25 * r, r, tol, 4, 4).fits(0.25)  # positive control


def test_no_factor_is_named_where_the_tolerance_is_nearly_the_value() -> None:
    """A float32 cost of 106.8 once allowed 92: a factor 2 there is inside the tolerance, not a claim."""
    first = Observation(np.asarray(213.6), np.asarray(106.8), np.asarray(92.0), 2, 2)
    assert not first.fits(2.0) and survivors([first]) == []
    calls: list[Case] = []
    claim = Confirmer(_case(2, 2), {}, _cost_probe(lambda m, n: 2.0, calls)).claim(first, _cost_values)
    assert claim is None and calls == []  # nothing is asked when nothing fits
    # The band is from the error model: (k + 1) ||T|| / ||R|| must stay within TIGHT k.
    assert Observation(np.asarray(2.0), np.asarray(1.0), np.asarray(TIGHT * 2 / 3 * 0.99), 2, 2).fits(2.0)
    assert not Observation(np.asarray(2.0), np.asarray(1.0), np.asarray(TIGHT * 2 / 3 * 1.01), 2, 2).fits(2.0)


def test_a_single_case_never_names_a_factor() -> None:
    r = np.array([1.0, 2.0])
    only = Observation(3 * r, r, 1e-14 * r, 3, 2)
    assert survivors([only]) == [("m", 3.0)]
    assert name_factor([only]) is None  # unconfirmed


def test_m_equal_to_n_L_is_told_apart_by_the_second_cases() -> None:
    """1/n_L with n_L = m = 2 was called "divided by m twice": another n_L tells them apart."""
    case = _case(2, 2)
    exp = expect(case)
    first = Observation(np.asarray(exp.cost / 2), np.asarray(exp.cost), np.asarray(exp.tol_cost), 2, 2)
    assert {name for name, _ in survivors([first])} == {"1/m", "1/n_L", "1/2"}
    claim = Confirmer(case, {}, _cost_probe(RULES["1/n_L"], [])).claim(first, _cost_values)
    assert claim is not None and claim.name == "1/n_L"
    claim = Confirmer(case, {}, _cost_probe(lambda m, n: 1.0 / m, [])).claim(first, _cost_values)
    assert claim is not None and claim.name == "1/m"


def test_without_an_answer_on_the_second_case_nothing_is_named() -> None:
    case = _case(3, 2)
    exp = expect(case)
    first = Observation(np.asarray(3 * exp.cost), np.asarray(exp.cost), np.asarray(exp.tol_cost), 3, 2)
    assert Confirmer(case, {}, lambda c: None).claim(first, _cost_values) is None
    assert Confirmer(case, {}, None).claim(first, _cost_values) is None


# ----- the misdiagnoses of the issue, one case each, judged in process ------------------------------


def _findings(impl: Any, case: Case, eta: float = 0.1) -> list[tuple[str, int | None, str]]:
    report = CaseChecker(load_implementation(impl, in_process=True)).run(case, eta, list(range(case.m)))
    assert report is not None
    return [(f.check, f.layer, f.message) for f in report.findings if f.status == "failed"]


def test_a_cost_divided_by_n_L_with_m_equal_to_n_L_is_not_blamed_on_m() -> None:
    [(check, layer, message)] = _findings(CostDividedByOutputs(), _case(2, 2))
    assert (check, layer) == ("cost", None)
    assert "exactly 1/n_L = 1/2 times" in message and "number of outputs" in message, message
    assert "1/m" not in message and "m = 2 times" not in message
    assert "on its error" in message and "layer's error norm" not in message  # a scalar has no layer norm


def test_a_cost_divided_by_22_is_reported_by_its_ratio() -> None:
    """scikit-learn's cost was 1/22 of the truth and called "exactly m = 2 times"."""

    class Over22(Backprop):
        def cost_value(self, case: Any, z_L: Any, a_L: Any, y: Any, scale: float) -> float:
            return super().cost_value(case, z_L, a_L, y, scale) / 22

    [(check, _, message)] = _findings(Over22(), _case(2, 2))
    assert check == "cost" and "exactly" not in message
    assert "the observed ratio to the expected value is 0.0454545" in message, message


class _TanhPrimeOfZ(Backprop):
    """tanh' written 1 - z*z."""

    def sigma_prime(self, name: str, z: Any, a: Any) -> Any:
        return 1.0 - z * z if name == "tanh" else super().sigma_prime(name, z, a)


class _SigmaPrimeDropped(Backprop):
    """The quadratic cost's delta^L without sigma'(z^L)."""

    def output_delta(self, cost: str, name: str, z: Any, a: Any, y: Any) -> Any:
        return a - y if cost == "quadratic" else super().output_delta(cost, name, z, a, y)


def test_tanh_prime_as_one_minus_z_squared_with_m_4_is_no_factor() -> None:
    case = _case(4, 2, out="tanh")
    findings = _findings(_TanhPrimeOfZ(), case)
    assert findings and findings[0][:2] == ("equation1", 2)
    assert all("exactly" not in message for _, _, message in findings), findings
    assert "observed ratio" in findings[0][2]


def test_sigma_prime_at_zero_is_a_quarter_not_one_over_m() -> None:
    """All z = 0: sigma' dropped makes the deltas exactly 4 times the right ones, and m = 4."""
    zero = _case(4, 2)
    case = zero.replace(weights=[np.zeros_like(zero.weights[0])], biases=[np.zeros_like(zero.biases[0])])
    findings = _findings(_SigmaPrimeDropped(), case)
    assert findings[0][:2] == ("equation1", 2)
    message = findings[0][2]
    assert "exactly" not in message and "m = 4" not in message, message
    assert "the observed ratio to the expected value is 4" in message, message


def test_a_factor_m_that_is_one_is_still_named_when_confirmed() -> None:
    """Positive control of the two above: a true missing 1/m with m = 4 is named."""

    class NoOneOverM(Backprop):
        def gradient_scale(self, reduction: str, m: int) -> float:
            return 1.0

    findings = _findings(NoOneOverM(), _case(4, 2))
    assert [f[:2] for f in findings] == [("reduction", 2)]
    assert "exactly m = 4 times" in findings[0][2] and "1/m of the mean reduction is missing" in findings[0][2]


def _saturated_cross_entropy(dtype: str = "float64") -> Case:
    """One sigmoid output at z = 30 and y = 0: the exact cost is 30, BCELoss's (a rounded to 1) 100."""
    return validate(
        SimpleNamespace(
            sizes=(1, 1),
            activations=("sigmoid",),
            cost="cross_entropy",
            reduction="sum",
            dtype=dtype,
            weights=[np.zeros((1, 1), dtype)],
            biases=[np.array([40.0], dtype)],
            x=np.ones((1, 1), dtype),
            y=np.zeros((1, 1), dtype),
        )
    )


class _CostShifted(Backprop):
    """A cost computed from z, off by a fixed amount: wrong, but no clamp."""

    shift = 5.0

    def cost_value(self, case: Any, z_L: Any, a_L: Any, y: Any, scale: float) -> float:
        return super().cost_value(case, z_L, a_L, y, scale) + self.shift


class _BCELossCost(Backprop):
    """torch's BCELoss value: each logarithm of the rounded a clamped at -100."""

    def cost_value(self, case: Any, z_L: Any, a_L: Any, y: Any, scale: float) -> float:
        with np.errstate(divide="ignore"):
            logs = y * np.maximum(np.log(a_L), -100) + (1 - y) * np.maximum(np.log(1 - a_L), -100)
        return float(-np.sum(logs) * scale)


def test_a_wrong_cost_is_not_called_clamped_unless_it_is() -> None:
    case = _saturated_cross_entropy()
    exp = expect(case)
    assert clamped_costs(exp, case.dtype)  # the clamped value exists and differs from the exact one
    [(check, _, message)] = _findings(_CostShifted(), case)
    assert check == "cost" and "clamped" not in message, message
    confirmer = Confirmer(case, {}, None)
    assert clamp_cause(case, exp, exp.cost + 5.0, confirmer) == ""
    # Positive control: BCELoss's own value is named, confirmed on the unsaturated case.
    [(check, _, message)] = _findings(_BCELossCost(), case)
    assert check == "cost" and "clamped at -100" in message and "|z^L| <= 1 is right" in message, message


class _QuadraticFlooredSlope(Backprop):
    """The quadratic cost's delta^L with sigma' floored at 1e-10: wrong only where the output saturates."""

    def output_delta(self, cost: str, name: str, z: Any, a: Any, y: Any) -> Any:
        if cost == "quadratic":
            return (a - y) * np.maximum(self.sigma_prime(name, z, a), 1e-10)
        return super().output_delta(cost, name, z, a, y)


def test_no_saturation_advice_for_a_quadratic_cost() -> None:
    case = _saturated_cross_entropy().replace(cost="quadratic")
    findings = _findings(_QuadraticFlooredSlope(), case)
    assert findings and findings[0][:2] == ("equation1", 2)
    message = findings[0][2]
    assert "BCEWithLogitsLoss" not in message and "saturates" not in message, message


class _NaiveSoftplusCost(Backprop):
    """Cross-entropy from z, but ln(1 + e^z) taken naively: infinite once e^z overflows (z > 709.8)."""

    def cost_value(self, case: Any, z_L: Any, a_L: Any, y: Any, scale: float) -> float:
        with np.errstate(over="ignore"):
            per = y * np.log1p(np.exp(-z_L)) + (1 - y) * np.log1p(np.exp(z_L))
        return float(np.sum(per) * scale)


def test_a_cost_from_z_is_not_told_to_compute_the_cost_from_z() -> None:
    case = _saturated_cross_entropy().replace(biases=[np.array([800.0])])
    [(check, _, message)] = _findings(_NaiveSoftplusCost(), case)
    assert check == "cost" and "compute the cost from z^L" not in message, message


# ----- float64 computed in float32: one finding -----------------------------------------------------


def test_float32_arithmetic_is_named_once_on_every_failure() -> None:
    findings = _findings(Float32Accumulation(), _case(3, 2))
    assert findings
    assert all(FLOAT32_PRECISION in message for _, _, message in findings), findings


class _Float32Matmul(Backprop):
    """Mixed precision: the products in float32, the rest in float64 (float64 numbers returned)."""

    def grad_weights(self, delta: Any, a_prev: Any, a_here: Any, scale: float) -> Any:
        return (delta.astype(np.float32).T @ a_prev.astype(np.float32)).astype(np.float64) * scale


class _TinyBug(Backprop):
    """A bug of 1e-9 relative, smaller than float32's rounding: not float32 arithmetic."""

    def output_delta(self, cost: str, name: str, z: Any, a: Any, y: Any) -> Any:
        return super().output_delta(cost, name, z, a, y) * (1 + 1e-9)


@pytest.mark.parametrize("impl", [_Float32Matmul(), _TinyBug()], ids=["mixed", "tiny bug"])
def test_float32_precision_is_not_claimed_where_values_are_float64(impl: Backprop) -> None:
    findings = _findings(impl, _case(3, 2))
    assert findings
    assert all(FLOAT32_PRECISION not in message for _, _, message in findings), findings


# ----- a learning rate held in float32 --------------------------------------------------------------


def test_a_learning_rate_held_in_float32_is_named() -> None:
    [(check, _, message)] = _findings(LearningRateInFloat32(), _case(3, 2), eta=0.1)
    assert check == "sgd_step" and "the learning rate is held in float32" in message, message
    assert "0.10000000149011612" in message


def test_a_dropped_learning_rate_is_not_a_float32_one() -> None:
    [(check, _, message)] = _findings(SgdStepIgnoresEta(), _case(3, 2), eta=0.1)
    assert check == "sgd_step" and "float32" not in message, message


def test_a_float32_learning_rate_is_right_for_a_float32_case() -> None:
    assert _findings(LearningRateInFloat32(), _case(3, 2, dtype="float32"), eta=0.1) == []


# ----- state carried between calls ------------------------------------------------------------------


@pytest.mark.suite
def test_state_the_replay_says_the_case_passes_alone(tmp_path: Path) -> None:
    first, second = _case(3, 2), _case(3, 2).replace(x=_case(3, 2).x + 1.0)
    impl = ForwardCachedByShape()
    assert not [f for f in _findings(impl, first) if f[0].startswith("equation")]
    failed = _findings(impl, second)
    assert failed and failed[0][:2] == ("equation1", 2)
    path = save_case(
        tmp_path,
        second,
        eta=0.1,
        permutation=(0, 1, 2),
        check="equation1",
        layer=2,
        message=failed[0][2],
        implementation=load_implementation(impl, in_process=True).name,
    )
    again = replay(path, ForwardCachedByShape())
    assert {v.status for v in again.verdicts if v.check == "equation1"} == {"passed"}
    assert "equation1 at layer 2 passes when this case is asked alone" in again.settings["alone"]
    assert "depends on the calls made before it" in again.header()
    # Negative control: a bug that fails alone too gets no such note.
    wrong = replay(path, CostDividedByOutputs())
    assert "alone" not in wrong.settings


# ----- item 4: tolerances that catch a halved cost --------------------------------------------------


class _HalvedCost(Backprop):
    def cost_value(self, case: Any, z_L: Any, a_L: Any, y: Any, scale: float) -> float:
        return super().cost_value(case, z_L, a_L, y, scale) / 2


def test_a_halved_cost_fails_in_float32_where_the_output_saturates() -> None:
    """z^L = 30, y = 0, float32: the exact cost is 30. The bound of a cost computed from the rounded
    a allows more than 15 there (ln(1 - a) of an a within u32 of 1); undeclared, the bound of a
    cost computed from z does not, and the halved cost fails."""
    case = _saturated_cross_entropy("float32").replace(biases=[np.array([30.0], np.float32)])
    undeclared, declared = expect(case), expect(case, {"cost_from_activations": 1.0})
    assert declared.tol_cost > declared.cost / 2 > 100 * undeclared.tol_cost
    findings = _findings(_HalvedCost(), case)
    assert [f[:2] for f in findings] == [("cost", None)], findings
    # m = n_L = 1: 1/m and 1/n_L are 1 there, so the factor is the constant 1/2, seen on two cases
    assert "exactly 1/2 times the expected value (observed ratio 0.5 at m = 1, n_L = 1; 0.5 at m = 2" in findings[0][2]


def test_a_cost_only_failure_leaves_the_batch_properties_judged() -> None:
    impl = load_implementation(CostDividedByOutputs(), in_process=True)
    case = _case(3, 2)
    report = CaseChecker(impl).run(case, 0.1, [2, 0, 1])
    assert report is not None
    statuses = {f.check: f.status for f in report.findings}
    assert statuses["cost"] == "failed"
    assert statuses["batch_additivity"] == statuses["permutation"] == "passed"


# ----- eps inside a logarithm -----------------------------------------------------------------------


def test_eps_inside_the_log_is_named_with_its_value() -> None:
    case = _case(3, 2, cost="cross_entropy")
    [(check, _, message)] = _findings(EpsInsideTheLog(), case)
    assert check == "cost" and "added inside each logarithm, eps = 1e-07" in message, message


def test_a_cost_shifted_by_a_constant_is_no_eps() -> None:
    """Negative control: wrong by about as much as eps, but not the eps cost."""
    case = _case(3, 2, cost="cross_entropy")
    exp = expect(case)

    class Shifted(Backprop):
        def cost_value(self, case: Any, z_L: Any, a_L: Any, y: Any, scale: float) -> float:
            return super().cost_value(case, z_L, a_L, y, scale) + 3e-7

    [(check, _, message)] = _findings(Shifted(), case)
    assert check == "cost" and "eps" not in message, message
    assert exp.tol_cost < 3e-9  # the shift is far outside the tolerance: a failure, with no cause


# ----- item 5: words that say one thing -------------------------------------------------------------


def test_gradients_doubled_with_m_2_are_not_blamed_on_the_reduction() -> None:
    class Doubled(Backprop):
        def gradient_scale(self, reduction: str, m: int) -> float:
            return 2.0 * super().gradient_scale(reduction, m)

    findings = _findings(Doubled(), _case(2, 3))
    checks = {f[0] for f in findings}
    assert "reduction" not in checks and "equation3" in checks, findings
    message = next(f[2] for f in findings if f[0] == "equation3")
    assert "exactly 2 times the expected value" in message and "1/m" not in message, message


def test_without_deltas_the_output_layer_has_no_layers_above() -> None:
    class Wrong(Backprop):
        capabilities = {"outputs": ["cost"]}

        def output_delta(self, cost: str, name: str, z: Any, a: Any, y: Any) -> Any:
            return super().output_delta(cost, name, z, a, y) + 0.25

        def backprop(self, case: Any) -> dict[str, Any]:
            result = super().backprop(case)
            del result["deltas"]
            return result

    findings = _findings(Wrong(), _case(3, 2))
    message = next(f[2] for f in findings if f[0] == "equation3")
    assert "both gradients of layer 2 are wrong at the output layer" in message, message
    assert "layers above" not in message


def test_never_more_root_causes_than_failed_verdicts() -> None:
    """Two wordings of one failed verdict (the same check, layer and dtype) are one root cause."""
    collector = Collector()
    for words in ("delta^L; one thing", "delta^L; another thing"):
        report = CaseReport(_case(2, 2), 0.1, (0, 1))
        report.add("equation1", 2, "failed", words)
        collector.add(report)
    assert collector.failures() == 1
    causes = collector.causes()
    assert len(causes) == 1 and causes[0][0].cases == 2
    # Negative control: two failed verdicts keep their two causes.
    report = CaseReport(_case(2, 2), 0.1, (0, 1))
    report.add("cost", None, "failed", "cost; a third thing")
    collector.add(report)
    assert len(collector.causes()) == 2


# ----- saturation without deltas: more saturated samples than equations -----------------------------


class _ClampedNoDeltas(Backprop):
    """BCELoss after Sigmoid, gradients only: delta^L collapses where a (1 - a) < 1e-12."""

    capabilities = {"outputs": ["cost"]}

    def output_delta(self, cost: str, name: str, z: Any, a: Any, y: Any) -> Any:
        slope = a * (1 - a)
        return (a - y) / np.maximum(slope, 1e-12) * slope

    def backprop(self, case: Any) -> dict[str, Any]:
        result = super().backprop(case)
        del result["deltas"]
        return result


class _KeptSigmaPrimeNoDeltas(_ClampedNoDeltas):
    def output_delta(self, cost: str, name: str, z: Any, a: Any, y: Any) -> Any:
        return (a - y) * a * (1 - a)


FOUR_SATURATED = validate(
    SimpleNamespace(
        sizes=(1, 1),
        activations=("sigmoid",),
        cost="cross_entropy",
        reduction="mean",
        dtype="float64",
        weights=[np.array([[2.0]])],
        biases=[np.array([30.0])],
        x=np.array([[1.0], [2.0], [3.0], [4.0]]),  # z^L = 32 to 38: 4 unknowns, 2 equations
        y=np.array([[0.0], [1.0], [0.0], [0.5]]),
    )
)


def test_saturation_without_deltas_is_fitted_sample_by_sample() -> None:
    findings = _findings(_ClampedNoDeltas(), FOUR_SATURATED)
    assert findings and findings[0][:2] == ("equation3", 2)
    assert "where the sigmoid output saturates" in findings[0][2], findings[0][2]


def test_a_bug_at_every_output_is_not_fitted_as_saturation() -> None:
    findings = _findings(_KeptSigmaPrimeNoDeltas(), FOUR_SATURATED)
    assert findings and all("saturates" not in message for _, _, message in findings), findings
