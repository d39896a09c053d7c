"""``python -m conformance``: run the checks, replay a saved case, or verify golden-vector results.

Exit status: 0 the implementation conforms, 1 a check failed, 2 a usage error or an
implementation that cannot be loaded (3: a bug in the suite itself).
"""

from __future__ import annotations

import argparse
import os
import sys
import traceback
from collections.abc import Sequence

from conformance.cases.defaults import (
    DEFAULT_EXAMPLES,
    DEFAULT_MAX_ANSWER_BYTES,
    DEFAULT_MAX_MEMORY_MB,
    DEFAULT_TIMEOUT,
    DEFAULT_WARMUP_TIMEOUT,
    QUICK_EXAMPLES,
)
from conformance.cases.seeds import parse_seed
from conformance.frontends.runner import InternalError, check_implementation, replay
from conformance.implementations.loader import LoadError
from conformance.reporting.casefile import CaseFileError
from conformance.reporting.colour import colour_wanted
from conformance.reporting.progress import ConsoleProgress
from conformance.vectors import main as verify_main
from reference.strategies import REGIMES

USAGE_ERROR = 2
INTERNAL_ERROR = 3


def _add_impl_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--impl",
        metavar="SPEC",
        help="the implementation: package.module:attr, package.module, path/to/file.py:attr, or "
        "'reference' (default: $BACKPROP_IMPL)",
    )
    parser.add_argument(
        "--impl-cmd",
        metavar="COMMAND",
        help="a command that speaks the JSON-lines protocol (any language), started once",
    )
    parser.add_argument(
        "--timeout",
        type=float,
        default=DEFAULT_TIMEOUT,
        metavar="SECONDS",
        help=f"per-call timeout: a call that takes longer is a failing verdict (default {DEFAULT_TIMEOUT:g})",
    )
    parser.add_argument(
        "--warmup-timeout",
        type=float,
        default=DEFAULT_WARMUP_TIMEOUT,
        metavar="SECONDS",
        help="time allowed for loading and for the first call of each kind in each process: imports, "
        f"JIT compilation (default {DEFAULT_WARMUP_TIMEOUT:g})",
    )
    parser.add_argument(
        "--in-process",
        action="store_true",
        help="run a Python implementation in the suite's own process (for breakpoints); no isolation: "
        "a hang, a crash or tampering with the suite is not contained",
    )
    parser.add_argument(
        "--max-answer-bytes",
        type=int,
        default=DEFAULT_MAX_ANSWER_BYTES,
        metavar="N",
        help=f"the longest answer line accepted from an implementation's process (default {DEFAULT_MAX_ANSWER_BYTES})",
    )
    parser.add_argument(
        "--max-memory-mb",
        type=int,
        default=DEFAULT_MAX_MEMORY_MB,
        metavar="MIB",
        help="memory a Python worker may allocate beyond what it holds at its start (RLIMIT_DATA, Linux); "
        f"an allocation past it fails the call, naming this option; 0: no cap (default {DEFAULT_MAX_MEMORY_MB})",
    )


def _run_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m conformance",
        description="Check a backpropagation implementation against the reference engine. "
        "Other commands: 'python -m conformance replay CASE_FILE --impl SPEC' re-runs a saved "
        "failing case; 'python -m conformance verify RESULTS_DIR' checks golden-vector results.",
    )
    _add_impl_options(parser)
    parser.add_argument(
        "--examples",
        type=int,
        metavar="N",
        help=f"Hypothesis examples per (dtype, regime) group "
        f"(default {DEFAULT_EXAMPLES}, {QUICK_EXAMPLES} with --quick)",
    )
    parser.add_argument(
        "--seed",
        type=parse_seed,
        default=0,
        help="Hypothesis seed (default 0: runs repeat exactly), or 'random': a fresh seed, printed in the "
        "report's header with the command that repeats the run",
    )
    parser.add_argument("--quick", action="store_true", help="a few seconds: fewer and smaller cases")
    parser.add_argument(
        "-x",
        "--first-failure",
        action="store_true",
        help="stop at the first failing case: the same pass/fail verdict, sooner, without the later findings "
        "or a smallest case",
    )
    parser.add_argument("--report", metavar="FILE", help="also write the report as JSON")
    parser.add_argument(
        "--failures-dir",
        metavar="DIR",
        help="where failing cases are saved (default .conformance-failures, or $BACKPROP_CONFORMANCE_FAILURES)",
    )
    parser.add_argument(
        "--regimes",
        metavar="R,R",
        help=f"only these regimes ({','.join(REGIMES)})",
    )
    parser.add_argument("--dtypes", metavar="D,D", help="only these dtypes (float64,float32)")
    parser.add_argument("-v", "--verbose", action="store_true", help="also list blocked and not covered verdicts")
    parser.add_argument("-q", "--quiet", action="store_true", help="no progress lines on stderr")
    return parser


def _replay_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m conformance replay", description="Run every check on one saved case file."
    )
    parser.add_argument("case_file", metavar="CASE_FILE")
    _add_impl_options(parser)
    parser.add_argument("-v", "--verbose", action="store_true")
    return parser


def _impl_args(args: argparse.Namespace, parser: argparse.ArgumentParser) -> tuple[str | None, str | None]:
    impl, impl_cmd = args.impl, args.impl_cmd
    if impl is None and impl_cmd is None:
        impl = os.environ.get("BACKPROP_IMPL") or None
    if impl is None and impl_cmd is None:
        parser.error(
            "no implementation: pass --impl package.module:attr (or reference), "
            "--impl-cmd 'COMMAND', "
            "or set BACKPROP_IMPL"
        )
    if impl is not None and impl_cmd is not None:
        parser.error("give either --impl or --impl-cmd, not both")
    if not args.timeout > 0:
        parser.error(f"--timeout must be a positive number of seconds, got {args.timeout}")
    if not args.warmup_timeout > 0:
        parser.error(f"--warmup-timeout must be a positive number of seconds, got {args.warmup_timeout}")
    if args.max_memory_mb < 0:
        parser.error(f"--max-memory-mb must be a number of MiB (0: no cap), got {args.max_memory_mb}")
    if args.max_answer_bytes < 1024:
        parser.error(f"--max-answer-bytes must be at least 1024, got {args.max_answer_bytes}")
    if args.in_process and impl_cmd is not None:
        parser.error("--in-process is for Python implementations (--impl), not --impl-cmd")
    return impl, impl_cmd


def _isolation(args: argparse.Namespace) -> dict[str, object]:
    return {
        "timeout": args.timeout,
        "warmup_timeout": args.warmup_timeout,
        "in_process": args.in_process,
        "max_answer_bytes": args.max_answer_bytes,
        "max_memory_mb": args.max_memory_mb,
    }


def _writable_file(path: str) -> str | None:
    """Why a report cannot be written at ``path``, checked before a run that may take minutes."""
    target = os.path.abspath(path)
    if os.path.isdir(target):
        return f"--report {path}: is a directory; expected a file name"
    folder = os.path.dirname(target)
    if not os.path.isdir(folder):
        return f"--report {path}: the folder {folder} does not exist"
    if not os.access(folder, os.W_OK) or (os.path.exists(target) and not os.access(target, os.W_OK)):
        return f"--report {path}: not writable"
    return None


def _writable_dir(path: str) -> str | None:
    target = os.path.abspath(path)
    if os.path.exists(target) and not os.path.isdir(target):
        return f"--failures-dir {path}: exists and is not a directory"
    probe = target
    while not os.path.exists(probe):
        probe = os.path.dirname(probe)
    if not os.path.isdir(probe) or not os.access(probe, os.W_OK):
        return f"--failures-dir {path}: cannot be created or written ({probe} is not a writable folder)"
    return None


def _split(value: str | None) -> list[str] | None:
    return [v.strip() for v in value.split(",") if v.strip()] if value else None


def _run(argv: Sequence[str]) -> int:
    parser = _run_parser()
    args = parser.parse_args(argv)
    impl, impl_cmd = _impl_args(args, parser)
    if args.examples is not None and args.examples < 1:
        parser.error("--examples must be at least 1")
    options: dict[str, object] = _isolation(args)
    if args.failures_dir:
        options["failures_dir"] = args.failures_dir
    problems = [
        p
        for p in (
            _writable_file(args.report) if args.report else None,
            _writable_dir(args.failures_dir) if args.failures_dir else None,
        )
        if p
    ]
    if problems:
        parser.error("; ".join(problems))
    progress = ConsoleProgress(sys.stdout, sys.stderr, quiet=args.quiet)
    try:
        report = check_implementation(
            impl,
            impl_cmd=impl_cmd,
            max_examples=args.examples,
            seed=args.seed,
            quick=args.quick,
            first_failure=args.first_failure,
            regimes=_split(args.regimes),
            dtypes=_split(args.dtypes),
            progress=progress,
            **options,  # type: ignore[arg-type]
        )
    except LoadError as error:
        print(f"error: cannot load the implementation: {error}", file=sys.stderr)
        return USAGE_ERROR
    except InternalError as error:
        print(f"error: {error}", file=sys.stderr)
        return INTERNAL_ERROR
    except ValueError as error:
        print(f"error: {error}", file=sys.stderr)
        return USAGE_ERROR
    finally:
        progress.close()
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
    try:
        report = replay(args.case_file, impl, impl_cmd=impl_cmd, **_isolation(args))  # type: ignore[arg-type]
    except LoadError as error:
        print(f"error: cannot load the implementation: {error}", file=sys.stderr)
        return USAGE_ERROR
    except InternalError as error:
        print(f"error: {error}", file=sys.stderr)
        return INTERNAL_ERROR
    except (CaseFileError, ValueError) as error:
        print(f"error: {error}", file=sys.stderr)
        return USAGE_ERROR
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
