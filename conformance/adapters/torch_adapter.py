"""PyTorch autograd as an implementation under test: ``--impl conformance.adapters.torch_adapter``.

Nothing here hand-codes a derivative: the cost is built from torch ops and autograd
differentiates it, in the case's own dtype (float32 cases run in float32). Two
choices keep torch's *forward* numerics clean without touching its gradients:

- softplus is ``logaddexp(z, 0)``: ``torch.nn.functional.softplus`` switches to the
  identity above z = 20, so its derivative there is exactly 1 instead of
  sigmoid(z) (measured at z = 20.5: an error of 1.25e-9 in float64, where the
  tolerance is ~1e-15);
- cross_entropy and log_likelihood are written on z^L (``binary_cross_entropy_with_logits``,
  ``log_softmax``), as any careful PyTorch code does, so a saturated output never
  takes ln(0).

The per-sample errors delta^{x,l} = dC_x/dz^{x,l} are the gradient of sum_x C_x with
respect to each z^l (samples do not interact), which keeps them independent of the
reduction as the contract requires; the gradients are those of C itself.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from typing import Any

import numpy as np

try:
    import torch
    import torch.nn.functional as F
except ImportError as error:  # pragma: no cover - exercised only without torch
    raise ImportError(
        "conformance.adapters.torch_adapter needs PyTorch, which is optional: "
        "pip install torch==2.13.0 (or pip install 'backprop-reference[torch]')"
    ) from error

capabilities: dict[str, list[str]] = {
    "activations": ["sigmoid", "tanh", "relu", "identity", "softplus", "softmax"],
    "costs": ["quadratic", "cross_entropy", "log_likelihood"],
    "reductions": ["mean", "sum"],
    "dtypes": ["float64", "float32"],
    "outputs": ["deltas", "cost"],
}

_DTYPES = {"float64": torch.float64, "float32": torch.float32}


def _softplus(z: torch.Tensor) -> torch.Tensor:
    return torch.logaddexp(z, torch.zeros_like(z))


_ACTIVATIONS: dict[str, Callable[[torch.Tensor], torch.Tensor]] = {
    "sigmoid": torch.sigmoid,
    "tanh": torch.tanh,
    "relu": torch.relu,  # relu'(0) = 0 in torch, as the contract requires
    "identity": lambda z: z,
    "softplus": _softplus,
    "softmax": lambda z: torch.softmax(z, dim=1),
}


def _get(case: Any, name: str) -> Any:
    return case[name] if isinstance(case, Mapping) else getattr(case, name)


def _tensor(value: Any, dtype: torch.dtype, grad: bool = False) -> torch.Tensor:
    """A fresh tensor (never a view of the caller's array, so nothing can write back)."""
    return torch.tensor(np.asarray(value, dtype=np.float64), dtype=dtype, requires_grad=grad)


# C_x for every sample from (z^L, a^L, y), written with torch's own losses: an independent
# implementation, not the reference's formulas (tests/test_cost_tables.py: every cost listed).
_COSTS: dict[str, Callable[[torch.Tensor, torch.Tensor, torch.Tensor], torch.Tensor]] = {
    "quadratic": lambda z_L, a_L, y: 0.5 * ((a_L - y) ** 2).sum(dim=1),
    "cross_entropy": lambda z_L, a_L, y: F.binary_cross_entropy_with_logits(z_L, y, reduction="none").sum(dim=1),
    "log_likelihood": lambda z_L, a_L, y: -(y * torch.log_softmax(z_L, dim=1)).sum(dim=1),
}


def _per_sample_cost(cost: str, z_L: torch.Tensor, a_L: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
    if cost not in _COSTS:
        raise ValueError(f"cost: unknown cost {cost!r}; expected one of {', '.join(_COSTS)}")
    return _COSTS[cost](z_L, a_L, y)


def _run(
    case: Any,
) -> tuple[list[torch.Tensor], list[torch.Tensor], list[torch.Tensor], torch.Tensor, torch.Tensor]:
    """The forward graph: (weights, biases, z, per-sample costs C_x, C)."""
    dtype_name = str(np.dtype(_get(case, "dtype")))
    if dtype_name not in _DTYPES:
        raise ValueError(f"unsupported dtype {dtype_name!r}; expected float64 or float32")
    dtype = _DTYPES[dtype_name]
    weights = [_tensor(w, dtype, grad=True) for w in _get(case, "weights")]
    biases = [_tensor(b, dtype, grad=True) for b in _get(case, "biases")]
    a = _tensor(_get(case, "x"), dtype)
    y = _tensor(_get(case, "y"), dtype)
    zs = []
    for w, b, name in zip(weights, biases, _get(case, "activations"), strict=True):
        z = a @ w.T + b
        zs.append(z)
        a = _ACTIVATIONS[name](z)
    per_sample = _per_sample_cost(_get(case, "cost"), zs[-1], a, y)
    reduction = _get(case, "reduction")
    if reduction not in ("mean", "sum"):
        raise ValueError(f"unknown reduction {reduction!r}")
    total = per_sample.mean() if reduction == "mean" else per_sample.sum()
    return weights, biases, zs, per_sample, total


@contextmanager
def _one_thread() -> Iterator[None]:
    """Run one call on one intra-op thread, then restore the caller's setting.

    The suite's networks are tiny (n <= 8): splitting their matrix products over
    threads only adds synchronisation, which on a busy 2-core machine made a
    default suite run 2.5x slower (measured: 92-106 s against 38 s).
    """
    before = torch.get_num_threads()
    if before != 1:
        torch.set_num_threads(1)
    try:
        yield
    finally:
        if before != 1:
            torch.set_num_threads(before)


def backprop(case: Any) -> dict[str, Any]:
    """grad_weights, grad_biases (of C), deltas (per sample), cost: numpy, in the case's dtype."""
    with _one_thread():
        return _backprop(case)


def _backprop(case: Any) -> dict[str, Any]:
    weights, biases, zs, per_sample, total = _run(case)
    grads = torch.autograd.grad(total, [*weights, *biases], retain_graph=True)
    deltas = torch.autograd.grad(per_sample.sum(), zs)
    n = len(weights)
    return {
        "grad_weights": [g.detach().numpy() for g in grads[:n]],
        "grad_biases": [g.detach().numpy() for g in grads[n:]],
        "deltas": [d.detach().numpy() for d in deltas],
        "cost": float(total.detach()),
    }


def sgd_step(case: Any, eta: float) -> dict[str, Any]:
    """One step of gradient descent on C, with autograd's gradients: p - eta dC/dp.

    (torch.optim.SGD computes the same, but costs ~17 ms per call in optimizer setup
    against ~2 ms for the whole backprop here, which would dominate the suite's run.)
    """
    with _one_thread():
        weights, biases, _, _, total = _run(case)
        params = [*weights, *biases]
        grads = torch.autograd.grad(total, params)
        with torch.no_grad():
            new = [p - eta * g for p, g in zip(params, grads, strict=True)]
    n = len(weights)
    return {
        "weights": [w.numpy() for w in new[:n]],
        "biases": [b.numpy() for b in new[n:]],
    }
