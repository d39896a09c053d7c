"""A worker forked from the caller's process: the object judged is the object the caller holds.

``check_implementation(obj)`` and ``parametrize_with_checks(obj)`` judge ``obj`` as it is in
the caller's process, with whatever was set at run time (a class flag, a dtype, a monkeypatch,
``torch.set_default_dtype``). A pickled copy re-imported in a fresh interpreter loses all of
that, and a module cannot be pickled at all; a fork keeps it, and still isolates: the child
is its own process group, which the suite kills as a whole on a hang or a crash, and the next
call runs in a child forked afresh from the caller's (unchanged) state.

What the child does with the parent's process, on purpose:

* it leads a new session (``setsid``), so the group kill reaches its own children, and the
  terminal's Ctrl-C reaches the suite, not it;
* its fds 0, 1 and 2: /dev/null, then the stderr pipe twice (the implementation's ``print``
  and C code writing to fd 1 land in the stderr the suite reads); ``sys.stdin/stdout/stderr``
  are new objects on those fds, so nothing buffered in the parent (pytest's capture) is
  written twice; faulthandler writes to the stderr pipe;
* it closes the parent's ends of the other channels' pipes (``close_in_child``), so that it
  cannot keep another worker's stdin open;
* torch, when loaded: one intra-op thread. OpenMP's thread pool does not survive a fork: a
  child's first parallel torch op after the parent used the pool hangs for ever (measured
  with torch 2.13.0 CPU; ``torch.set_num_threads(1)`` first avoids it). The suite's cases are
  small; the numbers do not depend on the thread count beyond rounding;
* it always ends with ``os._exit``: it never runs the parent's atexit handlers, pytest's
  teardown, or flushes the parent's buffers, whatever the implementation raises.

Threads of the parent do not exist in the child. A lock one of them held at the fork stays
held there: code under test that waits on such a lock hangs, which the suite reports as a
timeout (after asking again in a fresh child). Fork is POSIX only; jax and tensorflow are
not fork-safe (their runtimes' threads), so with either loaded the caller's object is sent
to a worker as a pickled copy, and the report's header says so.
"""

from __future__ import annotations

import contextlib
import faulthandler
import io
import os
import signal
import subprocess
import sys
import time
import traceback
import warnings
from collections.abc import Callable
from typing import IO, NoReturn

# Runtimes whose threads make a forked child unsafe (a deadlock, not an error): no fork with these loaded.
FORK_UNSAFE_MODULES = ("jax", "tensorflow")

ChildMain = Callable[[IO[bytes], IO[bytes]], int]


def fork_available() -> str | None:
    """None when a worker can be forked from this process, else why not (for the report's header)."""
    if not hasattr(os, "fork") or sys.platform == "win32":
        return "this platform cannot fork"
    loaded = [name for name in FORK_UNSAFE_MODULES if name in sys.modules]
    if loaded:
        return f"{loaded[0]} is loaded in this process, and its threads do not survive a fork"
    return None


class ForkedProcess:
    """The part of subprocess.Popen's interface that conformance.implementations.channel uses, for a forked child."""

    def __init__(self, main: ChildMain, *, close_in_child: Callable[[], list[int]]) -> None:
        in_r, in_w = os.pipe()
        out_r, out_w = os.pipe()
        err_r, err_w = os.pipe()
        parent_ends = (in_w, out_r, err_r)
        with warnings.catch_warnings():
            # Python 3.12+ warns when a multi-threaded process forks (DeprecationWarning); the
            # child's setup above is the answer to that warning, and under -W error it must not raise.
            warnings.simplefilter("ignore", DeprecationWarning)
            pid = os.fork()
        if pid == 0:  # pragma: no cover - the child; its coverage is its answers
            _child(main, in_r, out_w, err_w, [*parent_ends, *close_in_child()])
        os.close(in_r)
        os.close(out_w)
        os.close(err_w)
        self.pid = pid
        self.returncode: int | None = None
        self.stdin: IO[bytes] | None = os.fdopen(in_w, "wb", buffering=0)
        self.stdout: IO[bytes] | None = os.fdopen(out_r, "rb", buffering=0)
        self.stderr: IO[bytes] | None = os.fdopen(err_r, "rb", buffering=0)

    def poll(self) -> int | None:
        if self.returncode is None:
            try:
                pid, status = os.waitpid(self.pid, os.WNOHANG)
            except ChildProcessError:
                self.returncode = -signal.SIGKILL  # reaped elsewhere: it is gone
                return self.returncode
            if pid:
                self.returncode = os.waitstatus_to_exitcode(status)
        return self.returncode

    def wait(self, timeout: float | None = None) -> int:
        end = None if timeout is None else time.monotonic() + timeout
        while self.poll() is None:
            if end is not None and time.monotonic() >= end:
                raise subprocess.TimeoutExpired(f"forked worker {self.pid}", timeout or 0.0)
            time.sleep(0.01)
        assert self.returncode is not None
        return self.returncode

    def kill(self) -> None:
        if self.returncode is None:
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.kill(self.pid, signal.SIGKILL)


def _child(main: ChildMain, proto_r: int, proto_w: int, err_w: int, close: list[int]) -> NoReturn:  # pragma: no cover
    """The forked child's whole life; it never returns into the caller's code."""
    code = 70  # EX_SOFTWARE: the child's own setup failed
    try:
        os.setsid()
        for fd in close:
            with contextlib.suppress(OSError):
                os.close(fd)
        devnull = os.open(os.devnull, os.O_RDONLY)
        os.dup2(devnull, 0)
        os.close(devnull)
        os.dup2(err_w, 1)
        os.dup2(err_w, 2)
        os.close(err_w)
        sys.stdin = open(os.devnull, encoding="utf-8")  # noqa: SIM115 - lives as long as the process
        err = io.TextIOWrapper(io.FileIO(2, "w", closefd=False), encoding="utf-8", errors="replace", write_through=True)
        sys.stdout = sys.stderr = err
        with contextlib.suppress(Exception):
            faulthandler.enable(file=err)
        with contextlib.suppress(ValueError):  # forked from a thread that Python does not count as main
            signal.signal(signal.SIGINT, signal.SIG_DFL)
        torch = sys.modules.get("torch")
        if torch is not None:
            with contextlib.suppress(Exception):
                torch.set_num_threads(1)
        proto_in = os.fdopen(proto_r, "rb", buffering=1 << 16)
        proto_out = os.fdopen(proto_w, "wb", buffering=0)
        code = main(proto_in, proto_out)
    except BaseException:  # noqa: BLE001 - whatever happens, the child ends here
        with contextlib.suppress(BaseException):
            os.write(2, traceback.format_exc().encode("utf-8", "replace"))
    finally:
        os._exit(code)
