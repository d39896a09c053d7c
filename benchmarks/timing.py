"""Interleaved timing: medians, min-max and paired ratios, all from the same rounds.

Each peer is first calibrated to a number of calls per sample (so that one sample lasts at
least ``min_sample_s``, which keeps the timer's resolution and call overhead negligible).
Then every round times one sample of every peer, in an order shuffled per round: a burst of
load from another process falls on whichever peers run during it, and shuffling spreads such
bursts over all peers rather than always over the same one. Ratios are taken within a round
(peer time / baseline time of the same round) and their median reported: a paired estimate
that cancels slow drifts of the machine's speed, which a ratio of two medians would not.

Clock: the primary figure is the process's CPU time (``time.process_time``, all threads of
the process), with wall time kept beside it. With every pool pinned to one thread the work
runs on the calling thread, so on an idle machine the two agree; on a shared machine, wall
time also counts the slices during which other processes ran instead of ours, CPU time does
not (cache and memory-bandwidth contention still show in both).
"""

from __future__ import annotations

import gc
import statistics
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field

import numpy as np


@dataclass(frozen=True)
class Timing:
    """Seconds per call, one sample per round."""

    name: str
    calls_per_sample: int
    samples: list[float] = field(repr=False)  # CPU seconds per call
    wall_samples: list[float] = field(repr=False, default_factory=list)

    @property
    def median(self) -> float:
        return statistics.median(self.samples)

    @property
    def min(self) -> float:
        return min(self.samples)

    @property
    def max(self) -> float:
        return max(self.samples)

    def as_dict(self) -> dict[str, object]:
        return {
            "median_s": self.median,
            "min_s": self.min,
            "max_s": self.max,
            "wall_median_s": statistics.median(self.wall_samples) if self.wall_samples else None,
            "rounds": len(self.samples),
            "calls_per_sample": self.calls_per_sample,
        }


@dataclass(frozen=True)
class Ratio:
    """peer / baseline per round: > 1 means the peer is slower than the baseline."""

    peer: str
    baseline: str
    per_round: list[float] = field(repr=False)

    @property
    def median(self) -> float:
        return statistics.median(self.per_round)

    def as_dict(self) -> dict[str, object]:
        return {
            "peer": self.peer,
            "baseline": self.baseline,
            "median": self.median,
            "min": min(self.per_round),
            "max": max(self.per_round),
        }


def _time_calls(fn: Callable[[], object], number: int) -> tuple[float, float]:
    """(CPU seconds, wall seconds) of ``number`` calls."""
    wall, cpu = time.perf_counter(), time.process_time()
    for _ in range(number):
        fn()
    return time.process_time() - cpu, time.perf_counter() - wall


def calibrate(fn: Callable[[], object], min_sample_s: float) -> int:
    """Calls per sample: the smallest power of two whose time reaches min_sample_s (at least 1).

    min_sample_s <= 0 means one call per sample (long operations), after one warm-up call.
    """
    fn()  # warm-up: first-call costs (imports, caches, page faults) are not the steady state
    if min_sample_s <= 0:
        return 1
    number = 1
    while True:
        elapsed = _time_calls(fn, number)[1]
        if elapsed >= min_sample_s or number >= 1 << 20:
            return number
        # jump close to the target in one step, staying a power of two
        grow = max(2, int(2 ** np.ceil(np.log2(min_sample_s / max(elapsed, 1e-9)))))
        number *= grow


def interleaved(
    peers: Mapping[str, Callable[[], object]],
    rounds: int,
    min_sample_s: float = 0.02,
    seed: int = 0,
) -> dict[str, Timing]:
    """Time every peer ``rounds`` times, interleaved in a shuffled order per round."""
    if rounds < 1:
        raise ValueError(f"rounds must be >= 1, got {rounds}")
    names = list(peers)
    numbers = {name: calibrate(peers[name], min_sample_s) for name in names}
    samples: dict[str, list[float]] = {name: [] for name in names}
    walls: dict[str, list[float]] = {name: [] for name in names}
    rng = np.random.default_rng(seed)
    gc_was_enabled = gc.isenabled()
    gc.disable()  # a collection would land on whichever peer happens to run (timeit does the same)
    try:
        for _ in range(rounds):
            for k in rng.permutation(len(names)):
                name = names[int(k)]
                cpu, wall = _time_calls(peers[name], numbers[name])
                samples[name].append(cpu / numbers[name])
                walls[name].append(wall / numbers[name])
            gc.collect()  # between rounds, outside any timed region
    finally:
        if gc_was_enabled:
            gc.enable()
    return {name: Timing(name, numbers[name], samples[name], walls[name]) for name in names}


def ratio(timings: Mapping[str, Timing], peer: str, baseline: str) -> Ratio:
    """Round-by-round peer/baseline ratio (both must come from the same ``interleaved`` call)."""
    a, b = timings[peer].samples, timings[baseline].samples
    return Ratio(peer, baseline, [x / y for x, y in zip(a, b, strict=True)])


def paired_difference(timings: Mapping[str, Timing], peer: str, baseline: str) -> float:
    """Median over rounds of (peer - baseline), seconds per call (both from the same ``interleaved``
    call): what ``peer`` adds to ``baseline``, paired within a round as ``ratio`` is. A difference
    of the two medians subtracts two independently noisy figures of about 100 us to find one of a
    few us; the paired median cancels the drifts both samples of a round share."""
    a, b = timings[peer].samples, timings[baseline].samples
    return statistics.median(x - y for x, y in zip(a, b, strict=True))
