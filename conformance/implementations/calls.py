"""Calling code under test without trusting it: every call ends in an Answer or a Fault.

By default code under test runs in another process (conformance.implementations.protocol). In process
(``--in-process``, for debugging) a call runs in a worker thread so that a hang becomes
a timeout; a thread cannot be killed, so a call that runs out of its budget is waited
for RETRY_FACTOR times the budget more, and then the thread is abandoned (a daemon, it
dies with the process) and later calls report the implementation unresponsive.
The first call gets the warm-up budget (imports, compilation), later ones the timeout; under
``"shapes": "few"`` so does the first call at each new shape (the caller passes its ``key``).
"""

from __future__ import annotations

import queue
import threading
import traceback
from collections.abc import Callable, Hashable
from dataclasses import dataclass
from typing import Any, Literal

# A call that times out is asked again (in a fresh worker process; in process, waited for) with
# RETRY_FACTOR times its budget before it counts as a hang: a real hang hangs twice.
RETRY_FACTOR = 2.0

# The message of a finding whose call the implementation refused (an sgd_step raising
# NotImplementedError, a JSON-lines program's error answer to its first sgd_step): "not covered"
# on that case, and counted by conformance.reporting.report, where refusing some cases of a capability and
# answering others fails it (CONTRACT.md section 1: a refusal is all or nothing).
REFUSAL = "refused: "

FaultKind = Literal["exception", "timeout", "crash", "garbage", "error", "unsupported", "unresponsive"]


@dataclass(frozen=True)
class Answer:
    """What the implementation returned (not yet checked in any way).

    ``mutation`` is filled in by a worker process, the only place that sees the arrays the
    implementation was given: None when unchanged, else where they changed.
    """

    value: Any
    mutation: str | None = None


@dataclass(frozen=True)
class Fault:
    """The implementation did not return a value: the reason, ready for a verdict message."""

    kind: FaultKind
    message: str
    mutation: str | None = None
    final: bool = False  # this fault ended the implementation: it will not be called again

    @property
    def fatal(self) -> bool:
        """The implementation will not be called again (it stopped responding for good)."""
        return self.kind == "unresponsive" or self.final


Outcome = Answer | Fault


def describe_exception(error: BaseException) -> str:
    """'ValueError: bad shape (at net.py:42 in backprop)': the innermost frame is the place."""
    frames = traceback.extract_tb(error.__traceback__)
    where = ""
    if frames:
        last = frames[-1]
        where = f" (at {last.filename}:{last.lineno} in {last.name})"
    text = str(error).strip().splitlines()
    first = text[0] if text else ""
    return f"{type(error).__name__}: {first}{where}" if first else f"{type(error).__name__}{where}"


def first_call_limit(timeout: float | None, warmup: float | None, *, first: bool) -> float | None:
    """The time a call may take: None (no limit) when timeout is None; the first call gets warm-up."""
    if timeout is None:
        return None
    return max(timeout, warmup) if first and warmup is not None else timeout


class ThreadCaller:
    """Runs callables in one reusable worker thread, each with a timeout (None: wait forever)."""

    def __init__(self, timeout: float | None, warmup_timeout: float | None = None) -> None:
        self.timeout = timeout
        self.warmup_timeout = warmup_timeout
        self._called = False
        self._called_once = False  # the call in progress is not a first one (its budget is the timeout)
        self._keys: set[Hashable] = set()  # the keys whose first call has been made
        self.reasked = 0  # calls that timed out once and were then given more time
        self._requests: queue.Queue[tuple[Callable[[], Any], queue.Queue[Outcome]]] | None = None
        self._hung: str | None = None

    def _worker(self, requests: queue.Queue[tuple[Callable[[], Any], queue.Queue[Outcome]]]) -> None:
        while True:
            job, reply = requests.get()
            try:
                reply.put(Answer(job()))
            except BaseException as error:  # noqa: BLE001 - the code under test may raise anything
                reply.put(Fault("exception", f"raised {describe_exception(error)}"))

    def call(self, what: str, job: Callable[[], Any], key: Hashable | None = None) -> Outcome:
        """``job``'s outcome within its budget; the first call, and the first with a new ``key``
        (a kind of call at a shape, under "shapes": "few"), get the warm-up budget."""
        if self._hung is not None:
            return Fault("unresponsive", f"not called: {self._hung}")
        first = not self._called or (key is not None and key not in self._keys)
        limit = first_call_limit(self.timeout, self.warmup_timeout, first=first)
        self._called_once = not first
        self._called = True
        if key is not None:
            self._keys.add(key)
        if limit is None:
            try:
                return Answer(job())
            except KeyboardInterrupt:
                raise
            except BaseException as error:  # noqa: BLE001 - the code under test may raise anything
                return Fault("exception", f"raised {describe_exception(error)}")
        if self._requests is None:
            self._requests = queue.Queue()
            threading.Thread(target=self._worker, args=(self._requests,), daemon=True, name="conformance-call").start()
        reply: queue.Queue[Outcome] = queue.Queue()
        self._requests.put((job, reply))
        try:
            return reply.get(timeout=limit)
        except queue.Empty:
            pass
        # A thread cannot be asked again; it is given RETRY_FACTOR times the budget more instead,
        # as a worker process would be (a busy machine does not fail correct code).
        self.reasked += 1
        extra = RETRY_FACTOR * limit
        try:
            return reply.get(timeout=extra)
        except queue.Empty:
            self._requests = None  # abandon the stuck thread
            self._hung = (
                f"{what} did not return within {limit + extra:g} s on an earlier case (in process: not restarted)"
            )
            option = (
                "--timeout (timeout= in Python)"
                if self._called_once
                else "--warmup-timeout (warmup_timeout= in Python)"
            )
            return Fault(
                "timeout",
                f"did not return within {limit:g} s, nor in {extra:g} s more (a hang, not a busy machine); "
                f"in process, not called again. If your code is this slow, raise {option}",
                final=True,
            )
