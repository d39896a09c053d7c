"""Exact numbers are numbers (issue 18, item 5): mpf, Fraction and Decimal answers are judged.

They used to fail ``structure`` with "expected a number", the project's own
``reference.backprop_mp`` included. Now each is rounded once to the case's dtype
(conformance.implementations.exact) and judged like any answer, in process and through the worker's wire
format. Negative controls: an exact answer that is wrong fails the equations (it is judged,
not waved through), and hostile exact values (beyond the dtype's range, NaN, a denominator of
a hundred thousand digits, a subclass that raises) are clear structure failures.
"""

from __future__ import annotations

import decimal
import math
from fractions import Fraction
from typing import Any

import mpmath
import numpy as np
import pytest

import reference
from conformance import check_implementation
from conformance.implementations import wire
from conformance.implementations.exact import MAX_BITS, Exact, ExactError, round_exact, to_exact
from conformance.judging.structure import StructureError, parse_result
from reference.strategies import Architecture, make_case

from .broken_impls.base import Backprop


def backprop_mp(case: Any) -> dict[str, Any]:
    """The project's own exact engine, as an implementation: every value an mpmath mpf."""
    return reference.backprop_mp(case)


def _convert(result: dict[str, Any], number: Any) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for key, value in result.items():
        if key == "cost":
            out[key] = number(float(value))
        else:
            out[key] = [[number(float(v)) for v in np.ravel(a)] for a in value]
            out[key] = [
                np.array(flat, dtype=object).reshape(np.shape(a)) for flat, a in zip(out[key], value, strict=True)
            ]
    return out


class Fractions(Backprop):
    """The correct answer, every value a Fraction (exactly the float it was)."""

    def backprop(self, case: Any) -> dict[str, Any]:
        return _convert(super().backprop(case), Fraction)


class Decimals(Backprop):
    """The correct answer, every value a Decimal (exactly the float it was), as nested lists."""

    def backprop(self, case: Any) -> dict[str, Any]:
        result = _convert(super().backprop(case), decimal.Decimal)
        return {k: v if k == "cost" else [a.tolist() for a in v] for k, v in result.items()}


class ExactButWrong(Backprop):
    """Fractions of the correct answer times (1 + 1e-6): exact numbers, wrong values."""

    def backprop(self, case: Any) -> dict[str, Any]:
        return _convert(super().backprop(case), lambda v: Fraction(v) * Fraction(1_000_001, 1_000_000))


@pytest.mark.suite
@pytest.mark.parametrize("in_process", [True, False], ids=["in-process", "worker"])
def test_the_reference_backprop_mp_conforms(in_process: bool) -> None:
    report = check_implementation(backprop_mp, quick=True, failures_dir=None, in_process=in_process)
    assert report.ok, report.format()
    assert {v.dtype for v in report.verdicts if v.status == "passed"} == {"float64", "float32"}


@pytest.mark.suite
@pytest.mark.parametrize("in_process", [True, False], ids=["in-process", "worker"])
@pytest.mark.parametrize("impl", [Fractions, Decimals], ids=lambda c: c.__name__)
def test_fraction_and_decimal_answers_conform(impl: type, in_process: bool) -> None:
    report = check_implementation(impl(), quick=True, failures_dir=None, in_process=in_process, regimes=["typical"])
    assert report.ok, report.format()


@pytest.mark.suite
@pytest.mark.parametrize("in_process", [True, False], ids=["in-process", "worker"])
def test_an_exact_wrong_answer_is_judged_and_fails(in_process: bool) -> None:
    report = check_implementation(
        ExactButWrong(), quick=True, failures_dir=None, in_process=in_process, regimes=["typical"], dtypes=["float64"]
    )
    failed = {v.check for v in report.failed()}
    assert failed and "structure" not in failed, report.format()


# ----- the conversion -----------------------------------------------------------------------


def _case(dtype: str = "float64") -> Any:
    return make_case(Architecture((1, 1), ("identity",), "quadratic"), m=1, dtype=dtype)


def _answer(value: Any) -> dict[str, Any]:
    return {"grad_weights": [[[value]]], "grad_biases": [[value]]}


def _parsed(value: Any, dtype: str = "float64", through_wire: bool = False) -> float:
    answer = _answer(value)
    if through_wire:
        answer = wire.loads(wire.dumps(wire.encode(answer)))
    result = parse_result(answer, (1, 1), 1, dtype, want_deltas=False, want_cost=False)
    return float(result.grad_weights[0][0, 0])


@pytest.mark.parametrize("through_wire", [False, True], ids=["in-process", "wire"])
def test_float32_cases_round_once_not_through_float64(through_wire: bool) -> None:
    """1 + 2^-24 + 2^-60: float64 rounds it to the float32 tie 1 + 2^-24, which rounds to even (1.0);
    rounded once it is above the tie, 1 + 2^-23."""
    x = Fraction(1) + Fraction(1, 2**24) + Fraction(1, 2**60)
    assert float(np.float32(float(x))) == 1.0  # the double rounding this must not do
    assert _parsed(x, "float32", through_wire) == 1 + 2.0**-23
    with mpmath.workprec(100):
        mp_x = mpmath.mpf(1) + mpmath.mpf(2) ** -24 + mpmath.mpf(2) ** -60
    assert _parsed(mp_x, "float32", through_wire) == 1 + 2.0**-23
    assert _parsed(x, "float64", through_wire) == float(x)


@pytest.mark.parametrize("through_wire", [False, True], ids=["in-process", "wire"])
def test_exact_values_are_rounded_correctly(through_wire: bool) -> None:
    with mpmath.workdps(50):
        third = mpmath.mpf(1) / 3
    assert _parsed(third, through_wire=through_wire) == 1 / 3
    assert _parsed(Fraction(-1, 3), through_wire=through_wire) == -1 / 3
    assert _parsed(decimal.Decimal("0.1"), through_wire=through_wire) == 0.1
    assert _parsed(decimal.Decimal("0.1"), "float32", through_wire) == float(np.float32(0.1))
    assert _parsed(Fraction(1, 10**400), through_wire=through_wire) == 0.0  # far below the smallest subnormal
    assert _parsed(Fraction(5, 2**1076), through_wire=through_wire) == 2.0**-1074  # 1.25 subnormal units


def test_rounding_agrees_with_pythons_correctly_rounded_fractions() -> None:
    rng = np.random.default_rng(0)
    for _ in range(3000):
        num, den = int(rng.integers(1, 2**62)), int(rng.integers(1, 2**62))
        value = Fraction(num, den) * Fraction(2) ** int(rng.integers(-1100, 1000))
        assert round_exact(to_exact(value), "float64") == float(value)


HOSTILE: list[tuple[str, Any, str]] = [
    ("mpf 10**400", mpmath.mpf(10) ** 400, "beyond the range of float64"),
    ("Decimal 1e999999999", decimal.Decimal("1e999999999"), "beyond the range of float64"),
    ("Fraction 1/10**100000", Fraction(1, 10**100000), f"at most {MAX_BITS} are read"),
    ("Decimal of 100000 digits", decimal.Decimal("1." + "3" * 100000), "digits"),
]


@pytest.mark.parametrize("through_wire", [False, True], ids=["in-process", "wire"])
@pytest.mark.parametrize(("name", "value", "words"), HOSTILE, ids=[h[0] for h in HOSTILE])
def test_hostile_exact_values_are_clear_structure_failures(
    name: str, value: Any, words: str, through_wire: bool
) -> None:
    with pytest.raises(StructureError, match=r"grad_weights\[0\]\[0, 0\]") as error:
        _parsed(value, through_wire=through_wire)
    assert words in str(error.value)


@pytest.mark.parametrize("through_wire", [False, True], ids=["in-process", "wire"])
def test_a_nan_mpf_is_named_as_non_finite(through_wire: bool) -> None:
    with pytest.raises(StructureError, match=r"= nan"):
        _parsed(mpmath.mpf("nan"), through_wire=through_wire)


class RaisingFraction(Fraction):
    """A Fraction whose parts cannot be read."""

    @property
    def numerator(self) -> int:
        raise RuntimeError("no")


def test_a_fraction_that_raises_is_a_structure_failure() -> None:
    with pytest.raises(StructureError, match="cannot be read"):
        _parsed(RaisingFraction(1, 3))
    encoded = wire.encode(RaisingFraction(1, 3))
    assert isinstance(wire.decode(encoded), wire.Opaque)


@pytest.mark.parametrize(
    "body",
    [
        ["mpf", False, "0x" + "f" * (MAX_BITS // 4 + 8), "0x1", 0, 0, ""],  # an oversized integer
        ["mpf", False, "0x1", "0x0", 0, 0, ""],  # a zero denominator
        ["mpf", False, "0x1", "0x1", True, 0, ""],  # a boolean exponent
        ["mpf", False, "0x1", "0x1", 2**50, 0, ""],  # an exponent beyond the bound
        ["pickle", False, "0x1", "0x1", 0, 0, ""],  # an unknown kind
        ["mpf", False, "-0x1", "0x1", 0, 0, ""],  # a negative integer
        ["mpf", False, "0x1", "0x1", 0, 0],  # too short
    ],
)
def test_malformed_exact_numbers_on_the_wire_are_refused(body: list[Any]) -> None:
    with pytest.raises(wire.WireError):
        wire.decode({wire.EXACT: body})


def test_an_exact_number_crosses_the_wire_unchanged() -> None:
    for value in (mpmath.mpf(2) ** -1100 * 3, Fraction(-7, 3), decimal.Decimal("-1.25e-300"), mpmath.mpf("-inf")):
        assert wire.decode(wire.encode(value)) == to_exact(value)


def test_exact_beyond_float32_is_refused_only_there() -> None:
    big = Fraction(2**128)
    with pytest.raises(ExactError, match="float32"):
        round_exact(to_exact(big), "float32")
    assert round_exact(to_exact(big), "float64") == math.ldexp(1, 128)
    assert isinstance(to_exact(big), Exact)
