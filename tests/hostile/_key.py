"""What the hostile implementations share: a key for "the same case", and a correct answer."""

from __future__ import annotations

import hashlib
from typing import Any

import numpy as np


def case_key(case: Any) -> str:
    """A hash of everything a case holds: its names and the bytes of its arrays."""
    h = hashlib.sha256()
    h.update(repr((tuple(case.sizes), tuple(case.activations), case.cost, case.reduction, case.dtype)).encode())
    for array in [*case.weights, *case.biases, case.x, case.y]:
        a = np.ascontiguousarray(np.asarray(array, dtype=np.float64))
        h.update(repr(a.shape).encode())
        h.update(a.tobytes())
    return h.hexdigest()
