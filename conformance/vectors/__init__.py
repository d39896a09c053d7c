"""Frozen golden vectors: language-neutral JSON cases with 50-digit expected results.

``python -m conformance verify RESULTS_DIR`` runs ``main``; ``python -m conformance.vectors
generate [--out DIR]`` regenerates the files (byte-identical for an unchanged generator).
The file formats are specified in conformance/CONTRACT.md, section "Golden vectors".
"""

from __future__ import annotations

import argparse
import json
import sys
from collections import Counter
from pathlib import Path

from conformance.errors import VectorsError
from conformance.implementations.contract import CONTRACT_VERSION
from conformance.reporting.versions import REFERENCE_VERSION

from . import generate as recipes
from .verify import DEFAULT_VECTORS, VectorOutcome, load_manifest, vector_mismatches, verify

__all__ = [
    "DEFAULT_VECTORS",
    "VectorOutcome",
    "VectorsError",
    "cli",
    "load_manifest",
    "main",
    "vector_mismatches",
    "verify",
]


_LABELS = {"passed": "PASS", "failed": "FAIL", "missing": "MISSING"}


def _verify_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m conformance verify",
        description="Check result files written by any program against the golden vectors. "
        "RESULTS_DIR must hold one <vector id>.json per vector (see conformance/CONTRACT.md).",
    )
    parser.add_argument("results_dir", metavar="RESULTS_DIR", type=Path)
    parser.add_argument(
        "--vectors",
        type=Path,
        default=DEFAULT_VECTORS,
        help="the vector directory (default: the shipped vectors)",
    )
    parser.add_argument(
        "--skip-missing",
        action="store_true",
        help="report vectors without a result file as 'not covered' instead of failing (at least one must pass)",
    )
    parser.add_argument("--report", type=Path, help="also write the outcome as JSON to this file")
    return parser


def _write_report(path: Path, args: argparse.Namespace, outcomes: list[VectorOutcome], code: int) -> None:
    report = {
        "contract_version": CONTRACT_VERSION,
        "reference_version": REFERENCE_VERSION,
        "vectors": str(args.vectors),
        "results": str(args.results_dir),
        "exit_status": code,
        "outcomes": [{"id": o.id, "status": o.status, "messages": o.messages} for o in outcomes],
    }
    path.write_text(json.dumps(report, indent=2) + "\n", encoding="utf-8")


def main(argv: list[str] | None = None) -> int:
    """verify: 0 if every result matches, 1 on a mismatch or missing result, 2 on usage errors.

    Usage errors include an unusable vector set (a malformed manifest or vector file,
    a hash mismatch): one line on stderr, never a traceback.
    """
    args = _verify_parser().parse_args(argv)
    if not args.results_dir.is_dir():
        print(f"verify: {args.results_dir} is not a directory", file=sys.stderr)
        return 2
    try:
        outcomes = verify(args.results_dir, args.vectors)
    except VectorsError as error:
        print(f"verify: {error}", file=sys.stderr)
        return 2
    for outcome in outcomes:
        status = _LABELS[outcome.status]
        if outcome.status == "missing" and args.skip_missing:
            status = "NOT COVERED"
        print(f"{status:<11} {outcome.id}" + (f": {outcome.messages[0]}" if outcome.messages else ""))
        for message in outcome.messages[1:]:
            print(f"{'':<12}{message}")
    counts = Counter(o.status for o in outcomes)
    missing_fails = counts["missing"] and not args.skip_missing
    code = 1 if counts["failed"] or missing_fails or not counts["passed"] else 0
    print(
        f"{len(outcomes)} vectors (contract {CONTRACT_VERSION}, manifest hashes verified): "
        f"{counts['passed']} passed, {counts['failed']} failed, {counts['missing']} "
        f"{'not covered' if args.skip_missing else 'missing'}"
    )
    if args.report:
        try:
            _write_report(args.report, args, outcomes, code)
        except OSError as error:
            print(f"verify: cannot write the report {args.report}: {error.strerror or error}", file=sys.stderr)
            return 2
    return code


def _generate(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="python -m conformance.vectors generate")
    parser.add_argument(
        "--out",
        type=Path,
        default=DEFAULT_VECTORS,
        help="output directory (default: the shipped vectors)",
    )
    args = parser.parse_args(argv)
    paths = recipes.generate(args.out, log=print)
    print(f"wrote {len(paths) - 1} vectors and {paths[-1].name} to {args.out}")
    return 0


def cli(argv: list[str] | None = None) -> int:
    """``python -m conformance.vectors {generate,verify} ...``."""
    argv = list(sys.argv[1:] if argv is None else argv)
    if argv and argv[0] == "generate":
        return _generate(argv[1:])
    if argv and argv[0] == "verify":
        return main(argv[1:])
    print(
        "usage: python -m conformance.vectors {generate [--out DIR] | verify RESULTS_DIR [...]}",
        file=sys.stderr,
    )
    return 2
