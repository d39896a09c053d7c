"""Numerical derivatives that check an analytic gradient and cannot be fooled easily.

  central_differences   every entry (or a sample); a cheap pass at 2^round(log2 eps^(1/3)
                        max(1,|p|)) with a third-difference bound, then an adaptive Richardson
                        scan of steps (adaptive.refine) where that does not settle the entry
  complex_step          every entry; Im C(p + ih)/h, accurate to rounding (analytic costs)
  mp_ground_truth       backprop in mpmath at N digits, confirmed by mpmath central differences
  directional_check     <g, d> vs directional differences on signed floored Gaussian directions
  taylor_slope_test     the Taylor remainder must shrink at order 2 (3 when symmetric), not 1
Steps are chosen by the function where the first guess does not settle an entry (adaptive); the
verdicts are pass, fail (only beyond doubt) and inconclusive (with the reason). Kinks of relu are
detected and named ("kink within step at layer 2, unit 3 (sample 0)"); corners of any callable
are found from one-sided differences that disagree.
``reference.gradcheck.gradcheck`` turns these into a verdict per tensor.
"""

from .adaptive import Corner
from .central import NoiseReading, NumericGradient, central_differences, cost_noise, measure_noise, read_noise
from .complex_step import complex_step
from .directional import (
    DirectionalCheck,
    DirectionalResult,
    SlopeResult,
    directional_check,
    taylor_slope_test,
)
from .directions import signed_gaussian_direction
from .kinks import Kink, KinkReport
from .mp import MpGroundTruth, mp_ground_truth
from .problem import Problem, as_problem, from_callable, from_case
from .steps import central_steps, format_step, machine_epsilon

__all__ = [
    "Corner",
    "measure_noise",
    "NoiseReading",
    "read_noise",
    "DirectionalCheck",
    "DirectionalResult",
    "Kink",
    "KinkReport",
    "MpGroundTruth",
    "NumericGradient",
    "Problem",
    "SlopeResult",
    "as_problem",
    "central_differences",
    "central_steps",
    "complex_step",
    "cost_noise",
    "directional_check",
    "format_step",
    "from_callable",
    "from_case",
    "machine_epsilon",
    "mp_ground_truth",
    "signed_gaussian_direction",
    "taylor_slope_test",
]
