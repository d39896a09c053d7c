"""The contract's wire format: cases and results as JSON, for JSON-lines and the vectors.

JSON has no NaN or infinity, and an implementation that returns them must still be
diagnosed rather than crash the channel, so non-finite numbers travel as the
strings "nan", "inf" and "-inf" (CONTRACT.md, section "Numbers"). Arrays travel as
nested lists; float64 and float32 values both round-trip exactly, because Python
writes the shortest decimal that reads back as the same double, and every float32
is a double. The normative text is CONTRACT.md, version ``CONTRACT_VERSION``.
"""

from __future__ import annotations

import json
import math
from collections.abc import Mapping
from types import SimpleNamespace
from typing import Any

import numpy as np

from reference import validate

CONTRACT_VERSION = "1.1"

CASE_FIELDS: tuple[str, ...] = (
    "sizes",
    "activations",
    "cost",
    "reduction",
    "dtype",
    "weights",
    "biases",
    "x",
    "y",
)
RESULT_FIELDS: tuple[str, ...] = ("grad_weights", "grad_biases")
OPTIONAL_RESULT_FIELDS: tuple[str, ...] = ("deltas", "cost")
SGD_FIELDS: tuple[str, ...] = ("weights", "biases")

_TO_STRING = {math.inf: "inf", -math.inf: "-inf"}
_FROM_STRING = {"nan": math.nan, "inf": math.inf, "-inf": -math.inf}


def encode_number(value: Any) -> float | int | str:
    """A JSON-ready number: ints stay ints, non-finite floats become "nan", "inf" or "-inf"."""
    if isinstance(value, bool):
        raise TypeError(f"expected a number, got the boolean {value!r}")
    if isinstance(value, int | np.integer):
        return int(value)
    number = float(value)  # numpy floats, mpmath.mpf, anything with __float__
    if math.isnan(number):
        return "nan"
    return _TO_STRING.get(number, number)


def encode_value(value: Any) -> Any:
    """Numbers, arrays and nested lists of them as JSON-ready nested lists; strings pass through."""
    if isinstance(value, str) or value is None:
        return value
    if isinstance(value, np.ndarray):
        if value.dtype.kind in "iuf" and (value.dtype.kind != "f" or np.isfinite(value).all()):
            return value.tolist()  # the fast path: already JSON numbers
        return [encode_value(v) for v in value] if value.ndim else encode_number(value.item())
    if isinstance(value, list | tuple):
        return [encode_value(v) for v in value]
    if isinstance(value, Mapping):
        return {str(k): encode_value(v) for k, v in value.items()}
    return encode_number(value)


def decode_value(value: Any) -> Any:
    """encode_value's inverse on numbers: "nan", "inf", "-inf" become floats; the nesting is kept.

    Nothing else is converted or checked, so that a malformed result reaches the
    suite's structure check intact and is diagnosed there, field by field.
    """
    if isinstance(value, str):
        return _FROM_STRING.get(value, value)
    if isinstance(value, list):
        return [decode_value(v) for v in value]
    if isinstance(value, dict):
        return {k: decode_value(v) for k, v in value.items()}
    return value


def _field(case: Any, name: str) -> Any:
    if isinstance(case, Mapping):
        if name not in case:
            raise TypeError(f"case is missing the field {name!r}; a case needs {', '.join(CASE_FIELDS)}")
        return case[name]
    if not hasattr(case, name):
        raise TypeError(
            f"case is missing the attribute {name!r}; a case needs {', '.join(CASE_FIELDS)} "
            f"(got a {type(case).__name__})"
        )
    return getattr(case, name)


def encode_case(case: Any) -> dict[str, Any]:
    """A case (an object with the contract's attributes, or a mapping) as a JSON-ready object."""
    fields = {name: _field(case, name) for name in CASE_FIELDS}
    out: dict[str, Any] = {
        "sizes": [int(n) for n in fields["sizes"]],
        "activations": [str(a) for a in fields["activations"]],
        "cost": str(fields["cost"]),
        "reduction": str(fields["reduction"]),
        "dtype": np.dtype(fields["dtype"]).name,
    }
    for name in ("weights", "biases"):
        out[name] = [encode_value(np.asarray(a)) for a in fields[name]]
    for name in ("x", "y"):
        out[name] = encode_value(np.asarray(fields[name]))
    return out


def decode_case(obj: Mapping[str, Any]) -> Any:
    """A JSON case object as a validated ``reference.Case`` (numpy arrays in the case's dtype).

    Raises TypeError or ValueError naming the field (and layer) when the object does
    not describe a valid case.
    """
    if not isinstance(obj, Mapping):
        raise TypeError(f"a case must be a JSON object, got {type(obj).__name__}")
    fields = {name: decode_value(_field(obj, name)) for name in CASE_FIELDS}
    return validate(SimpleNamespace(**fields))


def encode_result(result: Mapping[str, Any]) -> dict[str, Any]:
    """The contract's fields of a backprop or sgd_step result, JSON-ready; others dropped."""
    known = RESULT_FIELDS + OPTIONAL_RESULT_FIELDS + SGD_FIELDS
    return {k: encode_value(result[k]) for k in known if k in result}


def decode_result(obj: Mapping[str, Any]) -> dict[str, Any]:
    """A JSON result as nested lists of floats (non-finite strings decoded), for the checks."""
    if not isinstance(obj, Mapping):
        raise TypeError(f"a result must be a JSON object, got {type(obj).__name__}")
    return {str(k): decode_value(v) for k, v in obj.items()}


def dumps(obj: Any) -> str:
    """One line of JSON, keys sorted, no NaN tokens: byte-identical for identical content."""
    return json.dumps(encode_value(obj), sort_keys=True, separators=(",", ":"), allow_nan=False)


def loads(text: str | bytes) -> Any:
    """Parse one JSON document; bare NaN/Infinity tokens (non-conforming) are read as floats."""
    return json.loads(text)
