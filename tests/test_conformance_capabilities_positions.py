"""Capabilities that say what users mean: activations per position, one-hot targets (issue 12, item 5).

And the suite's Hypothesis database stays out of the user's working directory. The
implementations here are spies: correct numpy backprop (tests/broken_impls/base.py) that
answers garbage to any case outside what it declares, so a declaration that the suite did
not honour fails, and the same spy undeclared is the negative control.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings

from conformance import Report, check_implementation
from conformance.implementations.capabilities import CapabilitiesError, parse_capabilities
from reference.strategies import Architecture, architectures, cases, make_case

from .broken_impls import Backprop

ROOT = Path(__file__).resolve().parents[1]
FEW = settings(max_examples=40, deadline=None, database=None, suppress_health_check=list(HealthCheck))


# ----- the declaration ---------------------------------------------------------------------------


def test_positions_narrow_the_activations() -> None:
    caps = parse_capabilities({"hidden_activations": ["relu"], "output_activations": ["identity"]})
    assert caps.hidden_activations == ("relu",) and caps.output_activations == ("identity",)
    assert caps.activations == ("relu", "identity")  # every name allowed somewhere
    assert caps.targets == "any" and caps.conventions == {}
    gaps = "\n".join(caps.missing())
    assert "activations: sigmoid, tanh, softplus, softmax" in gaps
    assert "hidden layers: identity" in gaps and "output layer: relu" in gaps
    assert "costs: cross_entropy (needs a sigmoid output), log_likelihood (needs a softmax output)" in gaps
    assert caps.to_dict()["hidden_activations"] == ["relu"] and caps.to_dict()["targets"] == "any"


def test_without_position_keys_everything_is_as_before() -> None:
    caps = parse_capabilities({"activations": ["sigmoid", "softmax"]})
    assert caps.hidden_activations == ("sigmoid",) and caps.output_activations == ("sigmoid", "softmax")
    assert parse_capabilities(None).hidden_activations == ("sigmoid", "tanh", "relu", "identity", "softplus")
    assert not [g for g in parse_capabilities({"costs": ["quadratic"]}).missing() if "layer" in g]


def test_costs_that_the_output_activations_exclude_are_reported() -> None:
    caps = parse_capabilities({"output_activations": ["sigmoid", "identity"], "costs": ["quadratic", "log_likelihood"]})
    assert "costs: log_likelihood (needs a softmax output)" in caps.missing()


def test_an_empty_hidden_list_means_no_hidden_layers() -> None:
    caps = parse_capabilities({"hidden_activations": [], "output_activations": ["sigmoid"]})
    assert caps.hidden_activations == () and "hidden layers: every network with a hidden layer" in "\n".join(
        caps.missing()
    )


@pytest.mark.parametrize(
    ("declared", "expected"),
    [
        ({"hidden_activations": ["softmax"]}, ["capabilities['hidden_activations']", "'softmax'", "output only"]),
        ({"hidden_activations": "relu"}, ["capabilities['hidden_activations'] must be a list of names", "'relu'"]),
        ({"output_activations": ["relu", "gelu"]}, ["'gelu'", "does not know", "sigmoid"]),
        (
            {"activations": ["relu", "identity"], "hidden_activations": ["tanh"]},
            ["capabilities['hidden_activations'] names 'tanh'", "leaves out", "relu, identity"],
        ),
        ({"output_activations": []}, ["output_activations'] is empty"]),
        (
            {"output_activations": ["identity"], "costs": ["cross_entropy"]},
            ["no declared cost", "cross_entropy needs a sigmoid output"],
        ),
        ({"targets": "onehot"}, ["capabilities['targets']", "'any', 'one_hot'", "'onehot'"]),
        ({"targets": ["one_hot", "any"]}, ["capabilities['targets']", "['one_hot', 'any']"]),
        ({"target": "one_hot"}, ["unknown key", "'target'", "targets"]),
    ],
)
def test_a_bad_declaration_is_an_error_naming_the_field(declared: dict[str, Any], expected: list[str]) -> None:
    with pytest.raises(CapabilitiesError) as error:
        parse_capabilities(declared)
    for fragment in expected:
        assert fragment in str(error.value), (fragment, str(error.value))


def test_targets_accept_a_name_or_a_list_of_one() -> None:
    assert parse_capabilities({"targets": "one_hot"}).targets == "one_hot"
    assert parse_capabilities({"targets": ["one_hot"]}).targets == "one_hot"
    assert "targets: all but one-hot" in "\n".join(parse_capabilities({"targets": "one_hot"}).missing())


# ----- the strategies ----------------------------------------------------------------------------


@FEW
@given(arch=architectures(hidden_activations=["relu"], output_activations=["identity"], max_layers=5))
def test_architectures_honour_the_positions(arch: Architecture) -> None:
    assert arch.activations[-1] == "identity" and set(arch.activations[:-1]) <= {"relu"}
    assert arch.cost == "quadratic"  # the only cost an identity output allows


@FEW
@given(arch=architectures(hidden_activations=[], output_activations=["sigmoid", "softmax"], max_layers=6))
def test_no_hidden_activation_means_two_layers(arch: Architecture) -> None:
    assert len(arch.sizes) == 2 and arch.activations[0] in ("sigmoid", "softmax")


@pytest.mark.filterwarnings("ignore::hypothesis.errors.NonInteractiveExampleWarning")
def test_the_positions_are_checked() -> None:
    with pytest.raises(ValueError, match="hidden_activations"):
        architectures(hidden_activations=["softmax"]).example()
    with pytest.raises(ValueError, match="no cost"):
        architectures(output_activations=["identity"], costs=["log_likelihood"]).example()
    with pytest.raises(ValueError, match="targets"):
        cases(targets="labels").example()


@FEW
@given(case=cases(targets="one_hot", max_layers=3, regimes=("typical", "zeros")))
def test_one_hot_targets_are_class_labels(case: Any) -> None:
    y = np.asarray(case.y)
    assert set(np.unique(y)) <= {0.0, 1.0}
    if y.shape[1] > 1:
        assert (y.sum(axis=1) == 1).all()
    elif case.cost == "log_likelihood":
        assert (y == 1).all()


def test_one_hot_with_one_output_unit_draws_both_labels() -> None:
    arch = Architecture((2, 1), ("sigmoid",), "cross_entropy")
    labels = np.concatenate([make_case(arch, m=8, seed=s, targets="one_hot").y.ravel() for s in range(5)])
    assert set(labels.tolist()) == {0.0, 1.0}


def test_targets_any_is_the_default_draw() -> None:
    """Without targets (every call written before they existed) make_case draws what "any" draws."""
    arch = Architecture((3, 4, 2), ("tanh", "softmax"), "log_likelihood")
    for seed in range(4):
        old = make_case(arch, "typical", 5, "mean", "float64", seed)
        new = make_case(arch, seed=seed, m=5, targets="any")
        for a, b in zip((*old.weights, old.x, old.y), (*new.weights, new.x, new.y), strict=True):
            assert np.array_equal(a, b)
    assert not np.array_equal(make_case(arch, m=5, seed=1).y, make_case(arch, m=5, seed=1, targets="one_hot").y)


# ----- the suite generates only what is declared, and says what is not covered ---------------------


class MicrogradMLP(Backprop):
    """micrograd's MLP: relu hidden layers, a linear output; garbage for anything else."""

    capabilities: dict[str, Any] = {
        "hidden_activations": ["relu"],
        "output_activations": ["identity"],
        "outputs": [],
    }

    def backprop(self, case: Any) -> dict[str, Any]:
        result = super().backprop(case)
        if case.activations[-1] != "identity" or any(a != "relu" for a in case.activations[:-1]):
            result["grad_weights"] = [g + 1 for g in result["grad_weights"]]
        return result


class MicrogradMLPUndeclared(MicrogradMLP):
    capabilities = {"activations": ["relu", "identity"], "outputs": []}


class OneHotOnly(Backprop):
    """Softmax with log-likelihood, written for one-hot labels: delta^L = a - y only where y is one-hot."""

    capabilities: dict[str, Any] = {
        "activations": ["softmax", "sigmoid"],
        "costs": ["log_likelihood"],
        "targets": "one_hot",
    }

    def backprop(self, case: Any) -> dict[str, Any]:
        result = super().backprop(case)
        y = np.asarray(case.y)
        if not (np.isin(y, (0.0, 1.0)).all() and (y.sum(axis=1) == 1).all()):
            result["grad_biases"] = [g * 0 for g in result["grad_biases"]]
        return result


class OneHotOnlyUndeclared(OneHotOnly):
    capabilities = {"activations": ["softmax", "sigmoid"], "costs": ["log_likelihood"]}


def _run(impl: Any, **options: Any) -> Report:
    return check_implementation(impl, quick=True, failures_dir=None, dtypes=["float64"], **options)


@pytest.mark.suite
def test_a_micrograd_style_declaration_is_honoured_and_reported() -> None:
    report = _run(MicrogradMLP(), regimes=["typical", "zeros", "deep"])
    assert report.ok, report.format()
    assert any(v.status == "passed" and v.layer == 3 for v in report.verdicts)  # hidden layers were tested
    text = "\n".join(report.not_covered)
    assert "hidden layers: identity" in text and "output layer: relu" in text
    assert not _run(MicrogradMLPUndeclared(), regimes=["typical", "deep"]).ok  # the spy does detect it


@pytest.mark.suite
def test_one_hot_targets_are_honoured_and_reported() -> None:
    report = _run(OneHotOnly(), regimes=["typical", "small"])
    assert report.ok, report.format()
    assert any("targets: all but one-hot" in line for line in report.not_covered)
    assert not _run(OneHotOnlyUndeclared(), regimes=["typical", "small"]).ok


# ----- no .hypothesis in the user's working directory ----------------------------------------------


def _env() -> dict[str, str]:
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(ROOT), env.get("PYTHONPATH")]))
    env.pop("HYPOTHESIS_STORAGE_DIRECTORY", None)
    return env


@pytest.mark.suite
@pytest.mark.parametrize(
    "argv",
    [
        ["-m", "conformance", "--impl", "tests.broken_impls:SeedTypo", "--quick", "--dtypes", "float64"]
        + ["--regimes", "typical"],
        [
            "-m",
            "pytest",
            "--pyargs",
            "conformance",
            "-q",
            "-p",
            "no:cacheprovider",
            "--conformance-quick",
            "-k",
            "float64-typical",
        ],
    ],
    ids=["cli", "pytest-pyargs"],
)
def test_runs_leave_no_hypothesis_directory_in_the_working_directory(tmp_path: Path, argv: list[str]) -> None:
    """A failing implementation, so that Hypothesis also shrinks (where a database would be written).

    One group (float64/typical) is enough: each group's search and shrink would write the same database.
    """
    env = _env()
    env["BACKPROP_IMPL"] = "tests.broken_impls:SeedTypo"
    env["BACKPROP_CONFORMANCE_FAILURES"] = str(tmp_path / "failures")
    done = subprocess.run(
        [sys.executable, *argv], cwd=tmp_path, env=env, capture_output=True, text=True, timeout=300, check=False
    )
    assert done.returncode == 1, done.stdout[-2000:] + done.stderr[-2000:]  # it ran, and failed
    assert "equation2" in done.stdout
    assert not (tmp_path / ".hypothesis").exists(), sorted(p.name for p in tmp_path.iterdir())
