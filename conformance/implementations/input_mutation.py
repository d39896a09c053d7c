"""Did the implementation change its input? Compared against a copy taken before the call.

Used in the suite's process for in-process implementations and inside the worker for
isolated ones (the worker is the only place that sees the implementation's arrays).
"""

from __future__ import annotations

from typing import Any

import numpy as np


def fresh_copy(case: Any) -> Any:
    """A deep copy for the implementation, so that nothing it does reaches the other copy."""
    return case.replace(
        weights=[np.array(w, copy=True) for w in case.weights],
        biases=[np.array(b, copy=True) for b in case.biases],
        x=np.array(case.x, copy=True),
        y=np.array(case.y, copy=True),
    )


def mutation(given: Any, original: Any) -> str | None:
    """Where the implementation changed its input ``given`` (``original`` is the untouched copy)."""
    for name in ("weights", "biases"):
        now, before = getattr(given, name), getattr(original, name)
        if len(now) != len(before):
            return f"{name} had {len(before)} arrays, now {len(now)}"
        for i, (a, b) in enumerate(zip(now, before, strict=True)):
            changed = _changed(a, b)
            if changed:
                return f"{name}[{i}]{changed} (layer {i + 2})"
    for name in ("x", "y"):
        changed = _changed(getattr(given, name), getattr(original, name))
        if changed:
            return f"{name}{changed}"
    return None


def _changed(now: object, before: np.ndarray) -> str | None:
    try:
        now_array = np.asarray(now)
    except Exception:  # noqa: BLE001 - replaced by something that is not an array at all
        return f" was replaced by a {type(now).__name__}"
    if now_array.shape != before.shape:
        return f" changed shape from {before.shape} to {now_array.shape}"
    if now_array.dtype.kind not in "fiub":
        return f" changed dtype from {before.dtype} to {now_array.dtype}"
    same = (now_array == before) | (np.isnan(now_array) & np.isnan(before))
    if same.all():
        return None
    index = tuple(int(i) for i in np.argwhere(~same)[0])
    was, is_now = repr(float(before[index])), repr(float(now_array[index]))  # shortest round-trip forms
    return f"[{', '.join(map(str, index))}] was {was}, is now {is_now}"
