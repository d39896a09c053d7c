"""A hostile program behind the JSON-lines protocol (CONTRACT.md section 5).

    python tests/hostile/jsonl.py MODE [PIDFILE]

Right answers come from the reference engine; MODE says how it misbehaves:

- ``ok``: never;
- ``ragged-once``: the 7th backprop answer has the cost ``[[1], [2, 3]]``;
- ``ragged-always``: every backprop answer has that cost;
- ``garbage-unseen``: a ragged cost for every case not seen before (keyed by a hash), right otherwise;
- ``endless``: answers a backprop request with one line that never ends;
- ``hang-once MARKER``: the first process to reach its 3rd backprop request creates the file
  MARKER and never answers it; every other request, and every later process, is answered right;
- ``detached``: first spawns a detached child (its own session) that inherits stdout and
  sleeps for an hour, appending its pid to PIDFILE; then answers right;
- ``detached-exit``: the same, and exits with status 3 on its 3rd backprop request.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))))

import reference
from conformance.implementations import contract
from tests.hostile._key import case_key

RAGGED = [[1.0], [2.0, 3.0]]


def spawn_detached(pidfile: str) -> None:
    child = subprocess.Popen(
        [sys.executable, "-c", "import time; time.sleep(3600)"],
        stdin=subprocess.DEVNULL,
        start_new_session=True,  # setsid: out of the program's process group
    )  # stdout and stderr inherited: the suite's pipes
    with open(pidfile, "a", encoding="utf-8") as f:
        f.write(f"{child.pid}\n")


def main() -> None:
    mode = sys.argv[1]
    if mode.startswith("detached"):
        spawn_detached(sys.argv[2])
    seen: set[str] = set()
    count = 0
    for line in sys.stdin:
        request = json.loads(line)
        rid, op = request["id"], request.get("op")
        if op == "capabilities":
            reply: dict = {"outputs": ["deltas", "cost"]}
        elif op == "sgd_step":
            reply = contract.encode_result(reference.sgd_step(contract.decode_case(request["case"]), request["eta"]))
        elif op == "backprop":
            count += 1
            case = contract.decode_case(request["case"])
            if mode == "endless":
                chunk = b"[" + b"1," * 32768
                while True:
                    sys.stdout.buffer.write(chunk)
            if mode == "hang-once" and count == 3 and not os.path.exists(sys.argv[2]):
                open(sys.argv[2], "w").close()
                time.sleep(3600)
            if mode == "detached-exit" and count == 3:
                os._exit(3)
            reply = contract.encode_result(reference.backprop(case))
            key = case_key(case)
            if (
                (mode == "ragged-once" and count == 7)
                or mode == "ragged-always"
                or (mode == "garbage-unseen" and key not in seen)
            ):
                reply["cost"] = RAGGED
            seen.add(key)
        else:
            reply = {"error": f"unknown op {op!r}"}
        sys.stdout.write(contract.dumps({"id": rid, **reply}) + "\n")
        sys.stdout.flush()


if __name__ == "__main__":
    main()
