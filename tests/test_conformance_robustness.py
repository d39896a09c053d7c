"""Whatever the code under test does, the suite answers with a clear verdict and never crashes or hangs."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import pytest

from conformance import LoadError, Report, check_implementation, load_implementation

from . import conformance_planted as planted

pytestmark = pytest.mark.suite  # end to end (tests/test_tiers.py)

SCRIPT = Path(__file__).with_name("conformance_subprocess_impl.py")


def _run(impl: Any = None, **options: Any) -> Report:
    options.setdefault("dtypes", ["float64"])
    options.setdefault("regimes", ["typical"])
    return check_implementation(impl, quick=True, failures_dir=None, **options)


def _only_failure(report: Report) -> str:
    failed = report.failed()
    assert failed, report.format()
    assert {v.check for v in failed} == {failed[0].check}, report.format()
    return failed[0].check + ": " + failed[0].message


@pytest.mark.parametrize(
    ("impl", "expected"),
    [
        (planted.raises, "structure: backprop raised ZeroDivisionError: planted (at "),
        (planted.nan_bias, "structure: backprop: grad_biases[0][0] = nan"),
        (planted.none_weight, "structure: backprop: grad_weights[0] is None; expected an array of shape"),
        (planted.column_biases, "structure: backprop: grad_biases[0] has shape (1, 1); expected (1,)"),
        (planted.ragged_lists, "structure: backprop: grad_weights[0] is not a rectangular array"),
        (planted.returns_tuple, "structure: backprop: the result is tuple"),
        (planted.mutates_input, "no_mutation: backprop modified its input: x[0, 0] was "),
    ],
    ids=["exception", "nan", "none", "wrong-shape", "ragged-list", "not-a-mapping", "mutation"],
)
def test_misbehaviour_becomes_one_clear_failing_verdict(impl: Any, expected: str) -> None:
    report = _run(impl)
    assert not report.ok
    assert _only_failure(report).startswith(expected)


def test_lists_instead_of_arrays_are_accepted() -> None:
    report = _run(planted.nested_lists)
    assert report.ok, report.format()


def test_state_carried_between_calls_is_diagnosed_as_non_determinism_first() -> None:
    """Cases that give two answers have their equations blocked, not failed.

    (A case whose exact gradient is 0 gives the same stale buffer twice: deterministic but
    wrong, so an equation may still fail there, after determinism.)
    """
    report = _run(planted.Accumulates())
    assert report.failed()[0].check == "determinism", report.format()
    blocked = {v.check for v in report.verdicts if v.status == "blocked" and "by determinism" in v.message}
    assert {"equation1", "equation2", "equation3", "equation4", "batch_additivity"} <= blocked, report.format()


def test_a_hang_times_out_and_stops_the_run() -> None:
    report = _run(planted.hangs, timeout=0.5, warmup_timeout=0.5, dtypes=None, regimes=None)
    failed = report.failed()
    assert [v.check for v in failed] == ["structure"]
    assert "did not return within 0.5 s" in failed[0].message
    assert report.examples == 1
    assert any("stopped responding" in note for note in report.not_covered)


def _command(mode: str) -> str:
    return f"{sys.executable} {SCRIPT} {mode}"


def test_a_subprocess_implementation_conforms() -> None:
    report = _run(impl_cmd=_command("ok"), dtypes=None, regimes=["typical", "zeros"])
    assert report.ok, report.format()
    mutation = [v for v in report.verdicts if v.check == "no_mutation"]
    assert {v.status for v in mutation} == {"not covered"}  # a subprocess gets a copy


@pytest.mark.parametrize(
    ("mode", "expected"),
    [
        ("crash", "backprop crashed: the process exited with status 139"),
        ("garbage", "backprop answered with a line that is not JSON: 'Traceback"),
        ("nan", "backprop: grad_weights[0][0, 0] = nan"),
    ],
)
def test_subprocess_faults_are_failing_verdicts(mode: str, expected: str) -> None:
    report = _run(impl_cmd=_command(mode))
    structure = [v for v in report.failed() if v.check == "structure"]
    assert structure and structure[0].message.startswith(expected), report.format()
    if mode == "crash":
        assert "segmentation fault (simulated)" in structure[0].message  # its stderr is quoted


def test_a_silent_subprocess_times_out() -> None:
    """Silent on every process's 3rd request: each is answered when asked again in a fresh process (its 1st),
    so the run goes on until the restarts run out, and the failure says why they were needed."""
    report = _run(impl_cmd=_command("silent"), timeout=1.0, warmup_timeout=5.0)
    structure = [v for v in report.failed() if v.check == "structure"]
    assert structure and "restarted 20 times" in structure[0].message, report.format()
    assert "after a call timed out and was then answered in a fresh process" in structure[0].message
    assert report.settings["calls re-asked after a timeout"] == 20, report.settings


def test_a_refused_sgd_step_is_not_covered() -> None:
    report = _run(impl_cmd=_command("no-sgd"))
    assert report.ok, report.format()
    sgd = [v for v in report.verdicts if v.check == "sgd_step"]
    assert {v.status for v in sgd} == {"not covered"}
    assert "refused the first sgd_step request" in sgd[0].message


@pytest.mark.parametrize(
    ("spec", "command", "expected"),
    [
        ("no_such_module:backprop", None, "cannot import 'no_such_module'"),
        ("reference:no_such_function", None, "reference has no attribute 'no_such_function'"),
        ("numpy", None, "has no backprop(case) method and is not callable"),
        (None, "exit 3", "did not answer the capabilities request: crashed"),
        (None, None, "no implementation selected"),
    ],
)
def test_what_cannot_be_loaded_says_why(spec: str | None, command: str | None, expected: str) -> None:
    with pytest.raises(LoadError) as error:
        load_implementation(spec, impl_cmd=command)
    assert expected in str(error.value)
