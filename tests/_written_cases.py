"""Cases written out number by number, for tests whose point is a value worked out by hand."""

from __future__ import annotations

from types import SimpleNamespace

import numpy as np

from reference import Case, validate


def written_case(
    sizes: tuple[int, ...],
    activations: tuple[str, ...],
    cost: str = "quadratic",
    *,
    weights: list[list[list[float]]],
    biases: list[list[float]],
    x: list[list[float]],
    y: list[list[float]],
    reduction: str = "mean",
    dtype: str = "float64",
) -> Case:
    """A validated Case from nested lists (weights[l] is w^{l+2}, one row per unit of layer l+2)."""
    return validate(
        SimpleNamespace(
            sizes=sizes,
            activations=activations,
            cost=cost,
            reduction=reduction,
            dtype=dtype,
            weights=[np.array(w, dtype=dtype) for w in weights],
            biases=[np.array(b, dtype=dtype) for b in biases],
            x=np.array(x, dtype=dtype),
            y=np.array(y, dtype=dtype),
        )
    )
