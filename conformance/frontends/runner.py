"""check_implementation: load, search each (dtype, regime) group, fold findings into a Report.

The runner is what writes: the smallest case behind each failed verdict and each root cause
(report.Exhibit) is saved here as a case file, once the summary is made.
"""

from __future__ import annotations

import os
import shlex
import time
from collections.abc import Callable, Sequence
from dataclasses import replace
from pathlib import Path
from typing import Any, TypeVar, Unpack

from conformance.cases.search import FIRST_FAILURE, GroupCount, SearchSettings, group_problem, run_group, shape_pool
from conformance.cases.seeds import resolve_seed
from conformance.defaults import DEFAULT_EXAMPLES, DEFAULT_FAILURES_DIR, EXAMPLES, QUICK_EXAMPLES
from conformance.errors import InternalError, SuiteError
from conformance.implementations.capabilities import Capabilities
from conformance.implementations.isolation import IsolationKeywords, IsolationSettings, isolation_settings
from conformance.implementations.loader import Implementation, load_implementation
from conformance.judging.checks import CaseChecker
from conformance.judging.findings import CHECKS
from conformance.reporting.casefile import load_case, replay_command, save_case
from conformance.reporting.progress import RunProgress, Tick
from conformance.reporting.report import Cause, Collector, Exhibit, Report, Verdict
from reference.strategies import REGIMES

# --quick's value sets per architecture: its size regimes are typical (its sizes stop at the
# common bounds), so one number for all. 10 cases per group: Hypothesis's simplest network
# (one case) and three architectures of three, so a jitted JAX implementation compiles
# about 2 x 4 x 18 times (its --quick run: about 20 s on 2 cores, against 64 s before).
QUICK_VALUES_PER_ARCHITECTURE = 3

# --quick's shrinking budget per group, in value sets judged (search.DEFAULT_SHRINK_CASES):
# it replaced 5 seconds, in which shrinking judged about 550 of --quick's small cases on the
# idle 2-core machine. The most a catalogue bug needed in one group was 259 (MissingOneOverM);
# SgdStepIgnoresEta's fourth cause (float32/scaled) runs out of it, as it ran out of 5 s.
QUICK_SHRINK_CASES = 500

# --quick's common shapes per dtype under "shapes": "few" (conformance.cases.pool): its sizes stop
# at the common bounds, so its size regimes share them too: 2 architectures and m = 1 of each,
# 4 shapes per dtype, 8 compiles for the run (a 20 s compile each: under 3 minutes).
QUICK_POOL_ARCHITECTURES = 2


_DEFAULT: Any = object()


def default_failures_dir() -> str:
    return os.environ.get("BACKPROP_CONFORMANCE_FAILURES", DEFAULT_FAILURES_DIR)


def search_settings(max_examples: int | None, seed: int, quick: bool) -> SearchSettings:
    """The default search reaches the large sizes (see SearchSettings); --quick stays small and uniform."""
    problem = None if max_examples is None else EXAMPLES.problem(max_examples)
    if problem is not None:
        raise ValueError(f"max_examples: {problem}")
    n = max_examples if max_examples is not None else (QUICK_EXAMPLES if quick else DEFAULT_EXAMPLES)
    if quick:
        return SearchSettings(
            n,
            seed,
            max_layers=6,
            max_width=6,
            max_batch=4,
            shrink_cases=QUICK_SHRINK_CASES,
            common_layers=6,
            common_width=6,
            common_batch=4,
            values_per_architecture=QUICK_VALUES_PER_ARCHITECTURE,
            size_values_per_architecture=QUICK_VALUES_PER_ARCHITECTURE,
            pool_architectures=QUICK_POOL_ARCHITECTURES,
        )
    return SearchSettings(n, seed)


def check_implementation(
    impl: Any = None,
    *,
    max_examples: int | None = None,
    seed: int | str = 0,
    quick: bool = False,
    impl_cmd: str | None = None,
    regimes: Sequence[str] | None = None,
    dtypes: Sequence[str] | None = None,
    failures_dir: str | Path | None = _DEFAULT,
    progress: RunProgress | None = None,
    first_failure: bool = False,
    isolation: IsolationSettings | None = None,
    **keywords: Unpack[IsolationKeywords],
) -> Report:
    """Run the conformance checks on an implementation and return the Report.

    ``impl`` is a spec ("package.module:attr", "reference"), an object with ``backprop``,
    a callable, or an already loaded implementation; ``impl_cmd`` instead runs a command
    speaking the JSON-lines protocol. ``max_examples`` is per (dtype, regime) group.
    Failing cases are saved under ``failures_dir`` (default ``.conformance-failures``,
    or $BACKPROP_CONFORMANCE_FAILURES; None: not saved). ``isolation`` (an IsolationSettings,
    or its fields as keywords): Python code runs in a worker process (``in_process=True``: in
    this process, for debugging); each process's first call may take ``warmup_timeout``
    seconds, later calls ``timeout``; one answer may be at most ``max_answer_bytes``; a Python
    worker may allocate ``max_memory_mb`` MiB (0: no cap). ``seed="random"`` draws a fresh seed:
    the report's header prints it with the command that repeats the run. ``first_failure`` ends
    the run at its first failing case, unshrunk: the pass/fail verdict is the full run's (the
    search draws the same cases in the same order, and any failure fails the run); what is lost
    is every later finding and the smallest case. Raises LoadError when the implementation
    cannot be loaded, InternalError when the suite itself fails on a case. ``progress`` is told the
    header before any case and the counts after every case (reporting.progress); it changes nothing
    in the report.
    """
    started = time.monotonic()
    chosen = isolation_settings(isolation, keywords)
    seed, drawn = resolve_seed(seed)
    options = replace(search_settings(max_examples, seed, quick), first_failure=first_failure)
    unknown = [r for r in (regimes or ()) if r not in REGIMES]
    if unknown:
        raise ValueError(f"unknown regime(s) {unknown}; expected some of {', '.join(REGIMES)}")
    implementation = load_implementation(impl, impl_cmd=impl_cmd, isolation=chosen)
    try:
        rerun = (
            rerun_command(
                implementation.replay_args, seed, quick=quick, max_examples=max_examples, regimes=regimes, dtypes=dtypes
            )
            if drawn
            else None
        )
        return _run(
            implementation, options, regimes, dtypes, failures_dir, progress, chosen.timeout, quick, rerun, started
        )
    finally:
        if implementation is not impl:
            implementation.close()


def rerun_command(
    replay_args: str,
    seed: int,
    *,
    quick: bool = False,
    max_examples: int | None = None,
    regimes: Sequence[str] | None = None,
    dtypes: Sequence[str] | None = None,
) -> str:
    """The command line that repeats a run: the same implementation, seed and search options."""
    words = [f"python -m conformance {replay_args}", f"--seed {seed}"]
    if quick:
        words.append("--quick")
    if max_examples is not None:
        words.append(f"--examples {max_examples}")
    if regimes:
        words.append(f"--regimes {shlex.quote(','.join(regimes))}")
    if dtypes:
        words.append(f"--dtypes {shlex.quote(','.join(dtypes))}")
    return " ".join(words)


def _run(
    implementation: Implementation,
    options: SearchSettings,
    regimes: Sequence[str] | None,
    dtypes: Sequence[str] | None,
    failures_dir: str | Path | None,
    progress: RunProgress | None,
    timeout: float | None,
    quick: bool,
    rerun: str | None,
    started: float,
) -> Report:
    caps = implementation.capabilities
    chosen_regimes = list(regimes) if regimes else list(REGIMES)
    wanted = list(dtypes) if dtypes else ["float64", "float32"]
    run_dtypes = [d for d in wanted if d in caps.dtypes]
    uncovered = {d: f"the implementation does not declare {d}" for d in wanted if d not in caps.dtypes}
    not_covered = list(caps.missing())
    problem = group_problem(caps)
    if problem:
        not_covered.append(problem)
        uncovered.update(dict.fromkeys(run_dtypes, problem))
        run_dtypes = []
    collector = Collector()
    checker = CaseChecker(implementation)
    directory = default_failures_dir() if failures_dir is _DEFAULT else failures_dir
    alive = True
    groups: list[GroupCount] = []

    def settings() -> dict[str, Any]:
        return _settings(implementation, options, quick, timeout, chosen_regimes, run_dtypes, wanted, rerun)

    if progress:
        progress.begin(Report(implementation.name, settings(), [], capabilities_note=implementation.capabilities_note))
    planned = len(run_dtypes) * len(chosen_regimes)
    for dtype in run_dtypes:
        for regime in chosen_regimes:
            count = GroupCount(dtype, regime, options.max_examples)
            groups.append(count)
            tick = _ticker(groups, planned, collector)
            if not alive:
                count.stopped = "not run: the implementation stopped responding"
                not_covered.append(f"{dtype}/{regime}: not run, the implementation stopped responding")
                continue
            if options.first_failure and collector.cause_slots:
                count.stopped = f"not run: {FIRST_FAILURE}"
                continue
            t0 = time.monotonic()
            on_case = _telling(progress, tick) if progress else None
            try:
                alive = run_group(checker, caps, dtype, regime, options, collector, count, on_case)
            except SuiteError as error:
                raise _internal_error(error, directory, implementation) from None
            if progress:
                progress.group_done(tick(count), count.stopped, time.monotonic() - t0)
    verdicts = _filed(collector.verdicts(run_dtypes, uncovered), directory, implementation)
    causes = _filed(collector.causes(), directory, implementation)
    return Report(
        implementation=implementation.name,
        settings=settings(),
        verdicts=verdicts,
        not_covered=not_covered,
        examples=collector.examples,
        duration=time.monotonic() - started,
        groups=[vars(g).copy() for g in groups],
        capabilities_note=implementation.capabilities_note,
        causes=causes,
    )


def _ticker(groups: list[GroupCount], planned: int, collector: Collector) -> Callable[[GroupCount], Tick]:
    """Where the run stands, for the group just appended to ``groups`` (it only reads the counts)."""
    number = len(groups)

    def tick(count: GroupCount) -> Tick:
        return Tick(
            count.dtype,
            count.regime,
            number,
            planned,
            count.judged,
            count.requested,
            count.shrink_judged,
            sum(g.judged for g in groups),
            sum(slot.cases for slot in collector.cause_slots.values()),
        )

    return tick


def _telling(progress: RunProgress, tick: Callable[[GroupCount], Tick]) -> Callable[[GroupCount], None]:
    """search.run_group's ``on_case`` for one group: its count, as a Tick, to ``progress``."""
    return lambda count: progress.case(tick(count))


def _settings(
    implementation: Implementation,
    options: SearchSettings,
    quick: bool,
    timeout: float | None,
    regimes: list[str],
    run_dtypes: list[str],
    dtypes: list[str],
    rerun: str | None,
) -> dict[str, Any]:
    """The report's settings; made before the run for its header and after it for the report
    (the calls re-asked are counted during the run)."""
    settings: dict[str, Any] = {
        "examples per group": options.max_examples,
        "seed": options.seed,
        "quick": quick,
        "timeout": timeout,
        "warm-up timeout": getattr(implementation, "warmup_timeout", None),
        "isolation": implementation.isolation,
        "calls re-asked after a timeout": getattr(implementation, "reasked", 0),
        "regimes": regimes,
        "dtypes": dtypes,
        "max layers": options.max_layers,
        "cases per architecture": options.values_per_architecture,
        "in the size regimes": options.size_values_per_architecture,
        "shrink budget per group": options.shrink_cases,
    }
    caps = implementation.capabilities
    if getattr(caps, "shapes", "any") == "few":
        settings["shapes"] = few_shapes_text(options, caps, run_dtypes)
    conventions = getattr(caps, "conventions", None)
    if isinstance(conventions, dict):
        settings["conventions"] = dict(conventions)
    if rerun:
        settings["rerun"] = rerun
    return settings


def few_shapes_text(options: SearchSettings, caps: Capabilities, dtypes: list[str]) -> str:
    """What the report's header says of a run under "shapes": "few": its pool, and what that leaves unjudged."""
    pools = "; ".join(f"{d}: {shape_pool(options, caps, d).text()}" for d in dtypes) or "no dtype run"
    return (
        f"few (declared): every case at one of a pool of shapes drawn from seed {options.seed} "
        f"(layer sizes x batch size m), and m = 1 of each; {pools}. Code wrong only at other shapes is not caught"
    )


_Filed = TypeVar("_Filed", Verdict, Cause)


def _filed(
    summary: Sequence[tuple[_Filed, Exhibit | None]], directory: str | Path | None, implementation: Implementation
) -> list[_Filed]:
    """The verdicts (or causes), each with its exhibit saved as a case file under ``directory`` (None: not
    saved) and the command that replays it."""
    out = []
    for item, exhibit in summary:
        if exhibit is not None and directory is not None:
            report = exhibit.report
            path = save_case(
                directory,
                report.case,
                eta=report.eta,
                permutation=report.permutation,
                check=exhibit.check,
                layer=exhibit.layer,
                message=exhibit.message,
                implementation=implementation.name,
            )
            item = replace(item, case_file=str(path), replay=replay_command(path, implementation.replay_args))
        out.append(item)
    return out


def _internal_error(error: SuiteError, directory: str | Path | None, implementation: Implementation) -> InternalError:
    """The suite's own failure, with the case that caused it saved for the bug report."""
    path = None
    if directory is not None:
        try:
            path = str(
                save_case(
                    directory,
                    error.case,  # type: ignore[arg-type]
                    eta=error.eta,
                    permutation=error.permutation,
                    check="internal-error",
                    layer=None,
                    message=error.detail,
                    implementation=implementation.name,
                )
            )
        except Exception:  # noqa: BLE001 - the report of a bug must not fail on a second one
            path = None
    where = f"; the case is saved in {path}" if path else ""
    return InternalError(f"internal error in the conformance suite while judging a case{where}:\n{error.detail}", path)


def replay(
    path: str | Path,
    impl: Any = None,
    *,
    impl_cmd: str | None = None,
    isolation: IsolationSettings | None = None,
    **keywords: Unpack[IsolationKeywords],
) -> Report:
    """Every check on the one case stored in a case file (see casefile.py); ``isolation`` as in
    check_implementation."""
    started = time.monotonic()
    chosen = isolation_settings(isolation, keywords)
    case, eta, permutation, document = load_case(path)
    implementation = load_implementation(impl, impl_cmd=impl_cmd, isolation=chosen)
    try:
        collector = Collector()
        try:
            report = CaseChecker(implementation).run(case, eta, permutation)
        except Exception as error:
            message = f"internal error in the conformance suite while replaying {path}: {error!r}"
            raise InternalError(message, None) from error
        if report is None:
            raise ValueError(f"{path}: this case cannot be judged fairly (see conformance/judging/tolerances.py)")
        collector.add(report)
        verdicts = [verdict for verdict, _ in collector.verdicts([case.dtype], {})]
        causes = [cause for cause, _ in collector.causes()]
    finally:
        if implementation is not impl:
            implementation.close()
    settings: dict[str, Any] = {"replay": str(path), "eta": eta, "recorded check": document.get("check")}
    recorded = document.get("check")
    same = document.get("implementation") == implementation.name
    layer = document.get("layer")
    again = [v for v in verdicts if (v.check, v.layer) == (recorded, layer) and v.status == "failed"]
    if same and recorded in CHECKS and not again:
        # The run failed this check on this case after other calls; alone, on a freshly loaded
        # implementation, it passes: the failure depends on what was asked before.
        where = f" at layer {layer}" if layer is not None else ""
        settings["alone"] = (
            f"{recorded}{where} passes when this case is asked alone, though it failed on it in the run: the "
            "failure depends on the calls made before it (state carried between calls: a cache, a buffer not reset)"
        )
    return Report(
        implementation=implementation.name,
        settings=settings,
        verdicts=[v for v in verdicts if v.status != "not covered" or v.layer is not None or v.cases],
        examples=1,
        duration=time.monotonic() - started,
        causes=causes,
    )
