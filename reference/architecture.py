"""Checking an architecture (sizes, activations, cost, reduction, dtype) and the integer arguments.

Apart from ``validation`` because ``Network.random`` needs it before any array exists, and
``validation`` needs ``case``: this module imports neither, so the two do not import each other.
"""

from __future__ import annotations

import functools
from typing import Any

import numpy as np

from .activations import ACTIVATIONS, OUTPUT_ONLY
from .costs import COSTS, REDUCTIONS, REQUIRED_OUTPUT

DTYPES: tuple[str, ...] = ("float64", "float32")


def whole_number(name: str, value: Any, expected: str, least: int = 1) -> int:
    """An int argument (numpy integers welcome, bools and floats refused), at least ``least``."""
    if isinstance(value, bool | np.bool_) or not isinstance(value, int | np.integer):
        raise TypeError(f"{name} must be {expected}, got {value!r} ({type(value).__name__})")
    if value < least:
        raise ValueError(f"{name} must be {expected}, got {value!r}")
    return int(value)


def seed(value: Any) -> int:
    """A random seed: numpy's own errors for -1 or 1.5 do not say which argument was wrong."""
    return whole_number("seed", value, "an int >= 0 (runs repeat exactly from it)", least=0)


def architecture(
    sizes: Any, activations: Any, cost: Any, reduction: Any, dtype: Any
) -> tuple[tuple[int, ...], tuple[str, ...], str, str, str]:
    """sizes, activations, cost, reduction and dtype checked and normalized (tuples, dtype names).

    These checks depend only on names and widths: remembered, since a training loop repeats them.

    Only lists and tuples reach the cache: ``tuple()`` of a set, a dict or a string would
    succeed and hide the mistake (a set's order changes with the hash seed).
    """
    if type(sizes) in _ORDERED and type(activations) in _ORDERED:
        key = (tuple(sizes), tuple(activations), cost, reduction, dtype, type(dtype))
        try:
            hash(key)
        except TypeError:
            return _check_architecture(sizes, activations, cost, reduction, dtype)
        if all(type(n) is int for n in key[0]) and all(type(a) is str for a in key[1]):
            return _check_architecture_cached(key)
    return _check_architecture(sizes, activations, cost, reduction, dtype)


_ORDERED = (list, tuple)


def _unordered(value: Any) -> str:
    """Why a container that is not a list or tuple cannot stand for a per-layer sequence."""
    if isinstance(value, set | frozenset):
        return f"a {type(value).__name__} has no fixed order (it changes with the hash seed)"
    if isinstance(value, dict):
        return "a dict is not a per-layer sequence (its keys would be used)"
    if isinstance(value, str | bytes):
        return "a string is one name, not a sequence of them"
    return f"a {type(value).__name__} is not a list or tuple"


@functools.lru_cache(maxsize=256)
def _check_architecture_cached(key: tuple[Any, ...]) -> tuple[tuple[int, ...], tuple[str, ...], str, str, str]:
    return _check_architecture(*key[:5])


def _check_architecture(
    sizes: Any, activations: Any, cost: Any, reduction: Any, dtype: Any
) -> tuple[tuple[int, ...], tuple[str, ...], str, str, str]:
    checked_sizes = check_sizes(sizes)
    checked_activations = _activations(activations, checked_sizes)
    checked_cost = _name("cost", cost, COSTS)
    checked_reduction = _name("reduction", reduction, REDUCTIONS)
    checked_dtype = _dtype(dtype)
    _cost_matches_output(checked_cost, checked_activations)
    return checked_sizes, checked_activations, checked_cost, checked_reduction, checked_dtype


def check_sizes(value: Any) -> tuple[int, ...]:
    """The layer widths (n_1, ..., n_L) as a tuple of ints, or the error naming the entry at fault.

    Shared with ``symbolic.spec``: the proofs and the engine accept exactly the same sizes.
    """
    if not isinstance(value, list | tuple | np.ndarray) or np.ndim(value) != 1:
        why = "a numpy array of sizes must be 1-D" if isinstance(value, np.ndarray) else _unordered(value)
        raise TypeError(f"sizes must be a list or tuple of layer widths (n_1, ..., n_L), got {value!r}: {why}")
    sizes = []
    for i, n in enumerate(value):
        if isinstance(n, bool) or not isinstance(n, int | np.integer):
            raise TypeError(f"sizes[{i}] (n_{i + 1}, layer {i + 1}) must be an int, got {n!r}")
        if n < 1:
            raise ValueError(f"sizes[{i}] = {int(n)}: layer {i + 1} has zero width; every layer needs n_l >= 1")
        sizes.append(int(n))
    if len(sizes) < 2:
        raise ValueError(
            f"sizes = {tuple(sizes)} has {len(sizes)} layer(s); a network needs at least two "
            "(an input layer 1 and an output layer L)"
        )
    return tuple(sizes)


def _name(field: str, value: Any, allowed: tuple[str, ...]) -> str:
    if not isinstance(value, str):
        raise TypeError(f"{field} must be a string, one of {', '.join(allowed)}; got {value!r}")
    if value not in allowed:
        raise ValueError(f"unknown {field} {value!r}; expected one of {', '.join(allowed)}")
    return value


def _dtype(value: Any) -> str:
    allowed = ", ".join(DTYPES)
    if value is None:
        # np.dtype(None) is float64: a dtype left unset must not pass for a choice.
        raise ValueError(f"dtype is None; expected one of {allowed} (a name or a numpy dtype)")
    try:
        name = np.dtype(value).name if not isinstance(value, str) else value
    except (TypeError, ValueError):
        name = repr(value)
    if name not in DTYPES:
        raise ValueError(f"unknown dtype {value!r}; expected one of {allowed}")
    return name


def _activations(value: Any, sizes: tuple[int, ...]) -> tuple[str, ...]:
    L = len(sizes)
    if not isinstance(value, list | tuple):
        raise TypeError(
            f"activations must be a list or tuple of {L - 1} names, one per layer 2..{L} in order; "
            f"got {value!r}: {_unordered(value)}"
        )
    if len(value) != L - 1:
        raise ValueError(
            f"activations has {len(value)} names, but sizes {sizes} has L = {L} layers, which needs "
            f"{L - 1} (one per layer 2..{L})"
        )
    names = []
    for i, name in enumerate(value):
        layer = i + 2
        names.append(_name(f"activations[{i}] (layer {layer})", name, ACTIVATIONS))
        if name in OUTPUT_ONLY and layer != L:
            raise ValueError(
                f"activations[{i}] = {name!r} at layer {layer}: {name} is allowed only at the output layer L = {L}"
            )
    return tuple(names)


def _cost_matches_output(cost: str, activations: tuple[str, ...]) -> None:
    required = REQUIRED_OUTPUT[cost]
    if required is not None and activations[-1] != required:
        raise ValueError(
            f"cost {cost!r} needs a {required} output layer (its delta^L = a^L - y holds only "
            f"there), but the output activation is {activations[-1]!r}"
        )
