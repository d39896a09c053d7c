"""Proofs of the four equations for every activation/cost combination, and negative controls:
planted wrong equations must be disproven (never proven), and an unprovable identity must
come out "not proven"."""

from __future__ import annotations

import mpmath
import numpy as np
import pytest
import sympy as sp

from reference import engine
from reference.case import Layers
from symbolic import derive, formulas, functions, network, prove
from symbolic.prove import judge_difference
from symbolic.render import render_proof
from symbolic.spec import make_spec
from symbolic.zero import find_nonzero, simplifies_to_zero

HIDDEN = ("sigmoid", "tanh", "relu", "identity", "softplus", "sigma")
OUTPUTS = (
    ("sigmoid", "quadratic"),
    ("tanh", "quadratic"),
    ("relu", "quadratic"),
    ("identity", "quadratic"),
    ("softplus", "quadratic"),
    ("sigma", "quadratic"),
    ("softmax", "quadratic"),
    ("sigmoid", "cross_entropy"),
    ("sigma", "cross_entropy"),
    ("softmax", "log_likelihood"),
)


def expected_counts(sizes: tuple[int, ...], closed: bool) -> dict[str, int]:
    """How many checks each equation must have: one per unit, weight or bias (counted here
    from the sizes alone, not from the prover)."""
    hidden = sizes[1:-1]
    pairs = list(zip(sizes[:-1], sizes[1:], strict=True))
    counts = {
        "eq1": sizes[-1],
        "eq2": sum(hidden),
        "eq3": sum(sizes[1:]),
        "eq4": sum(a * b for a, b in pairs),
        "eq3-batch": sum(sizes[1:]),
        "eq4-batch": sum(a * b for a, b in pairs),
    }
    if closed:
        counts["eq1-closed"] = sizes[-1]
    return counts


@pytest.mark.parametrize("hidden", HIDDEN)
@pytest.mark.parametrize(("output", "cost"), OUTPUTS)
def test_every_combination_is_proven(hidden: str, output: str, cost: str) -> None:
    sizes = (2, 2, 2)
    proof = prove(sizes, [hidden, output], cost)
    assert proof.failures() == [], [(c.equation, c.layer, c.unit, c.verdict) for c in proof.failures()]
    assert proof.verdict == "proven"
    got: dict[str, int] = {}
    for c in proof.checks:
        got[c.equation] = got.get(c.equation, 0) + 1
    closed = (output, cost) in {("sigmoid", "cross_entropy"), ("softmax", "log_likelihood")}
    assert got == expected_counts(sizes, closed)


@pytest.mark.parametrize(
    ("sizes", "activations", "cost", "reduction"),
    [
        ((3, 2, 2, 3), ("tanh", "sigmoid", "softmax"), "log_likelihood", "sum"),
        ((1, 3, 1), ("relu", "identity"), "quadratic", "sum"),
        ((2, 3, 2, 2, 1), ("sigma", "softplus", "sigma", "sigmoid"), "cross_entropy", "mean"),
        ((4, 1, 3), ("softplus", "softmax"), "quadratic", "mean"),
    ],
)
def test_deeper_and_uneven_architectures(
    sizes: tuple[int, ...], activations: tuple[str, ...], cost: str, reduction: str
) -> None:
    proof = prove(sizes, activations, cost, reduction)
    assert proof.verdict == "proven", [(c.equation, c.layer, c.unit) for c in proof.failures()]
    layers = {c.layer for c in proof.checks if c.equation == "eq2"}
    assert layers == set(range(2, len(sizes)))


def test_batch_checks_carry_the_reduction_scale() -> None:
    """The batch form of equation 4 is s * sum_x a delta with s = 1/2 (mean, m = 2) or 1 (sum)."""
    for reduction, scale in (("mean", sp.Rational(1, 2)), ("sum", sp.Integer(1))):
        proof = prove((1, 1), ["identity"], "quadratic", reduction)
        (check,) = [c for c in proof.checks if c.equation == "eq4-batch"]
        a1, a2 = network.a(1, 1, 1), network.a(1, 1, 2)
        d1, d2 = network.delta(2, 1, 1), network.delta(2, 1, 2)
        assert sp.expand(check.derived - scale * (a1 * d1 + a2 * d2)) == 0


# --- the seed's typo -------------------------------------------------------------------------


def _engine_deltas_mp(
    values: dict[str, sp.Rational], sizes: tuple[int, ...], activations: tuple[str, ...], cost: str
) -> list[np.ndarray]:
    """The reference engine's per-sample deltas at the counterexample's exact point, in mpmath."""

    def mp(name: str) -> mpmath.mpf:
        v = values[name]
        return mpmath.mpf(int(v.p)) / int(v.q)

    weights, biases = [], []
    for l in range(2, len(sizes) + 1):
        w = np.empty((sizes[l - 1], sizes[l - 2]), dtype=object)
        for j in range(sizes[l - 1]):
            for k in range(sizes[l - 2]):
                w[j, k] = mp(str(network.w(l, j + 1, k + 1)))
        b = np.empty(sizes[l - 1], dtype=object)
        for j in range(sizes[l - 1]):
            b[j] = mp(str(network.b(l, j + 1)))
        weights.append(w)
        biases.append(b)
    x = np.empty((1, sizes[0]), dtype=object)
    x[0, :] = [mp(str(network.x(k + 1))) for k in range(sizes[0])]
    y = np.empty((1, sizes[-1]), dtype=object)
    y[0, :] = [mp(str(network.y(j + 1))) for j in range(sizes[-1])]
    return engine.backpropagate(Layers(weights, biases, activations, cost, "sum"), x, y).deltas


@pytest.mark.parametrize(
    ("sizes", "activations", "cost"),
    [
        ((2, 3, 2), ("sigmoid", "sigmoid"), "quadratic"),
        ((2, 2, 2, 2), ("tanh", "relu", "softmax"), "log_likelihood"),
    ],
)
def test_seed_typo_is_disproven_with_a_concrete_counterexample(
    sizes: tuple[int, ...], activations: tuple[str, ...], cost: str
) -> None:
    proof = prove(sizes, activations, cost, hidden_rule="seed-typo")
    assert proof.verdict == "disproven"
    verdicts = proof.verdicts()
    for l in range(2, len(sizes)):
        assert verdicts[("eq2-typo", l)] == "disproven"
    # everything that does not involve the typo is still proven
    assert all(c.verdict == "proven" for c in proof.checks if c.equation != "eq2-typo")
    assert {cx.layer for cx in proof.counterexamples} == set(range(2, len(sizes)))
    with mpmath.workdps(50):
        for cx in proof.counterexamples:
            # The true delta is recomputed independently by the engine (exact inputs, 50 digits).
            engine = _engine_deltas_mp(cx.values, sizes, activations, cost)[cx.layer - 2][0, cx.unit - 1]
            assert abs(mpmath.mpf(cx.true_delta) - engine) < mpmath.mpf("1e-18")
            assert abs(mpmath.mpf(cx.typo_delta) - engine) > mpmath.mpf("1e-6")
    text = render_proof(proof)
    assert "Counterexample to the seed's equation 2" in text


def test_seed_typo_with_generic_sigma_is_instantiated() -> None:
    proof = prove((2, 2, 1), ["sigma", "sigma"], "quadratic", hidden_rule="seed-typo")
    assert proof.verdict == "disproven"
    (cx,) = proof.counterexamples
    assert "sigmoid" in cx.instance


# --- negative controls: planted wrong equations ------------------------------------------


def test_planted_wrong_equation_2_is_disproven() -> None:
    """Three classic mistakes: no sigma' factor, w instead of w^T, sigma instead of sigma'."""
    spec = make_spec((2, 3, 2), ("sigmoid", "sigmoid"), "quadratic")
    derived = derive.hidden_errors(spec, 2)
    w3 = network.weights(spec, 3)
    z2 = [network.z(2, j) for j in (1, 2, 3)]
    d3 = [network.delta(3, k) for k in (1, 2)]
    wt_delta = [sum((w3[k][j] * d3[k] for k in range(2)), sp.Integer(0)) for j in range(3)]
    s = functions.sigma("sigmoid", 2, z2)
    planted = {
        "no sigma'": wt_delta,
        "sigma instead of sigma'": [wt_delta[j] * s[j] for j in range(3)],
        "w instead of w^T": [
            sum((w3[j][k] * d3[j] for k in range(2) if j < 2), sp.Integer(0))
            * functions.sigma_prime("sigmoid", 2, z2[j])
            for j in range(3)
        ],
    }
    for name, claims in planted.items():
        verdict, point = judge_difference(derived[0], claims[0])
        assert verdict == "disproven", name
        assert point is not None and point.values


def test_planted_wrong_equations_1_3_4_are_disproven() -> None:
    spec = make_spec((2, 2), ("sigmoid",), "cross_entropy", "mean")
    out = derive.output_errors(spec)
    a, y = functions.sigma("sigmoid", 2, [network.z(2, 1), network.z(2, 2)]), network.y(1)
    assert judge_difference(out[0], y - a[0])[0] == "disproven"  # sign flipped closed form
    # grad_a C of the quadratic cost used with cross-entropy: disproven
    assert judge_difference(out[0], (a[0] - y) * functions.sigma_prime("sigmoid", 2, network.z(2, 1)))[0] == "disproven"
    grad_w, grad_b = derive.parameter_gradients(spec, 2, 2)
    a_1 = [network.a(1, 1, s) for s in (1, 2)]
    d = [network.delta(2, 1, s) for s in (1, 2)]
    assert judge_difference(grad_w[(1, 1)], a_1[0] * d[0] + a_1[1] * d[1])[0] == "disproven"  # sum, not mean
    assert judge_difference(grad_b[1], d[0] + d[1])[0] == "disproven"
    single_w, _ = derive.parameter_gradients(spec, 2)
    assert judge_difference(single_w[(1, 2)], network.a(1, 1) * network.delta(2, 1))[0] == "disproven"  # a_j, not a_k


def test_log_likelihood_closed_form_needs_probability_targets() -> None:
    """a - y is delta^L only when sum_j y_j = 1: without the constraint it must be disproven."""
    spec = make_spec((2, 3), ("softmax",), "log_likelihood")
    derived = derive.output_errors(spec)
    closed = formulas.equation_1_closed(spec)
    assert closed is not None
    assert judge_difference(derived[0], closed[0])[0] == "disproven"
    assert judge_difference(derived[0], closed[0], formulas.probability_constraint(spec))[0] == "proven"


def test_unprovable_identity_is_not_proven() -> None:
    """sin^2 + cos^2 - 1 is zero, but outside what the zero test rewrites: "not proven", never
    "proven", and no rational point refutes it."""
    t = network.z(2, 1)
    expr = sp.sin(t) ** 2 + sp.cos(t) ** 2 - 1
    assert not simplifies_to_zero(expr)
    assert find_nonzero(expr) is None
    assert judge_difference(sp.sin(t) ** 2 + sp.cos(t) ** 2, sp.Integer(1))[0] == "not proven"


def test_zero_test_rejects_a_wrong_sigmoid_derivative() -> None:
    t = network.z(2, 1)
    s = 1 / (1 + sp.exp(-t))
    assert simplifies_to_zero(sp.diff(s, t) - s * (1 - s))
    assert not simplifies_to_zero(sp.diff(s, t) - s * (1 + s))
    assert not simplifies_to_zero(sp.diff(sp.tanh(t), t) - 1 / sp.cosh(t))


def test_relu_and_generic_sigma_are_stated() -> None:
    proof = prove((2, 2, 1), ["relu", "sigma"], "quadratic")
    assert proof.verdict == "proven"
    notes = " ".join(proof.notes)
    assert "relu'(0) = 0" in notes and "every differentiable sigma" in notes
    eq1 = next(c for c in proof.checks if c.equation == "eq1")
    assert eq1.derived.has(sp.Derivative)  # sigma_3' stays an undefined derivative


def test_markdown_shows_each_delta_derived_and_claimed() -> None:
    text = render_proof(prove((2, 3, 2), ["sigmoid", "sigmoid"], "quadratic"))
    assert "**Verdict: proven**" in text
    for j in (1, 2, 3):
        assert f"\\frac{{\\partial C_x}}{{\\partial z^{{2}}_{{{j}}}}}" in text
        assert f"\\delta^{{2}}_{{{j}}} = " in text
    summary = render_proof(prove((2, 3, 2), ["sigmoid", "sigmoid"], "quadratic"), detail=False)
    assert "- chain rule:" not in summary and "| proven |" in summary


def test_bench_measure_reports_each_architecture() -> None:
    from symbolic.bench import measure, to_markdown

    rows = measure([(2, 2), (1, 2, 1)])
    assert [r["sizes"] for r in rows] == [(2, 2), (1, 2, 1)]
    assert all(r["verdict"] == "proven" and float(r["cpu_s"]) >= 0 for r in rows)  # type: ignore[arg-type]
    assert to_markdown(rows).count("\n") == 3


# --- the written-out check of the layer-by-layer argument --------------------------------


@pytest.mark.parametrize(
    ("sizes", "activations", "cost"),
    [
        ((2, 2, 2, 2), ("sigma", "sigma", "sigma"), "quadratic"),
        ((1, 2, 2, 1), ("sigmoid", "tanh", "sigmoid"), "cross_entropy"),
        ((2, 3, 3, 2), ("identity", "softplus", "softmax"), "log_likelihood"),
    ],
)
def test_composed_cost_agrees_with_the_recursion(
    sizes: tuple[int, ...], activations: tuple[str, ...], cost: str
) -> None:
    """No undefined tail: the cost written out in full, differentiated, equals backprop written
    out in full, at every hidden unit."""
    proof = prove(sizes, activations, cost, batch=False, composed=True)
    composed = [c for c in proof.checks if c.equation == "composed"]
    assert len(composed) == sum(sizes[1:-1])
    assert all(c.verdict == "proven" for c in composed)


def test_composed_check_rejects_a_wrong_recursion() -> None:
    spec = make_spec((2, 2, 2), ("sigmoid", "sigmoid"), "quadratic")
    derived = derive.composed_errors(spec, 2)
    recursion = formulas.backprop_errors(spec, 2)
    assert judge_difference(derived[0], recursion[0])[0] == "proven"
    assert judge_difference(derived[0], recursion[1])[0] == "disproven"  # another unit's delta
    assert judge_difference(derived[0], 2 * recursion[0])[0] == "disproven"


def test_composed_check_refuses_relu() -> None:
    with pytest.raises(ValueError, match="relu"):
        prove((2, 2, 2), ("relu", "sigmoid"), "quadratic", composed=True)
