"""The batch proof derives "mean means 1/m" from C = (1/m) sum_x C_x, and sizes that cannot finish are
refused before any work.

Negative controls: patching the equations' factor (``network.reduction_scale``) so that "mean" gives
s = 1, or patching the cost's definition so that "mean" sums, must each make the batch checks fail:
if the factor were multiplied onto both sides, both patches would still come out "proven".
"""

from __future__ import annotations

import subprocess
import sys
import time
from pathlib import Path

import pytest
import sympy as sp

from symbolic import functions, network, prove
from symbolic.spec import MAX_WORK, check_size, make_spec

ROOT = Path(__file__).resolve().parents[1]
BATCH = {"eq3-batch", "eq4-batch"}


def _batch_verdicts(reduction: str) -> set[str]:
    proof = prove((2, 2), ["sigmoid"], "quadratic", reduction)
    return {c.verdict for c in proof.checks if c.equation in BATCH}


@pytest.mark.parametrize("reduction", ["mean", "sum"])
def test_unpatched_batch_checks_are_proven(reduction: str) -> None:
    assert _batch_verdicts(reduction) == {"proven"}


def test_patching_out_the_equations_one_over_m_is_disproven(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(network, "reduction_scale", lambda reduction, m: sp.Integer(1))
    assert _batch_verdicts("mean") == {"disproven"}
    assert _batch_verdicts("sum") == {"proven"}  # sum's factor is 1 anyway: the patch changes nothing


def test_patching_the_cost_definition_is_disproven(monkeypatch: pytest.MonkeyPatch) -> None:
    # "mean" defined as the plain sum: the chain-rule side loses its 1/m, the equation keeps it
    monkeypatch.setattr(functions, "batch_cost", lambda reduction, terms: sp.Add(*terms))
    assert _batch_verdicts("mean") == {"disproven"}


def test_batch_cost_is_the_definition() -> None:
    c1, c2, c3 = sp.symbols("c1 c2 c3")
    assert sp.simplify(functions.batch_cost("mean", [c1, c2, c3]) - (c1 + c2 + c3) / 3) == 0
    assert functions.batch_cost("sum", [c1, c2]) == c1 + c2
    with pytest.raises(ValueError, match="unknown reduction 'median'"):
        functions.batch_cost("median", [c1])


def test_limit_is_named_and_refuses_only_beyond_it() -> None:
    # sum_l (n_(l-1) n_l)^2 computed here by hand: [32, 32, 32] (issue 22's wide proof) = 2 * 1024^2 =
    # 2,097,152 and [33, 33, 33] = 2 * 1089^2 = 2,371,842 <= 2,500,000; [34, 34, 34] = 2 * 1156^2 = 2,672,672 > it
    assert MAX_WORK == 2_500_000
    check_size(make_spec((32, 32, 32), ["sigmoid", "sigmoid"], "quadratic"))
    check_size(make_spec((33, 33, 33), ["sigmoid", "sigmoid"], "quadratic"))
    with pytest.raises(ValueError, match="above the limit 2,500,000"):
        check_size(make_spec((34, 34, 34), ["sigmoid", "sigmoid"], "quadratic"))
    with pytest.raises(ValueError, match="limit"):
        prove((99999999999, 1), ["sigmoid"], "quadratic")


@pytest.mark.suite
def test_cli_refuses_huge_sizes_with_exit_2_quickly() -> None:
    start = time.perf_counter()
    run = subprocess.run(
        [
            sys.executable,
            "-m",
            "symbolic",
            "prove",
            "--sizes",
            "99999999999,1",
            "--activations",
            "sigmoid",
            "--cost",
            "quadratic",
        ],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert run.returncode == 2, run.stderr
    assert "above the limit 2,500,000" in run.stderr and "99999999999" in run.stderr
    assert time.perf_counter() - start < 30  # refused before allocating anything
