"""Correct code whose import and first call each take HOSTILE_SLOW_SECONDS (a heavy framework, a compile).

Read from the environment, which the worker process inherits, so a test can set the times.
"""

from __future__ import annotations

import os
import time
from typing import Any

from tests.broken_impls.base import Backprop

SECONDS = float(os.environ.get("HOSTILE_SLOW_SECONDS", "0"))
time.sleep(SECONDS)

_engine = Backprop()
_warm = False


def backprop(case: Any) -> dict[str, Any]:
    global _warm
    if not _warm:
        time.sleep(SECONDS)
        _warm = True
    return _engine.backprop(case)
