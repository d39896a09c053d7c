"""The HIPS-autograd-style implementation behind the JSON-lines protocol (any language does the same).

    python tests/styles/hips_jsonlines.py [declare|undeclared]

Its answer to the capabilities request declares relu'(0) = 0.5 the way a Python
implementation does, ``{"conventions": {"relu_prime_at_zero": 0.5}}``, unless "undeclared".
"""

from __future__ import annotations

import json
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))))

from conformance.implementations import contract
from tests.styles.hips_style import HipsStyle


def main() -> None:
    impl = HipsStyle(declare=sys.argv[1:] != ["undeclared"])
    for line in sys.stdin:
        request = json.loads(line)
        if request.get("op") == "capabilities":
            reply = dict(impl.capabilities)
        elif request.get("op") == "backprop":
            reply = contract.encode_result(impl.backprop(contract.decode_case(request["case"])))
        else:
            reply = {"error": f"{request.get('op')!r} is not implemented"}
        print(contract.dumps({"id": request["id"], **reply}), flush=True)


if __name__ == "__main__":
    main()
