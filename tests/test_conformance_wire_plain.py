"""A plain result (``wire.Plain``) travels as its arrays' bytes alone, and the suite rebuilds the same dict.

Most of a run's answers are results that ``serving.plainly_a_result`` vouches for. The worker sends
those without a description per array; the suite, which knows the shapes from the case it asked,
lays them out again (``wire.decode_plain``). Each test compares the rebuilt result with what the
general form decodes to, or feeds ``decode_plain`` a frame a hostile process could write.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import pytest

import reference
from conformance.implementations import serving, wire
from conformance.implementations.binding import bind
from conformance.implementations.calls import Answer, Fault
from conformance.implementations.protocol import ReceivedFrame, WorkerImplementation
from reference import Case
from reference.strategies import Architecture, make_case


def _case(sizes: tuple[int, ...], m: int, dtype: str = "float64", seed: int = 3) -> Case:
    activations = ("sigmoid",) * (len(sizes) - 1)
    return make_case(Architecture(sizes, activations, "quadratic"), "typical", m, "mean", dtype, seed)


def _split(frame: bytes) -> tuple[dict[str, Any], bytes]:
    line, _, blob = frame.partition(b"\n")
    return wire.parse_header(line).message, blob


def _both(value: dict[str, Any], case: Case) -> tuple[Any, Any]:
    """(the general form decoded, the plain form decoded) of one answer."""
    general, general_blob = _split(wire.dumps({"result": wire.Unencoded(value), "id": 1}))
    plain, plain_blob = _split(wire.dumps({"result": wire.Plain(value, np.dtype(case.dtype).str), "id": 1}))
    body = plain["result"][wire.PLAIN]
    rebuilt = wire.decode_plain(body, plain_blob, case.sizes, np.shape(case.x)[0])
    return wire.decode(general, blob=general_blob)["result"], rebuilt


def _same(a: Any, b: Any) -> None:
    assert list(a) == list(b)  # the keys, in order
    for key in a:
        if key == "cost":
            assert type(a[key]) is type(b[key]) is float and a[key] == b[key]
            continue
        assert len(a[key]) == len(b[key])
        for x, y in zip(a[key], b[key], strict=True):
            assert x.dtype == y.dtype and x.shape == y.shape and np.array_equal(x, y)
            assert x.flags.writeable and y.flags.writeable


@pytest.mark.parametrize(
    ("sizes", "m", "dtype"),
    [((3, 4, 2), 1, "float64"), ((2, 1), 5, "float64"), ((5, 8, 8, 3), 8, "float32"), ((4, 7, 6, 5, 3), 17, "float64")],
)
def test_a_plain_result_decodes_to_what_the_general_form_decodes_to(sizes: tuple[int, ...], m: int, dtype: str) -> None:
    case = _case(sizes, m, dtype)
    value = dict(reference.backprop(case))
    assert serving.plainly_a_result(value, case)
    _same(*_both(value, case))


def test_the_keys_keep_their_order_whatever_order_the_blob_has() -> None:
    case = _case((3, 4, 2), 4)
    value = dict(reference.backprop(case))
    reordered = {key: value[key] for key in ("cost", "deltas", "grad_weights", "grad_biases")}
    general, plain = _both(reordered, case)
    assert list(plain) == ["cost", "deltas", "grad_weights", "grad_biases"]
    _same(general, plain)


def test_the_worker_sends_plain_only_what_plainly_a_result_vouches_for_with_no_other_key() -> None:
    case = _case((3, 4, 2), 2)
    bound = bind(reference, "reference", reference)
    request = {"op": "backprop", "mutation": False}
    reply, _ = serving.call(bound, request, case)
    assert isinstance(reply["result"], wire.Plain)

    class _Extra:
        def backprop(self, case: Case) -> dict[str, Any]:
            return {**reference.backprop(case), "note": "an extra key"}

    extra, _ = serving.call(bind(_Extra(), "extra", None), request, case)
    assert isinstance(extra["result"], wire.Unencoded)  # the extra key must reach the suite


def test_a_plain_answer_to_the_asked_case_is_an_answer_and_to_another_op_is_garbage() -> None:
    case = _case((3, 4, 2), 3)
    value = dict(reference.backprop(case))
    frame = wire.dumps({"result": wire.Plain(value, "<f8"), "mutation": None, "id": 5})
    line, _, blob = frame.partition(b"\n")
    received = ReceivedFrame(line, wire.parse_header(line), memoryview(bytearray(blob)), owned=True)
    worker = WorkerImplementation.__new__(WorkerImplementation)
    answer = worker._decode(5, "backprop", received, case)
    assert isinstance(answer, Answer)
    _same(answer.value, value | {"cost": float(value["cost"])})
    refused = worker._decode(5, "sgd_step", received, case)
    assert isinstance(refused, Fault) and refused.kind == "garbage" and "plain result to a sgd_step" in refused.message


GOOD: list[Any] = ["<f8", ["grad_weights", "grad_biases", "deltas", "cost"], 0.25]


@pytest.mark.parametrize(
    ("body", "blob_change", "why"),
    [
        ("not a list", 0, "malformed plain result"),
        (GOOD[:2], 0, "malformed plain result"),
        (["<c16", *GOOD[1:]], 0, "dtype outside the format"),
        (["f8", *GOOD[1:]], 0, "dtype outside the format"),
        ([GOOD[0], ["grad_weights", "grad_biases", "deltas"], 0.25], 0, "keys are not"),
        ([GOOD[0], ["grad_weights", "grad_biases", "deltas", "deltas"], 0.25], 0, "keys are not"),
        ([GOOD[0], [*GOOD[1], "extra"], 0.25], 0, "keys are not"),
        ([*GOOD[:2], math.nan], 0, "not a finite float"),
        ([*GOOD[:2], math.inf], 0, "not a finite float"),
        ([*GOOD[:2], 1], 0, "not a finite float"),
        ([*GOOD[:2], True], 0, "not a finite float"),
        ([*GOOD[:2], "0.25"], 0, "not a finite float"),
        (GOOD, -8, "where its case's shapes take"),
        (GOOD, 8, "where its case's shapes take"),
        (["<f4", *GOOD[1:]], 0, "where its case's shapes take"),  # float32 of a float64 blob's length
    ],
)
def test_a_malformed_plain_result_is_refused(body: Any, blob_change: int, why: str) -> None:
    case = _case((3, 4, 2), 2)
    value = dict(reference.backprop(case))
    _, blob = _split(wire.dumps({"result": wire.Plain(value, "<f8")}))
    blob = blob[:blob_change] if blob_change < 0 else blob + b"\0" * blob_change
    with pytest.raises(wire.WireError, match=why):
        wire.decode_plain(body, blob, case.sizes, np.shape(case.x)[0])


def test_the_well_formed_control_is_accepted() -> None:
    """The negative control of the refusals above: the same body and blob, unchanged, decode."""
    case = _case((3, 4, 2), 2)
    value = dict(reference.backprop(case))
    _, blob = _split(wire.dumps({"result": wire.Plain(value, "<f8")}))
    rebuilt = wire.decode_plain(GOOD, blob, case.sizes, 2)
    assert rebuilt["cost"] == 0.25 and np.array_equal(rebuilt["deltas"][1], value["deltas"][1])


def test_decoded_without_copying_the_arrays_are_views_of_the_answer_s_own_buffer() -> None:
    case = _case((3, 4, 2), 2)
    value = dict(reference.backprop(case))
    message, blob = _split(wire.dumps({"result": wire.Plain(value, "<f8")}))
    own = bytearray(blob)
    views = wire.decode_plain(message["result"][wire.PLAIN], memoryview(own), case.sizes, 2, copy=False)
    copies = wire.decode_plain(message["result"][wire.PLAIN], memoryview(own), case.sizes, 2)
    base = np.frombuffer(own, np.uint8)
    assert all(np.shares_memory(a, base) for a in views["grad_weights"])
    assert not any(np.shares_memory(a, base) for a in copies["grad_weights"])


def test_arrays_that_are_not_c_contiguous_travel_as_their_values() -> None:
    """An implementation may answer with transposed or sliced views: the plain form carries their values."""
    case = _case((3, 4, 2), 3)
    value = dict(reference.backprop(case))
    value["grad_weights"] = [np.asfortranarray(w) for w in value["grad_weights"]]
    value["deltas"] = [np.repeat(d, 2, axis=1)[:, ::2] for d in value["deltas"]]
    assert serving.plainly_a_result(value, case) and not value["deltas"][0].flags.c_contiguous
    _same(*_both(value, case))
