"""Correct code whose module takes 3 s to import (a heavy framework), loaded with a 1 s per-call timeout."""

from __future__ import annotations

import time
from typing import Any

from tests.broken_impls.base import Backprop

time.sleep(3.0)

_engine = Backprop()


def backprop(case: Any) -> dict[str, Any]:
    return _engine.backprop(case)
