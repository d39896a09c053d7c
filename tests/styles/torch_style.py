"""A stock PyTorch ``nn.Sequential`` classifier, as a user would wrap it: positive and negative controls.

The network is built from ``nn.Linear`` and activation modules with the case's parameters
copied in, the loss from ``torch.nn``, and autograd gives the gradients (no deltas: a
training step has none to report). Two losses:

- ``TorchLogits``: no final Sigmoid, ``nn.BCEWithLogitsLoss``: the cost from z^L. It
  conforms. Its hidden ``nn.Softplus`` is z itself above z = 20 (torch's default
  threshold), a documented convention it declares (``declare=False`` leaves it out:
  then the suite must fail it, on cases with a softplus pre-activation above 20).
- ``TorchSigmoidBCELoss``: ``nn.Sigmoid`` then ``nn.BCELoss``: the cost from the rounded a,
  with torch's clamps (ln at -100, a (1 - a) at 1e-12 in its derivative). Right except where
  the output saturates, and the suite must say so.

The capabilities say what such a model is: sigmoid, tanh, relu or softplus hidden layers,
a sigmoid output, the cross-entropy cost (per position: ``hidden_activations``,
``output_activations``). Needs torch; importing this module without it raises ImportError.
"""

from __future__ import annotations

from typing import Any

import numpy as np

try:
    import torch
    from torch import nn
except ImportError as error:  # pragma: no cover - exercised only without torch
    raise ImportError("tests/styles/torch_style.py needs PyTorch: pip install torch") from error

_DTYPES = {"float64": torch.float64, "float32": torch.float32}
_MODULES = {"sigmoid": nn.Sigmoid, "tanh": nn.Tanh, "relu": nn.ReLU, "softplus": nn.Softplus}


class TorchLogits:
    """nn.Sequential without a final Sigmoid, trained with nn.BCEWithLogitsLoss."""

    final_sigmoid = False

    def __init__(self, declare: bool = True) -> None:
        self.capabilities: dict[str, Any] = {
            "hidden_activations": ["sigmoid", "tanh", "relu", "softplus"],
            "output_activations": ["sigmoid"],
            "costs": ["cross_entropy"],
            "outputs": ["cost"],
        }
        if declare:
            self.capabilities["conventions"] = {"softplus_threshold": 20}

    def loss(self, reduction: str) -> nn.Module:
        return nn.BCEWithLogitsLoss(reduction=reduction)

    def model(self, case: Any, dtype: torch.dtype) -> nn.Sequential:
        """Linear, activation, ..., Linear (and a final nn.Sigmoid only for the BCELoss model)."""
        layers: list[nn.Module] = []
        last = len(case.weights) - 1
        for i, (w, b, name) in enumerate(zip(case.weights, case.biases, case.activations, strict=True)):
            linear = nn.Linear(w.shape[1], w.shape[0]).to(dtype)
            with torch.no_grad():
                linear.weight.copy_(torch.tensor(np.asarray(w), dtype=dtype))
                linear.bias.copy_(torch.tensor(np.asarray(b), dtype=dtype))
            layers.append(linear)
            if i < last or self.final_sigmoid:
                layers.append(_MODULES[name]())
        return nn.Sequential(*layers)

    def backprop(self, case: Any) -> dict[str, Any]:
        torch.set_num_threads(1)  # tiny networks: threads only add synchronisation
        dtype = _DTYPES[str(case.dtype)]
        net = self.model(case, dtype)
        x = torch.tensor(np.asarray(case.x), dtype=dtype)
        y = torch.tensor(np.asarray(case.y), dtype=dtype)
        out = net(x)
        # The contract's C sums over the output units, then reduces over the samples.
        per_sample = self.loss("none")(out, y).sum(dim=1)
        cost = per_sample.mean() if case.reduction == "mean" else per_sample.sum()
        net.zero_grad()
        cost.backward()
        linears = [m for m in net if isinstance(m, nn.Linear)]
        return {
            "grad_weights": [m.weight.grad.detach().numpy().copy() for m in linears],  # type: ignore[union-attr]
            "grad_biases": [m.bias.grad.detach().numpy().copy() for m in linears],  # type: ignore[union-attr]
            "cost": float(cost.detach()),
        }


class TorchSigmoidBCELoss(TorchLogits):
    """nn.Sequential ending in nn.Sigmoid, trained with nn.BCELoss: the cost from the rounded a."""

    final_sigmoid = True

    def loss(self, reduction: str) -> nn.Module:
        return nn.BCELoss(reduction=reduction)
