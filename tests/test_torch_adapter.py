"""The PyTorch adapter against the golden vectors and the reference, in float64 and float32."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

import reference
from conformance.implementations import contract
from conformance.vectors import main as verify
from conformance.vectors.generate import UNIT_ROUNDOFF

from ._golden import solve, vectors

torch_adapter = pytest.importorskip("conformance.adapters.torch_adapter", exc_type=ImportError)


@pytest.mark.suite
def test_importing_without_torch_says_how_to_install_it() -> None:
    code = (
        "import sys; sys.modules['torch'] = None\n"
        "try:\n"
        "    import conformance.adapters.torch_adapter\n"
        "except ImportError as e:\n"
        "    print(e)\n"
    )
    run = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert "pip install torch==2.13.0" in run.stdout, run.stdout + run.stderr


def test_torch_passes_every_golden_vector(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """float64 and float32 vectors, each computed by autograd in the vector's dtype."""
    code = verify([str(solve(torch_adapter.backprop, tmp_path / "torch"))])
    out = capsys.readouterr().out
    assert code == 0, out
    assert "0 failed, 0 missing" in out


@pytest.mark.parametrize("dtype", ["float64", "float32"])
def test_results_are_in_the_case_dtype_and_inputs_untouched(dtype: str) -> None:
    case = next(contract.decode_case(v["case"]) for v in vectors() if v["case"]["dtype"] == dtype)
    before = [a.copy() for a in [*case.weights, *case.biases, case.x, case.y]]
    result = torch_adapter.backprop(case)
    for name in ("grad_weights", "grad_biases", "deltas"):
        assert all(isinstance(g, np.ndarray) and g.dtype == np.dtype(dtype) for g in result[name])
    for a, b in zip(before, [*case.weights, *case.biases, case.x, case.y], strict=True):
        assert np.array_equal(a, b)
    assert torch_adapter.backprop(case)["grad_weights"][0].tobytes() == result["grad_weights"][0].tobytes()


@pytest.mark.parametrize(
    "vector",
    [v for v in vectors() if v["id"].startswith(("deep", "grid-softmax"))],
    ids=lambda v: v["id"],
)
def test_sgd_step_matches_the_reference(vector: dict) -> None:
    """torch.optim.SGD's step equals w - eta dC/dw within the gradient tolerance times eta.

    Both compute w - eta g with g inside its tolerance T: |difference| <= eta (T + |g| 2u) + 2u |w|.
    """
    case = contract.decode_case(vector["case"])
    eta = 0.375
    got = torch_adapter.sgd_step(case, eta)
    want = reference.sgd_step(case, eta)
    u = UNIT_ROUNDOFF[case.dtype]
    grads = reference.backprop(case)
    for key, gkey in (("weights", "grad_weights"), ("biases", "grad_biases")):
        for i, (g, w) in enumerate(zip(got[key], want[key], strict=True)):
            tol = np.asarray(contract.decode_value(vector["tolerance"][gkey][i]))
            old = np.asarray(getattr(case, key)[i], dtype=np.float64)
            limit = eta * (2 * tol + 4 * u * np.abs(grads[gkey][i])) + 4 * u * np.abs(old)
            assert g.dtype == np.dtype(case.dtype)
            assert np.all(np.abs(g.astype(np.float64) - w.astype(np.float64)) <= limit), (key, i)
            moved = np.abs(g.astype(np.float64) - old)
            assert np.any(moved > limit), "the step must actually move the parameters"


def test_capabilities_declare_the_whole_contract() -> None:
    caps = torch_adapter.capabilities
    assert set(caps["activations"]) == set(reference.ACTIVATIONS)
    assert set(caps["costs"]) == set(reference.COSTS)
    assert set(caps["dtypes"]) == set(reference.DTYPES)
    assert set(caps["reductions"]) == set(reference.REDUCTIONS)
