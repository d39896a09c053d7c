"""The binary framing offered to --impl-cmd programs (CONTRACT.md, "Binary framing").

tests/hostile/binary.py speaks the framing from the document's text (not with the suite's
wire module): a program that declares it and answers right conforms, with the same verdicts
as over JSON lines; each way of lying in a frame ends that call in a Fault naming the lie,
within the deadline, without reading (let alone allocating) what a header promises beyond
the cap. A program that does not declare the framing is still spoken to in JSON lines (the
Node example, tests/test_node_example.py). The private worker's frames are read the same way:
code in the worker that writes a lying frame on the worker's pipe (tests/hostile/frames.py)
gets the same Faults.
"""

from __future__ import annotations

import sys
import tracemalloc
from pathlib import Path
from typing import Any

import numpy as np
import pytest

import reference
from conformance import check_implementation
from conformance.errors import LoadError
from conformance.implementations.calls import Answer, Fault
from conformance.implementations.isolation import IsolationSettings
from conformance.implementations.loader import load_implementation
from conformance.implementations.protocol import SubprocessImplementation, WorkerImplementation

BINARY = Path(__file__).with_name("hostile") / "binary.py"
JSONL = Path(__file__).with_name("hostile") / "jsonl.py"


def _command(mode: str, program: Path = BINARY) -> str:
    return f"{sys.executable} {program} {mode}"


def _case() -> reference.Case:
    rng = np.random.default_rng(3)
    sizes = (3, 4, 2)
    return reference.Case(
        sizes,
        ("sigmoid", "sigmoid"),
        "quadratic",
        "mean",
        "float64",
        [rng.standard_normal((sizes[i + 1], sizes[i])) for i in range(2)],
        [rng.standard_normal(sizes[i + 1]) for i in range(2)],
        rng.standard_normal((5, 3)),
        rng.random((5, 2)),
    )


def _impl(mode: str, max_answer_bytes: int = 2**26) -> SubprocessImplementation:
    return SubprocessImplementation(_command(mode), settings=IsolationSettings(max_answer_bytes=max_answer_bytes))


def test_a_program_that_declares_the_framing_gets_frames_and_its_answers_are_read() -> None:
    impl = _impl("ok")
    try:
        assert impl.binary
        case = _case()
        outcome = impl.backprop(case)
        assert isinstance(outcome, Answer), outcome
        expected = reference.backprop(case)
        for got, want in zip(outcome.value["grad_weights"], expected["grad_weights"], strict=True):
            assert got.dtype == np.float64 and np.array_equal(got, want)  # raw bytes: bit for bit
        assert outcome.value["cost"] == expected["cost"]
        stepped = impl.sgd_step(case, 0.5)
        assert isinstance(stepped, Answer), stepped
        assert np.array_equal(stepped.value["weights"][1], reference.sgd_step(case, 0.5)["weights"][1])
    finally:
        impl.close()


@pytest.mark.suite
def test_the_same_program_conforms_in_either_framing_with_the_same_verdicts() -> None:
    options: dict[str, Any] = {
        "quick": True,
        "dtypes": ["float64", "float32"],
        "regimes": ["typical"],
        "failures_dir": None,
    }
    binary = check_implementation(impl_cmd=_command("ok"), **options)
    lines = check_implementation(impl_cmd=_command("ok", JSONL), **options)
    assert binary.ok and lines.ok, binary.format()
    assert [(v.check, v.layer, v.dtype, v.status, v.cases) for v in binary.verdicts] == [
        (v.check, v.layer, v.dtype, v.status, v.cases) for v in lines.verdicts
    ]


def _assert_fault_in_bounded_memory(impl: Any, kind: str, says: str) -> None:
    """One call ends in a Fault of ``kind`` naming ``says``, and the suite's side never held 16 MiB doing it
    (a promise of 1 GiB is refused before a byte of it is read)."""
    tracemalloc.start()
    try:
        outcome = impl.backprop(_case())
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
        impl.close()
    assert isinstance(outcome, Fault) and outcome.kind == kind, outcome
    assert says in outcome.message, outcome.message
    assert peak < 2**24, peak


@pytest.mark.parametrize(
    ("mode", "kind", "says"),
    [
        ("past-blob", "garbage", "of a blob of"),
        ("nbytes", "garbage", "with nbytes"),
        ("dtype", "garbage", "dtype '<i8'"),
        ("short-blob", "crash", "exited with status 3"),
        ("oversized", "garbage", f"more than {2**20}"),
    ],
)
def test_each_lie_in_a_frame_ends_the_call_in_a_fault_that_names_it(mode: str, kind: str, says: str) -> None:
    _assert_fault_in_bounded_memory(_impl(mode, max_answer_bytes=2**20), kind, says)


def test_a_header_then_silence_is_a_timeout_not_a_hang(tmp_path: Path) -> None:
    """The blob is read under the request's deadline: asked again in a fresh process, then a Fault."""
    impl = SubprocessImplementation(
        f"{_command('silence')} {tmp_path / 'answered'}", settings=IsolationSettings(timeout=0.5)
    )
    _assert_the_second_call_times_out_and_is_reasked(impl)


def _assert_the_second_call_times_out_and_is_reasked(impl: SubprocessImplementation | WorkerImplementation) -> None:
    """The first call is answered (the warm-up is behind it); the second, cut off mid-frame, is a timeout,
    asked again once in a fresh process."""
    try:
        first = impl.backprop(_case())
        outcome = impl.backprop(_case())
    finally:
        impl.close()
    assert isinstance(first, Answer), first
    assert isinstance(outcome, Fault) and outcome.kind == "timeout", outcome
    assert impl.reasked == 1


def test_an_unknown_framing_is_refused_by_name(tmp_path: Path) -> None:
    program = tmp_path / "framing.py"
    program.write_text(
        "import json, sys\n"
        "for line in sys.stdin:\n"
        "    rid = json.loads(line)['id']\n"
        "    print(json.dumps({'id': rid, 'framing': 'msgpack'}), flush=True)\n",
        encoding="utf-8",
    )
    with pytest.raises(LoadError, match=r'"framing" must be "json" or "binary", got \'msgpack\''):
        SubprocessImplementation(f"{sys.executable} {program}", settings=IsolationSettings())


# -- the private worker's own pipe: the suite reads it as it reads any program ----------------------


@pytest.mark.parametrize(
    ("spec", "kind", "says"),
    [
        ("tests.hostile.frames:PromiseOneGiB", "garbage", f"a frame of {2**30 + 29} bytes (more than {2**20})"),
        ("tests.hostile.frames:ShortBlob", "crash", "exited with status 3"),
    ],
)
@pytest.mark.suite
def test_a_worker_frame_that_lies_about_its_blob_is_a_fault(spec: str, kind: str, says: str) -> None:
    _assert_fault_in_bounded_memory(load_implementation(spec, max_answer_bytes=2**20), kind, says)


@pytest.mark.suite
def test_a_worker_frame_that_stops_halfway_times_out(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("FRAMES_MARKER", str(tmp_path / "answered"))
    impl = load_implementation("tests.hostile.frames:StallAfterFirst", timeout=0.5)
    assert isinstance(impl, WorkerImplementation)
    _assert_the_second_call_times_out_and_is_reasked(impl)
