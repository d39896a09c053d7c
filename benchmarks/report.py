"""The results as Markdown: docs/benchmarks.md, written from the JSON alone.

``python -m benchmarks.report`` renders the page again from benchmarks/results/latest.json
without measuring anything (``python -m benchmarks`` measures, then writes both).
"""

from __future__ import annotations

import argparse
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

from .mutation import render as mutation_render

ROOT = Path(__file__).resolve().parent.parent
RESULTS = ROOT / "benchmarks" / "results" / "latest.json"
PAGE = ROOT / "docs" / "benchmarks.md"


def fmt_time(seconds: float | None) -> str:
    if seconds is None:
        return "n/a"
    if seconds < 1e-3:  # three digits: a check of 3.5 us is read to the tenth of a microsecond
        return f"{seconds * 1e6:.3g} us"
    if seconds < 1.0:
        return f"{seconds * 1e3:.3g} ms"
    return f"{seconds:.3g} s"


def fmt_bytes(n: float) -> str:
    return f"{n / 2**20:.1f} MiB" if n >= 2**20 else f"{n / 2**10:.0f} KiB"


def _ratio(r: dict[str, Any]) -> str:
    return f"{r['median']:.2f}x ({r['min']:.2f}-{r['max']:.2f})"


def machine(results: dict[str, Any]) -> list[str]:
    m = results["machine"]
    blas = ", ".join(f"{b['internal_api']} {b['version']} ({b['architecture']} kernel)" for b in m["blas"]) or "unknown"
    env = ", ".join(f"{k}={v if v is not None else 'unset'}" for k, v in m["openblas_environment"].items())
    pin = results.get("threads", {})
    return [
        f"Measured {m['date_utc']} on {m['nproc']} cores of an {m['cpu_model']} "
        f"(load average at start {', '.join(f'{x:.2f}' for x in m['load_average'] or [])}); "
        f"Python {m['python']}, numpy {m['numpy']} with {blas}, "
        f"torch {m['torch'] or 'not installed'}; "
        f"{env}. Mode: {results['mode']}.",
        "",
        f"Threads: {pin.get('method', 'not pinned')}; pools inside the pin: "
        + ", ".join(f"{p['internal_api']}={p['num_threads']}" for p in pin.get("pools", []))
        + (f", torch={pin['torch_threads']}" if pin.get("torch_threads") is not None else "")
        + (
            "; environment "
            + ", ".join(f"{k}={v or 'unset'}" for k, v in pin["environment"].items())
            + f"; OS threads in the process: {pin.get('os_threads')}"
            if pin.get("environment")
            else ""
        )
        + ". Times are medians over interleaved rounds (min-max in brackets); ratios are taken "
        "round by round within the same run, then their median is reported. Clock: the process's CPU "
        "time (time.process_time), so that time spent descheduled on this shared machine is not "
        "counted; wall-clock medians are in latest.json.",
    ]


def targets(results: dict[str, Any]) -> list[str]:
    lines = [
        "| target | measured | the numpy pass on the same measure | met | where this run's profile of a miss is |",
        "| --- | --- | --- | --- | --- |",
    ]
    for t in results.get("targets", []):
        shown = [
            "-" if value is None else (fmt_time(value) if t["unit"] == "s" else f"{value:.2f}x")
            for value in (t["measured"], t.get("numpy_pass"))
        ]
        if t["measured"] is None:
            shown[0] = "not measured"
        elif t.get("beside"):  # what explains the figure (the whole commands' CPU beside their wall)
            shown[0] += f" ({t['beside']})"
        met = {True: "yes", False: "**no**", None: "-"}[t["met"]]
        profile = (t.get("profile") or "-") if t["met"] is False else ""
        lines.append(f"| {t['target']} | {shown[0]} | {shown[1]} | {met} | {profile} |")
    return lines


def backprop(results: dict[str, Any]) -> list[str]:
    lines = [
        "| network x batch | peer | median | min-max | this / reference float64 |",
        "| --- | --- | --- | --- | --- |",
    ]
    for r in results.get("backprop", []):
        by_peer = {x["peer"]: x for x in r["ratios"] if x["baseline"] == "reference float64"}
        for name, t in r["timings"].items():
            ratio = "1 (baseline)" if name == "reference float64" else _ratio(by_peer[name])
            lines.append(
                f"| {r['label']} | {name} | {fmt_time(t['median_s'])} | "
                f"{fmt_time(t['min_s'])}-{fmt_time(t['max_s'])} | {ratio} |"
            )
        extra = [x for x in r["ratios"] if x["baseline"] != "reference float64"]
        for x in extra:
            lines.append(f"| {r['label']} | {x['peer']} / {x['baseline']} | | | {_ratio(x)} |")
        for note in r["notes"]:
            lines.append(f"| {r['label']} | note: {note} | | | |")
    return lines


def overhead(results: dict[str, Any]) -> list[str]:
    lines = []
    for o in results.get("overhead", []):
        lines += [
            f"At {o['label']} ({o['dtype']}): reference.backprop "
            f"{fmt_time(o['median_s']['reference.backprop'])}, numpy pass "
            f"{fmt_time(o['median_s']['numpy pass'])}, gap {fmt_time(o['gap_s'])}.",
            "",
            "| part | median |",
            "| --- | --- |",
        ]
        lines += [f"| {name} | {fmt_time(s)} |" for name, s in o["median_s"].items()]
        lines += [f"| **attributed: {name}** | {fmt_time(s)} |" for name, s in o["attribution_s"].items()]
        lines += [
            "",
            "cProfile of reference.backprop (CPU clock; the profiler inflates Python-level calls):",
            "",
            "| function | own time share | own time per pass | calls per pass |",
            "| --- | --- | --- | --- |",
        ]
        lines += [
            f"| {p['function']} | {100 * p['own_share']:.1f}% | "
            f"{fmt_time(p['own_us_per_pass'] * 1e-6)} | {p['calls_per_pass']:.0f} |"
            for p in o.get("profile", [])
        ]
        if o.get("profile_prepared"):
            lines += [
                "",
                "cProfile of the prepared pass (reference.prepare(case).backprop(x, y)):",
                "",
                "| function | own time share | own time per pass | calls per pass |",
                "| --- | --- | --- | --- |",
            ]
            lines += [
                f"| {p['function']} | {100 * p['own_share']:.1f}% | "
                f"{fmt_time(p['own_us_per_pass'] * 1e-6)} | {p['calls_per_pass']:.0f} |"
                for p in o["profile_prepared"]
            ]
        lines.append("")
    return lines


def training(results: dict[str, Any]) -> list[str]:
    runs = results.get("training")
    if not runs:
        return ["Not run."]
    lines: list[str] = []
    for t in runs if isinstance(runs, list) else [runs]:
        by_peer = {x["peer"]: x for x in t["ratios"]}
        lines += [
            f"{t['sizes']}, {t['n_samples']} samples per epoch, mini-batches of {t['mini_batch_size']}, "
            f"eta {t['eta']}.",
            "",
            "| peer | samples/s | epoch median (min-max) | epoch time / reference.train |",
            "| --- | --- | --- | --- |",
        ]
        for name, timing in t["timings"].items():
            ratio = "1 (baseline)" if name not in by_peer else _ratio(by_peer[name])
            lines.append(
                f"| {name} | {t['samples_per_s'][name]:,.0f} | {fmt_time(timing['median_s'])} "
                f"({fmt_time(timing['min_s'])}-{fmt_time(timing['max_s'])}) | {ratio} |"
            )
        lines += ([""] if t["notes"] else []) + [f"Note: {n}" for n in t["notes"]] + [""]
    return lines[:-1]


def gradcheck(results: dict[str, Any]) -> list[str]:
    g = results.get("gradcheck", {})
    if "skipped" in g:
        return [f"Skipped: {g['skipped']}"]
    if not g:
        return ["Not run."]
    methods: list[str] = []
    for row in g["rows"]:
        methods += [m for m in row["timings"] if m not in methods]
    lines = [
        "| network | parameters | " + " | ".join(methods) + " |",
        "| --- | --- | " + " | ".join("---" for _ in methods) + " |",
    ]
    for row in g["rows"]:
        cells = [fmt_time(row["timings"][m]["median_s"]) if m in row["timings"] else "-" for m in methods]
        lines.append(f"| {row['sizes']} x {row['batch']} | {row['n_params']:,} | " + " | ".join(cells) + " |")
    e = g["extrapolated_central"]
    lines += [
        "",
        f"Extrapolated to {e['sizes']} ({e['n_params']:,} parameters), one evaluation of C taking "
        f"{fmt_time(e['evaluation_s'])} (complex: {fmt_time(e['complex_evaluation_s'])}): "
        f"full central differences need at least {e['central_hours_at_least']:.2f} hours and "
        f"the complex step at least {e['complex_step_hours_at_least']:.2f} hours "
        f"({e['model']}).",
    ]
    lines += ([""] if g["notes"] else []) + [f"Note: {n}" for n in g["notes"]]
    return lines


def conformance(results: dict[str, Any]) -> list[str]:
    c = results.get("conformance", {})
    if "skipped" in c:
        return [f"Skipped: {c['skipped']}"]
    if not c:
        return ["Not run."]
    lines = [
        "Wall time of the whole command as a user sees it (interpreter start included; default "
        "threading, not pinned), so it also carries the machine's load at that moment.",
        "",
        "| implementation | command | wall time | cases (Hypothesis examples) | exit code |",
        "| --- | --- | --- | --- | --- |",
    ]
    for label, r in c["runs"].items():
        if "error" in r:
            lines.append(f"| {label} | `{r['command']}` | {r['error']} | - | - |")
        else:
            lines.append(
                f"| {label} | `{r['command']}` | {fmt_time(r['wall_s'])} | {r['examples']} | {r['exit_code']} |"
            )
    lines += ([""] if c["notes"] else []) + [f"Note: {n}" for n in c["notes"]]
    return (
        lines + _isolation_lines(c) + _few_shapes_lines(c.get("few_shapes", {})) + _failing_lines(c.get("failing", {}))
    )


def _isolation_lines(c: dict[str, Any]) -> list[str]:
    """Isolation, per call (issue 22 item 2): the default run's isolated / --in-process wall ratio, and one
    call at the largest generated case both ways, in wall and CPU (the suite's and the worker's) time."""
    per_call = c.get("per_call") or {}
    if not per_call and c.get("isolation_ratio") is None:
        return []
    ratio, pairs = c.get("isolation_ratio"), c.get("isolation_pairs") or []
    each = ", ".join(f"{p['isolated_s']:.1f} s / {p['in_process_s']:.1f} s" for p in pairs)
    heading = (
        "Isolation, per call: the default run isolated / --in-process (wall) "
        + ("not measured" if ratio is None else f"{ratio:.2f}x")
        + (f", the median of {len(pairs)} pairs ({each})" if pairs else "")
    )
    call = "one backprop call at the largest generated case, made as the suite's checker makes it:"
    split = [p for p in pairs if "isolated_worker_cpu_s" in p]
    if not split:
        lines = ["", f"{heading}; {call}", ""]
    else:
        where = ", ".join(
            f"isolated {p['isolated_suite_cpu_s']:.1f} s in the suite + {p['isolated_worker_cpu_s']:.1f} s in "
            f"its worker against {p['in_process_cpu_s']:.1f} s in process"
            for p in split
        )
        trip = c.get("round_trip_us")
        floor = (
            ""
            if trip is None
            else f" A round trip through a pipe between two processes takes {trip:.0f} us on this machine, "
            "the floor of every isolated call before any encoding."
        )
        lines = [
            "",
            f"{heading}. {call.capitalize()}",
            "",
            f"Where each pair's CPU went (benchmarks/cpu_split.py): {where}.{floor}",
            "",
        ]
    if per_call:
        lines += [
            "| case | clock | isolated | in process | overhead per call |",
            "| --- | --- | --- | --- | --- |",
            f"| {per_call['case']} | wall, median of {per_call['rounds']} rounds of {per_call['calls_per_round']} "
            f"| {per_call['isolated_ms']:.3g} ms | {per_call['in_process_ms']:.3g} ms "
            f"| {per_call['overhead_ms']:.3g} ms |",
        ]
        if "cpu_isolated_ms" in per_call:
            lines.append(
                f"| {per_call['case']} | CPU, suite and worker | {per_call['cpu_isolated_ms']:.3g} ms "
                f"| {per_call['cpu_in_process_ms']:.3g} ms | {per_call['cpu_overhead_ms']:.3g} ms |"
            )
    return lines


def _few_shapes_lines(few: dict[str, Any]) -> list[str]:
    """Shapes few (issue 22 item 3): the stand-in compiler's runs, the compiles each needed, and the time
    computed for a compile of ``compile_s`` per new shape (the check run sleeps for real)."""
    rows = [(label, r) for label, r in few.items() if isinstance(r, dict) and "command" in r]
    if not rows:
        return []
    lines = [
        "",
        f"Shapes few: a stand-in that compiles once per new shape, {few.get('compile_s', '?')} s a compile in "
        "the computed figure (compiles x that + the run's wall time); the check run sleeps for real.",
        "",
        "| run | command | compiles | wall time | computed or predicted |",
        "| --- | --- | --- | --- | --- |",
    ]
    for label, r in rows:
        figure = r.get("computed_s", r.get("predicted_s"))
        shown = "-" if figure is None else fmt_time(figure)
        wall = fmt_time(r["wall_s"]) if "wall_s" in r else r.get("error", "-")
        lines.append(f"| {label} | `{r['command']}` | {r.get('compiles', '-')} | {wall} | {shown} |")
    return lines


def _failing_lines(failing: dict[str, Any]) -> list[str]:
    """Each failing stand-in's default run against the reference's (conformance_time.failing_vs_correct):
    CPU time (run and worker) and value sets asked, isolated and --in-process; the target is the worst."""
    stand_ins = failing.get("stand_ins", {})
    if not stand_ins:
        return []
    lines = [
        "",
        "A failing run against a correct one of the same speed (issue 22 item 5): CPU time of the run and its "
        "worker, and value sets asked (judged + shrink_judged - shrink_reused), each stand-in / the reference.",
        "",
        "| stand-in | mode | CPU ratio | value sets ratio | shrink judged (reused) |",
        "| --- | --- | --- | --- | --- |",
    ]
    for name, modes in stand_ins.items():
        for mode, row in modes.items():
            run = row.get("failing", {})
            if "cpu_ratio" not in row:
                lines.append(f"| {name} | {mode} | {run.get('error', 'not measured')} | - | - |")
                continue
            lines.append(
                f"| {name} | {mode} | {row['cpu_ratio']:.2f}x | {row['asked_ratio']:.2f}x | "
                f"{run['shrink_judged']} ({run['shrink_reused']}) |"
            )
    if "worst" in failing:
        lines += ["", f"Worst: {failing['worst']}, {failing['cpu_ratio']:.2f}x (target <= 2)."]
    return lines + _split_lines(failing.get("split", {}))


def _split_lines(split: dict[str, Any]) -> list[str]:
    """Where the worst stand-in's CPU goes, beside the reference's (benchmarks/judging_split.py, in process)."""
    rows = [(name, run) for name, run in split.items() if "cpu_s" in run]
    if not rows:
        return []
    lines = [
        "",
        "Where the CPU goes, in process (benchmarks/judging_split.py): inside `search._judge` (every check on one "
        "value set, the implementation's calls included) and the rest (Hypothesis's search and shrinker, drawing "
        "each example's network and values).",
        "",
        "| run | CPU | judging | the rest | value sets asked | shrink judged (reused) |",
        "| --- | --- | --- | --- | --- | --- |",
    ]
    for name, run in rows:
        lines.append(
            f"| {name} | {run['cpu_s']:.1f} s | {run['judging_cpu_s']:.1f} s | {run['rest_cpu_s']:.1f} s | "
            f"{run['value_sets_asked']} | {run['shrink_judged']} ({run['shrink_reused']}) |"
        )
    return lines


def symbolic(results: dict[str, Any]) -> list[str]:
    s = results.get("symbolic", {})
    if "skipped" in s:
        return [f"Skipped: {s['skipped']}"]
    if not s:
        return ["Not run."]
    lines = []
    lines += _command_lines(s.get("command"))
    wide = s.get("wide_command")
    if wide and "runs" in wide:  # a one-run record of it was told in the targets only, as when measured
        lines += _command_lines(wide)
    lines += ["| series | architecture | proof time |", "| --- | --- | --- |"]
    for row in s["rows"]:
        lines.append(f"| {row['series']} | {row['sizes']} | {fmt_time(row['seconds'])} |")
    lines += ([""] if s.get("notes", []) else []) + [f"Note: {n}" for n in s.get("notes", [])]
    return lines


def _command_lines(command: dict[str, Any] | None) -> list[str]:
    """Issue 22's whole command: the medians, then every run with the load average at its start.
    A record from before the command was run several times (no ``runs``: one run, CPU and wall) is
    told as it was measured."""
    if not command:
        return []
    if "runs" not in command:
        if "error" in command:
            return [f"`{command['command']}`: {command['error']}.", ""]
        return [
            f"`{command['command']}` (the whole command, interpreter start included): "
            f"{fmt_time(command['cpu_s'])} CPU, {fmt_time(command['wall_s'])} wall, exit code {command['exit_code']}.",
            "",
        ]
    runs = command["runs"]
    if "error" in command:
        head = f"`{command['command']}`: {command['error']} (run {len(runs)})."
    else:
        waiting = "" if command["waiting_s"] is None else f", {fmt_time(command['waiting_s'])} waiting for a core"
        head = (
            f"`{command['command']}` (the whole command: interpreter start, imports, the proof and its output), "
            f"median of {len(runs)} runs: **{fmt_time(command['wall_s'])} wall**, {fmt_time(command['cpu_s'])} CPU"
            f"{waiting}. Waiting for a core is the kernel's count of the time the command was ready to run while "
            "other processes held both cores: on a quiet machine wall is CPU plus a few milliseconds."
        )
    lines = [
        head,
        "",
        "| run | wall | CPU | waiting for a core | load average at its start (1, 5, 15 min) | exit code |",
        "| ---: | --- | --- | --- | --- | --- |",
    ]
    for i, r in enumerate(runs, start=1):
        load = ", ".join(f"{x:.2f}" for x in r["load_average"])
        if "error" in r:
            lines.append(f"| {i} | {r['error']} | | | {load} | |")
            continue
        waiting = "n/a" if r["waiting_s"] is None else fmt_time(r["waiting_s"])
        lines.append(
            f"| {i} | {fmt_time(r['wall_s'])} | {fmt_time(r['cpu_s'])} | {waiting} | {load} | {r['exit_code']} |"
        )
    return [*lines, ""]


def memory(results: dict[str, Any]) -> list[str]:
    out = []
    for m in results.get("memory_all", []):
        out += [
            f"At {m['label']} ({m['dtype']}), the pass must hold "
            f"{fmt_bytes(m['must_hold_total'])}: "
            + ", ".join(f"{k} {fmt_bytes(v)}" for k, v in m["must_hold_bytes"].items())
            + ".",
            "",
            "| pass | allocated at its peak (tracemalloc) | (inputs + parameters + peak) / must hold |",
            "| --- | --- | --- |",
        ]
        for name, peak in m["peak_allocated_bytes"].items():
            out.append(f"| {name} | {fmt_bytes(peak)} | {m['ratio_to_must_hold'][name]:.2f}x |")
        out.append("")
    return out or ["Not run."]


SECTIONS: tuple[tuple[str, Callable[[dict[str, Any]], list[str]]], ...] = (
    ("Targets", targets),
    ("1. One backpropagation pass", backprop),
    ("Where the reference spends its time beyond the numpy pass", overhead),
    ("2. Training throughput", training),
    ("3. Gradient checking", gradcheck),
    ("4. Conformance run", conformance),
    ("5. Symbolic proofs", symbolic),
    ("6. Peak memory of one pass", memory),
    ("7. Mutation score of the conformance suite", lambda results: mutation_render.section(results.get("mutation"))),
)

HEADER = (
    "<!-- Generated by `python -m benchmarks` (a run) or `python -m benchmarks.report` (from "
    "benchmarks/results/latest.json alone); do not edit by hand. -->"
)

REPRODUCE = """\
## Reproduce

The full run took {total} on 2 cores, measured below; `--quick` is the few-second smoke run that
CI runs (`tests/test_benchmarks_smoke.py`).

- `pip install -e '.[test]'` installs numpy and threadpoolctl; the `torch` extra adds
  torch==2.13.0 for the PyTorch peers.
- `python -m benchmarks --full` measures and writes `benchmarks/results/latest.json` (every
  sample's median, min, max, both clocks) and this page, plus `benchmarks/results/latest.png`
  when matplotlib happens to be installed.
- `python -m benchmarks.report` writes this page again from `latest.json` alone, without
  measuring anything:

<!-- docs-test: run -->
```bash
python -m benchmarks.report --out benchmarks.md
```

Where OPENBLAS_CORETYPE / OPENBLAS_L2_SIZE are set (they force an older OpenBLAS kernel on
some machines), unset both in the benchmark command only, e.g.
`env -u OPENBLAS_CORETYPE -u OPENBLAS_L2_SIZE python -m benchmarks --full`, and check the
kernel reported in the machine line (threadpoolctl's `architecture`).
"""


def _duration(results: dict[str, Any]) -> str:
    total = results.get("total_s")
    return f"{total / 60:.1f} minutes" if isinstance(total, int | float) else "a few minutes"


def reruns(results: dict[str, Any]) -> list[str]:
    """Sections measured again after the whole run (``python -m benchmarks --only``), each with when and where."""
    lines = []
    for r in results.get("reruns", []):
        m = r["machine"]
        load = ", ".join(f"{x:.2f}" for x in m.get("load_average") or [])
        lines += [
            f"Measured again later, with `python -m benchmarks --full --only {','.join(r['sections'])}`: "
            f"{', '.join(r['sections'])}, on {m['date_utc']}"
            + (f" at commit {r['commit']}" if r.get("commit") else "")
            + f" (load average at start {load}), "
            f"in {r['seconds'] / 60:.1f} minutes. Every other section is from the run above.",
            "",
        ]
    return lines


def page(results: dict[str, Any]) -> str:
    """docs/benchmarks.md: how to reproduce, the machine, then every section of this run."""
    lines = [
        HEADER,
        "",
        "# Benchmarks",
        "",
        REPRODUCE.format(total=_duration(results)),
        "## This run",
        "",
        *machine(results),
        "",
        *reruns(results),
    ]
    for title, render in SECTIONS:
        lines += [f"## {title}", "", *render(results), ""]
    return "\n".join(lines).rstrip() + "\n"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.report", description=page.__doc__)
    parser.add_argument("--results", type=Path, default=RESULTS, help=f"the run's JSON (default {RESULTS})")
    parser.add_argument("--out", type=Path, default=PAGE, help=f"the page to write (default {PAGE})")
    args = parser.parse_args(argv)
    results = json.loads(args.results.read_text(encoding="utf-8"))
    args.out.write_text(page(results), encoding="utf-8")
    print(f"wrote {args.out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
