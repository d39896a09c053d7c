"""One child process spoken to in lines, which the suite can always kill and never waits on.

Every kind of isolated implementation uses it: a Python implementation in a worker
(conformance.implementations.worker, or one forked from the caller:
conformance.implementations.forking) and a program in any language behind ``--impl-cmd``. What it
guarantees, whatever the child does:

* a request and its answer take at most the deadline given: the pipes are read and
  written without blocking (select), so a child that stops reading, stops writing,
  or holds its interpreter's lock in one C call cannot stall the suite;
* one answer line is at most ``max_line`` bytes: a longer one is cut off, reported,
  and the child is killed (its stream can no longer be trusted); the bytes of a binary
  frame (``read_exact``) are read under the same deadline, and only as many as the
  caller has already checked against its own cap;
* the child leads its own process group (``start_new_session``; a forked worker calls
  ``setsid``), which ``kill``
  ends as a whole with SIGKILL; a simple command is exec'd directly, without a
  shell in between, so the process killed is the program itself;
* closing never blocks on a pipe: a detached grandchild (``setsid``) that keeps
  stdout open keeps a pipe the suite has already closed, and nothing waits for it;
* requests may be posted ahead (``post``, for the suite's own workers: pipelining): they are
  written whenever the channel waits for an answer, so that writing them never holds up
  reading, and the child always has its next request at hand.
"""

from __future__ import annotations

import collections
import contextlib
import os
import re
import select
import shlex
import shutil
import signal
import subprocess
import sys
import time
import weakref
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import IO, Protocol

from conformance.implementations.gather import IOV_MAX, pieces, remaining

_STDERR_TAIL_BYTES = 4096
_CHUNK = 1 << 16  # one read of a line; a frame's blob is read straight into its buffer (read_exact)
_PIPE_BYTES = 1 << 20
# Shell syntax that a plain argument vector cannot express: such commands run under sh -c.
_SHELL_SYNTAX = re.compile(r"[|&;<>()$`\\\n*?\[\]#~]|(^|\s)\w+=")


def command_argv(command: str) -> list[str]:
    """The argument vector for a command line: exec'd directly when it is a simple command."""
    if not _SHELL_SYNTAX.search(command):
        try:
            argv = shlex.split(command)
        except ValueError:
            argv = []
        if argv and shutil.which(argv[0]) is not None:  # not a shell builtin
            return argv
    return ["/bin/sh", "-c", command]


class Process(Protocol):
    """What a Channel needs of its child: subprocess.Popen, or conformance.implementations.forking.ForkedProcess."""

    pid: int
    stdin: IO[bytes] | None
    stdout: IO[bytes] | None
    stderr: IO[bytes] | None

    def poll(self) -> int | None: ...

    def wait(self, timeout: float | None = None) -> int: ...

    def kill(self) -> None: ...


@dataclass(frozen=True)
class ReceivedLine:
    """One complete line the child wrote (without the newline)."""

    text: bytes


@dataclass(frozen=True)
class ReceivedBytes:
    """Exactly the number of bytes asked for (a binary frame's blob).

    A view of the channel's own buffer, valid until the next read: decode it, copying, at once.
    """

    data: memoryview


@dataclass(frozen=True)
class Broken:
    """Why no line came: 'timeout', 'eof' (the child closed stdout or exited), 'too long', 'write'."""

    why: str
    detail: str = ""


Received = ReceivedLine | Broken


class Channel:
    """A started child process with line-based request/answer I/O."""

    def __init__(
        self,
        argv: Sequence[str],
        *,
        max_line: int,
        env: Mapping[str, str] | None = None,
        cwd: str | None = None,
        process: Process | None = None,
    ) -> None:
        """Start ``argv``, or (``process``) speak to a child already started, such as a forked worker."""
        self.argv = list(argv)
        self.max_line = max_line
        self._buffer = bytearray()
        self._blob = bytearray()  # read_exact's buffer, reused
        self._outgoing: list[memoryview] = []  # posted requests not yet written (``post``)
        self._stderr: collections.deque[bytes] = collections.deque()
        self._stderr_size = 0
        self.proc: Process = process or subprocess.Popen(  # the user's own command, by design
            self.argv,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            bufsize=0,
            start_new_session=sys.platform != "win32",
            env=None if env is None else dict(env),
            cwd=cwd,
            close_fds=True,
        )
        assert self.proc.stdin is not None and self.proc.stdout is not None and self.proc.stderr is not None
        # bufsize=0: raw file objects, read and written through their descriptors only, so
        # closing one never waits for a lock that a blocked reader holds.
        self._files = {"_in": self.proc.stdin, "_out": self.proc.stdout, "_err": self.proc.stderr}
        self._in: int | None = self.proc.stdin.fileno()
        self._out: int | None = self.proc.stdout.fileno()
        self._err: int | None = self.proc.stderr.fileno()
        for fd in (self._in, self._out, self._err):
            os.set_blocking(fd, False)
        for fd in (self._in, self._out):
            _widen_pipe(fd)
        self._dead = False
        _LIVE.add(self)

    @property
    def pid(self) -> int:
        return self.proc.pid

    def alive(self) -> bool:
        return not self._dead and self.proc.poll() is None

    # -- I/O ------------------------------------------------------------------------------

    def post(self, message: bytes | Sequence[bytes | memoryview]) -> None:
        """Queue ``message`` to be written while the channel waits (``read_line``, ``read_exact``,
        ``request``), after anything posted before it: requests sent ahead of their answers.

        The pieces are not copied: the arrays they view must stay unchanged until written.
        """
        self._outgoing += pieces([message] if isinstance(message, bytes) else message)

    def request(self, message: bytes | Sequence[bytes | memoryview], deadline: float | None) -> Received:
        """Write ``message`` (a line with its newline, or a binary frame, whole or in pieces written
        together), then read the next complete line, both before ``deadline``.

        Anything posted before is written first; the line read is the answer to the first request
        not yet answered, which is ``message``'s only when nothing was posted ahead of it.
        """
        pending = [*self._outgoing, *pieces([message] if isinstance(message, bytes) else message)]
        self._outgoing = []
        while pending:
            if self._in is None:
                return Broken("write", "its stdin is closed")
            readable = [fd for fd in (self._out, self._err) if fd is not None]
            timeout = self._remaining(deadline)
            if timeout is not None and timeout <= 0:
                return Broken("timeout")
            try:
                r, w, _ = select.select(readable, [self._in], [], _slice(timeout))
            except (OSError, ValueError) as error:
                return Broken("write", str(error))
            self._drain(r)
            if not r and not w and self.proc.poll() is not None:
                self._drain_after_exit()
            if self._out is None:
                return Broken("eof")
            if w:
                try:
                    written = os.writev(self._in, pending[:IOV_MAX])
                except BlockingIOError:
                    continue
                except OSError:
                    return Broken("write", "it closed its stdin")
                pending = remaining(pending, written)
        return self.read_line(deadline)

    def read_line(self, deadline: float | None) -> Received:
        """The next complete line, or why there is none before the deadline."""
        while True:
            newline = self._buffer.find(b"\n")
            if newline >= 0:
                if newline > self.max_line:
                    return Broken("too long", f"an answer line of more than {self.max_line} bytes")
                text = bytes(self._buffer[:newline])
                del self._buffer[: newline + 1]
                return ReceivedLine(text)
            if len(self._buffer) > self.max_line:
                return Broken("too long", f"an answer line of more than {self.max_line} bytes")
            r = self._ready(deadline)
            if isinstance(r, Broken):
                return r
            if r:
                self._drain(r)
            elif self.proc.poll() is not None:
                self._drain_after_exit()

    def read_exact(self, size: int, deadline: float | None, into: memoryview | None = None) -> ReceivedBytes | Broken:
        """The next ``size`` bytes, or why they did not all come before the deadline.

        The caller has checked ``size`` against its cap: a child that promises more than it
        sends costs the deadline and at most the cap's worth of memory (what an honest answer of
        that size would cost), never what an unchecked header could promise.

        ``into``: a buffer of ``size`` bytes of the caller's to read into (then the answer's, not
        reused by the channel); otherwise the channel's own, reused at its next read.
        """
        if into is not None:
            view = into.cast("B")
            if view.nbytes != size:
                raise ValueError(f"read_exact: a buffer of {view.nbytes} bytes for {size}")
        else:
            # Read straight into one buffer kept for the channel's life: a megabyte allocated afresh
            # for every answer costs its page faults every time.
            if len(self._blob) < size:
                self._blob = bytearray(size)
            view = memoryview(self._blob)[:size]
        got = self._take_buffered(view)
        while got < size:
            r = self._ready(deadline)
            if isinstance(r, Broken):
                return r
            if self._out in r:
                try:
                    n = os.readv(self._out, [view[got:]])
                except BlockingIOError:
                    n = -1
                except OSError:
                    n = 0
                if n == 0:
                    self._close_fd("_out")
                got += max(n, 0)
            if self._err is not None and self._err in r:
                self._drain([self._err])
            if not r and self.proc.poll() is not None:
                self._drain_after_exit()
                got += self._take_buffered(view[got:])
        return ReceivedBytes(view)

    def _ready(self, deadline: float | None) -> list[int] | Broken:
        """The pipes readable within the next slice of the deadline, or why there is nothing more to wait for.

        Posted requests are written meanwhile, as far as the child's stdin takes them; a child that
        closed its stdin gets no more of them (what it does then, answer or die, is read as usual).
        """
        if self._out is None:
            return Broken("eof")
        timeout = self._remaining(deadline)
        if timeout is not None and timeout <= 0:
            return Broken("timeout")
        readable = [fd for fd in (self._out, self._err) if fd is not None]
        writable = [self._in] if self._outgoing and self._in is not None else []
        try:
            r, w, _ = select.select(readable, writable, [], _slice(timeout))
        except (OSError, ValueError):
            return Broken("eof")
        if w:
            self._write_posted()
        return r

    def _write_posted(self) -> None:
        """As much of the posted requests as the child's stdin takes now, without blocking."""
        assert self._in is not None
        try:
            written = os.writev(self._in, self._outgoing[:IOV_MAX])
        except BlockingIOError:
            return
        except OSError:  # it closed its stdin: nothing more can reach it
            self._outgoing = []
            return
        self._outgoing = remaining(self._outgoing, written)

    def _take_buffered(self, into: memoryview) -> int:
        """Move what the buffer holds (up to ``len(into)`` bytes) into ``into``; how many moved."""
        n = min(len(into), len(self._buffer))
        into[:n] = self._buffer[:n]
        del self._buffer[:n]
        return n

    def _drain(self, ready: Sequence[int]) -> None:
        for fd in ready:
            try:
                data = os.read(fd, _CHUNK)
            except BlockingIOError:
                continue
            except OSError:
                data = b""
            if fd == self._err:
                if data:
                    self._keep_stderr(data)
                else:
                    self._close_fd("_err")
            elif fd == self._out:
                if data:
                    self._buffer += data
                else:
                    self._close_fd("_out")

    def _drain_after_exit(self) -> None:
        """The child has exited: take what it wrote, then treat stdout as closed.

        Its stdout may stay open for ever in a detached grandchild (a new session, out of
        reach of the group kill), so the end of the child, not the end of the pipe, ends
        the wait: a crash is reported as a crash at once, not as a timeout.
        """
        for _ in range(1024):
            ready = [fd for fd in (self._out, self._err) if fd is not None]
            try:
                r, _, _ = select.select(ready, [], [], 0)
            except (OSError, ValueError):
                break
            if not r:
                break
            self._drain(r)
        self._close_fd("_out")

    def _keep_stderr(self, data: bytes) -> None:
        self._stderr.append(data)
        self._stderr_size += len(data)
        while self._stderr_size > _STDERR_TAIL_BYTES and len(self._stderr) > 1:
            self._stderr_size -= len(self._stderr.popleft())

    @staticmethod
    def _remaining(deadline: float | None) -> float | None:
        return None if deadline is None else deadline - time.monotonic()

    def stderr_tail(self, lines: int = 3) -> str:
        """The last non-empty lines the child wrote to stderr (what a crash usually says)."""
        end = time.monotonic() + 0.2
        while self._err is not None and time.monotonic() < end:  # its last words, if it is dying
            try:
                r, _, _ = select.select([self._err], [], [], max(0.0, end - time.monotonic()))
            except (OSError, ValueError):
                break
            if not r:
                break
            self._drain(r)
        text = b"".join(self._stderr).decode("utf-8", "replace")
        kept = [line.strip() for line in text.splitlines() if line.strip()]
        return " | ".join(kept[-lines:])

    def exit_status(self, wait: float = 0.0) -> int | None:
        """The child's exit status if it has ended (waiting up to ``wait`` seconds), else None."""
        try:
            return self.proc.wait(timeout=wait) if wait > 0 else self.proc.poll()
        except subprocess.TimeoutExpired:
            return None

    # -- ending ---------------------------------------------------------------------------

    def partial_output(self) -> int:
        """How many bytes of an unfinished line the child has written (no newline yet)."""
        return len(self._buffer)

    def open_fds(self) -> list[int]:
        """The suite's ends of this child's pipes that are still open."""
        return [fd for fd in (self._in, self._out, self._err) if fd is not None]

    def _close_fd(self, name: str) -> None:
        if getattr(self, name) is not None:
            setattr(self, name, None)
            with contextlib.suppress(OSError):
                self._files[name].close()

    def _close_pipes(self) -> None:
        self._outgoing = []
        for name in ("_in", "_out", "_err"):
            self._close_fd(name)

    def kill(self) -> None:
        """SIGKILL to the child's whole process group, then reap it; never blocks on a pipe."""
        if self._dead:
            return
        self._dead = True
        with contextlib.suppress(ProcessLookupError, PermissionError, OSError):
            if sys.platform != "win32":
                os.killpg(self.proc.pid, signal.SIGKILL)
            else:  # pragma: no cover
                self.proc.kill()
        with contextlib.suppress(ProcessLookupError, OSError):
            self.proc.kill()
        self._close_pipes()
        with contextlib.suppress(subprocess.TimeoutExpired):
            self.proc.wait(timeout=5)
        _reap_group(self.proc.pid)

    def close(self, grace: float = 2.0) -> None:
        """End of requests: close stdin, give the child ``grace`` seconds to exit, then kill."""
        if self._dead:
            return
        self._close_fd("_in")
        if self.exit_status(wait=grace) is None:
            self.kill()
            return
        self._dead = True
        with contextlib.suppress(ProcessLookupError, PermissionError, OSError):
            os.killpg(self.proc.pid, signal.SIGKILL)  # what it left behind in its group
        self._close_pipes()
        _reap_group(self.proc.pid)


_LIVE: weakref.WeakSet[Channel] = weakref.WeakSet()


def open_channel_fds() -> list[int]:
    """The suite's ends of every live channel's pipes: a forked worker closes them (it must not keep
    another worker's stdin open, or that worker never sees the end of its requests)."""
    return [fd for channel in list(_LIVE) for fd in channel.open_fds()]


def _widen_pipe(fd: int) -> None:
    """Let the pipe hold a whole large frame (Linux: up to fs.pipe-max-size, 1 MiB by default).

    With the default 64 KiB, a frame of 1 MB crosses in 16 hand-offs between the two processes,
    each a wait for the scheduler on a busy machine; with a wide pipe the writer finishes in one
    go and the reader takes it in a few reads. Where the call fails (not Linux, or the user's
    pipe budget, fs.pipe-user-pages-soft, 64 MiB by default, is spent: 32 channels at once), the
    pipe keeps its size and only speed is lost.
    """
    try:
        import fcntl  # noqa: PLC0415 - POSIX only: imported where it is used, so Windows can load the module
    except ImportError:  # pragma: no cover
        return
    setter = getattr(fcntl, "F_SETPIPE_SZ", None)
    if setter is None:  # not Linux
        return
    with contextlib.suppress(OSError):
        fcntl.fcntl(fd, setter, _PIPE_BYTES)


def _slice(timeout: float | None) -> float:
    """Wait in short slices, so that a child that died is noticed even if its pipes live on."""
    return 0.05 if timeout is None else max(0.0, min(timeout, 0.05))


def _reap_group(pgid: int) -> None:
    """Collect any exited children of ours in that process group (no zombies left behind)."""
    if sys.platform == "win32":  # pragma: no cover
        return
    while True:
        try:
            pid, _ = os.waitpid(-pgid, os.WNOHANG)
        except (ChildProcessError, OSError):
            return
        if pid == 0:
            return


def describe_status(status: int | None) -> str:
    """'exited with status 3', 'was killed by signal 11 (SIGSEGV)', or 'closed its stdout'."""
    if status is None:
        return "closed its stdout"
    if status < 0:
        try:
            name = signal.Signals(-status).name
        except ValueError:
            name = "unknown signal"
        return f"was killed by signal {-status} ({name})"
    return f"exited with status {status}"
