"""What a run says while it runs: its header before any case, then running counts of cases.

A run of the default size takes tens of seconds, one group of it several, so the command
line shows the header (what is checked, how, with which seed) before the first case, and a
counter that moves inside a group: cases judged and failed so far, in the group and in the
run. The counter is updated every ``update_every`` cases judged, a count, never a clock:
what a run prints depends on its cases alone (a line may show the seconds a group took, and
nothing in the report depends on them).

On a terminal the counter rewrites one line (``\\r``) and each group ends with a line of its
own; anywhere else (a pipe, a file, a CI log) only the group-end lines are written, with no
``\\r`` in them. Colour follows colour.colour_wanted. The runner tells a ``RunProgress``
(check_implementation's ``progress``); ``ConsoleProgress`` is the command line's.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Protocol, TextIO

from conformance.reporting.colour import colour_wanted, is_terminal, paint
from conformance.reporting.report import Report

# A group's counter moves about this many times while it explores (and as often while it shrinks).
UPDATES_PER_GROUP = 20


def update_every(requested: int) -> int:
    """Cases judged between two counter updates in a group of ``requested`` cases (at least 1)."""
    return max(1, requested // UPDATES_PER_GROUP)


@dataclass(frozen=True)
class Tick:
    """Where a run stands after a case judged: in its group, and over the whole run so far."""

    dtype: str
    regime: str
    group: int  # this group's number, from 1
    groups: int  # the groups the run will search
    judged: int  # cases judged in this group (search.GroupCount.judged)
    requested: int
    shrink_judged: int  # value sets judged while shrinking this group's causes
    run_judged: int  # cases judged in the run, this group included (shrinking not counted)
    failed: int  # of those, the cases that failed a check


class RunProgress(Protocol):
    """What check_implementation tells while it runs (its ``progress`` argument)."""

    def begin(self, header: Report) -> None:
        """Before any case: a report with the header's fields (versions, implementation, settings) and no verdict."""

    def case(self, tick: Tick) -> None:
        """After every value set judged, exploring or shrinking."""

    def group_done(self, tick: Tick, stopped: str | None, seconds: float) -> None:
        """After a group, with why it stopped early (or None) and the seconds it took."""


class ConsoleProgress:
    """The command line's talk: the header on ``out`` (the report's stream), the counter on ``err``.

    ``quiet``: the header only (it is part of the report). Call ``close`` when the run ends,
    however it ends, so that a half-written counter line is cleared.
    """

    def __init__(self, out: TextIO, err: TextIO, *, quiet: bool = False, environ: Mapping[str, str] | None = None):
        self.out = out
        self.err = err
        self.quiet = quiet
        self.live = is_terminal(err)
        self.colour = colour_wanted(err, os.environ if environ is None else environ)
        self._shown = 0  # the visible length of the counter line on the terminal (0: none)

    def begin(self, header: Report) -> None:
        self.out.write(header.header(counts=False) + "\n\n")
        self.out.flush()

    def case(self, tick: Tick) -> None:
        if self.quiet or not self.live or (tick.judged + tick.shrink_judged) % update_every(tick.requested):
            return
        shrinking = f", shrinking: {tick.shrink_judged} judged" if tick.shrink_judged else ""
        self._rewrite(f"{_where(tick)} {tick.judged:4d}/{tick.requested} cases{shrinking}", tick)

    def group_done(self, tick: Tick, stopped: str | None, seconds: float) -> None:
        if self.quiet:
            return
        note = f"  (stopped: {stopped})" if stopped else ""
        text = f"{_where(tick)} {tick.judged:4d} cases {seconds:6.1f} s{note}"
        if self.live:
            self._rewrite(text, tick)
            self.err.write("\n")
            self._shown = 0
        else:
            self.err.write(f"{text}  {self._totals(tick)[1]}\n")
        self.err.flush()

    def close(self) -> None:
        """Clear a counter line left unfinished (an error or ^C inside a group)."""
        if self._shown:
            self.err.write("\r" + " " * self._shown + "\r")
            self.err.flush()
            self._shown = 0

    def _totals(self, tick: Tick) -> tuple[str, str]:
        """The run's running counts, plain (to measure) and as printed (coloured when wanted)."""
        head, failed = f"[group {tick.group}/{tick.groups}; run: {tick.run_judged} judged, ", f"{tick.failed} failed"
        painted = paint(failed, "fail" if tick.failed else "pass", self.colour)
        return f"{head}{failed}]", f"{head}{painted}]"

    def _rewrite(self, text: str, tick: Tick) -> None:
        """Overwrite the counter line (padded over what the longer line before it left)."""
        plain, painted = self._totals(tick)
        width = len(text) + 2 + len(plain)
        self.err.write(f"\r{text}  {painted}" + " " * max(0, self._shown - width))
        self.err.flush()
        self._shown = width


def _where(tick: Tick) -> str:
    return f"{tick.dtype:>8} {tick.regime:<11}"
