"""Negative and positive controls: the suite rejects each known bug with the right diagnosis,
and passes the reference, a correct foreign implementation, PyTorch and the Node.js example.

The diagnosis is the first failed check in the suite's dependency order (structure,
determinism, equations 1-4, cost, reduction, sgd_step, no_mutation, ...): that check
must be the bug's expected one, at its expected layer (the layer of the smallest
failing network Hypothesis finds). Broken implementations run in float64 only (every
bug in the catalogue shows there; float32 adds time, not information) in quick mode,
except the corner-only bugs (``QUICK = False``, tests/broken_impls/corners.py), which
only the default settings reach: they run with those, on the regimes named in their
``REGIMES`` (one group of 150 cases each, a second or two apiece).

The bugs run in this process (``in_process``): what is asserted is the diagnosis, which does
not depend on where the call ran (the same seed draws the same cases and the worker's wire hands
the arrays back exactly; tests/test_conformance_exact_numbers.py runs its implementations both
ways, and every bug here gave the same failed verdicts and messages both ways, 2026-12-07). A
worker per bug added about 18% to the runs' CPU (framing and piping every call), nothing to
what is checked; the positive controls below still run where a user's run does, in a worker.
"""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

import pytest

from conformance import check_implementation
from conformance.judging.findings import CHECKS
from conformance.reporting.report import Report
from conformance.vectors import main as verify

from ._golden import solve
from .broken_impls import CATALOGUE, Backprop

NODE = shutil.which("node")
NODE_EXAMPLE = Path(__file__).resolve().parents[1] / "conformance" / "examples" / "node" / "backprop.js"


def _run(impl: Any = None, quick: bool = True, **options: Any) -> Report:
    return check_implementation(impl, quick=quick, failures_dir=None, **options)


def _diagnosis(report: Report) -> list[tuple[str, int | None]]:
    return sorted({(v.check, v.layer) for v in report.failed()}, key=lambda f: (CHECKS.index(f[0]), f[1] or 0))


def test_the_catalogue_is_complete() -> None:
    assert len(CATALOGUE) >= 15
    for cls in CATALOGUE:
        assert cls.EXPECTED is not None and cls.EXPECTED[0] in CHECKS, cls.__name__
        assert cls.__doc__ and "Expected diagnosis" in cls.__doc__, cls.__name__
        assert getattr(cls, "MESSAGE", None), f"{cls.__name__}: no expected cause (MESSAGE)"


@pytest.mark.suite
@pytest.mark.parametrize("broken", CATALOGUE, ids=lambda cls: cls.__name__)
def test_each_bug_is_rejected_with_its_diagnosis(broken: type[Backprop]) -> None:
    assert broken.EXPECTED is not None
    check, layer = broken.EXPECTED
    quick = getattr(broken, "QUICK", True)
    assert quick or broken.REGIMES, f"{broken.__name__}: a default-settings entry must name its regimes"
    report = _run(broken(), quick=quick, dtypes=["float64"], regimes=broken.REGIMES, in_process=True)
    failed = _diagnosis(report)
    assert not report.ok, f"{broken.__name__} was accepted"
    assert (check, layer) in failed, f"{broken.__name__}: expected {check} at layer {layer}, got {failed}"
    earlier = [f for f in failed if CHECKS.index(f[0]) < CHECKS.index(check)]
    assert not earlier, f"{broken.__name__}: diagnosed first as {earlier[0]}, not {check}"
    verdict = next(v for v in report.failed() if (v.check, v.layer) == (check, layer))
    assert verdict.dtype == "float64" and verdict.message
    for fragment in broken.MESSAGE:  # type: ignore[attr-defined]
        assert fragment in verdict.message, f"{broken.__name__}: {fragment!r} not in {verdict.message}"
    # Words that say one thing (issue 17, item 5): never more root causes than failed verdicts.
    assert len(report.causes) <= len(report.failed()), report.format()
    if getattr(broken, "ONE_CAUSE", False):
        assert len(report.causes) == 1, [c.message for c in report.causes]


def test_numeric_bugs_also_fail_the_golden_vectors(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """Frozen data catches every bug that changes backprop's answer, not just the live suite.

    Except the corner-only bugs: the vectors are small networks, and corners lie beyond them.
    """
    behavioural = {"no_mutation", "determinism", "sgd_step"}
    for broken in CATALOGUE:
        assert broken.EXPECTED is not None
        if broken.EXPECTED[0] in behavioural or not getattr(broken, "QUICK", True):
            continue
        code = verify([str(solve(broken().backprop, tmp_path / broken.__name__))])
        assert code == 1, f"{broken.__name__} passed every golden vector"
    code = verify([str(solve(Backprop().backprop, tmp_path / "correct"))])
    assert code == 0, capsys.readouterr().out


# ----- positive controls -----


def _assert_conforms(report: Report) -> None:
    assert report.ok, report.format()
    checked = {v.dtype for v in report.verdicts if v.status == "passed"}
    assert checked == {"float64", "float32"}


@pytest.mark.suite
def test_the_reference_conforms() -> None:
    _assert_conforms(_run("reference"))


@pytest.mark.suite
def test_a_correct_foreign_numpy_implementation_conforms() -> None:
    _assert_conforms(_run(Backprop()))


@pytest.mark.suite
def test_pytorch_conforms() -> None:
    pytest.importorskip("torch", exc_type=ImportError)
    _assert_conforms(_run("conformance.adapters.torch_adapter"))


@pytest.mark.suite
@pytest.mark.skipif(NODE is None, reason="Node.js is not installed")
def test_the_node_example_conforms() -> None:
    _assert_conforms(_run(impl_cmd=f"{NODE} {NODE_EXAMPLE}"))


def test_the_foreign_implementation_does_not_use_the_reference() -> None:
    """The positive control must be independent code, not the reference in disguise."""
    for path in (Path(__file__).parent / "broken_impls").glob("*.py"):
        source = path.read_text(encoding="utf-8")
        assert "import reference" not in source and "from reference" not in source, path.name
