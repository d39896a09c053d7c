"""Bugs in equations 3 and 4 and in the reduction: right errors, wrong gradients."""

from __future__ import annotations

import numpy as np

from .base import Array, Backprop


class TransposedWeightGradient(Backprop):
    """Missing transpose in equation 4: a^{l-1} (delta^l)^T, shaped (n_{l-1}, n_l), not (n_l, ...).

    On a non-square layer the shape is wrong (run on the "typical" regime, whose
    networks are rarely square). Expected diagnosis: structure (the shape of
    grad_weights; the structure check is not per layer).
    """

    EXPECTED = ("structure", None)
    MESSAGE = ("grad_weights[0] has shape",)
    REGIMES = ("typical",)

    def grad_weights(self, delta: Array, a_prev: Array, a_here: Array, scale: float) -> Array:
        return (a_prev.T @ delta) * scale


class ActivationOfSameLayer(Backprop):
    """a^l used where a^{l-1} belongs in equation 4 (an index off by one into the activations list).

    The gradient has shape (n_l, n_l): wrong in shape on non-square layers, and in value
    on square ones, where it survives the structure check (run on the "square" regime).
    Expected diagnosis: equation 4, layer 2.
    """

    EXPECTED = ("equation4", 2)
    MESSAGE = ("equation 4",)
    REGIMES = ("square",)

    def grad_weights(self, delta: Array, a_prev: Array, a_here: Array, scale: float) -> Array:
        return (delta.T @ a_here) * scale


class BiasGradientFirstSampleOnly(Backprop):
    """dC/db^l from the first sample only (delta[0] instead of the sum over the batch).

    Expected diagnosis: equation 3, layer 2 (any batch with m >= 2).
    """

    EXPECTED = ("equation3", 2)
    MESSAGE = ("equation 3",)

    def grad_biases(self, delta: Array, scale: float) -> Array:
        return delta[0] * scale


class MissingOneOverM(Backprop):
    """The mean reduction without its 1/m in the gradients (the cost, via a mean, is right).

    Expected diagnosis: the reduction check, layer 2 (a gradient exactly m times too large).
    """

    EXPECTED = ("reduction", 2)
    MESSAGE = ("exactly m = ", "the 1/m of the mean reduction is missing")

    def gradient_scale(self, reduction: str, m: int) -> float:
        return 1.0


class SumTreatedAsMean(Backprop):
    """The gradients always divide by m, so reduction "sum" silently gets the mean's gradient.

    Expected diagnosis: the reduction check, layer 2 (a gradient exactly 1/m of the right one).
    """

    EXPECTED = ("reduction", 2)
    MESSAGE = ("exactly 1/m = ", "averaged although the reduction is sum")

    def gradient_scale(self, reduction: str, m: int) -> float:
        return 1.0 / m


class Float32Accumulation(Backprop):
    """A float64 implementation that computes in float32 inside and returns float64 arrays.

    The error, ~1e-7 relative, is 10^7 times the float64 tolerance and invisible to float32 tests.
    Expected diagnosis: equation 1, layer 2 (float64 cases), as one root cause naming float32
    arithmetic, whichever check each case breaks first.
    """

    EXPECTED = ("equation1", 2)
    MESSAGE = ("float64 computed in float32: every value returned is a float32 number",)
    ONE_CAUSE = True  # one cause, however many checks it breaks (issue 17: Keras gave 9 root causes)

    def compute_dtype(self, case: object) -> np.dtype:
        return np.dtype(np.float32)
