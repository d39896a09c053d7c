"""The objects that carry a network and a batch through the engine."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from typing import Any, Protocol

import numpy as np

from ._ops import Array
from .architecture import architecture
from .architecture import seed as random_seed


def _size(value: Any) -> str:
    """Elements in an array (or nested list), or "?" for what is not one: a repr must never raise."""
    try:
        return str(int(np.size(value)))
    except (TypeError, ValueError):
        return "?"


def _parameter_count(weights: Any, biases: Any) -> str:
    """Weights and biases counted, or "?" if either is not a list of arrays (an unvalidated Case)."""
    if not isinstance(weights, list | tuple) or not isinstance(biases, list | tuple):
        return "?"
    sizes = [_size(v) for v in (*weights, *biases)]
    return "?" if "?" in sizes else str(sum(int(n) for n in sizes))


def architecture_text(sizes: Any, activations: Any, cost: Any, reduction: Any, dtype: Any) -> str:
    """A network's architecture in one short phrase for a repr, repeated activations run-length coded
    ("sizes (784, 30, 30, 10), sigmoid x3, quadratic (mean), float64") so a deep network stays on a line."""
    if isinstance(activations, list | tuple):
        runs: list[list[Any]] = []
        for name in activations:
            if runs and runs[-1][0] == name:
                runs[-1][1] += 1
            else:
                runs.append([name, 1])
        acts = ", ".join(f"{name} x{n}" if n > 1 else str(name) for name, n in runs)
    else:
        acts = repr(activations)
    shown = tuple(sizes) if isinstance(sizes, list | tuple) else sizes
    return f"sizes {shown}, {acts}, {cost} ({reduction}), {dtype}"


@dataclass(frozen=True)
class Case:
    """One network and one batch: the unit of the conformance contract.

    weights[i] is w^{i+2}, shape (n_{i+2}, n_{i+1}); biases[i] is b^{i+2}, shape (n_{i+2},);
    x is (m, n_1), one sample per row; y is (m, n_L). activations[i] is sigma of layer i + 2.
    """

    sizes: tuple[int, ...]
    activations: tuple[str, ...]
    cost: str
    reduction: str
    dtype: str
    weights: list[Array]
    biases: list[Array]
    x: Array
    y: Array

    def replace(self, **changes: Any) -> Case:
        return replace(self, **changes)

    def __repr__(self) -> str:
        """One line: the architecture and the batch's shapes (the arrays stay in the fields)."""
        arch = architecture_text(self.sizes, self.activations, self.cost, self.reduction, self.dtype)
        return f"<Case {arch}, {_parameter_count(self.weights, self.biases)} parameters, x {np.shape(self.x)}>"

    @property
    def m(self) -> int:
        return int(self.x.shape[0])

    @property
    def n_params(self) -> int:
        return sum(int(w.size) + int(b.size) for w, b in zip(self.weights, self.biases, strict=True))


class Net(Protocol):
    """What the engine's pass reads of a network; ``Network``, ``Case``, ``Prepared`` and ``Layers`` have it.

    weights[i], biases[i] and activations[i] belong to layer l = i + 2.
    """

    @property
    def weights(self) -> Sequence[Array]: ...
    @property
    def biases(self) -> Sequence[Array]: ...
    @property
    def activations(self) -> Sequence[str]: ...
    @property
    def cost(self) -> str: ...
    @property
    def reduction(self) -> str: ...


@dataclass(frozen=True)
class Layers:
    """A network as the engine's pass reads it, for parameters that are not a checked Network's:
    perturbed copies (finite differences, complex steps, mpmath) and the layers above one layer."""

    weights: Sequence[Array]
    biases: Sequence[Array]
    activations: Sequence[str]
    cost: str = "quadratic"
    reduction: str = "mean"

    def __getitem__(self, layers: slice) -> Layers:
        """The layers at those indices (index i is layer i + 2): ``net[i:]`` takes a^{i+1} as its input."""
        return Layers(self.weights[layers], self.biases[layers], self.activations[layers], self.cost, self.reduction)


@dataclass(frozen=True)
class Forward:
    """Every z^l and a^l of a forward pass: z[i] is z^{i+2}, a[i] is a^{i+1} (a[0] = x)."""

    z: list[Array]
    a: list[Array]

    def __repr__(self) -> str:
        """One line: the batch size and each layer's width (the arrays stay in ``z`` and ``a``)."""
        m = self.a[0].shape[0] if self.a else 0
        widths = ", ".join(str(a.shape[-1]) for a in self.a)
        return f"<Forward m = {m}: a^1..a^{len(self.a)} of widths {widths}>"

    def z_of(self, l: int) -> Array:
        """z^l in the seed's numbering (l = 2..L)."""
        if l < 2 or l - 2 >= len(self.z):
            raise IndexError(f"z^{l} does not exist: layers with z are 2..{len(self.z) + 1}")
        return self.z[l - 2]

    def a_of(self, l: int) -> Array:
        """a^l in the seed's numbering (l = 1..L)."""
        if l < 1 or l - 1 >= len(self.a):
            raise IndexError(f"a^{l} does not exist: layers are 1..{len(self.a)}")
        return self.a[l - 1]


@dataclass
class Network:
    """A network's architecture, cost convention and parameters, without a batch."""

    sizes: tuple[int, ...]
    activations: tuple[str, ...]
    cost: str = "quadratic"
    reduction: str = "mean"
    dtype: str = "float64"
    weights: list[Array] = field(default_factory=list)
    biases: list[Array] = field(default_factory=list)

    def __repr__(self) -> str:
        """One line: the architecture and the parameter count (the arrays stay in the fields)."""
        arch = architecture_text(self.sizes, self.activations, self.cost, self.reduction, self.dtype)
        return f"<Network {arch}, {_parameter_count(self.weights, self.biases)} parameters>"

    @classmethod
    def random(
        cls,
        sizes: tuple[int, ...] | list[int],
        activations: tuple[str, ...] | list[str],
        cost: str = "quadratic",
        reduction: str = "mean",
        dtype: str = "float64",
        seed: int = 0,
    ) -> Network:
        """Gaussian weights with variance 1/n_{l-1} and standard-normal biases, from an explicit seed.

        The architecture is checked here, before any array is drawn: a set of activation
        names or dtype=None would otherwise be frozen into the network in a silent form.
        """
        sizes, activations, cost, reduction, dtype = architecture(sizes, activations, cost, reduction, dtype)
        rng = np.random.default_rng(random_seed(seed))
        weights = [
            (rng.standard_normal((n, n_prev)) / np.sqrt(n_prev)).astype(dtype)
            for n_prev, n in zip(sizes[:-1], sizes[1:], strict=True)
        ]
        biases = [rng.standard_normal(n).astype(dtype) for n in sizes[1:]]
        return cls(sizes, activations, cost, reduction, dtype, weights, biases)

    def case(self, x: Any, y: Any) -> Case:
        """This network with a batch: the object every engine entry point takes.

        Arrays, including subclasses such as masked arrays, are passed on as they are, for
        validation to judge; np.asarray would drop a mask unseen.
        """
        return Case(
            self.sizes,
            self.activations,
            self.cost,
            self.reduction,
            self.dtype,
            list(self.weights),
            list(self.biases),
            x if isinstance(x, np.ndarray) else np.asarray(x),
            y if isinstance(y, np.ndarray) else np.asarray(y),
        )
