"""The worker's private wire format, the channel's command handling, and small judging rules.

The wire format is decoded in the suite from bytes an implementation's process wrote,
so each rule here has its hostile input: a line that would rebuild an object, lie
about its length, or smuggle a boolean in as a number.
"""

from __future__ import annotations

import base64
import json
from typing import Any

import numpy as np
import pytest

from conformance.implementations import wire
from conformance.implementations.channel import command_argv
from conformance.judging.diagnosis import factor
from conformance.judging.structure import StructureError, parse_result


class _NeedsGrad:
    """Like a torch tensor that requires grad: numpy conversion raises."""

    def __array__(self, dtype: Any = None, copy: Any = None) -> np.ndarray:
        raise RuntimeError("Can't call numpy() on Tensor that requires grad.")


def _round_trip(value: Any) -> Any:
    return wire.loads(wire.dumps(wire.encode(value)))


def test_arrays_keep_their_dtype_and_shape() -> None:
    for array in (np.arange(6, dtype=np.float32).reshape(2, 3), np.float32(0.1), np.arange(3, dtype=np.int64)):
        back = _round_trip(array)
        assert isinstance(back, np.ndarray) and back.dtype == np.asarray(array).dtype
        assert back.shape == np.shape(array) and np.array_equal(back, array)
        assert back.flags.writeable


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


@pytest.mark.parametrize(
    "body",
    [
        ["|O", [1], base64.b64encode(b"x" * 8).decode()],  # an object dtype: would rebuild objects
        ["<f8", [2], base64.b64encode(b"x" * 8).decode()],  # 8 bytes for 2 float64
        ["<f8", [-1], ""],
        ["<f8", [1], "not base64!"],
        ["<f8", [True], ""],
        "not a list",
    ],
)
def test_malformed_arrays_are_refused(body: Any) -> None:
    with pytest.raises(wire.WireError):
        wire.loads(json.dumps({wire.ARRAY: body}).encode())


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
