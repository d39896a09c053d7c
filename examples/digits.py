"""Train the seed's network on real handwritten digits with reference.train.

The data is scikit-learn's 8x8 digits (1,797 images, 0-16 grey levels), which ships inside
the scikit-learn wheel: no download at run time. The network is the seed's: sigmoid
layers, quadratic cost, mini-batch stochastic gradient descent (network.py's
SGD(training_data, epochs, mini_batch_size, eta)), here [64, 30, 10].

    pip install -e '.[digits]'
    python examples/digits.py                 # [64, 30, 10], 10 epochs, eta 3.0, batches of 10
    python examples/digits.py --epochs 30 --hidden 100

One line per epoch (test accuracy, cost) goes to stdout. When stderr is a terminal, a
progress bar is redrawn there within each epoch; when it is not (a log file, a pipe, CI), no
bar is drawn: its carriage returns would pile up in the file, and the epoch lines already
record the progress.
"""

from __future__ import annotations

import argparse
import sys
import time
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TextIO

import numpy as np

import reference

TICKS = 20  # progress-bar updates per epoch


@dataclass(frozen=True)
class Digits:
    """Images as rows of 64 values in [0, 1], one-hot targets, and the labels for scoring."""

    x_train: np.ndarray
    y_train: np.ndarray
    x_test: np.ndarray
    labels_test: np.ndarray


def load(n_train: int | None = None, n_test: int | None = None, seed: int = 0) -> Digits:
    """scikit-learn's digits, shuffled once from ``seed`` and split; the last 297 images are the test set."""
    from sklearn.datasets import load_digits  # the data ships in the wheel (sklearn/datasets/data)

    data = load_digits()
    order = np.random.default_rng(seed).permutation(len(data.target))
    x = data.data[order] / 16.0  # grey levels 0..16 -> [0, 1], the range of a sigmoid's input pixels
    labels = data.target[order]
    split = len(labels) - 297
    x_train, labels_train = x[:split][:n_train], labels[:split][:n_train]
    x_test, labels_test = x[split:][:n_test], labels[split:][:n_test]
    return Digits(x_train, np.eye(10)[labels_train], x_test, labels_test)


def accuracy(network: reference.Network, x: np.ndarray, labels: np.ndarray) -> float:
    """Fraction of images whose largest output a^L_j is at j = the true digit (the seed's evaluate)."""
    return float(np.mean(np.argmax(reference.predict(network, x), axis=1) == labels))


def _bar(stream: TextIO, epoch: int, epochs: int, done: int, total: int, width: int = 30) -> None:
    filled = width * done // total
    line = f"epoch {epoch}/{epochs} [{'#' * filled}{'.' * (width - filled)}] {done}/{total} samples"
    stream.write("\r" + line + ("\r" + " " * len(line) + "\r" if done == total else ""))  # cleared when full
    stream.flush()


def train(
    data: Digits,
    hidden: int = 30,
    epochs: int = 10,
    mini_batch_size: int = 10,
    eta: float = 3.0,
    seed: int = 0,
    out: TextIO | None = None,
    progress: TextIO | None = None,
) -> tuple[reference.Network, list[float]]:
    """The seed's SGD, epoch by epoch, with the test accuracy after each (and a progress bar on
    ``progress``, stderr by default, if it is a terminal).

    Each epoch shuffles the training set (from ``seed``) and hands it to reference.train in
    TICKS slices of whole mini-batches, unshuffled: the same steps as one reference.train
    epoch, with room for a progress bar between slices.
    """
    out = sys.stdout if out is None else out  # looked up per call, so redirection is honoured
    progress = sys.stderr if progress is None else progress
    bar = progress.isatty()  # a bar redrawn with carriage returns belongs on a terminal only
    network = reference.Network.random((64, hidden, 10), ("sigmoid", "sigmoid"), seed=seed)
    rng = np.random.default_rng(seed)
    m = len(data.x_train)
    per_tick = max(1, m // mini_batch_size // TICKS) * mini_batch_size
    accuracies = []
    for epoch in range(1, epochs + 1):
        start = time.perf_counter()
        order = rng.permutation(m)
        for first in range(0, m, per_tick):
            batch = order[first : first + per_tick]
            step = reference.train(
                network,
                data.x_train[batch],
                data.y_train[batch],
                eta=eta,
                epochs=1,
                mini_batch_size=mini_batch_size,
                shuffle=False,
            )
            network = step.network
            if bar:
                _bar(progress, epoch, epochs, min(first + per_tick, m), m)
        cost = reference.cost(network.case(data.x_train, data.y_train))
        accuracies.append(accuracy(network, data.x_test, data.labels_test))
        correct = round(accuracies[-1] * len(data.labels_test))
        out.write(
            f"epoch {epoch}/{epochs}: test accuracy {accuracies[-1]:.1%} ({correct}/{len(data.labels_test)}), "
            f"training cost {cost:.4f}, {time.perf_counter() - start:.2f} s\n"
        )
        out.flush()
    return network, accuracies


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--epochs", type=int, default=10)
    parser.add_argument("--hidden", type=int, default=30, help="width of the hidden layer (default 30)")
    parser.add_argument("--eta", type=float, default=3.0, help="learning rate (default 3.0, as the seed)")
    parser.add_argument("--mini-batch-size", type=int, default=10)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--train-size", type=int, default=None, help="use only this many training images")
    parser.add_argument("--test-size", type=int, default=None, help="score on only this many test images")
    args = parser.parse_args(argv)
    try:
        data = load(args.train_size, args.test_size, args.seed)
    except ImportError:
        print("this example needs scikit-learn: pip install -e '.[digits]'", file=sys.stderr)
        return 2
    print(
        f"digits: {len(data.x_train)} training and {len(data.x_test)} test images of 8x8; "
        f"network [64, {args.hidden}, 10], sigmoid, quadratic cost, eta {args.eta}, "
        f"mini-batches of {args.mini_batch_size}"
    )
    start = time.perf_counter()
    _, accuracies = train(data, args.hidden, args.epochs, args.mini_batch_size, args.eta, args.seed)
    print(f"best test accuracy {max(accuracies):.1%}, final {accuracies[-1]:.1%}, {time.perf_counter() - start:.1f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
