"""The prepared pass's fused common case (``prepared._Plan``): three comparisons that stand in for
``_certified``'s five, held to them.

* The derivation: wherever a plan's three comparisons admit a batch (m rows, A_1 = kappa ||x||^2, C),
  the five bounds of ``_Bounds.fast`` (written out here from their docstring, in exact rationals)
  are below half the limit, on networks whose constants span the float range in both dtypes and
  reductions, at and around each threshold. Negative control: a plan derived as if every batch
  had one row admits batches of more rows whose bounds pass the limit itself.
* The path: the seed's workload is answered by the plan alone (no ``plain_batch``, no ``_certified``,
  no checked path), bit for bit ``reference.backprop``'s; an awkward dtype equal to the network's
  but not the same object takes it too. Negative control: a plan that does not read x lets a finite
  x's overflowing gradient through, which the real plan names as ``reference.backprop`` does.
"""

from __future__ import annotations

import itertools
import math
from fractions import Fraction
from typing import Any

import numpy as np
import pytest

import reference
from reference import prepared, validation
from reference.case import Network
from tests._outcomes import outcome

LARGEST = {"float64": float(np.finfo(np.float64).max), "float32": float(np.finfo(np.float32).max)}


def _five_exact(fast: tuple[Any, ...], m: int, a_1: float, cost: float) -> list[Fraction] | None:
    """``_Bounds.fast``'s five bounds (Z_2, the other Z_l, D q_one, D q_rows t, dC/dw^2's), as the
    exact real numbers ``_scalar_certificate``'s proof bounds (floats are exact rationals); None
    for a C that is not finite."""
    z_weight, z_bias, forward, output, q_one, q_rows, q_x, _, mean = (
        v if isinstance(v, bool) else Fraction(v) for v in fast
    )
    if not math.isfinite(cost):
        return None
    c, a = Fraction(cost), Fraction(a_1)
    t = Fraction(1, m) if mean else Fraction(m)
    d = output * (Fraction(2.001) * c * (m if mean else 1) + 1)
    return [
        Fraction(z_weight * a + z_bias * m),
        Fraction(forward * m),
        Fraction(d * q_one),
        Fraction(d * q_rows * t),
        Fraction(q_x * a * d * (t * t if mean else 1)),
    ]


def _five_below(fast: tuple[Any, ...], m: int, a_1: float, cost: float, share: Fraction) -> bool:
    """Every bound below ``share`` times the limit."""
    bounds = _five_exact(fast, m, a_1, cost)
    return bounds is not None and all(b < Fraction(fast[7]) * share for b in bounds)


def _admits(plan: prepared._Plan, a_1: float, cost: float) -> bool:
    """The plan's three comparisons, as its docstring states them (m <= m_cap is the caller's)."""
    return 0.0 <= cost < plan.c_max and a_1 < plan.x_max and a_1 * (2.001 * cost + 1.0) < plan.p_max


def _one_row_plan(net: prepared.Prepared) -> prepared._Plan | None:
    """Negative control: ``_plan_of`` as if every batch had one row (M_cap = 1, t_cap = 1, z_b and
    f times 1), which a batch of m_cap rows then exceeds."""
    bounds = net._bounds
    assert bounds is not None and bounds.fast is not None
    z_weight, z_bias, forward, output, q_one, q_rows, q_x, limit, _ = bounds.fast
    h = max(output * max(q_one, q_rows), 1.0)
    if not (z_bias <= limit / 4 and forward <= limit / 4 and h <= limit / 8):
        return None
    return prepared._Plan(
        n_1=net.sizes[0],
        n_L=net.sizes[-1],
        dtype=np.dtype(net.dtype),
        m_cap=min(bounds.m_max, net.sizes[1]),
        c_max=limit / (8 * 2.001 * h),
        x_max=limit / (4 * max(z_weight, 1.0)),
        p_max=limit / (4 * max(q_x * output, 1.0)),
    )


def _networks() -> list[prepared.Prepared]:
    """Bounded hidden layers and the quadratic cost (where a plan can exist), in both dtypes and
    reductions, with weights and biases scaled from tiny to near the edge of the range."""
    nets = []
    for dtype, reduction, acts in itertools.product(
        ("float64", "float32"), ("mean", "sum"), (("sigmoid", "sigmoid"), ("tanh", "identity"))
    ):
        base = Network.random((6, 5, 3), acts, reduction=reduction, dtype=dtype, seed=9)
        top = math.log2(LARGEST[dtype])
        for w_exp, b_exp in ((0, 0), (top / 4, top / 4), (top / 2 - 4, 1), (1, top / 2 - 3)):
            w = [(v.astype(np.float64) * 2.0**w_exp).astype(dtype) for v in base.weights]
            b = [(v.astype(np.float64) * 2.0**b_exp).astype(dtype) for v in base.biases]
            nets.append(reference.prepare(base).with_parameters(w, b))
    return nets


def _edges(plan: prepared._Plan) -> tuple[list[float], list[float]]:
    """A_1 and C values at, just below and just above every threshold they meet, and ordinary ones."""
    near = [1.0 - 2.0**-40, 1.0, 1.0 + 2.0**-40, 0.5, 2.0]
    below = 1.0 - 2.0**-40
    a_1 = [0.0, 1e3, *(plan.x_max * f for f in near)]
    cost = [0.0, 1e6, *(plan.c_max * f for f in near)]
    for c in (0.0, 1e6, plan.c_max * below):  # where A_1 (2.001 C + 1) meets p_max
        a_1 += [plan.p_max / (2.001 * c + 1.0) * f for f in near]
    for a in (1e3, plan.x_max * below):
        cost += [(plan.p_max / a - 1.0) / 2.001 * f for f in near]
    return [v for v in a_1 if math.isfinite(v)], [v for v in cost if math.isfinite(v)]


def _violations(plan_of: Any, share: Fraction) -> tuple[list[tuple[Any, ...]], int]:
    """(m, A_1, C) that ``plan_of``'s plan admits where some bound is not below ``share`` times the
    limit; and how many it admitted."""
    bad, admitted = [], 0
    for net in _networks():
        bounds = net._bounds
        assert bounds is not None and bounds.fast is not None
        plan = plan_of(net)
        if plan is None:
            continue
        a_1s, costs = _edges(plan)
        for m in sorted({1, 2, plan.m_cap}):
            for a_1, cost in itertools.product(a_1s, costs):
                if _admits(plan, a_1, cost):
                    admitted += 1
                    if not _five_below(bounds.fast, m, a_1, cost, share):
                        bad.append((net.dtype, net.reduction, m, a_1, cost))
    return bad, admitted


def test_wherever_a_plan_admits_a_batch_the_five_bounds_are_below_half_the_limit() -> None:
    """``_Plan``'s claim: below L / 2 exactly, a factor 2 under the limit for the rounding of the
    comparisons on either side; ``_scalar_certificate``'s proof needs them below L."""
    bad, admitted = _violations(prepared._plan_of, Fraction(1, 2))
    assert bad == []
    assert admitted > 1000  # not vacuous: the plans admit batches at and near their thresholds


def test_negative_control_a_plan_for_one_row_admits_batches_past_the_limit() -> None:
    bad, _ = _violations(_one_row_plan, Fraction(1))
    assert bad
    assert {m for _, _, m, _, _ in bad} - {1}  # the longer batches, which that plan forgot


def test_the_scaled_networks_have_plans_and_some_refuse_one() -> None:
    """The networks above reach both outcomes of ``_plan_of``: a plan, and none (a bound past its share)."""
    plans = [prepared._plan_of(net) for net in _networks()]
    assert any(p is not None for p in plans) and any(p is None for p in plans)


def _finite(out: tuple[object, ...], dtype: str) -> bool:
    assert out[0] == "result", out
    arrays = [np.frombuffer(b, dtype=dtype) for b in out[2:] if isinstance(b, bytes)]
    return math.isfinite(float(out[1])) and all(bool(np.all(np.isfinite(a))) for a in arrays)  # type: ignore[arg-type]


def test_the_seeds_workload_is_answered_by_the_plan_alone(monkeypatch: pytest.MonkeyPatch) -> None:
    net = reference.prepare(Network.random((784, 30, 10), ("sigmoid", "sigmoid"), seed=1))
    rng = np.random.default_rng(0)
    x, y = rng.random((10, 784)), rng.random((10, 10))
    want = outcome(lambda: reference.backprop(net.case(x, y)))
    assert net._plan is not None

    def refuse(*args: Any, **kwargs: Any) -> Any:
        raise AssertionError("the common case left the plan")

    for name in ("_certified", "_checked_pass", "_x_square"):
        monkeypatch.setattr(prepared, name, refuse)
    monkeypatch.setattr(validation, "plain_batch", refuse)
    monkeypatch.setattr(prepared.Prepared, "_backprop", refuse)
    assert outcome(lambda: net.backprop(x, y)) == want
    equal_dtype = np.dtype(np.float64, metadata={"awkward": True})  # == float64, not the same object
    assert equal_dtype == np.float64 and equal_dtype is not np.dtype(np.float64)
    assert outcome(lambda: net.backprop(x.astype(equal_dtype), y.astype(equal_dtype))) == want


def _huge_x_case(dtype: str) -> tuple[prepared.Prepared, np.ndarray, np.ndarray]:
    """Sigmoid layers (a plan), w^2's last column 0 and x's last column near the largest float, y
    of 100 (delta^2 of about 1 and more): z, a, every delta and C are ordinary, dC/dw^2 is not."""
    base = Network.random((5, 4, 3), ("sigmoid", "sigmoid"), dtype=dtype, seed=5)
    w = [v.copy() for v in base.weights]
    w[0][:, -1] = 0.0
    w[1] = (w[1].astype(np.float64) * 40).astype(dtype)
    net = reference.prepare(base).with_parameters(w, base.biases)
    rng = np.random.default_rng(3)
    x = rng.random((2, 5)).astype(dtype)
    x[:, -1] = np.asarray(LARGEST[dtype] * 0.9, dtype=dtype)
    return net, x, np.full((2, 3), 100.0, dtype=dtype)


@pytest.mark.parametrize("dtype", ["float64", "float32"])
def test_a_finite_x_whose_gradient_overflows_is_named_by_the_plans_path(dtype: str) -> None:
    net, x, y = _huge_x_case(dtype)
    assert net._plan is not None and x.shape[0] <= net._plan[3]  # the plan's case
    got = outcome(lambda: net.backprop(x, y))
    assert got[0] == "FloatingPointError" and f"left the range of {dtype}" in str(got[1]), got
    assert got == outcome(lambda: reference.backprop(net.case(x, y)))


class _NotReadingX:
    """numpy, as prepared.py sees it, but ||x||^2 is 1 whatever x holds."""

    def __getattr__(self, name: str) -> Any:
        return (lambda a, b: 1.0) if name == "vdot" else getattr(np, name)


@pytest.mark.parametrize("dtype", ["float64", "float32"])
def test_negative_control_a_plan_that_does_not_read_x_returns_the_overflow(
    monkeypatch: pytest.MonkeyPatch, dtype: str
) -> None:
    monkeypatch.setattr(prepared, "np", _NotReadingX())
    net, x, y = _huge_x_case(dtype)
    assert not _finite(outcome(lambda: net.backprop(x, y)), dtype)
