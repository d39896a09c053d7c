"""The JSON-lines client for implementations in any language (``--impl-cmd "COMMAND"``).

COMMAND is started once (through the shell) and receives one request per line on
stdin; it answers one line per request on stdout, with the request's id. The
suite never trusts the channel: a line that is not JSON, an answer without the
right id, a process that dies, or one that stops answering each become a Fault
for that request, never an exception or a hang. Crashed processes are restarted
(up to MAX_RESTARTS times); a process that times out is killed and not restarted,
because every later request would likely wait out the timeout again.
"""

from __future__ import annotations

import collections
import os
import queue
import shlex
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Mapping
from typing import IO, Any

from . import contract
from .calls import Answer, Fault, Outcome
from .capabilities import Capabilities, CapabilitiesError, parse_capabilities

MAX_RESTARTS = 20
_EOF = object()


def _pump_lines(stream: IO[str], sink: queue.Queue[object]) -> None:
    try:
        for line in stream:
            sink.put(line)
    except (OSError, ValueError):
        pass
    sink.put(_EOF)


def _pump_stderr(stream: IO[str], tail: collections.deque[str]) -> None:
    try:
        for line in stream:
            tail.append(line.rstrip("\n"))
    except (OSError, ValueError):
        pass


class SubprocessImplementation:
    """An implementation behind a command that speaks the contract's JSON-lines protocol."""

    in_process = False

    def __init__(self, command: str, *, timeout: float | None = 10.0) -> None:
        from .loader import LoadError

        if not command.strip():
            raise LoadError("--impl-cmd needs a command, got an empty string")
        self.command = command
        self.name = f"command: {command}"
        self.replay_args = f"--impl-cmd {shlex.quote(command)}"
        self.timeout = timeout
        self._proc: subprocess.Popen[str] | None = None
        self._lines: queue.Queue[object] = queue.Queue()
        self._stderr: collections.deque[str] = collections.deque(maxlen=20)
        self._next_id = 0
        self._restarts = -1  # the first start is not a restart
        self._dead: str | None = None
        self._sgd_known = False
        self.has_sgd_step = True  # until the first sgd_step request is refused
        outcome = self._request({"op": "capabilities"}, timeout=max(timeout or 0.0, 30.0))
        if isinstance(outcome, Fault):
            if outcome.kind == "error":
                self.capabilities = Capabilities()  # refusing the question: the whole contract
            else:
                self.close()
                raise LoadError(f"{command!r} did not answer the capabilities request: {outcome.message}")
        else:
            answer = outcome.value
            raw = answer.get("capabilities", answer) if isinstance(answer, Mapping) else answer
            try:
                self.capabilities = parse_capabilities(raw)
            except CapabilitiesError as error:
                self.close()
                raise LoadError(f"{command!r}: {error}") from None

    # -- process management -------------------------------------------------------------

    def _start(self) -> str | None:
        """Start the process; None on success, else why it could not start."""
        self._restarts += 1
        if self._restarts > MAX_RESTARTS:
            return f"the process crashed {MAX_RESTARTS} times; not restarted again"
        try:
            self._proc = subprocess.Popen(
                self.command,
                shell=True,
                stdin=subprocess.PIPE,
                stdout=subprocess.PIPE,
                stderr=subprocess.PIPE,
                text=True,
                encoding="utf-8",
                errors="replace",
                bufsize=1,
                start_new_session=sys.platform != "win32",
            )
        except OSError as error:
            return f"cannot start {self.command!r}: {error}"
        self._lines = queue.Queue()
        self._stderr.clear()
        assert self._proc.stdout is not None and self._proc.stderr is not None
        for target, args in (
            (_pump_lines, (self._proc.stdout, self._lines)),
            (_pump_stderr, (self._proc.stderr, self._stderr)),
        ):
            threading.Thread(target=target, args=args, daemon=True, name="conformance-pipe").start()
        return None

    def _kill(self) -> None:
        proc, self._proc = self._proc, None
        if proc is None:
            return
        try:
            if sys.platform != "win32":
                os.killpg(proc.pid, signal.SIGKILL)
            else:  # pragma: no cover
                proc.kill()
        except (ProcessLookupError, PermissionError, OSError):
            pass
        for stream in (proc.stdin, proc.stdout, proc.stderr):
            try:
                if stream is not None:
                    stream.close()
            except OSError:
                pass
        try:
            proc.wait(timeout=5)
        except subprocess.TimeoutExpired:  # pragma: no cover
            pass

    def _stderr_tail(self) -> str:
        time.sleep(0.05)  # let the stderr pump catch the last words of a dying process
        lines = [line for line in self._stderr if line.strip()]
        return f"; its stderr ends with: {' | '.join(lines[-3:])}" if lines else ""

    def _crashed(self, while_doing: str) -> Fault:
        proc = self._proc
        status = None
        if proc is not None:
            try:
                status = proc.wait(timeout=2)
            except subprocess.TimeoutExpired:
                status = None
        tail = self._stderr_tail()
        self._kill()
        how = f"exited with status {status}" if status is not None else "closed its stdout"
        return Fault("crash", f"crashed: the process {how} {while_doing}{tail}")

    # -- requests -----------------------------------------------------------------------

    def _request(self, payload: dict[str, Any], timeout: float | None = None) -> Outcome:
        if self._dead is not None:
            return Fault("unresponsive", f"not sent: {self._dead}")
        if self._proc is None or self._proc.poll() is not None:
            if self._proc is not None:
                self._kill()
            problem = self._start()
            if problem is not None:
                self._dead = problem
                return Fault("unresponsive", problem)
        proc = self._proc
        assert proc is not None and proc.stdin is not None
        self._next_id += 1
        rid = self._next_id
        op = payload["op"]
        try:
            line = contract.dumps({"id": rid, **payload})
            proc.stdin.write(line + "\n")
            proc.stdin.flush()
        except (BrokenPipeError, OSError, ValueError):
            return self._crashed(f"before reading the {op} request")
        limit = self.timeout if timeout is None else timeout
        deadline = None if limit is None else time.monotonic() + limit
        while True:
            remaining = None if deadline is None else deadline - time.monotonic()
            if remaining is not None and remaining <= 0:
                self._kill()
                self._dead = f"the process did not answer a {op} request within {limit:g} s earlier"
                return Fault("timeout", f"did not answer within {limit:g} s (per-case timeout)")
            try:
                item = self._lines.get(timeout=remaining)
            except queue.Empty:
                continue
            if item is _EOF:
                return self._crashed(f"instead of answering the {op} request")
            text = str(item).strip()
            if not text:
                continue
            try:
                answer = contract.loads(text)
            except ValueError:
                return Fault("garbage", f"answered with a line that is not JSON: {text[:200]!r}")
            if not isinstance(answer, dict) or "id" not in answer:
                return Fault("garbage", f"answered with a JSON line without an id: {text[:200]!r}")
            if isinstance(answer["id"], int) and answer["id"] < rid:
                continue  # a late answer to an earlier request that already failed
            if answer["id"] != rid:
                return Fault("garbage", f"answered request {rid} with the id {answer['id']!r}")
            if "error" in answer:
                return Fault("error", f"answered with an error: {str(answer['error'])[:300]}")
            del answer["id"]
            return Answer(contract.decode_result(answer))

    def backprop(self, case: Any) -> Outcome:
        return self._request({"op": "backprop", "case": contract.encode_case(case)})

    def sgd_step(self, case: Any, eta: float) -> Outcome:
        if not self.has_sgd_step:
            return Fault("unsupported", "the implementation refused the first sgd_step request")
        outcome = self._request({"op": "sgd_step", "case": contract.encode_case(case), "eta": float(eta)})
        if not self._sgd_known:
            self._sgd_known = True
            if isinstance(outcome, Fault) and outcome.kind == "error":
                self.has_sgd_step = False  # refusing the first one means: not implemented
                return Fault(
                    "unsupported",
                    f"the implementation refused the first sgd_step request ({outcome.message})",
                )
        return outcome

    def close(self) -> None:
        proc = self._proc
        if proc is None:
            return
        try:
            if proc.stdin is not None:
                proc.stdin.close()  # the contract's "end of requests"
            proc.wait(timeout=2)
        except (OSError, subprocess.TimeoutExpired, ValueError):
            pass
        self._kill()
