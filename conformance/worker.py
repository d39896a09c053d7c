"""The process a Python implementation runs in: ``python -m conformance.worker``.

The suite starts it, sends one ``load`` line (a spec, or the pickled object, and the
suite's sys.path), then one line per call; it answers each line with one line
(conformance.wire's format). Everything the implementation could break stays here:
a hang, a crash, ``sys.exit``, ``os._exit``, a patched module. The verdicts are made in
the suite's process, from the numbers this process sends, so patching the suite's
modules in here changes nothing but this process.

The protocol uses private copies of stdin and stdout; the implementation's own
``print`` (and C code writing to fd 1) goes to stderr, and its stdin is empty.
"""

from __future__ import annotations

import base64
import json
import os
import pickle
import sys
from typing import IO, Any

from . import wire
from .calls import describe_exception
from .loader import LoadError, bind, load_spec
from .mutation import fresh_copy, mutation


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


def _load(message: dict[str, Any]) -> tuple[Any, Any]:
    """(the Bound calls, the answer to the load line)."""
    for entry in reversed(message.get("sys_path") or []):
        if isinstance(entry, str) and entry not in sys.path:
            sys.path.insert(0, entry)
    name = str(message.get("name", "the implementation"))
    try:
        if message.get("pickle") is not None:
            try:
                obj = pickle.loads(base64.b64decode(message["pickle"]))  # noqa: S301 - the suite's own object
            except Exception as error:  # noqa: BLE001 - whatever unpickling raises
                return None, {"cannot_recreate": f"{type(error).__name__}: {str(error)[:200]}"}
            module = None
        else:
            obj, module = load_spec(str(message["spec"]))
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


def _call(bound: Any, request: dict[str, Any]) -> dict[str, Any]:
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
        return {"error": f"raised {describe_exception(error)}", "mutation": mutation(case, original)}
    return {"result": wire.encode(value), "mutation": mutation(case, original)}


def serve() -> int:
    proto_in, proto_out = _private_streams()

    def send(obj: dict[str, Any]) -> None:
        proto_out.write(wire.dumps(obj) + b"\n")

    line = proto_in.readline()
    if not line:
        return 0
    bound, answer = _load(json.loads(line))
    send(answer)
    if bound is None:
        return 0
    while True:
        line = proto_in.readline()
        if not line:
            return 0  # end of requests
        request = json.loads(line)
        reply = _call(bound, request)
        reply["id"] = request["id"]
        send(reply)


if __name__ == "__main__":
    sys.exit(serve())
