"""Write golden-vector result files for an in-process implementation, as a foreign program would."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

from conformance.implementations import contract
from conformance.vectors import DEFAULT_VECTORS


def vectors(vectors_dir: Path = DEFAULT_VECTORS) -> list[dict[str, Any]]:
    """Every vector of the manifest, parsed."""
    manifest = json.loads((vectors_dir / "manifest.json").read_text(encoding="utf-8"))
    return [json.loads((vectors_dir / e["file"]).read_text(encoding="utf-8")) for e in manifest["vectors"]]


def solve(
    backprop: Callable[[Any], Any],
    out: Path,
    vectors_dir: Path = DEFAULT_VECTORS,
    supports: Callable[[Any], bool] | None = None,
) -> Path:
    """RESULTS_DIR with one <id>.json per vector; an exception becomes an {"error": ...} file.

    ``supports(case)`` False leaves the vector without a result file, as a program that
    implements only some activations and costs would (verify --skip-missing: "not covered").
    """
    out.mkdir(parents=True, exist_ok=True)
    for vector in vectors(vectors_dir):
        if supports is not None and not supports(contract.decode_case(vector["case"])):
            continue
        try:
            result: Any = contract.encode_result(backprop(contract.decode_case(vector["case"])))
        except Exception as error:  # noqa: BLE001 - a foreign program's failure is data here
            result = {"error": f"{type(error).__name__}: {error}"}
        (out / f"{vector['id']}.json").write_text(contract.dumps(result), encoding="utf-8")
    return out
