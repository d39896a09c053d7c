"""A batch's single-sample calls pipelined to a Python worker, each judged as a call of its own.

batch_additivity asks for the m samples of a case one by one; a worker gets the m requests ahead
of their answers (conformance.implementations.protocol, ``backprop_each``). What must not change is
what is judged: each call's budget, retry, crash, garbage and mutation rules, the sample a fault
is attributed to, the messages, and the calls the code under test sees. The hostile
implementations of tests/hostile/singles.py are judged twice, pipelined and one request at a
time (the worker as it was), and must get the same report; a run made to speculate (the worker
told every answer is plainly a result) shows the comparison can fail. A --impl-cmd program is
never pipelined: one that loses requests sent ahead still conforms.
"""

from __future__ import annotations

import json
import math
import sys
import time
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pytest

import reference
from conformance import check_implementation
from conformance.implementations import contract, serving, wire
from conformance.implementations.calls import Answer, Fault, Outcome
from conformance.implementations.channel import Channel, ReceivedLine
from conformance.implementations.isolation import IsolationSettings
from conformance.implementations.protocol import ForkedImplementation, WorkerImplementation
from conformance.judging.structure import parse_result
from conformance.reporting.report import Report
from reference import Case
from reference.strategies import Architecture, make_case
from tests.broken_impls.base import Backprop
from tests.broken_impls.behaviour import ScratchesTheInput
from tests.hostile import singles

ONE_LINE_PER_READ = Path(__file__).parent / "hostile" / "one_line_per_read.py"


def _case(m: int = 4, seed: int = 7) -> Case:
    return make_case(
        Architecture((3, 4, 2), ("sigmoid", "sigmoid"), "quadratic"), "typical", m, "mean", "float64", seed
    )


# -- the worker's side, without a worker ----------------------------------------------------------


def test_a_result_of_plain_finite_arrays_is_plainly_a_result() -> None:
    case = _case(1)
    assert serving.plainly_a_result(dict(reference.backprop(case)), case)


@pytest.mark.parametrize("dtype", ["float64", "float32"])
@pytest.mark.parametrize("m", [1, 3])
def test_what_is_plainly_a_result_the_structure_check_reads(dtype: str, m: int) -> None:
    """Sound: a chain goes on after an answer only where the suite will ask the next call."""
    arch = Architecture((3, 4, 4, 2), ("tanh", "relu", "sigmoid"), "cross_entropy")
    case = make_case(arch, "typical", m, "mean", dtype, 11)
    value = dict(reference.backprop(case))
    assert serving.plainly_a_result(value, case)
    line, _, blob = wire.dumps({"result": wire.encode(value)}).partition(b"\n")
    decoded = wire.decode(wire.parse_header(line).message, blob=blob)["result"]
    parse_result(decoded, case.sizes, case.m, dtype, want_deltas=True, want_cost=True)  # raises if not


@pytest.mark.parametrize(
    "spoil",
    [
        lambda r: {**r, "grad_weights": [g.tolist() for g in r["grad_weights"]]},  # lists: the suite decides
        lambda r: {**r, "deltas": None},
        lambda r: {k: v for k, v in r.items() if k != "cost"},
        lambda r: {**r, "cost": np.float32(r["cost"])},
        lambda r: {**r, "cost": [[1.0], [2.0, 3.0]]},
        lambda r: {**r, "cost": math.nan},
        lambda r: {**r, "grad_biases": [b.astype(np.float32) for b in r["grad_biases"]]},
        lambda r: {**r, "grad_weights": [g.T for g in r["grad_weights"]]},
        lambda r: {**r, "grad_weights": r["grad_weights"][:-1]},
        lambda r: {**r, "deltas": [d * np.inf for d in r["deltas"]]},
        lambda r: {**r, 1: "a key that is not a string"},
        lambda r: list(r.values()),
    ],
    ids=[
        "lists",
        "no-deltas",
        "no-cost",
        "float32-cost",
        "ragged-cost",
        "nan-cost",
        "float32-arrays",
        "transposed",
        "a-layer-short",
        "infinite-deltas",
        "int-key",
        "not-a-dict",
    ],
)
def test_anything_else_stops_a_chain(spoil: Any) -> None:
    case = _case(1)
    assert not serving.plainly_a_result(spoil(dict(reference.backprop(case))), case)


def _frame(message: dict[str, Any]) -> tuple[dict[str, Any], memoryview]:
    line, _, blob = wire.dumps(message).partition(b"\n")
    return wire.parse_header(line).message, memoryview(bytearray(blob))


def test_kept_weights_are_the_worker_s_own_copies_of_the_request_before() -> None:
    case = _case(2)
    kept = serving.Kept()
    first, blob = _frame({"id": 1, "case": wire.encode_case(case)})
    given = kept.case(first, blob)
    blob[:] = bytes(len(blob))  # the next request overwrites the buffer: the kept arrays are not in it
    second, blob2 = _frame({"id": 2, "case": wire.encode_case(case.replace(x=case.x[:1], y=case.y[:1]), kept=True)})
    again = kept.case(second, blob2)
    for a, b in zip([*given.weights, *given.biases], [*case.weights, *case.biases], strict=True):
        assert np.array_equal(a, b)
    assert all(a is b for a, b in zip(again.weights, given.weights, strict=True))
    assert np.array_equal(again.x, case.x[:1])


def test_kept_weights_before_any_request_are_refused() -> None:
    message, blob = _frame({"id": 1, "case": wire.encode_case(_case(2), kept=True)})
    with pytest.raises(wire.WireError, match="before the first"):
        serving.Kept().case(message, blob)


@pytest.mark.parametrize(
    "message",
    [
        {"id": 1, "op": "backprop", "case": wire.encode_case(_case(3))},
        {"a": [1, 2.5, math.nan, math.inf, -math.inf, None, True, False, 'é\u2028"\\x', np.float64(0.1), -0.0, 5e-324]},
        {"r": wire.encode({"g": [np.arange(6.0).reshape(3, 2), np.float32(1.5), (1, 2)], "o": object()})},
        {},
    ],
    ids=["case", "scalars", "encoded", "empty"],
)
@pytest.mark.parametrize("public", [False, True])
def test_a_header_is_the_text_json_dumps_writes(message: dict[str, Any], public: bool) -> None:
    """The header is written in one pass (wire._json_text): the same text as json.dumps with a default."""
    chunks: list[bytes] = []

    def place(value: Any) -> Any:
        array = (
            value.array.astype(np.float64)
            if public and value.array.dtype.str not in wire.PUBLIC_DTYPES
            else value.array
        )
        at = sum(len(c) for c in chunks)
        chunks.append(array.tobytes())
        described = [array.dtype.str, list(array.shape), at, array.nbytes]
        return (
            dict(zip(("dtype", "shape", "offset", "nbytes"), described, strict=True)) if public else {"$a": described}
        )

    try:
        body = json.dumps(message, separators=(",", ":"), allow_nan=not public, default=place)
    except ValueError as error:  # NaN in a public header
        with pytest.raises(ValueError, match=str(error)):
            wire.dumps(message, public=public)
        return
    size = sum(len(c) for c in chunks)
    header = f'{{"blob":{size},{body[1:]}' if body != "{}" else f'{{"blob":{size}}}'
    assert wire.dumps(message, public=public) == header.encode() + b"\n" + b"".join(chunks)


def test_an_answer_decoded_without_copying_is_views_of_its_own_buffer() -> None:
    message = {"g": wire.encode([np.arange(6.0).reshape(2, 3), np.arange(3, dtype=np.float32)])}
    line, _, blob = wire.dumps(message).partition(b"\n")
    own = np.frombuffer(blob, np.uint8).copy()
    views = wire.decode(wire.parse_header(line).message, blob=own.data, copy=False)["g"]
    copies = wire.decode(wire.parse_header(line).message, blob=own.data)["g"]
    assert all(np.shares_memory(v, own) for v in views) and not any(np.shares_memory(c, own) for c in copies)
    assert all(np.array_equal(v, c) and v.flags.writeable for v, c in zip(views, copies, strict=True))


def test_an_array_the_blob_holds_misaligned_is_copied_all_the_same() -> None:
    blob = np.zeros(17, np.uint8)
    blob[1:9] = np.frombuffer(np.float64(2.5).tobytes(), np.uint8)
    array = wire.decode({"$a": ["<f8", [1], 1, 8]}, blob=blob.data, copy=False)
    assert array.flags.aligned and not np.shares_memory(array, blob) and array[0] == 2.5


# -- a worker --------------------------------------------------------------------------------------


class _OneAtATime(WorkerImplementation):
    """The spec worker asked one request at a time, as before pipelining: the control."""

    def backprop_each(self, cases: Iterable[Any], judged: int = 0) -> Iterator[Outcome]:
        for index, case in enumerate(cases):
            outcome = self.backprop(case)
            yield outcome if isinstance(outcome, Fault) or index < judged else Answer(outcome.value)
            if isinstance(outcome, Fault):
                return


def _settings(timeout: float) -> IsolationSettings:
    return IsolationSettings(timeout=timeout, warmup_timeout=30.0)


def _fingerprint(report: Report) -> dict[str, Any]:
    return {
        "ok": report.ok,
        "verdicts": [(v.check, v.layer, v.status, v.message) for v in report.verdicts],
        "causes": [(c.check, c.layer, c.message, c.network) for c in report.causes],
        "groups": report.groups,
        "reasked": report.settings.get("calls re-asked after a timeout"),
    }


def _judged(impl: Any) -> dict[str, Any]:
    report = check_implementation(impl, quick=True, dtypes=["float64"], regimes=["typical"], seed=3, failures_dir=None)
    return _fingerprint(report)


HOSTILE = [
    "RaggedOnThirdSingle",
    "RaisesOnThirdSingle",
    "CrashesOnThirdSingle",
    "MutatesOnThirdSingle",
    "DoubledOnThirdSingle",
    "EveryFifthCallRagged",
    "EveryFifthCallRaggedInLists",
]


SAMPLE_2 = {
    "CrashesOnThirdSingle": "backprop on sample 2 alone (m = 1) crashed: the process exited with status 3",
    "RaisesOnThirdSingle": "backprop on sample 2 alone (m = 1) raised ValueError: the third sample alone",
    "RaggedOnThirdSingle": "backprop on sample 2 alone (m = 1): cost is not a number nor a 1-element array",
}


@pytest.mark.suite
@pytest.mark.parametrize("name", HOSTILE)
def test_a_pipelined_run_judges_as_one_request_at_a_time(name: str) -> None:
    spec = f"tests.hostile.singles:{name}"
    pipelined = _judged(WorkerImplementation(spec=spec, name=spec, replay_args="", settings=_settings(10.0)))
    alone = _judged(_OneAtATime(spec=spec, name=spec, replay_args="", settings=_settings(10.0)))
    assert pipelined == alone
    assert not pipelined["ok"] or name == "MutatesOnThirdSingle"  # a single call's input is not judged
    if name in SAMPLE_2:  # the third call in a row is sample 2's: the fault is attributed to it
        assert any(SAMPLE_2[name] in message for *_, message in pipelined["verdicts"])


@pytest.mark.suite
def test_a_hang_in_the_third_single_is_asked_again_as_one_request_at_a_time() -> None:
    """Asked again in a fresh process, the third single is its first there, and answers."""
    spec = "tests.hostile.singles:HangsOnThirdSingle"
    pipelined = _judged(WorkerImplementation(spec=spec, name=spec, replay_args="", settings=_settings(1.0)))
    alone = _judged(_OneAtATime(spec=spec, name=spec, replay_args="", settings=_settings(1.0)))
    assert pipelined == alone and pipelined["ok"] and pipelined["reasked"] >= 1


@pytest.mark.suite
def test_the_comparison_fails_a_worker_that_runs_calls_the_suite_would_not_make(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The negative control: a worker sure of every answer runs the calls after a malformed one,
    and the implementation that counts its calls is judged on other cases."""
    monkeypatch.setattr(serving, "plainly_a_result", lambda value, case: True)  # the forked worker inherits it
    settings = _settings(10.0)
    speculating = _judged(
        ForkedImplementation(singles.EveryFifthCallRagged(), name="x", replay_args="", settings=settings)
    )
    spec = "tests.hostile.singles:EveryFifthCallRagged"
    alone = _judged(_OneAtATime(spec=spec, name=spec, replay_args="", settings=settings))
    assert speculating != alone


@pytest.mark.suite
def test_the_first_calls_input_is_still_compared_in_the_worker() -> None:
    report = check_implementation(
        ScratchesTheInput(), quick=True, dtypes=["float64"], regimes=["typical"], failures_dir=None
    )
    failed = [v for v in report.verdicts if v.check == "no_mutation" and v.status == "failed"]
    assert failed and "backprop modified its input: x[" in failed[0].message and "is now 0.0" in failed[0].message


class _Slow(Backprop):
    def __init__(self, seconds: float) -> None:
        self.seconds = seconds

    def backprop(self, case: Any) -> dict[str, Any]:
        time.sleep(self.seconds)
        return super().backprop(case)


@pytest.mark.suite
def test_each_answer_s_budget_starts_when_the_worker_could_start_on_it() -> None:
    """Four calls of 0.5 s each, sent together, with a timeout of 1.4 s: counted from when they were
    sent, the third and the fourth would run out of it; each is given its own."""
    impl = ForkedImplementation(_Slow(0.5), name="slow", replay_args="", settings=_settings(1.4))
    try:
        case = _case(4)
        assert isinstance(impl.backprop(case), Answer)  # the warm-up call
        outcomes = list(impl.backprop_each([case.replace(x=case.x[s : s + 1], y=case.y[s : s + 1]) for s in range(4)]))
        assert [type(o) for o in outcomes] == [Answer] * 4 and impl.reasked == 0
    finally:
        impl.close()


@pytest.mark.suite
def test_a_call_longer_than_its_budget_still_times_out_when_pipelined() -> None:
    """The control of the one above: a call of 0.4 s given 0.2 s is asked again (and answers)."""
    impl = ForkedImplementation(_Slow(0.4), name="slow", replay_args="", settings=_settings(0.2))
    try:
        case = _case(2)
        assert isinstance(impl.backprop(case), Answer)
        outcomes = list(impl.backprop_each([case.replace(x=case.x[s : s + 1], y=case.y[s : s + 1]) for s in range(2)]))
        assert [type(o) for o in outcomes] == [Answer] * 2 and impl.reasked == 2
    finally:
        impl.close()


@pytest.mark.suite
def test_a_run_stopped_early_leaves_the_next_call_a_clean_stream() -> None:
    impl = ForkedImplementation(Backprop(), name="b", replay_args="", settings=_settings(10.0))
    try:
        case = _case(3)
        run = impl.backprop_each([case] * 5)
        assert isinstance(next(run), Answer)
        second = impl.backprop(case.replace(x=case.x[:1], y=case.y[:1]))  # four answers are still on their way
        assert isinstance(second, Answer) and np.shape(second.value["deltas"][0]) == (1, 4)
        with pytest.raises(RuntimeError, match="resumed after another call began"):
            next(run)
    finally:
        impl.close()


# -- a program behind --impl-cmd -------------------------------------------------------------------


@pytest.mark.suite
def test_a_program_that_loses_requests_sent_ahead_conforms_it_is_asked_one_at_a_time() -> None:
    report = check_implementation(
        impl_cmd=f"{sys.executable} {ONE_LINE_PER_READ}",
        quick=True,
        dtypes=["float64"],
        regimes=["typical"],
        failures_dir=None,
    )
    assert report.ok, report.format()


@pytest.mark.suite
def test_the_program_does_lose_a_request_sent_ahead() -> None:
    """Its control: two requests written together get one answer."""
    case = _case(2)
    lines = b"".join(
        (contract.dumps({"id": i, "op": "backprop", "case": contract.encode_case(case)}) + "\n").encode()
        for i in (1, 2)
    )
    channel = Channel([sys.executable, str(ONE_LINE_PER_READ)], max_line=1 << 24)
    try:
        first = channel.request(lines, time.monotonic() + 30)
        assert isinstance(first, ReceivedLine) and json.loads(first.text)["id"] == 1
        assert channel.read_line(time.monotonic() + 2).__class__.__name__ == "Broken"  # no second answer
    finally:
        channel.kill()
