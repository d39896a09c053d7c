"""The JSON wire format (conformance/implementations/contract.py): exact round trips and honest decoding."""

from __future__ import annotations

import json
import math
from pathlib import Path

import numpy as np
import pytest

import reference
from conformance.implementations import contract


def _case(dtype: str = "float64") -> reference.Case:
    net = reference.Network.random((3, 2, 2), ("tanh", "softmax"), "log_likelihood", "sum", dtype, seed=3)
    x = np.random.default_rng(1).standard_normal((4, 3)).astype(dtype)
    y = np.eye(2, dtype=dtype)[[0, 1, 1, 0]]
    return reference.validate(net.case(x, y))


def test_version_is_the_documented_one() -> None:
    """The constant the reports carry is the version CONTRACT.md's title states."""
    title = (Path(contract.__file__).parent.parent / "CONTRACT.md").read_text(encoding="utf-8").splitlines()[0]
    assert title.endswith(f", version {contract.CONTRACT_VERSION}"), title


def test_non_finite_numbers_travel_as_strings_and_come_back() -> None:
    value = np.array([[1.5, np.nan], [np.inf, -np.inf]])
    encoded = contract.encode_value(value)
    assert encoded == [[1.5, "nan"], ["inf", "-inf"]]
    text = contract.dumps({"a": value})
    assert "NaN" not in text and "Infinity" not in text
    back = np.array(contract.decode_value(json.loads(text)["a"]))
    assert back[0, 0] == 1.5 and math.isnan(back[0, 1]) and back[1, 0] == np.inf and back[1, 1] == -np.inf


@pytest.mark.parametrize("dtype", ["float64", "float32"])
def test_case_round_trip_is_exact_in_both_dtypes(dtype: str) -> None:
    case = _case(dtype)
    back = contract.decode_case(json.loads(contract.dumps(contract.encode_case(case))))
    assert back.dtype == dtype and back.sizes == case.sizes and back.activations == case.activations
    for got, want in zip(
        [*back.weights, *back.biases, back.x, back.y],
        [*case.weights, *case.biases, case.x, case.y],
        strict=True,
    ):
        assert got.dtype == np.dtype(dtype)
        assert np.array_equal(got, want)  # bit-exact: shortest-repr doubles round-trip


def test_encode_case_accepts_a_mapping_and_names_a_missing_field() -> None:
    encoded = contract.encode_case(_case())
    assert contract.encode_case(dict(encoded)) == encoded
    del encoded["y"]
    with pytest.raises(TypeError, match="'y'"):
        contract.encode_case(encoded)


def test_decode_case_rejects_an_invalid_case_naming_the_field_and_layer() -> None:
    encoded = contract.encode_case(_case())
    encoded["weights"][1] = [[1.0, 2.0]]  # layer 3 needs (2, 2)
    with pytest.raises(ValueError, match=r"weights\[1\].*layer 3"):
        contract.decode_case(encoded)


def test_decode_result_keeps_malformed_structure_for_the_checks() -> None:
    raw = {"grad_weights": [[[1, "nan"]], [[2]]], "grad_biases": [None, [1, 2, 3]], "extra": "text"}
    decoded = contract.decode_result(raw)
    assert decoded["grad_biases"] == [None, [1, 2, 3]]  # ragged/None left for the structure check
    assert math.isnan(decoded["grad_weights"][0][0][1])
    assert decoded["extra"] == "text"  # only the three non-finite spellings are numbers


def test_encode_result_keeps_only_contract_fields_and_the_cost() -> None:
    result = reference.backprop(_case())
    result["internal"] = object()
    encoded = contract.encode_result(result)
    assert set(encoded) == {"grad_weights", "grad_biases", "deltas", "cost"}
    assert encoded["cost"] == result["cost"]


def test_dumps_is_deterministic_and_one_line() -> None:
    first = contract.dumps(contract.encode_case(_case()))
    assert first == contract.dumps(contract.encode_case(_case()))
    assert "\n" not in first and first.index('"activations"') < first.index('"weights"')


def test_booleans_are_not_numbers() -> None:
    with pytest.raises(TypeError, match="boolean"):
        contract.encode_number(True)


def test_mpmath_numbers_encode_as_their_nearest_double() -> None:
    import mpmath

    with mpmath.workdps(50):
        third = mpmath.mpf(1) / 3
    assert contract.encode_value([third]) == [1 / 3]
