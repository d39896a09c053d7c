"""Input checking: every mistake gets a message naming the field, the layer, and expected vs given.

The engine's numerical code trusts its input; this module is the only gate. It
never modifies what it is given: arrays are converted with ``np.asarray`` (no copy
when the dtype already matches) and are never written to afterwards.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

import numpy as np

from ._ops import Array
from .architecture import DTYPES, architecture
from .case import Case
from .costs import COST_RECORDS

# The costs whose targets may be any real number: the fast path of ``batch`` checks no more.
_REAL_TARGETS: frozenset[str] = frozenset(n for n, r in COST_RECORDS.items() if r.targets == "real")

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
    sizes, activations, cost, reduction, dtype = architecture(
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
        sizes, activations, cost, reduction, dtype = architecture(
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


def inputs(x: Any, sizes: tuple[int, ...], dtype: str) -> Array:
    """x alone, for a forward pass without targets (``Prepared.predict``): its dtype, its shape
    (m, n_1), one sample per row of layer 1, and its finiteness, named as ``validate`` names them."""
    with np.errstate(over="ignore", invalid="ignore"):
        return _batch_array("x", x, sizes[0], "n_1", dtype, finite=True)


def batch(x: Any, y: Any, sizes: tuple[int, ...], cost: str, dtype: str, guard: bool = True) -> tuple[Array, Array]:
    """x and y for a checked architecture: every per-batch check of ``validate`` (shapes, dtypes,
    sample counts, targets, finite y); x's finiteness is left to the pass (see ``check_forward_finite``).

    guard=False: the caller is already inside ``np.errstate(over="ignore", invalid="ignore")``.
    """
    if not guard and plain_batch(x, y, sizes, cost, dtype) and is_finite(y):
        return x, y
    if not guard:
        return _batch(x, y, sizes, cost, dtype, finite=False)
    with np.errstate(over="ignore", invalid="ignore"):
        return _batch(x, y, sizes, cost, dtype, finite=False)


def plain_batch(x: Any, y: Any, sizes: tuple[int, ...], cost: str, dtype: str) -> bool:
    """The common case, in a few attribute reads: x and y are plain arrays of the network's dtype and
    shapes (m >= 1 rows each) and the cost puts no constraint on its targets, so that ``batch`` returns
    them as they are once y is finite. False: ``batch``'s own path, which names what is wrong.

    Each shape is read once (``.shape`` builds a tuple per read) and the dtypes are compared last
    (the costliest comparison): 0.33 us against 0.49 us for the same tests in ``.ndim`` and
    ``.shape[i]`` reads, at the seed's workload, where the prepared pass's checks take about 5 us."""
    if cost not in _REAL_TARGETS or type(x) is not np.ndarray or type(y) is not np.ndarray:
        return False  # a target constraint to check, or not plain arrays
    x_shape, y_shape = x.shape, y.shape
    return (
        len(x_shape) == 2 == len(y_shape)
        and 0 < x_shape[0] == y_shape[0]
        and x_shape[1] == sizes[0]
        and y_shape[1] == sizes[-1]
        and x.dtype == _NUMPY_DTYPES[dtype] == y.dtype
    )


def _batch(x: Any, y: Any, sizes: tuple[int, ...], cost: str, dtype: str, finite: bool) -> tuple[Array, Array]:
    x = _batch_array("x", x, sizes[0], "n_1", dtype, finite=finite)
    y = _batch_array("y", y, sizes[-1], f"n_{len(sizes)}", dtype, finite=True)
    if x.shape[0] != y.shape[0]:
        raise ValueError(f"x has {x.shape[0]} samples (rows) but y has {y.shape[0]}; each sample needs one target row")
    _targets(cost, y, dtype)
    return x, y


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
        raise ValueError(
            f"{field} has shape {array.shape}; expected (m, {n}) because {n_name} = {n} "
            f"(layer {n_name.removeprefix('n_')} has {n} units, one column each)"
        )
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
    """The constraints the cost's record puts on its targets (``Cost.targets``), each named."""
    TARGET_CHECKS[COST_RECORDS[cost].targets](cost, y, dtype)


def _any_real(cost: str, y: Array, dtype: str) -> None:
    """Any real target (finiteness is checked with the other inputs)."""


def _unit_interval(cost: str, y: Array, dtype: str) -> None:
    outside = np.argwhere((y < 0) | (y > 1))
    if len(outside):
        index = tuple(int(i) for i in outside[0])
        raise ValueError(f"y{list(index)} = {y[index]}: {cost} targets must lie in [0, 1]")


def _probability(cost: str, y: Array, dtype: str) -> None:
    negative = np.argwhere(y < 0)
    if len(negative):
        index = tuple(int(i) for i in negative[0])
        raise ValueError(
            f"y{list(index)} = {y[index]}: {cost} targets must be probability "
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
            f"y[{row}] sums to {float(row_sums[row])!r}; {cost} targets must be probability "
            f"vectors, each row summing to 1 (within {tolerance:.1e} in {dtype})"
        )


# One check per kind of target (reference.costs.TARGET_KINDS; tests/test_cost_tables.py).
TARGET_CHECKS: dict[str, Callable[[str, Array, str], None]] = {
    "real": _any_real,
    "unit_interval": _unit_interval,
    "probability": _probability,
}
