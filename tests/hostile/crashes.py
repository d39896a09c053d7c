"""Crashes inside backprop, on some cases only: a segfault, os._exit, sys.exit, a self-inflicted SIGSTOP.

The condition is a property of the case (its first layer width), so the same case crashes
again when asked again, and most cases do not crash.
"""

from __future__ import annotations

import ctypes
import os
import signal
import sys
from typing import Any

from tests.broken_impls.base import Backprop


def _unlucky(case: Any) -> bool:
    return int(case.sizes[0]) == 2


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

    def backprop(self, case: Any) -> dict[str, Any]:
        if _unlucky(case):
            os.kill(os.getpid(), signal.SIGSTOP)
        return super().backprop(case)
