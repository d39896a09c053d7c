"""Running the suite's commands in a subprocess, as a user would after installing the package."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
# Settings the caller's environment must not leak into a run that sets its own.
_INHERITED_SETTINGS = ("BACKPROP_IMPL", "PYTEST_ADDOPTS")


def run_python(args: list[str], cwd: Path, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    """``python ARGS`` in cwd, with PYTHONPATH standing in for the installation; env adds variables."""
    # Nor may a pytest-xdist worker's own variables: an inner pytest would think it is a worker too
    # (pytest-benchmark then warns that xdist is active, an error under -W error).
    merged = {k: v for k, v in os.environ.items() if k not in _INHERITED_SETTINGS and not k.startswith("PYTEST_XDIST_")}
    merged.update({"PYTHONPATH": str(ROOT), **(env or {})})
    return subprocess.run([sys.executable, *args], cwd=cwd, env=merged, capture_output=True, text=True, timeout=300)


def zombies() -> set[str]:
    """Children of this process that have exited and were never reaped (Linux: read from /proc)."""
    me, found = os.getpid(), set()
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            stat = Path(f"/proc/{entry}/stat").read_text()
        except OSError:
            continue
        fields = stat[stat.rindex(")") + 2 :].split()  # after "pid (comm) "
        if fields[0] == "Z" and int(fields[1]) == me:
            found.add(stat[: stat.rindex(")") + 1])
    return found
