"""Exit codes and messages of ``python -m symbolic``: 0 proven, 1 disproven, 2 bad arguments."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from symbolic.cli import main
from symbolic.spec import make_spec

ROOT = Path(__file__).resolve().parents[1]


@pytest.mark.suite
def test_the_issue_example_is_proven_end_to_end() -> None:
    run = subprocess.run(
        [
            sys.executable,
            "-m",
            "symbolic",
            "prove",
            "--sizes",
            "2,3,2",
            "--activations",
            "sigmoid,sigmoid",
            "--cost",
            "quadratic",
        ],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert run.returncode == 0, run.stderr
    assert "**Verdict: proven**" in run.stdout and "$$" in run.stdout


def test_seed_typo_exits_1_with_the_counterexample(capsys: pytest.CaptureFixture[str]) -> None:
    code = main(
        [
            "prove",
            "--sizes",
            "2,3,2",
            "--activations",
            "sigmoid,sigmoid",
            "--cost",
            "quadratic",
            "--hidden-rule",
            "seed-typo",
        ]
    )
    out = capsys.readouterr().out
    assert code == 1
    assert "**Verdict: disproven**" in out and "Counterexample to the seed's equation 2" in out


def test_sum_reduction_and_summary(capsys: pytest.CaptureFixture[str]) -> None:
    code = main(
        [
            "prove",
            "--sizes",
            "2,2",
            "--activations",
            "softmax",
            "--cost",
            "log_likelihood",
            "--reduction",
            "sum",
            "--summary",
        ]
    )
    out = capsys.readouterr().out
    assert code == 0 and "reduction sum" in out and "- chain rule:" not in out


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["prove", "--sizes", "2,x", "--activations", "sigmoid", "--cost", "quadratic"], "comma-separated"),
        (["prove", "--sizes", "2,3,2", "--activations", "sigmoid", "--cost", "quadratic"], "expected 2 names"),
        (["prove", "--sizes", "2,3,2", "--activations", "softmax,sigmoid", "--cost", "quadratic"], "layer 2"),
        (["prove", "--sizes", "2,2", "--activations", "tanh", "--cost", "cross_entropy"], "cross_entropy"),
        (["prove", "--sizes", "2,0", "--activations", "tanh", "--cost", "quadratic"], "layer 2"),
        (["prove", "--sizes", "2,2", "--activations", "tanh", "--cost", "hinge"], "unknown cost"),
        (
            ["prove", "--sizes", "2,2", "--activations", "tanh", "--cost", "quadratic", "--reduction", "avg"],
            "unknown reduction",
        ),
        (
            ["prove", "--sizes", "2,2", "--activations", "tanh", "--cost", "quadratic", "--hidden-rule", "x"],
            "unknown hidden_rule",
        ),
        (["prove", "--sizes", "2,2", "--activations", "tanh"], "--cost"),
        (["prove", "--sizes", "2,2,2", "--activations", "relu,tanh", "--cost", "quadratic", "--composed"], "relu"),
        (["crosscheck", "--sizes", "2,2", "--activations", "sigma", "--cost", "quadratic"], "concrete"),
        ([], "command"),
    ],
)
def test_bad_arguments_exit_2_with_a_message(argv: list[str], message: str, capsys: pytest.CaptureFixture[str]) -> None:
    try:
        code = main(argv)
    except SystemExit as stop:
        code = int(stop.code or 0)
    err = capsys.readouterr().err
    assert code == 2
    assert message in err


def test_crosscheck_command(capsys: pytest.CaptureFixture[str]) -> None:
    code = main(["crosscheck", "--sizes", "2,2", "--activations", "sigmoid", "--cost", "cross_entropy"])
    assert code == 0 and "float64" in capsys.readouterr().out


def test_spec_errors_name_field_layer_and_values() -> None:
    with pytest.raises(TypeError, match=r"sizes\[1\] \(n_2, layer 2\) must be an int, got 2.5"):
        make_spec([2, 2.5], ["tanh"], "quadratic")
    with pytest.raises(ValueError, match=r"activations\[0\] \(layer 2\): unknown activation 'gelu'"):
        make_spec([2, 2], ["gelu"], "quadratic")
    with pytest.raises(ValueError, match="needs the output layer 2 to use softmax, got 'sigmoid'"):
        make_spec([2, 2], ["sigmoid"], "log_likelihood")
    with pytest.raises(ValueError, match="at least two"):
        make_spec([2], [], "quadratic")
