"""Conventions undeclared and saturated outputs: failures whose message must name the cause.

relu'(0) is a convention (any value in [0, 1] is a subgradient): an implementation that
uses another one than the contract's default 0 fails undeclared, and the message must say
relu'(0), the value it used and how to declare it. A cost differentiated through the
rounded sigmoid output, clamped as torch's BCELoss is, loses delta^L where the output
saturates: the message must say so and name the cure (the cost from z). Each class's
``MESSAGE`` holds text its failure message must contain (tests/test_conformance_conventions.py).
"""

from __future__ import annotations

from typing import Any

import numpy as np

from .base import Array, Backprop


class ReluPrimeAtZeroIsHalf(Backprop):
    """relu'(0) = 0.5, as HIPS autograd's np.maximum(z, 0) gives (it splits ties evenly), undeclared.

    Visible only where a pre-activation is exactly 0 (the "zeros" regime).
    Expected diagnosis: equation 1, layer 2, naming relu'(0) = 0.5 and the declaration.
    """

    EXPECTED = ("equation1", 2)
    MESSAGE = ("relu'(0) = 0.5 in this implementation", '{"relu_prime_at_zero": 0.5}')
    capabilities = {"activations": ["relu", "identity"]}

    def sigma_prime(self, name: str, z: Array, a: Array) -> Array:
        if name == "relu":
            return np.where(z > 0, 1.0, np.where(z == 0, 0.5, 0.0)).astype(z.dtype)
        return super().sigma_prime(name, z, a)


class ReluPrimeAtZeroIsHalfWithoutDeltas(ReluPrimeAtZeroIsHalf):
    """The same convention in an implementation that reports gradients only (as autograd's grad does).

    The value is solved from the gradients of the first layer that goes wrong.
    Expected diagnosis: equation 3, layer 2 (with equation 4), naming relu'(0) = 0.5.
    """

    EXPECTED = ("equation3", 2)
    capabilities = {"activations": ["relu", "identity"], "outputs": ["cost"]}

    def backprop(self, case: Any) -> dict[str, Any]:
        result = super().backprop(case)
        del result["deltas"]
        return result


class ClampedCrossEntropy(Backprop):
    """Sigmoid then BCELoss, differentiated through a: delta^L = (a - y) / max(a (1 - a), 1e-12) * a (1 - a).

    torch's BCELoss clamps the denominator of its derivative at 1e-12 (and its logarithm at
    -100); the Sigmoid's backward multiplies by a (1 - a) computed from the rounded a. Right
    wherever a (1 - a) > 1e-12; where the output saturates (|z^L| > 27.6, or a rounded to 1)
    delta^L collapses towards 0 instead of a - y. Only the saturating regime reaches it.
    Expected diagnosis: equation 1, layer 2, saying the output saturates and naming the cure.
    """

    QUICK = False
    REGIMES = ("saturating",)
    EXPECTED = ("equation1", 2)
    MESSAGE = ("where the sigmoid output saturates", "BCEWithLogitsLoss")
    capabilities = {"activations": ["sigmoid", "tanh"], "costs": ["cross_entropy"]}

    def output_delta(self, cost: str, name: str, z: Array, a: Array, y: Array) -> Array:
        if cost == "cross_entropy":
            slope = a * (1 - a)
            return (a - y) / np.maximum(slope, 1e-12) * slope
        return super().output_delta(cost, name, z, a, y)


class ClampedCrossEntropyWithoutDeltas(ClampedCrossEntropy):
    """The same clamped BCELoss, gradients only (a stock PyTorch training step reports no deltas).

    The change of delta^L is fitted to the output layer's gradients at the saturated outputs
    alone. Expected diagnosis: equation 3, layer 2 (with equation 4), naming saturation.
    """

    EXPECTED = ("equation3", 2)
    capabilities = {"activations": ["sigmoid", "tanh"], "costs": ["cross_entropy"], "outputs": ["cost"]}

    def backprop(self, case: Any) -> dict[str, Any]:
        result = super().backprop(case)
        del result["deltas"]
        return result
