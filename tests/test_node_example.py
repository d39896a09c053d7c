"""The Node.js example, driven over the JSON-lines protocol and through the golden vectors."""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path
from typing import Any

import numpy as np
import pytest

import reference
from conformance.implementations import contract
from conformance.vectors import DEFAULT_VECTORS
from conformance.vectors import main as verify
from conformance.vectors.verify import vector_mismatches

from ._golden import vectors

NODE = shutil.which("node")
SCRIPT = Path(__file__).resolve().parents[1] / "conformance" / "examples" / "node" / "backprop.js"
pytestmark = pytest.mark.skipif(NODE is None, reason="Node.js is not installed")


class Driver:
    """A minimal JSON-lines client: one request line out, one answer line in."""

    def __init__(self) -> None:
        assert NODE is not None
        self.proc = subprocess.Popen(
            [NODE, str(SCRIPT)], stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True, bufsize=1
        )
        self.next_id = 0

    def raw(self, line: str) -> dict[str, Any]:
        assert self.proc.stdin is not None and self.proc.stdout is not None
        self.proc.stdin.write(line + "\n")
        self.proc.stdin.flush()
        answer: dict[str, Any] = json.loads(self.proc.stdout.readline())
        return answer

    def ask(self, op: str, **fields: Any) -> dict[str, Any]:
        self.next_id += 1
        answer = self.raw(contract.dumps({"id": self.next_id, "op": op, **fields}))
        assert answer.pop("id") == self.next_id
        return contract.decode_result(answer)

    def close(self) -> int:
        assert self.proc.stdin is not None
        self.proc.stdin.close()  # the contract's end of requests: the program must exit
        return self.proc.wait(timeout=10)


@pytest.fixture(scope="module")
def node() -> Any:
    driver = Driver()
    yield driver
    assert driver.close() == 0


def test_capabilities(node: Driver) -> None:
    caps = node.ask("capabilities")
    assert set(caps["activations"]) == set(reference.ACTIVATIONS)
    assert set(caps["outputs"]) == {"deltas", "cost"}


@pytest.mark.parametrize("vector", vectors()[::5], ids=lambda v: v["id"])
def test_backprop_over_the_protocol_matches_the_vector(node: Driver, vector: dict[str, Any]) -> None:
    answer = node.ask("backprop", case=vector["case"])
    assert vector_mismatches(vector, answer) == []


def test_sgd_step_moves_by_eta_times_the_gradient(node: Driver) -> None:
    vector = next(v for v in vectors() if v["id"] == "deep-square-f64")
    case = contract.decode_case(vector["case"])
    eta = 0.25
    got = node.ask("sgd_step", case=vector["case"], eta=eta)
    want = reference.sgd_step(case, eta)
    u = 2.0**-53
    for key, gkey in (("weights", "grad_weights"), ("biases", "grad_biases")):
        for i, (g, w) in enumerate(zip(got[key], want[key], strict=True)):
            tol = np.asarray(vector["tolerance"][gkey][i])
            limit = eta * 2 * tol + 4 * u * np.abs(getattr(case, key)[i])  # both within tol of truth
            assert np.all(np.abs(np.asarray(g) - w) <= limit), (key, i)


def test_errors_are_answers_and_the_program_survives(node: Driver) -> None:
    bad = node.raw("this is not json")
    assert bad["id"] is None and "JSON" in bad["error"]
    assert "unknown op" in node.ask("frobnicate")["error"]
    case = dict(vectors()[0]["case"], reduction="median")
    assert "reduction" in node.ask("backprop", case=case)["error"]
    assert "grad_weights" in node.ask("backprop", case=vectors()[0]["case"])  # still serving


def test_non_finite_numbers_travel_as_strings(node: Driver) -> None:
    case = {
        "sizes": [1, 1],
        "activations": ["identity"],
        "cost": "quadratic",
        "reduction": "sum",
        "dtype": "float64",
        "weights": [[[1e308]]],
        "biases": [[0.0]],
        "x": [[10.0]],
        "y": [[0.0]],
    }
    assert node.raw(contract.dumps({"id": 99, "op": "backprop", "case": case}))["cost"] == "inf"


def test_vector_mode_results_pass_verify(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert NODE is not None
    run = subprocess.run(
        [NODE, str(SCRIPT), "--vectors", str(DEFAULT_VECTORS), str(tmp_path)],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert run.returncode == 0, run.stderr
    assert verify([str(tmp_path)]) == 0, capsys.readouterr().out
