"""Input checking: every mistake gets a message naming the field, the layer, and expected vs given.

The engine's numerical code trusts its input; this module is the only gate. It
never modifies what it is given: arrays are converted with ``np.asarray`` (no copy
when the dtype already matches) and are never written to afterwards.
"""

from __future__ import annotations

import functools
import math
from typing import Any

import numpy as np

from ._ops import Array
from .activations import ACTIVATIONS, OUTPUT_ONLY
from .case import DTYPES, Case
from .costs import COSTS, REDUCTIONS, REQUIRED_OUTPUT

FIELDS: tuple[str, ...] = ("sizes", "activations", "cost", "reduction", "dtype", "weights", "biases", "x", "y")


def validate(case: Any, *, finite: bool = True) -> Case:
    """Check a case-like object (any object with the contract's attributes) and return a Case of numpy arrays.

    finite=False skips the search for NaN and infinity in weights, biases and x: the engine's own
    entry points do it more cheaply on z (see ``check_forward_finite``).
    """
    missing = [f for f in FIELDS if not hasattr(case, f)]
    if missing:
        raise TypeError(
            f"case is missing {', '.join(missing)}; a case needs the attributes {', '.join(FIELDS)} "
            f"(got a {type(case).__name__})"
        )
    # No warning may escape: huge finite values overflow is_finite's dot product, a cast to
    # float32 or a row sum. One errstate here costs less than one per array.
    with np.errstate(over="ignore", invalid="ignore"):
        return _validate(case, finite)


def _validate(case: Any, finite: bool) -> Case:
    sizes, activations, cost, reduction, dtype = _architecture(
        case.sizes, case.activations, case.cost, case.reduction, case.dtype
    )
    weights = _layer_arrays("weights", case.weights, sizes, dtype, ndim=2, finite=finite)
    biases = _layer_arrays("biases", case.biases, sizes, dtype, ndim=1, finite=finite)
    x, y = _batch(case.x, case.y, sizes, cost, dtype, finite)
    return Case(sizes, activations, cost, reduction, dtype, weights, biases, x, y)


NETWORK_FIELDS: tuple[str, ...] = ("sizes", "activations", "cost", "reduction", "dtype", "weights", "biases")


def network(
    value: Any, what: str = "network"
) -> tuple[tuple[int, ...], tuple[str, ...], str, str, str, list[Array], list[Array]]:
    """A network-like object's architecture and parameters, checked (finiteness included) without a batch.

    Returns (sizes, activations, cost, reduction, dtype, weights, biases): what ``prepared.prepare``
    keeps, so that later batches need only ``batch``.
    """
    missing = [f for f in NETWORK_FIELDS if not hasattr(value, f)]
    if missing:
        raise TypeError(
            f"{what} is missing {', '.join(missing)}; it needs the attributes {', '.join(NETWORK_FIELDS)} "
            f"(a reference.Network or Case), got a {type(value).__name__}"
        )
    with np.errstate(over="ignore", invalid="ignore"):
        sizes, activations, cost, reduction, dtype = _architecture(
            value.sizes, value.activations, value.cost, value.reduction, value.dtype
        )
        weights = _layer_arrays("weights", value.weights, sizes, dtype, ndim=2, finite=True)
        biases = _layer_arrays("biases", value.biases, sizes, dtype, ndim=1, finite=True)
    return sizes, activations, cost, reduction, dtype, weights, biases


def parameters(weights: Any, biases: Any, sizes: tuple[int, ...], dtype: str) -> tuple[list[Array], list[Array]]:
    """New weights and biases for a checked architecture: shapes, dtype and finiteness, as ``validate`` checks them."""
    with np.errstate(over="ignore", invalid="ignore"):
        return (
            _layer_arrays("weights", weights, sizes, dtype, ndim=2, finite=True),
            _layer_arrays("biases", biases, sizes, dtype, ndim=1, finite=True),
        )


def batch(x: Any, y: Any, sizes: tuple[int, ...], cost: str, dtype: str, guard: bool = True) -> tuple[Array, Array]:
    """x and y for a checked architecture: every per-batch check of ``validate`` (shapes, dtypes,
    sample counts, targets, finite y); x's finiteness is left to the pass (see ``check_forward_finite``).

    guard=False: the caller is already inside ``np.errstate(over="ignore", invalid="ignore")``.
    """
    if (  # the common case, in a few attribute reads; anything else takes the path that names the error
        not guard
        and cost == "quadratic"  # no target constraints
        and type(x) is np.ndarray
        and type(y) is np.ndarray
        and x.ndim == 2
        and y.ndim == 2
        and x.dtype == y.dtype == _NUMPY_DTYPES[dtype]
        and x.shape[0] == y.shape[0] > 0
        and x.shape[1] == sizes[0]
        and y.shape[1] == sizes[-1]
        and is_finite(y)
    ):
        return x, y
    if not guard:
        return _batch(x, y, sizes, cost, dtype, finite=False)
    with np.errstate(over="ignore", invalid="ignore"):
        return _batch(x, y, sizes, cost, dtype, finite=False)


def _batch(x: Any, y: Any, sizes: tuple[int, ...], cost: str, dtype: str, finite: bool) -> tuple[Array, Array]:
    x = _batch_array("x", x, sizes[0], "n_1", dtype, finite=finite)
    y = _batch_array("y", y, sizes[-1], f"n_{len(sizes)}", dtype, finite=True)
    if x.shape[0] != y.shape[0]:
        raise ValueError(f"x has {x.shape[0]} samples (rows) but y has {y.shape[0]}; each sample needs one target row")
    _targets(cost, y, dtype)
    return x, y


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
    """sizes, activations, cost, reduction and dtype checked and normalized (tuples, dtype names)."""
    return _architecture(sizes, activations, cost, reduction, dtype)


def _architecture(
    sizes: Any, activations: Any, cost: Any, reduction: Any, dtype: Any
) -> tuple[tuple[int, ...], tuple[str, ...], str, str, str]:
    """The checks that depend only on names and widths: remembered, since a training loop repeats them.

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
    checked_sizes = _sizes(sizes)
    checked_activations = _activations(activations, checked_sizes)
    checked_cost = _name("cost", cost, COSTS)
    checked_reduction = _name("reduction", reduction, REDUCTIONS)
    checked_dtype = _dtype(dtype)
    _cost_matches_output(checked_cost, checked_activations)
    return checked_sizes, checked_activations, checked_cost, checked_reduction, checked_dtype


def _sizes(value: Any) -> tuple[int, ...]:
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


_NUMPY_DTYPES = {name: np.dtype(name) for name in DTYPES}


def _as_numeric(field: str, where: str, value: Any, dtype: str) -> Array:
    if type(value) is not np.ndarray:  # the common case skips both checks
        if isinstance(value, np.ma.MaskedArray):
            raise TypeError(
                f"{field}{where} is a numpy masked array; its mask would be silently dropped. "
                "Pass a plain array: .filled(value) to fill the masked entries, or drop those samples"
            )
        if isinstance(value, list | tuple):
            _no_bools(field, where, value)
    try:
        array = np.asarray(value)
    except (ValueError, TypeError) as error:
        raise TypeError(f"{field}{where} is not a rectangular numeric array: {error}") from None
    if array.dtype.kind not in "iuf":
        kind = {"b": "booleans", "c": "complex numbers", "O": "Python objects: pass a float array"}
        raise TypeError(
            f"{field}{where} must hold real numbers, got dtype {array.dtype} "
            f"({kind.get(array.dtype.kind, 'not numeric')})"
        )
    if array.dtype == _NUMPY_DTYPES[dtype]:
        return array
    return _convert(field, where, array, dtype)


def _no_bools(field: str, where: str, value: list[Any] | tuple[Any, ...], index: tuple[int, ...] = ()) -> None:
    """A bool among numbers in nested lists: np.asarray would quietly make it 1.0 or 0.0."""
    for i, item in enumerate(value):
        if isinstance(item, bool | np.bool_):
            at = ", ".join(str(k) for k in (*index, i))
            raise TypeError(f"{field}{where} holds the bool {bool(item)} at index [{at}]; expected a real number")
        if isinstance(item, list | tuple):
            _no_bools(field, where, item, (*index, i))


def _convert(field: str, where: str, array: Array, dtype: str) -> Array:
    """The array in ``dtype``; a finite value too large for it is named, not turned into inf."""
    narrowing = array.dtype.kind == "f" and array.dtype.itemsize > np.dtype(dtype).itemsize
    converted = array.astype(dtype)  # inside validate's errstate: an overflow to inf is reported below
    if narrowing and not is_finite(converted):
        overflow = np.argwhere(np.isfinite(array) & ~np.isfinite(converted))
        if len(overflow):
            index = tuple(int(i) for i in overflow[0])
            largest = float(np.finfo(dtype).max)
            advice = "; rescale the input, or use dtype float64" if dtype != "float64" else "; rescale the input"
            raise ValueError(
                f"{field}{where} holds {array[index]!s} at index {list(index)}, which is finite but "
                f"overflows {dtype} (largest finite value {largest:.4g}; {len(overflow)} such value(s)){advice}"
            )
    return converted


def is_finite(value: Any) -> bool:
    """No NaN or infinity anywhere in an array (or scalar).

    A dot product with itself is NaN or inf whenever an element is, and costs a fraction of
    isfinite on every element; only a non-finite result (or an overflow of huge values) needs
    the elementwise look. That overflow raises numpy's overflow warning: call this inside
    ``np.errstate(over="ignore", invalid="ignore")`` (the engine's hot path already is; an
    errstate per call would cost more than the dot product on small layers).
    """
    square = np.vdot(value, value)  # flattens without a separate ravel call
    try:
        finite = math.isfinite(square)  # a tenth of np.isfinite's cost on a scalar
    except TypeError:  # complex or mpmath
        finite = bool(np.isfinite(square))
    return finite or bool(np.all(np.isfinite(value)))


def _check_finite(field: str, where: str, array: Array) -> None:
    """Call inside np.errstate(over="ignore", invalid="ignore"), as is_finite."""
    if is_finite(array):
        return
    bad = np.argwhere(~np.isfinite(array))
    if len(bad):
        index = tuple(int(i) for i in bad[0])
        raise ValueError(
            f"{field}{where} contains {array[index]} at index {list(index)} "
            f"({len(bad)} non-finite value(s)); every input must be finite"
        )


def _layer_arrays(field: str, value: Any, sizes: tuple[int, ...], dtype: str, ndim: int, finite: bool) -> list[Array]:
    L = len(sizes)
    if not isinstance(value, list | tuple):
        raise TypeError(f"{field} must be a list of {L - 1} arrays (layers 2..{L}), got {type(value).__name__}")
    if len(value) != L - 1:
        raise ValueError(f"{field} has {len(value)} arrays, but sizes {sizes} needs {L - 1} (layers 2..{L})")
    arrays = []
    for i, item in enumerate(value):
        layer = i + 2
        where = f"[{i}] (layer {layer})"
        array = _as_numeric(field, where, item, dtype)
        n, n_prev = sizes[i + 1], sizes[i]
        expected = (n, n_prev) if ndim == 2 else (n,)
        if array.shape != expected:
            why = f"n_{layer} = {n} and n_{layer - 1} = {n_prev}" if ndim == 2 else f"n_{layer} = {n}"
            hint = ""
            if ndim == 1 and array.shape == (n, 1):
                hint = "; biases are 1-D, not (n, 1) columns: pass b.ravel()"
            elif ndim == 2 and array.shape == (n_prev, n):
                hint = "; this looks transposed: row j, column k holds w^l_jk"
            raise ValueError(
                f"{field}[{i}] has shape {array.shape}; layer {layer} needs {expected} because {why}{hint}"
            )
        if finite:
            _check_finite(field, where, array)
        arrays.append(array)
    return arrays


def _batch_array(field: str, value: Any, n: int, n_name: str, dtype: str, finite: bool) -> Array:
    array = _as_numeric(field, "", value, dtype)
    if array.ndim != 2:
        hint = f"; a single sample is {field}[None, :]" if array.ndim == 1 else ""
        raise ValueError(
            f"{field} has shape {array.shape}; expected (m, {n}): one sample per row, {n_name} = {n} columns{hint}"
        )
    if array.shape[0] == 0:
        raise ValueError(f"{field} has shape {array.shape}: the batch is empty (m = 0); need m >= 1")
    if array.shape[1] != n:
        raise ValueError(f"{field} has shape {array.shape}; expected (m, {n}) because {n_name} = {n}")
    if finite:
        _check_finite(field, "", array)
    return array


def check_forward_finite(case: Case, z: list[Array]) -> None:
    """Stand-in for checking weights, biases and x: z^l is finite exactly when they are.

    Every w^l_jk multiplies a^{l-1}_k in z^l_j, and NaN * 0 and inf * 0 are NaN, so a
    non-finite w^l, b^l or x makes z^l non-finite; and z^l, of size m x n_l, is usually
    far smaller than w^l. When z is not finite the inputs are searched and the culprit named.
    """
    if not all(is_finite(zl) for zl in z):
        find_non_finite(case)


def find_non_finite(case: Case) -> None:
    """Raise the ValueError that names the first non-finite input, if there is one."""
    with np.errstate(over="ignore", invalid="ignore"):
        for field in ("weights", "biases"):
            for i, array in enumerate(getattr(case, field)):
                _check_finite(field, f"[{i}] (layer {i + 2})", array)
        _check_finite("x", "", case.x)


def _targets(cost: str, y: Array, dtype: str) -> None:
    if cost == "cross_entropy":
        outside = np.argwhere((y < 0) | (y > 1))
        if len(outside):
            index = tuple(int(i) for i in outside[0])
            raise ValueError(f"y{list(index)} = {y[index]}: cross_entropy targets must lie in [0, 1]")
    elif cost == "log_likelihood":
        negative = np.argwhere(y < 0)
        if len(negative):
            index = tuple(int(i) for i in negative[0])
            raise ValueError(
                f"y{list(index)} = {y[index]}: log_likelihood targets must be probability "
                "vectors (non-negative, each row summing to 1)"
            )
        # Rounding in a sum of n numbers from [0, 1] is at most (n - 1) * eps * sum, so a
        # probability vector stored in this dtype sums to 1 within n * eps.
        row_sums = np.asarray(np.sum(y, axis=1, dtype=np.float64))  # may overflow to inf: reported below
        tolerance = y.shape[1] * float(np.finfo(dtype).eps)
        off = np.argwhere(np.abs(row_sums - 1.0) > tolerance)
        if len(off):
            row = int(off[0][0])
            raise ValueError(
                f"y[{row}] sums to {float(row_sums[row])!r}; log_likelihood targets must be probability "
                f"vectors, each row summing to 1 (within {tolerance:.1e} in {dtype})"
            )
