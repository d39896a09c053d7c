"""Numbers in verdict messages: total functions (nan and inf print as themselves, never raise).

A message is read exactly when something went wrong, so it must not fail on the values that
went wrong: a one-sided estimate that is nan at a jump, an infinite error bound, a relative
error of nan when both values are nan.
"""

from __future__ import annotations

import math


def fmt_value(v: float, rel: float) -> str:
    """Enough significant digits to show where two values differ by ``rel`` (4 when they differ
    grossly, or when rel is 0, nan or inf); nan and inf as themselves."""
    if not math.isfinite(v):
        return str(v)
    digits = 4 if not math.isfinite(rel) or rel <= 0 or rel >= 1e-3 else min(17, math.ceil(-math.log10(rel)) + 2)
    return f"{v:.{digits}g}"


def fmt_sci(x: float) -> str:
    """8.7e-2, not 8.7e-02; nan and inf as themselves."""
    if not math.isfinite(x):
        return str(x)
    return f"{x:.1e}".replace("e-0", "e-").replace("e+0", "e+")


# A repr is read in a REPL, a debugger or a failing assert: one line, short enough to read at a glance.
REPR_LIMIT = 150


def short_repr(kind: str, head: str, details: str) -> str:
    """``<kind head: details>`` on one line, at most REPR_LIMIT characters: the repr of a result
    object, which leads with its verdict; the full account stays in ``str()`` / ``.message`` and
    the fields. ``details`` is cut (with "...") where a long user-given name would overrun."""
    text = " ".join(f"<{kind} {head}: {details}".split())  # one line whatever the names hold
    if len(text) + 1 > REPR_LIMIT:
        text = text[: REPR_LIMIT - 4] + "..."
    return text + ">"


def count(n: int, noun: str, plural: str = "") -> str:
    """``1 tensor``, ``4 tensors``, ``1 entry``, ``2 entries``: a count in a repr reads as English."""
    return f"{n} {noun}" if n == 1 else f"{n} {plural or noun + 's'}"
