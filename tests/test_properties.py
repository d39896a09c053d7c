"""Property tests over random architectures: the gradients are the true derivatives of the cost."""

from __future__ import annotations

import mpmath
import numpy as np
from hypothesis import assume, given, settings
from hypothesis import strategies as st

import reference
from reference import Case
from reference.strategies import cases

from ._conditioning import perturbed_sensitivity, rounding_bound
from ._mp_differences import DIGITS, H, directional_difference, layer_direction

ALL = cases(min_layers=2, max_layers=6, min_width=1, max_width=8, min_batch=1, max_batch=8)


def _near_relu_kink(case: Case, margin: float) -> bool:
    z = reference.forward(case).z
    return any(
        name == "relu" and bool(np.any(np.abs(zl) <= margin)) for name, zl in zip(case.activations, z, strict=True)
    )


def _dot(g: np.ndarray, d: np.ndarray) -> mpmath.mpf:
    return mpmath.fsum(mpmath.mpf(a) * mpmath.mpf(float(b)) for a, b in zip(g.ravel(), d.ravel(), strict=True))


@settings(max_examples=max(5, settings().max_examples // 2))  # mpmath differences: the costly one
@given(case=ALL, seed=st.integers(0, 2**16))
def test_gradients_equal_central_differences_of_the_cost(case: Case, seed: int) -> None:
    # A relu unit with z within reach of the step sits on a kink, where the cost has no derivative to
    # compare with (relu'(0) = 0 is a convention): those cases are for the kink-aware checks of
    # reference.numerical. 1e-10 is ten orders of magnitude above the step's reach.
    assume(not _near_relu_kink(case, 1e-10))
    # Bound and its derivation: tests/_mp_differences.py. <g, d> from the engine's mpmath backprop
    # must match D(h) to 1e-30 relative to S = max(|g| |d|, |C|, 1); the float64 backprop must
    # match it to 1e-13 |g| |d| (its norm-wise accuracy, checked below) plus the same 1e-30 S.
    mp = reference.backprop_mp(case, digits=DIGITS)
    f64 = reference.backprop(case)
    for i in range(len(case.weights)):
        dw, db = layer_direction(case, i, seed + i)
        with mpmath.workdps(DIGITS):
            g_dot_d = _dot(mp["grad_weights"][i], dw) + _dot(mp["grad_biases"][i], db)
            norm_g = mpmath.sqrt(
                mpmath.fsum(v**2 for v in mp["grad_weights"][i].ravel())
                + mpmath.fsum(v**2 for v in mp["grad_biases"][i].ravel())
            )
            norm_d = mpmath.sqrt(float(np.sum(dw**2) + np.sum(db**2)))
            scale = max(norm_g * norm_d, abs(mp["cost"]), 1)
            d_h = directional_difference(case, i, dw, db)
            d_10h = directional_difference(case, i, dw, db, 10 * H)
            layer = i + 2
            assert abs(d_10h - d_h) <= mpmath.mpf("1e-28") * scale, (
                f"layer {layer}: truncation not negligible, |D(10h) - D(h)| = {mpmath.nstr(abs(d_10h - d_h), 5)}"
            )
            err = abs(g_dot_d - d_h)
            assert err <= mpmath.mpf("1e-30") * scale, (
                f"layer {layer}: <dC/dparams, d> = {mpmath.nstr(g_dot_d, 20)} (mpmath backprop), but the "
                f"central difference is {mpmath.nstr(d_h, 20)}; error {mpmath.nstr(err, 3)}"
            )
            f64_dot = float(np.sum(f64["grad_weights"][i] * dw) + np.sum(f64["grad_biases"][i] * db))
            f64_err = abs(mpmath.mpf(f64_dot) - d_h)
            # float64 gradient error <= 1e-13 |g| (norm-wise); |<e, d>| <= |e| |d|; the float64 dot itself
            # adds at most n u |g| |d| with n <= 72 entries: 2e-14 |g| |d|.
            assert f64_err <= mpmath.mpf("1.2e-13") * norm_g * norm_d + mpmath.mpf("1e-30") * scale, (
                f"layer {layer}: float64 <dC/dparams, d> = {f64_dot!r}, central difference "
                f"{mpmath.nstr(d_h, 17)}, error {mpmath.nstr(f64_err, 3)}"
            )


def _relative_layer_errors(got: dict, truth: dict, dtype: str) -> list[tuple[str, int, float]]:
    """Norm-wise relative error per layer, with the underflow floor of the dtype.

    Rounding errors are relative only down to the smallest normal number (tiny); below it,
    each operation can lose up to tiny in absolute terms (a saturated float32 tanh' of 1e-58
    is exactly 0), amplified along the backward path by products of weights (< 1e4 here).
    So the error counted is max(0, |g - t| - 1e4 tiny) / |t|.
    """
    floor = 1e4 * float(np.finfo(dtype).tiny)
    out = []
    for key in ("grad_weights", "grad_biases", "deltas"):
        for i, (g, t) in enumerate(zip(got[key], truth[key], strict=True)):
            t64 = np.vectorize(float)(t)
            # ||g - t|| in float64 is exact enough here: both are rounded to float64 at 1e-16 relative.
            diff = max(0.0, float(np.linalg.norm(np.asarray(g, dtype=np.float64) - t64)) - floor)
            norm = float(np.linalg.norm(t64))
            out.append((key, i + 2, diff / norm if norm > 0 else (0.0 if diff == 0 else np.inf)))
    return out


def _assert_accurate(case: Case, got: dict, truth: dict, target: float) -> None:
    """Each layer within target + 100 rho + beta of the truth (rho: conditioning, beta: the rounding
    of intermediate values along the backward pass; both in tests/_conditioning.py)."""
    rho = perturbed_sensitivity(case, truth)
    beta = rounding_bound(case)
    for key, layer, rel in _relative_layer_errors(got, truth, case.dtype):
        tolerance = target + 100 * rho[(key, layer)] + beta[(key, layer)]
        assert rel <= tolerance, (
            f"{key} at layer {layer}: relative error {rel:.2e} > tolerance {tolerance:.2e} "
            f"({case.dtype} vs mpmath at 50 digits; target {target:g}, conditioning rho = {rho[(key, layer)]:.1e}, "
            f"rounding bound beta = {beta[(key, layer)]:.1e})"
        )


@given(case=ALL)
def test_float64_agrees_with_mpmath_at_50_digits(case: Case) -> None:
    # Backward-error analysis of the matrix products and elementwise formulas gives relative errors of
    # a few hundred u ~ 1e-14 for these sizes (widths <= 8, depth <= 6): the 1e-13 target holds with margin.
    truth = reference.backprop_mp(case, digits=50)
    got = reference.backprop(case)
    _assert_accurate(case, got, truth, 1e-13)
    assert abs(got["cost"] - float(truth["cost"])) <= 1e-13 * max(abs(float(truth["cost"])), 1e-300)


@given(case=cases(max_layers=6, max_width=8, dtypes=("float32",)))
def test_float32_agrees_with_mpmath_at_50_digits(case: Case) -> None:
    # Same analysis with u = 6e-8: a few hundred u ~ 1e-5. The mpmath truth is computed from the
    # same float32 inputs, so only the arithmetic's rounding is measured.
    got = reference.backprop(case)
    assert all(g.dtype == np.float32 for g in got["grad_weights"] + got["grad_biases"] + got["deltas"])
    truth = reference.backprop_mp(case, digits=50)
    _assert_accurate(case, got, truth, 1e-5)


@given(case=ALL)
def test_reduction_scales_gradients_but_not_deltas(case: Case) -> None:
    mean = reference.backprop(case.replace(reduction="mean"))
    total = reference.backprop(case.replace(reduction="sum"))
    m = case.m
    for a, b in zip(mean["deltas"], total["deltas"], strict=True):
        np.testing.assert_array_equal(a, b)
    # The two reductions are two different sums of m terms (each with error <= (m - 1) u sum|terms|),
    # "mean" scales by 1/m (u) and m * mean multiplies once more (u): (2m) u sum|terms| in all.
    u = np.finfo(np.float64).eps / 2
    for i in range(len(case.weights)):
        delta, a_prev = np.abs(total["deltas"][i]), np.abs(reference.forward(case).a[i])
        bounds = {"grad_weights": delta.T @ a_prev, "grad_biases": delta.sum(axis=0)}
        for key, magnitude in bounds.items():
            err = np.abs(m * mean[key][i] - total[key][i])
            bound = 2 * m * u * magnitude + 1e-300
            assert np.all(err <= bound), f"{key}[{i}]: {err.max():.2e} > 2 m u sum|terms|"
    assert abs(m * mean["cost"] - total["cost"]) <= 4.5e-16 * abs(total["cost"])


@settings(max_examples=max(5, settings().max_examples * 3 // 4))
@given(case=cases(max_layers=4, max_width=5, max_batch=5))
def test_batch_gradient_is_the_reduction_of_per_sample_gradients(case: Case) -> None:
    # An identity of exact arithmetic (equations 3 and 4 sum over the batch), so it is checked at
    # 30 digits, where rounding (~1e-30 relative to the sum of magnitudes) cannot hide a wrong term;
    # in float64 the batched and one-row matrix products round differently.
    whole = reference.backprop_mp(case.replace(reduction="sum"), digits=30)
    singles = [
        reference.backprop_mp(case.replace(reduction="sum", x=case.x[j : j + 1], y=case.y[j : j + 1]), digits=30)
        for j in range(case.m)
    ]
    with mpmath.workdps(30):  # arithmetic on the results must keep their precision
        _assert_batch_is_sum_of_singles(case, whole, singles)


def _assert_batch_is_sum_of_singles(case: Case, whole: dict, singles: list[dict]) -> None:
    tol = mpmath.mpf("1e-25")
    for i in range(len(case.weights)):
        stacked = np.vstack([s["deltas"][i] for s in singles])
        scale = max([abs(v) for v in stacked.ravel()] + [mpmath.mpf(1e-300)])
        pairs = zip(whole["deltas"][i].ravel(), stacked.ravel(), strict=True)
        assert all(abs(a - b) <= tol * scale for a, b in pairs), (
            f"deltas at layer {i + 2} of the batch differ from those of single samples"
        )
        for key in ("grad_weights", "grad_biases"):
            summed = sum(s[key][i] for s in singles)
            magnitude = sum(np.abs(s[key][i]) for s in singles)
            for index in np.ndindex(summed.shape):
                err = abs(whole[key][i][index] - summed[index])
                assert err <= tol * magnitude[index] + mpmath.mpf(1e-300), (
                    f"{key}[{i}]{list(index)} (layer {i + 2}): batch {mpmath.nstr(whole[key][i][index], 15)}, "
                    f"but the sum of single-sample gradients is {mpmath.nstr(summed[index], 15)}"
                )
