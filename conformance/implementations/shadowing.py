"""A ``reference.py``, ``symbolic.py`` or ``conformance.py`` ahead of the project on sys.path.

``python -m conformance`` puts the working directory first on sys.path, so a file there named
like one of the project's packages is imported instead of it: the suite then fails with an
ImportError deep in its own modules (exit 1, which means "a check failed"). This module
finds such a file before anything imports the packages, so that the command line can say so
in one sentence and exit 2 (the implementation cannot be run).

It imports nothing of the project's and reads only sys.path and the file system.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

PROJECT_PACKAGES = ("reference", "symbolic", "conformance")

# The folder that holds the project's packages (the repository, or site-packages).
_ROOT = Path(__file__).resolve().parents[2]


def _same(a: Path, b: Path) -> bool:
    try:
        return a.resolve() == b.resolve()
    except OSError:
        return False


def shadowing_file(packages: tuple[str, ...] = PROJECT_PACKAGES) -> Path | None:
    """The first module file that Python would import instead of one of ``packages``, if any.

    A module already imported from elsewhere counts; otherwise the sys.path entries before the
    project's folder are searched for ``NAME.py`` or a regular package ``NAME/__init__.py``, as
    the import system would.
    """
    for name in packages:
        loaded = sys.modules.get(name)
        if loaded is not None:
            where = getattr(loaded, "__file__", None)
            if where and not Path(where).resolve().is_relative_to(_ROOT):
                return Path(where)
            continue
        for entry in sys.path:
            base = Path(entry or os.getcwd())
            if _same(base, _ROOT):
                break
            for candidate in (base / f"{name}.py", base / name / "__init__.py"):
                if candidate.is_file():
                    return candidate
    return None


def shadowing_message(found: Path) -> str:
    """One sentence: which file, what it hides, what to do."""
    package = found.parent.name if found.name == "__init__.py" else found.stem
    return (
        f"{found} hides the suite's own package {package!r} (Python imports it first from its folder); "
        "rename it, run from another directory, or use python -P -m conformance (Python 3.11+)"
    )
