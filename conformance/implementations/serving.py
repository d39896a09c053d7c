"""The worker's side of the private protocol: one load frame, then one answer frame per request.

Requests are answered one at a time, in the order they came, however many the suite sent ahead
(it pipelines a batch's single-sample calls: conformance.implementations.protocol); the code under
test is called exactly as it would be if each had come alone. Two fields of a request, both
optional, serve that. ``"chain"`` is a tag shared by calls the suite stops asking at the first
one that fails: a chain stops at a call that raised, and at an answer the suite might refuse to
read as a result (anything but plain finite arrays of the case's dtype and shapes and a float
cost: ``plainly_a_result``); every later request of a stopped chain is answered
``{"skipped": ...}`` without calling anything, and the suite, if it wanted them after all, asks
for them again one at a time. So the code under test never makes a call the suite would not
have asked for. ``"mutation": false`` marks a call whose effect on its input the suite does
not judge: no snapshot of the input is taken for it.

Both workers run this loop: the spec worker (``python -m conformance.implementations.worker``, which loads the
implementation by spec or from a pickle) and the worker forked from the caller
(conformance.implementations.forking, which already holds the caller's object). It imports nothing that
starts processes, so a forked child needs nothing the suite's process does not already have.

The memory cap is applied here, before the implementation is loaded or called: RLIMIT_DATA
(private writable memory: the heap, numpy's and torch's buffers) at what the process holds
when it starts plus the cap, so that a forked child of a large process (pytest, torch loaded)
still gets the whole cap. An allocation past it fails inside the implementation (MemoryError,
or its library's own error), and the answer names the option.
"""

from __future__ import annotations

import io
import math
import os
import sys
from collections.abc import Callable
from typing import IO, Any, cast

import numpy as np

from conformance.errors import LoadError
from conformance.implementations import wire
from conformance.implementations.binding import Bound, bind
from conformance.implementations.calls import describe_exception
from conformance.implementations.gather import IOV_MAX, pieces, remaining
from conformance.implementations.input_mutation import fresh_copy, mutation

# What an allocation past the cap says, in the libraries the suite meets (numpy and Python raise
# MemoryError; torch: "DefaultCPUAllocator: can't allocate memory"; C++: std::bad_alloc).
_OUT_OF_MEMORY = ("MemoryError", "can't allocate memory", "Cannot allocate memory", "bad_alloc", "out of memory")

Loader = Callable[[dict[str, Any]], tuple[Bound | None, dict[str, Any]]]


def private_data_bytes() -> int | None:
    """This process's private writable memory (VmData), the quantity RLIMIT_DATA limits; None off Linux."""
    try:
        with open("/proc/self/status", encoding="ascii") as status:
            for line in status:
                if line.startswith("VmData:"):
                    return int(line.split()[1]) * 1024
    except (OSError, ValueError, IndexError):
        return None
    return None


def apply_memory_cap(cap_mb: int | None) -> str | None:
    """Limit this process to ``cap_mb`` MiB of private memory beyond what it holds now; why not, if it cannot."""
    if not cap_mb:
        return None
    held = private_data_bytes()
    try:
        import resource  # noqa: PLC0415 - POSIX only: imported where it is used, so Windows can load the module
    except ImportError:
        return "no resource module on this platform"
    if held is None:
        return "the process's memory cannot be measured on this platform (no /proc/self/status)"
    limit = held + cap_mb * 2**20
    _, hard = resource.getrlimit(resource.RLIMIT_DATA)
    if hard != resource.RLIM_INFINITY:
        limit = min(limit, hard)
    try:
        resource.setrlimit(resource.RLIMIT_DATA, (limit, hard))
    except (ValueError, OSError) as error:
        return f"setrlimit(RLIMIT_DATA) failed: {error}"
    return None


# Freed heap memory up to this much stays with the worker instead of going back to the system.
_TRIM_THRESHOLD = 64 * 2**20
# Blocks up to this size come from the heap, not from mmap (which gives back, and faults in again,
# every frame's megabyte): the largest threshold glibc accepts on 64-bit systems.
_MMAP_THRESHOLD = 32 * 2**20
_M_TRIM_THRESHOLD = -1  # glibc's mallopt parameter numbers (malloc.h)
_M_MMAP_THRESHOLD = -3


def keep_freed_memory() -> None:
    """Tell glibc's malloc not to hand freed memory back to the system after every call.

    By default it trims the heap's top once 128 KiB are free there, so each call at the largest
    case gave back, then faulted in again, the pages of its arrays: measured, a reference call
    there cost 2.9 ms of CPU in the worker's main thread against 1.3 ms with the threshold raised
    (in process the call runs in a thread, whose heap is not trimmed that way). Nothing the code
    under test can observe changes but its page faults; the memory kept is memory it freed, so its
    peak (what the memory cap limits) does not grow. Elsewhere than glibc, nothing is done.
    """
    try:
        import ctypes  # noqa: PLC0415 - only the worker needs it: start-up time of `import conformance`
    except ImportError:  # pragma: no cover
        return
    try:
        libc = ctypes.CDLL(None)
        libc.mallopt(_M_TRIM_THRESHOLD, _TRIM_THRESHOLD)
        libc.mallopt(_M_MMAP_THRESHOLD, _MMAP_THRESHOLD)
    except (OSError, AttributeError):  # no glibc: no mallopt
        return


def memory_hint(message: str, cap_mb: int | None) -> str:
    """The message, with the cap named when it reads like an allocation that failed."""
    if cap_mb and any(sign in message for sign in _OUT_OF_MEMORY):
        return (
            f"{message} (the worker may allocate at most {cap_mb} MiB: --max-memory-mb, "
            "max_memory_mb= in Python; 0 lifts the cap)"
        )
    return message


def bind_answer(obj: Any, module: Any, name: str) -> tuple[Bound | None, dict[str, Any]]:
    """(the Bound calls, the answer to the load line) for an object in hand."""
    try:
        bound = bind(obj, name, module)
    except LoadError as error:
        return None, {"load_error": str(error)}
    answer = {
        "capabilities": wire.encode(bound.raw_capabilities),
        "has_capabilities": bound.raw_capabilities is not None,
        "capabilities_from": bound.capabilities_from,
        "has_sgd_step": bound.sgd_step is not None,
    }
    return bound, answer


def plainly_a_result(value: Any, case: Any) -> bool:
    """Whether the suite is sure to read ``value`` as a result of ``case`` (its structure check):
    a dict of exactly-str keys holding grad_weights, grad_biases and deltas as lists of finite
    numpy arrays of the case's dtype and shapes, and a finite float cost. False says only "not
    sure" (lists, other dtypes, no deltas, a NaN: the suite decides); it stops a chain."""
    if type(value) is not dict or any(type(key) is not str for key in value):
        return False
    dtype = np.dtype(case.dtype)
    for key, expected in wire.result_shapes(case.sizes, np.shape(case.x)[0]).items():
        arrays: Any = value.get(key)
        if type(arrays) is not list or len(arrays) != len(expected):
            return False
        for array, shape in zip(arrays, expected, strict=True):
            if type(array) is not np.ndarray or array.dtype != dtype or array.shape != shape:
                return False
            if not np.isfinite(array).all():
                return False
    cost: Any = value.get("cost")
    return type(cost) in (float, np.float64) and math.isfinite(cost)


class Kept:
    """The weights and biases of the last request read (copies of the worker's own, never given to the
    code under test): a request whose case says ``wire.KEPT`` for them means these."""

    def __init__(self) -> None:
        self.weights: list[np.ndarray] | None = None
        self.biases: list[np.ndarray] | None = None

    def case(self, request: dict[str, Any], blob: memoryview) -> Any:
        """The request's case as the suite sent it: its arrays views of ``blob`` (checked as every
        frame's are), its weights and biases the kept ones; read from every request, a skipped
        one included, so that "the request before" means the same on both sides."""
        fields = wire.decode(request["case"], blob=blob, copy=False)
        if not isinstance(fields, dict):
            raise wire.WireError("a malformed case")
        for name in ("weights", "biases"):
            if fields.get(name) == wire.KEPT:
                arrays = getattr(self, name)
                if arrays is None:
                    raise wire.WireError(f"a case whose {name} are those of a request before the first")
                fields[name] = arrays
            elif isinstance(fields.get(name), list):
                fields[name] = [np.array(a, copy=True) if type(a) is np.ndarray else a for a in fields[name]]
                setattr(self, name, fields[name])
        return wire.decode_case(fields)


def call(bound: Bound, request: dict[str, Any], viewed: Any, cap_mb: int | None = None) -> tuple[dict[str, Any], bool]:
    """One request's answer: the encoded result, or the error; with any change to the inputs.
    And whether a chain may go on after it: no error, and ``plainly_a_result`` (asked of chained
    requests only).

    ``viewed`` is the request's case (``Kept.case``), whose arrays no code under test has seen:
    the implementation gets copies of them, and its input is compared against them.
    """
    case = fresh_copy(viewed)
    original = viewed if request.get("mutation", True) is not False else None
    op = request.get("op")
    try:
        if op == "sgd_step":
            if bound.sgd_step is None:
                return {"unsupported": "the implementation has no sgd_step method"}, False
            value = bound.sgd_step(case, float(request["eta"]))
        else:
            value = bound.backprop(case)
    except KeyboardInterrupt:
        raise
    except BaseException as error:  # noqa: BLE001 - sys.exit included: it is the code's answer
        message = memory_hint(f"raised {describe_exception(error)}", cap_mb)
        return {"error": message, "mutation": None if original is None else mutation(case, original)}, False
    plain = op == "backprop" and plainly_a_result(value, case)
    go_on = plain and request.get("chain") is not None
    # Encoded as the frame is written (send): one pass over the answer instead of two; a result
    # plainly of the case's shapes as its arrays' bytes alone (wire.Plain), the suite knowing the shapes.
    result = wire.Plain(value, np.dtype(case.dtype).str) if plain and len(value) == 4 else wire.Unencoded(value)
    return {"result": result, "mutation": None if original is None else mutation(case, original)}, go_on


class Inbox:
    """The suite's frames, one at a time; each blob read into one buffer, reused (valid until the next)."""

    def __init__(self, proto_in: IO[bytes]) -> None:
        self.proto_in = cast(io.BufferedReader, proto_in)  # both workers open it buffered (readinto)
        self._blob = bytearray()

    def next(self) -> tuple[dict[str, Any], memoryview] | None:
        """The next frame's header message (arrays still described) and its blob; None at the end of
        requests (the suite closed the pipe, or went away in the middle of a frame)."""
        line = self.proto_in.readline()
        if not line:
            return None
        header = wire.parse_header(line)
        size = header.blob_length
        if len(self._blob) < size:
            self._blob = bytearray(size)
        view = memoryview(self._blob)[:size]
        got = 0
        while got < size:
            n = self.proto_in.readinto(view[got:])
            if not n:
                return None
            got += n
        return header.message, view


def send(proto_out: IO[bytes], message: dict[str, Any], cap_mb: int | None = None) -> None:
    """One frame, written whole in gathered writes (a pipe may take fewer bytes than given); an
    answer that cannot be encoded for want of memory is sent as that error instead."""
    try:
        parts = wire.frame_parts(message)
    except MemoryError:
        error = {"error": memory_hint("its answer could not be encoded: MemoryError", cap_mb)}
        parts = wire.frame_parts({**error, "id": message["id"]} if "id" in message else error)
    pending = pieces(parts)
    while pending:
        pending = remaining(pending, os.writev(proto_out.fileno(), pending[:IOV_MAX]))


def serve(proto_in: IO[bytes], proto_out: IO[bytes], load: Loader) -> int:
    """Answer the load frame, then every request frame, until the suite closes the pipe."""
    keep_freed_memory()
    inbox = Inbox(proto_in)
    frame = inbox.next()
    if frame is None:
        return 0
    message = wire.decode(frame[0], blob=frame[1])
    assert isinstance(message, dict)
    cap = message.get("max_memory_mb")
    cap_mb = cap if isinstance(cap, int) and not isinstance(cap, bool) and cap > 0 else None
    why_not = apply_memory_cap(cap_mb)
    if why_not is not None:
        print(f"conformance worker: no memory cap: {why_not}", file=sys.stderr)
    bound, answer = load(message)
    answer["memory_cap"] = None if why_not is None else why_not
    send(proto_out, answer)
    if bound is None:
        return 0
    stopped: Any = None  # the chain stopped last
    kept = Kept()
    while True:
        frame = inbox.next()
        if frame is None:
            return 0  # end of requests
        request, blob = frame
        viewed = kept.case(request, blob)
        chain = request.get("chain")
        if chain is not None and chain == stopped:
            reply: dict[str, Any] = {"skipped": "its chain stopped at an earlier call"}
        else:
            reply, go_on = call(bound, request, viewed, cap_mb)
            if chain is not None and not go_on:
                stopped = chain
        reply["id"] = request["id"]
        send(proto_out, reply, cap_mb)
