"""A JSON-lines program that answers correctly only when requests arrive one at a time.

    python tests/hostile/one_line_per_read.py

It reads stdin with one os.read per request and answers the first line of what it read,
dropping the rest: requests sent ahead of their answers (pipelined) would be lost. The suite
asks a --impl-cmd program one request at a time (CONTRACT.md section 5), so it conforms.
"""

from __future__ import annotations

import json
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))))

import reference
from conformance.implementations import contract


def answer(request: dict) -> dict:
    op = request.get("op")
    if op == "capabilities":
        return {"outputs": ["deltas", "cost"]}
    case = contract.decode_case(request["case"])
    if op == "sgd_step":
        return contract.encode_result(reference.sgd_step(case, request["eta"]))
    return contract.encode_result(reference.backprop(case))


def main() -> None:
    while True:
        data = b""
        while not data.endswith(b"\n"):
            chunk = os.read(0, 1 << 20)
            if not chunk:
                return
            data += chunk
        line = data.split(b"\n", 1)[0]  # anything after the first line is dropped
        request = json.loads(line)
        reply = {"id": request["id"], **answer(request)}
        sys.stdout.write(contract.dumps(reply) + "\n")
        sys.stdout.flush()


if __name__ == "__main__":
    main()
