"""Short reprs: every user-facing result is one line, short, and leads with its verdict.

A repr is what a REPL, a debugger and a failing assert show. The full account stays in
``str()`` / ``.message`` and in the fields. Each verdict word is checked on a result that has it
(pass, fail, inconclusive, built by hand where a run would be slow), so a repr that always said
"pass" would fail here; long names given by the user are cut, not let through.
"""

from __future__ import annotations

import math

import numpy as np
import pytest

import reference
from conformance.reporting.report import Report, Verdict
from reference.case import Case, Network
from reference.gradcheck import GradcheckResult, TensorReport
from reference.numerical.central import NumericGradient
from reference.numerical.directional import DirectionalCheck, DirectionalResult, SlopeResult

LIMIT = 150


def _short(text: str) -> str:
    assert "\n" not in text, text
    assert len(text) <= LIMIT, (len(text), text)
    return text


def _tensor(name: str, failed: int = 0, inconclusive: int = 0, nonfinite: tuple[str, ...] = ()) -> TensorReport:
    """A report as judge_gradient makes one: 6 entries, worst [1, 2] at 2.5e-3 against 1e-8."""
    return TensorReport(
        name, 2, (2, 3), "central differences (x)", 1e-3, 2.5e-3, "[1, 2]", 0.4, 0.401, 2.5e-3, 1e-8, 2.0**-17,
        6, failed, inconclusive, nonfinite=list(nonfinite),
    )  # fmt: skip


def _numeric() -> NumericGradient:
    return NumericGradient("central differences (x)", [np.zeros((2, 3))], [np.zeros((2, 3))], [np.zeros((2, 3))], 0.0)


@pytest.fixture(scope="module")
def net() -> Network:
    return Network.random((3, 4, 4, 4, 2), ("tanh", "tanh", "tanh", "sigmoid"), seed=1)


@pytest.fixture(scope="module")
def case(net: Network) -> Case:
    rng = np.random.default_rng(0)
    return net.case(rng.standard_normal((5, 3)), rng.uniform(0, 1, (5, 2)))


def test_network_case_prepared_forward_and_training(net: Network, case: Case) -> None:
    arch = "sizes (3, 4, 4, 4, 2), tanh x3, sigmoid, quadratic (mean), float64"
    assert _short(repr(net)) == f"<Network {arch}, 66 parameters>"
    assert _short(repr(case)) == f"<Case {arch}, 66 parameters, x (5, 3)>"
    assert _short(repr(reference.prepare(net))) == f"<Prepared {arch}, 66 parameters>"
    assert _short(repr(reference.forward(case))) == "<Forward m = 5: a^1..a^5 of widths 3, 4, 4, 4, 2>"
    trained = reference.train(net, case.x, case.y, eta=0.5, epochs=3, mini_batch_size=2)
    text = _short(repr(trained))
    assert text.startswith("<TrainResult 3 epochs, C ") and text.endswith(f"; {arch}>")
    first, last = (float(v) for v in text.split("C ")[1].split(";")[0].split(" -> "))
    assert (first, last) == (float(f"{trained.costs[0]:.4g}"), float(f"{trained.costs[-1]:.4g}"))


def test_a_deep_network_stays_on_one_short_line() -> None:
    deep = Network.random((8,) * 16, ("relu",) * 14 + ("identity",), seed=0)
    assert "relu x14, identity" in _short(repr(deep))


def test_an_unvalidated_case_still_has_a_repr() -> None:
    """A repr is read when something is wrong: a Case of lists, or of None, must not make it raise."""
    odd = Case((2, 1), ("sigmoid",), "quadratic", "mean", "float64", [[[1.0, 2.0]]], None, [[0.0, 1.0]], None)  # type: ignore[arg-type, list-item]
    assert _short(repr(odd)) == "<Case sizes (2, 1), sigmoid, quadratic (mean), float64, ? parameters, x (1, 2)>"


def test_gradcheck_results_name_their_verdict(case: Case) -> None:
    result = reference.gradcheck(case)
    text = _short(repr(result))
    assert text.startswith(
        "<GradcheckResult pass: central differences, 8 tensors, 66 entries, 0 failed, 0 inconclusive;"
    )
    assert _short(repr(result.tensors[0])).startswith("<TensorReport dC/dw^2 pass: 12 entries, 0 failed")
    full = str(result)  # the detail is still there
    assert full == result.message and full.count("\n") == 8 and str(result.tensors[0]) == result.tensors[0].message


def test_a_failing_gradcheck_names_the_entry() -> None:
    def cost(p: list[np.ndarray]) -> float:
        return float(np.sum(p[0] ** 2))

    wrong = reference.gradcheck(cost, params=[np.ones(3)], gradient=[np.array([2.0, 2.0, 2.5])])
    assert _short(repr(wrong)) == (
        "<GradcheckResult fail: central differences, 1 tensor, 3 entries, 1 failed, 0 inconclusive; "
        f"worst dC/dparams[0][2] rel. error {reference.numerical.formatting.fmt_sci(0.5 / 2.5)} > "
        f"{reference.numerical.formatting.fmt_sci(wrong.tensors[0].worst_tolerance)}>"
    )


WORST = "worst dC/dw^2[1, 2] rel. error 2.5e-3"
NAN = ("dC/dw^2[0, 1]: analytic nan is not finite",)


@pytest.mark.parametrize(
    ("tensors", "verdict", "counts", "worst"),
    [
        (
            [_tensor("w^2", failed=1), _tensor("b^2")],
            "fail",
            "2 tensors, 12 entries, 1 failed, 0 inconclusive",
            f"; {WORST} > 1.0e-8",
        ),
        (
            [_tensor("w^2", inconclusive=2)],
            "inconclusive",
            "1 tensor, 6 entries, 0 failed, 2 inconclusive",
            f"; {WORST} <= 1.0e-8",
        ),
        ([_tensor("w^2", inconclusive=6)], "inconclusive", "1 tensor, 6 entries, 0 failed, 6 inconclusive", ""),
        (
            [_tensor("w^2", failed=1, nonfinite=NAN)],
            "fail",
            "1 tensor, 6 entries, 1 failed, 0 inconclusive",
            "; dC/dw^2[0, 1] not finite",
        ),
    ],
)
def test_each_verdict_is_named(tensors: list[TensorReport], verdict: str, counts: str, worst: str) -> None:
    result = GradcheckResult("central differences (x)", tensors, _numeric())
    assert _short(repr(result)) == f"<GradcheckResult {verdict}: central differences, {counts}{worst}>"


def test_a_long_user_name_is_cut() -> None:
    long_name = "a_parameter_with_a_very_long_name_" * 6
    report = _tensor(long_name, failed=1)
    assert _short(repr(report)).endswith("...>")
    assert _short(repr(GradcheckResult("central", [report], _numeric()))).startswith("<GradcheckResult fail:")


def test_directional_results() -> None:
    good = DirectionalCheck("all parameters", None, (0, 0, 0), 1.0, 1.0 + 1e-12, 1e-10, 1e-12, 2.0**-17)
    bad = DirectionalCheck("w^2", 0, (0, 0, 1), 1.0, 1.5, 1e-10, 1e-12, 2.0**-17)
    unsure = DirectionalCheck("b^2", 1, (0, 0, 2), 1.0, math.nan, math.inf, 0.0, 2.0**-17, None, "steps disagree")
    assert _short(repr(good)).startswith("<DirectionalCheck dC/dp pass: seed [0, 0, 0], <g, d> = 1, numeric 1,")
    assert _short(repr(bad)).startswith("<DirectionalCheck dC/dw^2 fail: seed [0, 0, 1], <g, d> = 1, numeric 1.5,")
    assert _short(repr(unsure)).startswith("<DirectionalCheck dC/db^2 inconclusive: seed [0, 0, 2]")
    assert _short(repr(DirectionalResult([good, bad, unsure], 40, 1e-16))) == (
        "<DirectionalResult fail: 3 directions, 1 failed, 1 inconclusive, 40 evaluations of C>"
    )
    assert _short(repr(DirectionalResult([good], 12, 1e-16, ["dC/dw^2[0, 0] is nan"]))) == (
        "<DirectionalResult fail: 1 direction, 0 failed, 0 inconclusive, 1 non-finite entry, 12 evaluations of C>"
    )
    slope = SlopeResult(True, 3, [], [], [], [2.9, 1.02, 0.98], "fail", 1.0)
    assert _short(repr(slope)) == "<SlopeResult fail: symmetric, expected order 3, observed 0.98>"


def test_the_other_checks_of_a_run(case: Case) -> None:
    large = reference.large_model_check(case)
    halves = f"directional {large.directional.verdict}, entrywise {large.entrywise.verdict}"
    assert _short(repr(large)).startswith(f"<LargeModelResult {large.verdict}: {halves} (")
    truth = reference.mp_ground_truth(case, digits=30)
    assert _short(repr(truth)).startswith("<MpGroundTruth 30 digits, confirmed: 8 tensors, worst discrepancy ")
    numeric = reference.central_differences(reference.from_case(case))
    assert _short(repr(numeric)).startswith(
        "<NumericGradient central differences: 8 tensors, 66 entries differentiated,"
    )


def test_report_names_its_outcome() -> None:
    passed = Verdict("structure", None, "passed", "passed", dtype="float64")
    failed = Verdict("equation2", 2, "failed", "wrong", dtype="float64")
    ok = Report("mynet", {}, [passed], examples=90)
    assert _short(repr(ok)) == "<Report CONFORMS: 1 passed, 0 failed, 0 blocked, 0 not covered, 90 cases; mynet>"
    bad = Report("mynet:" + "x" * 200, {}, [passed, failed], examples=12)
    assert _short(repr(bad)).startswith(
        "<Report DOES NOT CONFORM: 1 passed, 1 failed, 0 blocked, 0 not covered, 12 cases;"
    )
