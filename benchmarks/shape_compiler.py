"""A stand-in for code that compiles once per shape (tinygrad, torch.compile, XLA): the reference, with a sleep.

``few`` declares ``"shapes": "few"``; ``every`` declares nothing (the control). Both sleep
``SHAPE_COMPILER_SLEEP`` seconds (an environment variable, so that a worker process started
from a spec reads it too; default 0) the first time their process meets a shape (layer sizes,
batch size m, dtype), as a per-shape compiler compiles, and append the shape to the file named by
``SHAPE_COMPILER_LOG`` when it is set: one line per compile, so a run's compile count is that
file's line count, whichever processes (restarts included) made them. Everything else is
``reference.backprop`` and ``reference.sgd_step``: the verdicts are the reference's.
"""

from __future__ import annotations

import json
import os
import time
from typing import Any

import reference

SLEEP_VARIABLE = "SHAPE_COMPILER_SLEEP"
LOG_VARIABLE = "SHAPE_COMPILER_LOG"


class ShapeCompiler:
    """The reference behind a per-shape compile; ``few_shapes``: it declares ``"shapes": "few"``."""

    def __init__(self, few_shapes: bool) -> None:
        if few_shapes:
            self.capabilities = {"shapes": "few"}
        self._compiled: set[tuple[tuple[int, ...], int, str]] = set()

    def _compile(self, case: Any) -> None:
        shape = (tuple(int(n) for n in case.sizes), int(case.m), str(case.dtype))
        if shape in self._compiled:
            return
        self._compiled.add(shape)
        log = os.environ.get(LOG_VARIABLE)
        if log:
            with open(log, "a", encoding="utf-8") as out:
                out.write(json.dumps([list(shape[0]), shape[1], shape[2]]) + "\n")
        time.sleep(float(os.environ.get(SLEEP_VARIABLE, "0")))

    def backprop(self, case: Any) -> dict[str, Any]:
        self._compile(case)
        return reference.backprop(case)

    def sgd_step(self, case: Any, eta: float) -> dict[str, Any]:
        self._compile(case)
        return reference.sgd_step(case, eta)


few = ShapeCompiler(few_shapes=True)
every = ShapeCompiler(few_shapes=False)


def compiles(log: str) -> list[tuple[tuple[int, ...], int, str]]:
    """The shapes compiled, in order, one per compile, from a ``SHAPE_COMPILER_LOG`` file."""
    with open(log, encoding="utf-8") as lines:
        return [(tuple(s), int(m), str(d)) for s, m, d in (json.loads(line) for line in lines if line.strip())]
