"""The process a Python implementation named by a spec runs in: ``python -m conformance.implementations.worker``.

The suite starts it, sends one ``load`` frame (a spec, or the pickled object, and the
suite's sys.path), then one frame per call; it answers each frame with one frame
(conformance.implementations.wire's format: a header line, then the arrays' raw bytes; the loop
is conformance.implementations.serving, shared with the worker forked from the caller).
Everything the implementation could break stays here: a hang, a crash, ``sys.exit``,
``os._exit``, a patched module. The verdicts are made in
the suite's process, from the numbers this process sends, so patching the suite's
modules in here changes nothing but this process.

The protocol uses private copies of stdin and stdout; the implementation's own
``print`` (and C code writing to fd 1) goes to stderr, and its stdin is empty.
"""

from __future__ import annotations

import base64
import os
import pickle
import sys
from typing import IO, Any

from conformance.errors import LoadError
from conformance.implementations.binding import Bound
from conformance.implementations.loader import load_spec
from conformance.implementations.serving import bind_answer, serve


def _private_streams() -> tuple[IO[bytes], IO[bytes]]:
    """Move the protocol off fds 0 and 1, so that nothing the implementation does can reach it by accident."""
    proto_in = os.fdopen(os.dup(0), "rb", buffering=1 << 16)
    proto_out = os.fdopen(os.dup(1), "wb", buffering=0)
    devnull = os.open(os.devnull, os.O_RDONLY)
    os.dup2(devnull, 0)
    os.close(devnull)
    os.dup2(2, 1)
    sys.stdin = open(os.devnull, encoding="utf-8")  # noqa: SIM115 - lives as long as the process
    sys.stdout = sys.stderr
    return proto_in, proto_out


def _load(message: dict[str, Any]) -> tuple[Bound | None, dict[str, Any]]:
    """(the Bound calls, the answer to the load line)."""
    for entry in reversed(message.get("sys_path") or []):
        if isinstance(entry, str) and entry not in sys.path:
            sys.path.insert(0, entry)
    name = str(message.get("name", "the implementation"))
    if message.get("pickle") is not None:
        try:
            obj = pickle.loads(base64.b64decode(message["pickle"]))  # noqa: S301 - the suite's own object
        except Exception as error:  # noqa: BLE001 - whatever unpickling raises
            return None, {"cannot_recreate": f"{type(error).__name__}: {str(error)[:200]}"}
        return bind_answer(obj, None, name)
    try:
        obj, module = load_spec(str(message["spec"]))
    except LoadError as error:
        return None, {"load_error": str(error)}
    return bind_answer(obj, module, name)


def main() -> int:
    proto_in, proto_out = _private_streams()
    return serve(proto_in, proto_out, _load)


if __name__ == "__main__":
    sys.exit(main())
