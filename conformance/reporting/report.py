"""Verdicts, the report, and the check x layer summary table.

Findings from every case are folded into one Verdict per (check, layer, dtype):
failed if any case failed it, else blocked if any case was blocked, else passed
if any case passed, else not covered. A failed verdict carries the smallest case
that shows it (Hypothesis shrinks towards small networks; of the failing cases
seen, the smallest is kept): its Exhibit, which the runner saves as a case file with a
replay command. The summary itself writes nothing.

One defect fails many verdicts (every layer below it, both dtypes, several checks), so
failures are also grouped by root cause: each failing case's root finding (its first
failed check, findings.CaseReport.root) is filed under ``cause_key``, what that finding's
message says with its numbers, dtype and indices masked. A Cause names that diagnosis,
the failed verdicts its cases explain and the smallest case that shows it; the report
prints the causes first and the full verdicts and table below them.
"""

from __future__ import annotations

import json
import re
import textwrap
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path
from typing import Any

from conformance.implementations.calls import REFUSAL
from conformance.judging.findings import CHECKS, FLOAT32_PRECISION, LAYERED, RATIO_PHRASE, CaseReport, Finding, Status
from conformance.reporting.colour import Style, paint
from conformance.reporting.versions import versions
from reference import DTYPES, Case
from reference.numerical.formatting import short_repr

_RANK: dict[str, int] = {"failed": 3, "blocked": 2, "passed": 1, "not covered": 0}
_CELL = {"passed": "pass", "failed": "FAIL", "blocked": "blocked", "not covered": "-"}
# A layered check's cell at a layer where no judged case had it: equation1 is judged at the
# output layer L only and equation2 below it, and a run need not draw a network of every depth.
NO_LAYER = "."
# The table's legend: every mark, in this order; a table lists the ones it uses ("all": when it
# has layer columns).
LEGEND: dict[str, str] = {
    "pass": "passed on every judged case",
    "FAIL": "failed on at least one case (the root causes above say why)",
    "blocked": "not judged on some cases: a check it depends on failed there (fix that one first)",
    "-": "not covered: no generated case exercised it, or the implementation does not declare it",
    NO_LAYER: "no judged case had this check at this layer (equation1 is judged at the output layer "
    "only, equation2 below it, and not every depth is drawn)",
    "all": "the check over every case and layer, the worst mark of its row (FAIL, then blocked, then "
    "pass): blocked beside passing layers means that some cases were judged at no layer; a row without "
    "layer cells is a check judged on the whole case",
}
_LEGEND_WIDTH = 100
_STYLE: dict[str, Style] = {"pass": "pass", "FAIL": "fail", "blocked": "warn"}
# Settings that are counts of the run, not choices made before it: a header printed before the
# run leaves them out, and the rest of the report then says them (Report.format(header=False)).
RUN_COUNTS = ("calls re-asked after a timeout",)


@dataclass(frozen=True)
class Verdict:
    """One check (at one layer, for one dtype) over all the cases the run generated."""

    check: str
    layer: int | None
    status: Status
    message: str
    case_file: str | None = None
    dtype: str | None = None
    cases: int = 0
    replay: str | None = None
    # Cases whose call the implementation refused, and cases it answered (calls.REFUSAL): both
    # nonzero over a run's verdicts of one check is a selective refusal (``selective_refusals``).
    refused: int = 0
    answered: int = 0
    refusal: str = ""
    # A failed verdict's smallest case, as report.case_size measures it: merge() keeps the smallest
    # over several reports, as one run's Collector does over its cases.
    size: tuple[int, int, int] | None = None

    def line(self) -> str:
        return f"{self.status.upper()}: {self.text()}"

    def text(self) -> str:
        """The verdict without its status word: where pytest already says it (a failed test's message)."""
        where = f" layer {self.layer}" if self.layer is not None else ""
        dtype = f" ({self.dtype})" if self.dtype else ""
        return f"{self.check}{where}{dtype}: {self.message}"


def case_size(case: Case) -> tuple[int, int, int]:
    """How small a case is, compared as a tuple: its numbers (parameters, inputs and targets), layers, m."""
    return (case.n_params + case.m * (case.sizes[0] + case.sizes[-1]), len(case.sizes), case.m)


def _network(case: Case) -> str:
    return (
        f"network sizes {tuple(case.sizes)}, activations {', '.join(case.activations)}, cost {case.cost}, "
        f"reduction {case.reduction}, m = {case.m}"
    )


# Numbers (with signs, exponents, hexadecimal addresses, nan and inf), but not the digits of
# a name such as log1p or float64 (dtypes are masked first, by name).
_NUMBER = re.compile(r"(?<![A-Za-z_])(?:0x[0-9a-fA-F]+|[-+]?(?:\d+\.?\d*|\.\d+)(?:[eE][-+]?\d+)?|nan|inf)")


_RATIO = re.compile(re.escape(RATIO_PHRASE) + r" [^;\[]*")
# A confirmed claim lists the cases it was seen on (factors.Claim.text): two or three of them.
_SEEN = re.compile(r" \(observed ratio [^)]*\)")


def cause_key(finding: Finding) -> str:
    """The root cause a failing case's root finding names: its check and its message, numbers masked.

    Generic on purpose: the checks' messages say what is wrong (a missing 1/m, a convention,
    a wrong delta), and the same defect met on other networks, layers and dtypes differs only
    in numbers, indices and the dtype's name, which are masked here. Two keys that differ in
    words are two causes.
    """
    if FLOAT32_PRECISION in finding.message:  # one cause whichever check it broke first
        return f"precision: {FLOAT32_PRECISION}"
    text = _SEEN.sub("", _RATIO.sub("", finding.message))  # numbers, not causes
    for dtype in DTYPES:
        text = text.replace(dtype, "<dtype>")
    return f"{finding.check}: {_NUMBER.sub('#', text)}"


@dataclass(frozen=True)
class Cause:
    """One root cause: what its cases' first failed check says, what it explains, its smallest case.

    ``explains`` lists the failed (check, layer, dtype) verdicts of the cases filed under
    it (fix the cause and they should go); ``cases``: how many judged cases showed it.
    """

    key: str
    check: str
    layer: int | None
    dtype: str
    message: str
    network: str
    explains: list[tuple[str, int | None, str]]
    cases: int
    size: tuple[int, int, int]
    case_file: str | None = None
    replay: str | None = None

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Cause:
        fields = dict(data)
        fields["explains"] = [
            (str(check), None if layer is None else int(layer), str(dtype)) for check, layer, dtype in data["explains"]
        ]
        fields["size"] = tuple(int(n) for n in data["size"])
        return cls(**fields)

    def lines(self, number: int) -> list[str]:
        where = f" at layer {self.layer}" if self.layer is not None else ""
        lines = [
            f"[{number}] {self.check}{where} ({self.dtype}): {self.message}",
            f"    explains {len(self.explains)} failed verdict(s): {_explained(self.explains)}; "
            f"{self.cases} failing case(s)",
            f"    smallest case: {self.network}",
        ]
        if self.case_file:
            lines.append(f"    case file: {self.case_file}")
        if self.replay:
            lines.append(f"    replay: {self.replay}")
        return lines


def _ranges(numbers: list[int]) -> str:
    """2, 3, 4, 6 -> "2-4, 6"."""
    out: list[str] = []
    for n in numbers:
        if out and out[-1].split("-")[-1] == str(n - 1):
            out[-1] = f"{out[-1].split('-')[0]}-{n}"
        else:
            out.append(str(n))
    return ", ".join(out)


def _explained(explains: list[tuple[str, int | None, str]]) -> str:
    parts = []
    for check in CHECKS:
        rows = [(layer, dtype) for c, layer, dtype in explains if c == check]
        if not rows:
            continue
        layers = sorted({layer for layer, _ in rows if layer is not None})
        dtypes = [d for d in DTYPES if any(dtype == d for _, dtype in rows)]
        dtypes += sorted({dtype for _, dtype in rows} - set(dtypes))
        text = check + (f" at layer{'s' if len(layers) > 1 else ''} {_ranges(layers)}" if layers else "")
        parts.append(f"{text} ({', '.join(dtypes)})")
    return "; ".join(parts)


@dataclass(frozen=True)
class Exhibit:
    """The smallest case that shows a failed verdict or a cause, and what it shows: a case file to be."""

    report: CaseReport
    check: str
    layer: int | None
    message: str


@dataclass
class _Slot:
    status: Status = "not covered"
    message: str = ""
    cases: int = 0
    worst: tuple[tuple[int, int, int], CaseReport, Finding] | None = None
    refused: int = 0
    answered: int = 0
    refusal: tuple[tuple[int, int, int], CaseReport, Finding] | None = None  # the smallest refused case


@dataclass
class _CauseSlot:
    cases: int = 0
    explains: dict[tuple[str, int | None, str], None] = field(default_factory=dict)  # an ordered set
    smallest: tuple[tuple[int, int, int], CaseReport, Finding] | None = None


class Collector:
    """Accumulates findings from every case of a run, per verdict and per root cause."""

    def __init__(self) -> None:
        self.slots: dict[tuple[str, int | None, str], _Slot] = {}
        self.cause_slots: dict[str, _CauseSlot] = {}
        self.examples = 0

    def add(self, report: CaseReport, count: bool = True) -> None:
        """Fold one case in; ``count=False`` for cases seen while shrinking (not among the judged ones)."""
        self.examples += count
        size = case_size(report.case)
        root = report.root()
        if root is not None:
            cause = self.cause_slots.setdefault(cause_key(root), _CauseSlot())
            cause.cases += count
            for f in report.findings:
                if f.status == "failed":
                    cause.explains[(f.check, f.layer, report.case.dtype)] = None
            if cause.smallest is None or size < cause.smallest[0]:
                cause.smallest = (size, report, root)
        for finding in report.findings:
            key = (finding.check, finding.layer, report.case.dtype)
            slot = self.slots.setdefault(key, _Slot())
            slot.cases += finding.status != "not covered"
            if finding.status == "not covered" and finding.message.startswith(REFUSAL):
                slot.refused += 1
                if slot.refusal is None or size < slot.refusal[0]:
                    slot.refusal = (size, report, finding)
            elif finding.status in ("passed", "failed"):
                slot.answered += 1
            if _RANK[finding.status] > _RANK[slot.status]:
                slot.status, slot.message = finding.status, finding.message
            if finding.status == "failed" and (slot.worst is None or size < slot.worst[0]):
                slot.worst = (size, report, finding)
                slot.message = finding.message
            elif finding.status == slot.status and not slot.message:
                slot.message = finding.message

    def failures(self) -> int:
        return sum(slot.status == "failed" for slot in self.slots.values())

    def causes(self) -> list[tuple[Cause, Exhibit]]:
        """One Cause per root cause seen, in check order (fix the first first), then by reach,
        each with its smallest case (without a case file: the runner saves it)."""
        out = []
        for key, slot in self.cause_slots.items():
            assert slot.smallest is not None
            size, report, root = slot.smallest
            cause = Cause(
                key,
                root.check,
                root.layer,
                report.case.dtype,
                root.message,
                _network(report.case),
                list(slot.explains),
                slot.cases,
                size,
            )
            out.append((cause, Exhibit(report, root.check, root.layer, root.message)))
        return sorted(_at_most(out, self.failures()), key=lambda pair: _cause_order(pair[0]))

    def verdicts(self, dtypes: list[str], uncovered_dtypes: dict[str, str]) -> list[tuple[Verdict, Exhibit | None]]:
        """Every verdict, each failed one with its smallest case (without a case file: the runner saves it)."""
        out: list[tuple[Verdict, Exhibit | None]] = []
        for dtype in dtypes + [d for d in uncovered_dtypes if d not in dtypes]:
            if dtype in uncovered_dtypes:
                out.extend(
                    (Verdict(check, None, "not covered", uncovered_dtypes[dtype], dtype=dtype), None)
                    for check in CHECKS
                )
                continue
            for check in CHECKS:
                keys = sorted(
                    (k for k in self.slots if k[0] == check and k[2] == dtype),
                    key=lambda k: -1 if k[1] is None else k[1],
                )
                if not keys:
                    verdict = Verdict(check, None, "not covered", "no generated case exercised this check", dtype=dtype)
                    out.append((verdict, None))
                    continue
                out.extend(self._verdict(key) for key in keys)
        judged = selective_refusals([verdict for verdict, _ in out])
        for i, ((before, exhibit), after) in enumerate(zip(out, judged, strict=True)):
            if after is not before:
                refusal = self.slots[(after.check, after.layer, str(after.dtype))].refusal
                if refusal is not None:
                    _, report, _ = refusal
                    exhibit = Exhibit(report, after.check, after.layer, after.message)
                out[i] = (after, exhibit)
        return out

    def _verdict(self, key: tuple[str, int | None, str]) -> tuple[Verdict, Exhibit | None]:
        check, layer, dtype = key
        slot = self.slots[key]
        message = slot.message or {"passed": f"passed on {slot.cases} case(s)"}.get(slot.status, "")
        if slot.status == "passed":
            message = f"passed on {slot.cases} case(s)"
        exhibit = None
        size = None
        if slot.status == "failed" and slot.worst is not None:
            size, report, finding = slot.worst
            message = f"{finding.message} [{_network(report.case)}]"
            exhibit = Exhibit(report, check, layer, finding.message)
        refusal = slot.refusal[2].message.removeprefix(REFUSAL) if slot.refusal else ""
        verdict = Verdict(check, layer, slot.status, message, None, dtype, slot.cases, size=size)
        return replace(verdict, refused=slot.refused, answered=slot.answered, refusal=refusal), exhibit


def selective_refusals(verdicts: list[Verdict]) -> list[Verdict]:
    """The verdicts, with those of a check refused on some cases and answered on others failed.

    A refusal (an sgd_step raising NotImplementedError) means "not implemented" only when it is
    the implementation's answer to every case: refusing exactly the cases it gets wrong would
    otherwise hide them (CONTRACT.md section 1). Counted over every dtype and layer of the check,
    so that refusing all float32 cases while answering float64 ones fails too. Unchanged
    verdicts are returned as the same objects.
    """
    out = list(verdicts)
    for check in {v.check for v in verdicts if v.refused}:
        answered = sum(v.answered for v in verdicts if v.check == check)
        if not answered:
            continue  # refused everywhere: not implemented, reported as not covered
        for i, v in enumerate(out):
            if v.check == check and v.refused and v.status != "failed":
                message = (
                    f"refused {v.refused} case(s) ({v.refusal}) but answered {answered} other(s): "
                    "a refusal is all or nothing, refusing some cases of a capability hides them "
                    "(CONTRACT.md section 1)"
                )
                out[i] = replace(v, status="failed", message=message)
    return out


def _at_most(causes: list[tuple[Cause, Exhibit]], failed: int) -> list[tuple[Cause, Exhibit]]:
    """Never more root causes than failed verdicts: past that, the causes whose root is the same
    verdict (check, layer, dtype) are one, under the words of the one with the most cases."""
    if len(causes) <= failed:
        return causes
    merged: dict[tuple[str, int | None, str], tuple[Cause, Exhibit]] = {}
    for cause, exhibit in sorted(causes, key=lambda pair: (-pair[0].cases, pair[0].size)):
        slot = (cause.check, cause.layer, cause.dtype)
        if slot not in merged:
            merged[slot] = (cause, exhibit)
            continue
        kept, shown = merged[slot]
        explains = list(dict.fromkeys([*kept.explains, *cause.explains]))
        merged[slot] = (replace(kept, explains=explains, cases=kept.cases + cause.cases), shown)
    return list(merged.values())


def _cause_order(cause: Cause) -> tuple[int, int, int]:
    return (CHECKS.index(cause.check) if cause.check in CHECKS else len(CHECKS), -len(cause.explains), -cause.cases)


# A failed verdict's line in the default (not verbose) report: its cause, above, has the details.
_SHORT_LINE = 240


@dataclass
class Report:
    """The outcome of a conformance run."""

    implementation: str
    settings: dict[str, Any]
    verdicts: list[Verdict]
    not_covered: list[str] = field(default_factory=list)
    examples: int = 0
    duration: float = 0.0
    versions: dict[str, str] = field(default_factory=versions)
    # Per (dtype, regime) group: requested, asked, answered and judged case counts (search.GroupCount).
    groups: list[dict[str, Any]] = field(default_factory=list)
    capabilities_note: str | None = None
    causes: list[Cause] = field(default_factory=list)

    def incomplete(self) -> list[dict[str, Any]]:
        """The groups that judged fewer cases than requested, or stopped early."""
        return [g for g in self.groups if g.get("stopped") or g.get("judged", 0) < g.get("requested", 0)]

    @property
    def ok(self) -> bool:
        """Conforms: no check failed (or was blocked), every requested case was judged, and
        something was actually checked."""
        return (
            not any(v.status in ("failed", "blocked") for v in self.verdicts)
            and not self.incomplete()
            and any(v.status == "passed" for v in self.verdicts)
        )

    def failed(self) -> list[Verdict]:
        return [v for v in self.verdicts if v.status == "failed"]

    def __repr__(self) -> str:
        """One line: the outcome and the verdict counts; ``format()`` is the report."""
        statuses = [v.status for v in self.verdicts]
        counts = ", ".join(f"{statuses.count(s)} {s}" for s in ("passed", "failed", "blocked", "not covered"))
        word = "CONFORMS" if self.ok else "DOES NOT CONFORM"
        return short_repr("Report", word, f"{counts}, {self.examples} cases; {self.implementation}")

    def to_dict(self) -> dict[str, Any]:
        return {
            "ok": self.ok,
            "versions": self.versions,
            "implementation": self.implementation,
            "settings": self.settings,
            "examples": self.examples,
            "duration_seconds": round(self.duration, 3),
            "not_covered": self.not_covered,
            "groups": self.groups,
            "capabilities_note": self.capabilities_note,
            "causes": [asdict(c) for c in self.causes],
            "verdicts": [asdict(v) for v in self.verdicts],
            "summary_table": self.table(),
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Report:
        return cls(
            implementation=data["implementation"],
            settings=data["settings"],
            verdicts=[_verdict_from_dict(v) for v in data["verdicts"]],
            not_covered=list(data.get("not_covered", [])),
            examples=int(data.get("examples", 0)),
            duration=float(data.get("duration_seconds", 0.0)),
            versions=dict(data.get("versions", {})),
            groups=[dict(g) for g in data.get("groups", [])],
            capabilities_note=data.get("capabilities_note"),
            causes=[Cause.from_dict(c) for c in data.get("causes", [])],
        )

    def write_json(self, path: str | Path) -> None:
        Path(path).write_text(json.dumps(self.to_dict(), indent=2) + "\n", encoding="utf-8")

    def header(self, counts: bool = True) -> str:
        """Versions, implementation, settings and seed; ``counts=False``: without the run's counts
        (RUN_COUNTS), for a header printed before the run."""
        v = self.versions
        left_out = ("conventions", "shapes", "rerun") if counts else ("conventions", "shapes", "rerun", *RUN_COUNTS)
        settings = ", ".join(f"{k} {val}" for k, val in self.settings.items() if k not in left_out)
        note = f" ({self.capabilities_note})" if self.capabilities_note else ""
        conventions = self.settings.get("conventions")
        declared = (
            "\nconventions: " + ", ".join(f"{k} = {val}" for k, val in conventions.items())
            if isinstance(conventions, dict) and conventions
            else ""
        )
        # "shapes": "few" judged a pool of shapes only: said before any verdict, so that none is over-claimed.
        shapes = f"\nshapes: {self.settings['shapes']}" if self.settings.get("shapes") else ""
        return (
            f"backprop conformance suite {v.get('suite')} (contract {v.get('contract')}, reference "
            f"{v.get('reference')})\nimplementation: {self.implementation}{note}{declared}{shapes}"
            f"\nsettings: {settings}"
            + (
                f"\nseed {self.settings.get('seed')} was drawn at random; this command repeats the run: "
                f"{self.settings['rerun']}"
                if self.settings.get("rerun")
                else ""
            )
        )

    def causes_text(self) -> str:
        """The root causes, numbered: each with what it explains and its smallest case."""
        if not self.causes:
            return ""
        head = (
            f"{len(self.causes)} root cause(s): the first failed check of each failing case, grouped by "
            "what it says (fix the first first; the verdicts each explains may go with it)"
        )
        return "\n".join([head, *(line for i, c in enumerate(self.causes, 1) for line in c.lines(i))])

    def accounting(self) -> str:
        """One line per group: cases requested, asked, answered and judged."""
        lines = []
        for g in self.groups:
            line = (
                f"  {g['dtype']}/{g['regime']}: {g['requested']} requested, {g['asked']} asked, "
                f"{g['answered']} answered, {g['judged']} judged"
            )
            if g.get("shrink_judged"):
                line += f"; {g['shrink_judged']} judged while shrinking"
                if g.get("shrink_budget_hit"):
                    line += f" (the budget, for {g['shrink_budget_hit']} cause(s))"
            lines.append(line + (f" (stopped: {g['stopped']})" if g.get("stopped") else ""))
        return "cases per group:\n" + "\n".join(lines) if lines else ""

    def shrink_note(self) -> str:
        """Which groups' shrinking stopped at its budget, or "": their smallest cases may not be minimal.

        The budget is a count (search.SearchSettings.shrink_cases), so the same seed stops at
        the same case on any machine: the note is about minimality, not about reproducibility.
        """
        hit = [g for g in self.groups if g.get("shrink_budget_hit")]
        if not hit:
            return ""
        where = ", ".join(f"{g['dtype']}/{g['regime']}" for g in hit)
        budget = self.settings.get("shrink budget per group")
        share = f" of {budget} cases per group" if budget else ""
        return (
            f"note: shrinking stopped at its budget{share} in {where}: the smallest cases of the causes "
            "found there may not be minimal (the same seed stops at the same case)"
        )

    def table(self, colour: bool = False) -> str:
        """One check x layer table per dtype, then a legend of the marks it uses (LEGEND).

        A layered check has a mark in every layer column (NO_LAYER where no case had it there) and,
        under "all", the worst mark of its row; a check judged on the whole case has the "all" cell
        only. ``colour``: ANSI colours for a terminal (never in the report's JSON).
        """
        blocks = []
        used: set[str] = set()
        layered_rows = False
        width = 8
        for dtype in dict.fromkeys(v.dtype for v in self.verdicts):
            rows = [v for v in self.verdicts if v.dtype == dtype]
            if all(v.status == "not covered" for v in rows):
                blocks.append(f"{dtype}: not covered ({rows[0].message})")
                continue
            layers = sorted({v.layer for v in rows if v.layer is not None})
            columns: list[int | None] = [None, *layers]
            head = f"{'check':<17}" + "".join(f"{'all' if c is None else 'l=' + str(c):>{width}}" for c in columns)
            lines = [f"{dtype}:", head]
            for check in CHECKS:
                statuses = {v.layer: v.status for v in rows if v.check == check}
                if not statuses:
                    continue
                per_layer = check in LAYERED and bool(layers)
                layered_rows = layered_rows or per_layer
                marks = [_CELL[_summarise(list(statuses.values()))]]
                if per_layer:
                    marks += [_CELL[statuses[c]] if c in statuses else NO_LAYER for c in layers]
                used.update(marks)
                cells = "".join(_painted(f"{mark:>{width}}", mark, colour) for mark in marks)
                lines.append(f"{check:<17}{cells}")
            blocks.append("\n".join(lines))
        if layered_rows:
            used.add("all")
        legend = [
            textwrap.fill(meaning, _LEGEND_WIDTH, initial_indent=f"  {mark:<9}", subsequent_indent=" " * 11)
            for mark, meaning in LEGEND.items()
            if mark in used
        ]
        if legend:
            blocks.append("\n".join(["legend:", *legend]))
        return "\n\n".join(blocks)

    def format(self, verbose: bool = False, *, header: bool = True, colour: bool = False) -> str:
        """The report as text: header, causes, failed verdicts, table, outcome line (the last line).

        ``header=False``: for a header already printed before the run (``header(counts=False)``);
        the run's counts it left out are said here instead, when there are any. ``colour``: ANSI
        colours for a terminal (colour.colour_wanted decides).
        """
        parts = [self.header()] if header else []
        if not header:
            counts = [f"{k}: {self.settings[k]}" for k in RUN_COUNTS if self.settings.get(k)]
            if counts:
                parts.append(", ".join(counts))
        if self.not_covered:
            parts.append("not covered: " + "; ".join(self.not_covered))
        failed = [v for v in self.verdicts if v.status == "failed"]
        if self.causes:
            parts.append(self.causes_text())
            if self.shrink_note():
                parts.append(self.shrink_note())
        lines = []
        for v in failed:
            text = v.line()
            if verbose or not self.causes:
                if v.case_file:
                    text += f"\n    smallest failing case: {v.case_file}\n    replay: {v.replay}"
            elif len(text) > _SHORT_LINE:
                text = text[: _SHORT_LINE - 3] + "..."
            lines.append(text)
        if lines:
            title = "failed verdicts (-v: each with its smallest case):\n" if self.causes else ""
            parts.append(title + "\n".join(lines))
        if verbose:
            parts.extend(v.line() for v in self.verdicts if v.status in ("blocked", "not covered"))
        parts.append(self.table(colour))
        incomplete = self.incomplete()
        if incomplete or verbose:
            parts.append(self.accounting())
        painted = paint(self.outcome(), "pass" if self.ok else "fail", colour)
        parts.append(f"{painted} ({self.examples} cases in {self.duration:.1f} s)")
        return "\n\n".join(parts)

    def outcome(self) -> str:
        """The run's verdict in words, the last line of ``format`` and of the pytest plugin's summary."""
        failed = self.failed()
        incomplete = self.incomplete()
        blocked = [v for v in self.verdicts if v.status == "blocked"]
        if self.ok:
            return "CONFORMS"
        if failed:
            causes = f" from {len(self.causes)} root cause(s)" if self.causes else ""
            return f"DOES NOT CONFORM: {len(failed)} failed verdict(s){causes}"
        if incomplete:
            return f"DOES NOT CONFORM: INCOMPLETE, {len(incomplete)} group(s) judged fewer cases than requested"
        if blocked:
            return f"DOES NOT CONFORM: {len(blocked)} blocked verdict(s)"
        return "NOTHING WAS CHECKED"


def _summarise(statuses: list[Status]) -> Status:
    return max(statuses, key=lambda s: _RANK[s])


def _painted(cell: str, mark: str, colour: bool) -> str:
    style = _STYLE.get(mark)
    return paint(cell, style, colour) if style else cell


def merge(reports: list[Report]) -> Report:
    """One report from several (pytest-xdist workers, or groups run separately)."""
    if not reports:
        raise ValueError("nothing to merge")
    best: dict[tuple[str, int | None, str | None], Verdict] = {}
    for report in reports:
        for v in report.verdicts:
            key = (v.check, v.layer, v.dtype)
            old = best.get(key)
            counts = (v.refused, v.answered, v.refusal)
            if old is not None:
                counts = (old.refused + v.refused, old.answered + v.answered, old.refusal or v.refusal)
            kept = v if old is None else _merged_verdict(old, v)
            best[key] = replace(kept, refused=counts[0], answered=counts[1], refusal=counts[2])
    # drop "not covered: no case exercised it" rows that another report did cover at some layer
    covered = {(k[0], k[2]) for k, v in best.items() if v.status != "not covered"}
    verdicts = selective_refusals(
        [v for k, v in best.items() if v.status != "not covered" or (k[0], k[2]) not in covered or k[1] is not None]
    )
    first = reports[0]
    settings = dict(first.settings)
    for name in ("regimes", "dtypes"):
        if all(isinstance(r.settings.get(name), list) for r in reports):
            settings[name] = list(dict.fromkeys(x for r in reports for x in r.settings[name]))
    dtype_order = {"float64": 0, "float32": 1}
    return Report(
        implementation=first.implementation,
        settings=settings,
        verdicts=sorted(
            verdicts,
            key=lambda v: (dtype_order.get(str(v.dtype), 2), CHECKS.index(v.check), v.layer or 0),
        ),
        not_covered=list(dict.fromkeys(n for r in reports for n in r.not_covered)),
        examples=sum(r.examples for r in reports),
        duration=sum(r.duration for r in reports),
        versions=first.versions,
        groups=[g for r in reports for g in r.groups],
        capabilities_note=first.capabilities_note,
        causes=merge_causes([c for r in reports for c in r.causes]),
    )


def _verdict_from_dict(data: dict[str, Any]) -> Verdict:
    fields = dict(data)
    if fields.get("size") is not None:
        fields["size"] = tuple(int(n) for n in fields["size"])
    return Verdict(**fields)


def _merged_verdict(old: Verdict, new: Verdict) -> Verdict:
    """One verdict from two reports' (groups run apart), as one run over both groups' cases would give it.

    The Collector's rules: the highest-ranked status; every judged case counted (whatever its
    status); a failed verdict's message and case from its smallest case (the earlier one on a
    tie); any other status's message from its first report; "passed on N case(s)" recounted.
    """
    cases = old.cases + new.cases
    if _RANK[new.status] > _RANK[old.status]:
        kept = new
    elif new.status == old.status == "failed" and new.size is not None and (old.size is None or new.size < old.size):
        kept = new
    else:
        kept = old
    message = f"passed on {cases} case(s)" if kept.status == "passed" else kept.message
    return replace(kept, cases=cases, message=message)


def merge_causes(causes: list[Cause]) -> list[Cause]:
    """One Cause per key: the cases summed, the verdicts explained united, the smallest case kept."""
    merged: dict[str, Cause] = {}
    for cause in causes:
        old = merged.get(cause.key)
        if old is None:
            merged[cause.key] = cause
            continue
        small = cause if cause.size < old.size else old
        explains = list(dict.fromkeys([*old.explains, *cause.explains]))
        merged[cause.key] = Cause(**{**asdict(small), "explains": explains, "cases": old.cases + cause.cases})
    return sorted(merged.values(), key=_cause_order)
