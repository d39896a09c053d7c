"""Runs every section in order and gathers one results dictionary (what latest.json holds)."""

from __future__ import annotations

import sys
import time
from collections.abc import Callable
from typing import Any

from . import (
    backprop,
    conformance_time,
    gradcheck_cost,
    machine,
    memory,
    overhead,
    problems,
    symbolic_time,
    targets,
    training,
)
from .mutation import run as mutation_run
from .settings import Settings
from .threads import single_thread


def _stderr(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


# The sections a run can be limited to (``python -m benchmarks --only``), in the order a whole run measures them.
SECTIONS = ("backprop", "training", "gradcheck", "memory", "conformance", "symbolic", "mutation")


def run(
    settings: Settings, progress: Callable[[str], None] = _stderr, only: frozenset[str] | None = None
) -> dict[str, Any]:
    """Every section (or the ``only`` ones), with the machine and the targets judged on what was measured."""
    results: dict[str, Any] = {"mode": settings.mode, "machine": machine.describe()}
    started = time.perf_counter()

    def wanted(section: str) -> bool:
        return only is None or section in only

    def step(name: str) -> None:
        progress(f"[{time.perf_counter() - started:7.1f} s] {name}")

    with single_thread() as pinned:
        results["threads"] = pinned
        if wanted("backprop"):
            step("1. backprop pass")
            results["backprop"] = backprop.run(list(settings.backprop), settings.min_sample_s)
            step("   where the time goes")
            results["overhead"] = [
                overhead.run(problems.make(sizes, batch, dtype), settings.overhead_rounds, settings.min_sample_s)
                for sizes, batch, dtype in settings.overhead
            ]
        if wanted("training"):
            step("2. training throughput")
            results["training"] = [
                training.run(
                    settings.training_samples, settings.training_rounds, settings.min_sample_s, sizes, mini_batch_size
                )
                for sizes, mini_batch_size in settings.training
            ]
        if wanted("gradcheck"):
            step("3. gradient checking")
            results["gradcheck"] = gradcheck_cost.run(
                list(settings.gradcheck_full),
                list(settings.gradcheck_directional),
                settings.gradcheck_rounds,
                settings.torch_slow_max_params,
            )
        if wanted("memory"):
            step("6. memory")
            results["memory_all"] = [
                memory.run(problems.make(sizes, batch, dtype)) for sizes, batch, dtype in settings.memory
            ]
            results["memory"] = results["memory_all"][0]
    if wanted("conformance"):
        if settings.conformance:
            step("4. conformance (subprocesses, default threading)")
            results["conformance"] = conformance_time.run()
        else:
            results["conformance"] = {"skipped": f"not run in {settings.mode.split()[0]} mode (takes about a minute)"}
    if wanted("symbolic"):
        step("5. symbolic proofs (subprocesses)")
        results["symbolic"] = symbolic_time.run(settings.symbolic_depths, settings.symbolic_widths)
    if wanted("mutation"):
        if settings.mutation_per_subject != 0:
            step("7. mutation score (subprocesses: the suite on every mutant)")
            results["mutation"] = mutation_run.evaluate(settings.mutation_per_subject)
        else:
            results["mutation"] = {"skipped": f"not run in {settings.mode.split()[0]} mode (takes an hour)"}
    if only is None:
        results["targets"] = targets.judge_targets(results)
    results["total_s"] = time.perf_counter() - started
    step("done")
    return results
