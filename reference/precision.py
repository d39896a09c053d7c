"""Arbitrary precision: the same equations on numpy object arrays of mpmath numbers.

Every float64 or float32 input is converted to mpf exactly (binary floats are
exact rationals), so the mpmath result is the true value of the cost and its
gradient at precisely the inputs the float computation saw, up to 10^-digits.
"""

from __future__ import annotations

from typing import Any

import mpmath
import numpy as np

from ._ops import Array
from .case import Case


def to_mp(array: Array) -> Array:
    """An exact object-array copy of a float array, one mpmath.mpf per element."""
    flat = [mpmath.mpf(float(v)) for v in np.asarray(array).ravel()]
    out = np.empty(len(flat), dtype=object)
    out[:] = flat
    return out.reshape(np.shape(array))


def to_float(array: Any, dtype: str = "float64") -> Array:
    """Round an object array of mpf (or a scalar) to a float array."""
    return np.asarray(np.vectorize(float, otypes=[np.float64])(array)).astype(dtype)


def case_to_mp(case: Case) -> Case:
    """The case with every array converted exactly to mpf (call inside mpmath.workdps)."""
    return case.replace(
        weights=[to_mp(w) for w in case.weights],
        biases=[to_mp(b) for b in case.biases],
        x=to_mp(case.x),
        y=to_mp(case.y),
    )


def check_digits(digits: Any) -> int:
    if isinstance(digits, bool) or not isinstance(digits, int | np.integer) or digits < 1:
        raise ValueError(f"digits must be a positive int (decimal digits of precision), got {digits!r}")
    return int(digits)


def workdps(digits: int) -> Any:
    """mpmath's precision context, for callers that combine several mp evaluations."""
    return mpmath.workdps(check_digits(digits))
