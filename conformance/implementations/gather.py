"""Gathered writes (``os.writev``): a frame goes out as its pieces, never joined into one copy.

Shared by the two ends of a pipe, the suite's channel (conformance.implementations.channel) and the
worker's loop (conformance.implementations.serving), which may take fewer bytes than given.
"""

from __future__ import annotations

from collections.abc import Sequence

# Pieces per gathered write: POSIX guarantees at least 16, Linux takes 1024.
IOV_MAX = 512


def pieces(parts: Sequence[bytes | memoryview]) -> list[memoryview]:
    """The non-empty parts as flat byte views."""
    views = [memoryview(part).cast("B") for part in parts]
    return [view for view in views if view.nbytes]


def remaining(pending: list[memoryview], written: int) -> list[memoryview]:
    """What is left to write of ``pending`` once its first ``written`` bytes are written.

    One slice of the list, however many pieces were written: requests posted ahead (a batch of
    single-sample calls) are thousands of pieces, written a few hundred at a time.
    """
    done = 0
    while done < len(pending) and written >= pending[done].nbytes:
        written -= pending[done].nbytes
        done += 1
    rest = pending[done:]
    if rest and written:
        rest[0] = rest[0][written:]
    return rest
