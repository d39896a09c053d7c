"""Check results written by any program against the golden vectors.

A result file is ``RESULTS_DIR/<vector id>.json``: one JSON object with the fields of
a backprop answer (CONTRACT.md, "Golden vectors"). Each element is compared with
the 50-digit expected value under the vector's own per-element tolerance, so this
module needs no error model and no engine (it imports neither): the numbers are all in the files.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from ..contract import decode_value

Array = np.ndarray
DEFAULT_VECTORS = Path(__file__).resolve().parent
MANIFEST = "manifest.json"

# Order of diagnosis: equation 1 and 2 (deltas) cause equations 3 and 4.
_FIELDS = ("deltas", "grad_biases", "grad_weights")


class VectorsError(Exception):
    """The vector set itself is unusable (missing, or not what its manifest hashes)."""


@dataclass
class Outcome:
    """One vector's verdict: "passed", "failed" or "missing"."""

    id: str
    status: str
    messages: list[str] = field(default_factory=list)


def sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def load_manifest(vectors_dir: Path) -> dict[str, Any]:
    """The manifest, after checking every listed file's sha256; VectorsError on any mismatch."""
    path = vectors_dir / MANIFEST
    if not path.is_file():
        raise VectorsError(f"{vectors_dir} has no {MANIFEST}: not a golden-vector directory")
    manifest: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
    problems = []
    for entry in manifest["vectors"]:
        file = vectors_dir / entry["file"]
        if not file.is_file():
            problems.append(f"{entry['file']} is listed in the manifest but missing")
        elif sha256(file) != entry["sha256"]:
            problems.append(f"{entry['file']} has sha256 {sha256(file)}, the manifest says {entry['sha256']}")
    if problems:
        raise VectorsError(
            "the vectors do not match their manifest (regenerate with "
            "`python -m conformance.vectors "
            "generate`, or restore them): " + "; ".join(problems)
        )
    return manifest


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
        return "null" if value is None else json.dumps(value)
    return None


def _as_float_array(value: Any) -> Array | str:
    """The array, or why it is not one."""
    decoded = decode_value(value)
    bad = _first_non_number(decoded)
    if bad is not None:
        return f"holds {bad} where a number belongs"
    try:
        return np.asarray(decoded, dtype=np.float64)
    except (TypeError, ValueError):
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


def compare(vector: Mapping[str, Any], result: Any) -> list[str]:
    """Every disagreement between a result and a vector's expected values, most causal first."""
    if not isinstance(result, Mapping):
        return [f"the result is a JSON {type(result).__name__}, not an object with grad_weights and grad_biases"]
    if "error" in result:
        return [f"the implementation reported an error: {result['error']}"]
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
    if "cost" in result:
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


def verify(results_dir: Path, vectors_dir: Path = DEFAULT_VECTORS) -> list[Outcome]:
    """One Outcome per vector in the manifest, in manifest order."""
    manifest = load_manifest(vectors_dir)
    outcomes = []
    for entry in manifest["vectors"]:
        path = results_dir / f"{entry['id']}.json"
        if not path.is_file():
            outcomes.append(Outcome(entry["id"], "missing", [f"no result file {path}"]))
            continue
        try:
            result = json.loads(path.read_text(encoding="utf-8"))
        except (UnicodeDecodeError, json.JSONDecodeError) as error:
            outcomes.append(Outcome(entry["id"], "failed", [f"{path} is not valid JSON: {error}"]))
            continue
        vector = json.loads((vectors_dir / entry["file"]).read_text(encoding="utf-8"))
        messages = compare(vector, result)
        outcomes.append(Outcome(entry["id"], "failed" if messages else "passed", messages))
    return outcomes
