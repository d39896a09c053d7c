"""Where a default conformance run's CPU goes: judging value sets, or the search around them.

``python -m benchmarks.judging_split SPEC`` runs ``check_implementation`` in process on SPEC (a
failing stand-in of ``conformance_time.FAILING``, or "reference") with the default settings, and
prints one JSON line: the run's CPU seconds, the CPU seconds spent inside ``search._judge`` (every
check on one value set, the implementation's calls included), the rest (Hypothesis's search and
shrinker, drawing each example's network and values, the bookkeeping of the shrink passes), and
the counts. Issue 22 item 5's profile of a miss: the savings on asking (reuse, judging up to the
target's check, the floor) reach only the first part.

A process of its own, so that wrapping ``_judge`` (restored on the way out) touches no other
measurement; the CPU clock of this process alone, as in process there is no worker.
"""

from __future__ import annotations

import json
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

from conformance import check_implementation
from conformance.cases import search


@contextmanager
def _judging_clock(spent: list[float]) -> Iterator[None]:
    """``search._judge`` adding its CPU seconds to ``spent[0]`` while the block runs."""
    judge: Callable[..., Any] = search._judge

    def timed(*args: Any, **kwargs: Any) -> Any:
        start = time.process_time()
        try:
            return judge(*args, **kwargs)
        finally:
            spent[0] += time.process_time() - start

    search._judge = timed
    try:
        yield
    finally:
        search._judge = judge


def split(spec: str, **options: Any) -> dict[str, Any]:
    """The CPU seconds of one in-process default run of ``spec``, judging and the rest, with its counts
    (``options``: other ``check_implementation`` settings, for a smaller run)."""
    spent = [0.0]
    start = time.process_time()
    with _judging_clock(spent):
        report = check_implementation(spec, failures_dir=None, in_process=True, **options)
    total = time.process_time() - start
    groups = report.to_dict()["groups"]
    judged = sum(int(g["judged"]) for g in groups)
    shrink = sum(int(g["shrink_judged"]) for g in groups)
    reused = sum(int(g["shrink_reused"]) for g in groups)
    return {
        "spec": spec,
        "cpu_s": total,
        "judging_cpu_s": spent[0],
        "rest_cpu_s": total - spent[0],
        "judged": judged,
        "shrink_judged": shrink,
        "shrink_reused": reused,
        "value_sets_asked": judged + shrink - reused,
    }


def main(argv: list[str]) -> int:
    if len(argv) != 1:
        print("usage: python -m benchmarks.judging_split SPEC", file=sys.stderr)
        return 2
    print(json.dumps(split(argv[0])))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
