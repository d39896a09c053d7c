"""Corner-only bugs: right on small, tame cases, wrong where a real kernel would change path.

Each is correct for batches, widths and depths up to 8, inputs N(0, 1) and the learning
rates a suite might hard-code, so a search confined to those conforms them all. Kernels
switch code paths at exactly such sizes (vector widths, tiles of 16 or 32, a second
pass beyond 64) and at magnitudes (clamps, lookup tables, "normalised" inputs): these
are the negative controls that the default search reaches past them. Each needs the
default (non-quick) settings and names, in ``REGIMES``, the regimes that reach its
corner; tests/test_conformance_catalogue.py runs it there, float64 only.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from .base import Array, Backprop

#: The learning rates the suite used to draw from (conformance.cases.search.ETAS, before issue 9).
OLD_ETAS: frozenset[float] = frozenset({0.5, 0.1, 2.0, 0.03125})


class CornerBackprop(Backprop):
    """A bug that only the default settings reach: run without --quick."""

    QUICK = False


class _MissingOneOverMAbove(CornerBackprop):
    THRESHOLD = 8

    def gradient_scale(self, reduction: str, m: int) -> float:
        if reduction == "mean" and m > self.THRESHOLD:
            return 1.0  # the blocked-reduction path sums the tiles and forgets to divide
        return super().gradient_scale(reduction, m)


class MissingOneOverMAbove8(_MissingOneOverMAbove):
    """The mean's 1/m dropped from the gradients only for batches of more than 8 samples.

    A batched path (tiles of 8 samples) that sums its partial gradients and never
    divides; m <= 8 takes the simple path, which is right. Expected diagnosis: the
    reduction check, layer 2 (a gradient exactly m times too large).
    """

    EXPECTED = ("reduction", 2)
    MESSAGE = ("exactly m = ", "the 1/m of the mean reduction is missing")
    REGIMES = ("big_batch",)
    THRESHOLD = 8


class MissingOneOverMFrom17(_MissingOneOverMAbove):
    """The mean's 1/m dropped only for batches of 17 samples or more (a second tile of 16).

    Expected diagnosis: the reduction check, layer 2.
    """

    EXPECTED = ("reduction", 2)
    MESSAGE = ("exactly m = ", "the 1/m of the mean reduction is missing")
    REGIMES = ("big_batch",)
    THRESHOLD = 16


class MissingOneOverMFrom33(_MissingOneOverMAbove):
    """The mean's 1/m dropped only for batches of 33 samples or more (beyond one warp of 32).

    Expected diagnosis: the reduction check, layer 2.
    """

    EXPECTED = ("reduction", 2)
    MESSAGE = ("exactly m = ", "the 1/m of the mean reduction is missing")
    REGIMES = ("big_batch",)
    THRESHOLD = 32


class _WideLayerDoubled(CornerBackprop):
    THRESHOLD = 8

    def grad_weights(self, delta: Array, a_prev: Array, a_here: Array, scale: float) -> Array:
        g = super().grad_weights(delta, a_prev, a_here, scale)
        return 2 * g if delta.shape[1] > self.THRESHOLD else g  # two tiles both add the full sum

    def grad_biases(self, delta: Array, scale: float) -> Array:
        g = super().grad_biases(delta, scale)
        return 2 * g if delta.shape[1] > self.THRESHOLD else g


class WideLayerGradientsDoubled(_WideLayerDoubled):
    """dC/dw^l and dC/db^l doubled for a layer of more than 8 units (n_l > 8).

    The tiled kernel for wide layers accumulates the full product into both of its
    output tiles; the narrow path is right, and so are the deltas. Expected diagnosis:
    equation 3, layer 2 (a 2-layer network with one wide layer; with m = 2 the doubling
    also reads as the reduction's factor m, a later check).
    """

    EXPECTED = ("equation3", 2)
    MESSAGE = ("exactly 2 times the expected value",)
    REGIMES = ("wide",)
    THRESHOLD = 8


class WideLayerGradientsDoubledAbove32(_WideLayerDoubled):
    """The same doubling, only for a layer of more than 32 units.

    Expected diagnosis: equation 3, layer 2.
    """

    EXPECTED = ("equation3", 2)
    MESSAGE = ("exactly 2 times the expected value",)
    REGIMES = ("wide",)
    THRESHOLD = 32


class DeepNetworkDropsSigmaPrime(CornerBackprop):
    """Networks of more than 8 layers lose sigma'(z^2) in equation 2 at layer 2.

    The backward loop is unrolled for up to 8 layers; the generic loop that deeper
    networks take stops one step early and copies (W^3)^T delta^3 into delta^2 without
    the Hadamard product. Expected diagnosis: equation 2, layer 2, with delta^3 right.
    """

    EXPECTED = ("equation2", 2)
    MESSAGE = ("while delta^3 is right",)
    REGIMES = ("deep",)

    def backward(self, weights: list[Array], zs: list[Array], acts: list[Array], y: Array, case: Any) -> list[Array]:
        deltas = super().backward(weights, zs, acts, y, case)
        if len(case.sizes) > 8:
            deltas[0] = deltas[1] @ weights[1]
        return deltas


class LargeInputsClipped(CornerBackprop):
    """Inputs clamped to [-4, 4] (a guard written for standardised data), so |x| > 4 is wrong.

    Expected diagnosis: equation 1, layer 2 (the forward pass already differs).
    """

    EXPECTED = ("equation1", 2)
    MESSAGE = ("delta^L",)
    REGIMES = ("scaled",)

    def inputs(self, case: Any) -> tuple[list[Array], list[Array], Array, Array]:
        weights, biases, x, y = super().inputs(case)
        return weights, biases, np.clip(x, -4.0, 4.0), y


class LargeWeightsClipped(CornerBackprop):
    """Weights clamped to [-10, 10] inside backprop (a max-norm constraint applied in the wrong place).

    The old "saturating" regime (w ~ N(0, 100/n)) already reached |w| > 10; the scaled
    regime reaches it by design. Expected diagnosis: equation 1, layer 2.
    """

    EXPECTED = ("equation1", 2)
    MESSAGE = ("delta^L",)
    REGIMES = ("scaled",)
    LIMIT = 10.0

    def inputs(self, case: Any) -> tuple[list[Array], list[Array], Array, Array]:
        weights, biases, x, y = super().inputs(case)
        return [np.clip(w, -self.LIMIT, self.LIMIT) for w in weights], biases, x, y


class LargeWeightsClippedAt100(LargeWeightsClipped):
    """The same clamp at [-100, 100], beyond any weight the old regimes drew.

    Expected diagnosis: equation 1, first, at the output layer of the failing network. Not
    in CATALOGUE: the first layer's weights exceed 100 in one 2-layer scaled case in seven,
    so whether the smallest failing network found has 2 layers depends on the seed
    (tests/test_conformance_space.py asserts the check, not the layer).
    """

    LIMIT = 100.0


class TinyInputsFlushedToZero(CornerBackprop):
    """Inputs with |x| < 1e-3 treated as exact zeros (a sparse kernel's threshold).

    The low end of the scaled regime. N(0, 1) inputs fall below 1e-3 now and then, so
    the old regimes could meet it too, by luck. Expected diagnosis: equation 1, layer 2.
    """

    EXPECTED = ("equation1", 2)
    MESSAGE = ("delta^L",)
    REGIMES = ("scaled",)

    def inputs(self, case: Any) -> tuple[list[Array], list[Array], Array, Array]:
        weights, biases, x, y = super().inputs(case)
        return weights, biases, np.where(np.abs(x) < 1e-3, 0.0, x).astype(x.dtype), y


class SgdStepTunedRatesOnly(CornerBackprop):
    """sgd_step right for the learning rates the old suite used, 0.1 for every other one.

    A lookup of "supported" learning rates with a silent default: conforming while the
    suite drew eta from {0.5, 0.1, 2.0, 0.03125}. Expected diagnosis: sgd_step (layer None).
    """

    EXPECTED = ("sgd_step", None)
    MESSAGE = ("sgd_step with eta",)
    REGIMES = ("typical",)

    def sgd_step(self, case: Any, eta: float) -> dict[str, Any]:
        return super().sgd_step(case, eta if eta in OLD_ETAS else 0.1)


CORNERS: tuple[type[CornerBackprop], ...] = (
    MissingOneOverMAbove8,
    MissingOneOverMFrom17,
    MissingOneOverMFrom33,
    WideLayerGradientsDoubled,
    WideLayerGradientsDoubledAbove32,
    DeepNetworkDropsSigmaPrime,
    LargeInputsClipped,
    LargeWeightsClipped,
    LargeWeightsClippedAt100,
    TinyInputsFlushedToZero,
    SgdStepTunedRatesOnly,
)
#: The corners outside the space the suite searched before issue 9 (sizes <= 8, the five classic
#: regimes, OLD_ETAS): the sizes and learning rates entirely; the magnitudes (|x| > 4) drawn there
#: only rarely (tests/test_conformance_space.py measures how rarely). Outside its corner each computes
#: exactly what the correct base does.
BEYOND_OLD_SPACE: tuple[type[CornerBackprop], ...] = tuple(
    c for c in CORNERS if c not in (LargeWeightsClipped, TinyInputsFlushedToZero)
)
