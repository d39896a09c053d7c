"""Section 5: SymPy proof time against architecture size.

Each proof runs in a fresh interpreter (no SymPy cache carried over from a smaller proof),
timed inside it around ``symbolic.prove.prove`` alone (imports excluded; CPU seconds, as in
``timing``), for a generic
differentiable sigma in every layer and the quadratic cost: the proof that holds for every
sigma. Series: depth L at width 2, and width n at L = 3 and L = 4. A series stops at the first
proof that exceeds the per-proof time limit. When ``symbolic.bench.measure`` exists (issue 4)
its own figures are recorded as well.
"""

from __future__ import annotations

import importlib.util
import json
import resource
import subprocess
import sys
import time
from typing import Any

from .conformance_time import ROOT, _env

CHILD = """
import json, sys, time
from symbolic.prove import prove
sizes = tuple(json.loads(sys.argv[1]))
start = time.process_time()
proof = prove(sizes, ("sigma",) * (len(sizes) - 1), "quadratic")
print(json.dumps({"seconds": time.process_time() - start, "proven": bool(proof.proven),
                  "checks": len(proof.checks)}))
"""


def prove_once(sizes: tuple[int, ...], timeout_s: float) -> dict[str, Any]:
    try:
        done = subprocess.run(
            [sys.executable, "-c", CHILD, json.dumps(list(sizes))],
            capture_output=True,
            text=True,
            cwd=ROOT,
            env=_env(),
            timeout=timeout_s,
            check=False,
        )
    except subprocess.TimeoutExpired:
        return {"error": f"over {timeout_s:.0f} s"}
    if done.returncode != 0:
        return {"error": done.stderr.strip().splitlines()[-1] if done.stderr.strip() else "failed"}
    return dict(json.loads(done.stdout.strip().splitlines()[-1]))


def prove_command(sizes: str) -> tuple[str, ...]:
    """``python -m symbolic prove`` at these sizes, sigmoid layers and the quadratic cost."""
    return ("-m", "symbolic", "prove", "--sizes", sizes, "--activations", "sigmoid,sigmoid", "--cost", "quadratic")


ISSUE_COMMAND = prove_command("24,24,24")
"""Issue 22: under 5 s."""
WIDE_COMMAND = prove_command("32,32,32")
"""Issue 22: under 15 s; timed with the width series only (``--quick`` runs none), as it costs about
twice the first."""


def command_time(args: tuple[str, ...] = ISSUE_COMMAND, timeout_s: float = 300.0) -> dict[str, Any]:
    """The whole command as a user runs it (interpreter start and printing included): its CPU
    seconds (user + system of the child, the figure a shared machine does not inflate) and wall seconds."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    try:
        done = subprocess.run(
            [sys.executable, *args],
            capture_output=True,
            text=True,
            cwd=ROOT,
            env=_env(),
            timeout=timeout_s,
            check=False,
        )
    except subprocess.TimeoutExpired:
        return {"command": "python " + " ".join(args), "error": f"over {timeout_s:.0f} s"}
    wall = time.perf_counter() - start
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return {"command": "python " + " ".join(args), "cpu_s": cpu, "wall_s": wall, "exit_code": done.returncode}


def series(depths: tuple[int, ...], widths: tuple[int, ...]) -> list[tuple[str, tuple[int, ...]]]:
    out = [("depth at width 2", (2,) * depth) for depth in depths]
    for layers in (3, 4):
        out += [(f"width at {layers} layers", (n,) * layers) for n in widths]
    return out


def run(depths: tuple[int, ...], widths: tuple[int, ...], timeout_s: float = 300.0) -> dict[str, Any]:
    if importlib.util.find_spec("symbolic.prove") is None:
        return {"skipped": "symbolic.prove does not exist yet (issue 4)"}
    rows: list[dict[str, Any]] = []
    notes: list[str] = []
    stopped: set[str] = set()
    for name, sizes in series(depths, widths):
        if name in stopped:
            continue
        result = prove_once(sizes, timeout_s)
        if "error" in result:
            notes.append(f"{name}: {list(sizes)} {result['error']}; larger sizes of this series not run")
            stopped.add(name)
            continue
        if not result["proven"]:
            notes.append(f"{list(sizes)}: the proof did not close (see symbolic/)")
        rows.append({"series": name, "sizes": list(sizes), **result})
    out: dict[str, Any] = {
        "rows": rows,
        "notes": notes,
        "proof": "generic sigma in every layer, quadratic cost",
        "command": command_time(),
    }
    if widths:
        out["wide_command"] = command_time(WIDE_COMMAND)
    if importlib.util.find_spec("symbolic.bench") is not None:
        bench = importlib.import_module("symbolic.bench")
        try:
            out["symbolic.bench.measure"] = _jsonable(bench.measure([list(s) for _, s in series(depths, widths)]))
        except Exception as error:  # noqa: BLE001 - its API is another issue's: record the mismatch, keep our own figures
            notes.append(f"symbolic.bench.measure could not be called: {type(error).__name__}: {error}")
    return out


def _jsonable(value: Any) -> Any:
    """Whatever ``symbolic.bench.measure`` returns, in a form json.dumps accepts."""
    try:
        json.dumps(value)
        return value
    except TypeError:
        return repr(value)
