"""Issue 21, items 6 and 7: the renaming certificate is what keeps a renamed verdict sound.

Ground truth here is the per-entry proof (every chain-rule side derived with sympy.diff). A
network whose units are not interchangeable is planted by monkeypatching ``network.layer_map``
(a weight multiplier that differs between columns, or between rows, of w^l): there the renamed
derivative of unit 1 is not the derivative of unit j. With the real certificates every verdict
equals the per-entry one (the uncertified layers are derived, never renamed); with either
certificate disabled (always succeeding) or weakened (checking only rows, only columns, only
that the swap is a renaming), the same comparison finds a wrong verdict: the planted versions
are asserted to be caught, so these tests fail if the code's certificate is ever weakened so.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

import pytest
import sympy as sp

from symbolic import network, prove, renaming
from symbolic.proof import Proof
from symbolic.render import render_proof
from symbolic.spec import Spec

SIZES = (2, 3, 3)
ACTS = ("tanh", "sigmoid")
REAL_MAP = network.layer_map
REAL_CERTIFY = renaming.certify


def _weighted(multiplier: Callable[[int, int], int]) -> Callable[[Spec, int, list[Any]], list[Any]]:
    """z^l_i = sum_k c(i, k) w^l_ik a_k + b^l_i: units no longer interchangeable unless c is."""

    def layer_map(spec: Spec, l: int, a_prev: list[Any]) -> list[Any]:
        return [
            sp.Add(*[multiplier(i, k) * w * a for k, (w, a) in enumerate(zip(row, a_prev, strict=True), 1)], b)
            for i, (row, b) in enumerate(zip(network.weights(spec, l), network.biases(spec, l), strict=True), 1)
        ]

    return layer_map


COLUMNS = _weighted(lambda i, k: 1 if k == 1 else 2)  # column 1 counts once, the others twice
ROWS = _weighted(lambda i, k: 1 if i == 1 else 2)  # row 1 counts once, the others twice


def _verdicts(proof: Proof) -> dict[tuple[str, int, tuple[int, ...]], str]:
    return {(c.equation, c.layer, c.unit): c.verdict for c in proof.checks}


def _wrong_verdicts(batch: bool = False) -> list[tuple[str, int, tuple[int, ...], str, str]]:
    """Checks whose verdict differs from the per-entry proof's: (equation, layer, unit, got, truth)."""
    fast = _verdicts(prove(SIZES, ACTS, "quadratic", batch=batch))
    truth = _verdicts(prove(SIZES, ACTS, "quadratic", batch=batch, per_entry=True))
    assert fast.keys() == truth.keys()
    return [(*key, fast[key], truth[key]) for key in truth if fast[key] != truth[key]]


@contextmanager
def _planted(monkeypatch: pytest.MonkeyPatch, name: str, fake: Callable[..., str | None]) -> Iterator[None]:
    with monkeypatch.context() as m:
        m.setattr(renaming, name, fake)
        yield


def _always(*_: Any) -> None:
    return None


def _rows_only(spec: Spec, l: int, samples: int | None) -> str | None:
    """A weakened certify: the row swaps only (a column asymmetry passes)."""
    real = REAL_CERTIFY(spec, l, samples)  # rows are checked first: a column failure names layer l - 1
    return real if real is not None and f"of layer {l - 1}" not in real else None


def _columns_only(spec: Spec, l: int, samples: int | None) -> str | None:
    """A weakened certify: the column swaps only (a row asymmetry passes)."""
    for k in range(2, spec.n(l - 1) + 1):
        kappa = renaming.column_swap(spec, l, k, samples)
        for s in [None] if samples is None else range(1, samples + 1):
            z = network.layer_map(spec, l, [network.a(l - 1, i, s) for i in range(1, spec.n(l - 1) + 1)])
            if [t.xreplace(kappa) for t in z] != z:
                return f"columns 1 and {k} of layer {l}"
    return None


def _involution_only(spec: Spec, l: int, z_next: list[Any]) -> str | None:
    """A weakened certify_hidden: only that each swap is a renaming, not that z^{l+1} is unchanged."""
    for j in range(2, spec.n(l) + 1):
        swap = renaming.hidden_swap(spec, l, j)
        if not all(isinstance(v, sp.Symbol) and swap.get(v) == k for k, v in swap.items()):
            return "not a renaming"
    return None


def test_the_planted_networks_really_break_the_symmetry(monkeypatch: pytest.MonkeyPatch) -> None:
    # the ground truth itself: some entries of equations 2 and 4 are wrong on these networks
    for planted in (COLUMNS, ROWS):
        monkeypatch.setattr(network, "layer_map", planted)
        truth = prove(SIZES, ACTS, "quadratic", batch=False, per_entry=True)
        assert any(c.verdict == "disproven" for c in truth.checks)
        assert any(c.verdict == "proven" and c.equation == "eq4" for c in truth.checks)
    monkeypatch.setattr(network, "layer_map", REAL_MAP)
    assert _wrong_verdicts() == []


@pytest.mark.parametrize("planted", [COLUMNS, ROWS], ids=["columns", "rows"])
def test_certify_keeps_equations_3_and_4_sound(monkeypatch: pytest.MonkeyPatch, planted: Any) -> None:
    monkeypatch.setattr(network, "layer_map", planted)
    assert _wrong_verdicts(batch=True) == []
    weak = _rows_only if planted is COLUMNS else _columns_only
    for fake in (_always, weak):
        with _planted(monkeypatch, "certify", fake):
            wrong = _wrong_verdicts(batch=True)
        # caught: a rule wrong at renamed entries comes out "proven" without the certificate
        assert any(eq.startswith("eq4") and got == "proven" and truth == "disproven" for eq, *_, got, truth in wrong)


def test_certify_hidden_keeps_equation_2_sound(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(network, "layer_map", COLUMNS)
    assert _wrong_verdicts() == []
    for fake in (_always, _involution_only):
        with _planted(monkeypatch, "certify_hidden", fake):
            wrong = _wrong_verdicts()
        assert any(eq == "eq2" and got == "proven" and truth == "disproven" for eq, *_, got, truth in wrong), wrong


def test_an_uncertified_layer_is_derived_never_renamed(monkeypatch: pytest.MonkeyPatch) -> None:
    # item 7: the entries a failed certificate would have renamed are derived with sympy.diff, so
    # a rule that is right there comes out proven (never "disproven" with a counterexample)
    monkeypatch.setattr(network, "layer_map", COLUMNS)
    proof = prove(SIZES, ACTS, "quadratic", batch=False)
    uncertified = [c for c in proof.checks if "not certified" in c.note]
    assert {c.equation for c in uncertified} == {"eq2", "eq3", "eq4"}
    assert all(c.source == "derived" and "derived with sympy.diff" in c.note for c in uncertified)
    right_there = [c for c in uncertified if c.equation == "eq4" and c.unit[1] == 1]
    assert right_there and all(c.verdict == "proven" and c.point is None for c in right_there)


def test_the_rendered_proof_says_what_is_derived_and_what_is_renamed() -> None:
    # item 8: the footer counts both from the checks; renamed sides are labelled as such
    proof = prove((2, 3, 2), ACTS, "quadratic")
    text = render_proof(proof)
    renamed = sum(c.source == "renamed" for c in proof.checks)
    assert 0 < renamed < len(proof.checks)
    assert f"except {renamed} of the {len(proof.checks)} checks" in text
    assert "equation 1 at layer 3: 2 derived;" in text and "equation 2 at layer 2: 1 derived, 2 renamed" in text
    assert text.count("- chain rule (renamed from unit 1") == sum(
        c.source == "renamed" and c.equation == "eq2" for c in proof.checks
    )
    every = render_proof(prove((2, 3, 2), ACTS, "quadratic", per_entry=True))
    assert "renamed" not in every.split("---", 1)[1]
