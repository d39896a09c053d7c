"""Section 1: one backpropagation pass, the reference against its peers, on the same inputs.

Peers: the reference in float64 and float32 (``reference.backprop``, validation included), its
prepared form (``reference.prepare(case).backprop(x, y)``: the network checked once, x and y and
the results checked per call, as in training and gradient checks), the
hand-written batched numpy pass in both dtypes, PyTorch autograd in both dtypes (skipped with
a note when torch is missing) and the per-sample column-vector loop (float64, as in the seed).
All run interleaved in one ``timing.interleaved`` call per size, pinned to one thread.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import reference

from . import problems, timing
from .peers import numpy_pass, per_sample, torch_pass
from .threads import torch_available

BASELINE = "reference float64"
PREPARED = "reference prepared float64"


@dataclass(frozen=True)
class Size:
    sizes: tuple[int, ...]
    batch: int
    rounds: int
    loop: bool = True  # the per-sample loop takes seconds per call at the largest size


def peers_for(problem: problems.Workload) -> tuple[dict[str, Callable[[], object]], list[str]]:
    """The timed callables for one problem, and notes on peers that were left out."""
    notes: list[str] = []
    p64 = problem.astype("float64")
    p32 = problem.astype("float32")
    case64, case32 = p64.case(), p32.case()
    prepared64 = reference.prepare(case64)
    peers: dict[str, Callable[[], object]] = {
        "reference float64": lambda: reference.backprop(case64),
        PREPARED: lambda: prepared64.backprop(p64.x, p64.y),
        "reference float32": lambda: reference.backprop(case32),
        "numpy float64": lambda: numpy_pass.backprop(p64.weights, p64.biases, p64.x, p64.y),
        "numpy float32": lambda: numpy_pass.backprop(p32.weights, p32.biases, p32.x, p32.y),
    }
    if torch_available():
        t64 = torch_pass.prepare(p64.weights, p64.biases)
        t32 = torch_pass.prepare(p32.weights, p32.biases)
        peers["torch float64"] = lambda: torch_pass.backprop(t64, p64.x, p64.y)
        peers["torch float32"] = lambda: torch_pass.backprop(t32, p32.x, p32.y)
    else:
        notes.append("torch is not installed: the PyTorch peers were skipped")
    return peers, notes


def run(sizes: list[Size], min_sample_s: float, seed: int = 0) -> list[dict[str, Any]]:
    """Time every peer at every size (call inside ``threads.single_thread()``)."""
    results = []
    for size in sizes:
        problem = problems.make(size.sizes, size.batch, seed=seed)
        peers, notes = peers_for(problem)
        if size.loop:
            columns = per_sample.columns(problem.biases)
            peers["per-sample loop float64"] = functools.partial(
                per_sample.backprop, problem.weights, columns, problem.x, problem.y
            )
        else:
            notes.append("per-sample loop left out at this size (seconds per call)")
        timings = timing.interleaved(peers, rounds=size.rounds, min_sample_s=min_sample_s, seed=seed)
        ratios = [timing.ratio(timings, name, BASELINE).as_dict() for name in timings if name != BASELINE]
        ratios.append(timing.ratio(timings, BASELINE, "numpy float64").as_dict())
        ratios.append(timing.ratio(timings, PREPARED, "numpy float64").as_dict())
        for peer in ("torch float64", "per-sample loop float64"):  # what a numpy engine can reach
            if peer in timings:
                ratios.append(timing.ratio(timings, peer, "numpy float64").as_dict())
        ratios.append(timing.ratio(timings, "reference float32", "numpy float32").as_dict())
        if "torch float32" in timings:
            ratios.append(timing.ratio(timings, "torch float32", "reference float32").as_dict())
        results.append(
            {
                "sizes": list(size.sizes),
                "batch": size.batch,
                "label": problem.label,
                "n_params": problem.n_params,
                "timings": {name: t.as_dict() for name, t in timings.items()},
                "ratios": ratios,
                "notes": notes,
            }
        )
    return results


def find_ratio(result: dict[str, Any], peer: str, baseline: str) -> dict[str, Any] | None:
    for r in result["ratios"]:
        if r["peer"] == peer and r["baseline"] == baseline:
            return dict(r)
    return None
