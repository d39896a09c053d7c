"""Every allowed (hidden activation, output activation, cost, reduction): each gradient entry against
central differences of the cost taken in 40-digit arithmetic.

Error model: D(h) - dC/dp = (h^2/6) C'''(xi) + O(10^-40 |C| / h). With h = 1e-15 both terms are
below 1e-25 for these O(1) networks (|C'''| < 1e3), so D(h) is the derivative to far better than
float64 resolution, and the float64 gradient must match it to the float64 accuracy of the
engine: 1e-13 norm-wise per layer (these typical-regime cases are well conditioned; see
tests/_conditioning.py for the general model).
"""

from __future__ import annotations

import itertools

import mpmath
import numpy as np
import pytest

import reference
from reference import engine
from reference.activations import ACTIVATIONS, OUTPUT_ONLY
from reference.costs import REDUCTIONS, REQUIRED_OUTPUT
from reference.precision import case_to_mp
from reference.strategies import Architecture, make_case

HIDDEN = [a for a in ACTIVATIONS if a not in OUTPUT_ONLY]
COMBINATIONS = [
    (hidden, output, cost, reduction)
    for hidden, output, (cost, required), reduction in itertools.product(
        HIDDEN, ACTIVATIONS, REQUIRED_OUTPUT.items(), REDUCTIONS
    )
    if required is None or output == required
]


def _central_differences(case: reference.Case, digits: int = 40, h: str = "1e-15") -> list[np.ndarray]:
    """dC/dw^l for every layer, entry by entry, as (C(w + h) - C(w - h)) / 2h in mpmath."""
    out = []
    with mpmath.workdps(digits):
        mc = case_to_mp(reference.validate(case))
        step = mpmath.mpf(h)
        for i, w in enumerate(mc.weights):
            grad = np.zeros(w.shape)
            for index in np.ndindex(w.shape):
                values: list[mpmath.mpf] = []
                for sign in (1, -1):
                    moved = w.copy()
                    moved[index] = moved[index] + sign * step
                    weights = mc.weights[:i] + [moved] + mc.weights[i + 1 :]
                    values.append(engine.evaluate_cost(mc.replace(weights=weights), mc.x, mc.y))
                grad[index] = float((values[0] - values[1]) / (2 * step))
            out.append(grad)
    return out


def _live_case(architecture: Architecture, reduction: str) -> reference.Case:
    """The first seeded case whose every gradient layer is non-zero (a relu output can be all dead)."""
    for seed in range(11, 111):
        case = make_case(architecture, "typical", m=3, reduction=reduction, seed=seed)
        if all(np.any(g != 0) for g in reference.backprop(case)["grad_weights"]):
            return case
    raise AssertionError(f"no live case for {architecture}")


def test_every_combination_is_listed() -> None:
    # 5 hidden x (6 outputs with quadratic + sigmoid/cross_entropy + softmax/log_likelihood) x 2 reductions
    assert len(COMBINATIONS) == 5 * (6 + 1 + 1) * 2


@pytest.mark.parametrize(("hidden", "output", "cost", "reduction"), COMBINATIONS)
def test_gradient_entries_match_central_differences(hidden: str, output: str, cost: str, reduction: str) -> None:
    case = _live_case(Architecture((3, 4, 3), (hidden, output), cost), reduction)
    got = reference.backprop(case)["grad_weights"]
    want = _central_differences(case)
    for i, (g, w) in enumerate(zip(got, want, strict=True)):
        rel = np.linalg.norm(g - w) / np.linalg.norm(w)
        worst = np.unravel_index(np.argmax(np.abs(g - w)), g.shape)
        assert rel <= 1e-13, (
            f"grad_weights[{i}][{worst[0]}, {worst[1]}] = {g[worst]!r}, but central differences give "
            f"{w[worst]!r} (layer {i + 2}, equation 4, float64, norm-wise relative error {rel:.1e} > 1e-13)"
        )


def _typo_gradient(case: reference.Case) -> list[np.ndarray]:
    """dC/dw with the seed's printed equation 2: (w^{l+1})^T sigma^{l+1} in place of (w^{l+1})^T delta^{l+1}."""
    c = reference.validate(case)
    p = engine.backpropagate(c, c.x, c.y)
    z, a, typo = p.z, p.a, list(p.deltas)
    for i in range(len(c.weights) - 2, -1, -1):
        typo[i] = (a[i + 2] @ c.weights[i + 1]) * reference.sigma_prime(c.activations[i], z[i])
    scale = 1 / c.m if c.reduction == "mean" else 1
    return [scale * d.T @ a_prev for d, a_prev in zip(typo, a, strict=False)]


def test_negative_control_the_seed_typo_fails_this_check() -> None:
    case = _live_case(Architecture((3, 4, 3), ("sigmoid", "sigmoid"), "quadratic"), "mean")
    want = _central_differences(case)
    got = _typo_gradient(case)
    rel = np.linalg.norm(got[0] - want[0]) / np.linalg.norm(want[0])
    assert rel > 1e-2, f"the typo's dC/dw^2 is within {rel:.1e} of the truth: the check could not see it"
    np.testing.assert_allclose(got[1], want[1], rtol=1e-12)  # the output layer is untouched by the typo
