"""python -m benchmarks [--quick | --full] [--only SECTIONS] [--out DIR] [--page FILE]: latest.json and the page.

``--only mutation`` (any of runner.SECTIONS, comma-separated) measures those sections again and puts them into the
existing latest.json, keeping every other section and recording which sections were measured when (the page says
so): the mutation score takes an hour, and a change to the suite should not need the whole run again.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
from pathlib import Path
from typing import Any

from . import plot, report, runner, targets
from .settings import FULL, QUICK

DEFAULT_OUT = Path(__file__).resolve().parent / "results"


def commit() -> str | None:
    """The checkout's commit (what was measured), or None outside a git checkout."""
    try:
        done = subprocess.run(
            ["git", "rev-parse", "--short", "HEAD"], cwd=DEFAULT_OUT.parent, capture_output=True, text=True, check=False
        )
    except OSError:
        return None
    return done.stdout.strip() or None


def merge(whole: dict[str, Any], part: dict[str, Any], only: frozenset[str]) -> dict[str, Any]:
    """The whole run's results with ``only``'s sections replaced by ``part``'s, and the targets judged again."""
    merged = dict(whole)
    keys = {"backprop": ("backprop", "overhead"), "memory": ("memory_all", "memory")}
    for section in only:
        for key in keys.get(section, (section,)):
            merged[key] = part[key]
    merged["reruns"] = [
        *[r for r in whole.get("reruns", []) if not set(r["sections"]) <= only],
        {
            "sections": sorted(only, key=runner.SECTIONS.index),
            "machine": part["machine"],
            "seconds": part["total_s"],
            "commit": commit(),
        },
    ]
    merged["targets"] = targets.judge_targets(merged)
    return merged


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks", description=__doc__)
    mode = parser.add_mutually_exclusive_group()
    mode.add_argument("--quick", action="store_true", help="smoke run: small sizes, few rounds (seconds)")
    mode.add_argument("--full", action="store_true", help="every section at every size (the default; minutes)")
    parser.add_argument(
        "--only",
        default=None,
        help=f"measure only these sections (comma-separated: {', '.join(runner.SECTIONS)}) into the existing results",
    )
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT, help=f"output directory (default {DEFAULT_OUT})")
    parser.add_argument("--page", type=Path, default=report.PAGE, help=f"the Markdown page (default {report.PAGE})")
    args = parser.parse_args(argv)
    settings = QUICK if args.quick else FULL
    if args.only is None:
        results = runner.run(settings)
    else:
        only = frozenset(s.strip() for s in args.only.split(",") if s.strip())
        unknown = sorted(only - set(runner.SECTIONS))
        if unknown or not only:
            parser.error(f"--only takes sections from {', '.join(runner.SECTIONS)}; got {args.only!r}")
        previous = args.out / "latest.json"
        if not previous.is_file():
            parser.error(f"--only adds to an earlier whole run's results, and {previous} does not exist")
        whole = json.loads(previous.read_text(encoding="utf-8"))
        if whole.get("mode") != settings.mode:  # said before measuring anything
            parser.error(f"{previous} holds a {whole.get('mode')!r} run; --only would measure {settings.mode!r}")
        results = merge(whole, runner.run(settings, only=only), only)
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
