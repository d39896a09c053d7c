"""The structure check: is the answer a result of the contract's shape at all?

Every later check compares numbers, so this one turns whatever came back (arrays,
lists, nested lists, numpy scalars, JSON-decoded floats, exact numbers: mpmath mpf,
Fraction, Decimal, rounded once to the case's dtype by conformance.implementations.exact) into float64
arrays of the exact expected shapes, or explains in one sentence why it cannot. Lists instead
of arrays are accepted, as the contract says; ragged lists, None, strings,
booleans, complex numbers, wrong lengths and wrong shapes are not.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from conformance.errors import ExactError, StructureError
from conformance.implementations.exact import is_exact, round_exact, to_exact
from conformance.implementations.wire import Opaque
from reference._ops import Array

_PRECISION = {"float64": 53, "float32": 24}
_BITS = {np.dtype(np.float64): 53, np.dtype(np.float32): 24, np.dtype(np.float16): 11}


@dataclass(frozen=True)
class Result:
    """A backprop answer as float64 arrays; deltas and cost are None when not reported."""

    grad_weights: list[Array]
    grad_biases: list[Array]
    deltas: list[Array] | None
    cost: float | None


def _array(value: Any, where: str, shape: tuple[int, ...], dtype: str, layer: int | None) -> Array:
    if value is None:
        raise StructureError(f"{where} is None; expected an array of shape {shape}", layer)
    if isinstance(value, str | bytes):
        raise StructureError(f"{where} is the string {value[:40]!r}; expected an array of shape {shape}", layer)
    if isinstance(value, Opaque):
        if value.dtype is not None:
            raise StructureError(f"{where} has dtype {value.dtype}; expected real numbers ({dtype})", layer)
        raise StructureError(f"{where} is {value}; expected an array of shape {shape}", layer)
    if isinstance(value, bool):
        raise StructureError(f"{where} is the boolean {value}; expected an array of shape {shape}", layer)
    try:
        raw = np.asarray(value)
    except Exception as error:  # noqa: BLE001 - ragged nesting, objects numpy cannot hold, tensors needing grad, ...
        reason = str(error).split(". ")[0]
        raise StructureError(f"{where} is not a rectangular array ({type(error).__name__}: {reason})", layer) from None
    kind = raw.dtype.kind
    exact = _exact_array(raw, where, dtype, layer) if kind == "O" else None
    if exact is not None:
        raw, kind = exact, "f"
    elif kind == "O":
        _explain_object_array(raw, where, shape, layer)
    elif isinstance(value, list | tuple) and kind in "fiu":
        _no_booleans(value, where, layer)  # numpy would read [True, 0.5] as [1.0, 0.5]
    if kind in "bc" or kind in "SUV" or kind == "M" or kind == "m":
        raise StructureError(f"{where} has dtype {raw.dtype}; expected real numbers ({dtype})", layer)
    if isinstance(value, np.ndarray) and kind in "iu":
        raise StructureError(f"{where} has integer dtype {raw.dtype}; expected {dtype}", layer)
    if isinstance(value, np.ndarray | np.generic) and kind == "f" and _BITS.get(raw.dtype, 64) < _PRECISION[dtype]:
        raise StructureError(
            f"{where} has dtype {raw.dtype}, less precise than the case's {dtype}: a {dtype} case "
            f"needs {dtype} (or more precise) results",
            layer,
        )
    try:
        with np.errstate(over="ignore"):
            array = raw.astype(np.float64)
    except (TypeError, ValueError, OverflowError) as error:
        raise StructureError(f"{where} does not hold float numbers ({type(error).__name__}: {error})", layer) from None
    if array.shape != shape:
        hint = ""
        if array.shape == shape[::-1] and len(shape) == 2 and shape[0] != shape[1]:
            hint = " (transposed?)"
        elif len(shape) == 2 and array.shape == (shape[0], shape[0]) and where.startswith("grad_weights"):
            hint = " (n_l x n_l: a^l used where a^{l-1} belongs in equation 4?)"
        elif array.size == math.prod(shape):
            hint = " (same number of elements, wrong layout)"
        raise StructureError(f"{where} has shape {array.shape}; expected {shape}{hint}", layer)
    return array


def _no_booleans(value: list[Any] | tuple[Any, ...], where: str, layer: int | None) -> None:
    """Booleans are not numbers, even inside lists (JSON's true, Python's True)."""
    items = np.array(value, dtype=object)
    flags = np.frompyfunc(lambda v: isinstance(v, bool | np.bool_), 1, 1)(items)
    if np.any(flags.astype(bool)):
        index = tuple(int(i) for i in np.argwhere(flags.astype(bool))[0])
        place = f"{where}[{', '.join(map(str, index))}]" if index else where
        raise StructureError(f"{place} is the boolean {items[index]}; expected a number", layer)


def _exact_array(raw: Array, where: str, dtype: str, layer: int | None) -> Array | None:
    """An array holding exact numbers (mpf, Fraction, Decimal; conformance.implementations.exact), each rounded
    once to ``dtype``, and plain numbers; None when it holds no exact number."""
    if not any(is_exact(item) for item in raw.flat):
        return None
    out = np.empty(raw.shape, dtype=np.float64)
    for index, item in np.ndenumerate(raw):
        place = f"{where}[{', '.join(map(str, index))}]" if index else where
        if is_exact(item):
            try:
                out[index] = round_exact(to_exact(item), dtype)
            except ExactError as error:
                raise StructureError(f"{place}: {error}; expected a number of {dtype}", layer) from None
        elif isinstance(item, int | float | np.integer | np.floating) and not isinstance(item, bool | np.bool_):
            try:
                out[index] = float(item)
            except OverflowError:
                raise StructureError(f"{place} is an int beyond float64's range; expected a number", layer) from None
        else:
            _explain_object_array(np.array([item], dtype=object).reshape(()), place, (), layer)
    return out


def _explain_object_array(raw: Array, where: str, shape: tuple[int, ...], layer: int | None) -> None:
    for index, item in np.ndenumerate(raw):
        ok = isinstance(item, int | float | np.integer | np.floating) and not isinstance(item, bool)
        if not ok:
            place = f"{where}[{', '.join(map(str, index))}]" if index else where
            if isinstance(item, Opaque):
                raise StructureError(f"{place} is {item}; expected a number (array of shape {shape})", layer)
            what = "None" if item is None else f"{type(item).__name__} {str(item)[:40]!r}"
            raise StructureError(f"{place} is {what}; expected a number (array of shape {shape})", layer)


def _finite(array: Array, where: str, layer: int | None) -> None:
    if np.isfinite(array).all():
        return
    bad = np.argwhere(~np.isfinite(array))
    index = tuple(int(i) for i in bad[0])
    place = f"{where}[{', '.join(map(str, index))}]" if index else where
    raise StructureError(
        f"{place} = {array[index]} ({len(bad)} non-finite value(s)); the exact value is finite",
        layer,
    )


def _layers(
    result: Mapping[str, Any], key: str, shapes: list[tuple[int, ...]], dtype: str, finite: bool
) -> list[Array]:
    value = result[key]
    n = len(shapes)
    if value is None:
        raise StructureError(f"{key} is None; expected a list of {n} arrays, one per layer 2..{n + 1}")
    if isinstance(value, str | bytes | Mapping) or not isinstance(value, Sequence | np.ndarray):
        raise StructureError(f"{key} is a {type(value).__name__}; expected a list of {n} arrays (layers 2..{n + 1})")
    items = list(value)
    if len(items) != n:
        raise StructureError(f"{key} has {len(items)} entries; expected {n}, one per layer 2..{n + 1}")
    arrays = []
    for i, (item, shape) in enumerate(zip(items, shapes, strict=True)):
        where = f"{key}[{i}]"
        array = _array(item, where, shape, dtype, layer=i + 2)
        if finite:
            _finite(array, where, layer=i + 2)
        arrays.append(array)
    return arrays


def parse_result(
    value: Any,
    sizes: Sequence[int],
    m: int,
    dtype: str,
    *,
    want_deltas: bool,
    want_cost: bool,
    finite: bool = True,
) -> Result:
    """Check and convert a backprop answer; raises StructureError with the first problem found."""
    if not isinstance(value, Mapping):
        raise StructureError(
            f"the result is {'None' if value is None else f'{type(value).__name__} {repr(value)[:60]}'}, "
            "not a mapping with grad_weights and grad_biases"
        )
    for key in (
        ("grad_weights", "grad_biases") + (("deltas",) if want_deltas else ()) + (("cost",) if want_cost else ())
    ):
        if key not in value:
            declared = " (declared in capabilities['outputs'])" if key in ("deltas", "cost") else ""
            raise StructureError(f"the result has no {key!r}{declared}; it has {sorted(map(str, value))}")
    w_shapes: list[tuple[int, ...]] = [(n, n_prev) for n_prev, n in zip(sizes[:-1], sizes[1:], strict=True)]
    b_shapes: list[tuple[int, ...]] = [(n,) for n in sizes[1:]]
    grad_w = _layers(value, "grad_weights", w_shapes, dtype, finite)
    grad_b = _layers(value, "grad_biases", b_shapes, dtype, finite)
    deltas = None
    if value.get("deltas") is not None or want_deltas:
        deltas = _layers(value, "deltas", [(m, n) for n in sizes[1:]], dtype, finite)
    cost = None
    if value.get("cost") is not None or want_cost:
        raw = value["cost"]
        if isinstance(raw, list | tuple | np.ndarray):
            try:
                one = np.size(raw) == 1 and len(np.shape(raw)) > 0
            except ValueError:  # ragged
                raise StructureError("cost is not a number nor a 1-element array (a ragged list)") from None
            if one:
                raw = np.reshape(np.asarray(raw), ())  # [C] or a 1-element array: accepted as a scalar
        array = _array(raw, "cost", (), dtype, None)
        cost = float(array)  # a non-finite cost is the cost check's failure, not a malformed answer
    return Result(grad_w, grad_b, deltas, cost)


def parse_parameters(value: Any, sizes: Sequence[int], dtype: str) -> tuple[list[Array], list[Array]]:
    """Check and convert an sgd_step answer: {"weights": [...], "biases": [...]}."""
    if not isinstance(value, Mapping):
        raise StructureError(f"the result is {type(value).__name__}, not a mapping with weights and biases")
    for key in ("weights", "biases"):
        if key not in value:
            raise StructureError(f"the sgd_step result has no {key!r}; it has {sorted(map(str, value))}")
    w_shapes: list[tuple[int, ...]] = [(n, n_prev) for n_prev, n in zip(sizes[:-1], sizes[1:], strict=True)]
    b_shapes: list[tuple[int, ...]] = [(n,) for n in sizes[1:]]
    return _layers(value, "weights", w_shapes, dtype, True), _layers(value, "biases", b_shapes, dtype, True)
