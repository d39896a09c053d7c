"""The generated space covers what the contract allows (issue 18, item 3).

Quadratic targets anywhere on the real line (negative, above 1, exactly 0 and 1, large),
learning rates from exactly 0 over the whole range float32 can take a step of, repeated
samples in --quick batches too. The bugs of tests/broken_impls/space.py each hide in one
of those regions (and conformed before: the suite drew y from [0, 1) only, eta from
[1e-3, 10] only, and repeated rows only by accident of the default run); the correct base
implementation is the control that each of these runs must pass.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest
from hypothesis import Phase, given, seed, settings

import reference
from conformance import check_implementation
from conformance.frontends.runner import search_settings
from reference.strategies import Architecture, cases, learning_rates, make_case
from reference.validation import validate

from .broken_impls import Backprop
from .broken_impls.space import SPACE_BUGS

QUICK = search_settings(None, 0, quick=True)


# Each (dtype, regime) group draws from its own seed (conformance.cases.search), so a group fails
# alone exactly as it fails inside the whole run: a bug rejected by these groups is rejected by
# --quick and by the default run. Fewer groups only to keep the shrinking of five bugs short.
QUICK_GROUPS = ["typical", "saturating", "square"]
DEFAULT_GROUPS = ["typical"]


def _run(impl: Any, quick: bool) -> Any:
    regimes = QUICK_GROUPS if quick else DEFAULT_GROUPS
    return check_implementation(
        impl, quick=quick, failures_dir=None, dtypes=["float64"], regimes=regimes, in_process=True
    )


@pytest.mark.suite
@pytest.mark.parametrize("quick", [True, False], ids=["quick", "default"])
def test_the_correct_control_conforms(quick: bool) -> None:
    report = _run(Backprop(), quick)
    assert report.ok, report.format()


@pytest.mark.suite
@pytest.mark.parametrize("quick", [True, False], ids=["quick", "default"])
@pytest.mark.parametrize("broken", SPACE_BUGS, ids=lambda cls: cls.__name__)
def test_a_bug_in_a_region_once_never_generated_is_rejected(broken: type[Backprop], quick: bool) -> None:
    report = _run(broken(), quick)
    assert not report.ok, f"{broken.__name__} conforms"


def _draws(cost: str, n_cases: int = 200, m: int = 4, n: int = 3) -> list[np.ndarray]:
    output = {"quadratic": "identity", "cross_entropy": "sigmoid", "log_likelihood": "softmax"}[cost]
    arch = Architecture((2, n), (output,), cost)
    return [make_case(arch, "typical", m=m, seed=s).y for s in range(n_cases)]


def test_quadratic_targets_reach_the_whole_real_line() -> None:
    y = np.concatenate([t.ravel() for t in _draws("quadratic")])
    assert (y < 0).mean() > 0.1 and (y > 1).mean() > 0.1
    assert (y == 0).mean() > 0.1 and (y == 1).mean() > 0.1
    assert ((y >= 0) & (y < 1) & (y != 0)).mean() > 0.1  # the textbook's range is still drawn
    assert np.abs(y).max() > 1e3 and np.isfinite(y).all()


def test_whole_rows_of_zero_targets_are_drawn() -> None:
    rows = np.concatenate(_draws("quadratic"))
    assert (rows == 0).all(axis=1).sum() >= 20


def test_the_other_costs_keep_their_constraints() -> None:
    """cross_entropy: 0 <= y <= 1; log_likelihood: rows are probability vectors (CONTRACT.md section 2)."""
    for y in _draws("cross_entropy"):
        assert ((y >= 0) & (y <= 1)).all()
    for y in _draws("log_likelihood"):
        assert (y >= 0).all() and np.allclose(y.sum(axis=1), 1.0)


@pytest.mark.parametrize("cost", ["quadratic", "cross_entropy", "log_likelihood"])
def test_every_drawn_case_is_valid(cost: str) -> None:
    output = {"quadratic": "tanh", "cross_entropy": "sigmoid", "log_likelihood": "softmax"}[cost]
    for s in range(100):
        for dtype in ("float64", "float32"):
            case = make_case(Architecture((3, 4, 2), ("relu", output), cost), "typical", m=5, seed=s, dtype=dtype)
            validate(case)  # raises on a target the cost does not allow


def test_quick_batches_repeat_samples() -> None:
    """Repeated rows of x, with the row's y and with another y, in batches of --quick's sizes."""
    same_y = other_y = 0
    arch = Architecture((2, 3, 2), ("tanh", "identity"), "quadratic")
    for s in range(200):
        case = make_case(arch, "typical", m=int(2 + s % (QUICK.max_batch - 1)), seed=s)
        x, y = np.asarray(case.x), np.asarray(case.y)
        for i in range(len(x)):
            for j in range(i):
                if np.array_equal(x[i], x[j]):
                    same_y += np.array_equal(y[i], y[j])
                    other_y += not np.array_equal(y[i], y[j])
    assert same_y >= 20 and other_y >= 20


def test_learning_rates_include_zero_and_the_wide_range() -> None:
    etas: list[float] = []

    @seed(3)
    @settings(max_examples=300, database=None, phases=[Phase.generate])
    @given(learning_rates())
    def run(eta: float) -> None:
        etas.append(eta)

    run()
    assert sum(e == 0.0 for e in etas) >= 10
    assert sum(e > 10.0 for e in etas) >= 5 and sum(0 < e < 1e-3 for e in etas) >= 5
    assert all(np.isfinite(e) and e >= 0 for e in etas)


def test_the_reference_is_right_on_the_new_regions() -> None:
    """Large, negative, zero targets and eta = 0 through the reference: the truth the suite judges by."""

    @seed(5)
    @settings(max_examples=60, database=None, deadline=None, phases=[Phase.generate])
    @given(cases(costs=["quadratic"], dtypes=("float64",)))
    def run(case: Any) -> None:
        step = reference.sgd_step(case, 0.0)
        for new, old in zip(step["weights"] + step["biases"], list(case.weights) + list(case.biases), strict=True):
            assert np.array_equal(new, old)

    run()
