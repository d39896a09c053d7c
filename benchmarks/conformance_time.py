"""Section 4: wall time of a default ``python -m conformance`` run, on the reference and on PyTorch.

The reference runs twice, isolated (the default: a worker process) and ``--in-process``, and
the cost of isolation is also measured per call, at the largest case the search generates.

And the time a per-shape compiler waits under ``"shapes": "few"`` (``few_shapes``): the stand-in
of benchmarks/shape_compiler.py compiling 20 s on every new shape, for ``--quick`` and a
default run. That time is computed, not slept through: the run's COUNT of compiles (the
stand-in logs each) times 20 s, plus the wall time of the same run without the sleep (22
sleeps of 20 s would hold the benchmark 7 minutes). The count is checked once for real:
``--quick`` with a short sleep must take the run's time plus the sleeps.

And a failing run against a passing one of the same speed (``failing_vs_correct``, issue 22 item 5):
four stand-ins, each the reference but for one flaw that a different part of the search meets (noise for
every network; ``sgd_step`` at unusual learning rates; the gradients past a batch of 32; the seed's
printed equation 2), each run isolated and ``--in-process`` against the reference run the same way, in
CPU seconds of the run and its worker. The target is judged on the worst of the eight ratios, and that
stand-in's run and the reference's are split in process into judging and the rest (``_split``:
benchmarks/judging_split.py), the profile of a miss.

Each run is a subprocess, timed from outside as a user would see it (interpreter start and
imports included), with the machine's default threading (no pinning: this is the run a
project puts in its CI). The number of cases (Hypothesis examples) comes from the run's JSON
report when the CLI offers one (``--report FILE``), and otherwise from its closing line
"... (N cases in S s)".
"""

from __future__ import annotations

import importlib.util
import json
import os
import re
import resource
import statistics
import subprocess
import sys
import tempfile
import time
import zlib
from pathlib import Path
from typing import Any

import numpy as np

import reference
from conformance.cases.search import SearchSettings
from conformance.implementations.input_mutation import fresh_copy, mutation
from conformance.implementations.loader import Implementation, load_implementation
from reference import Case, engine
from reference.costs import reduction_scale
from reference.equations import equation_3, equation_4
from reference.prepared import result_dict

from .shape_compiler import LOG_VARIABLE, SLEEP_VARIABLE, compiles
from .threads import torch_available

ROOT = Path(__file__).resolve().parent.parent
# label: (spec, extra arguments); "reference" isolated and in process make the isolation ratio.
IMPLEMENTATIONS: dict[str, tuple[str, tuple[str, ...]]] = {
    "reference": ("reference", ()),
    "reference (--in-process)": ("reference", ("--in-process",)),
    "PyTorch adapter": ("conformance.adapters.torch_adapter", ()),
}
CLOSING = re.compile(r"\((\d+) cases? in ([0-9.]+) s\)")
# The compile time of the tinygrad runs (10 to 25 s per new shape), for the computed figures.
COMPILE_S = 20.0
# The short sleep of the real run that checks the computed figure.
CHECK_SLEEP_S = 0.5
# Pairs of default runs (isolated, --in-process) whose median wall ratio is the isolation figure.
ISOLATION_PAIRS = 3


def _env() -> dict[str, str]:
    from . import PINNED_ENV  # the pins this package set for itself: default threading here

    env = {k: v for k, v in os.environ.items() if k not in PINNED_ENV}
    env["PYTHONPATH"] = str(ROOT) + (os.pathsep + env["PYTHONPATH"] if env.get("PYTHONPATH") else "")
    return env


def _report_option() -> str | None:
    """The CLI's option that writes the report as JSON, if it has one."""
    done = subprocess.run(
        [sys.executable, "-m", "conformance", "--help"],
        capture_output=True,
        text=True,
        cwd=ROOT,
        env=_env(),
        timeout=120,
        check=False,
    )
    return next((opt for opt in ("--report", "--json") if opt in done.stdout), None)


def run_one(
    impl: str,
    timeout_s: float,
    report_option: str | None,
    extra: tuple[str, ...] = (),
    variables: dict[str, str] | None = None,
    split_cpu: bool = False,
) -> dict[str, Any]:
    """One ``python -m conformance --impl IMPL [EXTRA]`` run, timed from outside; ``variables`` join its environment.

    ``split_cpu``: run through benchmarks.cpu_split (the same CLI in the same process), which adds the
    suite's CPU seconds and its worker's (``suite_cpu_s``, ``worker_cpu_s``)."""
    arguments = ["--impl", impl, *extra]
    with tempfile.TemporaryDirectory() as scratch:
        report_path = Path(scratch) / "report.json"
        if report_option:
            arguments += [report_option, str(report_path)]
        command = [sys.executable, "-m", "conformance", *arguments]
        split_path = Path(scratch) / "cpu.json"
        argv = [sys.executable, "-m", "benchmarks.cpu_split", str(split_path), *arguments] if split_cpu else command
        env = _env()
        env["BACKPROP_CONFORMANCE_FAILURES"] = str(Path(scratch) / "failures")  # leave no files behind
        env.update(variables or {})
        start = time.perf_counter()
        try:
            done = subprocess.run(
                argv,
                capture_output=True,
                text=True,
                cwd=scratch,
                env=env,
                timeout=timeout_s,
                check=False,
            )
        except subprocess.TimeoutExpired:
            return {
                "command": _shown(command, report_option),
                "error": f"did not finish within {timeout_s:.0f} s",
            }
        wall = time.perf_counter() - start
        examples: int | None = None
        reported: float | None = None
        if report_option and report_path.exists():
            data = json.loads(report_path.read_text(encoding="utf-8"))
            examples = int(data.get("examples", 0))
            reported = float(data.get("duration_seconds", 0.0))
        else:
            found = CLOSING.findall(done.stdout + done.stderr)
            if found:
                examples, reported = int(found[-1][0]), float(found[-1][1])
        split = json.loads(split_path.read_text(encoding="utf-8")) if split_path.exists() else None
    result: dict[str, Any] = {
        "command": _shown(command, report_option),
        "exit_code": done.returncode,
        "wall_s": wall,
        "examples": examples,
        "reported_duration_s": reported,
    }
    if split is not None:
        result["suite_cpu_s"], result["worker_cpu_s"] = split["suite_cpu_s"], split["children_cpu_s"]
    if done.returncode != 0:
        result["output_tail"] = (done.stdout + done.stderr)[-600:]
    return result


def _shown(command: list[str], report_option: str | None) -> str:
    """The command as a user types it, without the scratch report file."""
    shown = " ".join(["python", *command[1:]])
    return shown.split(f" {report_option} ")[0] if report_option else shown


def compile_run(impl: str, quick: bool, sleep_s: float, timeout_s: float, report_option: str | None) -> dict[str, Any]:
    """A run of the shape-compiler stand-in ``impl``, sleeping ``sleep_s`` per new shape: its compiles counted."""
    with tempfile.TemporaryDirectory() as scratch:
        log = str(Path(scratch) / "compiles.log")
        variables = {LOG_VARIABLE: log, SLEEP_VARIABLE: str(sleep_s)}
        result = run_one(impl, timeout_s, report_option, ("--quick",) if quick else (), variables)
        result["compiles"] = len(compiles(log)) if Path(log).exists() else 0
    result["sleep_s"] = sleep_s
    return result


def few_shapes(timeout_s: float = 600.0, report_option: str | None = None) -> dict[str, Any]:
    """--quick and default runs of a 20 s-per-shape compiler under "shapes": "few", computed from compile counts.

    ``computed_s`` = compiles x COMPILE_S + the wall time without sleeping. The check: --quick
    again with CHECK_SLEEP_S per compile, whose wall time the same formula predicts; and the
    control, --quick without the capability, whose compile count says what it would cost.
    """
    out: dict[str, Any] = {"compile_s": COMPILE_S}
    for label, quick in (("quick", True), ("default", False)):
        run_ = compile_run("benchmarks.shape_compiler:few", quick, 0.0, timeout_s, report_option)
        if "wall_s" in run_:
            run_["computed_s"] = run_["compiles"] * COMPILE_S + run_["wall_s"]
        out[label] = run_
    check = compile_run("benchmarks.shape_compiler:few", True, CHECK_SLEEP_S, timeout_s, report_option)
    if "wall_s" in check and "wall_s" in out["quick"]:
        check["predicted_s"] = check["compiles"] * CHECK_SLEEP_S + out["quick"]["wall_s"]
    out["check"] = check
    control = compile_run("benchmarks.shape_compiler:every", True, 0.0, timeout_s, report_option)
    if "wall_s" in control:
        control["computed_s"] = control["compiles"] * COMPILE_S + control["wall_s"]
    out["without the capability (quick)"] = control
    return out


def run(timeout_s: float = 600.0) -> dict[str, Any]:
    if importlib.util.find_spec("conformance.__main__") is None:
        return {"skipped": "python -m conformance does not exist yet (issue 5)"}
    report_option = _report_option()
    results: dict[str, Any] = {}
    notes: list[str] = []
    for label, (impl, extra) in IMPLEMENTATIONS.items():
        if impl.startswith("conformance.adapters.torch") and not torch_available():
            notes.append(f"{label}: torch is not installed, not run")
            continue
        results[label] = run_one(impl, timeout_s, report_option, extra, split_cpu=impl == "reference")
    pairs = _isolation_pairs(results, timeout_s, report_option)
    ratio = statistics.median(p["ratio"] for p in pairs) if len(pairs) == ISOLATION_PAIRS else None
    return {
        "runs": results,
        "isolation_ratio": ratio,
        "isolation_pairs": pairs,
        "round_trip_us": pipe_round_trip_us(),
        "per_call": per_call_overhead(),
        "notes": notes,
        "few_shapes": few_shapes(timeout_s, report_option),
        "failing": failing_vs_correct(timeout_s * 3),
    }


def _isolation_pairs(results: dict[str, Any], timeout_s: float, report_option: str | None) -> list[dict[str, float]]:
    """The default run isolated and --in-process, ``ISOLATION_PAIRS`` times: the pair above, then more, each
    in the other order than the one before (whichever runs first may meet a cold cache). One pair is not
    enough here: the worker and the suite share the machine's two cores, and back-to-back isolated runs
    took 33.8 to 43.2 s while in-process ones took 30.6 to 31.0 s (2026-12-07, quiet machine)."""
    first = (results.get("reference", {}), results.get("reference (--in-process)", {}))
    pairs: list[dict[str, float]] = []
    for index in range(ISOLATION_PAIRS):
        if index == 0:
            isolated, in_process = first
        elif index % 2:
            in_process = run_one("reference", timeout_s, report_option, ("--in-process",), split_cpu=True)
            isolated = run_one("reference", timeout_s, report_option, split_cpu=True)
        else:
            isolated = run_one("reference", timeout_s, report_option, split_cpu=True)
            in_process = run_one("reference", timeout_s, report_option, ("--in-process",), split_cpu=True)
        if isolated.get("exit_code") != 0 or in_process.get("exit_code") != 0:
            break
        pair = {
            "isolated_s": isolated["wall_s"],
            "in_process_s": in_process["wall_s"],
            "ratio": isolated["wall_s"] / in_process["wall_s"],
        }
        if "suite_cpu_s" in isolated and "suite_cpu_s" in in_process:
            # The profile of a miss: where the isolated run's CPU went, beside the in-process run's.
            pair["isolated_suite_cpu_s"] = isolated["suite_cpu_s"]
            pair["isolated_worker_cpu_s"] = isolated["worker_cpu_s"]
            pair["in_process_cpu_s"] = in_process["suite_cpu_s"] + in_process["worker_cpu_s"]
        pairs.append(pair)
    return pairs


def pipe_round_trip_us(rounds: int = 3, trips: int = 5000) -> float | None:
    """This machine's floor for one call to another process: a 100-byte message through a pipe and
    its answer back, between two processes that each block until the other writes (as the suite and
    its worker do). The median of ``rounds`` means over ``trips``, in microseconds; None where there
    is no fork. Each isolated call pays at least this, on top of its encoding and decoding."""
    if not hasattr(os, "fork"):
        return None
    means = []
    for _ in range(rounds):
        ask_read, ask_write = os.pipe()
        answer_read, answer_write = os.pipe()
        pid = os.fork()
        if pid == 0:  # the child: answer every message, then leave without cleanup handlers
            try:
                for _ in range(trips):
                    os.read(ask_read, 100)
                    os.write(answer_write, b"a" * 100)
            finally:
                os._exit(0)
        start = time.perf_counter()
        for _ in range(trips):
            os.write(ask_write, b"q" * 100)
            os.read(answer_read, 100)
        means.append((time.perf_counter() - start) / trips * 1e6)
        os.waitpid(pid, 0)
        for fd in (ask_read, ask_write, answer_read, answer_write):
            os.close(fd)
    return statistics.median(means)


def largest_case(seed: int = 0) -> Any:
    """The largest case the default search draws: max_layers sizes of max_width, max_batch samples, float64."""
    settings = SearchSettings(max_examples=1)
    rng = np.random.default_rng(seed)
    n, m, layers = settings.max_width, settings.max_batch, settings.max_layers - 1
    sizes = (n,) * (layers + 1)
    return Case(
        sizes,
        ("sigmoid",) * layers,
        "quadratic",
        "mean",
        "float64",
        [rng.standard_normal((n, n)) for _ in range(layers)],
        [rng.standard_normal(n) for _ in range(layers)],
        rng.standard_normal((m, n)),
        rng.random((m, n)),
    )


def per_call_overhead(rounds: int = 9, calls: int = 20) -> dict[str, Any]:
    """Wall time per backprop call at the largest case, isolated (the spec worker) and in process.

    Rounds alternate the two (a busy machine hits both alike); the overhead is the median over
    rounds of (isolated - in process) per call, the mean of ``calls`` calls each. Each call is
    made as the suite's checker makes it (``_checked_call``), so both sides do the same work.
    """
    case = largest_case()
    isolated = load_implementation("reference")
    in_process = load_implementation("reference", in_process=True)
    try:
        for impl in (isolated, in_process):  # warm: the first call of a kind has the warm-up budget
            impl.backprop(case)
        times: dict[str, list[float]] = {"isolated": [], "in_process": []}
        for _ in range(rounds):
            for label, impl in (("isolated", isolated), ("in_process", in_process)):
                start = time.perf_counter()
                for _ in range(calls):
                    _checked_call(impl, case)
                times[label].append((time.perf_counter() - start) / calls)
    finally:
        isolated.close()
        in_process.close()
    overhead = [a - b for a, b in zip(times["isolated"], times["in_process"], strict=True)]
    return {
        "case": f"{len(case.sizes) - 1} layers of {case.sizes[0]}, batch {case.x.shape[0]}, {case.dtype}",
        "isolated_ms": 1e3 * statistics.median(times["isolated"]),
        "in_process_ms": 1e3 * statistics.median(times["in_process"]),
        "overhead_ms": 1e3 * statistics.median(overhead),
        "rounds": rounds,
        "calls_per_round": calls,
        **_cpu_per_call(case, rounds * calls),
        "load_average": os.getloadavg()[0],
    }


def _checked_call(impl: Implementation, case: Case) -> None:
    """One first backprop call of a case as conformance/judging/checks.py makes it: in process on a
    fresh copy of the case (``CaseChecker._given``; a worker is sent the case's bytes), then, in
    process, the comparison of the inputs (no_mutation) that an isolated worker makes itself,
    inside its call."""
    given = fresh_copy(case) if impl.in_process else case
    impl.backprop(given)
    if impl.in_process:
        mutation(given, case)


def _children_cpu() -> float:
    """CPU seconds of this process's live children so far (Linux /proc; 0 elsewhere)."""
    total = 0.0
    tick = os.sysconf("SC_CLK_TCK") if hasattr(os, "sysconf") else 100
    try:
        tasks = os.listdir("/proc/self/task")
    except OSError:
        return 0.0
    for task in tasks:
        try:
            with open(f"/proc/self/task/{task}/children", encoding="ascii") as f:
                pids = f.read().split()
        except OSError:
            continue
        for pid in pids:
            try:
                with open(f"/proc/{pid}/stat", encoding="ascii") as f:
                    fields = f.read().rsplit(")", 1)[1].split()
            except OSError:
                continue
            total += (int(fields[11]) + int(fields[12])) / tick  # utime, stime
    return total


def _cpu_per_call(case: Any, calls: int) -> dict[str, float]:
    """CPU per call, the suite's and its worker's: a figure the machine's load barely inflates
    (waiting for a core costs wall time, not CPU), in ms; clock ticks of 10 ms over ``calls``."""
    figures = {}
    for label, in_process in (("isolated", False), ("in_process", True)):
        impl = load_implementation("reference", in_process=in_process)
        try:
            impl.backprop(case)
            before = time.process_time() + _children_cpu()
            for _ in range(calls):
                _checked_call(impl, case)
            figures[f"cpu_{label}_ms"] = 1e3 * (time.process_time() + _children_cpu() - before) / calls
        finally:
            impl.close()
    figures["cpu_overhead_ms"] = figures["cpu_isolated_ms"] - figures["cpu_in_process_ms"]
    return figures


# -- a failing run against a passing one of the same speed (issue 22 item 5) --------------------


class Noise:
    """A failing implementation of the reference's speed: its answers, every number replaced by noise.

    The noise is drawn from the case's own values, so the same case gets the same answer (it fails
    the equations, not determinism, and every check after them has something to judge) while every
    new network gets new garbage: the issue's "answers garbage for every new network".
    """

    def backprop(self, case: Any) -> dict[str, Any]:
        result = reference.backprop(case)
        noise = _noise(case)
        scrambled = {k: [noise(a, case.dtype) for a in result[k]] for k in ("grad_weights", "grad_biases", "deltas")}
        return {**scrambled, "cost": float(noise(np.zeros(()), "float64"))}

    def sgd_step(self, case: Any, eta: float) -> dict[str, Any]:
        step = reference.sgd_step(case, eta)
        noise = _noise(case)
        return {k: [noise(a, case.dtype) for a in v] for k, v in step.items()}


def _noise(case: Any) -> Any:
    """Standard normal numbers shaped as a given array, from a generator seeded by the case's values."""
    seed = zlib.crc32(b"".join(np.ascontiguousarray(a).tobytes() for a in (*case.weights, case.x, case.y)))
    rng = np.random.default_rng(seed)
    return lambda like, dtype: rng.standard_normal(np.shape(like)).astype(dtype)


NOISE = Noise()  # the spec benchmarks.conformance_time:NOISE


class UnusualEta:
    """Right everywhere but ``sgd_step`` at an unusual learning rate: outside [0.01, 1] the step is
    taken with eta clamped into it (the issue's "wrong ``sgd_step`` for unusual learning rates").

    Its backprop is the reference's, so every check before the step passes and the search meets the
    flaw only on the value sets whose drawn eta is outside the range (eta = 0 among them).
    """

    LOW, HIGH = 0.01, 1.0

    def backprop(self, case: Any) -> dict[str, Any]:
        return reference.backprop(case)

    def sgd_step(self, case: Any, eta: float) -> dict[str, Any]:
        return reference.sgd_step(case, min(max(eta, self.LOW), self.HIGH))


class WideBatch:
    """Right everywhere but at batch sizes past one tile of 32 samples: there the gradients sum the
    first 32 samples only (deltas, C and ``sgd_step`` stay right). Met only where the search draws
    m >= 33 (its large share of batch sizes), and shrunk towards m = 33, never below.
    """

    TILE = 32

    def backprop(self, case: Any) -> dict[str, Any]:
        if case.m <= self.TILE:
            return reference.backprop(case)
        p = engine.backpropagate(case, case.x, case.y)
        scale = reduction_scale(case.reduction, case.m, p.a[-1])
        tile = slice(0, self.TILE)
        grad_b = [equation_3(d[tile], scale) for d in p.deltas]
        grad_w = [equation_4(d[tile], a[tile], scale) for d, a in zip(p.deltas, p.a, strict=False)]
        return result_dict(p._replace(grad_weights=grad_w, grad_biases=grad_b))

    def sgd_step(self, case: Any, eta: float) -> dict[str, Any]:
        return reference.sgd_step(case, eta)


class SeedEquation2:
    """The seed's printed equation 2 (erratum 1, reference/equations.py): delta^l back-propagated from
    the next layer's activations, ((w^{l+1})^T sigma^{l+1}) (.) sigma'(z^l), instead of its errors.
    Right on a network without a hidden layer; its ``sgd_step`` descends along the wrong gradient.
    """

    def backprop(self, case: Any) -> dict[str, Any]:
        return result_dict(_seed_pass(case))

    def sgd_step(self, case: Any, eta: float) -> dict[str, Any]:
        if len(case.sizes) < 3:
            return reference.sgd_step(case, eta)
        p = _seed_pass(case)
        rate = np.dtype(case.dtype).type(eta)
        return {
            "weights": [w - rate * g for w, g in zip(case.weights, p.grad_weights, strict=True)],
            "biases": [b - rate * g for b, g in zip(case.biases, p.grad_biases, strict=True)],
        }


def _seed_pass(case: Any) -> engine.Pass:
    """The reference's pass with the seed's equation 2 in every hidden layer, and the gradients from those deltas."""
    p = engine.backpropagate(case, case.x, case.y)
    n_layers = len(p.deltas)
    if n_layers < 2:
        return p
    deltas = list(p.deltas)
    for i in range(n_layers - 2, -1, -1):
        sigma_prime = p.sigma_prime[i]
        assert sigma_prime is not None  # softmax is an output activation only
        deltas[i] = (p.a[i + 2] @ case.weights[i + 1]) * sigma_prime  # sigma^{l+1} where delta^{l+1} belongs
    scale = reduction_scale(case.reduction, case.m, p.a[-1])
    grad_b = [equation_3(d, scale) for d in deltas]
    grad_w = [equation_4(d, a, scale) for d, a in zip(deltas, p.a, strict=False)]
    return p._replace(deltas=deltas, grad_weights=grad_w, grad_biases=grad_b)


UNUSUAL_ETA = UnusualEta()  # benchmarks.conformance_time:UNUSUAL_ETA
WIDE_BATCH = WideBatch()  # benchmarks.conformance_time:WIDE_BATCH
SEED_EQUATION_2 = SeedEquation2()  # benchmarks.conformance_time:SEED_EQUATION_2

# Each a correct reference but for one flaw, at the reference's speed elsewhere: each flaw is met by a
# different part of the search (every network; the drawn learning rate; the large share of batch sizes;
# every network with a hidden layer) and shrunk along a different path.
FAILING: dict[str, str] = {
    "noise": "benchmarks.conformance_time:NOISE",
    "unusual_eta": "benchmarks.conformance_time:UNUSUAL_ETA",
    "wide_batch": "benchmarks.conformance_time:WIDE_BATCH",
    "seed_equation_2": "benchmarks.conformance_time:SEED_EQUATION_2",
}
# How each run is made: isolated (the default, a worker process) and in the suite's own process.
MODES: dict[str, tuple[str, ...]] = {"isolated": (), "in_process": ("--in-process",)}


def _cpu_run(impl: str, timeout_s: float, extra: tuple[str, ...] = ()) -> dict[str, Any]:
    """One default ``python -m conformance`` run: CPU seconds of it and its worker, and the report's counts.

    The causes are kept whole (check, layer, dtype, message and smallest case), so that two runs of
    the same seed can be compared: a saving must give the same report."""
    with tempfile.TemporaryDirectory() as scratch:
        report_path = Path(scratch) / "report.json"
        command = [sys.executable, "-m", "conformance", "--impl", impl, *extra, "--report", str(report_path)]
        env = _env()
        env["BACKPROP_CONFORMANCE_FAILURES"] = str(Path(scratch) / "failures")  # leave no files behind
        before = resource.getrusage(resource.RUSAGE_CHILDREN)
        try:
            done = subprocess.run(
                command, capture_output=True, text=True, cwd=scratch, env=env, timeout=timeout_s, check=False
            )
        except subprocess.TimeoutExpired:
            return {"command": _short(command, extra), "error": f"did not finish within {timeout_s:.0f} s"}
        after = resource.getrusage(resource.RUSAGE_CHILDREN)
        data = json.loads(report_path.read_text(encoding="utf-8")) if report_path.exists() else {}
    groups = data.get("groups", [])
    judged = sum(int(g.get("judged", 0)) for g in groups)
    shrink = sum(int(g.get("shrink_judged", 0)) for g in groups)
    reused = sum(int(g.get("shrink_reused", 0)) for g in groups)
    return {
        "command": _short(command, extra),
        "exit_code": done.returncode,
        "cpu_s": (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime),
        "load_average": os.getloadavg()[0],
        "judged": judged,
        "shrink_judged": shrink,
        "shrink_reused": reused,
        "shrink_budget_hit": sum(int(g.get("shrink_budget_hit", 0)) for g in groups),
        "value_sets_asked": judged + shrink - reused,
        "causes": [(c.get("check"), c.get("layer"), c.get("dtype")) for c in data.get("causes", [])],
    }


def _short(command: list[str], extra: tuple[str, ...]) -> str:
    return " ".join(["python", *command[1:5], *extra])


def failing_vs_correct(timeout_s: float = 1800.0, only: tuple[str, ...] | None = None) -> dict[str, Any]:
    """Each failing stand-in's default run against the reference's, isolated and ``--in-process``, in CPU
    time (the run and its worker) and in value sets asked of the implementation. CPU, not wall: the
    machine is shared, and the ratio is of work done. Counts come from the JSON report (GroupCount).

    ``cpu_ratio`` is the worst ratio over every stand-in and mode (issue 22 item 5: ANY failing
    implementation within 2x a correct one of the same speed); ``worst`` names it. ``only``: a subset of
    ``FAILING`` (for a quicker look; the target is judged on the full set)."""
    names = tuple(FAILING) if only is None else only
    result: dict[str, Any] = {"correct": {}, "stand_ins": {}}
    worst: tuple[float, str, str] | None = None  # (ratio, stand-in, mode)
    for mode, extra in MODES.items():
        correct = result["correct"][mode] = _cpu_run("reference", timeout_s, extra)
        for name in names:
            failing = _cpu_run(FAILING[name], timeout_s, extra)
            row: dict[str, Any] = {"failing": failing}
            if "error" not in correct and "error" not in failing and correct["cpu_s"] > 0:
                row["cpu_ratio"] = failing["cpu_s"] / correct["cpu_s"]
                row["asked_ratio"] = failing["value_sets_asked"] / max(1, correct["value_sets_asked"])
                if worst is None or row["cpu_ratio"] > worst[0]:
                    worst = (row["cpu_ratio"], name, mode)
            result["stand_ins"].setdefault(name, {})[mode] = row
    if worst is not None and all("cpu_ratio" in r for rows in result["stand_ins"].values() for r in rows.values()):
        ratio, worst_name, worst_mode = worst
        result["cpu_ratio"], result["worst"] = ratio, f"{worst_name} ({worst_mode})"
        result["split"] = {
            "reference": _split("reference", timeout_s),
            worst_name: _split(FAILING[worst_name], timeout_s),
        }
    return result


def _split(spec: str, timeout_s: float) -> dict[str, Any]:
    """benchmarks.judging_split's figures for ``spec``: CPU in judging and in the search around it."""
    command = [sys.executable, "-m", "benchmarks.judging_split", spec]
    try:
        done = subprocess.run(
            command, capture_output=True, text=True, cwd=ROOT, env=_env(), timeout=timeout_s, check=False
        )
    except subprocess.TimeoutExpired:
        return {"spec": spec, "error": f"did not finish within {timeout_s:.0f} s"}
    lines = done.stdout.strip().splitlines()
    if done.returncode != 0 or not lines:
        return {"spec": spec, "error": (done.stderr.strip().splitlines() or ["no output"])[-1][:300]}
    return dict(json.loads(lines[-1]))
