"""Declared conventions (relu'(0), a softplus threshold) and the diagnoses that name a cause.

Issue 12, items 1 and 2: an implementation is judged exactly under the convention it
declares, and a failure that a convention or a saturated output explains says so, with the
value used and the cure. Expected values here come from arithmetic written in the tests or
from independent code (tests/broken_impls/base.py, tests/styles/), never from the reference.
Each style's figures (cases, time) are printed by ``pytest -s``.
"""

from __future__ import annotations

import math
import re
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from conformance import Report, check_implementation
from conformance.implementations.capabilities import CapabilitiesError, parse_capabilities
from conformance.implementations.loader import load_implementation
from conformance.judging.checks import CaseChecker
from conformance.judging.tolerances import Unusable, expect, norm_mismatch
from reference import Case
from reference.activations import relu_prime, sigma, sigma_and_prime, sigma_prime, softplus, softplus_prime

from ._written_cases import written_case
from .broken_impls import CATALOGUE, Backprop, ReluPrimeAtZeroIsHalf, SeedTypo
from .styles.hips_style import HipsStyle
from .styles.mlfromscratch_style import MlFromScratchStyle

HERE = Path(__file__).resolve().parent


def _run(impl: Any, **options: Any) -> Report:
    options.setdefault("quick", True)
    t0 = time.monotonic()
    report = check_implementation(impl, failures_dir=None, **options)
    name = options.get("impl_cmd") or getattr(impl, "__name__", type(impl).__name__)
    print(f"{name}: {report.examples} cases in {time.monotonic() - t0:.1f} s")
    return report


def _messages(report: Report) -> list[str]:
    return [v.message for v in report.failed()]


def _findings(impl: Any, case: Case) -> list[tuple[str, int | None, str]]:
    """The failed findings of one case, judged in process (no search: the case is the point)."""
    report = CaseChecker(load_implementation(impl, in_process=True)).run(case, 0.1, list(range(case.m)))
    assert report is not None
    return [(f.check, f.layer, f.message) for f in report.findings if f.status == "failed"]


# ----- the declaration ---------------------------------------------------------------------------


def test_declared_conventions_are_parsed_as_floats() -> None:
    caps = parse_capabilities({"conventions": {"relu_prime_at_zero": 1, "softplus_threshold": 20}})
    assert caps.conventions == {"relu_prime_at_zero": 1.0, "softplus_threshold": 20.0}
    assert all(type(v) is float for v in caps.conventions.values())
    assert parse_capabilities({}).conventions == {} == parse_capabilities(None).conventions
    assert parse_capabilities({"conventions": {"relu_prime_at_zero": np.float32(0.5)}}).conventions == {
        "relu_prime_at_zero": 0.5
    }


@pytest.mark.parametrize(
    ("conventions", "expected"),
    [
        ({"relu_prime": 0.5}, ["'relu_prime'", "does not know", "relu_prime_at_zero", "softplus_threshold"]),
        ({"relu_prime_at_zero": 1.5}, ["'relu_prime_at_zero'", "1.5", "out of range", "[0, 1]"]),
        ({"relu_prime_at_zero": -0.0001}, ["out of range", "[0, 1]"]),
        ({"relu_prime_at_zero": math.nan}, ["nan", "out of range"]),
        ({"relu_prime_at_zero": True}, ["must be a number", "bool True"]),
        ({"relu_prime_at_zero": "0.5"}, ["must be a number", "str '0.5'"]),
        ({"relu_prime_at_zero": None}, ["must be a number", "NoneType"]),
        ({"softplus_threshold": 5}, ["'softplus_threshold'", "5", "out of range", ">= 10"]),
        ({"softplus_threshold": math.inf}, ["inf", "out of range", "finite"]),
        ([("relu_prime_at_zero", 0.5)], ["must be a mapping", "list"]),
    ],
)
def test_a_bad_convention_is_an_error_naming_the_field(conventions: Any, expected: list[str]) -> None:
    with pytest.raises(CapabilitiesError) as error:
        parse_capabilities({"conventions": conventions})
    text = str(error.value)
    assert "capabilities['conventions']" in text
    for fragment in expected:
        assert fragment in text, (fragment, text)


# ----- the engine computes with them, and by default exactly as before ----------------------------


def test_relu_prime_at_zero_is_a_parameter_with_the_default_zero() -> None:
    z = np.array([-1.0, -0.0, 0.0, 2.0**-1074, 3.0])
    assert relu_prime(z).tolist() == [0.0, 0.0, 0.0, 1.0, 1.0]
    assert relu_prime(z, 0.5).tolist() == [0.0, 0.5, 0.5, 1.0, 1.0]
    assert relu_prime(z.astype(np.float32), 1.0).dtype == np.float32
    assert sigma_prime("relu", z, {"relu_prime_at_zero": 0.5}).tolist() == [0.0, 0.5, 0.5, 1.0, 1.0]
    # the forward pass does not depend on relu'(0)
    assert sigma("relu", z, {"relu_prime_at_zero": 0.5}).tolist() == sigma("relu", z).tolist()


def test_the_softplus_threshold_makes_it_the_identity_above_it_only() -> None:
    z = np.array([-30.0, 19.5, 20.0, 20.5, 40.0])
    exact = [math.log1p(math.exp(v)) for v in z]
    assert np.allclose(softplus(z), exact, rtol=1e-15, atol=0)
    cut = softplus(z, 20.0)
    assert cut[:3].tolist() == softplus(z)[:3].tolist()  # z <= 20: ln(1 + e^z) (torch: x * beta > threshold)
    assert cut[3:].tolist() == [20.5, 40.0]  # exactly z
    slope = softplus_prime(z, 20.0)
    assert slope[3:].tolist() == [1.0, 1.0]
    assert slope[2] == 1 / (1 + math.exp(-20.0)) != 1.0
    a, prime = sigma_and_prime("softplus", z, {"softplus_threshold": 20.0})
    assert a.tolist() == cut.tolist() and prime is not None and prime.tolist() == slope.tolist()


def test_without_conventions_the_default_code_runs_unchanged() -> None:
    rng = np.random.default_rng(3)
    z = np.concatenate([rng.standard_normal(50) * 30, [0.0, -0.0, 20.0, 25.0]])
    for name in ("sigmoid", "tanh", "relu", "identity", "softplus"):
        base_a, base_p = sigma_and_prime(name, z)
        for conventions in (None, {}, {"relu_prime_at_zero": 0.0}):
            a, p = sigma_and_prime(name, z, conventions)
            assert a.tobytes() == base_a.tobytes() and p is not None and base_p is not None
            assert p.tobytes() == base_p.tobytes(), name


class _ReluHalfForeign(Backprop):
    """The independent numpy backprop with relu'(0) = 0.5: the values a declared 0.5 must give."""

    def sigma_prime(self, name: str, z: np.ndarray, a: np.ndarray) -> np.ndarray:
        if name == "relu":
            return np.where(z > 0, 1.0, np.where(z == 0, 0.5, 0.0))
        return super().sigma_prime(name, z, a)


class _SoftplusCutForeign(Backprop):
    """The independent numpy backprop with softplus the identity above 20."""

    def sigma(self, name: str, z: np.ndarray) -> np.ndarray:
        value = super().sigma(name, z)
        return np.where(z > 20, z, value) if name == "softplus" else value

    def sigma_prime(self, name: str, z: np.ndarray, a: np.ndarray) -> np.ndarray:
        value = super().sigma_prime(name, z, a)
        return np.where(z > 20, 1.0, value) if name == "softplus" else value


ZERO_UNIT = written_case(
    (2, 3, 1),
    ("relu", "identity"),
    weights=[[[0.5, -0.25], [0.0, 0.0], [1.0, 0.75]], [[0.5, -1.0, 0.25]]],
    biases=[[0.125, 0.0, -0.5], [0.0]],
    x=[[1.0, 2.0], [-1.0, 0.5]],
    y=[[0.25], [-0.5]],
)


def test_the_reference_judges_under_the_declared_relu_prime() -> None:
    """z^2_1 is exactly 0 (a zero row, a zero bias): only there does relu'(0) enter."""
    default, half = expect(ZERO_UNIT), expect(ZERO_UNIT, {"relu_prime_at_zero": 0.5})
    assert (half.z[0][:, 1] == 0).all()
    foreign = _ReluHalfForeign().backprop(ZERO_UNIT)
    for field, got, tol in (
        ("deltas", half.deltas, half.tol_deltas),
        ("grad_weights", half.grad_weights, half.tol_weights),
        ("grad_biases", half.grad_biases, half.tol_biases),
    ):
        for i, (g, t) in enumerate(zip(got, tol, strict=True)):
            assert norm_mismatch(np.asarray(foreign[field][i]), g, t) is None, (field, i)
    # delta^2_1 = relu'(0) ((w^3)^T delta^3)_1 = 0.5 * (-1) * delta^3, per sample
    assert np.allclose(half.deltas[0][:, 1], -0.5 * half.deltas[1][:, 0], rtol=1e-15)
    assert (default.deltas[0][:, 1] == 0).all() and (half.deltas[0][:, 1] != 0).all()
    assert np.array_equal(default.deltas[1], half.deltas[1])  # layers above the zeros: unchanged


SOFTPLUS_25 = written_case(
    (1, 2, 1),
    ("softplus", "identity"),
    weights=[[[1.0], [0.5]], [[0.75, -0.5]]],
    biases=[[17.0, 0.25], [0.125]],
    x=[[8.0], [-2.0]],  # z^2_0 = 25 and 15: one each side of 20
    y=[[1.0], [0.0]],
)


def test_the_reference_judges_under_the_declared_softplus_threshold() -> None:
    cut = expect(SOFTPLUS_25, {"softplus_threshold": 20})
    foreign = _SoftplusCutForeign().backprop(SOFTPLUS_25)
    plain = Backprop().backprop(SOFTPLUS_25)
    for i in range(2):
        assert norm_mismatch(np.asarray(foreign["grad_weights"][i]), cut.grad_weights[i], cut.tol_weights[i]) is None
        assert norm_mismatch(np.asarray(foreign["deltas"][i]), cut.deltas[i], cut.tol_deltas[i]) is None
    # The deviation is far beyond rounding: the plain softplus fails under the threshold, and vice versa.
    assert norm_mismatch(np.asarray(plain["grad_weights"][1]), cut.grad_weights[1], cut.tol_weights[1]) is not None
    default = expect(SOFTPLUS_25)
    assert (
        norm_mismatch(np.asarray(foreign["grad_weights"][1]), default.grad_weights[1], default.tol_weights[1])
        is not None
    )


def test_a_pre_activation_at_the_declared_threshold_is_not_judged() -> None:
    """softplus jumps by log1p(e^-20) at the threshold: a z within rounding of it has no fair verdict."""
    at = written_case((1, 1), ("softplus",), weights=[[[1.0]]], biases=[[0.0]], x=[[20.0]], y=[[0.5]])
    expect(at)  # no threshold declared: fine
    with pytest.raises(Unusable, match="softplus_threshold"):
        expect(at, {"softplus_threshold": 20})
    above = written_case((1, 1), ("softplus",), weights=[[[1.0]]], biases=[[0.0]], x=[[20.5]], y=[[0.5]])
    expect(above, {"softplus_threshold": 20})


# ----- diagnoses: relu'(0) ------------------------------------------------------------------------


class _ReluHalf(_ReluHalfForeign):
    capabilities = {"activations": ["relu", "identity"]}


class _ReluTwo(Backprop):
    """relu'(0) = 2: not a subgradient, so a bug whatever is declared."""

    def sigma_prime(self, name: str, z: np.ndarray, a: np.ndarray) -> np.ndarray:
        if name == "relu":
            return np.where(z > 0, 1.0, np.where(z == 0, 2.0, 0.0))
        return super().sigma_prime(name, z, a)


class _ReluPrimeBySign(Backprop):
    """relu'(0) chosen per unit by the sign of what it multiplies: no single convention explains it."""

    def hidden_delta(self, w_next: Any, delta_next: Any, a_next: Any, z: Any, a: Any, name: str) -> Any:
        p = delta_next @ w_next
        return p * np.where(z > 0, 1.0, np.where(z == 0, (p > 0).astype(float), 0.0))


TWO_ZERO_UNITS = written_case(
    (1, 2, 1),
    ("relu", "identity"),
    weights=[[[0.0], [0.0]], [[1.0, -1.0]]],
    biases=[[0.0, 0.0], [0.5]],
    x=[[1.0]],
    y=[[0.0]],
)


def test_relu_prime_at_zero_is_named_with_the_value_and_the_declaration() -> None:
    findings = _findings(_ReluHalf(), ZERO_UNIT)
    assert [(c, layer) for c, layer, _ in findings] == [("equation2", 2)]
    message = findings[0][2]
    for fragment in (
        "exactly 0 in this relu layer",
        "relu'(0) = 0.5 in this implementation",
        "the contract's default is relu'(0) = 0",
        'capabilities["conventions"] = {"relu_prime_at_zero": 0.5}',
    ):
        assert fragment in message, message


def test_a_declared_convention_that_the_code_does_not_follow_is_named() -> None:
    class DeclaresOne(_ReluHalf):
        capabilities: dict[str, Any] = {"conventions": {"relu_prime_at_zero": 1}}

    [(check, layer, message)] = _findings(DeclaresOne(), ZERO_UNIT)
    assert (check, layer) == ("equation2", 2)
    assert "relu'(0) = 0.5 in this implementation, but its declared convention is relu'(0) = 1" in message


class _ReluThird(Backprop):
    """relu'(0) = 1/3: no short decimal; the value shown must still be one that, declared, passes."""

    def sigma_prime(self, name: str, z: np.ndarray, a: np.ndarray) -> np.ndarray:
        if name == "relu":
            return np.where(z > 0, 1.0, np.where(z == 0, 1 / 3, 0.0))
        return super().sigma_prime(name, z, a)


def test_the_value_shown_for_relu_prime_is_one_that_passes_when_declared() -> None:
    [(_, _, message)] = _findings(_ReluThird(), ZERO_UNIT)
    found = re.search(r'"relu_prime_at_zero": ([0-9.e-]+)\}', message)
    assert found is not None, message
    value = float(found.group(1))
    assert abs(value - 1 / 3) < 1e-12

    class Declared(_ReluThird):
        capabilities: dict[str, Any] = {"conventions": {"relu_prime_at_zero": value}}

    assert _findings(Declared(), ZERO_UNIT) == []
    assert _findings(_ReluThird(), ZERO_UNIT)  # negative control: undeclared, it fails


def test_relu_prime_outside_the_subgradient_is_a_bug_not_a_convention() -> None:
    [(_, _, message)] = _findings(_ReluTwo(), ZERO_UNIT)
    assert "relu'(0) = 2 in this implementation, which is not a subgradient" in message
    assert "declare" not in message


def test_no_single_relu_prime_no_relu_diagnosis() -> None:
    """Negative control: wrong only at exact zeros, but with 1 at one unit and 0 at the other."""
    [(check, layer, message)] = _findings(_ReluPrimeBySign(), TWO_ZERO_UNITS)
    assert (check, layer) == ("equation2", 2)
    assert "relu'(0)" not in message


def test_a_bug_elsewhere_is_not_blamed_on_relu_prime() -> None:
    """Negative control: the seed's typo on a case with exact zeros is wrong at the other units too."""

    class Typo(SeedTypo):
        capabilities = {"activations": ["relu", "identity"]}

    [(check, layer, message)] = _findings(Typo(), ZERO_UNIT)
    assert (check, layer) == ("equation2", 2) and "relu'(0)" not in message


# ----- diagnoses: saturated outputs ----------------------------------------------------------------


class _Clamped(Backprop):
    """torch's BCELoss derivative through a Sigmoid: (a - y) / max(a (1 - a), 1e-12) * a (1 - a)."""

    def output_delta(self, cost: str, name: str, z: Any, a: Any, y: Any) -> Any:
        slope = a * (1 - a)
        return (a - y) / np.maximum(slope, 1e-12) * slope


class _ClampedGradientsOnly(_Clamped):
    capabilities = {"outputs": ["cost"]}

    def backprop(self, case: Any) -> dict[str, Any]:
        result = super().backprop(case)
        del result["deltas"]
        return result


class _KeptSigmaPrime(Backprop):
    """Cross-entropy with sigma' kept: wrong wherever sigma' is not 1, saturated or not."""

    def output_delta(self, cost: str, name: str, z: Any, a: Any, y: Any) -> Any:
        return (a - y) * a * (1 - a)


MIXED_OUTPUT = written_case(
    (2, 2),
    ("sigmoid",),
    weights=[[[10.0, 5.0], [0.5, -0.25]]],
    biases=[[20.0, 0.125]],
    x=[[1.0, 0.5], [0.25, -1.0]],  # output 0 at z = 32.5 and 17.5; output 1 unsaturated
    y=[[0.0, 1.0], [1.0, 0.0]],
    cost="cross_entropy",
)


@pytest.mark.parametrize(
    ("impl", "check"),
    [(_Clamped(), "equation1"), (_ClampedGradientsOnly(), "equation3")],
    ids=["deltas", "gradients only"],
)
def test_a_failure_only_at_saturated_outputs_names_the_cost_from_a_and_the_cure(impl: Backprop, check: str) -> None:
    first = _findings(impl, MIXED_OUTPUT)[0]
    assert first[:2] == (check, 2)
    message = first[2]
    for fragment in (
        "the disagreement sits only where the sigmoid output saturates",
        "delta^L[0, 0]",
        "z^L = 32.5",
        "BCELoss",
        "clamp",
        "compute the cost from z^L instead (BCEWithLogitsLoss",
    ):
        assert fragment in message, message


def test_a_bug_at_unsaturated_outputs_is_not_blamed_on_saturation() -> None:
    """Negative control: sigma' kept is wrong at the unsaturated output too."""
    findings = _findings(_KeptSigmaPrime(), MIXED_OUTPUT)
    assert findings and findings[0][:2] == ("equation1", 2)
    assert all("saturates" not in message for _, _, message in findings)


# ----- the catalogue: each new cause with its message ---------------------------------------------

# Every catalogue entry names its cause (tests/test_conformance_catalogue.py); these are the conventions'.
CONVENTION_CAUSES = {
    "ReluPrimeAtZeroIsOne",
    "ReluPrimeAtZeroIsHalf",
    "ReluPrimeAtZeroIsHalfWithoutDeltas",
    "ClampedCrossEntropy",
    "ClampedCrossEntropyWithoutDeltas",
}
WITH_MESSAGE = [cls for cls in CATALOGUE if cls.__name__ in CONVENTION_CAUSES]


def test_the_catalogue_holds_the_new_causes() -> None:
    names = {cls.__name__ for cls in WITH_MESSAGE}
    assert {
        "ReluPrimeAtZeroIsOne",
        "ReluPrimeAtZeroIsHalf",
        "ReluPrimeAtZeroIsHalfWithoutDeltas",
        "ClampedCrossEntropy",
        "ClampedCrossEntropyWithoutDeltas",
    } <= names


@pytest.mark.suite
@pytest.mark.parametrize("broken", WITH_MESSAGE, ids=lambda cls: cls.__name__)
def test_each_new_cause_has_its_expected_message(broken: type[Backprop]) -> None:
    assert broken.EXPECTED is not None
    report = _run(
        broken(), quick=getattr(broken, "QUICK", True), dtypes=["float64"], regimes=broken.REGIMES or ["zeros"]
    )
    verdict = next(v for v in report.failed() if (v.check, v.layer) == broken.EXPECTED)
    for fragment in broken.MESSAGE:  # type: ignore[attr-defined]
        assert fragment in verdict.message, verdict.message


# ----- the styles: conform with the convention declared, fail naming it without -------------------


@pytest.mark.suite
@pytest.mark.parametrize(
    ("style", "value"), [(HipsStyle, "0.5"), (MlFromScratchStyle, "1")], ids=["hips-autograd", "ml-from-scratch"]
)
def test_a_style_conforms_with_its_convention_declared(style: type, value: str) -> None:
    report = _run(style(declare=True))
    assert report.ok, report.format()
    assert {v.dtype for v in report.verdicts if v.status == "passed"} == {"float64", "float32"}
    # Quick mode draws 4 architectures per group; 30 cases (10 architectures) reach exact relu zeros.
    undeclared = _run(style(declare=False), dtypes=["float64"], regimes=["zeros"], max_examples=30)
    assert not undeclared.ok
    messages = _messages(undeclared)
    assert messages and all(f"relu'(0) = {value} in this implementation" in m for m in messages), messages
    assert all(f'{{"relu_prime_at_zero": {value}}}' in m for m in messages)


def test_the_hips_style_really_uses_one_half() -> None:
    """The style's relu'(0) comes from balanced_eq, not from a constant: checked on its own gradient."""
    case = written_case((1, 1), ("relu",), weights=[[[0.0]]], biases=[[0.0]], x=[[1.0]], y=[[2.0]])
    result = HipsStyle().backprop(case)
    # C = 1/2 (relu(z) - 2)^2 at z = 0: dC/db = (0 - 2) * relu'(0) = -1 with relu'(0) = 0.5
    assert result["grad_biases"][0].tolist() == [-1.0]


@pytest.mark.suite
def test_a_json_lines_program_declares_conventions_in_its_capabilities_answer() -> None:
    program = HERE / "styles" / "hips_jsonlines.py"
    for declare, ok in (("declare", True), ("undeclared", False)):
        command = f"{sys.executable} {program} {declare}"
        report = _run(None, impl_cmd=command, dtypes=["float64"], regimes=["zeros"], max_examples=30)
        assert report.ok is ok, report.format()
    assert any("relu'(0) = 0.5" in m for m in _messages(report))


@pytest.mark.suite
def test_the_reference_itself_is_unaffected_by_the_foreign_half() -> None:
    """Positive control for the catalogue entry: ReluPrimeAtZeroIsHalf declared is right."""

    class Declared(ReluPrimeAtZeroIsHalf):
        capabilities: dict[str, Any] = {
            "activations": ["relu", "identity"],
            "conventions": {"relu_prime_at_zero": 0.5},
        }

    assert _run(Declared(), dtypes=["float64"], regimes=["zeros", "typical"]).ok


# ----- PyTorch: BCEWithLogitsLoss conforms (its softplus threshold declared); Sigmoid + BCELoss does not


def _torch_style() -> Any:
    pytest.importorskip("torch", exc_type=ImportError)
    from .styles import torch_style

    return torch_style


SOFTPLUS_HIDDEN = written_case(
    (1, 2, 1),
    ("softplus", "sigmoid"),
    weights=[[[1.0], [0.5]], [[0.125, -0.25]]],
    biases=[[17.0, 0.25], [0.5]],
    x=[[8.0], [-2.0]],  # z^2_0 = 25 and 15: torch's nn.Softplus is z itself at 25
    y=[[1.0], [0.0]],
    cost="cross_entropy",
)


@pytest.mark.suite
def test_pytorch_with_bce_with_logits_conforms() -> None:
    torch_style = _torch_style()
    report = _run(torch_style.TorchLogits())
    assert report.ok, report.format()
    assert {v.dtype for v in report.verdicts if v.status == "passed"} == {"float64", "float32"}
    assert any("output layer: tanh, relu, softplus" in line for line in report.not_covered)


def test_pytorch_softplus_threshold_is_named_when_undeclared() -> None:
    torch_style = _torch_style()
    assert _findings(torch_style.TorchLogits(declare=True), SOFTPLUS_HIDDEN) == []
    findings = _findings(torch_style.TorchLogits(declare=False), SOFTPLUS_HIDDEN)
    assert findings, "torch's softplus threshold passed undeclared"
    for _, _, message in findings:
        assert "softplus is z itself above z = 20" in message
        assert 'capabilities["conventions"] = {"softplus_threshold": 20}' in message


@pytest.mark.suite
def test_pytorch_sigmoid_with_bceloss_fails_where_the_output_saturates() -> None:
    torch_style = _torch_style()
    findings = _findings(torch_style.TorchSigmoidBCELoss(), MIXED_OUTPUT)
    assert findings[0][:2] == ("equation3", 2)
    for fragment in ("where the sigmoid output saturates", "BCELoss", "BCEWithLogitsLoss"):
        assert fragment in findings[0][2]
    assert _findings(torch_style.TorchLogits(), MIXED_OUTPUT) == []  # the same case, the cost from z
    report = _run(torch_style.TorchSigmoidBCELoss(), regimes=["saturating"])
    assert not report.ok
    assert {v.check for v in report.failed()} <= {"equation3", "equation4", "cost"}
    assert any("where the sigmoid output saturates" in v.message for v in report.failed()), report.format()


@pytest.mark.suite
def test_the_autograd_package_conforms_with_its_relu_convention_and_is_named_without() -> None:
    """HIPS autograd from its package (optional): np.maximum's tie rule gives relu'(0) = 0.5."""
    pytest.importorskip("autograd", reason="HIPS autograd is an optional test dependency (pip install autograd)")
    from .styles.autograd_pkg import AutogradNet

    declared = _run(AutogradNet(declare=True), dtypes=["float64"])
    assert declared.ok, declared.format()
    undeclared = _run(AutogradNet(declare=False), dtypes=["float64"], regimes=["zeros"], max_examples=30)
    assert not undeclared.ok
    messages = _messages(undeclared)
    assert messages and all("relu'(0) = 0.5 in this implementation" in m for m in messages), messages
