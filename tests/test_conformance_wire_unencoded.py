"""A worker's answer written in one pass (``wire.Unencoded``) is the frame of ``wire.encode``'s form.

The worker no longer builds encode's tree of an answer and then walks it again to write the
header: ``frame_parts`` writes the answer's common kinds (dicts of str keys, lists, numeric
arrays, floats, small ints, strings, None, booleans) directly and sends everything else through
``encode``. The suite must not be able to tell: every frame here is compared, byte for byte,
with the frame of ``encode(value)``, on the values where the two ways could part: encode's
truncations (strings past 200 characters, keys past 100), its depth limit, its descriptions
(big ints, tuples, object arrays, complex numbers, hostile objects), subclasses of the plain
kinds, non-contiguous arrays, and random nestings of all of them.
"""

from __future__ import annotations

import math
import os
from fractions import Fraction
from typing import Any

import mpmath
import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import reference
from conformance.implementations import gather, serving, wire
from reference.strategies import Architecture, make_case


def _frame(value: Any) -> bytes:
    """The frame of a worker's reply carrying ``value`` as before: encode's tree, then the header."""
    return wire.dumps({"result": wire.encode(value), "mutation": None, "id": 7})


def _one_pass(value: Any) -> bytes:
    parts = wire.frame_parts({"result": wire.Unencoded(value), "mutation": None, "id": 7})
    return b"".join(bytes(p) for p in gather.pieces(parts))


class _Hostile:
    def __repr__(self) -> str:
        raise RuntimeError("no repr")


class _Float(float):
    pass


class _Int(int):
    pass


class _Str(str):
    pass


class _Dict(dict[Any, Any]):
    pass


def _nested(depth: int) -> Any:
    value: Any = np.arange(3.0)
    for i in range(depth):
        value = [value] if i % 2 else {"k": value}
    return value


EDGES: dict[str, Any] = {
    "a result": dict(
        reference.backprop(
            make_case(Architecture((3, 4, 2), ("sigmoid", "relu"), "quadratic"), "typical", 5, "mean", "float64", 1)
        )
    ),
    "float32 and int arrays": {"g": [np.ones((2, 3), np.float32), np.arange(4), np.array([True])]},
    "a transposed array": {"g": np.arange(6.0).reshape(2, 3).T},
    "a strided view that reshapes to a strided view": {"g": np.arange(24.0).reshape(3, 8)[:, ::2]},
    "a 0-d array and numpy scalars": [np.array(2.5), np.float64(0.1), np.float32(1.5), np.int64(3), np.bool_(True)],
    "an object array": np.array([1.0, "x", None], dtype=object),
    "complex and datetime arrays": [np.array([1 + 2j]), np.array(["2020-01-01"], dtype="datetime64[D]")],
    "a string past 200 characters": {"s": "é" * 300, "t": "x" * 200},
    "a key past 100 characters": {"k" * 150: 1.0, "j" * 100: 2.0},
    "keys that are not strings": {1: 1.0, None: 2.0, (1, 2): 3.0},
    "a str key beside an int key that reads the same": {"1": 1.0, 1: 2.0},
    "ints at and past 64 bits": [2**63, -(2**63), 2**64, 2**64 - 1, -(2**64), 10**400],
    "non-finite floats": [math.nan, math.inf, -math.inf, -0.0, 5e-324],
    "subclasses of the plain kinds": [_Float(1.5), _Int(3), _Str("s"), _Dict(a=1.0), True, False, None],
    "tuples": (1.0, (2.0, [3.0]), ()),
    "exact numbers": [Fraction(1, 3), mpmath.mpf("0.1")],
    "a hostile object": {"o": _Hostile(), "f": object()},
    "nesting at the depth limit": _nested(wire.MAX_DEPTH),
    "nesting past the depth limit": _nested(wire.MAX_DEPTH + 3),
    "empty containers": [[], {}, np.zeros((0, 3))],
    "a large array (gathered, not joined)": {"g": np.arange(20000.0)},
}


@pytest.mark.parametrize("value", list(EDGES.values()), ids=list(EDGES))
def test_one_pass_writes_the_frame_of_encode(value: Any) -> None:
    assert _one_pass(value) == _frame(value)


_LEAVES = st.one_of(
    st.floats(allow_nan=True, allow_infinity=True),
    st.integers(min_value=-(2**70), max_value=2**70),
    st.text(max_size=250),
    st.none(),
    st.booleans(),
    st.sampled_from([np.float64, np.float32, np.int32, np.uint8, np.bool_, np.complex128]).map(
        lambda t: np.arange(6).reshape(2, 3).astype(t)
    ),
    st.just(np.arange(6.0).reshape(3, 2)[:, 0]),
)
_VALUES = st.recursive(
    _LEAVES,
    lambda inner: st.one_of(
        st.lists(inner, max_size=4),
        st.tuples(inner, inner),
        st.dictionaries(st.one_of(st.text(max_size=120), st.integers(0, 3)), inner, max_size=4),
    ),
    max_leaves=20,
)


@given(_VALUES)
def test_one_pass_writes_the_frame_of_encode_for_any_nesting(value: Any) -> None:
    assert _one_pass(value) == _frame(value)


def test_the_comparison_sees_a_writer_that_skips_one_of_encodes_rules() -> None:
    """Negative control: a one-pass writer that forgot encode's 200-character cut would differ."""
    long = {"s": "x" * 300}
    forgetful = wire.dumps({"result": long, "mutation": None, "id": 7})
    assert forgetful != _frame(long) and _one_pass(long) == _frame(long)


def test_a_small_frame_is_one_piece_and_a_large_one_is_gathered_without_copies() -> None:
    small = wire.frame_parts({"result": wire.Unencoded({"g": np.arange(4.0)})})
    big_array = np.arange(20000.0)
    big = wire.frame_parts({"result": wire.Unencoded({"g": big_array})})
    assert len(small) == 1
    assert len(big) == 2 and np.shares_memory(np.frombuffer(big[1], np.float64), big_array)


def test_an_answer_that_cannot_be_encoded_for_memory_is_sent_as_that_error(monkeypatch: pytest.MonkeyPatch) -> None:
    """The encoding moved from ``serving.call`` into ``serving.send``: a MemoryError there (an answer too
    large for --max-memory-mb) still reaches the suite as the error, with the request's id."""
    real = wire.frame_parts

    def exhausted(message: Any, *, public: bool = False) -> Any:
        if any(isinstance(v, wire.Unencoded) for v in message.values()):
            raise MemoryError
        return real(message, public=public)

    monkeypatch.setattr(wire, "frame_parts", exhausted)
    read, write = os.pipe()
    with os.fdopen(write, "wb", buffering=0) as out:
        serving.send(out, {"result": wire.Unencoded([np.zeros(3)]), "mutation": None, "id": 3}, 64)
    with os.fdopen(read, "rb") as pipe:
        answer = wire.loads(pipe.read())
    assert answer == {"error": serving.memory_hint("its answer could not be encoded: MemoryError", 64), "id": 3}
    assert "--max-memory-mb" in answer["error"]
