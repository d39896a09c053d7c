"""examples/digits.py: the seed's network learns real handwritten digits through reference.train."""

from __future__ import annotations

import importlib.util
import io
import os
import socket
import subprocess
import sys
from pathlib import Path
from types import ModuleType
from typing import Any

import numpy as np
import pytest

import reference

pytest.importorskip("sklearn", reason="the digits example needs scikit-learn (pip install -e '.[digits]')")

EXAMPLE = Path(__file__).resolve().parents[1] / "examples" / "digits.py"


def _example() -> ModuleType:
    """examples/ is not a package the wheel installs: load the script from its path."""
    spec = importlib.util.spec_from_file_location("digits_example", EXAMPLE)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up by name
    spec.loader.exec_module(module)
    return module


digits = _example()


@pytest.fixture
def offline(monkeypatch: pytest.MonkeyPatch) -> None:
    """Any attempt to open a network connection fails the test: the data must ship in the wheel."""

    def refuse(*args: Any, **kwargs: Any) -> None:
        raise AssertionError("the digits example tried to use the network")

    monkeypatch.setattr(socket, "socket", refuse)
    monkeypatch.setattr(socket, "create_connection", refuse)


def test_the_data_is_real_and_local(offline: None) -> None:
    data = digits.load()
    assert data.x_train.shape == (1500, 64) and data.x_test.shape == (297, 64)
    assert data.x_train.min() == 0.0 and data.x_train.max() == 1.0  # 0..16 grey levels, scaled
    assert data.y_train.shape == (1500, 10) and np.all(data.y_train.sum(axis=1) == 1)  # one-hot
    assert set(np.unique(data.labels_test)) == set(range(10))


class _Terminal(io.StringIO):
    """A stream that says it is a terminal, as sys.stderr does in an interactive shell."""

    def isatty(self) -> bool:
        return True


def test_a_few_epochs_on_a_slice_learn_far_beyond_chance(offline: None) -> None:
    data = digits.load(n_train=500, n_test=297)
    out, progress = io.StringIO(), _Terminal()
    _, accuracies = digits.train(data, epochs=6, out=out, progress=progress)
    lines = out.getvalue().splitlines()
    assert len(accuracies) == len(lines) == 6
    for epoch, (line, acc) in enumerate(zip(lines, accuracies, strict=True), start=1):
        assert line.startswith(f"epoch {epoch}/6: test accuracy {acc:.1%} ({round(acc * 297)}/297)")
    assert max(accuracies) >= 0.8, lines  # chance is 10%; 500 images and 6 epochs reach ~90%
    bar = progress.getvalue()
    assert "epoch 6/6 [##############################] 500/500 samples" in bar
    assert "\n" not in bar  # plain text, redrawn in place with carriage returns


def test_the_progress_slices_are_exactly_one_reference_train_epoch() -> None:
    """Slicing an epoch for the progress bar changes nothing: same steps as one reference.train call."""
    data = digits.load(n_train=120, n_test=10)
    network, _ = digits.train(data, epochs=1, out=io.StringIO(), progress=io.StringIO(), seed=5)
    order = np.random.default_rng(5).permutation(120)
    start = reference.Network.random((64, 30, 10), ("sigmoid", "sigmoid"), seed=5)
    whole = reference.train(
        start, data.x_train[order], data.y_train[order], eta=3.0, epochs=1, mini_batch_size=10, shuffle=False
    ).network
    for got, want in zip(network.weights + network.biases, whole.weights + whole.biases, strict=True):
        np.testing.assert_array_equal(got, want)
    assert not np.array_equal(network.weights[0], start.weights[0])


def test_command_line(capsys: pytest.CaptureFixture[str], offline: None) -> None:
    assert digits.main(["--epochs", "2", "--train-size", "200", "--test-size", "100"]) == 0
    captured = capsys.readouterr()
    assert "digits: 200 training and 100 test images of 8x8; network [64, 30, 10]" in captured.out
    assert "epoch 2/2: test accuracy" in captured.out and "best test accuracy" in captured.out
    assert captured.err == ""  # pytest's capture is not a terminal: no bar


@pytest.mark.suite
def test_no_progress_bar_into_a_pipe_or_a_log_file(tmp_path: Path) -> None:
    """Run as a user would with ``2> log``: stderr is a file, stdout a pipe; neither gets a \r."""
    log = tmp_path / "train.log"
    with log.open("w") as stderr:
        done = subprocess.run(
            [sys.executable, str(EXAMPLE), "--epochs", "2", "--train-size", "100", "--test-size", "50"],
            stdout=subprocess.PIPE,
            stderr=stderr,
            env={
                **os.environ,
                "PYTHONPATH": os.pathsep.join([str(EXAMPLE.parents[1]), os.environ.get("PYTHONPATH", "")]),
            },
            text=True,
            timeout=120,
        )
    assert done.returncode == 0
    assert log.read_text() == ""
    lines = done.stdout.splitlines()
    assert "\r" not in done.stdout and [line.split(":")[0] for line in lines[1:3]] == ["epoch 1/2", "epoch 2/2"]


def test_the_bar_is_drawn_on_a_terminal_and_only_there() -> None:
    """Negative control of the test above: the same run with a terminal gets its bar."""
    data = digits.load(n_train=100, n_test=10)
    terminal, file = _Terminal(), io.StringIO()
    digits.train(data, epochs=1, out=io.StringIO(), progress=terminal)
    digits.train(data, epochs=1, out=io.StringIO(), progress=file)
    assert "\repoch 1/1 [" in terminal.getvalue() and file.getvalue() == ""
