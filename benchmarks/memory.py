"""Section 6: peak memory of one backpropagation pass against the bytes the pass must hold.

What is measured: numpy reports every array buffer it allocates to ``tracemalloc``, so the
traced peak during ``reference.backprop(case)``, minus what was traced just before the call,
is the memory that the pass allocated on top of its inputs (arrays and their temporaries, plus
small Python objects, which are negligible here). The inputs and parameters already exist
before the call and are counted once, from their nbytes.

What the pass must hold at its peak, at the least: its inputs x and y, the parameters w and b,
the gradients (as many bytes as the parameters), every stored z^l and a^l for l = 2..L (a^1 is
x), and every delta^l. The reference returns the deltas, so they are part of its output.
The ratio is (inputs + parameters + measured peak allocation) / (that minimum); the
hand-written numpy pass is measured the same way, as the floor for a numpy implementation.
"""

from __future__ import annotations

import gc
import tracemalloc
from collections.abc import Callable
from typing import Any

import reference

from . import problems
from .peers import numpy_pass


def must_hold(problem: problems.Workload) -> dict[str, int]:
    """Bytes of every array the pass cannot do without, by kind."""
    item = problem.x.dtype.itemsize
    m = problem.batch
    params = sum(w.nbytes + b.nbytes for w, b in zip(problem.weights, problem.biases, strict=True))
    per_layer = sum(m * n * item for n in problem.sizes[1:])  # one (m, n_l) array per layer 2..L
    return {
        "inputs x, y": problem.x.nbytes + problem.y.nbytes,
        "parameters w, b": params,
        "gradients": params,
        "stored z": per_layer,
        "stored a (a^1 = x excluded)": per_layer,
        "deltas": per_layer,
    }


def traced_peak(fn: Callable[[], object]) -> int:
    """Bytes allocated at the peak of fn(), above what was allocated when it started."""
    gc.collect()
    was_tracing = tracemalloc.is_tracing()
    if not was_tracing:
        tracemalloc.start()
    try:
        tracemalloc.reset_peak()
        before, _ = tracemalloc.get_traced_memory()
        result = fn()
        _, peak = tracemalloc.get_traced_memory()
        del result
    finally:
        if not was_tracing:
            tracemalloc.stop()
    return peak - before


def run(problem: problems.Workload) -> dict[str, Any]:
    case = problem.case()
    reference.backprop(case)  # warm-up: first-call allocations of caches are not the pass's
    required = must_hold(problem)
    minimum = sum(required.values())
    existing = required["inputs x, y"] + required["parameters w, b"]
    measured = {
        "reference.backprop": traced_peak(lambda: reference.backprop(case)),
        "numpy pass": traced_peak(lambda: numpy_pass.backprop(problem.weights, problem.biases, problem.x, problem.y)),
    }
    return {
        "label": problem.label,
        "dtype": problem.dtype,
        "must_hold_bytes": required,
        "must_hold_total": minimum,
        "peak_allocated_bytes": measured,
        "ratio_to_must_hold": {name: (existing + peak) / minimum for name, peak in measured.items()},
    }
