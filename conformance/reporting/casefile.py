"""Failing cases as JSON files that replay with one command.

A case file holds the contract's case object (the same encoding as the JSON-lines
protocol, so any language can read it), the learning rate and sample order the
checks used, and what failed. ``python -m conformance replay FILE --impl X`` runs
every check on exactly that case again.
"""

from __future__ import annotations

import hashlib
import json
import math
import shlex
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from conformance.errors import CaseFileError, JSONInputError
from conformance.implementations import contract
from conformance.implementations.safejson import load_json_file, one_line
from conformance.reporting.versions import versions
from reference import Case

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


# A saved case is a few kilobytes (the search stays below 8 layers of width 8); the
# limit leaves room for hand-made cases of about a million parameters, and bounds
# the memory a hostile file can make the parser take. The deepest legitimate value
# is 5 levels (document > case > weights > matrix > row).
MAX_CASE_FILE_BYTES = 32 * 2**20
MAX_CASE_FILE_DEPTH = 16
_TEXT_FIELDS = ("check", "implementation", "message", "dtype")


def _is_int(value: object) -> bool:
    """A JSON integer: bool is an int subclass in Python, but true is not a number."""
    return isinstance(value, int) and not isinstance(value, bool)


def _describe(value: object) -> str:
    text = one_line(json.dumps(value) if isinstance(value, (list, dict, str)) else repr(value), 60)
    return f"{type(value).__name__} {text}" if not isinstance(value, (list, dict)) else text


def _eta(path: str | Path, document: Mapping[str, Any]) -> float:
    eta = document.get("eta", 0.5)
    if isinstance(eta, bool) or not isinstance(eta, int | float):
        raise CaseFileError(f"case file {path}: 'eta' must be a positive number, got {_describe(eta)}")
    value = float(eta)
    if not (math.isfinite(value) and value > 0):
        raise CaseFileError(f"case file {path}: 'eta' must be a finite positive number, got {value!r}")
    return value


def _permutation(path: str | Path, document: Mapping[str, Any], m: int) -> tuple[int, ...]:
    if "permutation" not in document:
        return tuple(range(m - 1, -1, -1))
    given = document["permutation"]
    expected = f"a list of the {m} integers 0..{m - 1}, each once (m = {m} samples)"
    if not isinstance(given, list):
        raise CaseFileError(f"case file {path}: 'permutation' must be {expected}, got {_describe(given)}")
    for i, item in enumerate(given):
        if not _is_int(item):
            raise CaseFileError(f"case file {path}: 'permutation'[{i}] must be an integer, got {_describe(item)}")
    if len(given) != m or sorted(given) != list(range(m)):
        raise CaseFileError(f"case file {path}: 'permutation' must be {expected}, got {_describe(given)}")
    return tuple(given)


def _metadata(path: str | Path, document: Mapping[str, Any]) -> dict[str, Any]:
    """The informational fields, type-checked and made printable (they reach the report)."""
    if "format" in document and document["format"] != FORMAT:
        raise CaseFileError(f"case file {path}: 'format' is {_describe(document['format'])}, expected {FORMAT!r}")
    clean = dict(document)
    for name in _TEXT_FIELDS:
        value = document.get(name)
        if value is not None and not isinstance(value, str):
            raise CaseFileError(f"case file {path}: {name!r} must be a string or null, got {_describe(value)}")
        if value is not None:
            clean[name] = one_line(value, 2000)
    layer = document.get("layer")
    if layer is not None and not (_is_int(layer) and 1 <= layer <= 10**6):
        raise CaseFileError(f"case file {path}: 'layer' must be a layer number or null, got {_describe(layer)}")
    return clean


def load_case(path: str | Path) -> tuple[Case, float, tuple[int, ...], Mapping[str, Any]]:
    """A saved case file, read for replaying or debugging (``conformance.load_case``).

    Returns (case, eta, permutation, document): the ``reference.Case`` the implementation was
    given, in its dtype; the learning rate and the sample order the ``sgd_step`` and
    ``permutation`` checks used; and the whole file, whose "check", "layer" and "message" say
    what failed. Anything else raises CaseFileError, one line naming the file and the field.

    The file is untrusted (it may come from a bug report): its size, nesting and
    integer literals are bounded before anything else reads it, and every field is
    checked before the case reaches an implementation.
    """
    try:
        document = load_json_file(
            path,
            what=f"case file {path}",
            max_bytes=MAX_CASE_FILE_BYTES,
            max_depth=MAX_CASE_FILE_DEPTH,
            allow_nan_tokens=True,  # CONTRACT.md section 4: receivers accept them; the fields reject non-finite
        )
    except JSONInputError as error:
        raise CaseFileError(str(error)) from None
    if not isinstance(document, dict) or not isinstance(document.get("case"), dict):
        got = "an object without a 'case' object" if isinstance(document, dict) else f"a JSON {_json_type(document)}"
        raise CaseFileError(
            f"case file {path}: not a conformance case file: expected an object with a 'case' object, got {got}"
        )
    clean = _metadata(path, document)
    try:
        case = contract.decode_case(document["case"])
    except (TypeError, ValueError) as error:
        raise CaseFileError(f"case file {path}: 'case' is invalid: {one_line(error)}") from None
    except Exception as error:  # noqa: BLE001 - hostile values can reach numpy in ways no validator lists
        raise CaseFileError(
            f"case file {path}: 'case' is invalid ({type(error).__name__}: {one_line(error)})"
        ) from None
    eta = _eta(path, document)
    permutation = _permutation(path, document, case.m)
    return case, eta, permutation, clean


def _json_type(value: object) -> str:
    return {list: "array", str: "string", bool: "boolean", int: "number", float: "number"}.get(
        type(value), "null" if value is None else type(value).__name__
    )
