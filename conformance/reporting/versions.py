"""Version strings a report carries, so that a saved verdict can be traced to what produced it.

A leaf of the package: case files and reports import it, never the package ``__init__``.
"""

from __future__ import annotations

from conformance.implementations.contract import CONTRACT_VERSION
from reference import __version__ as REFERENCE_VERSION

# The engine and the suite ship in one distribution, whose installed metadata holds the version.
SUITE_VERSION = REFERENCE_VERSION

__all__ = ["CONTRACT_VERSION", "REFERENCE_VERSION", "SUITE_VERSION", "versions"]


def versions() -> dict[str, str]:
    return {"suite": SUITE_VERSION, "contract": CONTRACT_VERSION, "reference": REFERENCE_VERSION}
