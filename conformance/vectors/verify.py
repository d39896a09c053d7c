"""Check results written by any program against the golden vectors.

A result file is ``RESULTS_DIR/<vector id>.json``: one JSON object with the fields of
a backprop answer (CONTRACT.md, "Golden vectors"). Each element is compared with
the 50-digit expected value under the vector's own per-element tolerance, so this
module needs no error model and no engine (it imports neither): the numbers are all in the files.

Every file is untrusted (RESULTS_DIR is written by the program under test, and
``--vectors`` may name any directory): files are read only inside their directory,
by plain names (no path separators, no symbolic links, nothing but regular files),
with bounded size, nesting and integer literals (conformance.implementations.safejson). A bad
result file fails its vector; a bad manifest or vector file is a usage error.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from conformance.errors import JSONInputError, VectorsError
from conformance.implementations.contract import decode_value
from conformance.implementations.safejson import load_json_file, loads_bounded, one_line, read_bounded
from reference._ops import Array

DEFAULT_VECTORS = Path(__file__).resolve().parent
MANIFEST = "manifest.json"

# Order of diagnosis: equation 1 and 2 (deltas) cause equations 3 and 4.
_FIELDS = ("deltas", "grad_biases", "grad_weights")


@dataclass
class VectorOutcome:
    """One vector's verdict: "passed", "failed" or "missing"."""

    id: str
    status: str
    messages: list[str] = field(default_factory=list)


# The largest shipped vector is a few tens of kilobytes; a result is smaller than its vector.
MAX_MANIFEST_BYTES = 2**20
MAX_VECTOR_BYTES = 8 * 2**20
MAX_RESULT_BYTES = 8 * 2**20
MAX_DEPTH = 16  # the deepest legitimate value is 5 levels (document > field > layer > row > number)
_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,199}\Z")
_SHA256 = re.compile(r"[0-9a-f]{64}\Z")


def sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _plain_name(value: object, where: str, suffix: str = "") -> str:
    """A file name or id that can only name an entry of its own directory (no '/', '..', or leading '.')."""
    if not isinstance(value, str) or not _NAME.match(value) or not value.endswith(suffix):
        shown = one_line(json.dumps(value), 80)
        raise VectorsError(
            f"{where} must be a plain name of letters, digits, '.', '_' or '-'"
            + (f" ending in {suffix}" if suffix else "")
            + f" (no directories), got {shown}"
        )
    return value


def _check_manifest(manifest: object, path: Path) -> list[dict[str, Any]]:
    """The manifest's vector entries, each field checked; VectorsError naming the entry and field."""
    if not isinstance(manifest, dict) or not isinstance(manifest.get("vectors"), list) or not manifest["vectors"]:
        raise VectorsError(f"{path}: malformed manifest: expected an object with a non-empty 'vectors' list")
    entries: list[dict[str, Any]] = []
    ids: set[str] = set()
    files: set[str] = set()
    for i, entry in enumerate(manifest["vectors"]):
        where = f"{path}: vectors[{i}]"
        if not isinstance(entry, dict):
            raise VectorsError(
                f"{where} must be an object with id, file and sha256, got {one_line(json.dumps(entry), 80)}"
            )
        vector_id = _plain_name(entry.get("id"), f"{where}.id")
        file = _plain_name(entry.get("file"), f"{where}.file", ".json")
        digest = entry.get("sha256")
        if not isinstance(digest, str) or not _SHA256.match(digest):
            raise VectorsError(
                f"{where}.sha256 must be 64 lowercase hex digits, got {one_line(json.dumps(digest), 80)}"
            )
        if file == MANIFEST:
            raise VectorsError(f"{where}.file names the manifest itself")
        if vector_id in ids or file in files:
            raise VectorsError(f"{where} repeats the id {vector_id!r} or the file {file!r} of an earlier entry")
        ids.add(vector_id)
        files.add(file)
        entries.append(entry)
    return entries


def _read_vector_bytes(vectors_dir: Path, file: str) -> bytes | None:
    """The bytes of a listed vector file, None when it is missing; VectorsError when unreadable."""
    path = vectors_dir / file
    if not os.path.lexists(path):
        return None
    try:
        return read_bounded(path, max_bytes=MAX_VECTOR_BYTES, what=f"vector file {path}", follow_symlinks=False)
    except JSONInputError as error:
        raise VectorsError(str(error)) from None


def load_manifest(vectors_dir: Path) -> dict[str, Any]:
    """The manifest, after checking its fields and every listed file's sha256; VectorsError on any problem."""
    path = vectors_dir / MANIFEST
    if not path.is_file():
        raise VectorsError(f"{vectors_dir} has no {MANIFEST}: not a golden-vector directory")
    try:
        manifest: dict[str, Any] = load_json_file(
            path, what=f"manifest {path}", max_bytes=MAX_MANIFEST_BYTES, max_depth=MAX_DEPTH, follow_symlinks=False
        )
    except JSONInputError as error:
        raise VectorsError(str(error)) from None
    problems = []
    for entry in _check_manifest(manifest, path):
        data = _read_vector_bytes(vectors_dir, entry["file"])
        if data is None:
            problems.append(f"{entry['file']} is listed in the manifest but missing")
        elif (digest := hashlib.sha256(data).hexdigest()) != entry["sha256"]:
            problems.append(f"{entry['file']} has sha256 {digest}, the manifest says {entry['sha256']}")
    if problems:
        raise VectorsError(
            "the vectors do not match their manifest (regenerate with "
            "`python -m conformance.vectors "
            "generate`, or restore them): " + "; ".join(problems)
        )
    return manifest


def _float_array(value: Any, where: str) -> Array:
    try:
        array = np.asarray(decode_value(value), dtype=np.float64)
    except (TypeError, ValueError, OverflowError) as error:
        raise VectorsError(f"{where} is not an array of numbers ({one_line(error, 120)})") from None
    return array


def _load_vector(vectors_dir: Path, entry: Mapping[str, Any]) -> dict[str, Any]:
    """A vector file, re-hashed as read and checked for the fields vector_mismatches() uses; VectorsError otherwise."""
    file = entry["file"]
    data = _read_vector_bytes(vectors_dir, file)
    if data is None or hashlib.sha256(data).hexdigest() != entry["sha256"]:
        raise VectorsError(f"{file} changed or vanished since its manifest hash was checked")
    try:
        vector = loads_bounded(data, what=f"vector file {vectors_dir / file}", max_depth=MAX_DEPTH)
    except JSONInputError as error:
        raise VectorsError(str(error)) from None
    where = f"vector file {vectors_dir / file}"
    if not isinstance(vector, dict) or not all(
        isinstance(vector.get(k), dict) for k in ("case", "expected", "tolerance")
    ):
        raise VectorsError(f"{where}: expected an object with 'case', 'expected' and 'tolerance' objects")
    if vector["case"].get("dtype") not in ("float64", "float32"):
        raise VectorsError(f"{where}: case.dtype must be float64 or float32")
    expected, tolerance = vector["expected"], vector["tolerance"]
    weights = expected.get("grad_weights")
    if not isinstance(weights, list) or not weights:
        raise VectorsError(f"{where}: expected.grad_weights must be a non-empty list of arrays")
    for name in ("grad_weights", "grad_biases", "deltas"):
        if name == "deltas" and name not in expected:
            continue
        for part, obj in (("expected", expected), ("tolerance", tolerance)):
            if not isinstance(obj.get(name), list) or len(obj[name]) != len(weights):
                raise VectorsError(f"{where}: {part}.{name} must be a list of {len(weights)} arrays")
        for i in range(len(weights)):
            shape = _float_array(expected[name][i], f"{where}: expected.{name}[{i}]").shape
            if _float_array(tolerance[name][i], f"{where}: tolerance.{name}[{i}]").shape != shape:
                raise VectorsError(f"{where}: tolerance.{name}[{i}] does not have the shape of expected.{name}[{i}]")
    for part, obj in (("expected", expected), ("tolerance", tolerance)):
        if "cost" in obj and _float_array(obj["cost"], f"{where}: {part}.cost").shape != ():
            raise VectorsError(f"{where}: {part}.cost must be a number")
    if "cost" in expected and "cost" not in tolerance:
        raise VectorsError(f"{where}: tolerance.cost is missing")
    return vector


def _load_result(results_dir: Path, vector_id: str) -> tuple[str, Any]:
    """("missing" | "failed" | "read", the parsed result or the message)."""
    path = results_dir / f"{vector_id}.json"
    if not os.path.lexists(path):
        return "missing", f"no result file {path}"
    if os.path.islink(path):
        return "failed", f"{path} is a symbolic link; verify reads only regular files inside RESULTS_DIR"
    try:
        return "read", load_json_file(
            path,
            what=str(path),
            max_bytes=MAX_RESULT_BYTES,
            max_depth=MAX_DEPTH,
            allow_nan_tokens=True,  # CONTRACT.md section 4: receivers accept them (and NaN never passes)
            follow_symlinks=False,
        )
    except JSONInputError as error:
        return "failed", str(error)


def _equation(name: str, index: int, n_layers: int) -> str:
    if name == "deltas":
        return "equation 1" if index == n_layers - 1 else "equation 2"
    return "equation 3" if name == "grad_biases" else "equation 4"


def _first_non_number(value: Any) -> str | None:
    """JSON null, booleans or strings where numbers belong (numpy turns null into NaN)."""
    if isinstance(value, list):
        for item in value:
            found = _first_non_number(item)
            if found is not None:
                return found
        return None
    if isinstance(value, bool) or not isinstance(value, int | float):
        return "null" if value is None else one_line(json.dumps(value), 60)
    return None


def _as_float_array(value: Any) -> Array | str:
    """The array, or why it is not one."""
    decoded = decode_value(value)
    bad = _first_non_number(decoded)
    if bad is not None:
        return f"holds {bad} where a number belongs"
    try:
        return np.asarray(decoded, dtype=np.float64)
    except (TypeError, ValueError, OverflowError):
        return "is not a rectangular array of numbers"


def _compare_array(label: str, where: str, actual: Any, expected: Array, tol: Array, dtype: str) -> str | None:
    array = _as_float_array(actual)
    if isinstance(array, str):
        return f"{label} {array} ({where})"
    if array.shape != expected.shape:
        return f"{label} has shape {array.shape}, but should have {expected.shape} ({where})"
    diff = np.abs(array - expected)
    bad = ~(diff <= tol)  # NaN differences count as bad
    if not bad.any():
        return None
    with np.errstate(divide="ignore", invalid="ignore"):
        excess = np.where(bad, np.nan_to_num(diff / tol, nan=np.inf, posinf=np.inf), -1.0)
    index = np.unravel_index(int(np.argmax(excess)), excess.shape)
    element = f"{label}[{', '.join(str(int(i)) for i in index)}]" if index else label
    return (
        f"{element} = {float(array[index])!r}, but should be {float(expected[index])!r} "
        f"({where}, {dtype}, tolerance {tol[index]:.3g}; "
        f"{int(bad.sum())} of {bad.size} elements off)"
    )


def vector_mismatches(vector: Mapping[str, Any], result: Any) -> list[str]:
    """Every disagreement between a result and a vector's expected values, most causal first."""
    if not isinstance(result, Mapping):
        return [f"the result is a JSON {type(result).__name__}, not an object with grad_weights and grad_biases"]
    if "error" in result:
        return [f"the implementation reported an error: {one_line(result['error'])}"]
    missing = [k for k in ("grad_weights", "grad_biases") if k not in result]
    if missing:
        return [f"the result has no {', '.join(missing)} (required)"]
    expected, tolerance = vector["expected"], vector["tolerance"]
    dtype = vector["case"]["dtype"]
    n_layers = len(expected["grad_weights"])
    messages = []
    for name in _FIELDS:
        if name not in result:
            continue  # deltas are optional
        actual = result[name]
        if not isinstance(actual, list) or len(actual) != n_layers:
            count = len(actual) if isinstance(actual, list) else type(actual).__name__
            messages.append(f"{name} must be a list of {n_layers} arrays (layers 2..{n_layers + 1}), got {count}")
            continue
        order = range(n_layers - 1, -1, -1) if name == "deltas" else range(n_layers)
        for i in order:
            where = f"layer {i + 2}, {_equation(name, i, n_layers)}"
            message = _compare_array(
                f"{name}[{i}]",
                where,
                actual[i],
                np.asarray(decode_value(expected[name][i]), dtype=np.float64),
                np.asarray(decode_value(tolerance[name][i]), dtype=np.float64),
                dtype,
            )
            if message:
                messages.append(message)
    if "cost" in result and "cost" in expected:
        message = _compare_array(
            "cost",
            "the cost C",
            result["cost"],
            np.asarray(expected["cost"], dtype=np.float64),
            np.asarray(tolerance["cost"], dtype=np.float64),
            dtype,
        )
        if message:
            messages.append(message)
    return messages


def verify(results_dir: Path, vectors_dir: Path = DEFAULT_VECTORS) -> list[VectorOutcome]:
    """One VectorOutcome per vector in the manifest, in manifest order; VectorsError for an unusable vector set."""
    manifest = load_manifest(vectors_dir)
    outcomes = []
    for entry in manifest["vectors"]:
        vector_id = entry["id"]
        status, result = _load_result(results_dir, vector_id)
        if status != "read":
            outcomes.append(VectorOutcome(vector_id, status, [result]))
            continue
        messages = vector_mismatches(_load_vector(vectors_dir, entry), result)
        outcomes.append(VectorOutcome(vector_id, "failed" if messages else "passed", messages))
    return outcomes
