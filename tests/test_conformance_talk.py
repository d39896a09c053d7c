"""A run that talks: header first, a counter that moves inside a group, colour and ``\\r`` on a
terminal only, a next step after CONFORMS, and a table with a mark in every cell and a legend.

The terminal is faked (a StringIO whose isatty() is True); the runs are in-process and small
(--quick sizes, one group), except two command-line runs that check a real pipe.
"""

from __future__ import annotations

import io
import re
import subprocess
import sys
from dataclasses import replace
from typing import Any

import pytest

from conformance import check_implementation
from conformance.frontends import cli
from conformance.judging.findings import CHECKS, LAYERED, Status
from conformance.reporting.colour import colour_wanted, paint
from conformance.reporting.progress import ConsoleProgress, Tick, update_every
from conformance.reporting.report import LEGEND, NO_LAYER, Report, Verdict

from ._conformance_helpers import ROOT, run_python

ESC = "\x1b["
HEADER = "backprop conformance suite"
# One small group: 40 cases of --quick's sizes, in this process.
SMALL: dict[str, Any] = {
    "quick": True,
    "max_examples": 40,
    "dtypes": ["float64"],
    "regimes": ["typical"],
    "in_process": True,
    "failures_dir": None,
}


class Terminal(io.StringIO):
    """A stream that says it is a terminal."""

    def isatty(self) -> bool:
        return True


class Recorder:
    """A RunProgress that keeps what it is told, in order."""

    def __init__(self) -> None:
        self.events: list[tuple[str, Any]] = []

    def begin(self, header: Report) -> None:
        self.events.append(("begin", header))

    def case(self, tick: Tick) -> None:
        self.events.append(("case", tick))

    def group_done(self, tick: Tick, stopped: str | None, seconds: float) -> None:
        self.events.append(("group", tick))


def _tick(judged: int, requested: int = 40, failed: int = 0, shrink: int = 0) -> Tick:
    return Tick("float64", "typical", 1, 2, judged, requested, shrink, judged, failed)


# --- colour: the conventions ---------------------------------------------------------------


def test_colour_only_on_a_terminal_and_never_with_no_color() -> None:
    terminal, pipe = Terminal(), io.StringIO()
    assert colour_wanted(terminal, {}) is True  # the control: a terminal is coloured
    assert colour_wanted(pipe, {}) is False
    assert colour_wanted(terminal, {"NO_COLOR": "1"}) is False
    assert colour_wanted(terminal, {"NO_COLOR": "1", "FORCE_COLOR": "1"}) is False  # NO_COLOR wins
    assert colour_wanted(pipe, {"FORCE_COLOR": "1"}) is True
    assert colour_wanted(terminal, {"TERM": "dumb"}) is False
    assert colour_wanted(terminal, {"NO_COLOR": ""}) is True  # set but empty: not set (no-color.org)
    assert paint("x", "fail", False) == "x"
    assert paint("x", "fail", True).startswith(ESC) and "x" in paint("x", "fail", True)


# --- the console: \r and colour on a terminal, plain lines elsewhere --------------------------------


def _talk(err: io.StringIO, environ: dict[str, str], quiet: bool = False) -> str:
    progress = ConsoleProgress(io.StringIO(), err, quiet=quiet, environ=environ)
    for judged in range(1, 41):
        progress.case(_tick(judged, failed=judged // 30))
    progress.group_done(_tick(40, failed=1), None, 1.0)
    progress.close()
    return err.getvalue()


def test_a_terminal_gets_one_rewritten_line_with_colour() -> None:
    text = _talk(Terminal(), {})
    updates = text.count("\r")
    assert updates == 40 // update_every(40) + 1  # every update_every cases, and the group's end
    assert updates > 2  # it moves inside the group
    assert ESC in text
    assert text.endswith("\n") and text.count("\n") == 1  # one finished line per group


def test_a_pipe_gets_plain_lines_at_group_ends_only() -> None:
    text = _talk(io.StringIO(), {})
    assert "\r" not in text and ESC not in text
    lines = text.splitlines()
    assert len(lines) == 1 and "40 cases" in lines[0] and "1 failed" in lines[0]


def test_no_color_on_a_terminal_keeps_the_counter_without_colour() -> None:
    text = _talk(Terminal(), {"NO_COLOR": "1"})
    assert "\r" in text and ESC not in text


def test_quiet_says_nothing_on_stderr() -> None:
    assert _talk(Terminal(), {}, quiet=True) == ""


def test_a_shorter_line_pads_over_a_longer_one() -> None:
    err = Terminal()
    progress = ConsoleProgress(io.StringIO(), err, environ={"NO_COLOR": "1"})
    progress.case(_tick(40, shrink=1000))  # long: shrinking
    progress.case(_tick(1, requested=1))  # shorter
    first, second = err.getvalue().split("\r")[1:]
    assert len(second) == len(first) and second.rstrip(" ") != second  # no tail of the longer line left


# --- the runner: header first, a tick per case, the report unchanged --------------------------------


@pytest.mark.suite
def test_the_runner_tells_the_header_first_then_every_case() -> None:
    recorder = Recorder()
    report = check_implementation("reference", progress=recorder, **SMALL)
    kinds = [kind for kind, _ in recorder.events]
    assert kinds[0] == "begin" and kinds[-1] == "group" and kinds.count("begin") == 1
    header = recorder.events[0][1]
    assert header.verdicts == [] and header.implementation == "reference"
    assert header.settings["seed"] == 0 and header.versions == report.versions
    ticks = [tick for kind, tick in recorder.events if kind == "case"]
    assert [t.judged for t in ticks] == list(range(1, 41))  # inside the group, one per case judged
    assert ticks[-1].run_judged == report.examples == 40 and ticks[-1].failed == 0


@pytest.mark.suite
def test_the_counts_of_failed_cases_run_with_the_cases() -> None:
    recorder = Recorder()
    report = check_implementation("tests.conformance_planted:seed_typo", progress=recorder, **SMALL)
    ticks = [tick for kind, tick in recorder.events if kind == "case"]
    failing = sum(c.cases for c in report.causes)
    assert failing > 0 and ticks[-1].failed == failing
    assert [t.failed for t in ticks] == sorted(t.failed for t in ticks)  # never goes back
    assert any(t.shrink_judged for t in ticks)  # shrinking moves the counter too


@pytest.mark.suite
def test_progress_changes_nothing_in_the_report() -> None:
    quiet = check_implementation("reference", **SMALL).to_dict()
    talked = check_implementation("reference", progress=ConsoleProgress(Terminal(), Terminal()), **SMALL).to_dict()
    for data in (quiet, talked):
        data.pop("duration_seconds")
    assert talked == quiet


@pytest.mark.suite
def test_the_command_line_prints_the_header_before_the_first_progress_line(monkeypatch: pytest.MonkeyPatch) -> None:
    screen = Terminal()  # stdout and stderr on one terminal, as a user sees them
    monkeypatch.setattr(sys, "stdout", screen)
    monkeypatch.setattr(sys, "stderr", screen)
    monkeypatch.delenv("NO_COLOR", raising=False)
    monkeypatch.delenv("TERM", raising=False)
    status = cli.main(
        ["--impl", "reference", "--quick", "--examples", "40", "--dtypes", "float64"]
        + ["--regimes", "typical", "--in-process", "--failures-dir", "unused"]
    )
    text = screen.getvalue()
    assert status == 0, text
    assert text.index(HEADER) < text.index("\r") < text.index("CONFORMS")
    assert "calls re-asked" not in text.split("\r")[0]  # a count of the run, not known before it
    assert ESC in text
    lines = text.splitlines()
    assert lines[-1].startswith("next: ") and "parametrize_with_checks('reference', quick=True)" in lines[-1]


def _cli(env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    args = ["-m", "conformance", "--impl", "reference", "--quick", "--dtypes", "float64", "--regimes", "typical"]
    return run_python([*args, "--failures-dir", "unused"], ROOT, {"NO_COLOR": "", "FORCE_COLOR": "", **env})


@pytest.mark.suite
def test_a_pipe_gets_no_carriage_return_and_no_colour_unless_forced() -> None:
    plain = _cli({})
    assert plain.returncode == 0, plain.stdout + plain.stderr
    assert "\r" not in plain.stdout + plain.stderr and ESC not in plain.stdout + plain.stderr
    assert plain.stdout.startswith(HEADER)
    assert plain.stdout.strip().splitlines()[-1].startswith("CONFORMS")  # the outcome stays last on stdout
    assert "typical" in plain.stderr and plain.stderr.strip().splitlines()[-1].startswith("next: ")
    forced = _cli({"FORCE_COLOR": "1"})
    assert ESC in forced.stdout and "\r" not in forced.stderr


@pytest.mark.suite
def test_the_next_step_points_at_a_recipe_that_exists() -> None:
    step = cli.next_step("mynet", None, quick=False)
    assert "parametrize_with_checks('mynet')" in step
    path, anchor = cli.CI_RECIPE.split("#")
    page = (ROOT / path).read_text(encoding="utf-8")
    headings = [
        re.sub(r"[^a-z0-9 -]", "", h.lower()).replace(" ", "-") for h in re.findall(r"^#+ (.*)$", page, re.MULTILINE)
    ]
    assert anchor in headings and "parametrize_with_checks" in page
    assert "impl_cmd='node b.js'" in cli.next_step(None, "node b.js", quick=True)


# --- the table: a mark in every cell, a legend for every mark -----------------------------------------


def _marks(table: str) -> dict[tuple[str, str], list[str]]:
    """(dtype, check) -> its row's marks, "all" first; a layered check's row must fill every column."""
    rows: dict[tuple[str, str], list[str]] = {}
    dtype, width = "", 0
    for line in table.split("\n\nlegend:")[0].splitlines():
        if line.endswith(":") and " " not in line:
            dtype = line[:-1]
        elif line.startswith("check "):
            width = len(line.split()) - 1
        elif line.strip():
            name, *marks = line.split()
            assert name in CHECKS, line
            assert len(marks) == (width if name in LAYERED else 1), line  # no blank cell
            rows[(dtype, name)] = marks
    return rows


def _legend(table: str) -> dict[str, str]:
    text = table.split("legend:\n", 1)[1]
    return {line.split()[0]: line for line in text.splitlines() if not line.startswith(" " * 11)}


def _verdict(check: str, layer: int | None, status: Status, dtype: str = "float64") -> Verdict:
    return Verdict(check, layer, status, "", dtype=dtype)


def _report(verdicts: list[Verdict]) -> Report:
    return Report("hand-built", {}, verdicts)


def test_a_layer_missing_from_a_check_gets_a_mark_not_a_blank() -> None:
    report = _report(
        [
            _verdict("structure", None, "passed"),
            _verdict("equation1", 2, "passed"),
            _verdict("equation1", 4, "passed"),  # nothing at layer 3
            _verdict("equation3", 2, "passed"),
            _verdict("equation3", 3, "failed"),
            _verdict("equation3", 4, "passed"),
        ]
    )
    marks = _marks(report.table())
    assert marks[("float64", "equation1")] == ["pass", "pass", NO_LAYER, "pass"]
    assert marks[("float64", "equation3")] == ["FAIL", "pass", "FAIL", "pass"]
    assert marks[("float64", "structure")] == ["pass"]


def test_all_is_the_worst_mark_of_its_row() -> None:
    report = _report(
        [
            _verdict("equation1", None, "blocked"),  # cases on which structure failed: judged at no layer
            _verdict("equation1", 2, "passed"),
            _verdict("equation2", None, "blocked"),
            _verdict("equation2", 2, "failed"),  # before: "all" said blocked beside this FAIL
            _verdict("equation3", 2, "passed"),
        ]
    )
    marks = _marks(report.table())
    assert marks[("float64", "equation1")][0] == "blocked"
    assert marks[("float64", "equation2")][0] == "FAIL"
    assert marks[("float64", "equation3")][0] == "pass"


def test_the_legend_names_every_mark_in_the_table_and_no_other() -> None:
    report = _report(
        [
            _verdict("structure", None, "passed"),
            _verdict("equation1", 3, "passed"),
            _verdict("equation2", 2, "failed"),
            _verdict("equation3", None, "blocked"),
            _verdict("sgd_step", None, "not covered"),
            _verdict("structure", None, "passed", "float32"),
        ]
    )
    table = report.table()
    used = {mark for marks in _marks(table).values() for mark in marks}
    assert used == {"pass", "FAIL", "blocked", "-", NO_LAYER}
    assert set(_legend(table)) == used | {"all"}
    only_pass = _report([_verdict("structure", None, "passed")]).table()
    assert set(_legend(only_pass)) == {"pass"}  # no layer columns: no "all" line, no unused mark
    assert set(LEGEND) == {"pass", "FAIL", "blocked", "-", NO_LAYER, "all"}


@pytest.mark.suite
def test_the_reference_table_has_no_blank_cell_and_colour_only_when_asked() -> None:
    report = check_implementation("reference", **{**SMALL, "max_examples": 60, "regimes": ["deep"]})
    table = report.table()
    rows = _marks(table)  # asserts a mark in every column of every layered row
    assert {check for _, check in rows} == set(CHECKS)
    assert any(NO_LAYER in marks for marks in rows.values())  # the control: some depth is missing
    assert set(_legend(table)) == {m for marks in rows.values() for m in marks} | {"all"}
    assert ESC not in table and ESC not in str(report.to_dict())
    coloured = report.format(colour=True)
    assert ESC in coloured and re.sub(r"\x1b\[[0-9;]*m", "", coloured) == report.format()


def test_a_header_printed_first_leaves_the_run_counts_to_the_body() -> None:
    report = replace(
        _report([_verdict("structure", None, "passed")]),
        settings={"seed": 0, "calls re-asked after a timeout": 2},
    )
    assert "calls re-asked after a timeout 2" in report.header()
    assert "re-asked" not in report.header(counts=False) and "seed 0" in report.header(counts=False)
    body = report.format(header=False)
    assert HEADER not in body and "calls re-asked after a timeout: 2" in body
    assert body.splitlines()[-1].startswith("CONFORMS")
    none_asked = replace(report, settings={"seed": 0, "calls re-asked after a timeout": 0})
    assert "re-asked" not in none_asked.format(header=False)
