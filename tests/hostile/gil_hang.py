"""Holds the GIL in one C call (no bytecode runs, no signal handler, no thread switch) on wide cases.

With HOSTILE_HANG_LOG set, each hang first appends a line to that file.
"""

from __future__ import annotations

import os
from typing import Any

from tests.broken_impls.base import Backprop


class HoldsGilWhenWide(Backprop):
    def backprop(self, case: Any) -> dict[str, Any]:
        if max(case.sizes) > 3:
            log = os.environ.get("HOSTILE_HANG_LOG")
            if log:  # one line per hang, for the test to count
                with open(log, "a", encoding="utf-8") as f:
                    f.write(f"{os.getpid()} {tuple(case.sizes)}\n")
            sum(range(10**12))  # one C call: hours, with the GIL held throughout
        return super().backprop(case)
