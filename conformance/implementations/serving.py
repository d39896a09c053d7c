"""The worker's side of the private protocol: one load frame, then one answer frame per request.

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

import os
import sys
from collections.abc import Callable
from typing import IO, Any

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


def call(bound: Bound, request: dict[str, Any], cap_mb: int | None = None) -> dict[str, Any]:
    """One request's answer: the encoded result, or the error; with any change to the inputs."""
    case = wire.decode_case(request["case"])
    original = fresh_copy(case)
    op = request.get("op")
    try:
        if op == "sgd_step":
            if bound.sgd_step is None:
                return {"unsupported": "the implementation has no sgd_step method"}
            value = bound.sgd_step(case, float(request["eta"]))
        else:
            value = bound.backprop(case)
    except KeyboardInterrupt:
        raise
    except BaseException as error:  # noqa: BLE001 - sys.exit included: it is the code's answer
        message = memory_hint(f"raised {describe_exception(error)}", cap_mb)
        return {"error": message, "mutation": mutation(case, original)}
    try:
        encoded = wire.encode(value)
    except MemoryError:
        return {"error": memory_hint("its answer could not be encoded: MemoryError", cap_mb)}
    return {"result": encoded, "mutation": mutation(case, original)}


def receive(proto_in: IO[bytes]) -> dict[str, Any] | None:
    """The suite's next frame, decoded; None at the end of requests (the suite closed the pipe)."""
    line = proto_in.readline()
    if not line:
        return None
    header = wire.parse_header(line)
    blob = proto_in.read(header.blob_length)
    if len(blob) != header.blob_length:
        return None  # the suite went away in the middle of a frame
    message = wire.decode(header.message, blob=blob)
    assert isinstance(message, dict)
    return message


def send(proto_out: IO[bytes], message: dict[str, Any]) -> None:
    """One frame, written whole in gathered writes (a pipe may take fewer bytes than given)."""
    pending = pieces(wire.frame_parts(message))
    while pending:
        pending = remaining(pending, os.writev(proto_out.fileno(), pending[:IOV_MAX]))


def serve(proto_in: IO[bytes], proto_out: IO[bytes], load: Loader) -> int:
    """Answer the load frame, then every request frame, until the suite closes the pipe."""
    keep_freed_memory()
    message = receive(proto_in)
    if message is None:
        return 0
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
    while True:
        request = receive(proto_in)
        if request is None:
            return 0  # end of requests
        reply = call(bound, request, cap_mb)
        reply["id"] = request["id"]
        send(proto_out, reply)
