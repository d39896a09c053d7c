"""A backprop implementation behind the JSON-lines protocol, for the conformance suite's own tests.

    python tests/conformance_subprocess_impl.py [MODE]

MODE "ok" answers every request with the reference engine's results (so it must
conform); the other modes misbehave in one way each, to prove the suite turns
that into a clear failing verdict: "crash" exits in the middle of the third
backprop request, "garbage" answers the third with a line that is not JSON,
"silent" never answers the third, "nan" puts a NaN (as the string "nan") into
every gradient, "no-sgd" refuses sgd_step with an error.
"""

from __future__ import annotations

import json
import os
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

import reference
from conformance.implementations import contract


def answer(request: dict, mode: str, count: int) -> dict | str:
    op = request.get("op")
    if op == "capabilities":
        return {"outputs": ["deltas", "cost"]}
    case = contract.decode_case(request["case"])
    if op == "sgd_step":
        if mode == "no-sgd":
            return {"error": "sgd_step is not implemented"}
        return contract.encode_result(reference.sgd_step(case, request["eta"]))
    if op != "backprop":
        return {"error": f"unknown op {op!r}"}
    if count == 3 and mode == "crash":
        sys.stderr.write("segmentation fault (simulated)\n")
        sys.stderr.flush()
        os._exit(139)
    if count == 3 and mode == "garbage":
        return "Traceback (most recent call last): this is not JSON"
    if count == 3 and mode == "silent":
        time.sleep(3600)
    result = reference.backprop(case)
    if mode == "nan":
        result["grad_weights"][0] = result["grad_weights"][0] * float("nan")
    return contract.encode_result(result)


def main() -> None:
    mode = sys.argv[1] if len(sys.argv) > 1 else "ok"
    count = 0
    for line in sys.stdin:
        request = json.loads(line)
        count += request.get("op") == "backprop"
        reply = answer(request, mode, count)
        if isinstance(reply, str):
            print(reply, flush=True)
            continue
        print(contract.dumps({"id": request["id"], **reply}), flush=True)


if __name__ == "__main__":
    main()
