"""Version strings a report carries, so that a saved verdict can be traced to what produced it."""

from __future__ import annotations

from importlib import metadata

from . import SUITE_VERSION
from .contract import CONTRACT_VERSION

__all__ = ["CONTRACT_VERSION", "SUITE_VERSION", "reference_version", "versions"]


def reference_version() -> str:
    """The reference engine's version: its ``__version__``, else the installed distribution's."""
    try:
        import reference

        version = getattr(reference, "__version__", None)
        if version:
            return str(version)
    except ImportError:
        pass
    try:
        return metadata.version("backprop-reference")
    except metadata.PackageNotFoundError:
        return "unknown"


def versions() -> dict[str, str]:
    return {
        "suite": SUITE_VERSION,
        "contract": CONTRACT_VERSION,
        "reference": reference_version(),
    }
