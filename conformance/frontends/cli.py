"""``python -m conformance``: run the checks, replay a saved case, or verify golden-vector results.

Exit status: 0 the implementation conforms, 1 a check failed, 2 a usage error or an
implementation that cannot be loaded (3: a bug in the suite itself).
"""

from __future__ import annotations

import argparse
import os
import sys
import traceback
from collections.abc import Callable, Sequence

from conformance.errors import CaseFileError, InternalError, LoadError
from conformance.frontends.options import add_to_argparse, selection_problem
from conformance.frontends.runner import check_implementation, replay
from conformance.implementations.isolation import SETTING_NAMES, IsolationSettings
from conformance.reporting.colour import colour_wanted
from conformance.reporting.progress import ConsoleProgress
from conformance.reporting.report import Report
from conformance.vectors import main as verify_main

USAGE_ERROR = 2
INTERNAL_ERROR = 3


def _run_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m conformance",
        description="Check a backpropagation implementation against the reference engine. "
        "Other commands: 'python -m conformance replay CASE_FILE --impl SPEC' re-runs a saved "
        "failing case; 'python -m conformance verify RESULTS_DIR' checks golden-vector results.",
    )
    add_to_argparse(parser)
    return parser


def _replay_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m conformance replay", description="Run every check on one saved case file."
    )
    parser.add_argument("case_file", metavar="CASE_FILE")
    add_to_argparse(parser, replay=True)
    return parser


def _impl_args(args: argparse.Namespace, parser: argparse.ArgumentParser) -> tuple[str | None, str | None]:
    impl, impl_cmd = args.impl, args.impl_cmd
    if impl is None and impl_cmd is None:
        impl = os.environ.get("BACKPROP_IMPL") or None
    problem = selection_problem(impl, impl_cmd, "--impl", "--impl-cmd")
    if problem is not None:
        parser.error(problem)
    return impl, impl_cmd


def _isolation(args: argparse.Namespace) -> IsolationSettings:
    """The isolation options (their values were checked as they were parsed: conformance.frontends.options)."""
    return IsolationSettings(**{name: getattr(args, name) for name in SETTING_NAMES})


def _split(value: str | None) -> list[str] | None:
    return [v.strip() for v in value.split(",") if v.strip()] if value else None


def _guarded(run: Callable[[], Report]) -> Report | int:
    """The run's report, or the exit status of why there is none, said in one line on stderr.

    2: the implementation cannot be loaded, or a value (a case file, a regime) is unusable; 3: the suite
    itself failed (InternalError).
    """
    try:
        return run()
    except LoadError as error:
        print(f"error: cannot load the implementation: {error}", file=sys.stderr)
        return USAGE_ERROR
    except InternalError as error:
        print(f"error: {error}", file=sys.stderr)
        return INTERNAL_ERROR
    except (CaseFileError, ValueError) as error:
        print(f"error: {error}", file=sys.stderr)
        return USAGE_ERROR


def _run(argv: Sequence[str]) -> int:
    parser = _run_parser()
    args = parser.parse_args(argv)
    impl, impl_cmd = _impl_args(args, parser)
    options: dict[str, object] = {}
    if args.failures_dir:
        options["failures_dir"] = args.failures_dir
    progress = ConsoleProgress(sys.stdout, sys.stderr, quiet=args.quiet)
    try:
        report = _guarded(
            lambda: check_implementation(
                impl,
                impl_cmd=impl_cmd,
                max_examples=args.examples,
                seed=args.seed,
                quick=args.quick,
                first_failure=args.first_failure,
                regimes=_split(args.regimes),
                dtypes=_split(args.dtypes),
                progress=progress,
                isolation=_isolation(args),
                **options,  # type: ignore[arg-type]
            )
        )
    finally:
        progress.close()
    if isinstance(report, int):
        return report
    print(report.format(verbose=args.verbose, header=False, colour=colour_wanted(sys.stdout)))
    if args.report:
        report.write_json(args.report)
        print(f"report written to {args.report}")
    if report.ok and not args.quiet:
        print(next_step(impl, impl_cmd, args.quick), file=sys.stderr)
    return 0 if report.ok else 1


# Where the recipe for keeping an implementation conforming in CI is (docs/validating.md, "From pytest").
CI_RECIPE = "docs/validating.md#from-pytest"


def next_step(impl: str | None, impl_cmd: str | None, quick: bool) -> str:
    """What to do after CONFORMS: keep it so in CI, one pytest test per check.

    On stderr, beside the progress lines, so that the report's last line (stdout) stays its outcome.
    """
    what = repr(impl) if impl is not None else f"None, impl_cmd={impl_cmd!r}"
    options = ", quick=True" if quick else ""
    return (
        f"next: keep it conforming in CI, one pytest test per check: "
        f"@conformance.parametrize_with_checks({what}{options}) on a test that calls check() ({CI_RECIPE})"
    )


def _replay(argv: Sequence[str]) -> int:
    parser = _replay_parser()
    args = parser.parse_args(argv)
    impl, impl_cmd = _impl_args(args, parser)
    report = _guarded(lambda: replay(args.case_file, impl, impl_cmd=impl_cmd, isolation=_isolation(args)))
    if isinstance(report, int):
        return report
    print(report.format(verbose=args.verbose, colour=colour_wanted(sys.stdout)))
    return 0 if report.ok else 1


def main(argv: Sequence[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    try:
        if argv and argv[0] == "verify":
            return verify_main(argv[1:])
        if argv and argv[0] == "replay":
            return _replay(argv[1:])
        if argv and argv[0] == "run":
            argv = argv[1:]
        return _run(argv)
    except SystemExit as exit_:  # argparse: --help (0) and usage errors (2)
        return exit_.code if isinstance(exit_.code, int) else USAGE_ERROR
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130
    except Exception:  # noqa: BLE001 - our own bug: a traceback and INTERNAL_ERROR
        traceback.print_exc()
        print(
            "error: internal error in the conformance suite (please report it with the traceback above)",
            file=sys.stderr,
        )
        return INTERNAL_ERROR
