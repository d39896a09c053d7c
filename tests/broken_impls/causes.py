"""The causes users hit in real libraries (issue 17), each named by the suite, and its controls.

Each is one finding with a true cause: the message names it (``MESSAGE``), and the
negative controls in tests/test_conformance_causes.py show the cause is not named where
it does not hold.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from .base import Array, Backprop


class CostDividedByOutputs(Backprop):
    """The quadratic cost averaged over the output units too: scikit-learn's squared_loss
    (((y - p)^2).mean() / 2) and torch's MSELoss(reduction="mean"); the gradients are right.

    Expected diagnosis: cost, naming the factor 1/n_L (confirmed with another n_L, so never "1/m"
    where n_L happens to equal m).
    """

    EXPECTED = ("cost", None)
    MESSAGE = ("exactly 1/n_L = ", "divided by the number of outputs")
    capabilities = {"costs": ["quadratic"]}

    def cost_value(self, case: Any, z_L: Array, a_L: Array, y: Array, scale: float) -> float:
        return super().cost_value(case, z_L, a_L, y, scale) / a_L.shape[1]


class SigmoidClippedAt20(Backprop):
    """The output's logits clipped to [-20, 20] before the sigmoid (a guard against overflow in exp).

    Off by up to sigmoid(-20) = 2e-9 where |z^L| > 20, right elsewhere; with the cross-entropy
    cost, delta^L = a - y carries it. Only the saturating regime reaches it. Expected diagnosis:
    equation 1, layer 2, naming the clip (not saturation: the cost is computed from z, right).
    """

    QUICK = False
    REGIMES = ("saturating",)
    EXPECTED = ("equation1", 2)
    MESSAGE = ("delta^L is what the sigmoid of z^L clipped at +-20 gives", "the forward pass is clipped")
    capabilities = {
        "hidden_activations": ["tanh"],
        "output_activations": ["sigmoid"],
        "costs": ["cross_entropy"],
    }

    def sigma(self, name: str, z: Array) -> Array:
        return super().sigma(name, np.clip(z, -20.0, 20.0) if name == "sigmoid" else z)


class EpsInsideTheLog(Backprop):
    """The cross-entropy cost from a with eps = 1e-7 inside each logarithm (a guard against ln 0):
    -[y ln(a + eps) + (1 - y) ln(1 - a + eps)]; the gradients are right.

    Expected diagnosis: cost, naming eps and where it is.
    """

    EXPECTED = ("cost", None)
    MESSAGE = ("added inside each logarithm, eps = 1e-07",)
    capabilities = {"costs": ["cross_entropy"]}

    def cost_value(self, case: Any, z_L: Array, a_L: Array, y: Array, scale: float) -> float:
        eps = 1e-7
        with np.errstate(divide="ignore", invalid="ignore"):  # the golden vectors send other outputs too
            return float(-np.sum(y * np.log(a_L + eps) + (1 - y) * np.log(1 - a_L + eps)) * scale)


class LearningRateInFloat32(Backprop):
    """sgd_step multiplies by the learning rate held as a float32 (a config value parsed as float32).

    Expected diagnosis: sgd_step, naming the learning rate held in float32 (float64 cases).
    """

    EXPECTED = ("sgd_step", None)
    MESSAGE = ("the learning rate is held in float32",)

    def sgd_step(self, case: Any, eta: float) -> dict[str, Any]:
        return super().sgd_step(case, float(np.float32(eta)))


class ForwardCachedByShape(Backprop):
    """The forward pass cached by the shapes of the inputs (a "compiled graph" reused for a new batch).

    The first case of each shape is right; a later case with the same shapes gets the old
    forward pass, so its deltas and gradients are wrong, while asking any case twice in a row
    gives the same answer (determinism passes). Expected diagnosis: equation 1, layer 2; the
    replay of the saved case, on a fresh implementation, says the case passes alone and the
    failure depends on the calls before it.
    """

    EXPECTED = ("equation1", 2)
    MESSAGE = ("delta^L",)

    def __init__(self) -> None:
        self._forward: dict[tuple[Any, ...], tuple[list[Array], list[Array]]] = {}

    def backprop(self, case: Any) -> dict[str, Any]:
        weights, biases, x, y = self.inputs(case)
        key = (tuple(w.shape for w in weights), x.shape, tuple(case.activations))
        if key not in self._forward:
            zs, acts = [], [x]
            for w, b, name in zip(weights, biases, case.activations, strict=True):
                zs.append(acts[-1] @ w.T + b)
                acts.append(self.sigma(name, zs[-1]))
            self._forward[key] = (zs, acts)
        zs, acts = self._forward[key]
        deltas = self.backward(weights, zs, acts, y, case)
        g = self.gradient_scale(case.reduction, x.shape[0])
        return {
            "grad_weights": [
                self.finish(self.grad_weights(d, acts[i], acts[i + 1], g), case) for i, d in enumerate(deltas)
            ],
            "grad_biases": [self.finish(self.grad_biases(d, g), case) for d in deltas],
            "deltas": [self.finish(d, case) for d in deltas],
            "cost": self.cost_value(case, zs[-1], acts[-1], y, self.scale(case.reduction, x.shape[0])),
        }
