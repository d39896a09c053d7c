"""Where the reference spends its time beyond the hand-written pass, measured part by part.

Two views, both at each size of the backprop section:

* parts: the engine's public pieces (``reference.validate``, ``reference.engine``,
  ``reference.activations``; ``validation.check_forward_finite`` and ``costs.residual``
  when they exist), timed interleaved with the full pass and the numpy peer in the same
  rounds, next to the cheap formula each replaces (1 / (1 + e^{-z}), a (1 - a)), so that
  their differences can be set against the gap between the two passes (the residual with
  the complement 1 - a^L the pass forms, as the pass calls it);
* checks: the prepared pass's per-batch checks one by one, as ``Prepared.backprop`` makes them
  (the error state it runs under, ``validation.plain_batch``, ||x||^2, the certificate, the
  result dictionary), timed in the same rounds, so that their sum can be set against the
  prepared pass's time beyond ``engine.backpropagate``;
* profile: ``cProfile`` of repeated ``reference.backprop`` calls on the CPU clock, functions
  ranked by their own time. The profiler's per-call overhead inflates Python-heavy functions,
  so it says where to look, and the parts say how much is at stake.

Both read the engine as it is at run time (signatures are bound by name), so the breakdown
follows the engine as it changes.
"""

from __future__ import annotations

import cProfile
import inspect
import pstats
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

import reference
from reference import activations, costs, engine, prepared, validation

from . import problems, timing
from .peers import numpy_pass

PROFILE_CALLS_TARGET_S = 0.3  # profile this much CPU time of reference.backprop
PROFILE_TOP = 12


def _bind(fn: Callable[..., Any], **available: Any) -> Callable[..., Any]:
    """fn with the arguments it names taken from ``available`` (keywords given at call time win),
    so that a signature change in the engine keeps this working; the signature is read once."""
    names = list(inspect.signature(fn).parameters)
    fixed = {name: available[name] for name in names if name in available}
    return lambda **now: fn(**{**fixed, **{k: v for k, v in now.items() if k in names}})


def _guard() -> None:
    with np.errstate(over="raise", invalid="raise", divide="raise", under="ignore"):
        pass


CHECKS_PREFIX = "prepared check: "


def _ignoring() -> None:
    with np.errstate(all="ignore"):
        pass


def check_parts(problem: problems.Workload) -> dict[str, Callable[[], object]]:
    """The prepared pass's per-batch checks, each alone, on the pass's own results (the fast path:
    the batch is plain and every result finite). A check the engine no longer has is left out."""
    net = reference.prepare(problem.case())
    x, y = problem.x, problem.y
    if getattr(net, "_plan", None) is not None:  # the common case written out in Prepared.backprop
        return _fused_parts(net, x, y)
    quiet = getattr(prepared, "quiet", None)
    timed: dict[str, Callable[[], object]] = {
        # entered per call, as the pass enters it: a decorator where there is one, else a with block
        CHECKS_PREFIX + "np.errstate(all='ignore'), as the pass enters it": quiet(lambda: None) if quiet else _ignoring,
    }
    plain = getattr(validation, "plain_batch", None)
    if plain is not None:
        timed[CHECKS_PREFIX + "validation.plain_batch"] = lambda: plain(x, y, net.sizes, net.cost, net.dtype)
    x_square, certified = getattr(prepared, "_x_square", None), getattr(prepared, "_certified", None)
    if x_square is not None and certified is not None:
        with np.errstate(all="ignore"):
            x_sq = x_square(net, x)
            p = engine.backpropagate(net, x, y)
            fast = bool(certified(net, p, x_sq))
        if fast:  # the benchmark's batches take the fast path; one that did not would time the wrong thing
            timed[CHECKS_PREFIX + "||x||^2 (prepared._x_square)"] = lambda: x_square(net, x)
            timed[CHECKS_PREFIX + "the certificate (prepared._certified)"] = lambda: certified(net, p, x_sq)
            timed[CHECKS_PREFIX + "the result dict (prepared.result_dict)"] = lambda: prepared.result_dict(p)
    return timed


def _fused_parts(net: Any, x: Any, y: Any) -> dict[str, Callable[[], object]]:
    """The parts of ``Prepared.backprop``'s common case (``prepared._Plan``) that can be timed alone: its
    error state, ||x||^2 as it reads it, and the result dict. The batch's type, shape and dtype tests
    and the plan's three comparisons are written into the method and are not timed apart: they are the
    rest of the in-pass figure."""
    p = engine.backpropagate(net, x, y)
    return {
        CHECKS_PREFIX + "np.errstate(all='ignore') as the pass enters it (prepared._ignore_all, _restore)": lambda: (
            prepared._restore(prepared._ignore_all())
        ),
        CHECKS_PREFIX + "||x||^2 (np.vdot, as the common case reads it)": lambda: np.vdot(x, x),
        CHECKS_PREFIX + "the result dict": lambda: prepared.result_dict(p),
    }


def parts(problem: problems.Workload) -> dict[str, Callable[[], object]]:
    case = problem.case()
    c = reference.validate(case)
    z, a = engine.feedforward(c, c.x)
    as_backprop_validates = (
        (lambda: reference.validate(case, finite=False))
        if "finite" in inspect.signature(reference.validate).parameters
        else (lambda: reference.validate(case))
    )
    prepared = reference.prepare(case)
    timed: dict[str, Callable[[], object]] = {
        "reference.backprop": lambda: reference.backprop(case),
        "reference prepared pass": lambda: prepared.backprop(problem.x, problem.y),
        "engine.backpropagate (the prepared pass's core)": lambda: engine.backpropagate(c, c.x, c.y),
        "numpy pass": lambda: numpy_pass.backprop(problem.weights, problem.biases, problem.x, problem.y),
        "validate, as backprop calls it": as_backprop_validates,
        "errstate guard (enter + exit)": _guard,
        "engine.feedforward": lambda: engine.feedforward(c, c.x),
        "engine.evaluate_cost (forward only)": lambda: engine.evaluate_cost(c, c.x, c.y),
        "forward matmuls a @ w.T + b alone": lambda: [
            ai @ w.T + b for ai, w, b in zip(a, c.weights, c.biases, strict=False)
        ],
        "activations.sigmoid on every z": lambda: [activations.sigmoid(v) for v in z],
        "candidate: 1 / (1 + exp(-z))": lambda: [1.0 / (1.0 + np.exp(-v)) for v in z],
        "activations.sigma_prime_and_complement on every z (a, sigma', 1 - a)": lambda: [
            activations.sigma_prime_and_complement(name, v) for name, v in zip(c.activations, z, strict=True)
        ],
        "candidate: a (1 - a)": lambda: [v * (1.0 - v) for v in a[1:]],
    }
    check_z = getattr(validation, "check_forward_finite", None)
    if check_z is not None:
        timed["validation.check_forward_finite (finiteness, on z)"] = _bind(check_z, case=c, z=z)
    residual = getattr(costs, "residual", None)
    if residual is not None:
        _, complement = activations.sigma_and_complement(c.activations[-1], z[-1])  # as the pass forms it
        timed["costs.residual at the output (once per pass)"] = _bind(
            residual, sigma_L=c.activations[-1], z_L=z[-1], a_L=a[-1], y=c.y, complement=complement
        )
    return timed | check_parts(problem)


def profile(problem: problems.Workload, prepared: bool = False) -> list[dict[str, Any]]:
    """The functions reference.backprop (or the prepared pass) spends its own time in, on the CPU clock."""
    case = problem.case()
    net = reference.prepare(case)
    call: Callable[[], object] = (
        (lambda: net.backprop(problem.x, problem.y)) if prepared else (lambda: reference.backprop(case))
    )
    start = time.process_time()
    call()
    calls = max(1, int(PROFILE_CALLS_TARGET_S / max(time.process_time() - start, 1e-6)))
    profiler = cProfile.Profile(time.process_time)
    profiler.enable()
    for _ in range(calls):
        call()
    profiler.disable()
    stats = pstats.Stats(profiler)
    total = sum(row[2] for row in stats.stats.values())  # type: ignore[attr-defined]
    rows = []
    for (file, line, name), (_, ncalls, tottime, cumtime, _) in stats.stats.items():  # type: ignore[attr-defined]
        where = f"{Path(file).parent.name}/{Path(file).name}:{line}" if line else file
        rows.append(
            {
                "function": f"{name} ({where})",
                "own_share": tottime / total if total else 0.0,
                "own_us_per_pass": tottime / calls * 1e6,
                "cumulative_us_per_pass": cumtime / calls * 1e6,
                "calls_per_pass": ncalls / calls,
            }
        )
    rows.sort(key=lambda r: -r["own_share"])
    return rows[:PROFILE_TOP]


def run(problem: problems.Workload, rounds: int, min_sample_s: float, seed: int = 0) -> dict[str, Any]:
    """Median time of every part (call inside ``threads.single_thread()``), the gap, a profile."""
    timings = timing.interleaved(parts(problem), rounds=rounds, min_sample_s=min_sample_s, seed=seed)
    med = {name: t.median for name, t in timings.items()}
    attribution = {
        "validation (as backprop calls it)": med["validate, as backprop calls it"],
        "errstate guard": med["errstate guard (enter + exit)"],
        "sigmoid (extra over 1/(1+exp(-z)))": med["activations.sigmoid on every z"]
        - med["candidate: 1 / (1 + exp(-z))"],
        "a, sigma' and 1 - a as the pass forms them (extra over 1/(1+exp(-z)) and a(1-a))": med[
            "activations.sigma_prime_and_complement on every z (a, sigma', 1 - a)"
        ]
        - med["candidate: 1 / (1 + exp(-z))"]
        - med["candidate: a (1 - a)"],
        "backward pass and C (engine.backpropagate beyond engine.feedforward)": med[
            "engine.backpropagate (the prepared pass's core)"
        ]
        - med["engine.feedforward"],
        # paired within each round (timing.paired_difference): a few us between two figures of ~100 us
        "prepared pass: checks beyond engine.backpropagate": timing.paired_difference(
            timings, "reference prepared pass", "engine.backpropagate (the prepared pass's core)"
        ),
        "engine.backpropagate beyond the numpy pass": med["engine.backpropagate (the prepared pass's core)"]
        - med["numpy pass"],
    }
    for name in med:
        if name.startswith(("validation.check_forward_finite", "costs.residual")):
            attribution[name] = med[name]
    checks = [name for name in med if name.startswith(CHECKS_PREFIX)]
    if checks:  # each alone: beside "checks beyond engine.backpropagate", what the pass adds in context
        attribution["prepared pass: its checks one by one, summed"] = sum(med[name] for name in checks)
    return {
        "label": problem.label,
        "dtype": problem.dtype,
        "median_s": med,
        "gap_s": med["reference.backprop"] - med["numpy pass"],
        "attribution_s": attribution,
        "profile": profile(problem),
        "profile_prepared": profile(problem, prepared=True),
    }
