"""large_model_check: directional for whole-tensor errors, central differences on a sample of entries.

One bounded network ([784, 30, 10], 23,860 parameters); the 1.8 M-parameter figures are in
benchmarks/gradcheck_heldout.py. Detection probabilities are recomputed here from the sample sizes.
"""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pytest

import reference
from reference import large_model_check
from reference.numerical import Problem, from_case

TOP, RANDOM = 8, 8


@pytest.fixture(scope="module")
def problem() -> Problem:
    net = reference.Network.random((784, 30, 10), ("sigmoid", "sigmoid"), seed=0)
    rng = np.random.default_rng(1)
    x = rng.random((10, 784))
    y = np.zeros((10, 10))
    y[np.arange(10), rng.integers(0, 10, 10)] = 1.0
    return from_case(net.case(x, y))


def _with(problem: Problem, tensor: int, index: int, factor: float) -> Problem:
    g = [np.array(a, copy=True) for a in problem.gradient]
    g[tensor].flat[index] *= factor
    return replace(problem, gradient=tuple(g))


def test_right_gradient_passes_and_coverage_is_stated(problem: Problem) -> None:
    result = large_model_check(problem, top=TOP, random=RANDOM)
    assert result.passed, result.message
    for t, p in enumerate(problem.params):
        n = p.size
        expected = min(RANDOM, n - min(TOP, n)) / (n - min(TOP, n)) if n > TOP else 1.0
        assert result.probabilities[t] == pytest.approx(expected), (t, result.probabilities)
    assert "entrywise coverage" in result.message and "one entry off by 1e-6 only" in result.message


def test_the_largest_entry_off_by_1e_minus_6_is_found(problem: Problem) -> None:
    t = 0  # w^2, 23,520 entries
    i = int(np.argmax(np.abs(problem.gradient[t])))
    result = large_model_check(_with(problem, t, i, 1 + 1e-6), top=TOP, random=RANDOM)
    assert result.failed and result.entrywise.failed, result.message
    report = result.entrywise.tensors[t]
    idx = tuple(int(v) for v in report.worst_index.strip("[]").split(", "))
    assert np.ravel_multi_index(idx, problem.params[t].shape) == i, result.message
    assert result.detection_probability(t, i) == 1.0


def test_an_unsampled_entry_is_invisible_and_its_probability_says_so(problem: Problem) -> None:
    # a small-|g| entry (90th percentile from the top), neither top nor drawn: its 1e-6 error moves
    # <g, d> far below the directional bound; the check passes, and claims only p = 8 / 23512 for it
    result = large_model_check(problem, top=TOP, random=RANDOM)
    t = 0
    chosen = set(np.asarray(result.entrywise.numeric.checked[t]).tolist())
    order = np.argsort(-np.abs(np.asarray(problem.gradient[t])).reshape(-1))
    i = int(next(j for j in order[9 * order.size // 10 :] if int(j) not in chosen))
    blind = large_model_check(_with(problem, t, i, 1 + 1e-6), top=TOP, random=RANDOM)
    assert not blind.failed, blind.message
    assert blind.detection_probability(t, i) == pytest.approx(RANDOM / (problem.params[t].size - TOP))


def test_a_flipped_bias_sign_is_caught_by_the_directional_mode(problem: Problem) -> None:
    g = [np.array(a, copy=True) for a in problem.gradient]
    g[3] = -g[3]
    result = large_model_check(replace(problem, gradient=tuple(g)), top=TOP, random=RANDOM)
    assert result.directional.failed and result.failed, result.message
    assert {c.tensor for c in result.directional.failures if c.tensor is not None} == {3}


def test_bad_arguments_are_named(problem: Problem) -> None:
    with pytest.raises(ValueError, match="top must be an int >= 0, got -1"):
        large_model_check(problem, top=-1)
    result = large_model_check(problem, top=TOP, random=RANDOM)
    with pytest.raises(IndexError, match=r"index must be in 0\.\.9 for b\^3"):
        result.detection_probability(3, 10)
