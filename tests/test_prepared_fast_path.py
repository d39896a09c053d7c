"""The prepared pass's fast path (``Prepared.backprop``): cheaper checks, the same verdicts.

Three things changed for speed, each held to what it stands in for:

* ``prepared.quiet`` enters ``np.errstate(all="ignore")`` as numpy 2's decorator does. Whatever the
  caller's error state (raise, warn), no numpy warning or error leaves the pass, and the caller's
  state is back afterwards, on return and on raise, in nested calls and in threads. Negative
  controls: a decorator that silences nothing, and one that silences but never restores.
* ``validation.plain_batch`` reads each shape once. It is held to a predicate written here from
  its docstring on a grid of plain and awkward batches; a predicate that forgets one condition
  disagrees with it somewhere on the grid (the grid can tell).
* The certificate is fed inputs built to break it: one NaN or infinity at every position of x and
  of y, x huge but finite so that dC/dw^2 overflows while C and every delta stay finite,
  parameters at the edge of the range, float32. Each is named exactly as the checked path names
  it (``reference.backprop`` and the message written out here), in both regimes of the bound on
  dC/dw^2 (||x||^2 when x is the smaller, dC/dw^2 itself when it is); what is certified is bit for
  bit ``reference.backprop``'s. Negative controls: a certificate that drops ||x|| lets the overflow
  through, and one that certifies everything returns NaN for a NaN in x.
"""

from __future__ import annotations

import functools
import threading
import warnings
from collections.abc import Callable
from typing import Any, Literal

import numpy as np
import pytest

import reference
from reference import prepared, validation
from reference.case import Network
from reference.costs import COST_RECORDS

SIZES = (5, 4, 3)  # n_1 n_2 = 20: x is the smaller for m <= 4, dC/dw^2 for m >= 5
SMALL_M, LARGE_M = 2, 6
LARGEST = {"float64": float(np.finfo(np.float64).max), "float32": float(np.finfo(np.float32).max)}


def _batch(m: int, dtype: str) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(7)
    return rng.standard_normal((m, SIZES[0])).astype(dtype), rng.standard_normal((m, SIZES[-1])).astype(dtype)


def _overflowing(m: int, dtype: str, scale: float = 1.0) -> tuple[prepared.Prepared, tuple[np.ndarray, np.ndarray]]:
    """Identity layers, w^2's last column 0, x's last column near the largest float (times scale):
    z, a, every delta and C are ordinary, while dC/dw^2 = delta^2T x / m is not."""
    net = Network.random(SIZES, ("identity", "identity"), dtype=dtype, seed=5)
    w = [v.copy() for v in net.weights]
    w[0][:, -1] = 0.0
    x, y = _batch(m, dtype)
    x[:, -1] = np.asarray(LARGEST[dtype] * 0.9 * scale, dtype=dtype)
    return reference.prepare(net).with_parameters(w, net.biases), (x, y * 10)


def _outcome(call: Callable[[], dict[str, Any]]) -> tuple[object, ...]:
    """What a call answers: its error's type and message, or the bytes of every result."""
    try:
        out = call()
    except (ValueError, TypeError, FloatingPointError) as error:
        return (type(error).__name__, str(error))
    arrays = [a.tobytes() for key in ("grad_weights", "grad_biases", "deltas") for a in out[key]]
    return ("result", out["cost"], *arrays)


def _same(got: dict[str, Any], want: dict[str, Any]) -> None:
    assert _outcome(lambda: got) == _outcome(lambda: want)


def _finite_message(field: str, value: float, index: tuple[int, int], dtype: str) -> str:
    shown = np.asarray(value, dtype=dtype)[()]
    return f"{field} contains {shown} at index {list(index)} (1 non-finite value(s)); every input must be finite"


# ---------------------------------------------------------------------------------------------
# quiet


def _state() -> dict[str, str]:
    return {str(k): str(v) for k, v in np.geterr().items()}


def _noisy() -> dict[str, str]:
    """Overflow, invalid and divide by zero in numpy, then the error state it ran under."""
    big = np.array([1e308])
    _ = big * 10.0
    _ = np.zeros(1) / np.zeros(1)
    _ = np.ones(1) / np.zeros(1)
    return _state()


def _raising() -> None:
    _noisy()
    raise KeyError("from inside")


def _leaky(fn: Callable[..., Any]) -> Callable[..., Any]:
    return fn  # negative control: silences nothing


def _unrestored(fn: Callable[..., Any]) -> Callable[..., Any]:
    def call(*args: Any, **kwargs: Any) -> Any:
        np.seterr(all="ignore")  # negative control: silences, but leaves the caller's state changed
        return fn(*args, **kwargs)

    return call


def _with_block(fn: Callable[..., Any]) -> Callable[..., Any]:
    def call(*args: Any, **kwargs: Any) -> Any:
        with np.errstate(all="ignore"):  # correct but awkward: a context manager per call
            return fn(*args, **kwargs)

    return call


def _problems_of(decorate: Callable[[Callable[..., Any]], Callable[..., Any]]) -> list[str]:
    """Every way ``decorate`` fails to run a function silently and restore the caller's state."""
    problems: list[str] = []
    saved = np.geterr()  # restored at the end, whatever a control leaves behind
    quiet_noisy, quiet_raising = decorate(_noisy), decorate(_raising)
    for caller in ("raise", "warn"):
        with np.errstate(all=caller, under="ignore"), warnings.catch_warnings():
            warnings.simplefilter("error")
            before = _state()
            try:
                inside = quiet_noisy()
                if set(inside.values()) != {"ignore"}:
                    problems.append(f"under {caller}: ran under {inside}")
            except (FloatingPointError, RuntimeWarning) as error:
                problems.append(f"under {caller}: {type(error).__name__} escaped")
            if _state() != before:
                problems.append(f"under {caller}: state not restored after a return")
            try:
                quiet_raising()
            except KeyError:
                pass
            except (FloatingPointError, RuntimeWarning) as error:
                problems.append(f"under {caller}: {type(error).__name__} escaped before the KeyError")
            if _state() != before:
                problems.append(f"under {caller}: state not restored after a raise")
    np.seterr(**saved)
    return problems


@pytest.mark.parametrize("per_call", [True, False], ids=["numpy-2-decorator", "with-block"])
def test_quiet_silences_every_numpy_error_and_restores_the_callers_state(per_call: bool) -> None:
    assert _problems_of(lambda fn: prepared.quiet(fn, per_call=per_call)) == []


def test_the_quiet_check_accepts_a_with_block_and_rejects_leaky_and_unrestoring_decorators() -> None:
    assert _problems_of(_with_block) == []
    assert any("escaped" in p for p in _problems_of(_leaky))
    assert any("not restored" in p for p in _problems_of(_unrestored))


@pytest.mark.parametrize("per_call", [True, False], ids=["numpy-2-decorator", "with-block"])
def test_quiet_is_reentrant_and_per_thread(per_call: bool) -> None:
    seen: list[object] = []

    def inner() -> dict[str, str]:
        return _state()

    quiet_inner = prepared.quiet(inner, per_call=per_call)

    def outer() -> None:
        quiet_inner()  # a nested quiet call returns: the outer one must still be silenced
        seen.append(np.geterr()["over"])
        _noisy()

    quiet_outer = prepared.quiet(outer, per_call=per_call)
    with np.errstate(all="raise", under="ignore"):
        quiet_outer()
        assert np.geterr()["over"] == "raise"
    assert seen == ["ignore"]

    barrier = threading.Barrier(4)
    errors: list[str] = []

    def worker(state: Literal["raise", "warn", "print"]) -> None:
        with np.errstate(all=state, under="ignore"):
            barrier.wait()
            for _ in range(200):
                if quiet_inner()["invalid"] != "ignore":
                    errors.append("not silenced")
                if np.geterr()["invalid"] != state:
                    errors.append(f"{state} thread left in {np.geterr()['invalid']}")

    threads = [threading.Thread(target=worker, args=(s,)) for s in ("raise", "warn", "raise", "print")]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []


def test_a_prepared_pass_under_the_callers_raise_state_names_its_own_errors() -> None:
    """np.errstate(all="raise") outside: numpy's FloatingPointError ("overflow encountered") never
    escapes; results are the same bits, and the errors are the checked path's."""
    net = reference.prepare(Network.random(SIZES, ("sigmoid", "sigmoid"), seed=3))
    x, y = _batch(SMALL_M, "float64")
    quiet_out = net.backprop(x, y)
    huge, bad = _overflowing(SMALL_M, "float64")
    with np.errstate(all="raise"), warnings.catch_warnings():
        warnings.simplefilter("error")
        _same(net.backprop(x, y), quiet_out)
        with pytest.raises(FloatingPointError, match="backpropagation left the range of float64: the inputs"):
            huge.backprop(*bad)
        x_nan = x.copy()
        x_nan[1, 3] = np.nan
        with pytest.raises(ValueError, match=r"x contains nan at index \[1, 3\]"):
            net.backprop(x_nan, y)
        assert set(np.geterr().values()) == {"raise"}


# ---------------------------------------------------------------------------------------------
# plain_batch


def _expected_plain(x: Any, y: Any, sizes: tuple[int, ...], cost: str, dtype: str) -> bool:
    """plain_batch's docstring, written out: plain arrays of the network's dtype and shapes, m >= 1
    rows each, and a cost whose targets may be any real."""
    arrays = type(x) is np.ndarray and type(y) is np.ndarray
    return (
        COST_RECORDS[cost].targets == "real"
        and arrays
        and x.ndim == 2
        and y.ndim == 2
        and x.shape[0] >= 1
        and y.shape[0] == x.shape[0]
        and x.shape[1] == sizes[0]
        and y.shape[1] == sizes[-1]
        and x.dtype == np.dtype(dtype)
        and y.dtype == np.dtype(dtype)
    )


class _Subclass(np.ndarray):
    """An ndarray subclass (as np.matrix or a units library's arrays): not plain."""


def _variants() -> list[tuple[str, Any, Any, str, str]]:
    """(name, x, y, cost, dtype): plain batches, awkward plain ones, and one of each way not to be plain."""
    x, y = _batch(3, "float64")
    x32, y32 = x.astype(np.float32), y.astype(np.float32)
    read_only = x.copy()
    read_only.flags.writeable = False
    wide = np.zeros((3, 2 * SIZES[0]))
    wide[:, ::2] = x
    return [
        ("plain", x, y, "quadratic", "float64"),
        ("plain float32", x32, y32, "quadratic", "float32"),
        ("fortran order", np.asfortranarray(x), np.asfortranarray(y), "quadratic", "float64"),
        ("strided view", wide[:, ::2], y, "quadratic", "float64"),
        ("read only", read_only, y, "quadratic", "float64"),
        ("one sample", x[:1], y[:1], "quadratic", "float64"),
        ("x a list", x.tolist(), y, "quadratic", "float64"),
        ("y a list", x, y.tolist(), "quadratic", "float64"),
        ("x a subclass", x.view(_Subclass), y, "quadratic", "float64"),
        ("y masked", x, np.ma.masked_array(y), "quadratic", "float64"),
        ("x 1-d", x[0], y, "quadratic", "float64"),
        ("y 1-d", x, y[:, 0], "quadratic", "float64"),
        ("x 3-d", x[None], y, "quadratic", "float64"),
        ("x 0-d", np.float64(1.0), y, "quadratic", "float64"),
        ("empty batch", x[:0], y[:0], "quadratic", "float64"),
        ("rows differ", x, y[:2], "quadratic", "float64"),
        ("x too narrow", x[:, :-1], y, "quadratic", "float64"),
        ("y too wide", x, np.hstack([y, y[:, :1]]), "quadratic", "float64"),
        ("x float32", x32, y, "quadratic", "float64"),
        ("y float32", x, y32, "quadratic", "float64"),
        ("both float64 for float32", x, y, "quadratic", "float32"),
        ("x integers", x.astype(np.int64), y, "quadratic", "float64"),
        ("x big-endian", x.astype(">f8"), y, "quadratic", "float64"),
        ("targets in [0, 1]", x, y, "cross_entropy", "float64"),
        ("probability targets", x, y, "log_likelihood", "float64"),
    ]


def _sloppy_plain(x: Any, y: Any, sizes: tuple[int, ...], cost: str, dtype: str) -> bool:
    """Negative control: forgets that the batch may be empty and that y's width is n_L."""
    return (
        cost == "quadratic"
        and type(x) is np.ndarray
        and type(y) is np.ndarray
        and x.ndim == y.ndim == 2
        and x.shape[0] == y.shape[0]
        and x.shape[1] == sizes[0]
        and x.dtype == y.dtype == np.dtype(dtype)
    )


def test_plain_batch_is_its_docstring_on_every_variant() -> None:
    wrong = [
        name
        for name, x, y, cost, dtype in _variants()
        if validation.plain_batch(x, y, SIZES, cost, dtype) != _expected_plain(x, y, SIZES, cost, dtype)
    ]
    assert wrong == []
    plain = {name for name, x, y, cost, dtype in _variants() if _expected_plain(x, y, SIZES, cost, dtype)}
    assert plain == {"plain", "plain float32", "fortran order", "strided view", "read only", "one sample"}


def test_the_variants_catch_a_predicate_that_forgets_a_condition() -> None:
    disagree = {
        name
        for name, x, y, cost, dtype in _variants()
        if _sloppy_plain(x, y, SIZES, cost, dtype) != _expected_plain(x, y, SIZES, cost, dtype)
    }
    assert disagree == {"empty batch", "y too wide"}


@pytest.mark.parametrize("name", [v[0] for v in _variants()])
def test_every_variant_gets_the_checked_paths_answer(name: str) -> None:
    """Plain or not, the prepared pass answers as ``reference.backprop``: the same bits or the same error."""
    _, x, y, cost, dtype = next(v for v in _variants() if v[0] == name)
    acts = {"log_likelihood": ("sigmoid", "softmax")}.get(cost, ("sigmoid", "sigmoid"))
    net = Network.random(SIZES, acts, cost=cost, dtype=dtype, seed=3)
    if cost != "quadratic":
        y = np.full((3, SIZES[-1]), 1.0 / SIZES[-1])  # valid targets: only the route differs
    expected = _outcome(lambda: reference.backprop(net.case(x, y)))
    assert _outcome(lambda: reference.prepare(net).backprop(x, y)) == expected


# ---------------------------------------------------------------------------------------------
# inputs built to break the certificate


@pytest.mark.parametrize("dtype", ["float64", "float32"])
@pytest.mark.parametrize("m", [SMALL_M, LARGE_M], ids=["x-smaller", "dCdw2-smaller"])
@pytest.mark.parametrize("field", ["x", "y"])
def test_one_non_finite_value_anywhere_in_x_or_y_is_named_as_before(field: str, m: int, dtype: str) -> None:
    net = Network.random(SIZES, ("sigmoid", "sigmoid"), dtype=dtype, seed=3)
    fast = reference.prepare(net)
    x, y = _batch(m, dtype)
    for index in np.ndindex((x if field == "x" else y).shape):
        for value in (np.nan, np.inf, -np.inf):
            bad_x, bad_y = x.copy(), y.copy()
            (bad_x if field == "x" else bad_y)[index] = value
            got = _outcome(functools.partial(fast.backprop, bad_x, bad_y))
            assert got == ("ValueError", _finite_message(field, value, index, dtype)), (index, value)
            assert got == _outcome(functools.partial(reference.backprop, net.case(bad_x, bad_y)))


@pytest.mark.parametrize("dtype", ["float64", "float32"])
@pytest.mark.parametrize("m", [SMALL_M, LARGE_M], ids=["x-smaller", "dCdw2-smaller"])
def test_a_finite_x_whose_gradient_overflows_is_named_as_before(m: int, dtype: str) -> None:
    net, (x, y) = _overflowing(m, dtype)
    assert (x.size <= SIZES[0] * SIZES[1]) == (m == SMALL_M)  # the regime the id says
    got = _outcome(lambda: net.backprop(x, y))
    largest_w = max(float(np.max(np.abs(w))) for w in net.weights)
    assert got == (
        "FloatingPointError",
        f"backpropagation left the range of {dtype}: the inputs are finite, but too large for this "
        f"network (largest |w| = {largest_w:.3g}, largest |x| = {float(np.max(np.abs(x))):.3g})",
    )
    assert got == _outcome(lambda: reference.backprop(net.case(x, y)))


@pytest.mark.parametrize("dtype", ["float64", "float32"])
@pytest.mark.parametrize("m", [SMALL_M, LARGE_M], ids=["x-smaller", "dCdw2-smaller"])
def test_control_the_same_x_scaled_down_is_certified_bit_for_bit(m: int, dtype: str) -> None:
    net, (x, y) = _overflowing(m, dtype, scale=2.0**-60)
    got = net.backprop(x, y)
    assert all(bool(np.all(np.isfinite(g))) for g in got["grad_weights"])
    _same(got, reference.backprop(net.case(x, y)))


def test_negative_control_a_certificate_without_x_lets_the_overflow_through(monkeypatch: pytest.MonkeyPatch) -> None:
    net, (x, y) = _overflowing(SMALL_M, "float64")
    certified = prepared._certified
    monkeypatch.setattr(prepared, "_certified", lambda n, p, x_sq: certified(n, p, None if x_sq is None else 1.0))
    out = net.backprop(x, y)  # accepted: the test above would fail on this certificate
    assert not bool(np.all(np.isfinite(out["grad_weights"][0])))


def test_negative_control_a_certificate_of_everything_returns_nan_for_nan_in_x(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    net = reference.prepare(Network.random(SIZES, ("sigmoid", "sigmoid"), seed=3))
    x, y = _batch(SMALL_M, "float64")
    x[0, 0] = np.nan
    monkeypatch.setattr(prepared, "_certified", lambda n, p, x_sq: True)
    assert np.isnan(net.backprop(x, y)["cost"])


@pytest.mark.parametrize("dtype", ["float64", "float32"])
@pytest.mark.parametrize("m", [SMALL_M, LARGE_M], ids=["x-smaller", "dCdw2-smaller"])
@pytest.mark.parametrize(
    ("acts", "w_value"),
    [
        (("identity", "identity"), "largest"),  # z^2 overflows: named by the checked path
        (("sigmoid", "sigmoid"), "largest"),  # saturates: finite, certified or named
        (("identity", "identity"), "smallest"),  # subnormal weights: ordinary, certified
        (("tanh", "identity"), "sqrt-largest"),  # z finite, delta^2 w^2 products near the edge
    ],
)
def test_parameters_at_the_edge_of_the_range_answer_as_the_checked_path(
    acts: tuple[str, str], w_value: str, m: int, dtype: str
) -> None:
    info = np.finfo(dtype)
    value = {
        "largest": float(info.max),
        "smallest": float(info.smallest_subnormal),
        "sqrt-largest": float(info.max) ** 0.5,
    }
    net = Network.random(SIZES, acts, dtype=dtype, seed=5)
    w = [v.copy() for v in net.weights]
    w[0][0, 0] = np.asarray(value[w_value], dtype=dtype)
    w[1][-1, -1] = np.asarray(-value[w_value], dtype=dtype)
    fast = reference.prepare(net).with_parameters(w, net.biases)
    x, y = _batch(m, dtype)
    got = _outcome(lambda: fast.backprop(x, y))
    assert got == _outcome(lambda: reference.backprop(fast.case(x, y)))
    if got[0] == "result":
        assert all(np.isfinite(np.frombuffer(bytes(b), dtype=dtype)).all() for b in got[2:] if isinstance(b, bytes))
    else:
        assert got[0] == "FloatingPointError" and f"left the range of {dtype}" in str(got[1])
