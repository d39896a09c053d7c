"""The issue's targets, judged from one run's results: measured value, threshold, met or not."""

from __future__ import annotations

from typing import Any

from .backprop import BASELINE, PREPARED, find_ratio
from .symbolic_time import ISSUE_COMMAND, WIDE_COMMAND
from .training import BASELINE as TRAIN
from .training import TORCH64

# The section holding the prepared and unprepared passes' profiles.
WHERE = "Where the reference spends its time beyond the numpy pass"


def _row(
    text: str,
    measured: float | None,
    threshold: float,
    higher_is_better: bool,
    unit: str = "x",
    numpy_pass: float | None = None,
    profile: str | None = None,
) -> dict[str, Any]:
    """numpy_pass: the hand-written numpy pass's value on the same measure, where it has one:
    what any numpy engine doing the same work can reach on this machine. profile: where on the page
    the same run's profile of this figure is (what the time went to), shown beside a missed target."""
    met = None if measured is None else (measured >= threshold if higher_is_better else measured <= threshold)
    return {
        "target": text,
        "measured": measured,
        "threshold": threshold,
        "unit": unit,
        "met": met,
        "numpy_pass": numpy_pass,
        "profile": profile,
    }


def _backprop_at(results: dict[str, Any], sizes: list[int], batch: int) -> dict[str, Any] | None:
    for r in results.get("backprop", []):
        if r["sizes"] == sizes and r["batch"] == batch:
            return dict(r)
    return None


def _median_ratio(row: dict[str, Any] | None, peer: str, baseline: str) -> float | None:
    if row is None:
        return None
    found = find_ratio(row, peer, baseline)
    return None if found is None else float(found["median"])


def judge_targets(results: dict[str, Any]) -> list[dict[str, Any]]:
    rows = []
    for sizes, batch, threshold in (([784, 100, 100, 10], 64, 1.25), ([784, 30, 10], 10, 4.0)):
        row = _backprop_at(results, sizes, batch)
        rows.append(
            _row(
                f"PyTorch float64 / reference float64 at {sizes} x {batch} >= {threshold}",
                _median_ratio(row, "torch float64", BASELINE),
                threshold,
                True,
                numpy_pass=_median_ratio(row, "torch float64", "numpy float64"),
                profile=f"{WHERE}; beside: the numpy pass's ratio, this machine's floor for a numpy engine",
            )
        )
    for r in results.get("backprop", []):
        for peer, name in ((PREPARED, "reference prepared"), (BASELINE, "reference.backprop")):
            threshold = _pass_threshold(r["sizes"], r["batch"], prepared=peer == PREPARED)
            rows.append(
                _row(
                    f"{name} float64 / numpy pass float64 at {r['label']} <= {threshold}",
                    _median_ratio(r, peer, "numpy float64"),
                    threshold,
                    False,
                    numpy_pass=1.0,
                    profile=WHERE,
                )
            )
    rows.extend(_checks_rows(results))
    runs = results.get("training") or []
    for t in runs if isinstance(runs, list) else [runs]:
        threshold = 2.5 if (t["sizes"], t["mini_batch_size"]) == ([784, 30, 10], 10) else 1.0
        ratio = next((x for x in t["ratios"] if x["peer"] == TORCH64 and x["baseline"] == TRAIN), None)
        rows.append(
            _row(
                f"reference.train samples/s / PyTorch float64 loop's at {t['sizes']} x {t['mini_batch_size']} "
                f">= {threshold}",
                None if ratio is None else float(ratio["median"]),  # epoch time ratio = samples/s ratio
                threshold,
                True,
                profile="2. Training throughput",
            )
        )
    for r in results.get("backprop", []):
        if r["batch"] == 64:
            rows.append(
                _row(
                    f"per-sample loop / reference float64 at {r['label']} >= 20",
                    _median_ratio(r, "per-sample loop float64", BASELINE),
                    20.0,
                    True,
                    numpy_pass=_median_ratio(r, "per-sample loop float64", "numpy float64"),
                    profile="beside: the same ratio against the bare numpy pass, this machine's floor",
                )
            )
    rows.append(
        _row(
            "directional check of ~1.8M parameters < 5 s",
            _directional_18m(results),
            5.0,
            False,
            "s",
            profile="3. Gradient checking",
        )
    )
    for key, args, threshold in (("command", ISSUE_COMMAND, 5.0), ("wide_command", WIDE_COMMAND, 15.0)):
        rows.append(_command_row(results.get("symbolic", {}).get(key) or {}, args, threshold))
    conformance = results.get("conformance", {}).get("runs", {}).get("reference", {})
    rows.append(
        _row(
            "default conformance run on the reference < 60 s",
            conformance.get("wall_s"),
            60.0,
            False,
            "s",
            profile="4. Conformance run",
        )
    )
    rows.append(
        _row(
            "default conformance run on the reference, isolated / --in-process <= 1.2 (issue 22)",
            results.get("conformance", {}).get("isolation_ratio"),
            1.2,
            False,
            profile="4. Conformance run: isolation, per call",
        )
    )
    per_call = results.get("conformance", {}).get("per_call") or {}
    overhead_ms = per_call.get("overhead_ms")
    rows.append(
        _row(
            f"isolation's overhead per call at the largest generated case ({per_call.get('case', '?')}) "
            "<= 2 ms (issue 22)",
            None if overhead_ms is None else overhead_ms / 1e3,
            2e-3,
            False,
            "s",
            profile="4. Conformance run: isolation, per call",
        )
    )
    rows.extend(_few_shapes_rows(results.get("conformance", {}).get("few_shapes", {})))
    rows.append(_failing_row(results))
    memory = results.get("memory", {})
    ratio = memory.get("ratio_to_must_hold", {}).get("reference.backprop") if memory else None
    rows.append(
        _row(
            f"peak memory of a pass at {memory.get('label', '?')} <= 1.5 x what it must hold",
            ratio,
            1.5,
            False,
            profile="6. Peak memory of one pass",
        )
    )
    return rows


def _command_row(command: dict[str, Any], args: tuple[str, ...], threshold: float) -> dict[str, Any]:
    """Issue 22 item 4: the whole command in wall seconds (median over its runs), as the issue asks; its CPU
    seconds and the seconds it waited for a core stand beside it (``beside``), so that a wall figure
    taken on a loaded machine is explained by the counts, not guessed at."""
    runs = command.get("runs") or ([command] if command else [])  # a record from before: one run
    proved = command.get("exit_code") == 0 and "error" not in command
    count = f", median of {len(runs)} run{'s' if len(runs) != 1 else ''}" if runs else ""
    row = _row(
        f"python {' '.join(args)} < {threshold:g} s (wall, whole command{count})",
        command.get("wall_s") if proved else None,
        threshold,
        False,
        "s",
        profile="beside: the command's CPU and its wait for a core; 5. Symbolic proofs",
    )
    if proved:
        beside = f"CPU {command['cpu_s']:.3g} s"
        if command.get("waiting_s") is not None:
            beside += f", waiting for a core {command['waiting_s']:.3g} s"
        loads = [r["load_average"][0] for r in runs if r.get("load_average")]
        if loads:
            beside += f", load average {min(loads):.2f}-{max(loads):.2f}"
        row["beside"] = beside
    return row


def _checks_rows(results: dict[str, Any]) -> list[dict[str, Any]]:
    """Issue 22 item 1: the prepared pass's per-batch checks under 3.5 us at the seed's workload, judged on
    what they add inside the pass (benchmarks/overhead.py's attribution: the prepared pass less
    engine.backpropagate, paired per round), with the parts timed one by one and summed beside it."""
    for o in results.get("overhead", []):
        if o.get("label") == "[784, 30, 10] x 10" and o.get("dtype") == "float64":
            attribution = o.get("attribution_s", {})
            inside = attribution.get("prepared pass: checks beyond engine.backpropagate")
            if inside is None:
                return []
            row = _row(
                "the prepared pass's per-batch checks at [784, 30, 10] x 10 < 3.5 us (issue 22; what they add "
                "inside the pass)",
                inside,
                3.5e-6,
                False,
                "s",
                profile=f"{WHERE}: the prepared checks one by one",
            )
            summed = attribution.get("prepared pass: its checks one by one, summed")
            if summed is not None:
                row["beside"] = f"the parts timed one by one, summed: {summed * 1e6:.3g} us"
            return [row]
    return []


def _failing_row(results: dict[str, Any]) -> dict[str, Any]:
    """Issue 22 item 5: ANY failing default run within 2x the CPU time of the reference's, judged on the
    worst of the stand-ins (conformance_time.FAILING), isolated and --in-process; results of the
    one-stand-in benchmark (NOISE, isolated) have no ``worst`` and are labelled as such."""
    failing = results.get("conformance", {}).get("failing", {})
    worst = failing.get("worst")
    which = f"worst of the stand-ins, isolated and --in-process: {worst}" if worst else "noise for every new network"
    return _row(
        f"default conformance run, failing ({which}) / correct (the reference), CPU time <= 2",
        failing.get("cpu_ratio"),
        2.0,
        False,
        profile="4. Conformance run: each stand-in's CPU and value sets, shrinking's among them",
    )


def _pass_threshold(sizes: list[int], batch: int, prepared: bool) -> float:
    """The ceilings on reference / numpy pass: the seed's workload, then larger ones. Issue 22
    lowered the prepared pass's at the seed's workload (1.3 -> 1.25 at x 10, 1.15 -> 1.10 at x 100);
    ``reference.backprop``, which checks the whole case on every call, keeps issue 11's."""
    if sizes == [784, 30, 10]:
        if prepared:
            return 1.25 if batch <= 10 else 1.1
        return 1.3 if batch <= 10 else 1.15
    return 1.1


def _directional_18m(results: dict[str, Any]) -> float | None:
    for row in results.get("gradcheck", {}).get("rows", []):
        if row["n_params"] > 1_500_000 and "directional" in row["timings"]:
            return float(row["timings"]["directional"]["median_s"])
    return None


def _few_shapes_rows(few: dict[str, Any]) -> list[dict[str, Any]]:
    """Issue 22 item 3: a stand-in compiling 20 s per new shape, under "shapes": "few" (computed from the
    compile count: benchmarks.conformance_time.few_shapes)."""
    return [
        _row(
            f'{label} run, "shapes": "few", a stand-in compiling 20 s per new shape (compiles x 20 s + the run) '
            f"< {threshold:.0f} s",
            few.get(key, {}).get("computed_s") if few.get(key, {}).get("exit_code") == 0 else None,
            threshold,
            False,
            "s",
            profile="4. Conformance run: shapes few",
        )
        for label, key, threshold in (("--quick", "quick", 300.0), ("default", "default", 1200.0))
    ]
