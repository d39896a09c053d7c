"""The mutation harness (benchmarks/mutation/): the mutator, the oracle and the subjects it starts from.

Each part is attacked the way it could fail: a mutator that changes two places or the capabilities, an
oracle that calls a wrong mutant equivalent (wrong only at m = 17, only for eta > 1, only for targets
outside [0, 1], only in float32) or an equivalent one wrong (a reordered max, an outer product written
with broadcasting), and subjects that do not conform before they are mutated.
"""

from __future__ import annotations

import ast
import difflib
import subprocess
import sys
from collections import Counter
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from benchmarks.mutation import oracle, run
from benchmarks.mutation.mutate import mutants

ROOT = Path(__file__).resolve().parent.parent

SAMPLE = '''
capabilities = {"dtypes": ["float64"], "width": 2}


def f(w, b, x, name: str = "relu") -> float:
    """A docstring with 1 and 2 in it."""
    z = w.T @ x - b
    if name == "relu" and z.max() > 0:
        z = -z
    z += 1.5
    total = np.sum(z, axis=0, keepdims=True)
    return total[0] ** 2 / 3
'''


@pytest.fixture(scope="module")
def cases() -> list[oracle.OracleCase]:
    return oracle.oracle_cases(run.ORACLE_CASES)


@pytest.fixture(scope="module")
def baselines(cases: list[oracle.OracleCase]) -> dict[str, list[oracle.Errors]]:
    return {s: oracle.baseline_of(run.load_source(run.subject_source(s), f"base_{s}"), cases) for s in run.SUBJECTS}


def test_every_operator_yields_mutants_each_differing_in_one_place() -> None:
    found = mutants("sample", SAMPLE)
    by_operator = Counter(m.operator for m in found)
    # Counted by hand from SAMPLE: the operators @, -, **, / and += (one replacement each); the operand
    # swaps of the four non-commutative ones (no call has two positional arguments); == and >; `and`;
    # the numbers 0 (> 0), 1.5, 0 (axis), 0 (total[0]), 2 and 3 two changes each, True one.
    assert by_operator["arithmetic"] == 5
    assert by_operator["swap"] == 4
    assert by_operator["constant"] == 13
    assert by_operator["comparison"] == 2
    assert by_operator["boolean"] == 1
    assert by_operator["transpose"] == 1
    assert by_operator["sign"] == 1
    assert by_operator["axis"] == 2  # axis= and keepdims= each dropped
    assert by_operator["delete"] == 4  # z = ..., z = -z, z += ..., total = ...
    assert sum(by_operator.values()) == 33
    original = ast.unparse(ast.parse(SAMPLE)).splitlines()
    for m in found:
        changed = [line for line in difflib.ndiff(original, m.source.splitlines()) if line.startswith(("- ", "+ "))]
        assert len(changed) == 2, f"{m.description} changes {len(changed) // 2} lines"
        assert "capabilities = {'dtypes': ['float64'], 'width': 2}" in m.source, m.description
        assert "A docstring with 1 and 2 in it." in m.source, m.description


def test_mutants_are_numbered_the_same_on_every_run() -> None:
    source = run.subject_source("batched")
    first = [(m.name, m.description) for m in mutants("batched", source)]
    assert first == [(m.name, m.description) for m in mutants("batched", source)]
    assert len(first) > 150


@pytest.mark.parametrize("subject", run.SUBJECTS)
def test_the_unmutated_subjects_agree_with_the_reference_on_every_oracle_case(
    subject: str, cases: list[oracle.OracleCase]
) -> None:
    module = run.load_source(run.subject_source(subject), f"plain_{subject}")
    well_conditioned = 0
    for oc in cases:
        measured = oracle.errors(module, oc)
        assert isinstance(measured, dict), measured
        limit = oracle.bounds(oc, dict.fromkeys(measured, 0.0))
        well_conditioned += all(measured[k] <= limit[k] for k in measured)
    # The rounding-only term of the bound is needed on a few ill-conditioned cases only.
    assert well_conditioned >= 0.9 * len(cases), f"{well_conditioned} of {len(cases)}"


def _wrapped(subject: str, wrong_when: Any) -> Any:
    """The subject, with every gradient doubled on the cases where ``wrong_when(case, eta)`` holds."""
    module = run.load_source(run.subject_source(subject), f"wrapped_{subject}")

    class Planted:
        def backprop(self, case: Any) -> dict[str, Any]:
            out = dict(module.backprop(case))
            if wrong_when(case, None):
                out["grad_weights"] = [2 * g for g in out["grad_weights"]]
            return out

        def sgd_step(self, case: Any, eta: float) -> dict[str, Any]:
            out = dict(module.sgd_step(case, eta))
            if wrong_when(case, eta):
                out["weights"] = [w + 1e-3 for w in out["weights"]]
            return out

    return Planted()


@pytest.mark.parametrize(
    ("what", "wrong_when"),
    [
        ("only at m = 17", lambda case, eta: case.m == 17),
        ("only for eta > 1", lambda case, eta: eta is not None and eta > 1),
        ("only for eta = 0", lambda case, eta: eta == 0),
        ("only for quadratic targets outside [0, 1]", lambda case, eta: bool(np.any((case.y < 0) | (case.y > 1)))),
        ("only in float32", lambda case, eta: case.dtype == "float32"),
        ("only at width 33", lambda case, eta: 33 in case.sizes),
        ("only when some layer's biases are all exactly 0", lambda case, eta: any(not np.any(b) for b in case.biases)),
    ],
)
def test_the_oracle_finds_a_mutant_wrong_in_one_region(
    what: str, wrong_when: Any, cases: list[oracle.OracleCase], baselines: dict[str, list[oracle.Errors]]
) -> None:
    verdict, _ = oracle.classify(_wrapped("batched", wrong_when), cases, baselines["batched"])
    assert verdict == "wrong", what


def test_the_oracle_calls_the_unchanged_subject_and_a_rewritten_twin_equivalent(
    cases: list[oracle.OracleCase], baselines: dict[str, list[oracle.Errors]]
) -> None:
    assert oracle.classify(_wrapped("batched", lambda case, eta: False), cases, baselines["batched"])[0] == "equivalent"
    # Another correct program (a different style, with its own rounding) judged against batched's baseline.
    twin = run.load_source(run.subject_source("textbook_loop"), "twin_of_batched")
    assert oracle.classify(twin, cases, baselines["batched"])[0] == "equivalent"


def test_known_mutants_get_the_verdict_worked_out_by_hand(
    cases: list[oracle.OracleCase], baselines: dict[str, list[oracle.Errors]]
) -> None:
    by_description = {m.description: m for m in mutants("textbook_loop", run.subject_source("textbook_loop"))}

    def verdict(fragment: str) -> str:
        matches = [m for d, m in by_description.items() if fragment in d]
        assert len(matches) == 1, (fragment, [m.description for m in matches])
        return run.classify(matches[0], cases, baselines["textbook_loop"])[0]

    # np.maximum is symmetric; z >= 0 and z > 0 choose between two equal formulas at z = 0.
    assert verdict("`return np.maximum(z, 0)`: `np.maximum(z, 0)` -> `np.maximum(0, z)`") == "equivalent"
    assert verdict("`z >= 0` -> `z > 0`") == "equivalent"
    # sigma' = s (1 - s) with the sign flipped; relu'(0) = 1 instead of 0 (exact zeros are drawn).
    assert verdict("return s * (1 - s)`: `1 - s` -> `s - 1`") == "wrong"
    assert verdict("`z > 0` -> `z >= 0`") == "wrong"
    # delta^L for log-likelihood: the contract makes sum(y) = 1, so a * sum(y) and a / sum(y) agree to
    # rounding; where delta^L cancels to 0 (a = y) the two differ by ~1e-16, which the oracle judges against
    # the case's scale (oracle.FLOOR), not against 0. Flipping the sign of y is wrong by 2y.
    assert verdict("`a * np.sum(y)` -> `a / np.sum(y)`") == "equivalent"
    assert verdict("`a * np.sum(y) - y` -> `a * np.sum(y) + y`") == "wrong"


@pytest.mark.suite
@pytest.mark.parametrize("subject", run.SUBJECTS)
def test_the_unmutated_subjects_conform(subject: str, tmp_path: Path) -> None:
    done = subprocess.run(
        [sys.executable, "-m", "conformance", "--impl", subject, "--quick", "-q", "--failures-dir", str(tmp_path)],
        cwd=ROOT / "benchmarks" / "mutation" / "subjects",
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode == 0, done.stdout[-2000:] + done.stderr[-2000:]


# The fast tier (issue 20): a fixed sample of mutants that the suite kills, one per operator and style,
# judged as users run the suite (--quick, in a fresh process), with --first-failure so that the whole
# tier takes well under a minute. A mutant that survives here is a regression of the suite. Each name is
# checked against its description, so a change to a subject that renumbers the mutants fails loudly.
KILLED_BY_QUICK = {
    "textbook_loop#0": "`-np.abs(z)` -> `np.abs(z)`",
    "textbook_loop#6": "`1 / (1 + e)` -> `1 * (1 + e)`",
    "textbook_loop#51": "`z > 0` -> `z >= 0`",
    "textbook_loop#110": "`activations.append(activation)` -> `(deleted)`",
    "textbook_loop#127": "`case.weights[-l + 1].T` -> `case.weights[-l + 1]`",
    "batched#7": "`z.max(axis=1, keepdims=True)` -> `z.max(keepdims=True)`",
    "batched#21": "`-z` -> `z`",
    "batched#28": "`2` -> `3`",
    "batched#185": "`d.T` -> `d`",
    "batched#204": "`eta * gw` -> `eta / gw`",
    "node_twin#13": "`e / (1 + e)` -> `(1 + e) / e`",
    "node_twin#35": "`z > 0` -> `z >= 0`",
}
EQUIVALENT = {"batched#0": "`np.logaddexp(z, 0)` -> `np.logaddexp(0, z)`"}


@pytest.fixture(scope="module")
def every_mutant() -> dict[str, Any]:
    return {m.name: m for s in run.SUBJECTS for m in mutants(s, run.subject_source(s))}


@pytest.mark.suite
@pytest.mark.parametrize(
    ("name", "expected"),
    [*((name, "rejected") for name in sorted(KILLED_BY_QUICK)), *((name, "passed") for name in sorted(EQUIVALENT))],
)
def test_fast_tier(name: str, expected: str, every_mutant: dict[str, Any]) -> None:
    """Each killed mutant is still rejected by --quick, and each equivalent one still conforms."""
    mutant = every_mutant[name]
    assert mutant.description.endswith({**KILLED_BY_QUICK, **EQUIVALENT}[name]), mutant.description
    verdict, _ = run.suite_verdict(mutant.source, "quick", run.FAST_ARGS)
    assert verdict == expected, f"{name} ({mutant.description}): {verdict} under --quick, expected {expected}"
