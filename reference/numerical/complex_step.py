"""Complex-step differentiation: dC/dp = Im C(p + i h) / h, with no subtractive cancellation.

For C analytic near p, C(p + ih) = C(p) + ih C'(p) - h^2 C''(p)/2 - i h^3 C'''(p)/6 + ..., so
Im C(p + ih)/h = C'(p) - h^2 C'''(p)/6 + ...: with h = 2^-60 max(1, |p|) (a power of two) the
truncation term is ~1e-36 relative and never subtracts two nearly equal numbers, so the result
is as accurate as an analytic evaluation. Its rounding error therefore follows the same model
as the analytic gradient (Problem.allowance), which is the error bound reported.

The imaginary parts are h times the derivatives, 2^-60 of them: a gradient below about 1e-290
(a deeply saturated network) leaves them among float64's subnormal numbers, where rounding is
absolute (2^-1075), not relative, and the allowance does not hold. An entry whose |Im C| is below
UNDERFLOW_GUARD is therefore inconclusive, with the reason, never judged: the guard leaves 2^53
between Im C and the smallest normal number, so every intermediate imaginary part stays normal
unless the layers above it amplify by more than 2^53. So is an Im C of exactly 0 where h times
the analytic value is under the guard (it may have underflowed): a wrong gradient of 1e-270 or
more against a true 0 is still judged.

Needs the cost written for complex input: comparisons, max-shifts and abs on the real part,
no conj/abs of the value (the reference engine does this). relu evaluates z * [Re z > 0], so at
an exact zero pre-activation the complex step sees the inactive side: relu'(0) = 0, the engine's
convention.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from .central import NumericGradient
from .problem import as_problem
from .steps import power_of_two

STEP_EXPONENT = -60
UNDERFLOW_GUARD = 2.0**-1022 * 2.0**53  # smallest normal float64 times 2^53 (module docstring)


def complex_step(target: Any) -> NumericGradient:
    """dC/dp for every entry by complex step (one complex evaluation per parameter)."""
    problem = as_problem(target)
    if problem.complex_cost is None:
        raise TypeError(
            "complex step needs a cost that accepts complex128 parameters: pass complex_cost= "
            "(the same function, written with real-part comparisons) or use central differences"
        )
    problem.value_at_point()  # a non-finite C(p) is bad input, refused with its value
    work = [p.astype(np.complex128) for p in problem.params]
    values, errors, steps = [], [], []
    inconclusive: dict[tuple[int, int], str] = {}
    for t, p in enumerate(problem.params):
        flat = work[t].reshape(-1)
        h = (2.0**STEP_EXPONENT) * power_of_two(np.maximum(1.0, np.abs(p.astype(np.float64)))).reshape(-1)
        val = np.empty(p.size)
        analytic = np.asarray(problem.gradient[t], dtype=np.float64).reshape(-1)
        for i in range(p.size):
            p0 = flat[i]
            flat[i] = p0 + 1j * h[i]
            imag = _to_complex(problem.complex_cost(work)).imag
            val[i] = imag / h[i]
            flat[i] = p0
            # An exact 0 is judged (a dead relu unit's derivative is exactly 0), unless the analytic
            # value is itself so small that its Im C would be under the guard: then 0 may be underflow.
            if 0 < abs(imag) < UNDERFLOW_GUARD or (imag == 0 and 0 < abs(analytic[i]) < UNDERFLOW_GUARD / h[i]):
                inconclusive[(t, i)] = (
                    f"the complex step's Im C = {imag:.1e} is within 2^53 of float64's subnormal range, "
                    "where its rounding is absolute (a gradient this small needs mpmath)"
                )
        values.append(val.reshape(p.shape))
        errors.append(np.full(p.shape, problem.allowance[t]))
        steps.append(h.reshape(p.shape))
    return NumericGradient("complex step", values, errors, steps, noise=0.0, inconclusive=inconclusive)


def _to_complex(value: Any) -> complex:
    """complex_cost's value as a complex: scalars and one-element arrays, refused otherwise."""
    array = np.asarray(value)
    if array.size != 1:
        raise TypeError(f"complex_cost(params) must return a scalar, got an array of shape {array.shape}")
    return complex(array.reshape(()))
