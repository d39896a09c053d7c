"""python -m benchmarks [--quick | --full] [--out DIR] [--page FILE]: writes latest.json and docs/benchmarks.md."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from . import plot, report, runner
from .settings import FULL, QUICK

DEFAULT_OUT = Path(__file__).resolve().parent / "results"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks", description=__doc__)
    mode = parser.add_mutually_exclusive_group()
    mode.add_argument("--quick", action="store_true", help="smoke run: small sizes, few rounds (seconds)")
    mode.add_argument("--full", action="store_true", help="every section at every size (the default; minutes)")
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT, help=f"output directory (default {DEFAULT_OUT})")
    parser.add_argument("--page", type=Path, default=report.PAGE, help=f"the Markdown page (default {report.PAGE})")
    args = parser.parse_args(argv)
    results = runner.run(QUICK if args.quick else FULL)
    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / "latest.json").write_text(json.dumps(results, indent=1) + "\n", encoding="utf-8")
    args.page.write_text(report.page(results), encoding="utf-8")
    written = [args.out / "latest.json", args.page]
    if plot.write(results, args.out / "latest.png"):
        written.append(args.out / "latest.png")
    print("wrote " + ", ".join(str(p) for p in written))
    for t in results["targets"]:
        if t["met"] is False:
            print(f"target missed: {t['target']} (measured {t['measured']:.3g})", file=sys.stderr)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
