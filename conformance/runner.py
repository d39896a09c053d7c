"""check_implementation: load, search each (dtype, regime) group, fold findings into a Report."""

from __future__ import annotations

import os
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from reference.strategies import REGIMES

from .casefile import load_case
from .checks import CaseChecker
from .defaults import DEFAULT_EXAMPLES, DEFAULT_FAILURES_DIR, QUICK_EXAMPLES
from .loader import Implementation, load_implementation
from .report import Collector, Report
from .search import SearchSettings, group_problem, run_group

_DEFAULT: Any = object()


def default_failures_dir() -> str:
    return os.environ.get("BACKPROP_CONFORMANCE_FAILURES", DEFAULT_FAILURES_DIR)


def search_settings(max_examples: int | None, seed: int, quick: bool) -> SearchSettings:
    if max_examples is not None and max_examples < 1:
        raise ValueError(f"max_examples must be at least 1, got {max_examples}")
    n = max_examples if max_examples is not None else (QUICK_EXAMPLES if quick else DEFAULT_EXAMPLES)
    if quick:
        return SearchSettings(n, seed, max_layers=6, max_width=6, max_batch=4, shrink_seconds=5.0)
    return SearchSettings(n, seed)


def check_implementation(
    impl: Any = None,
    *,
    max_examples: int | None = None,
    seed: int = 0,
    quick: bool = False,
    impl_cmd: str | None = None,
    timeout: float | None = 10.0,
    regimes: Sequence[str] | None = None,
    dtypes: Sequence[str] | None = None,
    failures_dir: str | Path | None = _DEFAULT,
    progress: Callable[[str], None] | None = None,
) -> Report:
    """Run the conformance checks on an implementation and return the Report.

    ``impl`` is a spec ("package.module:attr", "reference"), an object with ``backprop``,
    a callable, or an already loaded implementation; ``impl_cmd`` instead runs a command
    speaking the JSON-lines protocol. ``max_examples`` is per (dtype, regime) group.
    Failing cases are saved under ``failures_dir`` (default ``.conformance-failures``,
    or $BACKPROP_CONFORMANCE_FAILURES; None: not saved). Raises LoadError when the
    implementation cannot be loaded.
    """
    started = time.monotonic()
    options = search_settings(max_examples, seed, quick)
    unknown = [r for r in (regimes or ()) if r not in REGIMES]
    if unknown:
        raise ValueError(f"unknown regime(s) {unknown}; expected some of {', '.join(REGIMES)}")
    implementation = load_implementation(impl, impl_cmd=impl_cmd, timeout=timeout)
    try:
        return _run(
            implementation,
            options,
            regimes,
            dtypes,
            failures_dir,
            progress,
            timeout,
            quick,
            started,
        )
    finally:
        if implementation is not impl:
            implementation.close()


def _run(
    implementation: Implementation,
    options: SearchSettings,
    regimes: Sequence[str] | None,
    dtypes: Sequence[str] | None,
    failures_dir: str | Path | None,
    progress: Callable[[str], None] | None,
    timeout: float | None,
    quick: bool,
    started: float,
) -> Report:
    caps = implementation.capabilities
    chosen_regimes = list(regimes) if regimes else list(REGIMES)
    wanted = list(dtypes) if dtypes else ["float64", "float32"]
    run_dtypes = [d for d in wanted if d in caps.dtypes]
    uncovered = {d: f"not covered: the implementation does not declare {d}" for d in wanted if d not in caps.dtypes}
    not_covered = list(caps.missing())
    problem = group_problem(caps)
    if problem:
        not_covered.append(problem)
        uncovered.update({d: f"not covered: {problem}" for d in run_dtypes})
        run_dtypes = []
    collector = Collector()
    checker = CaseChecker(implementation)
    alive = True
    for dtype in run_dtypes:
        for regime in chosen_regimes:
            if not alive:
                note = f"{dtype}/{regime}: not run, the implementation stopped responding"
                not_covered.append(note)
                continue
            before = collector.examples
            t0 = time.monotonic()
            alive = run_group(checker, caps, dtype, regime, options, collector)
            if progress:
                progress(
                    f"{dtype:>8} {regime:<11} {collector.examples - before:4d} cases {time.monotonic() - t0:6.1f} s"
                )
    directory = default_failures_dir() if failures_dir is _DEFAULT else failures_dir
    verdicts = collector.verdicts(run_dtypes, uncovered, directory, implementation.name, implementation.replay_args)
    settings = {
        "examples per group": options.max_examples,
        "seed": options.seed,
        "quick": quick,
        "timeout": timeout,
        "regimes": chosen_regimes,
        "dtypes": wanted,
        "max layers": options.max_layers,
    }
    return Report(
        implementation=implementation.name,
        settings=settings,
        verdicts=verdicts,
        not_covered=not_covered,
        examples=collector.examples,
        duration=time.monotonic() - started,
    )


def replay(path: str | Path, impl: Any = None, *, impl_cmd: str | None = None, timeout: float | None = 10.0) -> Report:
    """Every check on the one case stored in a case file (see casefile.py)."""
    started = time.monotonic()
    case, eta, permutation, document = load_case(path)
    implementation = load_implementation(impl, impl_cmd=impl_cmd, timeout=timeout)
    try:
        collector = Collector()
        report = CaseChecker(implementation).run(case, eta, permutation)
        if report is None:
            raise ValueError(f"{path}: this case cannot be judged fairly (see conformance/tolerances.py)")
        collector.add(report)
        verdicts = collector.verdicts([case.dtype], {}, None, implementation.name, implementation.replay_args)
    finally:
        if implementation is not impl:
            implementation.close()
    return Report(
        implementation=implementation.name,
        settings={"replay": str(path), "eta": eta, "recorded check": document.get("check")},
        verdicts=[v for v in verdicts if v.status != "not covered" or v.layer is not None or v.cases],
        examples=1,
        duration=time.monotonic() - started,
    )
