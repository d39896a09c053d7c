"""Implementations whose behaviour is set at run time, by the caller, after import (issue 18, item 1).

The suite must judge the object as the caller holds it: a class flag set after import, an
attribute set on the instance, torch's default dtype. A worker that re-imports the module
sees none of that.
"""

from __future__ import annotations

import os
import time
from pathlib import Path
from typing import Any

import numpy as np

from tests.broken_impls.base import Backprop


class WrongUntilConfigured(Backprop):
    """Every delta and gradient times SCALE: wrong as imported (2.0), right once the caller sets SCALE = 1.0."""

    SCALE = 2.0

    def finish(self, value: Any, case: Any) -> Any:
        return super().finish(value, case) * self.SCALE


class RightUntilMisconfigured(WrongUntilConfigured):
    """Right as imported (SCALE = 1.0); the caller sets SCALE = 2.0, and then it is wrong."""

    SCALE = 1.0


class TorchDefaultDtype(Backprop):
    """Computes from inputs made by ``torch.tensor(list)``: torch's default dtype decides the precision.

    With float32 the default (torch's own), float64 cases are computed in float32 and fail;
    after ``torch.set_default_dtype(torch.float64)`` in the caller they are right. The first
    call in a process also runs a matrix product big enough for torch's intra-op thread pool,
    the pool that does not survive a fork (conformance.implementations.forking).
    """

    capabilities = {"dtypes": ["float64"]}

    def __init__(self) -> None:
        self.warm = False

    def inputs(self, case: Any) -> Any:
        import torch

        if not self.warm:
            big = torch.ones(512, 512, dtype=torch.float64)
            (big @ big).sum().item()
            self.warm = True
        weights, biases, x, y = super().inputs(case)

        def through(array: Any) -> Any:
            return torch.tensor(np.asarray(array).tolist()).numpy().astype(np.float64)

        return [through(w) for w in weights], [through(b) for b in biases], through(x), through(y)


class SlowOnce(Backprop):
    """Right, and its 3rd call takes ``seconds`` once (the first process to get there creates ``marker``)."""

    def __init__(self, marker: Path, seconds: float) -> None:
        self.marker = marker
        self.seconds = seconds
        self.calls = 0

    def backprop(self, case: Any) -> dict[str, Any]:
        self.calls += 1
        if self.calls == 3 and not self.marker.exists():
            self.marker.touch()
            time.sleep(self.seconds)
        return super().backprop(case)


class HangsOnWide(Backprop):
    """Right on cases up to 3 wide; sleeps for an hour on wider ones, every time (a real hang)."""

    def backprop(self, case: Any) -> dict[str, Any]:
        if max(case.sizes) > 3:
            time.sleep(3600)
        return super().backprop(case)


class Allocates(Backprop):
    """Right, after allocating ``megabytes`` MiB on every call (np.empty: reserved, not touched)."""

    def __init__(self, megabytes: int = int(os.environ.get("HOSTILE_ALLOCATE_MB", "64"))) -> None:
        self.megabytes = megabytes

    def backprop(self, case: Any) -> dict[str, Any]:
        held = np.empty(self.megabytes * 2**20, dtype=np.uint8)
        result = super().backprop(case)
        del held
        return result


class SpawnsSleepers(Backprop):
    """Right, and every call starts a child that sleeps for an hour, its pid appended to ``pidfile``."""

    def __init__(self, pidfile: Path) -> None:
        self.pidfile = pidfile

    def backprop(self, case: Any) -> dict[str, Any]:
        import subprocess

        child = subprocess.Popen(["sleep", "3600"])
        with self.pidfile.open("a", encoding="utf-8") as f:
            f.write(f"{child.pid}\n")
        return super().backprop(case)


class ExitsOnThirdCall(Backprop):
    """Right, except that its 3rd call in each process raises SystemExit (the worker must answer, not exit)."""

    calls = 0

    def backprop(self, case: Any) -> dict[str, Any]:
        ExitsOnThirdCall.calls += 1
        if ExitsOnThirdCall.calls == 3:
            raise SystemExit(0)
        return super().backprop(case)
