"""The held-out table in docs/gradient-checking.md is generated from the benchmark's JSON, and the
numdifftools peer is optional: skipped with its reason when absent, a real checker when present."""

from __future__ import annotations

import importlib.util
import json

import numpy as np
import pytest

from benchmarks import gradcheck_heldout as heldout


def test_the_docs_table_is_what_the_benchmark_renders_from_its_json() -> None:
    results = json.loads(heldout.RESULTS.read_text(encoding="utf-8"))
    page = heldout.DOC.read_text(encoding="utf-8")
    assert page == heldout.with_table(page, results), "stale: run python -m benchmarks.gradcheck_heldout --render"


def test_a_hand_edited_table_is_caught() -> None:
    results = json.loads(heldout.RESULTS.read_text(encoding="utf-8"))
    page = heldout.DOC.read_text(encoding="utf-8")
    edited = page.replace("| 0% / 0% / 100% |", "| 0% / 0% / 99% |", 1)
    assert edited != page and edited != heldout.with_table(edited, results)
    with pytest.raises(ValueError, match="no generated block"):
        heldout.with_table("# a page without the markers\n", results)


def test_the_round_one_figures_hold_in_the_saved_run() -> None:
    # issue 21, "done when": no false failure anywhere, and every first-round float64 function's
    # single-entry 1e-6 error caught in every seed
    results = json.loads(heldout.RESULTS.read_text(encoding="utf-8"))
    rows = {r["function"]: r["rates"]["reference.gradcheck"] for r in results["rows"]}
    assert all(r["false"] == 0 for r in rows.values()), rows
    round_one = [n for n in rows if not n.startswith(("float32", "corner 1e-8", "ripple"))]
    assert len(round_one) == 6 and all(rows[n]["detected"] == 1 for n in round_one), rows


def test_a_missing_peer_is_skipped_with_its_reason(monkeypatch: pytest.MonkeyPatch) -> None:
    real = importlib.util.find_spec
    monkeypatch.setattr(importlib.util, "find_spec", lambda name, *a: None if name == "numdifftools" else real(name))
    skipped = heldout.unavailable()
    assert skipped["numdifftools (allclose)"] == "numdifftools is not installed (pip install -e '.[peers]')"
    results = {"false_seeds": 1, "detect_seeds": 1, "checkers": list(heldout.PEERS), "skipped": skipped, "rows": []}
    assert any(line.startswith("Not run: numdifftools") for line in heldout.render_table(results))


@pytest.mark.skipif(importlib.util.find_spec("numdifftools") is None, reason="numdifftools not installed")
def test_the_numdifftools_peer_passes_a_right_gradient_and_fails_a_wrong_one() -> None:
    held = heldout.mlp((4, 3, 1))
    params = held.make(0)
    right = held.grad(params)
    wrong = [g.copy() for g in right]
    wrong[0].flat[0] += 1e-2 * (1 + abs(wrong[0].flat[0]))
    for allclose in (False, True):
        assert heldout.numdifftools_check(held, params, wrong, allclose=allclose) == "fail"
    assert heldout.numdifftools_check(held, params, right, allclose=True) == "pass"
    assert np.isfinite(np.concatenate([g.ravel() for g in right])).all()
