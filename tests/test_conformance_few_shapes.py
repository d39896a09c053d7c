"""``"shapes": "few"``: a per-shape compiler compiles a handful of times, and the report says what that leaves out.

The stand-in (benchmarks/shape_compiler.py) is the reference behind a sleep on each new shape
(layer sizes, batch size m, dtype) and logs every compile. Counts are asserted, never times:
the sleep only makes a call at a new shape slower than ``--timeout`` and well within the
warm-up budget, so that a call given the timeout where it needed the warm-up is re-asked, and
the report counts it (``calls re-asked after a timeout``).
"""

from __future__ import annotations

import sys
import time
from pathlib import Path
from typing import Any

import pytest

import reference
from benchmarks.shape_compiler import LOG_VARIABLE, SLEEP_VARIABLE, ShapeCompiler, compiles
from benchmarks.targets import judge_targets
from conformance import check_implementation
from conformance.cases.search import shape_pool
from conformance.errors import CapabilitiesError
from conformance.frontends.runner import search_settings
from conformance.implementations.capabilities import parse_capabilities
from conformance.reporting.report import Report

from ._conformance_helpers import ROOT

pytestmark = pytest.mark.suite  # runs of the suite on a shape-compiling stand-in

# A compile: longer than the timeout below, far shorter than the warm-up budget. The timeout
# stays 100 times what a call of --quick's small networks takes on a loaded machine.
SLEEP = 0.6
TIMEOUT = 0.3
WARMUP = 60.0
# --quick under "shapes": "few", by the design in conformance/cases/pool.py: per dtype two
# architectures, each at its own m and at m = 1 (batch_additivity), for two dtypes.
QUICK_FEW_SHAPES = 2 * 2 * 2


def _run(
    impl: Any, log: Path, monkeypatch: pytest.MonkeyPatch, sleep: float = SLEEP, **options: Any
) -> tuple[Report, list[Any]]:
    """A --quick run of ``impl`` (the stand-in sleeping ``sleep`` s per new shape) and the shapes it compiled."""
    monkeypatch.setenv(LOG_VARIABLE, str(log))
    monkeypatch.setenv(SLEEP_VARIABLE, str(sleep))
    report = check_implementation(
        impl, quick=True, timeout=TIMEOUT, warmup_timeout=WARMUP, failures_dir=None, **options
    )
    return report, compiles(str(log)) if log.exists() else []


def test_quick_compiles_at_most_the_pool_and_no_call_times_out(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    report, compiled = _run(ShapeCompiler(few_shapes=True), tmp_path / "few.log", monkeypatch)
    assert report.ok, report.format()
    assert report.settings["calls re-asked after a timeout"] == 0  # each new shape had the warm-up budget
    assert len(compiled) == len(set(compiled)) <= QUICK_FEW_SHAPES
    caps = parse_capabilities({"shapes": "few"})
    options = search_settings(None, 0, quick=True)
    for _sizes, m, dtype in compiled:
        assert m in {s.m for s in shape_pool(options, caps, dtype).drawn()} | {1}
    assert {(s, m) for s, m, _ in compiled} <= {
        (s.sizes, s.m) for d in ("float64", "float32") for s in shape_pool(options, caps, d).shapes()
    }


def test_without_the_capability_the_same_code_compiles_many_times(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The control: the usual search meets a new shape in almost every architecture (no sleep: counts only)."""
    report, compiled = _run(ShapeCompiler(few_shapes=False), tmp_path / "every.log", monkeypatch, sleep=0.0)
    assert report.ok, report.format()
    assert len(set(compiled)) > 5 * QUICK_FEW_SHAPES


def test_without_the_capability_a_new_shape_gets_the_timeout(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The control of the budget: after a process's first call, a call at a new shape has the timeout only."""
    regimes = ["typical", "saturating", "zeros"]
    report, _ = _run(
        ShapeCompiler(few_shapes=False), tmp_path / "every.log", monkeypatch, regimes=regimes, dtypes=["float64"]
    )
    assert report.settings["calls re-asked after a timeout"] > 0  # re-asked in a fresh process, then answered


def test_in_process_each_new_shape_gets_the_warm_up_budget(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    report, compiled = _run(
        ShapeCompiler(few_shapes=True), tmp_path / "in.log", monkeypatch, dtypes=["float64"], in_process=True
    )
    assert report.ok, report.format()
    assert 1 < len(compiled) <= QUICK_FEW_SHAPES // 2
    assert report.settings["calls re-asked after a timeout"] == 0


# A JSON-lines program (CONTRACT.md section 5) that declares "shapes": "few" and compiles (sleeps) per new shape.
_PROGRAM = """
import json, os, sys, time
sys.path.insert(0, {root!r})
import reference
from conformance.implementations import contract

compiled = set()
for line in sys.stdin:
    request = json.loads(line)
    if request["op"] == "capabilities":
        reply = {{"shapes": "few"}}
    else:
        case = contract.decode_case(request["case"])
        shape = (tuple(case.sizes), case.m, case.dtype)
        if shape not in compiled:
            compiled.add(shape)
            with open({log!r}, "a") as out:
                out.write(json.dumps([list(case.sizes), case.m, case.dtype]) + "\\n")
            time.sleep({sleep!r})
        op = reference.backprop(case) if request["op"] == "backprop" else reference.sgd_step(case, request["eta"])
        reply = contract.encode_result(op)
    print(contract.dumps({{"id": request["id"], **reply}}), flush=True)
"""


def test_a_json_lines_program_declaring_few_shapes_gets_the_warm_up_at_each_new_shape(tmp_path: Path) -> None:
    log = tmp_path / "program.log"
    program = tmp_path / "program.py"
    program.write_text(_PROGRAM.format(root=str(ROOT), log=str(log), sleep=SLEEP), encoding="utf-8")
    report = check_implementation(
        impl_cmd=f"{sys.executable} {program}",
        quick=True,
        dtypes=["float64"],
        timeout=TIMEOUT,
        warmup_timeout=WARMUP,
        failures_dir=None,
    )
    assert report.ok, report.format()
    assert report.settings["calls re-asked after a timeout"] == 0
    assert 1 < len(compiles(str(log))) <= QUICK_FEW_SHAPES // 2


class _RightOnlyAtSeedZerosPool:
    """Hostile: the reference at the shapes of seed 0's --quick pool, a gradient twice too large elsewhere."""

    capabilities = {"shapes": "few"}

    def __init__(self) -> None:
        caps = parse_capabilities(self.capabilities)
        options = search_settings(None, 0, quick=True)
        self.known = {(s.sizes, s.m, d) for d in ("float64", "float32") for s in shape_pool(options, caps, d).shapes()}

    def backprop(self, case: Any) -> dict[str, Any]:
        out = reference.backprop(case)
        if (tuple(case.sizes), case.m, case.dtype) not in self.known:
            out["grad_biases"] = [2 * g for g in out["grad_biases"]]
        return out


def test_a_pool_is_the_declared_trade_off_said_in_the_header_and_another_seed_draws_another(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    hostile = _RightOnlyAtSeedZerosPool()
    fooled, _ = _run(hostile, tmp_path / "0.log", monkeypatch, dtypes=["float64"], seed=0)
    assert fooled.ok  # what a pool cannot catch, by construction
    header = fooled.header()
    assert "shapes: few (declared)" in header
    assert "wrong only at other shapes is not caught" in header
    assert any(n.startswith("shapes:") for n in fooled.not_covered)
    assert "[6, 6, 6] x 2" in header  # the pool itself is printed (seed 0's, float64)
    caught, _ = _run(hostile, tmp_path / "1.log", monkeypatch, dtypes=["float64"], seed=1)
    assert not caught.ok
    assert any(v.check == "equation3" and v.status == "failed" for v in caught.verdicts)  # dC/db^l


def test_the_same_seed_compiles_the_same_shapes_in_the_same_order(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Counts, not clocks: the pool and the order in which its shapes are met come from the seed alone."""
    runs = [
        _run(ShapeCompiler(few_shapes=True), tmp_path / f"{i}.log", monkeypatch, sleep=0.0, dtypes=["float32"])[1]
        for i in range(2)
    ]
    assert runs[0] == runs[1] and len(runs[0]) > 1


def test_the_pool_follows_the_seed_alone() -> None:
    caps = parse_capabilities({"shapes": "few"})
    pools = {seed: shape_pool(search_settings(None, seed, quick=False), caps, "float64") for seed in range(6)}
    assert pools[3] == shape_pool(search_settings(None, 3, quick=False), caps, "float64")
    assert len({p.drawn() for p in pools.values()}) == len(pools)


def test_the_default_pool_keeps_the_size_regimes_large() -> None:
    """wide, deep and big_batch each get a shape beyond the common sizes (8 layers, 8 wide, m = 8)."""
    caps = parse_capabilities({"shapes": "few"})
    for seed in range(20):
        pool = shape_pool(search_settings(None, seed, quick=False), caps, "float32")
        (wide,), (deep,), (big,) = (pool.for_regime(r) for r in ("wide", "deep", "big_batch"))
        assert max(wide.sizes) > 8 and len(deep.sizes) > 8 and big.m > 8
        (square,) = pool.for_regime("square")
        assert len(set(square.sizes)) == 1
        assert all(len(s.sizes) <= 8 and max(s.sizes) <= 8 and s.m <= 8 for s in pool.for_regime("typical"))
        assert len(pool.shapes()) <= 11


def test_without_hidden_layers_the_pool_has_two_layers() -> None:
    caps = parse_capabilities({"shapes": "few", "hidden_activations": []})
    pool = shape_pool(search_settings(None, 0, quick=False), caps, "float64")
    assert {len(s.sizes) for s in pool.drawn()} == {2}


@pytest.mark.parametrize("value", ["FEW", ["few"], None, 3])
def test_a_malformed_shapes_value_names_the_field(value: Any) -> None:
    with pytest.raises(CapabilitiesError, match=r"capabilities\['shapes'\] must be one of 'any', 'few'"):
        parse_capabilities({"shapes": value})


@pytest.mark.parametrize(("quick_s", "default_s", "met"), [(172.0, 618.0, True), (301.0, 1201.0, False)])
def test_the_benchmark_targets_judge_the_computed_times(quick_s: float, default_s: float, met: bool) -> None:
    few = {"quick": {"exit_code": 0, "computed_s": quick_s}, "default": {"exit_code": 0, "computed_s": default_s}}
    rows = [r for r in judge_targets({"conformance": {"few_shapes": few}}) if '"shapes": "few"' in r["target"]]
    assert [(r["measured"], r["threshold"], r["met"]) for r in rows] == [
        (quick_s, 300.0, met),
        (default_s, 1200.0, met),
    ]


def test_a_failed_benchmark_run_is_not_measured() -> None:
    few = {"quick": {"exit_code": 1, "computed_s": 10.0}}
    rows = [r for r in judge_targets({"conformance": {"few_shapes": few}}) if '"shapes": "few"' in r["target"]]
    assert [r["met"] for r in rows] == [None, None]


def test_a_compile_longer_than_the_warm_up_budget_names_the_shape_and_the_option(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(LOG_VARIABLE, str(tmp_path / "slow.log"))
    monkeypatch.setenv(SLEEP_VARIABLE, "3")  # a compile past the warm-up budget and its re-ask (2 x 0.5 s)
    report = check_implementation(
        ShapeCompiler(few_shapes=True),
        quick=True,
        dtypes=["float64"],
        timeout=0.2,
        warmup_timeout=0.5,
        failures_dir=None,
    )
    assert not report.ok
    text = report.format(verbose=True)
    assert "the first call at this shape: the warm-up budget" in text
    assert "--warmup-timeout" in text


class _StallsOnce(ShapeCompiler):
    """The stand-in, whose second sgd_step call at a shape stalls once past the timeout (a busy machine), in the
    first process only (a marker file): the suite asks that call again in a fresh process, which has
    compiled nothing and meets the shape at this very call."""

    def __init__(self, marker: Path) -> None:
        super().__init__(few_shapes=True)
        self.marker = marker
        self.steps: dict[tuple[tuple[int, ...], int], int] = {}

    def sgd_step(self, case: Any, eta: float) -> dict[str, Any]:
        shape = (tuple(case.sizes), int(case.m))
        self.steps[shape] = self.steps.get(shape, 0) + 1
        if self.steps[shape] == 2 and not self.marker.exists():
            self.marker.write_text("stalled", encoding="utf-8")
            time.sleep(3 * TIMEOUT)
        return super().sgd_step(case, eta)


def test_a_call_asked_again_in_a_fresh_process_has_the_budget_of_its_shapes_compile(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A fresh process pays a shape's compile at whichever call meets the shape first. Its budget came
    from that kind's own first call at the shape, which had not compiled (backprop had): 2 x 1 ms + the
    timeout, less than the compile, so one stall on a busy machine became a "hang" verdict (seen in CI)."""
    report, _ = _run(_StallsOnce(tmp_path / "stalled"), tmp_path / "few.log", monkeypatch, dtypes=["float64"])
    assert (tmp_path / "stalled").exists()  # the stall happened
    assert report.settings["calls re-asked after a timeout"] == 1, report.format()
    assert report.ok, report.format()
