"""The golden vectors: reproducible, covering, true to 50 digits; verify catches what it must."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import mpmath
import numpy as np
import pytest

import reference
from conformance.implementations import contract
from conformance.implementations.contract import CONTRACT_VERSION
from conformance.vectors import DEFAULT_VECTORS, load_manifest, main
from conformance.vectors.generate import generate, sha256

from . import conformance_planted as planted
from ._golden import solve, vectors

VECTORS = vectors()


@pytest.fixture(scope="module")
def reference_results(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return solve(reference.backprop, tmp_path_factory.mktemp("reference"))


def _copy(src: Path, dst: Path) -> Path:
    shutil.copytree(src, dst)
    return dst


def _run(capsys: pytest.CaptureFixture[str], *argv: str | Path) -> tuple[int, str]:
    code = main([str(a) for a in argv])
    return code, capsys.readouterr().out


def _edit(results: Path, vector_id: str, edit: Any) -> None:
    path = results / f"{vector_id}.json"
    data = json.loads(path.read_text())
    edit(data)
    path.write_text(json.dumps(data))


# ----- the files -----


def test_regenerating_gives_byte_identical_files(tmp_path: Path) -> None:
    written = generate(tmp_path)
    shipped = sorted(p.name for p in DEFAULT_VECTORS.glob("*.json"))
    assert sorted(p.name for p in written) == shipped
    for path in written:
        assert sha256(path) == sha256(DEFAULT_VECTORS / path.name), f"{path.name} differs when regenerated"


def test_the_manifest_hashes_every_vector_file() -> None:
    manifest = load_manifest(DEFAULT_VECTORS)  # raises on any mismatch
    listed = {e["file"] for e in manifest["vectors"]}
    assert listed == {p.name for p in DEFAULT_VECTORS.glob("*.json")} - {"manifest.json"}
    assert manifest["contract_version"] == contract.CONTRACT_VERSION
    assert 30 <= len(listed) <= 80  # "a few dozen"


def test_the_vectors_cover_every_combination_and_regime() -> None:
    cases = [contract.decode_case(v["case"]) for v in VECTORS]
    combos = {(c.activations[-1], c.cost, c.reduction, c.dtype) for c in cases}
    # The contract's pairs: quadratic after any output, cross_entropy after sigmoid, log_likelihood after softmax.
    closed_forms = {"cross_entropy": "sigmoid", "log_likelihood": "softmax"}
    outputs = [
        (out, cost) for out in reference.ACTIVATIONS for cost in reference.COSTS if closed_forms.get(cost, out) == out
    ]
    assert len(outputs) == 8
    for out, cost in outputs:
        for reduction in reference.REDUCTIONS:
            for dtype in reference.DTYPES:
                assert (out, cost, reduction, dtype) in combos
    hidden = {name for c in cases for name in c.activations[:-1]}
    assert hidden == {"sigmoid", "tanh", "relu", "identity", "softplus"}
    assert any(len(c.sizes) >= 6 and len(set(c.sizes)) == 1 for c in cases)  # square, depth >= 5
    assert any(set(c.sizes) == {1} and len(c.sizes) >= 4 for c in cases)  # width 1
    assert {c.dtype for c in cases if c.m == 1} == {"float64", "float32"}  # batch 1
    saturated = zeros_hidden = zeros_output = False
    for c in cases:
        fwd = reference.forward(c)
        for i, name in enumerate(c.activations):
            z = fwd.z[i]
            if name in ("sigmoid", "tanh") and np.max(np.abs(z)) > 15:
                saturated = True
            if name == "relu" and np.any(z == 0):
                zeros_output |= i == len(c.activations) - 1
                zeros_hidden |= i < len(c.activations) - 1
    assert saturated and zeros_hidden and zeros_output


@pytest.mark.parametrize("vector", VECTORS, ids=[v["id"] for v in VECTORS])
def test_expected_values_are_converged_truth(vector: dict[str, Any]) -> None:
    """At 70 digits the truth rounds to the stored 50-digit doubles (to 1 ulp)."""
    case = contract.decode_case(vector["case"])
    truth = reference.backprop_mp(case, digits=70)
    for name in ("grad_weights", "grad_biases", "deltas"):
        for stored, exact in zip(vector["expected"][name], truth[name], strict=True):
            with mpmath.workdps(70):
                exact64 = np.vectorize(float, otypes=[np.float64])(exact)
            assert np.allclose(np.asarray(stored), exact64, rtol=2.0**-52, atol=0), name
    assert vector["expected"]["cost"] == pytest.approx(float(truth["cost"]), rel=2.0**-52, abs=0)
    check = vector["provenance"]["mp_check"]
    assert check["digits"] == 50 and "agrees" in check["reference_float64"]


# ----- verify: positive and negative controls -----


def test_the_reference_passes_every_vector(reference_results: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, out = _run(capsys, reference_results)
    assert code == 0, out
    assert f"{len(VECTORS)} passed, 0 failed, 0 missing" in out


def test_float32_inside_fails_every_float64_vector_and_passes_every_float32_one(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """The error model's central claim, on frozen data."""
    code, out = _run(capsys, solve(planted.float32_inside, tmp_path / "r"))
    assert code == 1
    lines = {
        line.split()[1].rstrip(":"): line.split()[0] for line in out.splitlines() if line.startswith(("PASS", "FAIL"))
    }
    for vector in VECTORS:
        assert lines[vector["id"]] == ("FAIL" if vector["case"]["dtype"] == "float64" else "PASS"), vector["id"]


@pytest.mark.parametrize(
    ("field", "layer_index", "element", "diagnosis"),
    [
        ("grad_weights", 1, (2, 0), "layer 3, equation 4"),
        ("grad_biases", 0, (1,), "layer 2, equation 3"),
        ("deltas", 4, (0, 3), "layer 6, equation 1"),
        ("deltas", 2, (1, 1), "layer 4, equation 2"),
    ],
)
def test_one_planted_error_is_named_by_field_layer_and_equation(
    reference_results: Path,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    field: str,
    layer_index: int,
    element: tuple[int, ...],
    diagnosis: str,
) -> None:
    results = _copy(reference_results, tmp_path / "r")

    def plant(data: dict[str, Any]) -> None:
        array = np.array(data[field][layer_index])
        array[element] = array[element] * (1 + 1e-9) + 1e-12  # far below any loose tolerance
        data[field][layer_index] = array.tolist()

    _edit(results, "deep-square-f64", plant)
    code, out = _run(capsys, results)
    assert code == 1
    (line,) = [line for line in out.splitlines() if "deep-square-f64" in line]
    location = f"{field}[{layer_index}][{', '.join(map(str, element))}]"
    assert line.startswith("FAIL") and location in line and diagnosis in line and "float64" in line
    assert f"{len(VECTORS) - 1} passed, 1 failed" in out


@pytest.mark.parametrize(
    ("edit", "message"),
    [
        (lambda d: d["grad_biases"].__setitem__(0, d["grad_biases"][0][:-1]), "has shape"),
        (lambda d: d["grad_weights"][0][0].__setitem__(0, "nan"), "= nan"),
        (lambda d: d["grad_weights"][0][0].__setitem__(0, None), "holds null"),
        (lambda d: d["grad_weights"][0][0].pop(), "not a rectangular array"),
        (lambda d: d.pop("grad_weights"), "no grad_weights (required)"),
        (lambda d: d["deltas"].pop(), "deltas must be a list of"),
        (lambda d: d.__setitem__("cost", d["cost"] * 1.001), "cost = "),
        (
            lambda d: d.__setitem__("error", "division by zero"),
            "reported an error: division by zero",
        ),
    ],
    ids=["shape", "nan", "none", "ragged", "missing-field", "layer-count", "cost", "error-answer"],
)
def test_malformed_results_fail_with_a_clear_message(
    reference_results: Path,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    edit: Any,
    message: str,
) -> None:
    results = _copy(reference_results, tmp_path / "r")
    _edit(results, "batch-one-f64", edit)
    code, out = _run(capsys, results)
    assert code == 1
    (line,) = [line for line in out.splitlines() if line.startswith("FAIL")]
    assert "batch-one-f64" in line and message in line


def test_not_json_and_missing_files(
    reference_results: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    results = _copy(reference_results, tmp_path / "r")
    (results / "width-one-f64.json").write_text("{not json")
    (results / "width-one-f32.json").unlink()
    code, out = _run(capsys, results)
    assert code == 1
    assert "not valid JSON" in out and "MISSING     width-one-f32" in out
    (results / "width-one-f64.json").unlink()
    code, out = _run(capsys, results, "--skip-missing")
    assert code == 0 and "2 not covered" in out and "NOT COVERED" in out
    empty = tmp_path / "empty"
    empty.mkdir()
    code, out = _run(capsys, empty, "--skip-missing")
    assert code == 1  # nothing passed: an empty directory never conforms


def test_tampered_vectors_and_bad_paths_are_usage_errors(
    reference_results: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    tampered = _copy(DEFAULT_VECTORS, tmp_path / "vectors")
    path = tampered / "batch-one-f64.json"
    path.write_text(path.read_text().replace('"tolerance": {', '"tolerance": {"x": 1, ', 1))
    code = main([str(reference_results), "--vectors", str(tampered)])
    assert code == 2 and "batch-one-f64.json has sha256" in capsys.readouterr().err
    assert main([str(tmp_path / "nowhere")]) == 2
    assert main([str(reference_results), "--vectors", str(tmp_path)]) == 2  # no manifest


def test_report_file(reference_results: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    report = tmp_path / "report.json"
    code, _ = _run(capsys, reference_results, "--report", report)
    data = json.loads(report.read_text())
    assert code == 0 == data["exit_status"]
    assert data["contract_version"] == CONTRACT_VERSION and data["reference_version"] == reference.__version__
    assert {o["status"] for o in data["outcomes"]} == {"passed"} and len(data["outcomes"]) == len(VECTORS)


@pytest.mark.suite
def test_command_line(reference_results: Path) -> None:
    run = subprocess.run(
        [sys.executable, "-m", "conformance.vectors", "verify", str(reference_results)],
        capture_output=True,
        text=True,
        check=False,
        timeout=120,
    )
    assert run.returncode == 0, run.stdout + run.stderr
    assert "passed, 0 failed" in run.stdout


# ----- textbook implementations (issue 12, item 6) -----


def _sigmoid(z: np.ndarray) -> np.ndarray:
    return 1.0 / (1.0 + np.exp(-z))


def _sigmoid_prime(z: np.ndarray) -> np.ndarray:
    return _sigmoid(z) * (1 - _sigmoid(z))


class Textbook:
    """The seed's network.py / network2.py backprop, written out again: column vectors, one sample
    at a time, sigmoid in every hidden layer. Independent of the reference (imports none of it).

    Output and cost: sigmoid + quadratic (network.py), sigmoid + cross_entropy (network2.py's
    CrossEntropyCost) or softmax + log_likelihood (chapter 3, C = -ln a^L_y for a one-hot y).
    ``typo`` back-propagates the next layer's activations instead of its errors (the seed's erratum).
    """

    def __init__(self, families: tuple[tuple[str, str], ...], typo: bool = False) -> None:
        self.families = families
        self.typo = typo

    def supports(self, case: Any) -> bool:
        hidden_ok = all(name == "sigmoid" for name in case.activations[:-1])
        y = np.asarray(case.y)
        one_hot = bool(np.all((y == 0) | (y == 1)))  # C = -ln a^L_y needs a class index
        return (
            hidden_ok
            and (case.activations[-1], case.cost) in self.families
            and (case.cost != "log_likelihood" or one_hot)
        )

    def output(self, z: np.ndarray, softmax: bool) -> np.ndarray:
        if softmax:
            e = np.exp(z)
            return e / np.sum(e)
        return _sigmoid(z)

    def sample(self, weights: list[Any], biases: list[Any], x: Any, y: Any, out: str, cost: str) -> tuple:
        activation = x
        activations, zs = [x], []
        for i, (b, w) in enumerate(zip(biases, weights, strict=True)):
            z = np.dot(w, activation) + b
            zs.append(z)
            activation = self.output(z, out == "softmax") if i == len(weights) - 1 else _sigmoid(z)
            activations.append(activation)
        a, n = activations[-1], len(weights)
        if cost == "quadratic":
            delta = (a - y) * _sigmoid_prime(zs[-1])
            c = 0.5 * float(np.sum((a - y) ** 2))
        elif cost == "cross_entropy":
            delta = a - y
            c = float(np.sum(np.nan_to_num(-y * np.log(a) - (1 - y) * np.log(1 - a))))
        else:  # log_likelihood, one-hot y
            delta = a - y
            c = -float(np.log(a[int(np.argmax(y)), 0]))
        deltas = [delta]
        nabla_w = [np.dot(delta, activations[-2].transpose())]
        nabla_b = [delta]
        for l in range(2, n + 1):
            sp = _sigmoid_prime(zs[-l])
            back = activations[-l + 1] if self.typo else delta
            delta = np.dot(weights[-l + 1].transpose(), back) * sp
            deltas.insert(0, delta)
            nabla_w.insert(0, np.dot(delta, activations[-l - 1].transpose()))
            nabla_b.insert(0, delta)
        return nabla_w, nabla_b, deltas, c

    def backprop(self, case: Any) -> dict[str, Any]:
        weights = [np.asarray(w) for w in case.weights]
        biases = [np.asarray(b).reshape(-1, 1) for b in case.biases]
        out, cost = case.activations[-1], case.cost
        m = len(case.x)
        sum_w = [np.zeros(w.shape, dtype=w.dtype) for w in weights]
        sum_b = [np.zeros(b.shape, dtype=b.dtype) for b in biases]
        rows: list[list[np.ndarray]] = [[] for _ in weights]
        total = 0.0
        for x, y in zip(case.x, case.y, strict=True):
            nw, nb, ds, c = self.sample(weights, biases, x.reshape(-1, 1), y.reshape(-1, 1), out, cost)
            sum_w = [s + d for s, d in zip(sum_w, nw, strict=True)]
            sum_b = [s + d for s, d in zip(sum_b, nb, strict=True)]
            for row, d in zip(rows, ds, strict=True):
                row.append(d.ravel())
            total += c
        scale = 1.0 / m if case.reduction == "mean" else 1.0
        return {
            "grad_weights": [s * scale for s in sum_w],
            "grad_biases": [(s * scale).ravel() for s in sum_b],
            "deltas": [np.stack(r) for r in rows],
            "cost": total * scale,
        }


def _outcomes(out: str) -> dict[str, str]:
    """vector id -> PASS, FAIL, MISSING or NOT, from verify's output."""
    outcomes = {}
    for line in out.splitlines():
        words = line.split()
        if line.startswith(("PASS", "FAIL", "MISSING")):
            outcomes[words[1].rstrip(":")] = words[0]
        elif line.startswith("NOT COVERED"):
            outcomes[words[2].rstrip(":")] = "NOT"
    return outcomes


NETWORK_PY = (("sigmoid", "quadratic"),)
NETWORK2_PY = (("sigmoid", "quadratic"), ("sigmoid", "cross_entropy"), ("softmax", "log_likelihood"))


def test_a_textbook_sigmoid_quadratic_implementation_computes_a_dozen_vectors_and_passes_them(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    impl = Textbook(NETWORK_PY)
    results = solve(impl.backprop, tmp_path / "r", supports=impl.supports)
    covered = sorted(p.stem for p in results.glob("*.json"))
    assert len(covered) >= 12, covered
    for dtype in ("f64", "f32"):
        for reduction in ("mean", "sum"):
            assert any(c.endswith(f"-{reduction}-{dtype}") for c in covered), (reduction, dtype)
    code, out = _run(capsys, results, "--skip-missing")
    assert code == 0, out
    assert f"{len(covered)} passed, 0 failed, {len(VECTORS) - len(covered)} not covered" in out


def test_a_textbook_implementation_of_the_three_families_passes_all_it_computes(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    impl = Textbook(NETWORK2_PY)
    results = solve(impl.backprop, tmp_path / "r", supports=impl.supports)
    covered = {p.stem for p in results.glob("*.json")}
    textbook = {v["id"] for v in VECTORS if "textbook" in v["regimes"]}
    assert textbook <= covered and len(textbook) >= 28
    code, out = _run(capsys, results, "--skip-missing")
    assert code == 0, out
    assert f"{len(covered)} passed, 0 failed" in out
    assert sorted(i for i, status in _outcomes(out).items() if status == "PASS") == sorted(covered)


def test_the_seeds_equation_2_typo_fails_every_textbook_vector(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Every textbook vector has a hidden layer, so the erratum shows in every one, at equation 2."""
    impl = Textbook(NETWORK_PY, typo=True)
    results = solve(impl.backprop, tmp_path / "r", supports=impl.supports)
    code, out = _run(capsys, results, "--skip-missing")
    assert code == 1
    outcomes = _outcomes(out)
    covered = [p.stem for p in results.glob("*.json")]
    assert len(covered) >= 12
    for vector_id in covered:
        assert outcomes[vector_id] == "FAIL", vector_id
    failures = [line for line in out.splitlines() if line.startswith("FAIL")]
    assert all("equation 2" in line for line in failures), failures
    assert "0 passed" in out
