"""``python -m benchmarks.cpu_split FILE ARGS...``: ``python -m conformance ARGS...``, and where its CPU went.

The isolation figure (issue 22 item 2) compares wall times, and an isolated run's time is spent in
two processes: the suite and its worker. From outside, the operating system reports their CPU only
summed (a process's resource usage includes the children it reaped). Run in this process instead,
the suite is this process (``RUSAGE_SELF``) and the worker its child (``RUSAGE_CHILDREN``, once
the run has reaped it), so the profile of a miss can say which side the time went to. The run
itself is the same: the CLI's own ``__main__``, with the same arguments and exit code. FILE gets
``{"suite_cpu_s": ..., "children_cpu_s": ...}``.
"""

from __future__ import annotations

import json
import resource
import runpy
import sys
from pathlib import Path


def _cpu(who: int) -> float:
    usage = resource.getrusage(who)
    return usage.ru_utime + usage.ru_stime


def main(argv: list[str]) -> int:
    if not argv:
        print("usage: python -m benchmarks.cpu_split FILE [python -m conformance arguments]", file=sys.stderr)
        return 2
    out, arguments = Path(argv[0]), argv[1:]
    sys.argv = ["conformance", *arguments]
    code: int | str | None = 0
    try:
        runpy.run_module("conformance", run_name="__main__", alter_sys=True)
    except SystemExit as stop:
        code = stop.code
    finally:
        split = {"suite_cpu_s": _cpu(resource.RUSAGE_SELF), "children_cpu_s": _cpu(resource.RUSAGE_CHILDREN)}
        out.write_text(json.dumps(split), encoding="utf-8")
    if isinstance(code, str):
        print(code, file=sys.stderr)
        return 1
    return int(code or 0)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
