"""Implementations that write lying frames on the private worker's own protocol pipe.

Loaded in a worker process by spec (``tests.hostile.frames:PromiseOneGiB``): code in the
worker can find the pipe the worker answers on, so the suite must read that pipe as it
reads any untrusted program's output. Each writes a header, then misbehaves:

- ``PromiseOneGiB``: a header announcing 1 GiB of blob, then sleeps;
- ``ShortBlob``: a header announcing 4096 bytes, 10 of them, then exits;
- ``StallAfterFirst``: answers right the first time of all (the file named by the
  environment variable FRAMES_MARKER does not exist yet; it is then created); later, a
  header announcing 4096 bytes and nothing more, then sleeps.
"""

from __future__ import annotations

import fcntl
import os
import time
from typing import Any

import reference


def protocol_fd() -> int:
    """The worker's answer pipe: a write-only pipe that is not the stderr pipe (fds 1 and 2)."""
    stderr_pipe = os.readlink("/proc/self/fd/2")
    for name in sorted(os.listdir("/proc/self/fd"), key=int):
        fd = int(name)
        try:
            target = os.readlink(f"/proc/self/fd/{name}")
            flags = fcntl.fcntl(fd, fcntl.F_GETFL)
        except OSError:
            continue
        if target.startswith("pipe:") and target != stderr_pipe and flags & os.O_ACCMODE == os.O_WRONLY:
            return fd
    raise RuntimeError("no protocol pipe found")


def _lie(header: bytes, then: bytes = b"") -> None:
    os.write(protocol_fd(), header + b"\n" + then)


class PromiseOneGiB:
    def backprop(self, case: Any) -> Any:
        _lie(b'{"blob": 1073741824, "id": 1}')
        time.sleep(3600)


class ShortBlob:
    def backprop(self, case: Any) -> Any:
        _lie(b'{"blob": 4096, "id": 1}', b"x" * 10)
        os._exit(3)


class StallAfterFirst:
    def backprop(self, case: Any) -> Any:
        marker = os.environ["FRAMES_MARKER"]
        if not os.path.exists(marker):
            open(marker, "w").close()
            return reference.backprop(case)
        _lie(b'{"blob": 4096, "id": 2}')
        time.sleep(3600)
        return None
