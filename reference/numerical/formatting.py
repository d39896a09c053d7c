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
