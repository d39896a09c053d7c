"""PyTorch CPU autograd on the same network: the framework peer.

Parameters are leaf tensors built once (``prepare``); each timed call wraps the numpy batch
with ``torch.from_numpy`` (no copy), runs the forward pass with ``torch.nn.functional.linear``
(one addmm per layer), and asks ``torch.autograd.grad`` for the parameter gradients, which
returns fresh tensors (no accumulation into .grad to reset). Autograd does not return the
per-sample deltas that the reference does; the comparison favours torch in that respect.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np


def prepare(weights: Sequence[np.ndarray], biases: Sequence[np.ndarray]) -> list[Any]:
    """Leaf tensors [w^2, b^2, w^3, b^3, ...] sharing nothing with the numpy arrays."""
    import torch

    params = []
    for w, b in zip(weights, biases, strict=True):
        params.append(torch.tensor(w, requires_grad=True))
        params.append(torch.tensor(b, requires_grad=True))
    return params


def backprop(params: Sequence[Any], x: np.ndarray, y: np.ndarray) -> tuple[list[np.ndarray], list[np.ndarray]]:
    """(grad_weights, grad_biases) of the mean quadratic cost, as numpy arrays."""
    import torch
    import torch.nn.functional as F

    a = torch.from_numpy(x)
    target = torch.from_numpy(y)
    for i in range(0, len(params), 2):
        a = torch.sigmoid(F.linear(a, params[i], params[i + 1]))
    diff = a - target
    cost = 0.5 * (diff * diff).sum() / x.shape[0]
    grads = torch.autograd.grad(cost, list(params))
    return [g.numpy() for g in grads[0::2]], [g.numpy() for g in grads[1::2]]
