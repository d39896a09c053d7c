"""Proof time against architecture: ``python -m symbolic.bench [--quick]`` prints a Markdown table.

Each architecture is proven in a fresh SymPy cache (``clear_cache``), so one row never reuses
the work of another. Both wall-clock and CPU time are reported: on a shared machine the
wall clock measures the neighbours as much as the proof.
"""

from __future__ import annotations

import argparse
import sys
import time
from collections.abc import Sequence

from sympy.core.cache import clear_cache

from .prove import prove

DEPTHS: tuple[int, ...] = (3, 4, 5, 6, 7, 8)
WIDTHS: tuple[int, ...] = (2, 3, 4, 5, 6)


def bench_sizes(quick: bool = False) -> list[tuple[int, ...]]:
    """The layer sizes timed: depth at width 2, then width at 3 and 4 layers."""
    depths = (3, 5, 8) if quick else DEPTHS
    widths = (2, 4, 6) if quick else WIDTHS
    out: list[tuple[int, ...]] = [(2,) * d for d in depths]
    out += [(w,) * 3 for w in widths] + [(w,) * 4 for w in widths]
    return list(dict.fromkeys(out))


def measure(
    sizes_list: Sequence[Sequence[int]],
    activation: str = "sigmoid",
    cost: str = "quadratic",
    reduction: str = "mean",
) -> list[dict[str, object]]:
    """Prove each architecture once; one dict per architecture with the times and the verdict."""
    rows: list[dict[str, object]] = []
    for sizes in sizes_list:
        sizes = tuple(int(n) for n in sizes)
        clear_cache()
        wall, cpu = time.perf_counter(), time.process_time()
        proof = prove(sizes, [activation] * (len(sizes) - 1), cost, reduction)
        rows.append(
            {
                "sizes": sizes,
                "activation": activation,
                "cost": cost,
                "checks": len(proof.checks),
                "verdict": proof.verdict,
                "wall_s": time.perf_counter() - wall,
                "cpu_s": time.process_time() - cpu,
            }
        )
    return rows


def to_markdown(rows: Sequence[dict[str, object]]) -> str:
    lines = [
        "| sizes | activation | cost | checks | verdict | wall (s) | CPU (s) |",
        "| --- | --- | --- | ---: | --- | ---: | ---: |",
    ]
    for r in rows:
        lines.append(
            f"| {list(r['sizes'])} | {r['activation']} | {r['cost']} | {r['checks']} | "  # type: ignore[call-overload]
            f"{r['verdict']} | {r['wall_s']:.2f} | {r['cpu_s']:.2f} |"
        )
    return "\n".join(lines)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m symbolic.bench", description=__doc__)
    parser.add_argument("--quick", action="store_true", help="a few architectures only")
    parser.add_argument("--activation", default="sigmoid")
    parser.add_argument("--cost", default="quadratic")
    args = parser.parse_args(argv)
    rows = measure(bench_sizes(args.quick), args.activation, args.cost)
    print(to_markdown(rows))
    return 0 if all(r["verdict"] == "proven" for r in rows) else 1


if __name__ == "__main__":
    sys.exit(main())
