"""Section 3: what gradient checking costs as the parameter count grows.

Measured on the seed's sigmoid network with a batch of ``BATCH`` samples, float64:
``reference.gradcheck.gradcheck`` with central differences (every entry, Richardson) and with
the complex step (every entry), ``reference.numerical.directional_check`` (a fixed number of
directions, whatever the size), and ``torch.autograd.gradcheck`` in its slow mode (the full
numerical Jacobian) and fast mode (one random projection). Each method runs only up to the
size where it finishes in reasonable time; beyond it, full central differences are
extrapolated from the cost of one evaluation of C at that size (a lower bound: it leaves out
the per-entry bookkeeping).

The comparison that matters (issue 10): full central differences must be at most as slow as
torch's slow mode on the same network and parameter count; both are timed interleaved in the same
run, one thread, so the ratio "central differences / torch gradcheck slow" is read off one row.
The reference's cheap pass costs 3 evaluations of C per entry, all entries of a tensor evaluated
in a few batched forward passes (numerical.problem.from_case), plus the adaptive scan on the
entries it does not settle; torch's slow mode costs 2 evaluations per entry, one by one. The
large-model check (directional check + central differences on the 16 largest-|g| and 16 random
entries of every tensor) is timed where the directional check is.

torch.autograd.gradcheck's default tolerances (atol 1e-5, rtol 1e-3, eps 1e-6) are far looser
than the reference checkers' error bounds: it is timed here, not compared in strength (strength:
benchmarks/gradcheck_heldout.py).
"""

from __future__ import annotations

import functools
import importlib.util
from collections.abc import Callable
from typing import Any

import numpy as np

from . import problems, timing
from .threads import torch_available

BATCH = 10


def _modules() -> tuple[Any, Any, Any] | None:
    """(gradcheck, directional_check, large_model_check) from the reference, or None while they do
    not exist."""
    if importlib.util.find_spec("reference.gradcheck") is None:
        return None
    from reference import directional_check, large_model_check
    from reference.gradcheck import gradcheck

    return gradcheck, directional_check, large_model_check


def torch_gradcheck(problem: problems.Workload, fast: bool) -> Callable[[], bool]:
    import torch
    import torch.nn.functional as F

    params = []
    for w, b in zip(problem.weights, problem.biases, strict=True):
        params += [torch.tensor(w, requires_grad=True), torch.tensor(b, requires_grad=True)]
    x, y = torch.from_numpy(problem.x), torch.from_numpy(problem.y)

    def cost(*ps: Any) -> Any:
        a = x
        for i in range(0, len(ps), 2):
            a = torch.sigmoid(F.linear(a, ps[i], ps[i + 1]))
        return 0.5 * ((a - y) ** 2).sum() / x.shape[0]

    return lambda: bool(torch.autograd.gradcheck(cost, tuple(params), fast_mode=fast))


def _passed(result: Any) -> bool:
    return bool(result.passed)


def _checked(run: Callable[[], Any], passed: Callable[[Any], bool]) -> Callable[[], Any]:
    """Fail loudly if a checker rejects the reference gradient: timing a failure is no use."""

    def call() -> Any:
        result = run()
        if not passed(result):
            raise AssertionError(f"gradient check failed on the reference itself: {result}")
        return result

    return call


def run(
    full_sizes: list[tuple[int, ...]],
    directional_sizes: list[tuple[int, ...]],
    rounds: int,
    torch_slow_max_params: int,
    seed: int = 0,
) -> dict[str, Any]:
    """Seconds per check (call inside ``threads.single_thread()``)."""
    found = _modules()
    if found is None:
        return {"skipped": "reference.gradcheck does not exist yet (issue 3)"}
    gradcheck, directional_check, large_model_check = found
    has_torch = torch_available()
    rows: list[dict[str, Any]] = []
    notes: list[str] = []
    for sizes in sorted(set(full_sizes) | set(directional_sizes), key=problems.n_params):
        problem = problems.make(sizes, BATCH, seed=seed)
        case = problem.case()
        peers: dict[str, Callable[[], object]] = {}
        if sizes in full_sizes:
            peers["central differences"] = _checked(functools.partial(gradcheck, case, method="central"), _passed)
            peers["complex step"] = _checked(functools.partial(gradcheck, case, method="complex_step"), _passed)
        if sizes in directional_sizes:
            peers["directional"] = _checked(functools.partial(directional_check, case), _passed)
            peers["large-model check"] = _checked(functools.partial(large_model_check, case), _passed)
        if has_torch:
            if problem.n_params <= torch_slow_max_params:
                peers["torch gradcheck slow"] = _checked(torch_gradcheck(problem, fast=False), bool)
            peers["torch gradcheck fast"] = _checked(torch_gradcheck(problem, fast=True), bool)
        timings = timing.interleaved(peers, rounds=rounds, min_sample_s=0.0, seed=seed)
        rows.append(
            {
                "sizes": list(sizes),
                "batch": BATCH,
                "n_params": problem.n_params,
                "timings": {name: t.as_dict() for name, t in timings.items()},
            }
        )
    if not has_torch:
        notes.append("torch is not installed: torch.autograd.gradcheck was not timed")
    largest = max(directional_sizes, key=problems.n_params)
    return {
        "rows": rows,
        "extrapolated_central": extrapolate_central(largest, seed),
        "notes": notes,
    }


def extrapolate_central(sizes: tuple[int, ...], seed: int, evaluations: int = 3) -> dict[str, Any]:
    """Full central differences at ``sizes``: at least 3 evaluations of C per parameter (the cheap
    pass: C at p + h, p - h, p + 2h), one by one as a callable's would be."""
    from reference import engine
    from reference.case import Layers

    problem = problems.make(sizes, BATCH, seed=seed)
    acts = ("sigmoid",) * (len(sizes) - 1)
    complex_weights = [w.astype(np.complex128) for w in problem.weights]
    complex_biases = [b.astype(np.complex128) for b in problem.biases]
    x, y = problem.x, problem.y
    timings = timing.interleaved(
        {
            "one evaluation of C": lambda: engine.evaluate_cost(Layers(problem.weights, problem.biases, acts), x, y),
            "one complex evaluation of C": lambda: engine.evaluate_cost(
                Layers(complex_weights, complex_biases, acts), x, y
            ),
        },
        rounds=5,
        min_sample_s=0.05,
        seed=seed,
    )
    t_eval = timings["one evaluation of C"].median
    t_complex = timings["one complex evaluation of C"].median
    n = problem.n_params
    return {
        "sizes": list(sizes),
        "n_params": n,
        "evaluation_s": t_eval,
        "complex_evaluation_s": t_complex,
        "central_hours_at_least": n * evaluations * t_eval / 3600.0,
        "complex_step_hours_at_least": n * t_complex / 3600.0,
        "model": f"n_params x {evaluations} evaluations (central differences' cheap pass, one by one); "
        "n_params complex evaluations (complex step)",
    }
