"""The worker's private wire format, the channel's command handling, and small judging rules.

The wire format is decoded in the suite from bytes an implementation's process wrote,
so each rule here has its hostile input: a line that would rebuild an object, lie
about its length, or smuggle a boolean in as a number.
"""

from __future__ import annotations

import json
from typing import Any

import numpy as np
import pytest

from conformance.implementations import gather, wire
from conformance.implementations.channel import command_argv
from conformance.judging.diagnosis import factor
from conformance.judging.structure import StructureError, parse_result


class _NeedsGrad:
    """Like a torch tensor that requires grad: numpy conversion raises."""

    def __array__(self, dtype: Any = None, copy: Any = None) -> np.ndarray:
        raise RuntimeError("Can't call numpy() on Tensor that requires grad.")


def _round_trip(value: Any) -> Any:
    return wire.loads(wire.dumps({"v": wire.encode(value)}))["v"]


def test_arrays_keep_their_dtype_and_shape() -> None:
    transposed = np.arange(6.0).reshape(2, 3).T  # not C-contiguous: its values, not its memory, travel
    arrays = (
        np.arange(6, dtype=np.float32).reshape(2, 3),
        np.float32(0.1),
        np.arange(3, dtype=np.int64),
        transposed,
        np.array([1.5, np.nan, -np.inf], dtype=np.longdouble),
        np.zeros((0, 3)),
        np.array([True, False]),
    )
    for array in arrays:
        back = _round_trip(array)
        assert isinstance(back, np.ndarray) and back.dtype == np.asarray(array).dtype
        assert back.shape == np.shape(array) and np.array_equal(back, array, equal_nan=back.dtype.kind == "f")
        assert back.flags.writeable and back.flags.owndata


def test_what_is_not_a_number_travels_as_a_description() -> None:
    back = _round_trip({"a": _NeedsGrad(), "b": 10**400, "c": (1.0, 2.0), "d": np.array([1 + 2j])})
    assert isinstance(back["a"], wire.Opaque) and "requires grad" in str(back["a"])
    assert isinstance(back["b"], wire.Opaque) and "401 digits" in str(back["b"])
    assert back["c"] == (1.0, 2.0)
    assert isinstance(back["d"], wire.Opaque) and back["d"].dtype == "complex128"


def test_deep_nesting_is_described_not_recursed() -> None:
    value: Any = 1.0
    for _ in range(100):
        value = [value]
    back = _round_trip(value)
    inner = back
    while isinstance(inner, list):
        inner = inner[0]
    assert isinstance(inner, wire.Opaque) and "nested" in str(inner)


def _frame(header: Any, blob: bytes) -> bytes:
    return json.dumps(header).encode() + b"\n" + blob


_EIGHT = np.float64(0.5).tobytes()


@pytest.mark.parametrize(
    ("body", "blob"),
    [
        (["|O", [1], 0, 8], _EIGHT),  # an object dtype: would rebuild objects
        (["<c16", [1], 0, 16], _EIGHT * 2),  # complex: outside the format
        (["<f8", [2], 0, 8], _EIGHT),  # nbytes is not what the shape needs
        (["<f8", [2], 0, 16], _EIGHT),  # the shape and nbytes agree, the blob is shorter
        (["<f8", [1], 8, 8], _EIGHT),  # an offset past the end of the blob
        (["<f8", [1], -8, 8], _EIGHT * 2),
        (["<f8", [1], True, 8], _EIGHT * 2),  # a boolean is not a byte count
        (["<f8", [-1], 0, 8], _EIGHT),
        (["<f8", [True], 0, 8], _EIGHT),
        (["<f8", [1], 0], _EIGHT),  # three parts, not four
        (["<f8", [1], "AAAAAAAA4D8="], _EIGHT),  # the old base64 form
        ("not a list", _EIGHT),
    ],
)
def test_malformed_arrays_are_refused(body: Any, blob: bytes) -> None:
    with pytest.raises(wire.WireError):
        wire.loads(_frame({"blob": len(blob), "v": {wire.ARRAY: body}}, blob))


def test_a_well_formed_array_is_read_from_its_offset() -> None:
    """The positive control of the refusals above: the same shapes, told the truth."""
    blob = np.float64(7.0).tobytes() + _EIGHT
    back = wire.loads(_frame({"blob": 16, "v": {wire.ARRAY: ["<f8", [1], 8, 8]}}, blob))["v"]
    assert back.tolist() == [0.5]


@pytest.mark.parametrize(
    "frame",
    [
        b'{"blob": 8}\n' + b"x" * 7,  # a short blob
        b'{"blob": 8}\n' + b"x" * 9,  # a blob longer than its header says
        b'{"blob": -1}\n',
        b'{"blob": true}\n',
        b'{"blob": "8"}\n' + b"x" * 8,
        b"[1, 2]\n",  # a header that is not an object
        b'{"blob": 0',  # no end of line
    ],
)
def test_malformed_frames_are_refused(frame: bytes) -> None:
    with pytest.raises(wire.WireError):
        wire.loads(frame)


def test_the_frame_carries_raw_bytes_not_base64() -> None:
    """What the framing is for: the blob is the arrays' bytes, so a frame is their size plus a short header."""
    arrays = [np.random.default_rng(0).standard_normal((64, 64)) for _ in range(15)]
    frame = wire.dumps({"weights": wire.encode(arrays)})
    raw = sum(a.nbytes for a in arrays)
    assert raw < len(frame) < raw + 2000
    header, _, blob = frame.partition(b"\n")
    assert json.loads(header)["blob"] == raw and blob == b"".join(a.tobytes() for a in arrays)


def test_the_public_framing_reads_float_arrays_as_float64_and_nothing_else() -> None:
    f4 = np.array([0.1, 2.0], dtype=np.float32)
    blob = f4.tobytes() + np.array([3.0]).tobytes()
    message = {
        "a": {"dtype": "<f4", "shape": [2], "offset": 0, "nbytes": 8},
        "b": [{"dtype": "<f8", "shape": [1, 1], "offset": 8, "nbytes": 8}],
        "c": {"dtype": "<f8", "shape": [1], "offset": 0, "nbytes": 8, "note": 1},  # a fifth key: not an array
    }
    back = wire.decode_public(message, blob)
    assert back["a"].dtype == np.float64 and back["a"].tolist() == f4.astype(np.float64).tolist()
    assert back["b"][0].tolist() == [[3.0]] and back["c"] == message["c"]
    for dtype in ("<i8", "<f2", ">f8", "|b1"):
        with pytest.raises(wire.WireError, match="dtype"):
            wire.decode_public({"a": {"dtype": dtype, "shape": [1], "offset": 0, "nbytes": 8}}, blob)


def test_public_frames_spell_arrays_as_the_contract_says() -> None:
    frame = wire.dumps({"x": wire.encode(np.array([[1.0, 2.0]])), "h": wire.encode(np.float16(1.0))}, public=True)
    header = json.loads(frame.partition(b"\n")[0])
    assert header["x"] == {"dtype": "<f8", "shape": [1, 2], "offset": 0, "nbytes": 16}
    assert header["h"]["dtype"] == "<f8"  # float16 is not in the public framing: sent as float64
    assert header["blob"] == 24


def test_booleans_inside_lists_are_not_numbers() -> None:
    with pytest.raises(StructureError, match=r"grad_weights\[0\]\[0, 1\] is the boolean True"):
        parse_result(
            {"grad_weights": [[[0.5, True]]], "grad_biases": [[0.1]]},
            (2, 1),
            1,
            "float64",
            want_deltas=False,
            want_cost=False,
        )
    ok = parse_result(
        {"grad_weights": [[[0.5, 1]]], "grad_biases": [[0.1]]}, (2, 1), 1, "float64", want_deltas=False, want_cost=False
    )
    assert ok.grad_weights[0].tolist() == [[0.5, 1.0]]


def test_an_opaque_gradient_is_a_structure_error_that_says_what_it_was() -> None:
    with pytest.raises(StructureError, match="requires grad"):
        parse_result(
            {"grad_weights": [_round_trip(_NeedsGrad())], "grad_biases": [[0.1]]},
            (2, 1),
            1,
            "float64",
            want_deltas=False,
            want_cost=False,
        )


def test_simple_commands_run_without_a_shell() -> None:
    assert command_argv("python3 -u my impl.py") == ["python3", "-u", "my", "impl.py"]
    assert command_argv("'python3' 'a b.py'") == ["python3", "a b.py"]
    for shell_only in ("exit 3", "cd x && node y.js", "FOO=1 node y.js", "node y.js | cat", "echo $HOME"):
        assert command_argv(shell_only)[:2] == ["/bin/sh", "-c"], shell_only


def test_a_factor_of_m_is_not_named_when_the_value_is_near_its_tolerance() -> None:
    """m R with R between T/(m - 1) and 2T: rejected by norm_mismatch, but the band of the
    ratio, (m + 1) ||T|| / ||R||, is wider than m itself: "exactly m" cannot be told there
    (issue 17), so no factor is named; with R a million times T it is."""
    m = 33
    tol = np.full(4, 1e-12)
    expected = np.full(4, 1.5e-12)  # below 2T, above T/(m - 1)
    assert factor(m * expected, expected, tol, m) is None
    assert factor(expected / m, expected, tol, m) is None
    sharp = np.full(4, 1.5e-6)
    assert factor(m * sharp, sharp, tol, m) == m
    assert factor(sharp / m, sharp, tol, m) == 1 / m
    assert factor(sharp * 7.0, sharp, tol, m) is None  # off, but by no reduction factor


@pytest.mark.parametrize(
    ("written", "left"), [(0, [b"abc", b"", b"de"]), (2, [b"c", b"de"]), (3, [b"de"]), (4, [b"e"]), (5, [])]
)
def test_a_partial_gathered_write_leaves_the_rest_in_order(written: int, left: list[bytes]) -> None:
    pending = gather.pieces([b"abc", b"", b"de"])
    assert [bytes(p) for p in gather.remaining(pending, written)] == [p for p in left if p]


def test_a_frame_in_pieces_is_the_frame() -> None:
    message = {"x": wire.encode([np.arange(3.0), np.float32(2)]), "n": 1}
    assert b"".join(bytes(p) for p in gather.pieces(wire.frame_parts(message))) == wire.dumps(message)
