"""Section 2: training throughput, samples per second of mini-batch SGD, as users compare it.

One timed call is one epoch over the same synthetic (MNIST-shaped) training set, with the same
mini-batch size and learning rate, for: ``reference.train`` (which validates the network and the
whole set once, then runs the prepared pass per mini-batch, and evaluates C over the whole set
after the epoch), a plain PyTorch loop (``torch.optim.SGD``, float64 and float32, also evaluating
C over the set after the epoch), Nielsen's per-sample SGD, and a hand-written batched numpy SGD
(the floor). The epoch's order is shuffled once and shared, so that every peer does the same work.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

import reference

from . import problems, timing
from .peers import numpy_pass, per_sample, torch_training
from .threads import torch_available

BASELINE = "reference.train"
TORCH64 = "PyTorch loop float64 (torch.optim.SGD)"
TORCH32 = "PyTorch loop float32 (torch.optim.SGD)"


def run(
    n_samples: int,
    rounds: int,
    min_sample_s: float,
    sizes: tuple[int, ...] = (784, 30, 10),
    mini_batch_size: int = 10,
    eta: float = 3.0,
    seed: int = 0,
) -> dict[str, Any]:
    """Samples per second of one epoch (call inside ``threads.single_thread()``)."""
    data = problems.make(sizes, n_samples, seed=seed)
    network = reference.Network.random(sizes, ("sigmoid",) * (len(sizes) - 1), seed=seed)
    order = np.random.default_rng(seed).permutation(n_samples)
    x_shuffled, y_shuffled = data.x[order], data.y[order]
    identity = np.arange(n_samples)
    columns = per_sample.columns(data.biases)
    peers: dict[str, Callable[[], object]] = {
        BASELINE: lambda: reference.train(
            network,
            x_shuffled,
            y_shuffled,
            eta=eta,
            epochs=1,
            mini_batch_size=mini_batch_size,
            shuffle=False,
        ),
        "per-sample loop (Nielsen SGD)": lambda: per_sample.sgd_epoch(
            data.weights, columns, data.x, data.y, eta, mini_batch_size, order
        ),
        "numpy batched SGD": lambda: per_sample.sgd_epoch(
            data.weights, data.biases, x_shuffled, y_shuffled, eta, mini_batch_size, identity, numpy_pass.backprop
        ),
    }
    notes = [
        "reference.train and the PyTorch loops also evaluate C over the whole training set after the "
        "epoch (one extra forward pass over n_samples), which the per-sample and numpy peers do not"
    ]
    if torch_available():
        for name, dtype in ((TORCH64, "float64"), (TORCH32, "float32")):
            peers[name] = torch_training.epoch_fn(
                network.weights, network.biases, x_shuffled, y_shuffled, eta, mini_batch_size, dtype
            )
    else:
        notes.append("torch is not installed: the PyTorch loops were skipped")
    timings = timing.interleaved(peers, rounds=rounds, min_sample_s=min_sample_s, seed=seed)
    return {
        "sizes": list(sizes),
        "n_samples": n_samples,
        "mini_batch_size": mini_batch_size,
        "eta": eta,
        "timings": {name: t.as_dict() for name, t in timings.items()},
        "samples_per_s": {name: n_samples / t.median for name, t in timings.items()},
        "ratios": [timing.ratio(timings, name, BASELINE).as_dict() for name in timings if name != BASELINE],
        "notes": notes,
    }
