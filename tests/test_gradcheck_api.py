"""gradcheck's interface: targets it accepts, what it returns, how it refuses bad input."""

from __future__ import annotations

import numpy as np
import pytest

import reference
from reference.gradcheck import GradcheckResult, gradcheck
from reference.numerical import central_steps, format_step
from reference.numerical.richardson import extrapolate


def _net() -> tuple[reference.Network, np.ndarray, np.ndarray]:
    net = reference.Network.random((3, 4, 2), ("tanh", "sigmoid"), seed=2)
    rng = np.random.default_rng(2)
    return net, rng.standard_normal((4, 3)), rng.random((4, 2))


def _quartic(params: list[np.ndarray]) -> float:
    a, b = params
    return float(np.sum(np.sin(a) * a**2) + np.sum(b**4) / 4)


def _quartic_grad(params: list[np.ndarray]) -> list[np.ndarray]:
    a, b = params
    return [np.cos(a) * a**2 + 2 * a * np.sin(a), b**3]


def test_network_with_batch_and_case_give_the_same_verdict() -> None:
    net, x, y = _net()
    by_net = gradcheck(net, x=x, y=y)
    by_case = gradcheck(net.case(x, y))
    assert by_net.passed and by_case.passed
    assert [t.name for t in by_net.tensors] == ["w^2", "b^2", "w^3", "b^3"]
    assert [t.layer for t in by_net.tensors] == [2, 2, 3, 3]


def test_callable_target_with_gradient_list_or_function() -> None:
    rng = np.random.default_rng(0)
    params = [rng.standard_normal((3, 2)), rng.standard_normal(4) * 3]
    for gradient in (_quartic_grad(params), _quartic_grad):
        result = gradcheck(_quartic, params=params, gradient=gradient, names=["a", "b"])
        assert result.passed, result.message
        assert [t.name for t in result.tensors] == ["a", "b"]
    wrong = _quartic_grad(params)
    wrong[1] = wrong[1] * (1 + 1e-6)
    result = gradcheck(_quartic, params=params, gradient=wrong, names=["a", "b"])
    assert not result.passed and [t.name for t in result.failures] == ["b"], result.message


def test_complex_step_on_a_callable_needs_a_complex_cost() -> None:
    params = [np.linspace(-1, 1, 6).reshape(3, 2), np.array([0.5, -2.0])]
    with pytest.raises(TypeError, match="complex_cost"):
        gradcheck(_quartic, params=params, gradient=_quartic_grad, method="complex_step")

    def complex_quartic(ps: list[np.ndarray]) -> complex:
        a, b = ps
        return complex(np.sum(np.sin(a) * a**2) + np.sum(b**4) / 4)

    result = gradcheck(
        _quartic, params=params, gradient=_quartic_grad, complex_cost=complex_quartic, method="complex_step"
    )
    assert result.passed, result.message


def test_result_is_not_a_bool() -> None:
    net, x, y = _net()
    result = gradcheck(net, x=x, y=y)
    assert isinstance(result, GradcheckResult)
    with pytest.raises(TypeError, match="not a bool"):
        bool(result)
    result.raise_for_failure()  # passes silently
    assert str(result) == result.message and result.message.startswith("gradcheck (central")


def test_float32_case_is_judged_by_its_own_rounding() -> None:
    # float32 analytic gradient, float64 witness: passes; a 1e-3 relative error (>> float32's ~1e-6) fails
    net, x, y = _net()
    net32 = reference.Network(
        net.sizes,
        net.activations,
        dtype="float32",
        weights=[w.astype("float32") for w in net.weights],
        biases=[b.astype("float32") for b in net.biases],
    )
    case = net32.case(x.astype("float32"), y.astype("float32"))
    result = gradcheck(case)
    assert result.passed, result.message
    from dataclasses import replace

    from reference.gradcheck import judge_gradient
    from reference.numerical import central_differences, from_case

    problem = from_case(case)
    g = [np.array(t, copy=True) for t in problem.gradient]
    g[2].flat[int(np.argmax(np.abs(g[2])))] *= 1 + 1e-3
    bad = judge_gradient(replace(problem, gradient=tuple(g)), central_differences(problem))
    assert not bad.passed and bad.failures[0].name == "w^3", bad.message


def test_inputs_are_never_mutated() -> None:
    net, x, y = _net()
    case = net.case(x, y)
    before = [np.array(a, copy=True) for a in (*case.weights, *case.biases, case.x, case.y)]
    for method in ("central", "complex_step"):
        gradcheck(case, method=method)
    after = [*case.weights, *case.biases, case.x, case.y]
    assert all(np.array_equal(b, a) for b, a in zip(before, after, strict=True))


@pytest.mark.parametrize(
    ("kwargs", "error", "match"),
    [
        ({"method": "forward"}, ValueError, "method must be one of"),
        ({"params": [np.zeros(2)], "gradient": [np.zeros(3)]}, ValueError, r"gradient\[0\] has shape \(3,\)"),
        ({"params": [np.zeros(2)], "gradient": [np.zeros(2), np.zeros(1)]}, ValueError, "gradient has 2 tensors"),
        ({"params": [np.zeros(2, dtype=int)], "gradient": [np.zeros(2)]}, TypeError, "float32 or float64"),
    ],
)
def test_bad_input_is_refused_with_a_message(kwargs: dict, error: type, match: str) -> None:
    with pytest.raises(error, match=match):
        gradcheck(_quartic, **kwargs) if "params" in kwargs else gradcheck(_net()[0].case(*_net()[1:]), **kwargs)


def test_callable_without_params_is_refused() -> None:
    with pytest.raises(TypeError, match="params="):
        gradcheck(_quartic)


def test_mpmath_method_needs_a_reference_case() -> None:
    with pytest.raises(TypeError, match="reference case"):
        gradcheck(_quartic, params=[np.ones(2)], gradient=[np.ones(2)], method="mpmath")


def test_steps_are_powers_of_two_scaled_to_the_parameter() -> None:
    p = np.array([0.0, 0.7, 1.0, 3.0, -100.0])
    h = central_steps(p, "float64")
    # eps^(1/3) = 2^(-52/3) = 2^-17.33; x3: 2^-15.75 -> 2^-16; x100: 2^-10.69 -> 2^-11
    assert [format_step(v) for v in h] == ["2^-17", "2^-17", "2^-17", "2^-16", "2^-11"]
    # float32: eps^(1/3) = 2^(-23/3) = 2^-7.67 -> 2^-8
    assert format_step(float(central_steps(np.array([0.5]), "float32")[0])) == "2^-8"


def test_richardson_removes_the_h2_term_and_bounds_its_error() -> None:
    # D(h) = (e^h - e^-h)/2h = 1 + h^2/6 + h^4/120 + ...: derivative of exp at 0 is 1
    h = 2.0**-4 * 2.0 ** np.arange(3)
    d = (np.exp(h) - np.exp(-h)) / (2 * h)
    ex = extrapolate(d, power=2)
    assert abs(ex.best - 1) < abs(ex.previous - 1) < abs(d[0] - 1)
    assert abs(ex.best - 1) <= ex.truncation
    assert np.isclose(ex.weights.sum(), 1.0)  # an extrapolation of a constant is that constant


def test_float32_callable_is_witnessed_in_float32_with_float32_tolerances() -> None:
    # a float32 cost: first step 2^-8 (eps32^(1/3)), moved by the step search when rounding dominates;
    # bounds ~eps32^(2/3) ~ 1e-5..1e-4 relative (never float64's ~1e-10); a 1e-2 error fails
    rng = np.random.default_rng(0)
    a_mat = rng.standard_normal((5, 4)).astype(np.float32)

    def cost(ps: list[np.ndarray]) -> float:
        return float(np.sum(np.tanh(a_mat @ ps[0]) ** 2, dtype=np.float32))

    def grad(ps: list[np.ndarray]) -> list[np.ndarray]:
        t = np.tanh(a_mat @ ps[0])
        return [(a_mat.T @ (2 * t * (1 - t * t))).astype(np.float32)]

    p = [rng.standard_normal(4).astype(np.float32)]
    ok = gradcheck(cost, params=p, gradient=grad)
    assert ok.passed and 2.0**-12 <= ok.tensors[0].worst_step <= 2.0**-4, ok.message
    assert 1e-7 < ok.tensors[0].worst_tolerance < 1e-2, ok.message
    g = grad(p)
    g[0][0] *= 1.01
    bad = gradcheck(cost, params=p, gradient=g)
    assert not bad.passed and bad.tensors[0].worst_index == "[0]", bad.message


def test_directional_check_on_a_callable_names_the_wrong_tensor() -> None:
    from reference.numerical import directional_check

    rng = np.random.default_rng(1)
    params = [rng.standard_normal((3, 2)), rng.standard_normal(4)]
    assert directional_check(_quartic, params=params, gradient=_quartic_grad).passed
    g = _quartic_grad(params)
    g[0] = -g[0]
    result = directional_check(_quartic, params=params, gradient=g, names=["a", "b"])
    assert [c.scope for c in result.failures if c.tensor is not None] == ["a", "a"], result.message
