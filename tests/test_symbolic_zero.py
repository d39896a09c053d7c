"""The fast exact zero test (``zero._rational_zero``): every non-rational atom replaced by a stand-in
symbol, exp(c u) by a power of one positive symbol per u, then the numerator expanded.

It may only ever answer True for an identity. Negative controls: stand-ins that identify what
must stay apart (two bases u and v, exp(2u) and exp(u), two undefined sigmas, sigma and its
derivative) would "prove" the false identities below; stand-ins that forget exp(-u) = 1/exp(u)
would miss the true ones. Its answers are held to the slower rewriting it runs before
(``together``), on the differences of equations 1 and 2 for every activation.
"""

from __future__ import annotations

import pytest
import sympy as sp

from symbolic import derive, formulas, functions, network
from symbolic.spec import make_spec
from symbolic.zero import _rational_zero, case_split, simplifies_to_zero, stand_ins

U, V = network.z(2, 1), network.z(2, 2)


def _sigmoid(t: sp.Expr) -> sp.Expr:
    return 1 / (1 + sp.exp(-t))


TRUE = {
    "sigmoid' = s (1 - s)": sp.diff(_sigmoid(U), U) - _sigmoid(U) * (1 - _sigmoid(U)),
    "exp(-u) = 1/exp(u)": _sigmoid(U) - sp.exp(U) / (1 + sp.exp(U)),
    "tanh' = sech^2": (sp.diff(sp.tanh(U), U) - 1 / sp.cosh(U) ** 2).rewrite(sp.exp),
    "softplus' = sigmoid": sp.diff(sp.log(1 + sp.exp(U)), U) - _sigmoid(U),
    "exp(2u) = exp(u)^2 as T^2": sp.exp(2 * U) / (1 + sp.exp(U)) - sp.exp(U) + sp.exp(U) / (1 + sp.exp(U)),
}
FALSE = {
    "sigmoid' = s (1 + s)": sp.diff(_sigmoid(U), U) - _sigmoid(U) * (1 + _sigmoid(U)),
    "two bases": sp.exp(U) - sp.exp(V),
    "exp(2u) is not exp(u)": sp.exp(2 * U) - sp.exp(U),
    "exp(-u) is not exp(u)": _sigmoid(U) - 1 / (1 + sp.exp(U)),
    "two undefined sigmas": functions.sigma("sigma", 2, [U])[0] - functions.sigma("sigma", 3, [U])[0],
    "sigma is not its derivative": functions.sigma("sigma", 2, [U])[0] - functions.sigma_prime("sigma", 2, U),
    "tanh' is not sech": (sp.diff(sp.tanh(U), U) - 1 / sp.cosh(U)).rewrite(sp.exp),
}


@pytest.mark.parametrize("name", list(TRUE))
def test_true_identities_reach_zero(name: str) -> None:
    assert _rational_zero(TRUE[name]), name


@pytest.mark.parametrize("name", list(FALSE))
def test_false_identities_do_not(name: str) -> None:
    expr = FALSE[name]
    assert expr != 0  # not already zero on construction: the test below can fail
    assert not _rational_zero(expr), name


def test_stand_ins_keep_reciprocals_and_separate_the_rest() -> None:
    expr = sp.exp(U) + sp.exp(-U) + sp.exp(-2 * V) + functions.sigma("sigma", 2, [U])[0]
    mapping = stand_ins(expr)
    t_u = mapping[sp.exp(U)]
    assert mapping[sp.exp(-U)] == 1 / t_u and t_u.is_positive  # one positive symbol for u
    assert mapping[sp.exp(-2 * V)] == mapping[sp.exp(-2 * V)].as_base_exp()[0] ** 2  # only exp(-v): T = exp(-v)
    symbols = {m.as_base_exp()[0] for m in mapping.values()}
    assert len(symbols) == 3  # u, v and sigma_2(u): three independent stand-ins


@pytest.mark.parametrize("hidden", ["sigmoid", "tanh", "softplus", "sigma", "relu", "identity"])
@pytest.mark.parametrize("output", ["sigmoid", "tanh", "softplus", "sigma"])
def test_agrees_with_together_on_equations_1_and_2(hidden: str, output: str) -> None:
    spec = make_spec((2, 3, 2), (hidden, output), "quadratic")
    right = [
        derive.hidden_errors(spec, 2)[0] - formulas.equation_2(spec, 2)[0],
        derive.output_errors(spec)[0] - formulas.equation_1(spec)[0],
    ]
    wrong = [
        derive.hidden_errors(spec, 2)[0] - formulas.equation_2(spec, 2)[1],  # another unit's equation
        derive.output_errors(spec)[0] - 2 * formulas.equation_1(spec)[0],
    ]
    for expr, zero in [(e, True) for e in right] + [(e, False) for e in wrong]:
        cases = case_split(expr)  # relu: each sign of z, where a wrong equation may still hold
        assert cases is not None
        answers = []
        for case in cases:
            plain = case.rewrite(sp.exp) if case.has(sp.tanh, sp.cosh) else case
            numerator, _ = sp.together(plain).as_numer_denom()
            answers.append(_rational_zero(plain))
            assert answers[-1] == (sp.expand(numerator) == 0)  # the slower rewriting's answer
        assert all(answers) == zero == simplifies_to_zero(expr)


def test_several_exponential_bases_are_left_to_together() -> None:
    # softmax couples n exponentials: expanding over their common denominator is slower than
    # together there, so the fast test declines (False) and the identity is proven by together
    spec = make_spec((2, 3), ("softmax",), "quadratic")
    expr = derive.output_errors(spec)[0] - formulas.equation_1(spec)[0]
    assert not _rational_zero(expr)
    assert simplifies_to_zero(expr)
