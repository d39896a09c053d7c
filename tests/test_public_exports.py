"""The names the docs teach are importable from the package's top, lazily, and do what the docs say."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

import conformance
import reference
from conformance.reporting import casefile

ROOT = Path(__file__).resolve().parent.parent


def test_every_lazy_export_is_listed_and_resolves() -> None:
    assert sorted(conformance._EXPORTS) == sorted(conformance.__all__)
    for name in conformance.__all__:
        assert getattr(conformance, name) is not None, name
    assert conformance.load_case is casefile.load_case
    assert conformance.CaseFileError is casefile.CaseFileError


@pytest.mark.suite
def test_import_conformance_does_not_load_the_case_files_module() -> None:
    """The export is lazy: ``import conformance`` (run by every pytest start) stays cheap."""
    code = "import sys, conformance; print('conformance.reporting.casefile' in sys.modules)"
    done = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, check=True)
    assert done.stdout.strip() == "False"


def test_load_case_returns_the_saved_case(tmp_path: Path) -> None:
    """A case saved by the suite comes back as the same network and batch, with what failed."""
    net = reference.Network.random((2, 3, 1), ("tanh", "sigmoid"), seed=4)
    case = net.case(np.array([[0.5, -1.0], [2.0, 0.25]]), np.array([[1.0], [0.0]]))
    path = casefile.save_case(
        tmp_path,
        case,
        eta=0.5,
        permutation=(1, 0),
        check="equation2",
        layer=2,
        message="planted",
        implementation="mine",
    )
    loaded, eta, permutation, document = conformance.load_case(path)
    assert (loaded.sizes, loaded.activations, loaded.dtype) == (case.sizes, case.activations, case.dtype)
    for got, sent in zip(
        [*loaded.weights, *loaded.biases, loaded.x, loaded.y],
        [*case.weights, *case.biases, case.x, case.y],
        strict=True,
    ):
        assert np.array_equal(got, sent)
    assert (eta, permutation) == (0.5, (1, 0))
    assert (document["check"], document["layer"], document["message"]) == ("equation2", 2, "planted")


def test_a_file_that_is_not_a_case_raises_the_exported_error(tmp_path: Path) -> None:
    path = tmp_path / "not-a-case.json"
    path.write_text('{"cases": []}', encoding="utf-8")
    with pytest.raises(conformance.CaseFileError, match="expected an object with a 'case' object"):
        conformance.load_case(path)
