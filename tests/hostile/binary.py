"""A program that declares the binary framing (CONTRACT.md, "Binary framing") and speaks it.

    python tests/hostile/binary.py MODE [MARKER]

It reads and writes the frames itself, from the contract's text (json, the arrays' raw
bytes), not with the suite's wire module, so that a test it passes checks the suite against
the document. Right answers come from the reference engine; MODE says how it misbehaves:

- ``ok``: never;
- ``short-blob``: a backprop answer's header announces more bytes than follow, then it exits;
- ``past-blob``: the last array's offset + nbytes run past the end of the blob;
- ``nbytes``: an array's nbytes is not what its shape needs (8 bytes more, and 8 more bytes sent);
- ``dtype``: the arrays are int64 ("<i8"), outside the framing's dtypes;
- ``silence MARKER``: the first backprop request of all (when the file MARKER does not exist yet;
  it is then created) is answered right; every later one with a header that announces 1 MiB,
  then nothing (it stays alive, reading nothing);
- ``oversized``: a header that announces 1 GiB (nothing follows).
"""

from __future__ import annotations

import json
import os
import sys
import time
from typing import Any

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))))

import reference

ARRAY_KEYS = {"dtype", "shape", "offset", "nbytes"}


def read_frame(stream: Any) -> dict[str, Any] | None:
    """One frame: the header line, then as many bytes as its "blob" says; arrays rebuilt."""
    line = stream.readline()
    if not line:
        return None
    header = json.loads(line)
    blob = stream.read(header.pop("blob", 0))

    def rebuild(value: Any) -> Any:
        if isinstance(value, dict) and set(value) == ARRAY_KEYS:
            data = blob[value["offset"] : value["offset"] + value["nbytes"]]
            return np.frombuffer(data, dtype=value["dtype"]).reshape(value["shape"])
        if isinstance(value, dict):
            return {k: rebuild(v) for k, v in value.items()}
        if isinstance(value, list):
            return [rebuild(v) for v in value]
        return value

    return rebuild(header)


def frame(message: dict[str, Any], mode: str = "ok") -> bytes:
    """The header line (arrays described), then their bytes; ``mode`` bends it as the docstring says."""
    chunks: list[bytes] = []
    offset = 0

    def describe(value: Any) -> Any:
        nonlocal offset
        if isinstance(value, np.ndarray):
            array = np.ascontiguousarray(value, dtype="<i8" if mode == "dtype" else "<f8")
            data = array.tobytes() + (b"\0" * 8 if mode == "nbytes" else b"")
            chunks.append(data)
            offset += len(data)
            return {
                "dtype": array.dtype.str,
                "shape": list(array.shape),
                "offset": offset - len(data),
                "nbytes": len(data),
            }
        if isinstance(value, dict):
            return {k: describe(v) for k, v in value.items()}
        if isinstance(value, list | tuple):
            return [describe(v) for v in value]
        return value

    header = describe(message)
    blob = b"".join(chunks)
    if mode == "past-blob":
        last = header["grad_biases"][-1]
        last["offset"] = len(blob) - last["nbytes"] + 8
    header["blob"] = len(blob)
    if mode == "short-blob":
        blob = blob[: len(blob) // 2]
    return json.dumps(header).encode() + b"\n" + blob


def main() -> None:
    mode = sys.argv[1]
    stdin, stdout = sys.stdin.buffer, sys.stdout.buffer
    while (request := read_frame(stdin)) is not None:
        rid, op = request["id"], request.get("op")
        if op == "capabilities":  # a plain JSON line, with the framing declared
            stdout.write(json.dumps({"id": rid, "framing": "binary", "outputs": ["deltas", "cost"]}).encode() + b"\n")
            stdout.flush()
            continue
        case = reference.Case(
            tuple(request["case"]["sizes"]),
            tuple(request["case"]["activations"]),
            request["case"]["cost"],
            request["case"]["reduction"],
            request["case"]["dtype"],
            [np.array(w) for w in request["case"]["weights"]],
            [np.array(b) for b in request["case"]["biases"]],
            np.array(request["case"]["x"]),
            np.array(request["case"]["y"]),
        )
        if op == "sgd_step":
            stepped = reference.sgd_step(case, request["eta"])
            stdout.write(frame({"id": rid, "weights": stepped["weights"], "biases": stepped["biases"]}))
        elif op == "backprop":
            if mode == "silence" and os.path.exists(sys.argv[2]):
                stdout.write(json.dumps({"id": rid, "blob": 2**20}).encode() + b"\n")
                stdout.flush()
                time.sleep(3600)
            if mode == "oversized":
                stdout.write(json.dumps({"id": rid, "blob": 2**30}).encode() + b"\n")
                stdout.flush()
                time.sleep(3600)
            if mode == "silence":
                open(sys.argv[2], "w").close()
            result = reference.backprop(case)
            answer = {"id": rid, **{k: result[k] for k in ("grad_weights", "grad_biases", "deltas", "cost")}}
            stdout.write(frame(answer, mode))
            if mode == "short-blob":
                stdout.flush()
                os._exit(3)
        else:
            stdout.write(json.dumps({"id": rid, "error": f"unknown op {op!r}"}).encode() + b"\n")
        stdout.flush()


if __name__ == "__main__":
    main()
