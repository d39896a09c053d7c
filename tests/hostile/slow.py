"""Correct code that is slow where real code is slow: the first call (a JIT compile, a torch import)."""

from __future__ import annotations

import time
from typing import Any

from tests.broken_impls.base import Backprop

FIRST_CALL_SECONDS = 12.0


class SlowFirstCall(Backprop):
    """The first backprop call in each process takes 12 s; the rest are quick and right."""

    def __init__(self) -> None:
        self.warm = False

    def backprop(self, case: Any) -> dict[str, Any]:
        if not self.warm:
            time.sleep(FIRST_CALL_SECONDS)
            self.warm = True
        return super().backprop(case)
