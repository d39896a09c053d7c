"""Wrong mutants that a run of the suite may pass, each with the reason no run of the suite sees it.

A mutant listed here is still counted as a survivor in the figures; the reason is printed beside it
in docs/benchmarks.md. Any other survivor is a gap in the suite: a region to generate or a check to
write. Keys are mutant names (subject#site); the subjects are frozen so that names stay stable.
"""

from __future__ import annotations

REASONS: dict[str, str] = {}
