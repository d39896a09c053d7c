"""Negative controls: deliberately broken backprop implementations, each a known real-world bug.

Each class's docstring names its bug and the diagnosis the conformance suite must
give (its ``EXPECTED``: the check and the layer in the seed's numbering, or None for
whole-result checks); tests/test_conformance_catalogue.py asserts both. The corner-only
bugs (corners.py, ``QUICK = False``) are run with the default settings on their ``REGIMES``.
"""

from __future__ import annotations

from .base import Backprop
from .behaviour import (
    CostNotReduced,
    GradientsAccumulateOnRepeat,
    ScratchesTheInput,
    SgdStepIgnoresEta,
    SgdStepWrongSign,
)
from .causes import (
    CostDividedByOutputs,
    EpsInsideTheLog,
    ForwardCachedByShape,
    LearningRateInFloat32,
    SigmoidClippedAt20,
)
from .conventions import (
    ClampedCrossEntropy,
    ClampedCrossEntropyWithoutDeltas,
    ReluPrimeAtZeroIsHalf,
    ReluPrimeAtZeroIsHalfWithoutDeltas,
)
from .corners import (
    CORNERS,
    DeepNetworkDropsSigmaPrime,
    LargeInputsClipped,
    LargeWeightsClipped,
    MissingOneOverMAbove8,
    MissingOneOverMFrom17,
    MissingOneOverMFrom33,
    SgdStepTunedRatesOnly,
    TinyInputsFlushedToZero,
    WideLayerGradientsDoubled,
    WideLayerGradientsDoubledAbove32,
)
from .equations import (
    CostDerivativeSign,
    DeltasCarryTheReduction,
    FirstHiddenLayerSkipped,
    ReluPrimeAtZeroIsOne,
    SeedTypo,
    SigmaPrimeKeptWithCrossEntropy,
    SigmaPrimeOfActivation,
    SoftmaxDiagonalJacobian,
    TanhPrimeWithoutSquare,
)
from .gradients import (
    ActivationOfSameLayer,
    BiasGradientFirstSampleOnly,
    Float32Accumulation,
    MissingOneOverM,
    SumTreatedAsMean,
    TransposedWeightGradient,
)

CATALOGUE: tuple[type[Backprop], ...] = (
    SeedTypo,
    SigmaPrimeOfActivation,
    TransposedWeightGradient,
    ActivationOfSameLayer,
    BiasGradientFirstSampleOnly,
    MissingOneOverM,
    CostDerivativeSign,
    SigmaPrimeKeptWithCrossEntropy,
    Float32Accumulation,
    ReluPrimeAtZeroIsOne,
    SoftmaxDiagonalJacobian,
    FirstHiddenLayerSkipped,
    SumTreatedAsMean,
    ScratchesTheInput,
    GradientsAccumulateOnRepeat,
    SgdStepWrongSign,
    SgdStepIgnoresEta,
    TanhPrimeWithoutSquare,
    DeltasCarryTheReduction,
    CostNotReduced,
    # Conventions left undeclared (conventions.py): the message names relu'(0) and its value.
    ReluPrimeAtZeroIsHalf,
    ReluPrimeAtZeroIsHalfWithoutDeltas,
    # Corner-only bugs (corners.py): need the default settings, run on the regimes in REGIMES.
    MissingOneOverMAbove8,
    MissingOneOverMFrom17,
    MissingOneOverMFrom33,
    WideLayerGradientsDoubled,
    WideLayerGradientsDoubledAbove32,
    DeepNetworkDropsSigmaPrime,
    LargeInputsClipped,
    LargeWeightsClipped,
    TinyInputsFlushedToZero,
    SgdStepTunedRatesOnly,
    # Saturated outputs (conventions.py): the message names the clamped, a-based cost and the cure.
    ClampedCrossEntropy,
    ClampedCrossEntropyWithoutDeltas,
    # The causes users hit (causes.py, issue 17): each named, with its negative controls in
    # tests/test_conformance_causes.py.
    CostDividedByOutputs,
    SigmoidClippedAt20,
    EpsInsideTheLog,
    LearningRateInFloat32,
    ForwardCachedByShape,
)

__all__ = ["CATALOGUE", "CORNERS", "Backprop", *(cls.__name__ for cls in CATALOGUE)]
