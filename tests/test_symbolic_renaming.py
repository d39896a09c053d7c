"""Equations 3 and 4 by renaming: one entry derived per layer, the others its certified renamings.

Negative controls: an equation wrong at one entry other than (1, 1) must still be disproven there,
and a layer map that is not symmetric in its units is not certified, so its entries are derived
(tests/test_symbolic_certificate.py plants weakened certificates).
"""

from __future__ import annotations

from typing import Any

import pytest
import sympy as sp

from symbolic import formulas, network, prove, renaming
from symbolic.cli import main
from symbolic.spec import Spec, make_spec

PARAMS = ("eq2", "eq3", "eq4", "eq3-batch", "eq4-batch")


@pytest.mark.parametrize(
    ("sizes", "acts", "cost"),
    [((3, 2, 4), ("sigmoid", "softmax"), "log_likelihood"), ((2, 3, 2), ("relu", "sigma"), "quadratic")],
)
def test_renaming_and_per_entry_give_the_same_verdicts_and_sides(
    sizes: tuple[int, ...], acts: tuple[str, ...], cost: str
) -> None:
    fast = prove(sizes, acts, cost)
    slow = prove(sizes, acts, cost, per_entry=True)
    assert fast.verdict == slow.verdict == "proven"
    key = [(c.equation, c.layer, c.unit) for c in fast.checks]
    assert key == [(c.equation, c.layer, c.unit) for c in slow.checks]
    for f, s in zip(fast.checks, slow.checks, strict=True):
        if f.equation in PARAMS:  # the renamed chain-rule side is the derived one, term for term
            assert sp.expand(f.derived - s.derived) == 0, (f.equation, f.layer, f.unit)
            assert f.note == s.note == ""
    assert any("renaming" in n for n in fast.notes) and not any("renaming" in n for n in slow.notes)


def test_a_wrong_equation_at_one_renamed_entry_is_disproven(monkeypatch: pytest.MonkeyPatch) -> None:
    real = formulas.equations_3_4

    def planted(spec: Spec, l: int, samples: int | None = None) -> tuple[dict[tuple[int, int], Any], dict[int, Any]]:
        w, b = real(spec, l, samples)
        if l == 2 and samples is None:
            w[(2, 3)] = network.a(l - 1, 2) * network.delta(l, 2)  # a_j where a_k belongs
        return w, b

    monkeypatch.setattr(formulas, "equations_3_4", planted)
    proof = prove((3, 2, 2), ("sigmoid", "sigmoid"), "quadratic")
    bad = [(c.equation, c.layer, c.unit) for c in proof.failures()]
    assert bad == [("eq4", 2, (2, 3))]
    assert proof.failures()[0].verdict == "disproven"


def test_a_wrong_equation_2_at_a_renamed_unit_is_disproven(monkeypatch: pytest.MonkeyPatch) -> None:
    real = formulas.equation_2

    def planted(spec: Spec, l: int) -> list[Any]:
        claimed = real(spec, l)
        claimed[2] = claimed[2].xreplace({network.w(l + 1, 1, 3): network.w(l + 1, 3, 1)})  # w^T where w belongs
        return claimed

    monkeypatch.setattr(formulas, "equation_2", planted)
    proof = prove((2, 3, 3), ("tanh", "sigmoid"), "quadratic", batch=False)
    assert [(c.equation, c.layer, c.unit, c.verdict) for c in proof.failures()] == [("eq2", 2, (3,), "disproven")]


def test_an_asymmetric_layer_map_is_not_certified(monkeypatch: pytest.MonkeyPatch) -> None:
    real = network.layer_map

    def lopsided(spec: Spec, l: int, a_prev: list[Any]) -> list[Any]:
        z = real(spec, l, a_prev)
        return [z[0] + a_prev[0] ** 2, *z[1:]]  # unit 1 alone has an extra term

    monkeypatch.setattr(network, "layer_map", lopsided)
    spec = make_spec((2, 2, 2), ("sigmoid", "sigmoid"), "quadratic")
    assert renaming.certify(spec, 2, None) is not None
    proof = prove((2, 2, 2), ("sigmoid", "sigmoid"), "quadratic", batch=False)
    # never renamed under a failed certificate: derived instead, so the verdict is sympy.diff's
    # (the extra a_1^2 holds no weight: equation 4 is right at every entry, and proven)
    others = [c for c in proof.checks if c.equation == "eq4" and c.unit != (1, 1)]
    assert others and all(c.source == "derived" and c.verdict == "proven" for c in others)
    assert all("not certified" in c.note for c in others)
    truth = prove((2, 2, 2), ("sigmoid", "sigmoid"), "quadratic", batch=False, per_entry=True)
    assert [c.verdict for c in proof.checks] == [c.verdict for c in truth.checks]


def test_certificate_accepts_the_real_network() -> None:
    spec = make_spec((4, 3, 2), ("tanh", "sigmoid"), "quadratic")
    for l in (2, 3):
        for samples in (None, 2):
            assert renaming.certify(spec, l, samples) is None


def test_cli_per_entry_flag(capsys: pytest.CaptureFixture[str]) -> None:
    argv = ["prove", "--sizes", "2,2", "--activations", "sigmoid", "--cost", "quadratic", "--summary"]
    assert main([*argv, "--per-entry"]) == 0
    assert "renaming" not in capsys.readouterr().out
    assert main(argv) == 0
    assert "renaming" in capsys.readouterr().out


def _renamed_directly(exprs: list[Any], mapping: renaming.Renaming, targets: list[int]) -> bool:
    """The certificate's condition as written: rename every expression whole, compare."""
    return [e.xreplace(mapping) for e in exprs] == [exprs[t] for t in targets]


def test_summands_decide_the_condition_exactly() -> None:
    # Summands renames only the summands that hold a swapped symbol; it must agree with the plain
    # xreplace both ways, including where a symbol hides inside a function (an index of the
    # top-level factors only would miss the swap of a_1 in exp(-a_1) and certify a false swap)
    spec = make_spec((3, 3, 2), ("sigmoid", "sigmoid"), "quadratic")
    a = [network.a(1, k) for k in (1, 2, 3)]
    real = network.layer_map(spec, 2, a)
    hidden = [z + network.w(2, i, 1) * sp.exp(-a[0]) for i, z in enumerate(real, 1)]  # a_1 twice, once nested
    lopsided = [real[0] + a[0] ** 2, *real[1:]]
    swaps = [
        (renaming.row_swap(spec, 2, 2, None), [1, 0, 2]),
        (renaming.row_swap(spec, 2, 3, None), [2, 1, 0]),
        (renaming.column_swap(spec, 2, 2, None), [0, 1, 2]),
        (renaming.column_swap(spec, 2, 3, None), [0, 1, 2]),
        (renaming.row_swap(spec, 2, 2, None), [0, 1, 2]),  # a row swap does not leave z unchanged
        ({a[0]: a[1], a[1]: a[0]}, [0, 1, 2]),  # the a's alone, without the w's columns
    ]
    outcomes = []
    for exprs in (real, hidden, lopsided):
        summands = renaming.Summands(exprs)
        for mapping, targets in swaps:
            expected = _renamed_directly(exprs, mapping, targets)
            assert summands.renamed_to(mapping, targets) == expected, (exprs, mapping, targets)
            outcomes.append(expected)
    assert True in outcomes and False in outcomes
    hidden_summands = renaming.Summands(hidden)
    assert not hidden_summands.renamed_to(renaming.column_swap(spec, 2, 2, None), [0, 1, 2])
    assert renaming.Summands(real).renamed_to(renaming.column_swap(spec, 2, 2, None), [0, 1, 2])
