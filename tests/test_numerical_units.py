"""The building blocks on functions whose truth is known in closed form."""

from __future__ import annotations

import numpy as np

from reference.numerical import from_callable, signed_gaussian_direction
from reference.numerical.central import cost_noise
from reference.numerical.noise import noise_bound


def test_noise_bound_covers_injected_noise_and_only_that() -> None:
    # samples of a smooth cubic plus uniform noise in [-s, s]: the bound must cover s (the largest
    # possible error) and stay within a small factor of it; noise-free samples give the floor.
    rng = np.random.default_rng(0)
    t = np.arange(1, 10) * 2.0**-26
    smooth = 0.7 + 0.3 * t + 2.0 * t**2 - t**3
    for s in (1e-14, 1e-12):
        tables = [smooth + rng.uniform(-s, s, t.size) for _ in range(3)]
        bound = noise_bound(tables, 0.7, 2.0**-52)
        assert s <= bound <= 20 * s, (s, bound)
    # noise-free (only the cubic's own rounding): the floor 2 eps max|C|, within a factor 2
    floor = 2 * 2.0**-52 * float(np.max(smooth))
    assert floor <= noise_bound([smooth] * 3, 0.7, 2.0**-52) <= 2 * floor


def test_measured_noise_of_a_float_cost_is_a_few_ulps_of_c() -> None:
    # a sum of 1000 float64 terms of size ~1: rounding error ~ sqrt(1000) ulp, far below 1e-12
    rng = np.random.default_rng(1)
    a = rng.standard_normal(1000)
    problem = from_callable(lambda ps: float(np.sum(np.sin(a * ps[0]))), [np.ones(1000)], [np.zeros(1000)])
    c, noise = cost_noise(problem)
    assert 2 * 2.0**-52 * abs(c) <= noise <= 1e-12 * max(1.0, abs(c)), (c, noise)


def test_directions_are_signed_floored_seeded_and_exact_to_step() -> None:
    p = [np.array([[0.3, -7.0], [200.0, 0.0]]), np.zeros(10000)]
    d1 = signed_gaussian_direction(p, seed=4)
    d2 = signed_gaussian_direction(p, seed=4)
    assert all(np.array_equal(a, b) for a, b in zip(d1, d2, strict=True))  # reproducible from the seed
    big = d1[1]
    assert np.all(np.abs(big) >= 0.25)  # floor
    assert 0.45 < np.mean(big > 0) < 0.55  # both signs, about equally
    scale = np.array([[1.0, 8.0], [256.0, 1.0]])  # nearest powers of two of max(1, |p|)
    assert np.all(np.abs(d1[0]) >= 0.25 * scale)
    t = 2.0**-27
    for pi, di in zip(p, d1, strict=True):
        moved = pi + t * di
        assert np.array_equal(moved - pi, t * di)  # the step taken is the step divided by
    only = signed_gaussian_direction(p, seed=4, only=1)
    assert not np.any(only[0]) and np.all(only[1] != 0)
