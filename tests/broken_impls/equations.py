"""Bugs in equations 1 and 2: the errors delta^l themselves are wrong.

The expected layer is the one the suite must name: the output layer's equation 1 is
checked first, and equation 2 is checked from layer L-1 down, so a bug in every
hidden layer is reported at the first hidden layer the smallest failing network has.
"""

from __future__ import annotations

import numpy as np

from .base import Array, Backprop


class SeedTypo(Backprop):
    """The seed's own typo (erratum 1): delta^l = ((w^{l+1})^T sigma^{l+1}) (.) sigma'(z^l).

    The next layer's activations are back-propagated instead of its errors.
    Expected diagnosis: equation 2 at layer 2 (the smallest network with a hidden layer has L = 3).
    """

    EXPECTED = ("equation2", 2)
    MESSAGE = ("delta^2, while delta^3 is right",)

    def hidden_delta(self, w_next: Array, delta_next: Array, a_next: Array, z: Array, a: Array, name: str) -> Array:
        return (a_next @ w_next) * self.sigma_prime(name, z, a)


class SigmaPrimeOfActivation(Backprop):
    """sigma' evaluated at a = sigma(z) instead of at z (e.g. sigmoid_prime(activation)).

    Invisible for relu and identity, wrong for sigmoid, tanh and softplus, and so first
    visible at the output layer of a one-layer network. Expected diagnosis: equation 1, layer 2.
    """

    EXPECTED = ("equation1", 2)
    MESSAGE = ("delta^L",)
    capabilities = {"activations": ["sigmoid", "tanh", "softplus"]}

    def sigma_prime(self, name: str, z: Array, a: Array) -> Array:
        return super().sigma_prime(name, a, a)


class CostDerivativeSign(Backprop):
    """nabla_a C written as (y - a) instead of (a - y): gradient ascent in disguise.

    Expected diagnosis: equation 1, layer 2.
    """

    EXPECTED = ("equation1", 2)
    MESSAGE = ("delta^L", "the observed ratio to the expected value is -1")

    def cost_gradient(self, a: Array, y: Array) -> Array:
        return y - a


class SigmaPrimeKeptWithCrossEntropy(Backprop):
    """Cross-entropy with delta^L = (a - y) (.) sigma'(z): the sigma' the cost cancels is kept.

    Expected diagnosis: equation 1, layer 2 (cross_entropy cases only).
    """

    EXPECTED = ("equation1", 2)
    MESSAGE = ("delta^L",)
    capabilities = {"costs": ["cross_entropy"], "activations": ["sigmoid", "tanh"]}

    def output_delta(self, cost: str, name: str, z: Array, a: Array, y: Array) -> Array:
        if cost == "cross_entropy":
            return (a - y) * self.sigma_prime(name, z, a)
        return super().output_delta(cost, name, z, a, y)


class SoftmaxDiagonalJacobian(Backprop):
    """Softmax as elementwise with derivative a (1 - a): the off-diagonal -a_i a_j is dropped.

    Expected diagnosis: equation 1, layer 2 (softmax output with the quadratic cost).
    """

    EXPECTED = ("equation1", 2)
    MESSAGE = ("delta^L",)
    capabilities = {"costs": ["quadratic"], "activations": ["softmax", "tanh"]}

    def softmax_jacobian_t(self, a: Array, g: Array) -> Array:
        return g * a * (1 - a)


class TanhPrimeWithoutSquare(Backprop):
    """tanh'(z) written as 1 - tanh(z) instead of 1 - tanh(z)^2.

    Expected diagnosis: equation 1, layer 2 (tanh output).
    """

    EXPECTED = ("equation1", 2)
    MESSAGE = ("delta^L",)
    capabilities = {"activations": ["tanh"]}

    def sigma_prime(self, name: str, z: Array, a: Array) -> Array:
        if name == "tanh":
            return 1.0 - np.tanh(z)
        return super().sigma_prime(name, z, a)


class ReluPrimeAtZeroIsOne(Backprop):
    """relu'(0) = 1 (a test z >= 0, as ML-From-Scratch's ReLU has); the contract's default, like PyTorch, is 0.

    A valid convention once declared (tests/styles/mlfromscratch_style.py); undeclared, it fails.
    Visible only where a pre-activation is exactly 0. Expected diagnosis: equation 1, layer 2,
    naming relu'(0) = 1 and the declaration.
    """

    EXPECTED = ("equation1", 2)
    MESSAGE = ("relu'(0) = 1 in this implementation", '{"relu_prime_at_zero": 1}')
    capabilities = {"activations": ["relu"]}

    def sigma_prime(self, name: str, z: Array, a: Array) -> Array:
        if name == "relu":
            return (z >= 0).astype(z.dtype)
        return super().sigma_prime(name, z, a)


class FirstHiddenLayerSkipped(Backprop):
    """Off-by-one loop bound: ``for l in range(L - 1, 2, -1)`` never computes delta^2 (stays 0).

    Expected diagnosis: equation 2, layer 2.
    """

    EXPECTED = ("equation2", 2)
    MESSAGE = ("delta^2, while delta^3 is right",)

    def backward(self, weights: list[Array], zs: list[Array], acts: list[Array], y: Array, case: object) -> list[Array]:
        deltas = super().backward(weights, zs, acts, y, case)
        if len(deltas) > 1:
            deltas[0] = np.zeros_like(deltas[0])
        return deltas


class DeltasCarryTheReduction(Backprop):
    """The reported per-sample errors are divided by m (the reduction applied to delta too).

    The gradients are right; the deltas the contract defines as dC_x/dz^{x,l} are not.
    Expected diagnosis: equation 1, layer 2 (mean reduction, m >= 2).
    """

    EXPECTED = ("equation1", 2)
    MESSAGE = ("the deltas are exactly 1/m = ", "per sample")

    def backprop(self, case: object) -> dict[str, object]:
        result = super().backprop(case)
        m = np.asarray(case.x).shape[0]  # type: ignore[attr-defined]
        if case.reduction == "mean":  # type: ignore[attr-defined]
            result["deltas"] = [d / m for d in result["deltas"]]
        return result
