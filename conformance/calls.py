"""Calling code under test without trusting it: every call ends in an Answer or a Fault.

A Python implementation runs in a worker thread so that a hang becomes a timeout
instead of hanging the suite. A thread cannot be killed, so a timed-out worker is
abandoned (it is a daemon and dies with the process) and the implementation is
marked unresponsive: calling it again would only pile up stuck threads.
"""

from __future__ import annotations

import queue
import threading
import traceback
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Literal

FaultKind = Literal["exception", "timeout", "crash", "garbage", "error", "unsupported", "unresponsive"]


@dataclass(frozen=True)
class Answer:
    """What the implementation returned (not yet checked in any way)."""

    value: Any


@dataclass(frozen=True)
class Fault:
    """The implementation did not return a value: the reason, ready for a verdict message."""

    kind: FaultKind
    message: str

    @property
    def fatal(self) -> bool:
        """After a hang the implementation is not called again; every later call reports this."""
        return self.kind in ("timeout", "unresponsive")


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


class ThreadCaller:
    """Runs callables in one reusable worker thread, each with a timeout (None: wait forever)."""

    def __init__(self, timeout: float | None) -> None:
        self.timeout = timeout
        self._requests: queue.Queue[tuple[Callable[[], Any], queue.Queue[Outcome]]] | None = None
        self._hung: str | None = None

    def _worker(self, requests: queue.Queue[tuple[Callable[[], Any], queue.Queue[Outcome]]]) -> None:
        while True:
            job, reply = requests.get()
            try:
                reply.put(Answer(job()))
            except BaseException as error:  # noqa: B036 - the code under test may raise anything
                reply.put(Fault("exception", f"raised {describe_exception(error)}"))

    def call(self, what: str, job: Callable[[], Any]) -> Outcome:
        if self._hung is not None:
            return Fault("unresponsive", f"not called: {self._hung}")
        if self.timeout is None:
            try:
                return Answer(job())
            except KeyboardInterrupt:
                raise
            except BaseException as error:  # noqa: B036 - the code under test may raise anything
                return Fault("exception", f"raised {describe_exception(error)}")
        if self._requests is None:
            self._requests = queue.Queue()
            threading.Thread(target=self._worker, args=(self._requests,), daemon=True, name="conformance-call").start()
        reply: queue.Queue[Outcome] = queue.Queue()
        self._requests.put((job, reply))
        try:
            return reply.get(timeout=self.timeout)
        except queue.Empty:
            self._requests = None  # abandon the stuck worker
            self._hung = f"{what} did not return within {self.timeout:g} s on an earlier case"
            return Fault("timeout", f"did not return within {self.timeout:g} s (per-case timeout)")
