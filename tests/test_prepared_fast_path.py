"""The prepared pass's fast path (``Prepared.backprop``): cheaper checks, the same verdicts.

Three things changed for speed, each held to what it stands in for:

* ``prepared.quiet`` (and ``Prepared.backprop``, which writes it out) enters ``np.errstate(all="ignore")``
  through numpy 2's context variable, the all-ignore state cached per caller's state. Whatever the
  caller's error state (raise, warn), no numpy warning or error leaves the pass, the caller's
  state is back afterwards, on return and on raise, in nested calls and in threads, and the
  caller's buffer size and error callback are in force inside, as np.errstate keeps them; numpy
  1's fallback passes the same checks. Negative controls: a decorator that silences nothing, one
  that silences but never restores, and one whose all-ignore state was made once.
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
from reference.activations import ACTIVATION_RECORDS, sigma
from reference.case import Network
from reference.costs import COST_RECORDS
from tests._outcomes import outcome

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


def _same(got: dict[str, Any], want: dict[str, Any]) -> None:
    assert outcome(lambda: got) == outcome(lambda: want)


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


def _callers_callback(kind: str, flag: int) -> None:
    """A caller's error callback (never called: the modes inside are all "ignore")."""


def _settings_inside(decorate: Callable[[Callable[..., Any]], Callable[..., Any]]) -> list[tuple[int, object]]:
    """The buffer size and error callback a decorated function sees, under two callers' settings
    (``np.errstate`` keeps both: only the modes change)."""
    seen = decorate(lambda: (np.getbufsize(), np.geterrcall()))
    out = [seen()]
    saved_size, saved_call = np.getbufsize(), np.geterrcall()
    try:
        np.setbufsize(4096)
        np.seterrcall(_callers_callback)
        out.append(seen())
    finally:
        np.setbufsize(saved_size)
        np.seterrcall(saved_call)
    out.append(seen())
    return out


def _once_made(fn: Callable[..., Any]) -> Callable[..., Any]:
    """Negative control: the all-ignore state made once, at decoration (the caller's buffer size and
    callback of that moment, not of each call's)."""
    var, make = prepared._VAR, prepared._MAKE  # numpy 2's private names, as prepared found them
    state = make(all="ignore")

    def call(*args: Any, **kwargs: Any) -> Any:
        token = var.set(state)
        try:
            return fn(*args, **kwargs)
        finally:
            var.reset(token)

    return call


@pytest.mark.skipif(not prepared._ERRSTATE_DECORATES_PER_CALL, reason="numpy 1: np.errstate per call")
def test_quiet_keeps_the_callers_buffer_size_and_callback() -> None:
    """``_ignore_all`` reuses the all-ignore state made from the caller's, only while the caller's is
    the same object: a caller's np.setbufsize or np.seterrcall is seen inside, as np.errstate does."""
    size = np.getbufsize()
    expected = _settings_inside(_with_block)
    assert [s for s, _ in expected] == [size, 4096, size]
    assert _settings_inside(prepared.quiet) == expected
    assert _settings_inside(_once_made) != expected  # the control: the first call's settings kept


@pytest.mark.skipif(not prepared._ERRSTATE_DECORATES_PER_CALL, reason="numpy 1: already the fallback")
def test_the_fallback_for_numpy_1_silences_restores_and_is_per_thread(monkeypatch: pytest.MonkeyPatch) -> None:
    """``_ErrstateScopes`` (numpy 1's path, an np.errstate per call) under the same checks, for
    ``quiet`` and for ``Prepared.backprop``, which writes ``_ignore_all`` out."""
    monkeypatch.setattr(prepared, "_VAR", prepared._ErrstateScopes())
    monkeypatch.setattr(prepared, "_MAKE", prepared._no_state)
    assert _problems_of(prepared.quiet) == []
    assert _settings_inside(prepared.quiet) == _settings_inside(_with_block)
    net = reference.prepare(Network.random(SIZES, ("sigmoid", "sigmoid"), seed=3))
    x, y = _batch(SMALL_M, "float64")
    huge, bad = _overflowing(SMALL_M, "float64")
    with np.errstate(all="raise"):
        _same(net.backprop(x, y), reference.backprop(net.case(x, y)))
        with pytest.raises(FloatingPointError, match="backpropagation left the range of float64: the inputs"):
            huge.backprop(*bad)  # numpy's "overflow encountered" never escapes
        assert set(np.geterr().values()) == {"raise"}


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
    expected = outcome(lambda: reference.backprop(net.case(x, y)))
    assert outcome(lambda: reference.prepare(net).backprop(x, y)) == expected


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
            got = outcome(functools.partial(fast.backprop, bad_x, bad_y))
            assert got == ("ValueError", _finite_message(field, value, index, dtype)), (index, value)
            assert got == outcome(functools.partial(reference.backprop, net.case(bad_x, bad_y)))


@pytest.mark.parametrize("dtype", ["float64", "float32"])
@pytest.mark.parametrize("m", [SMALL_M, LARGE_M], ids=["x-smaller", "dCdw2-smaller"])
def test_a_finite_x_whose_gradient_overflows_is_named_as_before(m: int, dtype: str) -> None:
    net, (x, y) = _overflowing(m, dtype)
    assert (x.size <= SIZES[0] * SIZES[1]) == (m == SMALL_M)  # the regime the id says
    got = outcome(lambda: net.backprop(x, y))
    largest_w = max(float(np.max(np.abs(w))) for w in net.weights)
    assert got == (
        "FloatingPointError",
        f"backpropagation left the range of {dtype}: the inputs are finite, but too large for this "
        f"network (largest |w| = {largest_w:.3g}, largest |x| = {float(np.max(np.abs(x))):.3g})",
    )
    assert got == outcome(lambda: reference.backprop(net.case(x, y)))


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
    got = outcome(lambda: fast.backprop(x, y))
    assert got == outcome(lambda: reference.backprop(fast.case(x, y)))
    if got[0] == "result":
        assert all(np.isfinite(np.frombuffer(bytes(b), dtype=dtype)).all() for b in got[2:] if isinstance(b, bytes))
    else:
        assert got[0] == "FloatingPointError" and f"left the range of {dtype}" in str(got[1])


# ---------------------------------------------------------------------------------------------
# the certificate in scalars (``prepared._scalar_certificate`` and its common case in ``_certified``)
#
# Each inequality of the scalar certificate is approached from both sides by sweeping one factor
# over powers of two: a network whose z^l overflows in a hidden layer only, an infinity in x where
# w^2's column is 0 (z^2 = inf * 0), y so large that C overflows, a delta that overflows in the
# first hidden layer only; with bounded and unbounded hidden layers, float32 and float64, both
# reductions and every cost. Each sweep must cross the edge (some factor answers, some is named),
# and at every factor the prepared pass answers as ``reference.backprop`` (the same bits or the
# same error) and never returns a non-finite number. Controls: two correct but slower certificates
# (today's dot products; none at all) pass the same sweeps, and a copy of the forward bounds that
# skips the z^l check lets a NaN through.


def _scales(dtype: str) -> list[float]:
    """1, 1/2, 1/4, 1/8, then every 2^-8 down to 2^-(maxexp - 8): each sweep's edges, wherever they fall."""
    top = int(np.finfo(dtype).maxexp) - 8
    return [2.0**-k for k in sorted({1, 2, 3, *range(0, top, 8)})]


DEEP = (4, 3, 3, 2)  # two hidden layers: "only in a hidden layer" has somewhere to be


def _problems(net: prepared.Prepared, x: np.ndarray, y: np.ndarray) -> list[str]:
    """Every way the prepared pass's answer differs from ``reference.backprop``'s, or is not finite."""
    got = outcome(lambda: net.backprop(x, y))
    want = outcome(lambda: reference.backprop(net.case(x, y)))
    problems = [] if got == want else [f"prepared {str(got)[:120]} != checked {str(want)[:120]}"]
    if got[0] == "result":
        arrays = [np.frombuffer(bytes(b), dtype=net.dtype) for b in got[2:] if isinstance(b, bytes)]
        if not (np.isfinite(float(got[1])) and all(bool(np.all(np.isfinite(a))) for a in arrays)):  # type: ignore[arg-type]
            problems.append("a non-finite result was returned")
    return problems


def _targets(cost: str, m: int, n: int, dtype: str, scale: float = 1.0) -> np.ndarray:
    """Valid targets for the cost: any real (times scale) for quadratic, else probability rows."""
    if cost == "quadratic":
        return (np.linspace(-0.5, 0.9, m * n).reshape(m, n) * scale).astype(dtype)
    return np.full((m, n), 1.0 / n, dtype=dtype)


def _net(
    acts: tuple[str, ...],
    cost: str,
    reduction: str,
    dtype: str,
    weights: list[np.ndarray] | None = None,
    biases: list[np.ndarray] | None = None,
) -> prepared.Prepared:
    net = Network.random(DEEP, acts, cost=cost, reduction=reduction, dtype=dtype, seed=11)
    fast = reference.prepare(net)
    if weights is None:
        return fast
    b = net.biases if biases is None else [v.astype(dtype) for v in biases]
    return fast.with_parameters([w.astype(dtype) for w in weights], b)


def _x(dtype: str, m: int = 3) -> np.ndarray:
    return np.linspace(0.2, 1.0, m * DEEP[0]).reshape(m, DEEP[0]).astype(dtype)


def _hidden_z_overflows(acts: tuple[str, ...], cost: str, reduction: str, dtype: str, s: float) -> tuple[Any, ...]:
    """w^2 > 1 (so a^2 sums past 2 on x in [0.2, 1]) and w^3 = s LARGEST / 2: z^3, a hidden layer,
    passes the largest float at s = 1 and stays below it for s small enough."""
    base = Network.random(DEEP, acts, cost=cost, reduction=reduction, dtype=dtype, seed=11)
    w = [v.astype(np.float64) for v in base.weights]
    w[0] = np.abs(w[0]) + 1.0
    w[1] = np.full_like(w[1], LARGEST[dtype] / 2 * s)
    w[2] = np.abs(w[2]) + 0.1
    return _net(acts, cost, reduction, dtype, w), _x(dtype), _targets(cost, 3, DEEP[-1], dtype)


def _first_hidden_delta_overflows(
    acts: tuple[str, ...], cost: str, reduction: str, dtype: str, s: float
) -> tuple[Any, ...]:
    """w^2 = 1/E and b^2 = 0, w^3 = E (E = s LARGEST / 4), w^4 times 1000: z, a and every delta
    but delta^2 = (delta^3 w^3) sigma' are ordinary (delta^3 of size 1000 at most), and delta^2
    (with dC/dw^2) passes the largest float at s = 1 (where sigma(0) = 0, so that a^2 is of size
    1/E: tanh, relu, identity) and stays below it for s small enough."""
    base = Network.random(DEEP, acts, cost=cost, reduction=reduction, dtype=dtype, seed=11)
    big = LARGEST[dtype] / 4 * s
    w = [v.astype(np.float64) for v in base.weights]
    w[0] = w[0] / big
    w[1] = w[1] * big
    w[2] = w[2] * 1000.0
    b = [v.astype(np.float64) for v in base.biases]
    b[0] = np.zeros_like(b[0])
    return _net(acts, cost, reduction, dtype, w, b), _x(dtype), _targets(cost, 3, DEEP[-1], dtype)


def _y_huge(acts: tuple[str, ...], cost: str, reduction: str, dtype: str, s: float) -> tuple[Any, ...]:
    """Targets of s sqrt(LARGEST): C = sum (a - y)^2 / 2 reaches the largest float near s = 1."""
    y = _targets("quadratic", 3, DEEP[-1], dtype, scale=1.0)
    y = (y.astype(np.float64) * np.sqrt(LARGEST[dtype]) * 4 * s).astype(dtype)
    return _net(acts, cost, reduction, dtype), _x(dtype), y


SWEEPS: dict[str, Callable[..., tuple[Any, ...]]] = {
    "hidden z^3 overflows": _hidden_z_overflows,
    "delta^2 overflows": _first_hidden_delta_overflows,
    "y huge": _y_huge,
}
ARCHITECTURES = [  # (activations, cost): bounded and unbounded hidden layers, every cost
    (("sigmoid", "sigmoid", "sigmoid"), "quadratic"),
    (("tanh", "relu", "sigmoid"), "quadratic"),
    (("softplus", "identity", "identity"), "quadratic"),
    (("relu", "softplus", "tanh"), "quadratic"),
    (("tanh", "tanh", "softmax"), "quadratic"),
    (("sigmoid", "relu", "sigmoid"), "cross_entropy"),
    (("tanh", "sigmoid", "softmax"), "log_likelihood"),
]


def _sweep_problems(
    sweep: str, acts: tuple[str, ...], cost: str, reduction: str, dtype: str
) -> tuple[list[str], set[bool]]:
    """Problems at every factor of one sweep, and the fast path's verdicts on them (certified by
    ``_Plan``'s comparisons or ``_certified``, or not: the checked path ran), which must include both
    "certified" and "not certified" for the sweep to have crossed the edge of a bound."""
    problems: list[str] = []
    checked: list[bool] = []
    checked_pass = prepared._checked_pass  # the current one: a control may have replaced it

    def recording(*args: Any, **kwargs: Any) -> Any:
        checked.append(True)
        return checked_pass(*args, **kwargs)

    firsts: set[bool] = set()
    for s in _scales(dtype):
        net, x, y = SWEEPS[sweep](acts, cost, reduction, dtype, s)
        with pytest.MonkeyPatch.context() as patch:
            patch.setattr(prepared, "_checked_pass", recording)
            checked.clear()
            outcome(functools.partial(net.backprop, x, y))
            firsts.add(not checked)
        problems += [f"s = {s}: {p}" for p in _problems(net, x, y)]
    return problems, firsts


@pytest.mark.parametrize("dtype", ["float64", "float32"])
@pytest.mark.parametrize("reduction", ["mean", "sum"])
@pytest.mark.parametrize(
    ("sweep", "acts", "cost"),
    [
        (sweep, acts, cost)
        for sweep in SWEEPS
        for acts, cost in ARCHITECTURES
        if sweep != "y huge" or cost == "quadratic"  # only the quadratic cost takes any real target
    ],
    ids=lambda v: "-".join(v) if isinstance(v, tuple) else v,
)
def test_each_scalar_bound_approached_from_both_sides_answers_as_the_checked_path(
    sweep: str, acts: tuple[str, ...], cost: str, reduction: str, dtype: str
) -> None:
    assert _sweep_problems(sweep, acts, cost, reduction, dtype)[0] == []


@pytest.mark.parametrize("dtype", ["float64", "float32"])
@pytest.mark.parametrize("sweep", list(SWEEPS))
def test_each_sweep_crosses_the_certificates_edge(sweep: str, dtype: str) -> None:
    """Not vacuous: on some architecture, the sweep has factors the certificate certifies and
    factors it sends to the checked path (where an error is named, or a finite result found)."""
    crossing = [
        acts
        for acts, cost in ARCHITECTURES
        if (sweep != "y huge" or cost == "quadratic")
        and _sweep_problems(sweep, acts, cost, "mean", dtype)[1] == {True, False}
    ]
    assert crossing, f"{sweep} ({dtype}) never crosses the edge"


@pytest.mark.parametrize("dtype", ["float64", "float32"])
@pytest.mark.parametrize(("acts", "cost"), ARCHITECTURES, ids=lambda v: "-".join(v) if isinstance(v, tuple) else v)
def test_an_infinity_in_x_times_a_zero_column_of_w2_is_named_as_before(
    acts: tuple[str, ...], cost: str, dtype: str
) -> None:
    """z^2 = inf * 0 = NaN: x is named, never a NaN returned (||x||^2 is inf: not certified)."""
    base = Network.random(DEEP, acts, cost=cost, dtype=dtype, seed=11)
    w = [v.copy() for v in base.weights]
    w[0][:, 2] = 0.0
    net = reference.prepare(base).with_parameters(w, base.biases)
    x, y = _x(dtype), _targets(cost, 3, DEEP[-1], dtype)
    for value in (np.inf, -np.inf, np.nan):
        bad = x.copy()
        bad[1, 2] = value
        assert _problems(net, bad, y) == []
        assert outcome(functools.partial(net.backprop, bad, y)) == (
            "ValueError",
            _finite_message("x", value, (1, 2), dtype),
        )


def _today(n: prepared.Prepared, p: Any, x_sq: Any) -> bool:
    """Correct but slower: the certificate before the scalar bounds, one dot product per layer."""
    return prepared._dot_certificate(n, p, x_sq)


@pytest.mark.parametrize(
    "certificate", [_today, lambda n, p, x_sq: False], ids=["one-dot-product-per-layer", "never-certifies"]
)
def test_control_slower_correct_certificates_pass_the_same_sweeps(
    monkeypatch: pytest.MonkeyPatch, certificate: Callable[..., bool]
) -> None:
    monkeypatch.setattr(prepared, "_certified", certificate)
    monkeypatch.setattr(prepared, "_plan_of", lambda net: None)  # every batch through ``_certified``
    for sweep in SWEEPS:
        for acts, cost in ARCHITECTURES[:4]:
            for dtype in ("float64", "float32"):
                assert _sweep_problems(sweep, acts, cost, "mean", dtype)[0] == []


def _forward_bounds_without_z(net: prepared.Prepared, bounds: Any, p: Any, x_sq: Any) -> list[float | None] | None:
    """Negative control: ``prepared._forward_bounds`` with every A_l but no check that Z_l, the
    bound on ||z^l||^2, is below the limit (so a z^l that overflowed goes unnoticed)."""
    m = p.a[0].shape[0]
    prev: float | None = None if x_sq is None else 2.0 * float(x_sq)
    out = [prev]
    for i in range(len(p.z) - 1):
        zl = np.inf if prev is None else bounds.z_weight[i] * prev + bounds.z_bias[i] * m
        rule, size = bounds.a_rule[i], m * net.sizes[i + 1]
        prev = size if rule == 0 else zl if rule == 1 else 3.0 * (zl + size)
        out.append(prev)
    return out


def test_negative_control_a_certificate_that_skips_the_z_bound_returns_nan(monkeypatch: pytest.MonkeyPatch) -> None:
    """relu's z^3 = +inf in float32 (whose bound, about 1e78, is a finite Python float): a^3 = inf,
    sigma'(z^4) = 0, so delta^4 = 0 and dC/dw^4 = 0 * inf = NaN. The real certificate sends it to
    the checked path; one without the z bound certifies it."""
    args = (("tanh", "relu", "sigmoid"), "quadratic", "mean", "float32")
    assert _sweep_problems("hidden z^3 overflows", *args)[0] == []
    monkeypatch.setattr(prepared, "_forward_bounds", _forward_bounds_without_z)
    problems = _sweep_problems("hidden z^3 overflows", *args)[0]
    assert any("non-finite result" in p for p in problems), problems


def _actual(arrays: list[np.ndarray]) -> list[float]:
    return [float(np.sum(np.square(a.astype(np.float64)))) for a in arrays]


@pytest.mark.parametrize("dtype", ["float64", "float32"])
@pytest.mark.parametrize("reduction", ["mean", "sum"])
@pytest.mark.parametrize("acts", [a for a, c in ARCHITECTURES if c == "quadratic" and a[-1] != "softmax"])
def test_the_scalar_bounds_bound_the_computed_norms(acts: tuple[str, ...], reduction: str, dtype: str) -> None:
    """A_l >= ||a^l||^2 (from ``_forward_bounds``) and D_l >= ||delta^l||^2 (D_L from C, then
    ``back``), on ordinary batches of several sizes; control: without kappa, sigma'^2 or the rho
    factors the bound on delta^L fails somewhere (it is not vacuous)."""
    net = reference.prepare(Network.random(DEEP, acts, reduction=reduction, dtype=dtype, seed=4))
    bounds = net._bounds
    assert bounds is not None and bounds.output_prime_sq is not None
    loose_ratio = []
    for m in (1, 3, 17):
        rng = np.random.default_rng(m)
        x = rng.standard_normal((m, DEEP[0])).astype(dtype)
        y = rng.standard_normal((m, DEEP[-1])).astype(dtype)
        with np.errstate(all="ignore"):
            p = reference.engine.backpropagate(net, x, y)
            a_sq = prepared._forward_bounds(net, bounds, p, np.vdot(x, x))
        assert a_sq is not None
        assert all(b is not None and b >= n for b, n in zip(a_sq, _actual(p.a[:-1]), strict=True))
        cost = float(p.cost)  # type: ignore[arg-type]
        d = bounds.output_prime_sq * 2.0 * (2.001 * cost * (m if reduction == "mean" else 1) + 1.0)
        exact = _actual(p.deltas)
        assert d >= exact[-1]
        loose_ratio.append(exact[-1] / (d / (2.0 * 2.001 * 1.01)))
        for i in range(len(p.deltas) - 2, -1, -1):
            d *= bounds.back[i]
            assert d >= exact[i]
    assert max(loose_ratio) > 0.1  # the bound's factors are what lets it hold: it is within them of tight


def test_the_seeds_workload_is_certified_without_a_dot_product(monkeypatch: pytest.MonkeyPatch) -> None:
    """[784, 30, 10] sigmoid, quadratic, mean, m = 10: the three comparisons in ``_certified`` alone."""
    net = reference.prepare(Network.random((784, 30, 10), ("sigmoid", "sigmoid"), seed=1))
    rng = np.random.default_rng(0)
    x, y = rng.random((10, 784)), rng.random((10, 10))
    want = outcome(lambda: reference.backprop(net.case(x, y)))

    def refuse(*args: Any) -> bool:
        raise AssertionError("the common case left the three comparisons")

    monkeypatch.setattr(prepared, "_scalar_certificate", refuse)
    monkeypatch.setattr(prepared, "_dot_certificate", refuse)
    monkeypatch.setattr(prepared, "_checked_pass", refuse)
    assert outcome(lambda: net.backprop(x, y)) == want


def test_an_unbounded_hidden_layer_is_certified_in_scalars(monkeypatch: pytest.MonkeyPatch) -> None:
    """relu and softplus hidden layers: ||a^l|| from ||z^l||, no fallback to the per-layer dot products."""
    net = reference.prepare(Network.random(DEEP, ("relu", "softplus", "identity"), reduction="sum", seed=2))
    x, y = _x("float64"), _targets("quadratic", 3, DEEP[-1], "float64")
    want = outcome(lambda: reference.backprop(net.case(x, y)))
    assert net._bounds is not None  # the network's constants: ||w^l||^2 and ||b^l||^2, once
    monkeypatch.setattr(prepared, "_dot_certificate", lambda *a: pytest.fail("fell back"))
    dots: list[tuple[int, ...]] = []

    class Counting:
        """numpy, as prepared.py sees it, counting its dot products."""

        def __getattr__(self, name: str) -> Any:
            if name != "vdot":
                return getattr(np, name)

            def vdot(a: np.ndarray, b: np.ndarray) -> Any:
                dots.append(a.shape)
                return np.vdot(a, b)

            return vdot

    monkeypatch.setattr(prepared, "np", Counting())
    assert outcome(lambda: net.backprop(x, y)) == want
    assert dots == [x.shape]  # ||x||^2 alone: no z^l, a^l or delta^l


def test_a_batch_past_the_rounding_models_length_takes_the_dot_products(monkeypatch: pytest.MonkeyPatch) -> None:
    """float32, n_1 = 4000: m_max = 0.2 / (4000 u) = 838 rows; one more takes ``_dot_certificate``."""
    net = reference.prepare(Network.random((4000, 2, 2), ("sigmoid", "identity"), dtype="float32", seed=2))
    assert net._bounds is not None and net._bounds.m_max == 838
    rng = np.random.default_rng(0)
    x = rng.random((839, 4000), dtype=np.float32)
    y = rng.random((839, 2), dtype=np.float32)
    monkeypatch.setattr(prepared, "_scalar_certificate", lambda *a: pytest.fail("past m_max"))
    calls: list[int] = []
    dot = prepared._dot_certificate

    def counted(*args: Any) -> bool:
        calls.append(1)
        return dot(*args)

    monkeypatch.setattr(prepared, "_dot_certificate", counted)
    _same(net.backprop(x, y), reference.backprop(net.case(x, y)))
    assert calls


def test_negative_control_a_certificate_without_the_weights_norm_returns_a_non_finite_delta(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """D_l = rho S_l^2 ||w^{l+1}||_F^2 D_{l+1} with ||w^{l+1}||_F^2 dropped (``back`` = 0, and the
    common case's constants with it) certifies delta^2 past the largest float."""
    args = (("tanh", "sigmoid", "identity"), "quadratic", "sum", "float64")
    assert _sweep_problems("delta^2 overflows", *args)[0] == []
    bounds_of = prepared._bounds_of

    def without_w(net: prepared.Prepared) -> Any:
        b = bounds_of(net)
        return None if b is None else b._replace(back=tuple(0.0 for _ in b.back), fast=None)

    monkeypatch.setattr(prepared, "_bounds_of", without_w)
    problems = _sweep_problems("delta^2 overflows", *args)[0]
    assert any("non-finite result" in p for p in problems), problems


def _growth_violations(name: str, growth: float) -> list[float]:
    """The z on a grid (0, +-1e-300 .. +-1e300) where |sigma(z)| > |z| + growth (computed in float64)."""
    z = np.concatenate([[0.0], np.geomspace(1e-300, 1e300, 601), -np.geomspace(1e-300, 1e300, 601)])
    with np.errstate(all="ignore"):
        a = sigma(name, z)
    return [float(v) for v in z[np.abs(a) > (np.abs(z) + growth) * (1 + 4 * 2.0**-53)]]


def test_every_unbounded_activation_has_a_growth_the_certificate_may_use() -> None:
    """``Activation.growth``: |sigma(z)| <= |z| + growth, growth in [0, 1] (``_GROWTH_SQ`` assumes it),
    wherever sigma is elementwise and not bounded; checked on sigma itself. Control: softplus with
    a growth 1e-3 below ln 2 is refused (at z = 0)."""
    for name, record in ACTIVATION_RECORDS.items():
        if record.bounded or not record.elementwise:
            assert record.growth is None, name
            continue
        assert record.growth is not None and 0.0 <= record.growth <= 1.0, name
        assert _growth_violations(name, record.growth) == [], name
    assert 0.0 in _growth_violations("softplus", float(np.log(2.0)) - 1e-3)
