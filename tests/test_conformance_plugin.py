"""The pytest side: ``pytest --pyargs conformance --impl ...``, xdist workers, and parametrize_with_checks.

Each test runs pytest in a subprocess from an empty directory, as a user would after
installing the package; PYTHONPATH stands in for the installation.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from conformance.frontends.plugin import fail_skip_or_pass
from conformance.reporting.report import Verdict
from reference import DTYPES
from reference.strategies import REGIMES

from ._conformance_helpers import run_python

SCRIPT = Path(__file__).with_name("conformance_subprocess_impl.py")
N_GROUPS = len(DTYPES) * len(REGIMES)


def _pytest(tmp_path: Path, *args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return run_python(["-m", "pytest", "-p", "no:cacheprovider", "-p", "no:randomly", *args], tmp_path, env)


@pytest.mark.suite
def test_pyargs_runs_the_suite_with_a_header_and_a_summary_table(tmp_path: Path) -> None:
    run = _pytest(tmp_path, "--pyargs", "conformance", "--impl", "reference", "--conformance-quick")
    assert run.returncode == 0, run.stdout + run.stderr
    assert "backprop conformance: --impl reference (from the command line); examples per group 10" in run.stdout
    assert f"{N_GROUPS} passed" in run.stdout  # one test per (dtype, regime) of reference.strategies.REGIMES
    assert "backprop conformance summary" in run.stdout and "CONFORMS" in run.stdout
    assert "float32:" in run.stdout and "equation4" in run.stdout


@pytest.mark.suite
def test_a_failing_group_names_check_layer_and_replay(tmp_path: Path) -> None:
    run = _pytest(
        tmp_path,
        "--pyargs",
        "conformance",
        "--impl",
        "tests.conformance_planted:seed_typo",
        "--conformance-quick",
        "--conformance-failures",
        str(tmp_path / "f"),
        "-k",
        "float64-typical",
    )
    assert run.returncode == 1, run.stdout + run.stderr
    assert "\nequation2 layer 2 (float64): deltas" in run.stdout  # the failure's text, after pytest's header
    assert "replay: python -m conformance replay " in run.stdout
    assert "DOES NOT CONFORM" in run.stdout
    assert list((tmp_path / "f").glob("equation2-layer2-float64-*.json"))


@pytest.mark.suite
def test_without_an_implementation_pytest_reports_a_usage_error(tmp_path: Path) -> None:
    run = _pytest(tmp_path, "--pyargs", "conformance")
    assert run.returncode == 4
    assert "the conformance tests: no implementation: pass --impl package.module:attr" in run.stderr


@pytest.mark.suite
def test_the_environment_variable_and_xdist_workers_with_their_own_process(tmp_path: Path) -> None:
    command = f"{sys.executable} {SCRIPT} ok"
    run = _pytest(
        tmp_path,
        "--pyargs",
        "conformance",
        "--impl-cmd",
        command,
        "--conformance-quick",
        "-k",
        "typical or zeros",
        "-n",
        "2",
        "-p",
        "no:benchmark",
    )
    assert run.returncode == 0, run.stdout + run.stderr
    assert "4 passed" in run.stdout and "CONFORMS" in run.stdout
    env_run = _pytest(
        tmp_path,
        "--pyargs",
        "conformance",
        "--conformance-quick",
        "-k",
        "float64-small",
        env={"BACKPROP_IMPL": "tests.conformance_planted:weights_off"},
    )
    assert env_run.returncode == 1 and "(from the BACKPROP_IMPL)" in env_run.stdout
    assert "\nequation4 layer" in env_run.stdout


@pytest.mark.suite
def test_parametrize_with_checks_in_a_third_party_suite(tmp_path: Path) -> None:
    (tmp_path / "test_mine.py").write_text(
        "from conformance import parametrize_with_checks\n"
        "from tests.conformance_planted import WrongStep\n"
        "\n"
        "@parametrize_with_checks(WrongStep(), xfail={'sgd_step': 'eta/m twice, known'}, quick=True,\n"
        "                         regimes=['typical'], failures_dir=None)\n"
        "def test_backprop(check):\n"
        "    check()\n"
    )
    run = _pytest(tmp_path, "test_mine.py", "-v")
    assert run.returncode == 0, run.stdout + run.stderr
    assert "test_backprop[equation2] PASSED" in run.stdout
    assert "test_backprop[sgd_step] XFAIL" in run.stdout
    assert "test_backprop[no_mutation] PASSED" in run.stdout
    assert "11 passed, 1 xfailed" in run.stdout


@pytest.mark.suite
def test_the_groups_follow_the_reference_regimes(tmp_path: Path) -> None:
    run = _pytest(tmp_path, "--pyargs", "conformance", "--impl", "reference", "--collect-only", "-q")
    assert run.returncode == 0, run.stdout + run.stderr
    ids = {line.split("[", 1)[1].rstrip("]") for line in run.stdout.splitlines() if "test_conformance[" in line}
    assert ids == {f"{d}-{r}" for d in DTYPES for r in REGIMES}


@pytest.mark.suite
def test_loading_the_plugin_imports_neither_hypothesis_nor_the_engine(tmp_path: Path) -> None:
    """Every pytest run of every project imports the plugin: it must stay cheap."""
    code = (
        "import sys, conformance.frontends.plugin; "
        "print(sorted({'hypothesis', 'numpy', 'reference'} & set(sys.modules)))"
    )
    run = run_python(["-c", code], tmp_path)
    assert run.returncode == 0, run.stderr
    assert run.stdout.strip() == "[]"


def _failed(report_file: Path) -> set[tuple[str, int | None, str]]:
    data = json.loads(report_file.read_text())
    return {(v["check"], v["layer"], v["dtype"]) for v in data["verdicts"] if v["status"] == "failed"}


@pytest.mark.suite
def test_the_cli_and_pytest_give_the_same_failed_verdicts(tmp_path: Path) -> None:
    """Issue 12: same seed, same failed verdicts, whichever way the suite runs.

    The project's conftest holds integer constants, as real projects do: Hypothesis
    (6.13x+) mixes integer literals of every local module imported at the time into its
    draws, so pytest (which imports the conftest) and the CLI (which does not) generated
    different cases from the same seed, and Float32Accumulation got 8 failed verdicts
    from pytest and 6 from the CLI.
    """
    (tmp_path / "conftest.py").write_text(
        "WIDTHS = (1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 16, 32, 64, 100, 127, 128, 255, 256, 1000, 1023, 4096, 65535)\n"
    )
    impl = "tests.broken_impls:Float32Accumulation"
    cli = run_python(
        ["-m", "conformance", "--impl", impl, "--quick", "-q", "--report", "cli.json", "--failures-dir", "f1"], tmp_path
    )
    assert cli.returncode == 1, cli.stdout + cli.stderr
    run = _pytest(
        tmp_path,
        "--pyargs",
        "conformance",
        "--impl",
        impl,
        "--conformance-quick",
        "--conformance-report",
        "pytest.json",
        "--conformance-failures",
        "f2",
    )
    assert run.returncode == 1, run.stdout + run.stderr
    from_cli, from_pytest = _failed(tmp_path / "cli.json"), _failed(tmp_path / "pytest.json")
    assert from_cli, cli.stdout
    assert from_cli == from_pytest, f"only CLI: {from_cli - from_pytest}; only pytest: {from_pytest - from_cli}"


@pytest.mark.suite
def test_the_run_options_reach_the_implementation(tmp_path: Path) -> None:
    report = tmp_path / "r.json"
    common = ["--pyargs", "conformance", "--impl", "reference", "--conformance-examples", "3", "-k", "float64-small"]
    run = _pytest(tmp_path, *common, "--conformance-in-process", "--conformance-report", str(report))
    assert run.returncode == 0, run.stdout + run.stderr
    assert "in process" in json.loads(report.read_text())["settings"]["isolation"]
    # The reference conforms in a worker process (the tests above); a 1 KiB answer cap breaks it.
    run = _pytest(
        tmp_path,
        *common,
        "--conformance-warmup-timeout",
        "33",
        "--conformance-max-answer-bytes",
        "1024",
        "--conformance-failures-dir",
        "f",
        "--conformance-report",
        str(report),
    )
    assert run.returncode == 1, run.stdout + run.stderr
    assert "\nstructure (float64): " in run.stdout
    settings = json.loads(report.read_text())["settings"]
    assert settings["warm-up timeout"] == 33.0 and "worker" in settings["isolation"]
    bad = _pytest(tmp_path, *common, "--conformance-warmup-timeout", "-1")
    assert bad.returncode == 4
    assert "argument --conformance-warmup-timeout: expected a positive number of seconds, got '-1'" in bad.stderr


@pytest.mark.suite
def test_a_check_blocked_below_a_failure_is_skipped_not_passed(tmp_path: Path) -> None:
    """Issue 12: equation 2 blocked at every layer (equation 1 is wrong) was reported PASSED."""
    (tmp_path / "test_mine.py").write_text(
        "from conformance import parametrize_with_checks\n"
        "from tests.broken_impls import CostDerivativeSign\n"
        "\n"
        "@parametrize_with_checks(CostDerivativeSign(), quick=True, max_examples=30, regimes=['typical'],\n"
        "                         dtypes=['float64'], failures_dir=None)\n"
        "def test_backprop(check):\n"
        "    check()\n"
    )
    run = _pytest(tmp_path, "test_mine.py", "-v", "-rs")
    assert run.returncode == 1, run.stdout + run.stderr
    assert "test_backprop[equation1] FAILED" in run.stdout
    assert "test_backprop[equation2] SKIPPED" in run.stdout
    assert "equation2: not judged at equation2 layer" in run.stdout and "blocked by equation 1" in run.stdout


def _v(status: str, check: str = "equation2", layer: int | None = 2, message: str = "") -> Verdict:
    return Verdict(check, layer, status, message or status, dtype="float64")  # type: ignore[arg-type]


def test_fail_skip_or_pass_fails_on_any_failure_and_skips_on_any_block() -> None:
    fail_skip_or_pass("equation2", [_v("passed"), _v("passed", layer=3)])  # passes: returns
    with pytest.raises(pytest.fail.Exception, match=r"^equation2 layer 3 \(float64\): failed$"):
        fail_skip_or_pass("equation2", [_v("passed"), _v("blocked", layer=2), _v("failed", layer=3)])
    with pytest.raises(
        pytest.skip.Exception, match=r"not judged at equation2 layer 2 \(float64\): blocked by equation 1"
    ):
        fail_skip_or_pass("equation2", [_v("passed", layer=3), _v("blocked", layer=2, message="blocked by equation 1")])
    with pytest.raises(pytest.skip.Exception, match="not covered: no deltas"):
        fail_skip_or_pass("equation2", [_v("not covered", layer=None, message="no deltas")])
    with pytest.raises(pytest.fail.Exception, match="INCOMPLETE: float64/typical: 3 of 10"):
        fail_skip_or_pass(
            "equation2", [_v("passed")], [{"dtype": "float64", "regime": "typical", "judged": 3, "requested": 10}]
        )


@pytest.mark.suite
def test_two_sessions_in_one_process_each_count_their_own_cases(tmp_path: Path) -> None:
    """Issue 19: the reports were kept in a module global, so a second ``pytest.main()`` in the same
    process summed the first run's cases into its own summary ("CONFORMS (20 cases)" after 10).

    Each good run checks one group of 3 cases (``--conformance-examples 3``); each summary must say
    3. With the old global the second said 6: the exact count is the negative control. A first run
    whose implementation cannot be loaded (exit 2) must not leak its status into the next runs either.
    """
    code = (
        "import pytest\n"
        "args = ['-p', 'no:cacheprovider', '-p', 'no:randomly', '-n', '0', '--pyargs', 'conformance',\n"
        "        '--impl', 'reference', '--conformance-in-process', '--conformance-examples', '3',\n"
        "        '-k', 'float64-typical']\n"
        "bad = [a if a != 'reference' else 'no_such_module:backprop' for a in args]\n"
        "for run, argv in ((1, bad), (2, args), (3, args)):\n"
        "    print(f'run {run} exit', int(pytest.main(argv)), flush=True)\n"
    )
    run = run_python(["-c", code], tmp_path)
    assert run.returncode == 0, run.stdout + run.stderr
    exits = [line for line in run.stdout.splitlines() if line.startswith("run ")]
    assert exits == ["run 1 exit 2", "run 2 exit 0", "run 3 exit 0"], run.stdout
    summaries = [line for line in run.stdout.splitlines() if line.startswith("CONFORMS (")]
    assert summaries == ["CONFORMS (3 cases)", "CONFORMS (3 cases)"], run.stdout


@pytest.mark.suite
def test_pytest_states_each_outcome_once(tmp_path: Path) -> None:
    """Issue 19: the short summary read "Failed: FAILED: equation2 ..." (pytest's word, then the
    verdict's) and a skip reason "not covered: not covered: ..." (the plugin's words, then the
    verdict message's own). Each status word now comes from one place."""
    (tmp_path / "test_mine.py").write_text(
        "from conformance import parametrize_with_checks\n"
        "from tests.conformance_planted import OnlySigmoidFloat64, seed_typo\n"
        "\n"
        "@parametrize_with_checks(seed_typo, checks=['equation2'], quick=True, regimes=['typical'],\n"
        "                         dtypes=['float64'], failures_dir=None)\n"
        "def test_typo(check):\n"
        "    check()\n"
        "\n"
        "@parametrize_with_checks(OnlySigmoidFloat64(), checks=['equation1'], quick=True, regimes=['typical'],\n"
        "                         failures_dir=None)\n"
        "def test_partial(check):\n"
        "    check()\n"
    )
    run = _pytest(tmp_path, "test_mine.py", "-rfs")
    assert run.returncode == 1, run.stdout + run.stderr
    assert "test_typo[equation2] - Failed: equation2 layer" in run.stdout, run.stdout
    skipped = [line for line in run.stdout.splitlines() if line.startswith("SKIPPED")]
    assert len(skipped) == 1, run.stdout
    assert "equation1: not covered: the implementation does not declare float32" in skipped[0], skipped
    assert "the implementation does not report deltas" in skipped[0], skipped
    for doubled in ("FAILED: FAILED", "Failed: FAILED", "not covered: not covered", "not covered: refused"):
        assert doubled not in run.stdout.replace("\n", " "), doubled
