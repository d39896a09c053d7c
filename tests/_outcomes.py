"""What a prepared or reference call answers, as one comparable value (the prepared pass's tests)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any


def outcome(call: Callable[[], dict[str, Any]]) -> tuple[object, ...]:
    """A call's error type and message, or its cost and the bytes of every result array: two calls
    answer alike, bit for bit, exactly when their outcomes are equal."""
    try:
        out = call()
    except (ValueError, TypeError, FloatingPointError) as error:
        return (type(error).__name__, str(error))
    arrays = [a.tobytes() for key in ("grad_weights", "grad_biases", "deltas") for a in out[key]]
    return ("result", out["cost"], *arrays)
