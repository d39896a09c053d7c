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

Each message is a frame: one header line of JSON, the message with every array replaced by
``{"$a": [dtype, shape, offset, nbytes]}`` and a top-level ``"blob": N``, then N raw bytes,
the arrays' data one after another (numpy's bytes, no base64: at the largest generated case a
call carries about 1 MB each way, and base64 in JSON cost most of isolation's price). The
reader learns N from the header and can refuse it before reading a byte of the blob, so a
size cap holds whatever a header promises. The same framing is offered to ``--impl-cmd``
programs that declare it (CONTRACT.md, "Binary framing"; ``read_public``).

A worker writes its answer's header in the same pass that encodes it (``Unencoded``: the same
bytes as ``encode``'s form), and a result that ``serving.plainly_a_result`` vouches for goes
without a description per array (``Plain``: ``{"$p": [dtype, keys, cost]}``, its arrays in a
fixed order), since the suite knows their shapes from the case it asked (``decode_plain``). Most
of a run's answers are such results; a call in a run is small, and a worker's time per call was
mostly spent writing and reading these descriptions.
"""

from __future__ import annotations

import json
import math
from collections.abc import Callable, Mapping
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
BLOB = "blob"
# The keys of an array's description in the public framing (CONTRACT.md, "Binary framing").
PUBLIC_ARRAY_KEYS: frozenset[str] = frozenset(("dtype", "shape", "offset", "nbytes"))
PUBLIC_DTYPES: tuple[str, ...] = ("<f8", "<f4")
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


@dataclass(frozen=True)
class _Raw:
    """An array whose bytes go into the blob: ``dumps`` replaces it by its offset and length."""

    array: np.ndarray


@dataclass(frozen=True)
class Unencoded:
    """A value that ``frame_parts`` writes as it would write ``encode(value)``, in the same pass as
    the header: a worker's answer, without first building encode's tree of it (that tree, then a
    second walk to write it, was a fifth of a worker's time per call). The result is the same
    bytes, to the last one (tests/test_conformance_wire_unencoded.py)."""

    value: Any


# The keys of a result that serving.plainly_a_result vouches for, in the order a Plain frame lays its arrays.
PLAIN = "$p"
PLAIN_LISTS: tuple[str, ...] = ("grad_weights", "grad_biases", "deltas")
PLAIN_KEYS: frozenset[str] = frozenset((*PLAIN_LISTS, "cost"))


@dataclass(frozen=True)
class Plain:
    """A worker's answer that serving.plainly_a_result vouched for (exactly the four keys, each list of
    the case's dtype and shapes, a finite cost), sent as ``{"$p": [dtype, keys, cost]}`` and its arrays'
    bytes alone, in PLAIN_LISTS order: the suite knows the shapes from the case it asked, so that no
    array needs a description, and rebuilds the same dict as from the general form
    (``decode_plain``; tests/test_conformance_wire_plain.py). Most answers of a run are these."""

    value: dict[str, Any]
    dtype: str  # numpy's dtype string of every array (the case's dtype)


# -- encoding (both sides: the suite encodes cases, the worker encodes answers) -------------------


def encode(value: Any, depth: int = 0) -> Any:
    """A JSON-ready form of any value; never raises (what cannot be encoded is described)."""
    if depth > MAX_DEPTH:
        return {OPAQUE: [f"a value nested more than {MAX_DEPTH} levels deep", None]}
    if type(value) is np.ndarray:  # the common case first: a call carries mostly arrays
        return _encode_array(value, depth)
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
        return _Raw(array if array.flags.c_contiguous else np.ascontiguousarray(array))
    if array.dtype.kind == "O":
        return encode(array.tolist(), depth + 1)
    return {OPAQUE: [f"an array of dtype {array.dtype} and shape {array.shape}", array.dtype.name]}


def dumps(message: Mapping[str, Any], *, public: bool = False) -> bytes:
    """One frame: the header line (``encode``'s form of ``message``, with its ``blob`` length), then the blob.

    ``public``: the arrays described as CONTRACT.md's binary framing spells them (an object with
    dtype, shape, offset and nbytes), and no NaN tokens in the header.
    """
    return b"".join(frame_parts(message, public=public))


def frame_parts(message: Mapping[str, Any], *, public: bool = False) -> list[bytes | memoryview]:
    """``dumps``'s frame as its pieces (the header line, then each array's memory), for a gathered
    write: a megabyte joined afresh for every message costs its page faults every time. A frame
    whose blob is small is one piece (joined: cheaper than a gathered write of many small pieces).

    ``message``'s values are ``encode``'s forms, ``Unencoded`` values (written as their ``encode``
    forms would be), or a ``Plain`` result.
    """
    chunks: list[memoryview] = []
    offset = 0

    def laid(array: np.ndarray) -> tuple[str, tuple[int, ...], int, int]:
        """The array's place in the blob (dtype, shape, offset, nbytes), its memory added to the chunks."""
        nonlocal offset
        if public and array.dtype.str not in PUBLIC_DTYPES:
            array = array.astype(np.float64)
        if not array.flags.c_contiguous:  # its values in C order (a strided view may reshape to a strided view)
            array = np.ascontiguousarray(array)
        data = array.reshape(-1).data.cast("B")  # reshape of a C-contiguous array: a view, no copy
        chunks.append(data)
        offset += data.nbytes
        return array.dtype.str, array.shape, offset - data.nbytes, data.nbytes

    def place(value: Any) -> Any:
        if isinstance(value, Unencoded | Plain):
            return encode(value.value)
        if not isinstance(value, _Raw):
            raise TypeError(f"not encodable: {type(value).__name__}")
        dtype, shape, at, nbytes = laid(value.array)
        described = (dtype, list(shape), at, nbytes)
        return dict(zip(PUBLIC_ARRAY_ORDER, described, strict=True)) if public else {ARRAY: list(described)}

    def described(array: np.ndarray) -> str:
        """``place``'s description as json.dumps writes it."""
        dtype, shape, at, nbytes = laid(array)
        if public:
            return f"{_opening(dtype, shape, public)}{at},{_NBYTES}{nbytes}}}"
        return f"{_opening(dtype, shape, public)}{at},{nbytes}]}}"

    body = _json_text(dict(message), not public, described, laid)
    if body is None:  # json.dumps, with its own checks and errors, for anything encode() does not make
        chunks.clear()
        offset = 0
        body = json.dumps(dict(message), separators=(",", ":"), allow_nan=not public, default=place)
    header = f'{{"{BLOB}":{offset},{body[1:]}' if body != "{}" else f'{{"{BLOB}":{offset}}}'
    line = header.encode("utf-8") + b"\n"
    if offset <= _JOINED_BYTES:
        return [line + b"".join(chunks)]
    return [line, *chunks]


# A frame whose blob is at most this is written as one piece: joining it costs less than gathering.
_JOINED_BYTES = 1 << 16
PUBLIC_ARRAY_ORDER = ("dtype", "shape", "offset", "nbytes")
_NBYTES = '"nbytes":'
# An array's description up to its offset, by (dtype, shape, public): the same few shapes recur in every call.
_OPENINGS: dict[tuple[str, tuple[int, ...], bool], str] = {}


def _opening(dtype: str, shape: tuple[int, ...], public: bool) -> str:
    """The text of an array's description before its offset (json.dumps's own text)."""
    key = (dtype, shape, public)
    text = _OPENINGS.get(key)
    if text is None:
        dims = ",".join(map(str, shape))
        if public:
            text = f'{{"dtype":{_QUOTED(dtype)},"shape":[{dims}],"offset":'
        else:
            text = f'{{"{ARRAY}":[{_QUOTED(dtype)},[{dims}],'
        if len(_OPENINGS) >= 4096:  # bounded: a run meets a few hundred shapes
            _OPENINGS.clear()
        _OPENINGS[key] = text
    return text


_QUOTED = json.encoder.encode_basestring_ascii  # json.dumps's own quoting (ensure_ascii)


def _json_text(
    message: dict[str, Any],
    allow_nan: bool,
    described: Callable[[np.ndarray], str],
    laid: Callable[[np.ndarray], Any] | None = None,
) -> str | None:
    """The text json.dumps(message, separators=(",", ":"), allow_nan=allow_nan) writes, for the
    values ``encode`` makes (str keys; str, int, float, bool, None, lists, dicts, arrays), with
    each array as ``described`` says; None for anything else (json.dumps then).

    A call at the largest case sends 32 arrays and receives 45: json.dumps calling back into
    Python for each array was the larger part of a frame's header, and this is the same text
    written in one pass.
    """
    out: list[str] = []
    write = out.append

    def sequence(items: list[Any], depth: int, each: Callable[[Any, int], bool]) -> bool:
        """A JSON array of ``items``, each written by ``each`` one level deeper."""
        if depth > 2 * MAX_DEPTH:
            return False
        write("[")
        for i, item in enumerate(items):
            if i:
                write(",")
            if not each(item, depth + 1):
                return False
        write("]")
        return True

    def mapping(items: dict[str, Any], depth: int, each: Callable[[Any, int], bool]) -> bool:
        """A JSON object of ``items`` (str keys), each value written by ``each`` one level deeper."""
        if depth > 2 * MAX_DEPTH:
            return False
        write("{")
        first = True
        for key, item in items.items():
            if not first:
                write(",")
            first = False
            write(_QUOTED(key))
            write(":")
            if not each(item, depth + 1):
                return False
        write("}")
        return True

    def put(value: Any, depth: int) -> bool:
        kind = type(value)
        if kind is str:
            write(_QUOTED(value))
        elif kind is _Raw:
            write(described(value.array))
        elif kind is Unencoded:
            return unencoded(value.value, depth, 0)
        elif kind is Plain:
            if laid is None:
                return False
            result = value.value
            for key in PLAIN_LISTS:
                for array in result[key]:
                    laid(array)
            write(f'{{"{PLAIN}":[{_QUOTED(value.dtype)},[')
            write(",".join(_QUOTED(key) for key in result))
            write(f"],{float.__repr__(float(result['cost']))}]}}")
        elif kind is dict:
            return all(type(key) is str for key in value) and mapping(value, depth, put)
        elif kind is list:
            return sequence(value, depth, put)
        elif value is None:
            write("null")
        elif value is True:
            write("true")
        elif value is False:
            write("false")
        elif isinstance(value, int):  # json.dumps writes an int's subclass as the int
            write(int.__repr__(value))
        elif isinstance(value, float):  # and a float's (numpy's float64) as the float
            if value != value or value in (math.inf, -math.inf):
                if not allow_nan:
                    return False
                write("NaN" if value != value else ("Infinity" if value > 0 else "-Infinity"))
            else:
                write(float.__repr__(value))
        else:
            return False
        return True

    def unencoded(value: Any, depth: int, level: int) -> bool:
        """``value`` written as ``put(encode(value, level), depth)`` writes it: the kinds a result
        is made of directly, each as encode makes it, and anything else through encode."""
        kind = type(value)
        if level <= MAX_DEPTH:  # deeper, encode describes the value instead
            if kind is np.ndarray:
                if value.dtype.str in _DTYPES:  # else encode describes it, or lists an object array
                    write(described(value))  # laid lays out a non-contiguous array's values in C order
                    return True
            elif kind is list:
                return sequence(value, depth, lambda item, at: unencoded(item, at, level + 1))
            elif kind is dict:
                # encode's keys are str(key)[:100]: a dict of other keys goes through encode
                if all(type(key) is str and len(key) <= 100 for key in value):
                    return mapping(value, depth, lambda item, at: unencoded(item, at, level + 1))
            elif kind is float or value is None or kind is bool:
                return put(value, depth)
            elif kind is int:
                if value.bit_length() <= 64:
                    return put(value, depth)
            elif kind is str:
                write(_QUOTED(value[:200]))
                return True
        return put(encode(value, level), depth)

    return "".join(out) if put(message, 0) else None


# -- decoding (the suite's side: untrusted) ------------------------------------------------------


@dataclass(frozen=True)
class Header:
    """A frame's header line, parsed: the message (arrays still as descriptions) and its blob's length."""

    message: dict[str, Any]
    blob_length: int


def parse_header(line: bytes) -> Header:
    """The header line of a frame; WireError unless it is a JSON object with a sound ``blob`` length."""
    try:
        raw = json.loads(line)
    except (ValueError, RecursionError, UnicodeDecodeError) as error:
        raise WireError(f"not a line of the worker format ({type(error).__name__})") from None
    return header_of(raw)


def header_of(raw: Any) -> Header:
    """A parsed header line as a Header: a JSON object whose ``blob``, if present, is a byte count."""
    if not isinstance(raw, dict):
        raise WireError(f"a header that is not a JSON object but {type(raw).__name__}")
    length = raw.pop(BLOB, 0)
    if not isinstance(length, int) or isinstance(length, bool) or length < 0:
        raise WireError(f"a header whose {BLOB!r} is not a byte count: {str(length)[:40]!r}")
    return Header(raw, length)


def loads(frame: bytes) -> Any:
    """Parse and rebuild one whole frame (header line and blob); WireError for anything malformed."""
    line, newline, blob = frame.partition(b"\n")
    header = parse_header(line)
    if not newline or len(blob) != header.blob_length:
        raise WireError(f"a header that promises {header.blob_length} bytes of data, followed by {len(blob)}")
    return decode(header.message, blob=blob)


def decode(value: Any, depth: int = 0, blob: bytes | bytearray | memoryview = b"", *, copy: bool = True) -> Any:
    """A header's message rebuilt: arrays from ``blob``, exact numbers, tuples, descriptions.

    The arrays are copies (writable, owned, aligned), unless ``copy`` is False: then views of
    ``blob``, which the caller gives up to them (a buffer of this frame alone, never reused), so
    that a megabyte of answer is not copied once more; an array the blob would hold misaligned
    is copied all the same.
    """
    if depth > MAX_DEPTH + 4:
        raise WireError("nested too deeply")
    if isinstance(value, list):
        return [decode(v, depth + 1, blob, copy=copy) for v in value]
    if isinstance(value, dict):
        if len(value) == 1 and ARRAY in value:
            return _decode_array(value[ARRAY], blob, copy)
        if len(value) == 1 and EXACT in value:
            return _decode_exact(value[EXACT])
        if len(value) == 1 and TUPLE in value and isinstance(value[TUPLE], list):
            return tuple(decode(v, depth + 1, blob, copy=copy) for v in value[TUPLE])
        if len(value) == 1 and OPAQUE in value:
            body = value[OPAQUE]
            if not (isinstance(body, list) and len(body) == 2 and isinstance(body[0], str)):
                raise WireError("a malformed opaque value")
            return Opaque(body[0][:300], body[1] if isinstance(body[1], str) else None)
        return {str(k): decode(v, depth + 1, blob, copy=copy) for k, v in value.items()}
    return value


def result_shapes(sizes: Any, m: int) -> dict[str, list[tuple[int, ...]]]:
    """The shapes of a result's lists for a network of ``sizes`` and a batch of ``m``: what
    serving.plainly_a_result checks an answer against, and what decode_plain lays a blob out as."""
    layers = list(zip(sizes[:-1], sizes[1:], strict=True))
    return {
        "grad_weights": [(n, n_prev) for n_prev, n in layers],
        "grad_biases": [(n,) for _, n in layers],
        "deltas": [(m, n) for _, n in layers],
    }


def decode_plain(
    body: Any, blob: bytes | bytearray | memoryview, sizes: Any, m: int, *, copy: bool = True
) -> dict[str, Any]:
    """A ``Plain`` result rebuilt for the case of ``sizes`` and ``m`` samples, the one the suite asked:
    the same dict, keys in the same order, as ``decode`` makes of the general form (arrays owned,
    or with ``copy`` False views of the blob, which the caller gives up to them).

    Trusts nothing: a whitelisted dtype, exactly the four keys, a finite float cost, and a blob of
    exactly the bytes those shapes take (the blob's length was the header's, checked against the cap).
    """
    if not (type(body) is list and len(body) == 3):
        raise WireError("a malformed plain result (expected [dtype, keys, cost])")
    dtype_str, keys, cost = body
    dtype = _DTYPE_OF.get(dtype_str) if type(dtype_str) is str else None
    if dtype is None:
        raise WireError(f"a plain result of a dtype outside the format ({str(dtype_str)[:20]!r})")
    if not (type(keys) is list and len(keys) == len(PLAIN_KEYS) and set(keys) == PLAIN_KEYS):
        raise WireError(f"a plain result whose keys are not {sorted(PLAIN_KEYS)}: {str(keys)[:80]}")
    if type(cost) is not float or not math.isfinite(cost):
        raise WireError(f"a plain result whose cost is not a finite float: {str(cost)[:40]}")
    shapes = result_shapes(sizes, m)
    count = sum(math.prod(shape) for key in PLAIN_LISTS for shape in shapes[key])
    if count * dtype.itemsize != len(blob):
        raise WireError(f"a plain result of {len(blob)} bytes where its case's shapes take {count * dtype.itemsize}")
    flat = np.frombuffer(blob, dtype=dtype, count=count)
    if copy or not flat.flags.aligned:
        flat = flat.copy()  # owned and aligned; the blob may be a buffer the channel reuses
    laid_out: dict[str, Any] = {"cost": cost}
    start = 0
    for key in PLAIN_LISTS:  # the blob's order, whatever the keys' order
        arrays = []
        for shape in shapes[key]:
            end = start + math.prod(shape)
            arrays.append(flat[start:end].reshape(shape))
            start = end
        laid_out[key] = arrays
    return {key: laid_out[key] for key in keys}


def decode_public(value: Any, blob: bytes | bytearray | memoryview, depth: int = 0) -> Any:
    """A public frame's message (CONTRACT.md, "Binary framing"): every object with exactly the keys
    dtype, shape, offset and nbytes is an array read from ``blob``; nothing else is converted.

    Only "<f8" and "<f4" are read, and both as float64: the numbers a JSON line would have
    carried, so that a verdict never depends on the framing.
    """
    if depth > MAX_DEPTH:
        raise WireError(f"nested more than {MAX_DEPTH} levels deep")
    if isinstance(value, list):
        return [decode_public(v, blob, depth + 1) for v in value]
    if isinstance(value, dict):
        if value.keys() == PUBLIC_ARRAY_KEYS:
            if value["dtype"] not in PUBLIC_DTYPES:
                raise WireError(f"an array of dtype {str(value['dtype'])[:20]!r}; expected one of {PUBLIC_DTYPES}")
            array = _array_from(value["dtype"], value["shape"], value["offset"], value["nbytes"], blob)
            return array.astype(np.float64, copy=False)
        return {k: decode_public(v, blob, depth + 1) for k, v in value.items()}
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


def _decode_array(body: Any, blob: bytes | bytearray | memoryview, copy: bool = True) -> np.ndarray:
    if not (isinstance(body, list) and len(body) == 4):
        raise WireError("a malformed array (expected [dtype, shape, offset, nbytes])")
    dtype_str, shape, offset, nbytes = body
    return _array_from(dtype_str, shape, offset, nbytes, blob, copy)


def _is_count(value: Any) -> bool:
    return type(value) is int and value >= 0  # exactly int: a bool is not a count


# numpy's dtype objects for the whitelisted strings, built once (np.dtype(str) per array costs)
_DTYPE_OF: dict[str, np.dtype[Any]] = {name: np.dtype(name) for name in _DTYPES}


def _array_from(
    dtype_str: Any, shape: Any, offset: Any, nbytes: Any, blob: bytes | bytearray | memoryview, copy: bool = True
) -> np.ndarray:
    """One array read from the blob, every part checked first: a whitelisted dtype, a shape of
    counts, nbytes equal to what the shape needs, and offset + nbytes inside the blob; a copy,
    or (``copy`` False) a view of the blob where it is aligned for the dtype."""
    # Every answer's every array passes here: the checks are written for speed (a call at the largest
    # case carries 77 arrays), each one the same as ever.
    dtype = _DTYPE_OF.get(dtype_str) if type(dtype_str) is str else None
    if dtype is None:
        raise WireError(f"an array of a dtype outside the format ({str(dtype_str)[:20]!r})")
    if type(shape) is not list or len(shape) > 32:
        raise WireError(f"an array with a malformed shape ({str(shape)[:60]})")
    count = 1
    for n in shape:
        if type(n) is not int or n < 0 or n > 2**40:
            raise WireError(f"an array with a malformed shape ({str(shape)[:60]})")
        count *= n
    if not (_is_count(offset) and _is_count(nbytes)):
        raise WireError(f"an array whose offset and nbytes are not byte counts ({offset!r}, {nbytes!r})")
    if nbytes != count * dtype.itemsize:
        raise WireError(f"an array of shape {tuple(shape)} and dtype {dtype_str} with nbytes {nbytes}")
    if offset + nbytes > len(blob):
        raise WireError(f"an array at bytes {offset} to {offset + nbytes} of a blob of {len(blob)} bytes")
    array = np.frombuffer(blob, dtype=dtype, count=count, offset=offset)
    if len(shape) != 1:
        array = array.reshape(shape)
    if not copy and array.flags.aligned:
        return array
    # copy: writable, owned, aligned; the blob may be a buffer the channel reuses
    return array.copy()


# -- cases ---------------------------------------------------------------------------------------


# In place of a case's weights and biases: "the arrays of the request before" (``encode_case(kept=True)``).
KEPT = "$kept"


def encode_case(case: Any, *, kept: bool = False) -> dict[str, Any]:
    """The case's fields; ``kept``: its weights and biases are those of the request sent just before
    on the same stream (a worker keeps them: serving.Kept), so that the m single-sample calls
    and the other calls on one case do not each carry the network again."""
    return {
        "sizes": [int(n) for n in case.sizes],
        "activations": [str(a) for a in case.activations],
        "cost": str(case.cost),
        "reduction": str(case.reduction),
        "dtype": str(np.dtype(case.dtype).name),
        "weights": KEPT if kept else [encode(np.asarray(w)) for w in case.weights],
        "biases": KEPT if kept else [encode(np.asarray(b)) for b in case.biases],
        "x": encode(np.asarray(case.x)),
        "y": encode(np.asarray(case.y)),
    }


def decode_case(fields: Any) -> Any:
    """The worker's side: the suite's case (decoded) as a reference.Case of writable arrays."""
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
