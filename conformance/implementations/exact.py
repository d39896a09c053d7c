"""Exact numbers in answers (mpmath ``mpf``, ``fractions.Fraction``, ``decimal.Decimal``), rounded once.

An implementation that computes exactly (the reference's own ``backprop_mp``, a rational
or decimal engine) answers with numbers that are more precise than any float: they are
numbers, and the structure check converts them, each rounded once, to nearest with ties
to even, to the dtype judged (float32 cases to float32, not through float64, which would
round twice). Rounding is done here in integer arithmetic, exactly: value =
(-1)^negative num / den 2^exp2 10^exp10.

Nothing here trusts the value: an exact number is read through its public parts (or
mpmath's ``_mpf_`` tuple), every integer is bounded (``MAX_BITS``), and a magnitude far
outside the dtype's range is decided from bit lengths before any power is built, so that
an mpf of 10**400, a Fraction with a million-digit denominator or a Decimal of 1e999999999
is a clear structure failure, never a hang. NaN and infinities become the float ones (the
structure check's finiteness test then names them).

The worker's wire format (conformance.implementations.wire) carries ``Exact`` values as their integers, so
that a worker answers exactly what the implementation returned.
"""

from __future__ import annotations

import decimal
import fractions
import math
import numbers
import operator
from dataclasses import dataclass
from typing import Any

import numpy as np
from mpmath import libmp
from mpmath.ctx_mp_python import _mpf

from conformance.errors import ExactError

# Every integer of an exact number (numerator, denominator, mantissa, decimal digits as an
# integer) is at most this many bits: rounding costs a division of such integers (well under a
# millisecond), and a float64 needs at most about 1100 bits of exponent and 53 of mantissa.
MAX_BITS = 1 << 16
# |exponent| of an mpf (base 2) or a Decimal (base 10) read at all; beyond, it is the magnitude alone.
MAX_EXPONENT = 1 << 40
_LOG2_10 = math.log2(10)
# (precision in bits, smallest normal exponent, largest exponent) of the dtypes judged
_FORMATS = {"float64": (53, -1022, 1023), "float32": (24, -126, 127)}


@dataclass(frozen=True)
class Exact:
    """A real number held exactly: (-1)^negative num / den 2^exp2 10^exp10, or a special value.

    ``special``: "" for a finite number, else "nan", "inf" or "-inf". ``kind`` names what the
    implementation returned (mpf, Fraction, Decimal) for the messages.
    """

    kind: str
    negative: bool = False
    num: int = 0
    den: int = 1
    exp2: int = 0
    exp10: int = 0
    special: str = ""

    def __str__(self) -> str:
        return f"the {self.kind} {describe(self)}"


def is_exact(value: Any) -> bool:
    """An exact real number this module reads (not a Python int or a float: those are numbers already)."""
    if isinstance(value, Exact | _mpf | decimal.Decimal | fractions.Fraction):
        return True
    return isinstance(value, numbers.Rational) and not isinstance(value, int | np.integer | bool | np.bool_)


def _bounded(value: Any, what: str, kind: str) -> int:
    number = operator.index(value)
    if abs(number).bit_length() > MAX_BITS:
        raise ExactError(f"a {kind} whose {what} has {abs(number).bit_length()} bits (at most {MAX_BITS} are read)")
    return number


def to_exact(value: Any) -> Exact:
    """The exact number ``value`` is; ExactError when it cannot be read within the bounds."""
    if isinstance(value, Exact):
        return value
    try:
        if isinstance(value, _mpf):
            return _from_mpf(value._mpf_)
        if isinstance(value, decimal.Decimal):
            return _from_decimal(value)
        num = _bounded(value.numerator, "numerator", "Fraction")
        den = _bounded(value.denominator, "denominator", "Fraction")
    except ExactError:
        raise
    except Exception as error:  # noqa: BLE001 - a hostile subclass: whatever reading it raises
        raise ExactError(f"a {type(value).__name__} that cannot be read ({type(error).__name__})") from None
    if den <= 0:
        raise ExactError(f"a {type(value).__name__} with denominator {den}")
    return Exact("Fraction", num < 0, abs(num), den)


def _from_mpf(parts: Any) -> Exact:
    if parts == libmp.fnan:
        return Exact("mpf", special="nan")
    if parts == libmp.finf:
        return Exact("mpf", special="inf")
    if parts == libmp.fninf:
        return Exact("mpf", special="-inf")
    sign, man, exp, _ = parts
    man = _bounded(man, "mantissa", "mpf")
    exp = operator.index(exp)
    if man < 0 or abs(exp) > MAX_EXPONENT:
        raise ExactError(f"an mpf with mantissa bits {man.bit_length()} and exponent {exp}, outside what is read")
    return Exact("mpf", bool(sign), man, 1, exp, 0)


def _from_decimal(value: decimal.Decimal) -> Exact:
    if value.is_nan():
        return Exact("Decimal", special="nan")
    if value.is_infinite():
        return Exact("Decimal", special="-inf" if value.is_signed() else "inf")
    sign, digits, exponent = value.as_tuple()
    if len(digits) * _LOG2_10 > MAX_BITS:
        raise ExactError(f"a Decimal of {len(digits)} digits (at most {int(MAX_BITS / _LOG2_10)} are read)")
    if not isinstance(exponent, int):  # "n", "N", "F": NaN and infinities, handled above
        raise ExactError(f"a Decimal with exponent {exponent!r}")
    if abs(exponent) > MAX_EXPONENT:
        raise ExactError(f"a Decimal with exponent {exponent}, outside what is read")
    return Exact("Decimal", bool(sign), int("".join(map(str, digits)) or "0"), 1, 0, exponent)


def describe(exact: Exact) -> str:
    """'about -1.2e+400' (from bit lengths and exponents, never the whole number)."""
    if exact.special:
        return exact.special
    if exact.num == 0:
        return "0"
    log10 = (
        (exact.num.bit_length() - exact.den.bit_length() + exact.exp2) / _LOG2_10 + exact.exp10
        if max(exact.num.bit_length(), exact.den.bit_length()) > 900
        else math.log10(exact.num) - math.log10(exact.den) + exact.exp2 / _LOG2_10 + exact.exp10
    )
    whole = math.floor(log10)
    return f"about {'-' if exact.negative else ''}{10 ** (log10 - whole):.2g}e{whole:+d}"


def round_exact(exact: Exact, dtype: str) -> float:
    """``exact`` rounded once to nearest (ties to even) in ``dtype``, as a float; ExactError beyond its range."""
    if exact.special:
        return float(exact.special)
    precision, emin, emax = _FORMATS[dtype]
    zero = -0.0 if exact.negative else 0.0
    if exact.num == 0:
        return zero
    # log2 |value| lies within 1 of this estimate (bit lengths) plus exp10 log2 10 (within 1e-9 here).
    estimate = exact.num.bit_length() - exact.den.bit_length() + exact.exp2 + exact.exp10 * _LOG2_10
    if estimate > emax + 2:
        raise ExactError(f"{exact} is beyond the range of {dtype}")
    if estimate < emin - precision - 3:
        return zero  # below half the smallest subnormal: rounds to zero
    p = exact.num * (1 << max(exact.exp2, 0)) * 10 ** max(exact.exp10, 0)
    q = exact.den * (1 << max(-exact.exp2, 0)) * 10 ** max(-exact.exp10, 0)
    e = p.bit_length() - q.bit_length()  # now 2^e <= p/q < 2^(e+1) after at most one step down
    if (p << max(-e, 0)) < (q << max(e, 0)):
        e -= 1
    e = max(e, emin)  # subnormals share the smallest normal exponent
    shift = precision - 1 - e  # the mantissa M = p/q 2^shift, rounded, has at most precision bits
    n, d = (p << shift, q) if shift >= 0 else (p, q << -shift)
    mantissa, rest = divmod(n, d)
    if 2 * rest > d or (2 * rest == d and mantissa & 1):
        mantissa += 1
    if mantissa and mantissa.bit_length() + (e - precision + 1) > emax + 1:
        raise ExactError(f"{exact} is beyond the range of {dtype}")
    value = math.ldexp(mantissa, -shift)  # exact: at most 53 bits, inside float64's range
    return -value if exact.negative else value
