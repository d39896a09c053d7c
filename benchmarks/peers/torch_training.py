"""A plain PyTorch training loop: the loop users write, to compare ``reference.train`` against.

``torch.nn.Sequential`` of ``Linear`` and ``Sigmoid`` layers holding the same initial parameters,
``torch.optim.SGD(lr=eta)`` on the mean quadratic cost C = (1/m) sum_x 1/2 ||a^L - y||^2 of each
mini-batch, the same mini-batches in the same order, and after the epoch C over the whole set
(as ``reference.train`` reports it). Each call starts again from the same initial parameters.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import numpy as np


def epoch_fn(
    weights: Sequence[np.ndarray],
    biases: Sequence[np.ndarray],
    x: np.ndarray,
    y: np.ndarray,
    eta: float,
    mini_batch_size: int,
    dtype: str,
) -> Callable[[], Any]:
    """A callable running one epoch over (x, y) in order (shuffle them beforehand), from the given parameters."""
    import torch

    torch_dtype = {"float64": torch.float64, "float32": torch.float32}[dtype]
    layers: list[torch.nn.Module] = []
    for w in weights:
        layers += [torch.nn.Linear(w.shape[1], w.shape[0], dtype=torch_dtype), torch.nn.Sigmoid()]
    model = torch.nn.Sequential(*layers)
    linears = [m for m in model if isinstance(m, torch.nn.Linear)]
    initial = [
        (torch.tensor(w, dtype=torch_dtype), torch.tensor(b, dtype=torch_dtype))
        for w, b in zip(weights, biases, strict=True)
    ]
    xs = torch.from_numpy(np.ascontiguousarray(x, dtype=dtype))
    ys = torch.from_numpy(np.ascontiguousarray(y, dtype=dtype))
    optimizer = torch.optim.SGD(model.parameters(), lr=eta)
    n = xs.shape[0]

    def epoch() -> float:
        with torch.no_grad():
            for layer, (w, b) in zip(linears, initial, strict=True):
                layer.weight.copy_(w)
                layer.bias.copy_(b)
        for start in range(0, n, mini_batch_size):
            xb, yb = xs[start : start + mini_batch_size], ys[start : start + mini_batch_size]
            optimizer.zero_grad()
            diff = model(xb) - yb
            loss = 0.5 * (diff * diff).sum() / xb.shape[0]
            loss.backward()
            optimizer.step()
        with torch.no_grad():
            diff = model(xs) - ys
            return float(0.5 * (diff * diff).sum() / n)

    return epoch
