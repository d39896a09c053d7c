"""The option table (conformance.frontends.options) and the isolation settings: one declaration and one
check per option, the same words from the command line, the pytest plugin and Python.

Expected messages are written here from the rule (expected X, got Y), not read from the code.
"""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any, get_type_hints

import pytest

import conformance
from conformance.errors import LoadError
from conformance.frontends.options import OPTIONS, add_to_argparse, selection_problem, writable_dir, writable_file
from conformance.implementations.isolation import IsolationKeywords, IsolationSettings, isolation_settings

from ._conformance_helpers import run_python


def _cli_error(*argv: str, capsys: pytest.CaptureFixture[str]) -> str:
    parser = argparse.ArgumentParser(prog="conformance")
    add_to_argparse(parser)
    with pytest.raises(SystemExit) as exit_:
        parser.parse_args(list(argv))
    assert exit_.value.code == 2
    return capsys.readouterr().err


@pytest.mark.parametrize(
    ("option", "text", "expected"),
    [
        ("--timeout", "-1", "a positive number of seconds"),
        ("--timeout", "0", "a positive number of seconds"),
        ("--timeout", "inf", "a positive number of seconds"),
        ("--timeout", "nan", "a positive number of seconds"),
        ("--warmup-timeout", "soon", "a positive number of seconds"),
        ("--examples", "0", "a whole number of at least 1"),
        ("--examples", "2.5", "a whole number of at least 1"),
        ("--max-answer-bytes", "1023", "a whole number of at least 1024"),
        ("--max-memory-mb", "-1", "a whole number of MiB (0: no cap)"),
        ("--seed", "tomorrow", "an integer or 'random'"),
    ],
)
def test_a_bad_value_names_the_option_expected_and_given(
    option: str, text: str, expected: str, capsys: pytest.CaptureFixture[str]
) -> None:
    error = _cli_error(option, text, capsys=capsys)
    assert f"argument {option}: expected {expected}, got {text!r}" in error, error


def test_the_bounds_accept_their_edges() -> None:
    """The positive control of the test above: the smallest accepted values parse to themselves."""
    parser = argparse.ArgumentParser()
    add_to_argparse(parser)
    args = parser.parse_args(
        ["--timeout", "0.001", "--examples", "1", "--max-answer-bytes", "1024", "--max-memory-mb", "0", "--seed", "7"]
    )
    assert (args.timeout, args.examples, args.max_answer_bytes, args.max_memory_mb, args.seed) == (0.001, 1, 1024, 0, 7)
    defaults = parser.parse_args([])
    assert (defaults.timeout, defaults.warmup_timeout, defaults.max_memory_mb) == (10.0, 120.0, 4096)
    assert defaults.in_process is False and defaults.examples is None and defaults.seed == 0


def test_paths_are_checked_before_the_run(tmp_path: Path) -> None:
    a_file = tmp_path / "file"
    a_file.write_text("")
    assert writable_file(str(tmp_path / "report.json")) == str(tmp_path / "report.json")
    assert writable_dir(str(tmp_path / "new" / "deeper")) == str(tmp_path / "new" / "deeper")
    with pytest.raises(argparse.ArgumentTypeError, match="expected a file name, got the directory"):
        writable_file(str(tmp_path))
    with pytest.raises(argparse.ArgumentTypeError, match="expected a file in an existing folder"):
        writable_file(str(tmp_path / "missing" / "report.json"))
    with pytest.raises(argparse.ArgumentTypeError, match=r"expected a directory, got .*which exists and is not one"):
        writable_dir(str(a_file))
    with pytest.raises(argparse.ArgumentTypeError, match="can be created or written"):
        writable_dir(str(a_file / "below"))


@pytest.mark.suite
def test_each_option_has_one_spelling_rule_and_the_old_plugin_spelling_still_works(tmp_path: Path) -> None:
    """pytest spells every plugin option --conformance-NAME for the command line's --NAME."""
    run = run_python(["-m", "pytest", "-p", "no:cacheprovider", "--help"], tmp_path)
    assert run.returncode == 0, run.stderr
    cli = run_python(["-m", "conformance", "--help"], tmp_path)
    on_pytest = [o.name for o in OPTIONS if o.pytest]
    assert {"impl", "timeout", "warmup-timeout", "max-memory-mb", "failures-dir", "report"} <= set(on_pytest)
    for name in on_pytest:
        assert f"--conformance-{name}" in run.stdout, name
    for option in OPTIONS:
        assert f"--{option.name}" in cli.stdout, option.name
    assert "--conformance-failures-dir=DIR, --conformance-failures=DIR" in run.stdout.replace("\n", " ")
    # The command line's own options are not the plugin's: pytest has -x, -v, -q and -k of its own.
    assert "--conformance-first-failure" not in run.stdout and "--conformance-regimes" not in run.stdout


def test_isolation_settings_name_the_bad_field() -> None:
    assert IsolationSettings(timeout=None, max_memory_mb=None).timeout is None  # None: no limit
    cases: list[tuple[dict[str, Any], str]] = [
        ({"timeout": 0}, "timeout: expected a positive number of seconds, got 0 (or None)"),
        ({"warmup_timeout": float("inf")}, "warmup_timeout: expected a positive number of seconds, got inf"),
        ({"max_answer_bytes": True}, "max_answer_bytes: expected a whole number of at least 1024, got True"),
        ({"max_memory_mb": -5}, "max_memory_mb: expected a whole number of MiB (0: no cap), got -5"),
        ({"in_process": "yes"}, "in_process: expected True or False, got 'yes'"),
    ]
    for given, words in cases:
        with pytest.raises(LoadError) as error:
            IsolationSettings(**given)
        assert words in str(error.value), (given, str(error.value))


def test_isolation_is_given_one_way() -> None:
    chosen = IsolationSettings(timeout=3.0)
    assert isolation_settings(chosen, {}) is chosen
    assert isolation_settings(None, {"timeout": 3.0}) == chosen
    assert isolation_settings(None, {}) == IsolationSettings()
    with pytest.raises(TypeError, match=r"not both"):
        isolation_settings(chosen, {"timeout": 3.0})
    wrong: Any = {"timout": 3.0}
    with pytest.raises(TypeError, match=r"\['timout'\]; the isolation settings are timeout, warmup_timeout"):
        isolation_settings(None, wrong)
    assert set(get_type_hints(IsolationKeywords)) == set(get_type_hints(IsolationSettings))


@pytest.mark.suite
def test_the_python_api_takes_the_settings_either_way() -> None:
    """check_implementation keeps its documented keywords and takes an IsolationSettings."""
    ways: list[dict[str, Any]] = [
        {"in_process": True, "timeout": 7.0},
        {"isolation": IsolationSettings(in_process=True, timeout=7.0)},
    ]
    for way in ways:
        report = conformance.check_implementation(
            "reference", quick=True, max_examples=2, dtypes=["float64"], regimes=["typical"], failures_dir=None, **way
        )
        assert report.ok and report.settings["timeout"] == 7.0 and "in process" in report.settings["isolation"], way
    with pytest.raises(LoadError, match="timeout: expected a positive number of seconds, got -1"):
        conformance.check_implementation("reference", quick=True, timeout=-1)


def test_both_front_ends_judge_the_selection_alike() -> None:
    """One implementation, from --impl or --impl-cmd (or $BACKPROP_IMPL, read in by the front end)."""
    assert selection_problem("reference", None, "--impl", "--impl-cmd") is None
    assert selection_problem(None, "node x.js", "--impl", "--impl-cmd") is None
    both = selection_problem("reference", "node x.js", "--conformance-impl", "--conformance-impl-cmd")
    assert both == "give either --conformance-impl or --conformance-impl-cmd, not both"
    neither = selection_problem(None, "", "--impl", "--impl-cmd")
    assert neither is not None and neither.startswith("no implementation: pass --impl package.module:attr")
