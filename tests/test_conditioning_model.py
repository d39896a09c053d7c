"""The accuracy tests' error model (tests/_conditioning.py) against the cases that motivated it.

rho (input perturbation) cannot see the rounding of delta^L when its exact value sums to zero
(softmax with log-likelihood); the running error bound beta can. These tests check that beta
admits the engine on the case Hypothesis found, still rejects planted errors there and on an
ordinary case, and is the few u derived by hand where nothing cancels.
"""

from __future__ import annotations

import numpy as np
import pytest

import reference
from reference import Case

from ._conditioning import perturbed_sensitivity, rounding_bound
from .test_properties import _assert_accurate, _relative_layer_errors

U32 = float(np.finfo(np.float32).eps) / 2


def _f32(values: list) -> np.ndarray:
    return np.array(values, dtype=np.float32)  # every literal below is a float32 value, so exact


def _cancelling_case() -> Case:
    """Found by Hypothesis (dev profile): softmax + log-likelihood with sum(y) = 1 and the two rows
    of w^4 equal to 1e-3, so (w^4)^T delta^4 = delta_1 (w_1 - w_2) keeps 1e-3 of its terms."""
    return Case(
        sizes=(8, 8, 1, 2),
        activations=("sigmoid", "sigmoid", "softmax"),
        cost="log_likelihood",
        reduction="mean",
        dtype="float32",
        weights=[
            _f32(
                [
                    [
                        0.02040919102728367,
                        -0.025556650012731552,
                        0.004180988296866417,
                        -0.005677695851773024,
                        -0.004526493139564991,
                        -0.0021559717133641243,
                        -0.020199861377477646,
                        -0.00231932383030653,
                    ],
                    [
                        -0.00865213107317686,
                        0.033229995518922806,
                        0.0022578660864382982,
                        -0.003526307875290513,
                        -0.0028128742706030607,
                        -0.006680463440716267,
                        -0.010551505722105503,
                        -0.003908009734004736,
                    ],
                    [
                        0.004819453693926334,
                        -0.002385535975918174,
                        0.009577587246894836,
                        -0.0019980212673544884,
                        0.0002425956481602043,
                        0.01545820850878954,
                        0.005451055243611336,
                        -0.005052287131547928,
                    ],
                    [
                        -0.0018283897079527378,
                        0.005405251402407885,
                        0.01935088075697422,
                        -0.002696203300729394,
                        -0.002435586880892515,
                        0.01002313569188118,
                        -0.008864599280059338,
                        -0.0029172024223953485,
                    ],
                    [
                        0.008825389668345451,
                        0.005803500302135944,
                        0.0009151670383289456,
                        0.006701043341308832,
                        -0.028281623497605324,
                        0.010213067755103111,
                        -0.009596447460353374,
                        -0.016686199232935905,
                    ],
                    [
                        0.002764457603916526,
                        0.007005448918789625,
                        -0.0044476743787527084,
                        -0.01076405867934227,
                        0.0002612483222037554,
                        -0.0005274731083773077,
                        0.014055981300771236,
                        0.007474079728126526,
                    ],
                    [
                        0.0019381564343348145,
                        0.01111633237451315,
                        -0.002055230550467968,
                        -0.0092589957639575,
                        0.005840583238750696,
                        0.005825384054332972,
                        -0.0021482890006154776,
                        -0.00782808568328619,
                    ],
                    [
                        0.0022915389854460955,
                        -0.02493894286453724,
                        0.006901247892528772,
                        0.004913682583719492,
                        -0.01638857088983059,
                        0.0006135351140983403,
                        -0.009640996344387531,
                        0.007572210393846035,
                    ],
                ]
            ),
            _f32(
                [
                    [
                        0.015906402841210365,
                        -0.011912266723811626,
                        0.003545319428667426,
                        -0.010484055615961552,
                        0.014059629291296005,
                        -0.00021651228598784655,
                        -0.0037225056439638138,
                        -0.017181849107146263,
                    ]
                ]
            ),
            _f32([[0.007527785841375589], [0.00753563828766346]]),
        ],
        biases=[
            _f32(
                [
                    -0.020341672003269196,
                    -0.009144945070147514,
                    0.007095799781382084,
                    0.011564010754227638,
                    -0.021580053493380547,
                    -0.004980398342013359,
                    0.003280200995504856,
                    -0.006092161405831575,
                ]
            ),
            _f32([0.016818255186080933]),
            _f32([0.011378812603652477, 0.0034922657068818808]),
        ],
        x=_f32(
            [
                [
                    -0.6392465829849243,
                    -0.800241231918335,
                    -0.8001999855041504,
                    1.370072364807129,
                    -1.4603811502456665,
                    -0.5963695049285889,
                    -0.32124391198158264,
                    0.2246190309524536,
                ]
            ]
        ),
        y=_f32([[0.31279227137565613, 0.6872077584266663]]),
    )


def _ordinary_case(dtype: str) -> Case:
    """Small random weights of either sign, nothing arranged to cancel: the common case."""
    rng = np.random.default_rng(7)
    sizes = (3, 5, 4, 2)
    return Case(
        sizes=sizes,
        activations=("tanh", "sigmoid", "sigmoid"),
        cost="quadratic",
        reduction="mean",
        dtype=dtype,
        weights=[rng.normal(0, 0.8, (n, k)).astype(dtype) for k, n in zip(sizes, sizes[1:], strict=False)],
        biases=[rng.normal(0, 0.5, n).astype(dtype) for n in sizes[1:]],
        x=rng.normal(0, 1, (4, 3)).astype(dtype),
        y=rng.uniform(0, 1, (4, 2)).astype(dtype),
    )


def _well_conditioned_case() -> Case:
    """Six layers of width 8 with positive weights, sigmoid (positive a and sigma'), quadratic cost
    with y = 0, x > 0 and z^L < 0 (the output bias -5 outweighs 8 x 0.5): every term of every sum in the
    backward pass is positive, so nothing cancels."""
    rng = np.random.default_rng(3)
    sizes = (8,) * 6
    biases = [rng.uniform(-0.5, 0.5, 8).astype(np.float32) for _ in sizes[2:]] + [np.full(8, -5, np.float32)]
    return Case(
        sizes=sizes,
        activations=("sigmoid",) * 5,
        cost="quadratic",
        reduction="mean",
        dtype="float32",
        weights=[rng.uniform(0.1, 0.5, (8, 8)).astype(np.float32) for _ in sizes[1:]],
        biases=biases,
        x=rng.uniform(0.1, 1, (8, 8)).astype(np.float32),
        y=np.zeros((8, 8), np.float32),
    )


def _planted(got: dict, key: str, layer: int, relative: float) -> dict:
    """The engine's answer with the largest entry of one gradient moved by ``relative`` of itself (a copy)."""
    moved = {k: [np.array(g, copy=True) for g in v] if isinstance(v, list) else v for k, v in got.items()}
    g = moved[key][layer - 2]
    index = np.unravel_index(np.argmax(np.abs(g)), g.shape)
    g[index] = g[index] * (1 + g.dtype.type(relative))
    return moved


def test_the_cancelling_case_passes_and_needed_the_rounding_bound() -> None:
    case = _cancelling_case()
    got, truth = reference.backprop(case), reference.backprop_mp(case, digits=50)
    _assert_accurate(case, got, truth, 1e-5)
    # Without beta the engine would fail here: the case shows what rho misses.
    rho = perturbed_sensitivity(case, truth)
    errors = {(key, layer): rel for key, layer, rel in _relative_layer_errors(got, truth, case.dtype)}
    assert errors[("grad_weights", 2)] > 1e-5 + 100 * rho[("grad_weights", 2)]


def test_a_planted_error_on_the_cancelling_case_still_fails() -> None:
    case = _cancelling_case()
    got, truth = reference.backprop(case), reference.backprop_mp(case, digits=50)
    beta = rounding_bound(case)[("grad_weights", 2)]
    with pytest.raises(AssertionError, match="grad_weights at layer 2"):
        _assert_accurate(case, _planted(got, "grad_weights", 2, 100 * beta), truth, 1e-5)


@pytest.mark.parametrize(("dtype", "target"), [("float32", 1e-5), ("float64", 1e-13)])
def test_a_planted_error_on_an_ordinary_case_fails(dtype: str, target: float) -> None:
    case = _ordinary_case(dtype)
    got, truth = reference.backprop(case), reference.backprop_mp(case, digits=50)
    _assert_accurate(case, got, truth, target)  # the correct answer passes
    for key, layer in [("grad_weights", 2), ("grad_biases", 3), ("grad_weights", 4)]:
        with pytest.raises(AssertionError, match=f"{key} at layer {layer}"):
            _assert_accurate(case, _planted(got, key, layer, 1e-3), truth, target)


def test_the_rounding_bound_is_a_few_u_where_nothing_cancels() -> None:
    # By hand (tests/_conditioning.py's docstring) with n = m = 8 and every term positive, each bound
    # is (sum of k) u |exact| componentwise, to first order: delta^6: gamma_13 (residual) + gamma_5
    # (times sigma'), 18 u; each layer down adds gamma_8 + gamma_5, 13 u: delta^2 at 70 u; dC/db adds
    # gamma_9 (79 u at layer 2), dC/dw gamma_13 (83 u). So every bound is <= 84 u ~ 5e-6 < 1e-5.
    case = _well_conditioned_case()
    beta = rounding_bound(case)
    assert max(beta.values()) <= 84 * U32
    expected = {6: 18, 5: 31, 4: 44, 3: 57, 2: 70}
    for layer, k in expected.items():
        assert beta[("deltas", layer)] == pytest.approx(k * U32, rel=1e-5)
        assert beta[("grad_biases", layer)] == pytest.approx((k + 9) * U32, rel=1e-5)
        assert beta[("grad_weights", layer)] == pytest.approx((k + 13) * U32, rel=1e-5)
    got, truth = reference.backprop(case), reference.backprop_mp(case, digits=50)
    _assert_accurate(case, got, truth, 1e-5)
