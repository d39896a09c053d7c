"""Verdicts, the report, and the check x layer summary table.

Findings from every case are folded into one Verdict per (check, layer, dtype):
failed if any case failed it, else blocked if any case was blocked, else passed
if any case passed, else not covered. A failed verdict carries the smallest case
that shows it (Hypothesis shrinks towards small networks; of the failing cases
seen, the smallest is kept) saved as a case file with a replay command.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from reference import Case

from .casefile import replay_command, save_case
from .checks import CHECKS, LAYERED, CaseReport, Finding, Status
from .versions import versions

_RANK: dict[str, int] = {"failed": 3, "blocked": 2, "passed": 1, "not covered": 0}
_CELL = {"passed": "pass", "failed": "FAIL", "blocked": "blocked", "not covered": "-"}


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

    def line(self) -> str:
        where = f" layer {self.layer}" if self.layer is not None else ""
        dtype = f" ({self.dtype})" if self.dtype else ""
        return f"{self.status.upper()}: {self.check}{where}{dtype}: {self.message}"


def _size(case: Case) -> tuple[int, int, int]:
    return (case.n_params + case.m * (case.sizes[0] + case.sizes[-1]), len(case.sizes), case.m)


@dataclass
class _Slot:
    status: Status = "not covered"
    message: str = ""
    cases: int = 0
    worst: tuple[tuple[int, int, int], CaseReport, Finding] | None = None


class Collector:
    """Accumulates findings from every case of a run."""

    def __init__(self) -> None:
        self.slots: dict[tuple[str, int | None, str], _Slot] = {}
        self.examples = 0
        self.notes: list[str] = []

    def add(self, report: CaseReport, count: bool = True) -> None:
        self.examples += count
        size = _size(report.case)
        for finding in report.findings:
            key = (finding.check, finding.layer, report.case.dtype)
            slot = self.slots.setdefault(key, _Slot())
            slot.cases += finding.status != "not covered"
            if _RANK[finding.status] > _RANK[slot.status]:
                slot.status, slot.message = finding.status, finding.message
            if finding.status == "failed" and (slot.worst is None or size < slot.worst[0]):
                slot.worst = (size, report, finding)
                slot.message = finding.message
            elif finding.status == slot.status and not slot.message:
                slot.message = finding.message

    def failures(self) -> int:
        return sum(slot.status == "failed" for slot in self.slots.values())

    def verdicts(
        self,
        dtypes: list[str],
        uncovered_dtypes: dict[str, str],
        failures_dir: str | Path | None,
        implementation: str,
        replay_args: str,
    ) -> list[Verdict]:
        out: list[Verdict] = []
        for dtype in dtypes + [d for d in uncovered_dtypes if d not in dtypes]:
            if dtype in uncovered_dtypes:
                out.extend(
                    Verdict(check, None, "not covered", uncovered_dtypes[dtype], dtype=dtype) for check in CHECKS
                )
                continue
            for check in CHECKS:
                keys = sorted(
                    (k for k in self.slots if k[0] == check and k[2] == dtype),
                    key=lambda k: -1 if k[1] is None else k[1],
                )
                if not keys:
                    out.append(
                        Verdict(
                            check,
                            None,
                            "not covered",
                            "no generated case exercised this check",
                            dtype=dtype,
                        )
                    )
                    continue
                for key in keys:
                    out.append(self._verdict(key, failures_dir, implementation, replay_args))
        return out

    def _verdict(
        self,
        key: tuple[str, int | None, str],
        failures_dir: str | Path | None,
        implementation: str,
        replay_args: str,
    ) -> Verdict:
        check, layer, dtype = key
        slot = self.slots[key]
        message = slot.message or {"passed": f"passed on {slot.cases} case(s)"}.get(slot.status, "")
        if slot.status == "passed":
            message = f"passed on {slot.cases} case(s)"
        case_file = replay = None
        if slot.status == "failed" and slot.worst is not None:
            _, report, finding = slot.worst
            case = report.case
            message = (
                f"{finding.message} [network sizes {tuple(case.sizes)}, activations "
                f"{', '.join(case.activations)}, cost {case.cost}, "
                f"reduction {case.reduction}, m = {case.m}]"
            )
            if failures_dir is not None:
                path = save_case(
                    failures_dir,
                    case,
                    eta=report.eta,
                    permutation=report.permutation,
                    check=check,
                    layer=layer,
                    message=finding.message,
                    implementation=implementation,
                )
                case_file = str(path)
                replay = replay_command(path, replay_args)
        return Verdict(check, layer, slot.status, message, case_file, dtype, slot.cases, replay)


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
            "verdicts": [asdict(v) for v in self.verdicts],
            "summary_table": self.table(),
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Report:
        return cls(
            implementation=data["implementation"],
            settings=data["settings"],
            verdicts=[Verdict(**v) for v in data["verdicts"]],
            not_covered=list(data.get("not_covered", [])),
            examples=int(data.get("examples", 0)),
            duration=float(data.get("duration_seconds", 0.0)),
            versions=dict(data.get("versions", {})),
            groups=[dict(g) for g in data.get("groups", [])],
            capabilities_note=data.get("capabilities_note"),
        )

    def write_json(self, path: str | Path) -> None:
        Path(path).write_text(json.dumps(self.to_dict(), indent=2) + "\n", encoding="utf-8")

    def header(self) -> str:
        v = self.versions
        settings = ", ".join(f"{k} {val}" for k, val in self.settings.items())
        note = f" ({self.capabilities_note})" if self.capabilities_note else ""
        return (
            f"backprop conformance suite {v.get('suite')} (contract {v.get('contract')}, reference "
            f"{v.get('reference')})\nimplementation: {self.implementation}{note}\nsettings: {settings}"
        )

    def accounting(self) -> str:
        """One line per group: cases requested, asked, answered and judged."""
        lines = []
        for g in self.groups:
            line = (
                f"  {g['dtype']}/{g['regime']}: {g['requested']} requested, {g['asked']} asked, "
                f"{g['answered']} answered, {g['judged']} judged"
            )
            lines.append(line + (f" (stopped: {g['stopped']})" if g.get("stopped") else ""))
        return "cases per group:\n" + "\n".join(lines) if lines else ""

    def table(self) -> str:
        """One check x layer table per dtype: pass / FAIL / blocked / - (not covered)."""
        blocks = []
        for dtype in dict.fromkeys(v.dtype for v in self.verdicts):
            rows = [v for v in self.verdicts if v.dtype == dtype]
            if all(v.status == "not covered" for v in rows):
                blocks.append(f"{dtype}: not covered ({rows[0].message.removeprefix('not covered: ')})")
                continue
            layers = sorted({v.layer for v in rows if v.layer is not None})
            columns: list[int | None] = [None, *layers]
            width = 8
            head = f"{'check':<17}" + "".join(f"{'all' if c is None else 'l=' + str(c):>{width}}" for c in columns)
            lines = [f"{dtype}:", head]
            for check in CHECKS:
                cells = {v.layer: v.status for v in rows if v.check == check}
                if not cells:
                    continue
                text = f"{check:<17}"
                for c in columns:
                    status = cells.get(c)
                    if c is None and status is None and check in LAYERED:
                        status = _summarise([s for s in cells.values()])
                    text += f"{_CELL[status] if status else '':>{width}}"
                lines.append(text.rstrip())
            blocks.append("\n".join(lines))
        return "\n\n".join(blocks)

    def format(self, verbose: bool = False) -> str:
        parts = [self.header()]
        if self.not_covered:
            parts.append("not covered: " + "; ".join(self.not_covered))
        failed = [v for v in self.verdicts if v.status == "failed"]
        for v in failed:
            text = v.line()
            if v.case_file:
                text += f"\n    smallest failing case: {v.case_file}\n    replay: {v.replay}"
            parts.append(text)
        if verbose:
            parts.extend(v.line() for v in self.verdicts if v.status in ("blocked", "not covered"))
        parts.append(self.table())
        incomplete = self.incomplete()
        if incomplete or verbose:
            parts.append(self.accounting())
        blocked = [v for v in self.verdicts if v.status == "blocked"]
        if self.ok:
            outcome = "CONFORMS"
        elif failed:
            outcome = f"DOES NOT CONFORM: {len(failed)} failed verdict(s)"
        elif incomplete:
            outcome = f"DOES NOT CONFORM: INCOMPLETE, {len(incomplete)} group(s) judged fewer cases than requested"
        elif blocked:
            outcome = f"DOES NOT CONFORM: {len(blocked)} blocked verdict(s)"
        else:
            outcome = "NOTHING WAS CHECKED"
        parts.append(f"{outcome} ({self.examples} cases in {self.duration:.1f} s)")
        return "\n\n".join(parts)


def _summarise(statuses: list[Status]) -> Status:
    return max(statuses, key=lambda s: _RANK[s])


def merge(reports: list[Report]) -> Report:
    """One report from several (pytest-xdist workers, or groups run separately)."""
    if not reports:
        raise ValueError("nothing to merge")
    best: dict[tuple[str, int | None, str | None], Verdict] = {}
    for report in reports:
        for v in report.verdicts:
            key = (v.check, v.layer, v.dtype)
            old = best.get(key)
            if old is None or _RANK[v.status] > _RANK[old.status]:
                best[key] = v
            elif v.status == old.status:
                best[key] = Verdict(**{**asdict(old), "cases": old.cases + v.cases})
    # drop "not covered: no case exercised it" rows that another report did cover at some layer
    covered = {(k[0], k[2]) for k, v in best.items() if v.status != "not covered"}
    verdicts = [
        v for k, v in best.items() if v.status != "not covered" or (k[0], k[2]) not in covered or k[1] is not None
    ]
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
    )
