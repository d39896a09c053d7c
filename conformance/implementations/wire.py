"""The private line format between the suite and its Python worker processes.

Unlike the public JSON-lines contract (conformance.implementations.contract), a worker must carry
what a Python implementation really returned, so that the structure check judges
the same thing it would in process: arrays travel with their dtype and shape
(a float32 gradient in a float64 case is still a float32 array), and whatever is
not an array or a number (a tensor that needs grad, an object, a huge int) travels
as an ``Opaque`` description instead of raising in the worker. Exact numbers (mpmath mpf,
Fraction, Decimal) travel exactly, as their integers (conformance.implementations.exact), and are rounded
in the suite, as in process.

Decoding runs in the suite on bytes the implementation's process wrote, so it
trusts nothing: only whitelisted numeric dtypes are rebuilt, every length is checked
against the shape, and no code is ever executed (no pickle).
"""

from __future__ import annotations

import base64
import binascii
import json
import math
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np

from conformance.errors import ExactError, WireError
from conformance.implementations.contract import CASE_FIELDS
from conformance.implementations.exact import MAX_BITS, MAX_EXPONENT, Exact, is_exact, to_exact
from reference import Case

ARRAY = "$a"
EXACT = "$x"
OPAQUE = "$o"
TUPLE = "$t"
MAX_DEPTH = 32
# numpy's dtype strings for the kinds a result may hold; anything else is described, not rebuilt.
_DTYPES: frozenset[str] = frozenset(
    np.dtype(t).str
    for t in (
        np.float16,
        np.float32,
        np.float64,
        np.longdouble,
        np.int8,
        np.int16,
        np.int32,
        np.int64,
        np.uint8,
        np.uint16,
        np.uint32,
        np.uint64,
        np.bool_,
    )
)


@dataclass(frozen=True)
class Opaque:
    """Something an implementation returned that is neither a number nor a numeric array."""

    description: str
    dtype: str | None = None

    def __str__(self) -> str:
        return self.description


# -- encoding (both sides: the suite encodes cases, the worker encodes answers) -------------------


def encode(value: Any, depth: int = 0) -> Any:
    """A JSON-ready form of any value; never raises (what cannot be encoded is described)."""
    if depth > MAX_DEPTH:
        return {OPAQUE: [f"a value nested more than {MAX_DEPTH} levels deep", None]}
    if value is None or isinstance(value, bool | str):
        return value[:200] if isinstance(value, str) else value
    if isinstance(value, int):
        if value.bit_length() > 64:
            return {
                OPAQUE: [f"an int of {len(str(abs(value))) if value.bit_length() < 20000 else 'many'} digits", None]
            }
        return value
    if isinstance(value, float):
        return value
    if isinstance(value, np.ndarray | np.generic):
        return _encode_array(np.asarray(value), depth)
    if is_exact(value):
        return _encode_exact(value)
    if isinstance(value, Mapping):
        try:
            items = list(value.items())
        except Exception as error:  # noqa: BLE001 - a hostile mapping
            return {OPAQUE: [f"a {type(value).__name__} whose items cannot be read ({type(error).__name__})", None]}
        return {str(k)[:100]: encode(v, depth + 1) for k, v in items}
    if isinstance(value, list):
        return [encode(v, depth + 1) for v in value]
    if isinstance(value, tuple):
        return {TUPLE: [encode(v, depth + 1) for v in value]}
    if any(hasattr(value, attr) for attr in ("__array__", "__array_interface__", "__array_struct__")):
        try:
            converted = np.asarray(value)
        except Exception as error:  # noqa: BLE001 - e.g. a tensor that requires grad
            reason = str(error).strip().splitlines()[0][:120] if str(error).strip() else ""
            return {
                OPAQUE: [f"a {type(value).__name__} that numpy cannot convert ({type(error).__name__}: {reason})", None]
            }
        return _encode_array(converted, depth)
    return {OPAQUE: [f"{type(value).__name__} {_short_repr(value)}", None]}


def _encode_exact(value: Any) -> Any:
    """An exact number as its integers (hexadecimal: no limit on digits), or why it cannot be read."""
    try:
        x = to_exact(value)
    except ExactError as error:
        return {OPAQUE: [str(error), None]}
    return {EXACT: [x.kind, x.negative, hex(x.num), hex(x.den), x.exp2, x.exp10, x.special]}


def _short_repr(value: Any) -> str:
    try:
        return repr(value)[:60]
    except Exception:  # noqa: BLE001 - a hostile __repr__
        return "(no repr)"


def _encode_array(array: np.ndarray, depth: int) -> Any:
    if array.dtype.str in _DTYPES:
        data = base64.b64encode(np.ascontiguousarray(array).tobytes()).decode("ascii")
        return {ARRAY: [array.dtype.str, list(array.shape), data]}
    if array.dtype.kind == "O":
        return encode(array.tolist(), depth + 1)
    return {OPAQUE: [f"an array of dtype {array.dtype} and shape {array.shape}", array.dtype.name]}


def dumps(obj: Any) -> bytes:
    return json.dumps(obj, separators=(",", ":"), allow_nan=True).encode("utf-8")


# -- decoding (the suite's side: untrusted) ------------------------------------------------------


def loads(line: bytes) -> Any:
    """Parse and rebuild one line; WireError for anything malformed."""
    try:
        raw = json.loads(line)
    except (ValueError, RecursionError, UnicodeDecodeError) as error:
        raise WireError(f"not a line of the worker format ({type(error).__name__})") from None
    return decode(raw)


def decode(value: Any, depth: int = 0) -> Any:
    if depth > MAX_DEPTH + 4:
        raise WireError("nested too deeply")
    if isinstance(value, list):
        return [decode(v, depth + 1) for v in value]
    if isinstance(value, dict):
        if len(value) == 1 and ARRAY in value:
            return _decode_array(value[ARRAY])
        if len(value) == 1 and EXACT in value:
            return _decode_exact(value[EXACT])
        if len(value) == 1 and TUPLE in value and isinstance(value[TUPLE], list):
            return tuple(decode(v, depth + 1) for v in value[TUPLE])
        if len(value) == 1 and OPAQUE in value:
            body = value[OPAQUE]
            if not (isinstance(body, list) and len(body) == 2 and isinstance(body[0], str)):
                raise WireError("a malformed opaque value")
            return Opaque(body[0][:300], body[1] if isinstance(body[1], str) else None)
        return {str(k): decode(v, depth + 1) for k, v in value.items()}
    return value


_EXACT_KINDS = ("mpf", "Fraction", "Decimal")
_HEX_DIGITS = MAX_BITS // 4 + 1


def _decode_exact(body: Any) -> Exact:
    """An exact number, every part checked: bounded integers, a known kind, a known special value."""
    if not (isinstance(body, list) and len(body) == 7):
        raise WireError("a malformed exact number")
    kind, negative, num, den, exp2, exp10, special = body
    if kind not in _EXACT_KINDS or not isinstance(negative, bool) or special not in ("", "nan", "inf", "-inf"):
        raise WireError("a malformed exact number")
    integers = []
    for text in (num, den):
        if not (isinstance(text, str) and 2 < len(text) <= _HEX_DIGITS + 2 and text.startswith("0x")):
            raise WireError("an exact number with a malformed or oversized integer")
        try:
            integers.append(int(text, 16))
        except ValueError:
            raise WireError("an exact number with a malformed integer") from None
    for exponent in (exp2, exp10):
        if not (isinstance(exponent, int) and not isinstance(exponent, bool) and abs(exponent) <= MAX_EXPONENT):
            raise WireError("an exact number with a malformed exponent")
    if integers[1] <= 0:
        raise WireError("an exact number with a denominator of 0")
    return Exact(kind, negative, integers[0], integers[1], exp2, exp10, special)


def _decode_array(body: Any) -> np.ndarray:
    if not (isinstance(body, list) and len(body) == 3 and isinstance(body[0], str) and isinstance(body[2], str)):
        raise WireError("a malformed array")
    dtype_str, shape, data = body
    if dtype_str not in _DTYPES:
        raise WireError(f"an array of a dtype outside the format ({dtype_str[:20]!r})")
    if not (isinstance(shape, list) and len(shape) <= 32):
        raise WireError("an array with a malformed shape")
    if not all(isinstance(n, int) and not isinstance(n, bool) and 0 <= n <= 2**40 for n in shape):
        raise WireError("an array with a malformed shape")
    dtype = np.dtype(dtype_str)
    try:
        raw = base64.b64decode(data, validate=True)
    except (binascii.Error, ValueError):
        raise WireError("an array whose data is not base64") from None
    if len(raw) != math.prod(shape) * dtype.itemsize:
        raise WireError(f"an array of shape {tuple(shape)} with {len(raw)} bytes of data")
    return np.frombuffer(raw, dtype=dtype).reshape(shape).copy()  # writable, owned


# -- cases ---------------------------------------------------------------------------------------


def encode_case(case: Any) -> dict[str, Any]:
    return {
        "sizes": [int(n) for n in case.sizes],
        "activations": [str(a) for a in case.activations],
        "cost": str(case.cost),
        "reduction": str(case.reduction),
        "dtype": str(np.dtype(case.dtype).name),
        "weights": [encode(np.asarray(w)) for w in case.weights],
        "biases": [encode(np.asarray(b)) for b in case.biases],
        "x": encode(np.asarray(case.x)),
        "y": encode(np.asarray(case.y)),
    }


def decode_case(obj: Any) -> Any:
    """The worker's side: the suite's case as a reference.Case of writable arrays."""
    fields = decode(obj)
    if not isinstance(fields, dict) or any(name not in fields for name in CASE_FIELDS):
        raise WireError("a malformed case")
    return Case(
        tuple(fields["sizes"]),
        tuple(fields["activations"]),
        fields["cost"],
        fields["reduction"],
        fields["dtype"],
        list(fields["weights"]),
        list(fields["biases"]),
        fields["x"],
        fields["y"],
    )
