"""Elementwise primitives that work on every array kind the engine meets.

The same equations run on float32, float64, complex128 (complex-step
differentiation) and numpy object arrays of ``mpmath.mpf`` (ground truth at
any number of digits). numpy's ufuncs cannot evaluate ``exp`` or ``log`` on
object arrays, so those go through mpmath here, and nowhere else.
"""

from __future__ import annotations

from typing import Any

import mpmath
import numpy as np

Array = np.ndarray

_mp_exp = np.frompyfunc(mpmath.exp, 1, 1)
_mp_log1p = np.frompyfunc(mpmath.log1p, 1, 1)


def is_mp(x: Array) -> bool:
    """True for object arrays, which the engine treats as arrays of mpmath numbers."""
    return x.dtype == object


def as_array(x: Any) -> Array:
    """``np.asarray`` that keeps object arrays, whose elements are already mpmath numbers."""
    return x if isinstance(x, np.ndarray) else np.asarray(x)


def exp(x: Array) -> Array:
    return as_array(_mp_exp(x)) if is_mp(x) else np.exp(x)


def log1p(x: Array) -> Array:
    if is_mp(x):
        return as_array(_mp_log1p(x))
    return _complex_log1p(x) if np.iscomplexobj(x) else np.log1p(x)


def _complex_log1p(z: Array) -> Array:
    """ln(1 + z) for complex z, accurate where |z| is small (complex-step inputs).

    numpy's complex log1p forms 1 + z first, so its real part errs by about u / |z| relative
    (6e-9 at z = 1e-8): a complex step through softplus(z) for z < -7 then differentiates a
    visibly different function. Here Re = ln|1 + z| = log1p(x (2 + x) + y^2) / 2 and
    Im = atan2(y, 1 + x), each within a few ulps for x > -1; for |z| >= 1/2, 1 + z loses at
    most one bit and numpy's form is kept (x (2 + x) could overflow there).
    """
    small = np.abs(z) < 0.5
    x = np.where(small, z.real, 0.0)
    y = np.where(small, z.imag, 0.0)
    near = 0.5 * np.log1p(x * (2.0 + x) + y * y) + 1j * np.arctan2(y, 1.0 + x)
    return np.where(small, near, np.log1p(z))


def real(x: Array) -> Array:
    """Real part, for comparisons: complex-step inputs carry a tiny imaginary part that must not steer a branch."""
    return x.real if np.iscomplexobj(x) else x


def const(like: Array, value: float) -> Any:
    """``value`` as a scalar of ``like``'s kind, so float32 stays float32 and mpmath stays exact."""
    if is_mp(like):
        return mpmath.mpf(value)
    return like.dtype.type(value)
