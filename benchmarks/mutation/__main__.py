"""python -m benchmarks.mutation [--per-subject N | --all] [--runs quick,default] [--out FILE]"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from .run import RUNS, evaluate, figures

DEFAULT_OUT = Path(__file__).resolve().parent.parent / "results" / "mutation.json"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.mutation", description=__doc__)
    size = parser.add_mutually_exclusive_group()
    size.add_argument("--per-subject", type=int, default=60, help="mutants per subject, spread evenly (default 60)")
    size.add_argument("--all", action="store_true", help="every mutant of every subject")
    parser.add_argument("--runs", default=",".join(RUNS), help="suite runs: quick, default or both")
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT, help=f"the results (default {DEFAULT_OUT})")
    args = parser.parse_args(argv)
    runs = tuple(r for r in args.runs.split(",") if r)
    if any(r not in RUNS for r in runs):
        parser.error(f"--runs takes {', '.join(RUNS)}, got {args.runs!r}")
    data = evaluate(None if args.all else args.per_subject, runs, progress=lambda line: print(line, file=sys.stderr))
    args.out.write_text(json.dumps(data, indent=1) + "\n", encoding="utf-8")
    for run, f in figures(data).items():
        print(
            f"{run}: {f['wrong_rejected']}/{f['wrong']} wrong mutants rejected, "
            f"{f['equivalent_passed']}/{f['equivalent']} equivalent ones passed"
        )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
