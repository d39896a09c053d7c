"""Implementations in another process: a Python worker, or any program over JSON lines.

``WorkerImplementation`` runs a Python implementation named by a spec in
``python -P -m conformance.implementations.worker``; ``ForkedImplementation`` runs the caller's own object in
a worker forked from the caller (conformance.implementations.forking), so that run-time state is judged;
``SubprocessImplementation`` runs ``--impl-cmd COMMAND``, which speaks the contract's public
JSON-lines protocol (CONTRACT.md section 5). All sit on conformance.implementations.channel and share one policy:

* every call ends in an Answer or a Fault, never an exception or a hang;
* the warm-up budget runs from a process's start: loading and its first call share it; the
  first call of each other kind (backprop, sgd_step) gets it too, later calls the timeout;
  under ``"shapes": "few"`` the first call of each kind at each new shape (layer sizes, m,
  dtype) gets it: code that compiles per shape compiles there;
* a call that runs out of its budget is asked again, in a fresh process, with RETRY_FACTOR
  times the budget: a real hang hangs twice, a busy machine does not fail correct code
  (``reasked`` counts these, for the report);
* a hang (twice), a crash, an answer line over the size cap, or an answer the suite cannot
  read ends that call with a failing verdict; the process is killed and a fresh one
  started for the next call, so one bad case does not end the run;
* a process that needs restarting more than MAX_RESTARTS times, or hangs MAX_TIMEOUTS
  times, is not started again: later calls report it unresponsive.

``backprop_each`` asks for several cases in turn (a batch's samples one by one), ending at the
first Fault. A Python worker gets them pipelined: every request is sent ahead, and the answers
are read in order, each judged exactly as a call of its own (its own budget, counted from when
the worker could start on it: the previous answer; its own retry, crash, garbage and warm-up
rules). The worker calls the code under test one request at a time, and stops at a call that
raised or at an answer it is not sure the suite reads as a result (serving.py: the requests
after it come back skipped, and the suite asks them one at a time if it still wants them), so
that the code sees exactly the calls it would see asked one by one. A program behind
``--impl-cmd`` is asked one request at a time, as CONTRACT.md section 5 says.
"""

from __future__ import annotations

import base64
import collections
import os
import shlex
import sys
import time
from collections.abc import Callable, Hashable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, replace
from typing import IO, Any

import numpy as np

from conformance.errors import CannotRecreate, CapabilitiesError, LoadError
from conformance.implementations import contract, safejson, wire
from conformance.implementations.calls import RETRY_FACTOR, Answer, Fault, Outcome, first_call_limit
from conformance.implementations.capabilities import Capabilities, parse_capabilities, shape_of
from conformance.implementations.channel import (
    Broken,
    Channel,
    Received,
    ReceivedBytes,
    ReceivedLine,
    command_argv,
    describe_status,
    open_channel_fds,
)
from conformance.implementations.forking import ForkedProcess
from conformance.implementations.isolation import IsolationSettings
from conformance.implementations.serving import bind_answer, memory_hint, serve

MAX_RESTARTS = 20
MAX_TIMEOUTS = 5

# The folder that holds the suite's packages, for the spec worker's PYTHONPATH.
_SUITE_ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

_FLUSH_HINT = (
    "did your program flush stdout? (stdout to a pipe is block-buffered in C, Python and most "
    "languages: flush after each answer line)"
)


@dataclass(frozen=True)
class ReceivedFrame:
    """A binary frame (conformance.implementations.wire): its header line, parsed, and its blob."""

    line: bytes
    header: wire.Header
    blob: memoryview  # the channel's buffer, valid until its next read; or (owned) the frame's own
    owned: bool = False


Reply = ReceivedLine | ReceivedFrame | Broken
Message = bytes | list[bytes | memoryview]  # a JSON line, or a frame in pieces (wire.frame_parts)


def request_frame(
    channel: Channel,
    message: Message,
    deadline: float | None,
    cap: int,
    parse: Callable[[bytes], wire.Header] = wire.parse_header,
    *,
    owned: bool = False,
) -> Reply:
    """Send one frame and read one back, under one deadline (``read_frame``)."""
    return read_frame(channel, channel.request(message, deadline), deadline, cap, parse, owned=owned)


def read_frame(
    channel: Channel,
    received: Received,
    deadline: float | None,
    cap: int,
    parse: Callable[[bytes], wire.Header] = wire.parse_header,
    *,
    owned: bool = False,
) -> Reply:
    """The frame whose header line is ``received``: then exactly the blob it announces, once its
    length is known to fit ``cap`` (nothing is read, let alone allocated, for a header that
    promises more). ``owned``: the blob is read into a buffer of its own, which its decoded
    arrays may keep as theirs (``wire.decode(copy=False)``) instead of being copied out of the
    channel's: at the largest case that copy, into fresh memory, was most of the suite's CPU per call."""
    if not isinstance(received, ReceivedLine):
        return received
    try:
        header = parse(received.text)
    except wire.WireError as error:
        return Broken("unreadable", f"a header line the suite cannot read ({error}): {received.text[:120]!r}")
    if len(received.text) + header.blob_length > cap:
        return Broken("too long", f"a frame of {len(received.text) + header.blob_length} bytes (more than {cap})")
    into = np.empty(header.blob_length, dtype=np.uint8).data if owned else None
    blob = channel.read_exact(header.blob_length, deadline, into)
    if isinstance(blob, Broken):
        return blob
    assert isinstance(blob, ReceivedBytes)
    return ReceivedFrame(received.text, header, blob.data, owned)


@dataclass(frozen=True)
class _Asked:
    """One call as asked: what ``_settle`` needs to judge what came back, and to ask it again."""

    op: str
    case: Any
    eta: float | None
    key: Hashable
    limit: float | None
    warm_up: bool
    extra: Mapping[str, Any] | None = None


def _option(warm_up: bool) -> str:
    """The option that sets the budget a call had (CLI, then the Python keyword)."""
    return "--warmup-timeout (warmup_timeout= in Python)" if warm_up else "--timeout (timeout= in Python)"


class _Process:
    """The restart, warm-up and fault policy shared by both kinds of process implementation."""

    in_process = False
    reports_mutation = False
    capabilities_note: str | None = None

    def __init__(
        self,
        *,
        settings: IsolationSettings,
    ) -> None:
        self.timeout = settings.timeout
        self.warmup_timeout = settings.warmup_timeout
        self.max_answer_bytes = settings.max_answer_bytes
        self.max_memory_mb = settings.max_memory_mb or None
        self.reasked = 0  # calls that timed out once and were asked again (the report prints it)
        self._channel: Channel | None = None
        self._warm: set[Hashable] = set()  # the kinds of call (per shape under "shapes": "few") already made
        self._starts = 0
        self._timeouts = 0
        self._next_id = 0
        self._dead: str | None = None
        self._first_seen: dict[Hashable, float] = {}  # how long each kind's (and shape's) first call took, once
        self._started_at = 0.0  # when the current process was started
        self._fresh = False  # no call sent to the current process yet: its first call's budget counts from the start
        self._answered = False  # some process has answered a request (else a timeout gets the flush hint)
        self._unread: collections.deque[int] = collections.deque()  # ids posted ahead, answers not read yet
        self._pipeline = 0  # the pipelined run of calls in progress: an older one may not read on

    # -- to be provided -------------------------------------------------------------------

    def _argv(self) -> list[str]:
        raise NotImplementedError

    def _open_channel(self) -> Channel:
        """A started child (a subprocess of ``_argv()`` unless overridden: a forked worker)."""
        return Channel(self._argv(), max_line=self.max_answer_bytes)

    def _after_start(self, channel: Channel, deadline: float | None) -> str | None:
        """The handshake after a start; None when it went well, else why not."""
        return None

    def _encode(
        self, rid: int, op: str, case: Any, eta: float | None, extra: Mapping[str, Any] | None = None
    ) -> Message:
        """The request; ``extra``: fields of the private protocol (serving.py), for a worker only."""
        raise NotImplementedError

    def _exchange(self, channel: Channel, message: Message, deadline: float | None) -> Reply:
        """Send one request, read its answer: a JSON line unless overridden (a binary frame)."""
        return channel.request(message, deadline)

    def _receive(self, channel: Channel, deadline: float | None) -> Reply:
        """The next answer of a request posted ahead (only a worker's requests are)."""
        raise NotImplementedError

    def _decode(self, rid: int, op: str, received: ReceivedLine | ReceivedFrame, case: Any = None) -> Outcome:
        """The outcome of an answer to the call ``op`` on ``case`` with request id ``rid``."""
        raise NotImplementedError

    def _silence_hint(self, partial: int) -> str:
        """What to add when no process ever answered (the JSON-lines flush hint)."""
        return ""

    # -- the policy -----------------------------------------------------------------------

    def _warm_key(self, op: str, case: Any) -> Hashable:
        """What a first call is the first of: its kind, or under "shapes": "few" its kind at the case's shape."""
        caps = getattr(self, "capabilities", None)
        if case is None or caps is None or caps.shapes != "few":
            return op
        return (op, shape_of(case))

    def _limit(self, key: Hashable) -> float | None:
        """The timeout, or for the first call of a kind (``_warm_key``) in a process the warm-up budget.

        A restarted process has shown how long its warm-up takes: it gets twice that plus the
        timeout (never more than the budget), so that restarts after a hang stay cheap. Under
        "shapes": "few", the warm-up is the shape's compile, paid by whichever kind of call meets the
        shape first in a process: the longest first call of any kind at that shape. (Its own kind's
        first call may not have compiled: a sgd_step after backprop at the shape took a millisecond,
        and a sgd_step re-asked in a fresh process after one stall, compiling there, was judged a hang.)
        """
        limit = first_call_limit(self.timeout, self.warmup_timeout, first=key not in self._warm)
        if isinstance(key, tuple):  # (kind, shape): _warm_key under "shapes": "few"
            seen = max(
                (t for k, t in self._first_seen.items() if isinstance(k, tuple) and k[1] == key[1]), default=None
            )
        else:
            seen = self._first_seen.get(key)
        if key not in self._warm and seen is not None and limit is not None and self.timeout is not None:
            limit = min(limit, max(self.timeout, 2 * seen + self.timeout))
        return limit

    def _start(self) -> str | None:
        self._starts += 1
        if self._starts > MAX_RESTARTS + 1:
            why = ""
            if self.reasked:
                why = (
                    f" ({self.reasked} of them after a call timed out and was then answered in a fresh process: "
                    "does it hang after some calls, in some state?)"
                )
            return f"the process had to be restarted {MAX_RESTARTS} times{why}; not started again"
        self._started_at = time.monotonic()
        try:
            channel = self._open_channel()
        except OSError as error:
            return f"cannot start {shlex.join(self._argv())}: {error}"
        self._channel = channel
        self._warm.clear()
        self._fresh = True
        # The warm-up budget runs from the start: loading and the first call share it, so that
        # --warmup-timeout 5 means 5 s to the first answer, not 5 s to load and 5 more to answer.
        budget = first_call_limit(self.timeout, self.warmup_timeout, first=True)
        try:
            problem = self._after_start(channel, None if budget is None else self._started_at + budget)
        except BaseException:
            channel.kill()
            self._channel = None
            raise
        if problem is not None:
            channel.kill()
            self._channel = None
        return problem

    def _drop(self) -> None:
        self._unread.clear()
        if self._channel is not None:
            self._channel.kill()
            self._channel = None

    def _ensure_started(self) -> Fault | None:
        """A live process for the next call, or the Fault that says why there is none."""
        if self._channel is not None and self._channel.alive():
            return None
        self._drop()
        try:
            problem = self._start()
        except (LoadError, CannotRecreate) as error:  # loaded once, not again
            problem = f"a fresh process could not load it again: {error}"
            self._dead = problem
            return Fault("unresponsive", problem)
        if problem is not None:
            # It started (and loaded) once; if a fresh process cannot, every later try would
            # cost another warm-up budget: stop here.
            again = "restarted" if self._starts > 1 else "started"
            self._dead = f"the process could not be {again}: {problem}"
            return Fault("crash", self._dead, final=True)
        return None

    def _ask(
        self, op: str, case: Any, eta: float | None, limit: float | None, extra: Mapping[str, Any] | None = None
    ) -> tuple[int, Reply, float]:
        """(request id, what came back, when its budget started): one request to the current process."""
        channel = self._channel
        assert channel is not None
        self._next_id += 1
        rid = self._next_id
        origin = self._started_at if self._fresh else time.monotonic()
        self._fresh = False
        message = self._encode(rid, op, case, eta, extra)
        received = self._exchange(channel, message, None if limit is None else origin + limit)
        return rid, received, origin

    def _hang(self, op: str, key: Hashable, limit: float, retry: float, warm_up: bool, partial: int) -> Fault:
        """A call that did not return twice, the second time in a fresh process with a larger budget."""
        never_answered = not self._answered
        self._drop()
        self._timeouts += 1
        if warm_up and key not in self._first_seen:
            # The first call of its kind never returned, even with the larger budget: a fresh
            # process would only spend the warm-up again.
            at = " at a new shape" if key != op else ""
            self._dead = f"its first {op} call{at} did not return within {limit:g} s, nor within {retry:g} s"
        elif self._timeouts >= MAX_TIMEOUTS:
            self._dead = f"it timed out {MAX_TIMEOUTS} times"
        first = "the first call at this shape" if key != op else "the first call in a fresh process"
        what = f" ({first}: the warm-up budget)" if warm_up else ""
        hint = self._silence_hint(partial) if never_answered else ""
        then = "not called again" if self._dead else "the process was killed and a fresh one is started"
        message = (
            f"did not return within {limit:g} s{what}, nor within {retry:g} s when asked again in a fresh "
            f"process (a hang, not a busy machine); {then}. If your code is this slow, raise {_option(warm_up)}"
        )
        return Fault("timeout", message + (f"; {hint}" if hint else ""), final=self._dead is not None)

    def _broken(self, op: str, broken: Broken, limit: float | None) -> Fault:
        channel = self._channel
        assert channel is not None
        if broken.why == "too long":
            self._drop()
            return Fault("garbage", f"answered with {broken.detail} (the cap is --max-answer-bytes)")
        if broken.why == "unreadable":
            self._drop()
            return Fault("garbage", f"answered with {broken.detail}")
        status = channel.exit_status(wait=2.0)
        tail = channel.stderr_tail()
        self._drop()
        said = f"; its stderr ends with: {tail}" if tail else ""
        message = f"crashed: the process {describe_status(status)} during the {op} call{said}"
        return Fault("crash", memory_hint(message, self.max_memory_mb))

    def _call(self, op: str, case: Any, eta: float | None = None) -> Outcome:
        self._discard_unread()
        if self._dead is not None:
            return Fault("unresponsive", f"not called: {self._dead}")
        fault = self._ensure_started()
        if fault is not None:
            return fault
        key = self._warm_key(op, case)
        limit = self._limit(key)
        warm_up = key not in self._warm
        rid, received, origin = self._ask(op, case, eta, limit)
        return self._settle(_Asked(op, case, eta, key, limit, warm_up), rid, received, origin)

    def _settle(self, asked: _Asked, rid: int, received: Reply, origin: float) -> Outcome:
        """The outcome of one call from what came back: asked again on a timeout, a fault, or the answer."""
        op, case, eta, key, limit, warm_up = asked.op, asked.case, asked.eta, asked.key, asked.limit, asked.warm_up
        if isinstance(received, Broken) and received.why == "timeout" and limit is not None:
            # Asked again in a fresh process, with a larger budget (and the fresh process's warm-up).
            assert self._channel is not None
            partial = self._channel.partial_output()
            self._drop()
            fault = self._ensure_started()
            if fault is not None:
                return fault
            self.reasked += 1
            retry = RETRY_FACTOR * max(limit, self._limit(key) or 0.0)
            rid, received, origin = self._ask(op, case, eta, retry, asked.extra)
            if isinstance(received, Broken) and received.why == "timeout":
                assert self._channel is not None
                return self._hang(op, key, limit, retry, warm_up, max(partial, self._channel.partial_output()))
            limit = retry
        if isinstance(received, Broken):
            return self._broken(op, received, limit)
        self._answered = True
        outcome = self._decode(rid, op, received, case)
        if isinstance(outcome, Fault) and outcome.kind == "garbage":
            self._drop()  # the stream can no longer be trusted: start afresh
        elif key not in self._warm:
            self._warm.add(key)
            self._first_seen.setdefault(key, time.monotonic() - origin)
        return outcome

    # -- several calls in turn ----------------------------------------------------------------

    def backprop(self, case: Any) -> Outcome:
        raise NotImplementedError

    def backprop_each(self, cases: Iterable[Any], judged: int = 0) -> Iterator[Outcome]:
        """backprop on each case in turn, ending at the first Fault: one request at a time unless
        overridden (a worker pipelines them). Only the first ``judged`` outcomes carry an
        input-mutation report."""
        for index, case in enumerate(cases):
            outcome = self.backprop(case)
            yield outcome if isinstance(outcome, Fault) or index < judged else Answer(outcome.value)
            if isinstance(outcome, Fault):
                return

    def _pipelined(self, op: str, cases: Sequence[Any], judged: int = 0) -> Iterator[Outcome]:
        """``op`` on each case in turn, the requests sent ahead; each answer settled as ``_call`` settles one.

        Answer k's budget starts when the worker could start on it (the previous answer read, or
        the process's start for its first request); after a restart (a retry, a crash) the
        requests still unanswered are sent to the new process. The worker stops the chain at a
        call that raised (the run ends there) or at an answer it is not sure the suite reads as a
        result (serving.plainly_a_result): the requests after it come back skipped, and are
        asked again one at a time. Stopping early leaves the rest to ``_discard_unread``. The
        first ``judged`` requests ask the worker to compare their input (``"mutation"``).
        """
        self._discard_unread()
        token = self._pipeline
        chained: dict[str, Any] = {"chain": self._next_id + 1, "mutation": False}
        alone: dict[str, Any] = {"mutation": False}
        ahead = True  # the requests are sent ahead, until a chain stops short
        channel: Channel | None = None
        first_origin: float | None = None
        try:
            for index, case in enumerate(cases):
                if token != self._pipeline:
                    raise RuntimeError("a pipelined run of calls was resumed after another call began")
                while True:  # once more, alone, if its request came back skipped
                    if self._dead is not None:
                        yield Fault("unresponsive", f"not called: {self._dead}")
                        return
                    if channel is None or channel is not self._channel or not self._unread:
                        if channel is None or channel is not self._channel:
                            fault = self._ensure_started()
                            if fault is not None:
                                yield fault
                                return
                            channel = self._channel
                            assert channel is not None
                        first_origin = self._started_at if self._fresh else None
                        self._fresh = False
                        later = cases[index:] if ahead else [case]
                        self._post(channel, op, later, chained if ahead else alone, judged - index)
                    key = self._warm_key(op, case)
                    limit = self._limit(key)
                    warm_up = key not in self._warm
                    origin = time.monotonic() if first_origin is None else first_origin
                    first_origin = None
                    rid = self._unread.popleft()
                    received = self._receive(channel, None if limit is None else origin + limit)
                    if not (ahead and _skipped(received, rid)):
                        break
                    # The chain stopped at the answer before (the worker was not sure it is a result):
                    # the rest come back skipped, and are asked one at a time from here on.
                    ahead = False
                    if not self._read_away(channel, list(self._unread), skipped=True):
                        self._drop()
                    self._unread.clear()
                extra = _judging(chained if ahead else alone, index < judged)
                outcome = self._settle(_Asked(op, case, None, key, limit, warm_up, extra), rid, received, origin)
                yield outcome
                if isinstance(outcome, Fault):
                    return
        finally:
            if token == self._pipeline:
                self._discard_unread()

    def _post(self, channel: Channel, op: str, cases: Sequence[Any], extra: Mapping[str, Any], judged: int = 0) -> None:
        """Send the requests for ``cases`` ahead of their answers (``_unread`` holds their ids); the
        first ``judged`` of them with their input compared."""
        self._unread.clear()
        for index, case in enumerate(cases):
            self._next_id += 1
            self._unread.append(self._next_id)
            channel.post(self._encode(self._next_id, op, case, None, _judging(extra, index < judged)))

    def _read_away(self, channel: Channel, rids: list[int], *, skipped: bool = False) -> bool:
        """Read the answers to ``rids`` and throw them away (``skipped``: each must say it was skipped);
        False when one does not come back cleanly, within the timeout, with its id."""
        for rid in rids:
            deadline = None if self.timeout is None else time.monotonic() + self.timeout
            received = self._receive(channel, deadline)
            said = received.header.message.get("id") if isinstance(received, ReceivedFrame) else None
            if said != rid or isinstance(said, bool) or (skipped and not _skipped(received, rid)):
                return False
        return True

    def _discard_unread(self) -> None:
        """Read and throw away the answers to requests posted ahead that nobody asked for any more
        (the run of calls stopped at a failure); a process that does not give them back cleanly
        is ended, so that the next call starts on a clean stream in a fresh one."""
        self._pipeline += 1  # a run of calls still suspended may not read on: its answers go here
        if not self._unread:
            return
        channel = self._channel
        unread = list(self._unread)
        self._unread.clear()
        if channel is None:
            return
        if self.timeout is None:  # no budget to wait for them within: end the process instead
            self._drop()
            return
        if not self._read_away(channel, unread):
            self._drop()

    def close(self) -> None:
        self._unread.clear()
        if self._channel is not None:
            self._channel.close()
            self._channel = None


def _judging(extra: Mapping[str, Any], judged: bool) -> Mapping[str, Any]:
    """The request's private fields, asking (``judged``) for its input to be compared or not."""
    return {**extra, "mutation": True} if judged else extra


def _same_arrays(sent: tuple[Any, ...], now: Any) -> bool:
    """Whether ``now`` holds exactly the numpy arrays ``sent`` held (the same objects, in order)."""
    return len(sent) == len(now) and all(type(a) is np.ndarray and a is b for a, b in zip(sent, now, strict=False))


def _skipped(received: Reply, rid: int) -> bool:
    """Whether this is the worker's answer to ``rid`` that it skipped the call (its chain had stopped)."""
    if not isinstance(received, ReceivedFrame):
        return False
    message = received.header.message
    return "skipped" in message and message.get("id") == rid and not isinstance(message.get("id"), bool)


def _id_problem(answer: Any, rid: int, text: bytes) -> str | None:
    if not isinstance(answer, dict) or "id" not in answer:
        return f"answered with a line without an id: {text[:200]!r}"
    got = answer["id"]
    if not isinstance(got, int) or isinstance(got, bool):
        return f"answered request {rid} with the id {got!r}, which is not an integer"
    if got != rid:
        kind = "an earlier request again (a duplicate answer)" if got < rid else "a request not yet sent"
        return f"answered request {rid} with the id {got}: {kind}"
    return None


class WorkerImplementation(_Process):
    """A Python implementation in its own worker process (``python -m conformance.implementations.worker``)."""

    reports_mutation = True

    def __init__(
        self,
        *,
        name: str,
        replay_args: str,
        spec: str | None = None,
        pickled: bytes | None = None,
        settings: IsolationSettings,
        isolation: str = "worker process (python -m conformance.implementations.worker)",
    ) -> None:
        super().__init__(settings=settings)
        self.name = name
        self.replay_args = replay_args
        self._load = {
            "name": name,
            "spec": spec,
            "pickle": None if pickled is None else base64.b64encode(pickled).decode("ascii"),
            "sys_path": [os.path.abspath(p) if p else os.getcwd() for p in sys.path],
            "max_memory_mb": self.max_memory_mb,
        }
        self._loaded: dict[str, Any] | None = None
        # The process the last request went to, and that request's weights and biases (``_encode``).
        self._kept: tuple[Channel | None, tuple[Any, ...], tuple[Any, ...]] | None = None
        problem = self._start()
        if problem is not None or self._loaded is None:
            self.close()
            raise LoadError(problem or "the worker did not load the implementation")
        try:
            self.capabilities: Capabilities = parse_capabilities(self._loaded["capabilities"])
        except CapabilitiesError as error:
            self.close()
            raise LoadError(f"{name}: {error}") from None
        self.capabilities_note = self._loaded.get("capabilities_from")
        self.has_sgd_step: bool = bool(self._loaded.get("has_sgd_step"))
        no_cap = self._loaded.get("memory_cap")
        if self.max_memory_mb is None:
            memory = "no memory cap (--max-memory-mb 0)"
        elif no_cap:
            memory = f"no memory cap: {no_cap}"
        else:
            memory = f"memory cap {self.max_memory_mb} MiB (--max-memory-mb)"
        self.isolation = f"{isolation}; {memory}"

    def _argv(self) -> list[str]:
        # -P: the working directory is not searched first, so a conformance.py or reference.py
        # there cannot replace the suite's own packages in the worker; the folder that holds them
        # goes first on PYTHONPATH instead (the implementation's own folders come with the load line).
        return [sys.executable, "-P", "-m", "conformance.implementations.worker"]

    def _open_channel(self) -> Channel:
        env = dict(os.environ)
        env["PYTHONPATH"] = os.pathsep.join(p for p in (_SUITE_ROOT, env.get("PYTHONPATH")) if p)
        return Channel(self._argv(), max_line=self.max_answer_bytes, env=env)

    def _after_start(self, channel: Channel, deadline: float | None) -> str | None:
        received = self._exchange(channel, wire.dumps(self._load), deadline)
        if isinstance(received, Broken):
            if received.why == "timeout":
                return f"loading {self.name} took longer than the warm-up budget (raise {_option(True)})"
            if received.why in ("unreadable", "too long"):
                return f"the worker answered the load request with {received.detail}"
            status = channel.exit_status(wait=2.0)
            tail = channel.stderr_tail()
            said = f"; its stderr ends with: {tail}" if tail else ""
            return f"the worker process {describe_status(status)} while loading {self.name}{said}"
        assert isinstance(received, ReceivedFrame)
        try:
            answer = wire.decode(received.header.message, blob=received.blob, copy=not received.owned)
        except wire.WireError as error:
            return f"the worker answered the load request with something unreadable ({error})"
        if not isinstance(answer, dict):
            return "the worker answered the load request with something unreadable"
        if "cannot_recreate" in answer:
            raise CannotRecreate(str(answer["cannot_recreate"]))
        if "load_error" in answer:
            raise LoadError(str(answer["load_error"]))
        if self._loaded is None:
            self._loaded = answer
        return None

    def _encode(
        self, rid: int, op: str, case: Any, eta: float | None, extra: Mapping[str, Any] | None = None
    ) -> Message:
        # The worker keeps the weights and biases of the request before (serving.Kept): the same
        # arrays (these very objects, which the suite never changes, held here so that no other
        # array can take their place) sent again to the same process are sent as wire.KEPT.
        channel, kept = self._channel, self._kept
        same = (
            kept is not None
            and kept[0] is channel
            and _same_arrays(kept[1], case.weights)
            and _same_arrays(kept[2], case.biases)
        )
        if not same:
            self._kept = (channel, tuple(case.weights), tuple(case.biases))
        fields = wire.encode_case(case, kept=same)
        request: dict[str, Any] = {"id": rid, "op": op, "case": fields, **(extra or {})}
        if eta is not None:
            request["eta"] = float(eta)
        return wire.frame_parts(request)

    def _exchange(self, channel: Channel, message: Message, deadline: float | None) -> Reply:
        return request_frame(channel, message, deadline, self.max_answer_bytes, owned=True)

    def _receive(self, channel: Channel, deadline: float | None) -> Reply:
        return read_frame(channel, channel.read_line(deadline), deadline, self.max_answer_bytes, owned=True)

    def backprop_each(self, cases: Iterable[Any], judged: int = 0) -> Iterator[Outcome]:
        return self._pipelined("backprop", list(cases), judged)

    def _decode(self, rid: int, op: str, received: ReceivedLine | ReceivedFrame, case: Any = None) -> Outcome:
        assert isinstance(received, ReceivedFrame)
        header = received.header.message
        result = header.get("result")
        try:
            if type(result) is dict and len(result) == 1 and wire.PLAIN in result:  # serving.call's wire.Plain
                if case is None or op != "backprop":
                    raise wire.WireError(f"a plain result to a {op} call")
                answer = wire.decode({k: v for k, v in header.items() if k != "result"})
                answer["result"] = wire.decode_plain(
                    result[wire.PLAIN], received.blob, case.sizes, np.shape(case.x)[0], copy=not received.owned
                )
            else:
                answer = wire.decode(header, blob=received.blob, copy=not received.owned)
        except wire.WireError as error:
            return Fault("garbage", f"answered with a frame the suite cannot read ({error})")
        problem = _id_problem(answer, rid, received.line)
        if problem is not None:
            return Fault("garbage", problem)
        if "skipped" in answer:  # only after a call of its chain raised, which ended the run of calls
            return Fault("garbage", f"answered request {rid} as skipped, though no call before it raised")
        mutation = answer.get("mutation")
        mutation = str(mutation)[:300] if mutation is not None else None
        if "unsupported" in answer:
            return Fault("unsupported", str(answer["unsupported"])[:300])
        if "error" in answer:
            message = str(answer["error"])[:500]
            if op == "sgd_step" and message.startswith("raised NotImplementedError"):
                return Fault("unsupported", f"the implementation's sgd_step {message}")
            return Fault("exception", message, mutation)
        if "result" not in answer:
            return Fault("garbage", f"answered request {rid} without a result")
        return Answer(answer["result"], mutation)

    def backprop(self, case: Any) -> Outcome:
        return self._call("backprop", case)

    def sgd_step(self, case: Any, eta: float) -> Outcome:
        if not self.has_sgd_step:
            return Fault("unsupported", "the implementation has no sgd_step method")
        return self._call("sgd_step", case, eta)


class SubprocessImplementation(_Process):
    """An implementation behind a command that speaks the contract's JSON-lines protocol."""

    isolation = "its own process (--impl-cmd)"

    def __init__(
        self,
        command: str,
        *,
        settings: IsolationSettings,
    ) -> None:
        if not command.strip():
            raise LoadError("--impl-cmd needs a command, got an empty string")
        # A program's memory is its own business (the cap is for the suite's Python workers).
        super().__init__(settings=replace(settings, max_memory_mb=None))
        self.command = command
        self.name = f"command: {command}"
        self.replay_args = f"--impl-cmd {shlex.quote(command)}"
        self._sgd_known = False
        self.has_sgd_step: bool = True  # until the first sgd_step request is refused
        self.binary = False  # JSON lines until the capabilities answer declares "framing": "binary"
        outcome = self._call("capabilities", None)
        if isinstance(outcome, Fault):
            if outcome.kind == "error":
                self.capabilities = Capabilities()  # refusing the question: the whole contract
            else:
                self.close()
                raise LoadError(f"{command!r} did not answer the capabilities request: {outcome.message}")
        else:
            answer = outcome.value
            framing = answer.pop("framing", "json") if isinstance(answer, dict) else "json"
            if framing not in ("json", "binary"):
                self.close()
                raise LoadError(f'{command!r}: "framing" must be "json" or "binary", got {str(framing)[:40]!r}')
            self.binary = framing == "binary"
            raw = answer.get("capabilities", answer) if isinstance(answer, Mapping) else answer
            try:
                self.capabilities = parse_capabilities(raw)
            except CapabilitiesError as error:
                self.close()
                raise LoadError(f"{command!r}: {error}") from None

    def _argv(self) -> list[str]:
        return command_argv(self.command)

    def _silence_hint(self, partial: int) -> str:
        if partial:
            return f"it wrote {partial} byte(s) but no end of line: {_FLUSH_HINT}"
        return f"it wrote nothing to stdout: {_FLUSH_HINT}"

    def _encode(
        self, rid: int, op: str, case: Any, eta: float | None, extra: Mapping[str, Any] | None = None
    ) -> Message:
        # The public protocol has no private fields: this program is asked one request at a time.
        request: dict[str, Any] = {"id": rid, "op": op}
        if eta is not None:
            request["eta"] = float(eta)
        if self.binary:  # CONTRACT.md, "Binary framing": the case's arrays as raw bytes after the header
            if case is not None:
                request["case"] = wire.encode_case(case)
            return wire.frame_parts(request, public=True)
        if case is not None:
            request["case"] = contract.encode_case(case)
        return contract.dumps(request).encode("utf-8") + b"\n"

    def _exchange(self, channel: Channel, message: Message, deadline: float | None) -> Reply:
        if self.binary:
            return request_frame(channel, message, deadline, self.max_answer_bytes, self._parse_header)
        return channel.request(message, deadline)

    def _parse_header(self, line: bytes) -> wire.Header:
        """A binary frame's header line, read as boundedly as a JSON line."""
        try:
            return wire.header_of(self._bounded(line.strip()))
        except safejson.JSONInputError as error:
            raise wire.WireError(str(error)) from None

    def _bounded(self, text: bytes) -> Any:
        # Bounded: nesting, integer length and size, so that no answer can exhaust the suite.
        return safejson.loads_bounded(
            text, what="the answer", max_bytes=self.max_answer_bytes, max_depth=32, allow_nan_tokens=True
        )

    def _decode(self, rid: int, op: str, received: ReceivedLine | ReceivedFrame, case: Any = None) -> Outcome:
        if isinstance(received, ReceivedFrame):
            stripped = received.line.strip()
            answer: Any = received.header.message
        else:
            stripped = received.text.strip()
            try:
                answer = self._bounded(stripped)
            except safejson.JSONInputError as error:
                shown = stripped[:200].decode("utf-8", "replace")
                if "not valid JSON" in str(error):
                    return Fault("garbage", f"answered with a line that is not JSON: {shown!r}")
                return Fault("garbage", f"answered with a line the suite refuses to read ({error}): {shown[:80]!r}")
        problem = _id_problem(answer, rid, stripped)
        if problem is not None:
            return Fault("garbage", problem)
        if "error" in answer:
            return Fault("error", f"answered with an error: {str(answer['error'])[:300]}")
        del answer["id"]
        if isinstance(received, ReceivedFrame):
            try:
                answer = wire.decode_public(answer, received.blob)
            except wire.WireError as error:
                return Fault("garbage", f"answered with a frame the suite cannot read: {error}")
        try:
            return Answer(contract.decode_result(answer))
        except (TypeError, ValueError, RecursionError) as error:
            return Fault("garbage", f"answered with a result the suite cannot read: {error}")

    def backprop(self, case: Any) -> Outcome:
        return self._call("backprop", case)

    def sgd_step(self, case: Any, eta: float) -> Outcome:
        if not self.has_sgd_step:
            return Fault("unsupported", "the implementation refused the first sgd_step request")
        outcome = self._call("sgd_step", case, eta)
        if not self._sgd_known:
            self._sgd_known = True
            if isinstance(outcome, Fault) and outcome.kind == "error":
                self.has_sgd_step = False  # refusing the first one means: not implemented
                return Fault(
                    "unsupported",
                    f"the implementation refused the first sgd_step request ({outcome.message})",
                )
        return outcome


class ForkedImplementation(WorkerImplementation):
    """The caller's own object in a worker forked from the caller (conformance.implementations.forking).

    The same private protocol as the spec worker, over pipes; each (re)start forks afresh
    from the caller's process, so the object judged is the object the caller holds, with its
    run-time state, and a crash or a hang still costs only the child.
    """

    def __init__(
        self,
        obj: Any,
        *,
        name: str,
        replay_args: str,
        module: Any = None,
        settings: IsolationSettings,
    ) -> None:
        self._obj = obj
        self._module = module
        super().__init__(
            name=name,
            replay_args=replay_args,
            settings=settings,
            isolation="worker process forked from this one (os.fork: the object as the caller holds it)",
        )

    def _argv(self) -> list[str]:
        return [f"<worker forked from process {os.getpid()}>"]

    def _open_channel(self) -> Channel:
        obj, module, name = self._obj, self._module, self.name

        def main(proto_in: IO[bytes], proto_out: IO[bytes]) -> int:
            return serve(proto_in, proto_out, lambda _message: bind_answer(obj, module, name))

        process = ForkedProcess(main, close_in_child=open_channel_fds)
        return Channel(self._argv(), max_line=self.max_answer_bytes, process=process)
