"""Crashes inside backprop, on some cases only: a segfault, os._exit, sys.exit, a self-inflicted SIGSTOP.

The condition is a property of the case's values (its first input above 0.5, about a third of
typical cases, on every architecture), so the same case crashes again when asked again, and
most cases do not crash.
"""

from __future__ import annotations

import ctypes
import os
import signal
import sys
from typing import Any

import numpy as np

from tests.broken_impls.base import Backprop


def _unlucky(case: Any) -> bool:
    return float(np.asarray(case.x).flat[0]) > 0.5


class SegfaultOnSome(Backprop):
    def backprop(self, case: Any) -> dict[str, Any]:
        if _unlucky(case):
            ctypes.string_at(0)  # reads address 0: SIGSEGV
        return super().backprop(case)


class ExitOnSome(Backprop):
    def backprop(self, case: Any) -> dict[str, Any]:
        if _unlucky(case):
            os._exit(3)
        return super().backprop(case)


class SysExitInBackprop(Backprop):
    def backprop(self, case: Any) -> dict[str, Any]:
        if _unlucky(case):
            sys.exit(0)
        return super().backprop(case)


class StopsItself(Backprop):
    """SIGSTOP to its own process: not dead, not answering, and deaf to everything but SIGKILL."""

    calls = 0  # never on a process's first call: that one has the warm-up budget, and a hang
    # there ends the implementation for good (tested elsewhere); this class is about later calls

    def backprop(self, case: Any) -> dict[str, Any]:
        StopsItself.calls += 1
        if _unlucky(case) and StopsItself.calls > 1:
            os.kill(os.getpid(), signal.SIGSTOP)
        return super().backprop(case)
