"""Failing cases as JSON files that replay with one command.

A case file holds the contract's case object (the same encoding as the JSON-lines
protocol, so any language can read it), the learning rate and sample order the
checks used, and what failed. ``python -m conformance replay FILE --impl X`` runs
every check on exactly that case again.
"""

from __future__ import annotations

import hashlib
import json
import shlex
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from reference import Case

from . import contract
from .versions import versions

FORMAT = "backprop-conformance-case"


def replay_command(path: str | Path, replay_args: str) -> str:
    return f"python -m conformance replay {shlex.quote(str(path))} {replay_args}"


def save_case(
    directory: str | Path,
    case: Case,
    *,
    eta: float,
    permutation: tuple[int, ...],
    check: str,
    layer: int | None,
    message: str,
    implementation: str,
) -> Path:
    """Write the case under a name derived from its content (re-running does not pile up copies)."""
    body = {"case": contract.encode_case(case), "eta": eta, "permutation": list(permutation)}
    digest = hashlib.sha256(contract.dumps(body).encode()).hexdigest()[:10]
    where = f"-layer{layer}" if layer is not None else ""
    path = Path(directory) / f"{check}{where}-{case.dtype}-{digest}.json"
    path.parent.mkdir(parents=True, exist_ok=True)
    document = {
        "format": FORMAT,
        "versions": versions(),
        "implementation": implementation,
        "check": check,
        "layer": layer,
        "dtype": case.dtype,
        "message": message,
        **body,
    }
    path.write_text(json.dumps(document, indent=1) + "\n", encoding="utf-8")
    return path


class CaseFileError(ValueError):
    pass


def load_case(path: str | Path) -> tuple[Case, float, tuple[int, ...], Mapping[str, Any]]:
    """(case, eta, permutation, the whole document); CaseFileError for anything else."""
    try:
        document = json.loads(Path(path).read_text(encoding="utf-8"))
    except (OSError, ValueError) as error:
        raise CaseFileError(f"cannot read case file {path}: {error}") from None
    if not isinstance(document, dict) or "case" not in document:
        raise CaseFileError(f"{path} is not a conformance case file (no 'case' object)")
    try:
        case = contract.decode_case(document["case"])
    except (TypeError, ValueError) as error:
        raise CaseFileError(f"{path}: the case is invalid: {error}") from None
    eta = float(document.get("eta", 0.5))
    m = case.m
    permutation = tuple(int(i) for i in document.get("permutation", range(m - 1, -1, -1)))
    if sorted(permutation) != list(range(m)):
        raise CaseFileError(f"{path}: 'permutation' must be a permutation of 0..{m - 1}")
    return case, eta, permutation, document
