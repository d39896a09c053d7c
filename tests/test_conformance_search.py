"""The search draws an architecture, then several value sets on it; failures are grouped by root cause.

Issue 12: every generated case used to be a new architecture, so an implementation that
compiles per shape (jax.jit, torch.compile, custom kernels) compiled on every call; and one
defect gave one FAILED block per check x layer x dtype, its "smallest case" depending on
which verdict one read. Here: how many shapes a run compiles, that the cases of one
architecture differ, that every requested case is still judged (and a run that cannot judge
them is still INCOMPLETE), that one defect is one cause and two are two, that shrinking
reaches the smallest network in the default (full) settings too, and a jitted JAX
implementation's quick run.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path
from typing import Any

import numpy as np
import pytest

import conformance.frontends.runner as runner
from conformance import check_implementation
from conformance.cases.search import MIN_ARCHITECTURES, SearchSettings
from conformance.judging.checks import CaseChecker
from conformance.judging.findings import Finding
from conformance.reporting.report import Cause, Report, cause_key, merge

from . import conformance_planted as planted
from .broken_impls import Backprop


class _Recorder(Backprop):
    """A correct implementation that remembers the shape of every backprop call (run in process)."""

    def __init__(self) -> None:
        self.calls: list[tuple[Any, ...]] = []
        self.batches: list[np.ndarray] = []

    def backprop(self, case: Any) -> dict[str, Any]:
        self.calls.append((tuple(case.sizes), tuple(case.activations), case.cost, case.reduction, len(case.x)))
        self.batches.append(np.array(case.x))
        return super().backprop(case)


@pytest.fixture
def settings_of(monkeypatch: pytest.MonkeyPatch) -> Callable[..., None]:
    """Run with chosen SearchSettings fields (check_implementation builds them from quick/max_examples)."""
    original = runner.search_settings

    def use(**fields: Any) -> None:
        def chosen(n: int | None, seed: int, quick: bool) -> SearchSettings:
            return replace(original(n, seed, quick), **fields)

        monkeypatch.setattr(runner, "search_settings", chosen)

    return use


def _architectures(calls: list[tuple[Any, ...]]) -> set[tuple[Any, ...]]:
    """The distinct (architecture, reduction, m) of the full-batch calls: what a JIT compiles."""
    biggest: dict[tuple[Any, ...], int] = {}
    for *arch, m in calls:
        biggest[tuple(arch)] = max(biggest.get(tuple(arch), 0), m)
    return {(*arch, m) for arch, m in biggest.items()}


@pytest.mark.suite
def test_a_group_compiles_once_per_architecture_not_once_per_case(settings_of: Any) -> None:
    impl = _Recorder()
    report = check_implementation(
        impl, max_examples=40, dtypes=["float64"], regimes=["typical"], in_process=True, failures_dir=None
    )
    assert report.ok, report.format()
    assert report.groups[0]["judged"] == 40
    shapes = {(*c[:4], c[4]) for c in impl.calls}  # every shape asked, m = 1 included
    architectures = _architectures(impl.calls)
    # 40 cases at 10 per architecture: 4, plus Hypothesis's simplest network, which gets one.
    assert len(architectures) <= 5, sorted(architectures)
    assert len(shapes) <= 2 * len(architectures)  # m and, for batch_additivity, m = 1
    # Negative control: one case per architecture, as before issue 12: several times as many
    # (Hypothesis repeats a few, and its first examples are the simplest networks).
    settings_of(values_per_architecture=1)
    before = _Recorder()
    check_implementation(
        before, max_examples=40, dtypes=["float64"], regimes=["typical"], in_process=True, failures_dir=None
    )
    assert len(_architectures(before.calls)) >= 4 * len(architectures)


@pytest.mark.suite
def test_the_cases_of_one_architecture_have_different_values() -> None:
    impl = _Recorder()
    check_implementation(
        impl, max_examples=30, dtypes=["float64"], regimes=["typical"], in_process=True, failures_dir=None
    )
    by_arch: dict[tuple[Any, ...], list[bytes]] = {}
    for call, x in zip(impl.calls, impl.batches, strict=True):
        if call[-1] > 1 or x.shape[0] == 1:
            by_arch.setdefault(call, []).append(x.tobytes())
    distinct = [len(set(xs)) for xs in by_arch.values() if len(xs) >= 10]
    assert distinct and all(n >= 5 for n in distinct), distinct  # not ten copies of one batch


@pytest.mark.suite
def test_few_cases_still_draw_several_architectures() -> None:
    """--examples 3 must not become three value sets on Hypothesis's simplest network."""
    impl = _Recorder()
    check_implementation(
        impl, max_examples=3, dtypes=["float64"], regimes=["typical"], in_process=True, failures_dir=None
    )
    assert len(_architectures(impl.calls)) == 3
    assert SearchSettings(10, values_per_architecture=5).values_for("typical", 10) == -(-10 // MIN_ARCHITECTURES)


@pytest.mark.suite
def test_every_requested_case_is_judged_when_some_value_sets_cannot_be(monkeypatch: pytest.MonkeyPatch) -> None:
    """A value set the reference cannot judge is replaced on the same architecture; none is lost."""
    original = CaseChecker.run
    refused = {"n": 0}

    def every_third_refused(self: CaseChecker, case: Any, eta: float, permutation: Any) -> Any:
        refused["n"] += 1
        return None if refused["n"] % 3 == 0 else original(self, case, eta, permutation)

    monkeypatch.setattr(CaseChecker, "run", every_third_refused)
    report = check_implementation(
        "reference", max_examples=25, dtypes=["float64"], regimes=["typical"], failures_dir=None
    )
    group = report.groups[0]
    assert (group["requested"], group["asked"], group["judged"]) == (25, 25, 25) and group["stopped"] is None
    assert report.ok, report.format()
    # Negative control: nothing can be judged, and the run says so instead of conforming.
    monkeypatch.setattr(CaseChecker, "run", lambda self, case, eta, permutation: None)
    report = check_implementation(
        "reference", max_examples=25, dtypes=["float64"], regimes=["typical"], failures_dir=None
    )
    assert not report.ok and report.groups[0]["judged"] == 0
    assert "INCOMPLETE" in report.format().splitlines()[-1]


class _ReluHalf(Backprop):
    """relu'(0) = 0.5 (HIPS autograd's np.maximum), without deltas: one convention, many failed verdicts."""

    capabilities = {"outputs": ["cost"], "dtypes": ["float64"]}

    def sigma_prime(self, name: str, z: np.ndarray, a: np.ndarray) -> np.ndarray:
        if name == "relu":
            return np.where(z > 0, 1.0, np.where(z == 0, 0.5, 0.0)).astype(z.dtype)
        return super().sigma_prime(name, z, a)

    def backprop(self, case: Any) -> dict[str, Any]:
        result = super().backprop(case)
        del result["deltas"]
        return result


def _sizes(cause: Cause) -> list[int]:
    assert cause.case_file is not None
    return list(json.loads(Path(cause.case_file).read_text())["case"]["sizes"])


@pytest.mark.suite
def test_one_defect_is_one_root_cause_and_its_smallest_network(tmp_path: Path) -> None:
    """The default (full) settings: many failed verdicts, one cause, shrunk to two layers as --quick does."""
    full = check_implementation(_ReluHalf(), regimes=["zeros", "deep"], failures_dir=tmp_path / "full")
    quick = check_implementation(
        _ReluHalf(), quick=True, max_examples=30, regimes=["zeros"], failures_dir=tmp_path / "quick"
    )
    for report in (full, quick):
        assert len(report.causes) == 1, [c.key for c in report.causes]
        cause = report.causes[0]
        explained = set(cause.explains)
        failed = {(v.check, v.layer, v.dtype) for v in report.failed()}
        assert failed == explained  # every failed verdict, and only those, is explained by the one cause
        assert len(_sizes(cause)) == 2, cause.network  # the smallest network: one layer of weights
        assert "1 root cause(s)" in report.format() and cause.replay and cause.replay in report.format()
    assert len(full.failed()) >= 8  # a flood of verdicts (layers x checks) ...
    assert full.format().count("    replay: ") == 1  # ... and one replay command, the cause's


@pytest.mark.suite
def test_two_defects_are_two_root_causes(tmp_path: Path) -> None:
    """Negative control of the grouping: unrelated bugs are not merged into one cause."""

    class TwoBugs(Backprop):
        def cost_gradient(self, a: np.ndarray, y: np.ndarray) -> np.ndarray:
            return y - a  # equation 1 of the quadratic cost

        def gradient_scale(self, reduction: str, m: int) -> float:
            return 1.0  # the mean's 1/m, where equation 1 is right (the other costs)

    report = check_implementation(TwoBugs(), quick=True, dtypes=["float64"], failures_dir=tmp_path, in_process=True)
    roots = {c.check for c in report.causes}
    assert roots == {"equation1", "reduction"}, [c.key for c in report.causes]


def test_cause_key_masks_numbers_indices_and_dtypes_but_not_words() -> None:
    a = Finding("equation3", 2, "failed", "grad_biases[0][1] = 0.5, but should be 0 (layer 2, float64); relu'(0) = 0.5")
    b = Finding("equation3", 4, "failed", "grad_biases[2][0] = -3e-5, but should be 1 (layer 4, float32); relu'(0) = 1")
    c = Finding("equation3", 2, "failed", "grad_biases[0][1] = 0.5, but should be 0 (layer 2, float64); saturated")
    assert cause_key(a) == cause_key(b) != cause_key(c)
    assert cause_key(replace(a, check="equation4")) != cause_key(a)
    assert "log1p" in cause_key(Finding("cost", None, "failed", "log1p of 0x7f3a at 12"))


def test_causes_survive_json_and_merge_by_key() -> None:
    def cause(cases: int, size: int, explains: list[tuple[str, int | None, str]]) -> Cause:
        return Cause("k", "equation2", 2, "float64", "m", f"net {size}", explains, cases, (size, 2, 1), f"f{size}")

    small, big = cause(3, 5, [("equation2", 2, "float64")]), cause(4, 9, [("equation2", 3, "float32")])
    report = Report("impl", {}, [], causes=[big])
    assert Report.from_dict(json.loads(json.dumps(report.to_dict()))).causes == [big]
    merged = merge([report, Report("impl", {}, [], causes=[small])]).causes
    assert len(merged) == 1 and merged[0].cases == 7 and merged[0].case_file == "f5"
    assert set(merged[0].explains) == {("equation2", 2, "float64"), ("equation2", 3, "float32")}
    other = replace(small, key="other")
    assert len(merge([report, Report("impl", {}, [], causes=[other])]).causes) == 2


@pytest.mark.suite
def test_the_seed_typo_in_full_settings_shrinks_to_the_typos_minimum(tmp_path: Path) -> None:
    """Shrinking in the default settings (large sizes, a budget) reaches [1, 1, 1], as --quick does."""
    report = check_implementation(planted.seed_typo, dtypes=["float64"], regimes=["typical"], failures_dir=tmp_path)
    assert [c.check for c in report.causes] == ["equation2"]
    assert _sizes(report.causes[0]) == [1, 1, 1]


@pytest.mark.suite
def test_a_jitted_jax_implementation_conforms_quickly() -> None:
    """tests/styles/jax_style.py: jax.jit(jax.value_and_grad) of the cost; --quick, both dtypes."""
    pytest.importorskip("jax", reason="jax is an optional test dependency: pip install 'backprop-reference[jax]'")
    started = time.monotonic()
    report = check_implementation("tests.styles.jax_style", quick=True, failures_dir=None)
    elapsed = time.monotonic() - started
    assert report.ok, report.format()
    assert {v.dtype for v in report.verdicts if v.status == "passed"} == {"float64", "float32"}
    assert sum(g["judged"] for g in report.groups) == 180
    print(f"jitted JAX, --quick: {elapsed:.1f} s for 180 cases")
