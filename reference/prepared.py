"""Validate once, run many: a network whose architecture and parameters have been checked.

``reference.backprop(case)`` checks the whole case on every call. A training loop or a gradient
check runs the same network on batch after batch, and the architecture (sizes, activations, cost,
reduction, dtype) never changes between them; the parameters change only through an update whose
result is itself certified finite. ``prepare`` checks all of that once. What remains per batch is
kept exact: x and y are checked as ``validate`` checks them (shapes, dtype, sample counts,
targets, finite y), a non-finite x is named (searched for when z^l is not finite), and every
result is certified finite. The pass itself is ``engine.backpropagate``, the same call
``reference.backprop`` makes, so a prepared pass is bit-identical to an unprepared one.
"""

from __future__ import annotations

import functools
import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from typing import Any, NamedTuple, TypeVar, cast

import numpy as np

from . import engine, validation
from ._ops import Array
from .activations import ACTIVATION_RECORDS, BOUNDED
from .case import Case, Network, architecture_text
from .costs import COST_RECORDS

_LARGEST = {"float64": float(np.finfo(np.float64).max), "float32": float(np.finfo(np.float32).max)}

# Half an ulp of the largest float, with a factor 2 to spare for rounding: when every
# |eta dC/dp| is below it, p - eta dC/dp rounds to a finite number for every finite p.
_SAFE_STEP = {
    name: math.ldexp(1.0, int(np.finfo(name).maxexp) - int(np.finfo(name).nmant) - 3) for name in ("float64", "float32")
}


def _context_variable() -> tuple[Any, Callable[..., Any]] | None:
    """numpy >= 2's error state: a context variable (``numpy._core._ufunc_config._extobj_contextvar``)
    holding an object that ``numpy._core._multiarray_umath._make_extobj`` builds from the current one
    (keeping its buffer size and error callback) with the modes asked for; ``np.errstate`` is these
    two calls. Private names: None where either is missing or does not set the state it says."""
    core = getattr(np, "_core", None)
    var = getattr(getattr(core, "_ufunc_config", None), "_extobj_contextvar", None)
    make = getattr(getattr(core, "_multiarray_umath", None), "_make_extobj", None)
    if var is None or make is None:
        return None
    try:
        before = np.geterr()
        token = var.set(make(all="ignore"))
        try:
            ignoring = set(np.geterr().values()) == {"ignore"}
        finally:
            var.reset(token)
        return (var, make) if ignoring and np.geterr() == before else None
    except Exception:  # noqa: BLE001 - any surprise from private names means: use np.errstate
        return None


class _ErrstateScopes:
    """numpy 1's stand-in for numpy 2's context variable (whose error state is per thread, kept by
    np.errstate on the instance): ``set`` enters an ``np.errstate(all="ignore")`` of its own and
    returns it as the token, ``reset`` leaves it."""

    def get(self) -> None:
        return None

    def set(self, state: object) -> np.errstate:
        scope = np.errstate(all="ignore")
        scope.__enter__()
        return scope

    def reset(self, token: np.errstate) -> None:
        token.__exit__(None, None, None)


def _no_state(**modes: str) -> None:
    """``_ErrstateScopes``'s ``_MAKE``: its ``set`` needs no state object."""


_ERRSTATE_VARIABLE = _context_variable()
_ERRSTATE_DECORATES_PER_CALL = _ERRSTATE_VARIABLE is not None
_VAR: Any
_MAKE: Callable[..., Any]
_VAR, _MAKE = _ERRSTATE_VARIABLE or (_ErrstateScopes(), _no_state)
# (the caller's error state, the all-ignore state made from it): the last pair, reused while the
# caller's state is that very object (held here, so its id is never reused). One tuple, read and
# replaced whole: a thread that reads it sees a consistent pair.
_IGNORING: tuple[object, object] = (object(), object())


def _ignoring(current: object) -> object:
    """The all-ignore state made from the caller's ``current`` one (its buffer size and callback
    kept, as ``np.errstate`` keeps them), remembered for the next call from the same state."""
    global _IGNORING
    state = _MAKE(all="ignore")  # from the state in force, which is ``current``
    _IGNORING = (current, state)
    return state


def _ignore_all() -> Any:
    """Enter ``np.errstate(all="ignore")`` for the caller's context; returns the token that
    ``_restore`` takes (on every path out: a try/finally). What ``np.errstate`` does in numpy 2
    (set the context variable to ``_make_extobj(all="ignore")``, reset it with the token), less
    rebuilding that object on each call: 0.2 us against 0.45 us for numpy 2's decorator and
    0.9 us for a ``with`` block on this machine (``Prepared.backprop`` writes these two lines
    out, saving two calls). Per call and per context: reentrant and thread-safe as numpy's own."""
    pair, current = _IGNORING, _VAR.get()
    return _VAR.set(pair[1] if pair[0] is current else _ignoring(current))


def _restore(token: Any) -> None:
    """Leave what ``_ignore_all`` entered."""
    _VAR.reset(token)


_F = TypeVar("_F", bound=Callable[..., Any])
_NDARRAY = np.ndarray  # a module name: one lookup fewer per test than np.ndarray


def quiet(fn: _F, per_call: bool = _ERRSTATE_DECORATES_PER_CALL) -> _F:
    """``fn`` inside ``np.errstate(all="ignore")``: no numpy warning or error from its floats reaches
    the caller, whatever the caller's error state, and that state is back when it returns or raises.

    With ``per_call`` (numpy >= 2), ``_ignore_all`` and ``_restore`` around each call (what
    ``Prepared.backprop`` does inline); otherwise a ``with`` block per call.
    """
    if per_call:

        @functools.wraps(fn)
        def ignoring(*args: Any, **kwargs: Any) -> Any:
            token = _ignore_all()
            try:
                return fn(*args, **kwargs)
            finally:
                _restore(token)

        return cast(_F, ignoring)

    @functools.wraps(fn)
    def quietly(*args: Any, **kwargs: Any) -> Any:
        with np.errstate(all="ignore"):
            return fn(*args, **kwargs)

    return cast(_F, quietly)


def eta_value(eta: Any) -> float:
    """The learning rate as a float: a real number, finite and >= 0."""
    if isinstance(eta, bool | np.bool_) or not isinstance(eta, int | float | np.integer | np.floating):
        raise TypeError(f"eta (the learning rate) must be a real number, got {eta!r}")
    if not np.isfinite(eta) or eta < 0:
        raise ValueError(f"eta (the learning rate) must be finite and >= 0, got {eta!r}")
    return float(eta)


@dataclass(frozen=True)
class Prepared:
    """A checked network: architecture normalized, parameters of the right shapes, dtype and finite.

    Build it with ``prepare``; it never changes (``sgd_step`` and ``with_parameters`` return new
    ones) and never writes to the arrays it was given. It holds those arrays, not copies: what it
    checked once (their finiteness, and the norms its certificate keeps, see ``_bounds``) holds as
    long as nobody writes to them; new parameters go through ``with_parameters``.
    """

    sizes: tuple[int, ...]
    activations: tuple[str, ...]
    cost: str
    reduction: str
    dtype: str
    weights: tuple[Array, ...]
    biases: tuple[Array, ...]
    parameters_finite: bool = True  # False only for reference.backprop's case: the pass searches z instead

    @functools.cached_property
    def _bounds(self) -> _Bounds | None:
        """This network's constants for ``_scalar_certificate``, computed on the first batch that asks
        (``reference.backprop``'s Prepared, built per call, never does). Not a field: neither compared
        nor printed. Constants computed once stay true only while nobody can write to the arrays, so
        they are computed only for arrays this Prepared owns read-only (``prepare``, ``with_parameters``
        and ``sgd_step`` make such copies); any other array (a caller's, which the caller may change in
        place; ``train_step``'s, updated in place) gets None: the dot-product certificate, which reads
        the arrays as they are at every batch."""
        if not all(_owned_read_only(a) for a in (*self.weights, *self.biases)):
            return None
        return _bounds_of(self)

    def __repr__(self) -> str:
        """One line: the checked architecture and its parameter count (the arrays stay in the fields)."""
        arch = architecture_text(self.sizes, self.activations, self.cost, self.reduction, self.dtype)
        count = sum(int(w.size) + int(b.size) for w, b in zip(self.weights, self.biases, strict=True))
        return f"<Prepared {arch}, {count} parameters>"

    def with_parameters(self, weights: Any, biases: Any) -> Prepared:
        """The same architecture with other parameters, whose shapes, dtype and finiteness are checked."""
        w, b = validation.parameters(weights, biases, self.sizes, self.dtype)
        arch = (self.sizes, self.activations, self.cost, self.reduction, self.dtype)
        return Prepared(*arch, tuple(map(_read_only_copy, w)), tuple(map(_read_only_copy, b)))

    def network(self) -> Network:
        arch = (self.sizes, self.activations, self.cost, self.reduction, self.dtype)
        return Network(*arch, list(self.weights), list(self.biases))

    def case(self, x: Array, y: Array) -> Case:
        arch = (self.sizes, self.activations, self.cost, self.reduction, self.dtype)
        return Case(*arch, list(self.weights), list(self.biases), x, y)

    def batch(self, x: Any, y: Any) -> tuple[Array, Array]:
        """x and y checked for this network, exactly as ``validate`` checks them (x's finiteness: by the pass)."""
        return validation.batch(x, y, self.sizes, self.cost, self.dtype)

    @functools.cached_property
    def _plan(self) -> tuple[int, int, np.dtype[Any], int, float, float, float] | None:
        """``_plan_of``'s constants, computed on the first batch that asks; a plain tuple, which
        unpacks in under half a NamedTuple's time (26 ns against 67 ns here)."""
        plan = _plan_of(self)
        return None if plan is None else (*plan,)

    def backprop(self, x: Any, y: Any) -> dict[str, Any]:
        """What ``reference.backprop`` returns for this network with the batch (x, y), bit for bit.

        One np.errstate(all="ignore") for the batch's checks and the pass (``_ignore_all`` written
        out, and ``_restore``). The common case (``_plan``: a network whose bounds ``_Plan`` folds
        into three constants, and a batch of plain arrays of its dtype and shapes, m <= m_cap) is
        written out here, each call saved being worth about three times its own cost beside the
        pass: ``validation.plain_batch``'s tests, the pass, ||x||^2 (read after the pass, which has
        just read x), and ``_Plan``'s three comparisons (C finite among them, and with it y, as
        ``_certified`` says). Anything else, or a comparison that fails, takes the checks as they
        were (``_certified``, then every check in order, each naming what it finds)."""
        pair, current = _IGNORING, _VAR.get()  # _ignore_all, written out
        token = _VAR.set(pair[1] if pair[0] is current else _ignoring(current))
        try:
            plan = self._plan
            if plan is not None and type(x) is _NDARRAY and type(y) is _NDARRAY:
                n_1, n_L, dtype, m_cap, c_max, x_max, p_max = plan
                try:
                    (m, x_width), (y_rows, y_width) = x.shape, y.shape
                except ValueError:  # not both 2-d
                    m = 0
                if (
                    0 < m == y_rows <= m_cap
                    and x_width == n_1
                    and y_width == n_L
                    and ((x_dtype := x.dtype) is dtype or x_dtype == dtype)  # identity first: the cheap test
                    and ((y_dtype := y.dtype) is dtype or y_dtype == dtype)
                ):
                    p = engine.backpropagate(self, x, y)
                    x_sq = float(np.vdot(x, x))
                    x_bound, cost = _READ_BACK * x_sq, float(p.cost)  # type: ignore[arg-type]  # A_1, C
                    if 0.0 <= cost < c_max and x_bound < x_max and x_bound * (2.001 * cost + 1.0) < p_max:
                        return {
                            "grad_weights": p.grad_weights,
                            "grad_biases": p.grad_biases,
                            "deltas": p.deltas,
                            "cost": cost,
                        }
                    return result_dict(p) if _certified(self, p, x_sq) else self._checked_backprop(x, y)
            return self._backprop(x, y)
        finally:
            _VAR.reset(token)

    def _backprop(self, x: Any, y: Any) -> dict[str, Any]:
        """``backprop`` beyond ``_plan``'s case, inside its error state."""
        if validation.plain_batch(x, y, self.sizes, self.cost, self.dtype):
            # The common case: y's finiteness is certified by C's (``_certified``), with the results'
            x_sq = _x_square(self, x)  # before the pass: x is read once into the cache, for both
            p = engine.backpropagate(self, x, y)
            if _certified(self, p, x_sq):
                return result_dict(p)
        return self._checked_backprop(x, y)

    def _checked_backprop(self, x: Any, y: Any) -> dict[str, Any]:
        """Every check in order, each naming what it finds (inside ``backprop``'s error state)."""
        xs, ys = validation.batch(x, y, self.sizes, self.cost, self.dtype, guard=False)
        p, _ = _checked_pass(self, xs, ys, False, want_bounds=False)
        return result_dict(p)

    def predict(self, x: Any) -> Array:
        """The network's output a^L for the inputs x (m, n_1): the forward pass alone, no y, no cost.

        x is checked as ``validate`` checks it (dtype, shape, finite) and never written to; the
        pass is ``engine.feedforward``, so a^L is bit for bit ``reference.forward``'s last a.
        """
        xs = validation.inputs(x, self.sizes, self.dtype)
        with np.errstate(all="ignore"):
            z, a = engine.feedforward(self, xs)
            if not all(validation.is_finite(v) for v in (*z, *a[1:])):
                raise overflow(self, xs, "the forward pass")  # parameters and x are finite: only range is left
        return a[-1]

    def cost_of(self, x: Any, y: Any) -> float:
        """C for the batch (x, y), as ``reference.cost`` computes it."""
        xs, ys = self.batch(x, y)
        return full_cost(self, xs, ys)

    def sgd_step(self, x: Any, y: Any, eta: float) -> Prepared:
        """One step of gradient descent on C for the batch (x, y): a new Prepared, as ``reference.sgd_step``."""
        rate = eta_value(eta)
        xs, ys = self.batch(x, y)
        new = step(self, xs, ys, rate, "sgd_step")
        for a in (*new.weights, *new.biases):  # this step's own new arrays, held by ``new`` alone
            a.setflags(write=False)
        return new


def prepare(network: Any) -> Prepared:
    """Check a Network (or a Case, or any object with its attributes) once; a Case's batch is ignored."""
    net = checked(network)
    # Copies, read-only: the caller keeps their arrays to change as they like, and what was checked
    # here (shapes, finiteness, the certificate's norms) stays true of what this Prepared holds.
    return replace(
        net, weights=tuple(map(_read_only_copy, net.weights)), biases=tuple(map(_read_only_copy, net.biases))
    )


def checked(network: Any) -> Prepared:
    """``prepare`` without the copies: a Prepared over the caller's own arrays, for a single call that keeps
    nothing (``reference.predict``); arrays it does not own never get the scalar certificate (``_bounds``)."""
    sizes, activations, cost, reduction, dtype, weights, biases = validation.network(network)
    return Prepared(sizes, activations, cost, reduction, dtype, tuple(weights), tuple(biases))


def _read_only_copy(a: Array) -> Array:
    """A copy that owns its data, marked read-only."""
    c = np.array(a, copy=True)
    c.setflags(write=False)
    return c


def _owned_read_only(a: Array) -> bool:
    """True for an array nobody can write to through any other name: its own data, read-only
    (setting it writeable again would take a deliberate ``setflags``)."""
    return bool(a.flags.owndata and not a.flags.writeable)


def trusted(c: Case, parameters_finite: bool) -> Prepared:
    """A Prepared from a case that ``validate`` has already checked; ``parameters_finite`` says
    whether that included the parameters' finiteness (``validate(case, finite=False)`` does not)."""
    arch = (c.sizes, c.activations, c.cost, c.reduction, c.dtype)
    return Prepared(*arch, tuple(c.weights), tuple(c.biases), parameters_finite)


def result_dict(p: engine.Pass) -> dict[str, Any]:
    """The conformance contract's shape of one pass."""
    return {
        "grad_weights": p.grad_weights,
        "grad_biases": p.grad_biases,
        "deltas": p.deltas,
        "cost": float(p.cost),  # type: ignore[arg-type]
    }


def require_finite(net: Prepared | Case, x: Array, y: Array, what: str, arrays: list[Any]) -> None:
    """Raise unless every array is finite: naming a non-finite input if there is one, else the overflow."""
    if all(validation.is_finite(v) for v in arrays):
        return
    validation.find_non_finite(_as_case(net, x, y))
    raise overflow(net, x, what)


def overflow(net: Prepared | Case, x: Array, what: str) -> FloatingPointError:
    """The error for finite inputs whose results left the dtype's range, with the sizes that did it."""
    largest = max(float(np.max(np.abs(w))) for w in net.weights)
    return FloatingPointError(
        f"{what} left the range of {net.dtype}: the inputs are finite, but too large for this "
        f"network (largest |w| = {largest:.3g}, largest |x| = {float(np.max(np.abs(x))):.3g})"
    )


def _as_case(net: Prepared | Case, x: Array, y: Array) -> Case:
    """The case that ``validation.find_non_finite`` searches (built on the error path only)."""
    return net if isinstance(net, Case) else net.case(x, y)


def checked_pass(
    net: Prepared, x: Array, y: Array, x_finite: bool = False, want_bounds: bool = True
) -> tuple[engine.Pass, list[float]]:
    """``engine.backpropagate`` in floats, with the finiteness checks that stand in for checking every input.

    Inputs: with parameters not yet known finite (``reference.backprop``), z^l finite means
    weights, biases and x are (``validation.check_forward_finite``), z^l being far smaller than
    w^l. With finite parameters, ||x||^2, which the gradient's bound needs anyway, is finite
    exactly when x is (or it overflowed: then x is searched). ``x_finite``: x was checked
    already (training checks the whole set once).

    Results: the gradient is finite when the deltas and C are, unless |dC/dw^l_jk| =
    |scale sum_x delta_j a_k|, at most scale ||delta^l|| ||a^{l-1}|| (Cauchy-Schwarz), can reach
    the largest float: only then are the gradient arrays searched. Also returns, per layer, a
    bound on every |dC/dw^l_jk| and |dC/db^l_j| (the latter is at most scale sqrt(m) ||delta^l||),
    which lets gradient descent skip checking its update.
    """
    with np.errstate(all="ignore"):
        return _checked_pass(net, x, y, x_finite, want_bounds)


def _checked_pass(
    net: Prepared, x: Array, y: Array, x_finite: bool, want_bounds: bool = True
) -> tuple[engine.Pass, list[float]]:
    """``checked_pass`` inside the caller's ``np.errstate(all="ignore")``; ``want_bounds=False``
    (a pass without an update) may leave the bounds infinite where a direct check is cheaper."""
    m = x.shape[0]
    p = engine.backpropagate(net, x, y)
    certificate = _certified if net.parameters_finite else _dot_certificate  # reference.backprop: the latter
    if not want_bounds and certificate(net, p, _x_square(net, x)):
        return p, [math.inf] * len(p.deltas)
    if not net.parameters_finite and not all(validation.is_finite(zl) for zl in p.z):
        validation.find_non_finite(_as_case(net, x, y))
    limit = _LARGEST[net.dtype] / 2 * (1.0 if net.reduction == "sum" else m)
    scale = 1.0 if net.reduction == "sum" else 1.0 / m
    root_m = math.sqrt(m)
    cost_finite = math.isfinite(p.cost)  # type: ignore[arg-type]
    bounds = []
    for i, delta in enumerate(p.deltas):
        dd = float(np.vdot(delta, delta))
        if i == 0 and not want_bounds and p.grad_weights[0].size < x.size:
            # dC/dw^2 = scale delta^T x is smaller than x: search it rather than bound it with ||x||
            # (a non-finite x makes it non-finite too, as NaN * 0 and inf * 0 are NaN)
            if not (cost_finite and math.isfinite(dd)):
                require_finite(net, x, y, "backpropagation", [*p.deltas, p.cost])
            require_finite(net, x, y, "backpropagation", [p.grad_weights[0]])
            bounds.append(math.inf)
            continue
        if i > 0 and net.activations[i - 1] in BOUNDED:  # |a^{l-1}| <= 1: ||a^{l-1}||^2 <= its size
            prev_sq = float(p.a[i].size)
        else:
            prev_sq = float(np.vdot(p.a[i], p.a[i]))
        if i == 0 and not (x_finite or math.isfinite(prev_sq)):
            validation.find_non_finite(_as_case(net, x, y))  # x non-finite, or only huge
        if not (cost_finite and math.isfinite(dd)):
            require_finite(net, x, y, "backpropagation", [*p.deltas, p.cost])
        norm_d, norm_prev = math.sqrt(dd), math.sqrt(prev_sq)
        if not norm_d * norm_prev < limit:
            require_finite(net, x, y, "backpropagation", [p.grad_weights[i], p.grad_biases[i]])
        bounds.append(scale * norm_d * max(norm_prev, root_m))
    return p, bounds


def _x_square(net: Prepared, x: Array) -> Any:
    """||x||^2, which ``_certified`` bounds dC/dw^2 with; None where dC/dw^2 = scale delta^2T x is
    smaller than x, and is checked itself instead (a non-finite x makes it non-finite too, as
    NaN * 0 and inf * 0 are NaN)."""
    return np.vdot(x, x) if x.size <= net.sizes[0] * net.sizes[1] else None


def _certified(net: Prepared, p: engine.Pass, x_sq: Any) -> bool:
    """True when every result of a pass over a batch of finite y is finite. False says only "not
    certified": the caller then runs the checks that name what is not finite.

    C is finite; for a cost whose targets may be any real (the quadratic cost: every y_j enters C
    as (a_j - y_j)^2), so is y then, which ``Prepared.backprop`` relies on. With parameters known
    finite, the rest is ``_scalar_certificate``: bounds in a few scalars from C, ||x||^2 and the
    network's constants, without a dot product per layer where the bounds suffice; its common case
    (bounded hidden activations, the quadratic cost, an elementwise output, x_sq given) is written
    out here as three comparisons (``_Bounds.fast`` says how they sum up its checks). Otherwise
    (``reference.backprop``'s Prepared, built per call, or a batch too long for the scalar bounds'
    rounding model) ``_dot_certificate``, one dot product per layer. Call inside
    ``np.errstate(all="ignore")``: a product of squares may overflow.
    """
    if not net.parameters_finite:
        return _dot_certificate(net, p, x_sq)
    cost = p.cost
    if not math.isfinite(cost):  # type: ignore[arg-type]
        return False
    bounds = net._bounds
    m = p.a[0].shape[0]
    if bounds is None or m > bounds.m_max:
        return _dot_certificate(net, p, x_sq)  # checks C again: a rare path
    fast = bounds.fast
    if fast is not None and x_sq is not None:
        z_weight, z_bias, forward, output, q_one, q_rows, q_x, limit, mean = fast
        x_bound = _READ_BACK * float(x_sq)  # A_1
        if z_weight * x_bound + z_bias * m < limit and forward * m < limit:  # Z_2, then every other Z_l
            t = 1.0 / m if mean else float(m)
            d = output * (2.001 * float(cost) * (m if mean else 1) + 1.0)  # type: ignore[arg-type]  # D_L
            if d * q_one < limit and d * q_rows * t < limit and q_x * x_bound * d * (t * t if mean else 1.0) < limit:
                return True
    return _scalar_certificate(net, bounds, p, x_sq)


def _dot_certificate(net: Prepared, p: engine.Pass, x_sq: Any) -> bool:
    """``_certified`` in one dot product per layer: what ``reference.backprop`` takes (its Prepared,
    built per call, has no constants to reuse), and any batch the scalar bounds do not model.

    C is finite (for the quadratic cost, so then is y, as ``_certified`` says). z^l is finite
    where the parameters are not known to be (then so are they and x). Each ||delta^l||^2 is
    finite, so delta^l is and |dC/db^l_j| <= scale sqrt(m) ||delta^l|| is far below the largest
    float; and |dC/dw^l_jk| <= scale ||delta^l|| ||a^{l-1}|| (Cauchy-Schwarz) is below it (compared
    in squares, without a square root), with ||a^{l-1}||^2 at most its size where sigma is
    bounded, and ||x||^2 finite exactly when x is (``x_sq``, from ``_x_square``; None: dC/dw^2 is
    checked itself). Call inside ``np.errstate(all="ignore")``: a product of squares may overflow.
    """
    if not math.isfinite(p.cost):  # type: ignore[arg-type]
        return False
    if not net.parameters_finite and not all(validation.is_finite(zl) for zl in p.z):
        return False
    a, activations = p.a, net.activations
    limit = _LARGEST[net.dtype] / 2 * (1.0 if net.reduction == "sum" else a[0].shape[0])
    limit_sq = limit * limit  # inf in float64: a finite ||delta||^2 ||a||^2 is then below it, and so is the bound
    prev_sq = x_sq
    if x_sq is None:
        if not validation.is_finite(p.grad_weights[0]):
            return False
        prev_sq = 0.0  # dC/dw^2 is finite: only delta^2's norm is left to check
    for i, delta in enumerate(p.deltas):
        if i:  # ||a^{l-1}||^2 is at most its size where sigma is bounded by 1
            prev_sq = a[i].size if activations[i - 1] in BOUNDED else np.vdot(a[i], a[i])
        if not np.vdot(delta, delta) * prev_sq < limit_sq:  # NaN fails it, and inf * 0 is NaN
            return False
    return True


# The scalar certificate's rounding model (``_scalar_certificate`` derives it).
_UNIT = {"float64": 2.0**-53, "float32": 2.0**-24}  # u: the unit roundoff of each dtype
# Every squared bound is compared with this: below it, every |value| bounded is below LARGEST / 2.8
# (float32), or below sqrt(LARGEST) ~ 1e154 (float64, where LARGEST^2 / 8 is no Python float).
_LIMIT_SQ = {"float64": _LARGEST["float64"], "float32": _LARGEST["float32"] * _LARGEST["float32"] / 8}
_READ_BACK = 2.0  # kappa: exact <= kappa * computed, for a sum of N >= 0 terms with N u <= 1/5
_PRIME_SLACK = 1.01  # computed |sigma'| <= max |sigma'| (1 + 4u): squared, far inside 1.01
_GROWTH_SQ = 3.0  # (|z| (1 + u)^2 + g (1 + u)^2)^2 <= 3 (z^2 + 1) for g <= 1


class _Bounds(NamedTuple):
    """One network's constants for ``_scalar_certificate`` (``_bounds_of`` derives each); index i
    is layer l = i + 2, as in the engine."""

    m_max: int  # longer batches take ``_dot_certificate`` (the rounding model needs m n_max u <= 1/5)
    z_weight: tuple[float, ...]  # 2 rho_{n_{l-1}} ||w^l||_F^2 (upper bound)
    z_bias: tuple[float, ...]  # 2 rho_{n_{l-1}} ||b^l||^2 (upper bound), times m per batch
    a_rule: tuple[int, ...]  # ||a^l||^2 from: 0, sigma bounded (m n_l); 1, |sigma(z)| <= |z|; 2, <= |z| + 1
    back: tuple[float, ...]  # hidden layers: rho_{n_{l+1}} S_l^2 ||w^{l+1}||_F^2 (upper bound)
    output_prime_sq: float | None  # S_L^2 where delta^L = (a^L - y) (.) sigma'(z^L); None: a dot product
    # Where every hidden sigma is bounded and D_L comes from C, every check of ``_scalar_certificate``
    # is one of three, once x_sq is known: Z_2 (z_weight[0] A_1 + z_bias[0] m), every other Z_l
    # (m (z_weight[i] n_{l-1} + z_bias[i]), at most m ``forward``), and, with D_l = P_l D_L for
    # P_l = the product of ``back`` from l to L - 1, the checks on D_l, dC/db^l (kappa^2 scale^2 m
    # D_l) and dC/dw^l for l >= 3 (kappa^2 scale^2 m n_{l-1} D_l), which are D_L P_l max(1, 4 t n')
    # with t = 1/m (mean) or m (sum): at most D_L max(q_one, q_rows t); then dC/dw^2, q_x A_1 D_L
    # scale^2. (z_weight[0], z_bias[0], forward, kappa S_L^2, q_one, q_rows, q_x, limit, mean)
    fast: tuple[float, float, float, float, float, float, float, float, bool] | None


def _sum_of_squares(array: Array) -> float:
    """An upper bound on the exact sum of the squares of ``array`` (float64 or float32), or inf.

    Summed in float64 (float32 widens exactly): the computed sum of N >= 0 terms is at least the
    exact one times (1 - u)^N >= 1 - N u, so dividing by 1 - (N + 1) u bounds it (N u < 1/4 is
    every array numpy can hold in memory); NaN or inf (not possible for checked parameters) is inf.
    """
    wide = np.asarray(array, dtype=np.float64)
    computed = float(np.vdot(wide, wide))
    upper = computed / (1.0 - (wide.size + 1) * _UNIT["float64"])
    return upper if math.isfinite(upper) else math.inf


def _bounds_of(net: Prepared) -> _Bounds | None:
    """``_scalar_certificate``'s constants for ``net``; None where the rounding model does not
    hold (a layer so wide that (n + 2) u > 1/5: float32 with a layer of 3 million units)."""
    u, sizes = _UNIT[net.dtype], net.sizes
    n_max = max(*sizes, 2)
    if (n_max + 2) * u > 0.2:
        return None
    rho = [1.0 / (1.0 - (n + 2) * u) ** 2 for n in sizes]  # (1 + gamma_{n+2})^2, gamma_k = k u / (1 - k u)
    w_sq = [_sum_of_squares(w) for w in net.weights]
    b_sq = [_sum_of_squares(b) for b in net.biases]
    records = [ACTIVATION_RECORDS[name] for name in net.activations]
    a_rule = tuple(0 if r.bounded else 1 if r.growth == 0.0 else 2 for r in records)
    prime_sq = [math.inf if r.lipschitz is None else _PRIME_SLACK * r.lipschitz * r.lipschitz for r in records]
    last = len(sizes) - 2
    output_prime_sq = (
        prime_sq[last]
        if COST_RECORDS[net.cost].gradient_is_residual and records[last].elementwise and math.isfinite(prime_sq[last])
        else None
    )
    z_weight = tuple(2.0 * rho[i] * w_sq[i] for i in range(last + 1))
    z_bias = tuple(2.0 * rho[i] * b_sq[i] for i in range(last + 1))
    back = tuple(rho[i + 2] * prime_sq[i] * w_sq[i + 1] for i in range(last))
    fast = None
    if output_prime_sq is not None and not any(a_rule[:last]):
        products = [1.0] * (last + 1)  # P_l
        for i in range(last - 1, -1, -1):
            products[i] = back[i] * products[i + 1]
        widths = [1, *sizes[1 : last + 1]]  # n_{l-1} for dC/dw^l, l >= 3; 1 for dC/db^2 alone
        fast = (
            z_weight[0],
            z_bias[0],
            max([0.0] + [z_weight[i] * sizes[i] + z_bias[i] for i in range(1, last + 1)]),
            _READ_BACK * output_prime_sq,
            max(products),
            max(_READ_BACK * _READ_BACK * pl * n for pl, n in zip(products, widths, strict=True)),
            _READ_BACK * _READ_BACK * products[0],
            _LIMIT_SQ[net.dtype],
            net.reduction == "mean",
        )
    return _Bounds(
        m_max=int(0.2 / (n_max * u)),
        z_weight=z_weight,
        z_bias=z_bias,
        a_rule=a_rule,
        back=back,
        output_prime_sq=output_prime_sq,
        fast=fast,
    )


class _Plan(NamedTuple):
    """``Prepared.backprop``'s common case: a batch of plain arrays (``validation.plain_batch``) of
    at most ``m_cap`` rows, certified by three comparisons of A_1 = kappa ||x||^2 and C.

    For a network with ``_Bounds.fast`` (every hidden sigma bounded, the quadratic cost, an
    elementwise output) and m <= n_2 (so that ||x||^2 is taken: ``_x_square``), ``_certified``'s
    common case is five comparisons with the limit L (``_Bounds.fast``'s names; D = S (2.001 C M + 1),
    S = kappa S_L^2, M = m and t = 1/m for the mean, M = 1 and t = m for the sum):
      (a) z_w A_1 + z_b m < L, (b) f m < L, (c) D q_one < L, (d) D q_rows t < L, (e) q_x A_1 D s < L
    with s = t^2 (mean) or 1 (sum). Each side grows with A_1, C and m, so with m <= m_cap, t <= t_cap
    (1 for the mean, m_cap for the sum), D s <= S (2.001 C + 1) in both reductions (the mean's
    (2.001 C m + 1) / m^2 is at most 2.001 C + 1 for m >= 1), and M <= M_cap (m_cap or 1), they
    hold once
      z_b m_cap <= L / 4, f m_cap <= L / 4, h = max(S g, 1) <= L / 8 for g = max(q_one, q_rows t_cap)
    (a plan exists only then), and the batch has
      A_1 < x_max = L / (4 max(z_w, 1)),  0 <= C < c_max = L / (8 * 2.001 M_cap h),
      A_1 (2.001 C + 1) < p_max = L / (4 max(q_x S, 1)):
    then z_w A_1 + z_b m < L / 4 + L / 4; D g <= h (2.001 M_cap C + 1) < L / 8 + L / 8; and
    q_x A_1 D s <= q_x S A_1 (2.001 C + 1) < L / 4. So each of the five bounds is below L / 2 in
    exact arithmetic, with a factor 2 to spare for the rounding of the few float operations on
    either side (each relative error below 8u), and ``_scalar_certificate``'s proof, which asks
    them below L, holds. (``_certified``'s own float evaluation of (e) may overflow in an
    intermediate product and refuse where this certifies.) NaN fails every comparison, a NaN or
    infinite C fails 0 <= C < c_max, and each max(., 1) keeps the three constants finite (a
    quotient L / tiny would overflow to inf, which every finite A_1 or C is below).
    ``tests/test_prepared_plan.py`` holds the five bounds, in exact rationals, to this."""

    n_1: int
    n_L: int
    dtype: np.dtype[Any]
    m_cap: int  # min(m_max, n_2): the rounding model's rows, and ||x||^2 taken (x no larger than dC/dw^2)
    c_max: float
    x_max: float
    p_max: float


def _plan_of(net: Prepared) -> _Plan | None:
    """``_Plan``'s constants for ``net``; None where its case does not arise (no ``_Bounds.fast``,
    parameters not known finite, targets constrained, or a bound past its share of L)."""
    bounds = net._bounds
    if bounds is None or bounds.fast is None or not net.parameters_finite or net.cost not in validation._REAL_TARGETS:
        return None
    z_weight, z_bias, forward, output, q_one, q_rows, q_x, limit, mean = bounds.fast
    m_cap = min(bounds.m_max, net.sizes[1])
    h = max(output * max(q_one, q_rows * (1 if mean else m_cap)), 1.0)
    if not (z_bias * m_cap <= limit / 4 and forward * m_cap <= limit / 4 and h <= limit / 8):
        return None
    return _Plan(
        n_1=net.sizes[0],
        n_L=net.sizes[-1],
        dtype=np.dtype(net.dtype),
        m_cap=m_cap,
        c_max=limit / (8 * 2.001 * (m_cap if mean else 1) * h),
        x_max=limit / (4 * max(z_weight, 1.0)),
        p_max=limit / (4 * max(q_x * output, 1.0)),
    )


def _forward_bounds(net: Prepared, bounds: _Bounds, p: engine.Pass, x_sq: Any) -> list[float | None] | None:
    """``_scalar_certificate``'s forward half: A_1 .. A_{L-1} (A_1 None where x_sq is), once every
    Z_l, by its scalar bound or else its dot product, is below the limit; None: some z^l is not
    certified finite (then sigma'(z^l) may be NaN and A_l no bound at all)."""
    limit = _LIMIT_SQ[net.dtype]
    z, m, sizes = p.z, p.a[0].shape[0], net.sizes
    z_weight, z_bias, a_rule = bounds.z_weight, bounds.z_bias, bounds.a_rule
    prev = None if x_sq is None else _READ_BACK * float(x_sq)
    a_sq: list[float | None] = [prev]
    last = len(z) - 1
    for i in range(last + 1):
        zl = math.inf if prev is None else z_weight[i] * prev + z_bias[i] * m
        if not zl < limit:
            zl = _READ_BACK * float(np.vdot(z[i], z[i]))
            if not zl < limit:
                return None
        if i < last:
            rule = a_rule[i]
            prev = m * sizes[i + 1] if rule == 0 else zl if rule == 1 else _GROWTH_SQ * (zl + m * sizes[i + 1])
            a_sq.append(prev)
    return a_sq


def _scalar_certificate(net: Prepared, bounds: _Bounds, p: engine.Pass, x_sq: Any) -> bool:
    """``_certified`` for finite parameters (C already finite), in scalars where the bounds suffice.

    Every quantity below bounds a squared Frobenius norm over the batch of the *computed* arrays,
    in terms of computed numbers, so that "bound < limit" (``_LIMIT_SQ``) proves every entry, and
    every partial sum the pass formed it from, finite; NaN or inf in a bound fails the comparison,
    so an overflow of the bounds' own arithmetic means "not certified", never "certified".

    Rounding (u the dtype's unit roundoff, gamma_k = k u / (1 - k u), m the batch's rows,
    m n_max u <= 1/5 by ``m_max``): a dot product of k terms computed in any order is at most
    (1 + gamma_k) times the sum of their magnitudes (Higham, Accuracy and Stability, 3.1), partial
    sums included; a computed sum of N >= 0 terms is at least (1 - N u) times the exact one, so the
    exact one is at most kappa = 2 times it (``_READ_BACK``); rho_n = (1 + gamma_{n+2})^2.
    The limit is (LARGEST / 2)^2 / 2 in float32, a factor 2 above every rounding of the few Python
    operations per layer; in float64, LARGEST itself (norms below 1e154).

    Forward, layer by layer (A_1 = kappa ||x||^2 computed: finite exactly when x is):
      z^l_xj = fl(sum_k a_xk w_jk + b_j) <= (1 + gamma_{n+1})(sum_k |a_xk| |w_jk| + |b_j|), so by
      Cauchy-Schwarz and (s + t)^2 <= 2 s^2 + 2 t^2, ||z^l||^2 <= Z_l = 2 rho (||w^l||^2 A_{l-1} +
      m ||b^l||^2). Z_l < limit: z^l is finite (no NaN from inf - inf or inf * 0, which a finite
      bound on exact values alone would not exclude), and so is sigma'(z^l), at most S_l = max
      |sigma'| (1 + 4u) (``_PRIME_SLACK``). Where the bound fails, or x_sq is None (dC/dw^2 is
      checked itself), Z_l = kappa ||z^l||^2, one dot product. Then A_l = m n_l where |sigma| <= 1;
      Z_l where sigma(z) is z or 0 (identity, relu); 3 (Z_l + m n_l) where |sigma(z)| <= |z| + g,
      g <= 1 (softplus, ``Activation.growth``).
    Output: for the quadratic cost with an elementwise sigma_L, delta^L = (a^L - y) (.) sigma'(z^L),
      and C = fl(fl(v / 2) s) with v the computed sum of (a^L - y)^2, s = fl(1/m) or 1: v <= 2.001 C
      M + 1 (M = m or 1; the 1 covers an underflow of v / 2), so D_L = S_L^2 kappa (2.001 C M + 1).
      Other costs, or softmax: D_L = kappa ||delta^L||^2, one dot product.
    Backward: delta^l = fl(fl(delta^{l+1} w^{l+1}) (.) sigma'(z^l)), so ||delta^l||^2 <= D_l =
      rho_{n_{l+1}} S_l^2 ||w^{l+1}||^2 D_{l+1}. Where it fails: D_l = kappa ||delta^l||^2.
    Gradient: dC/db^l_j = fl(scale sum_x delta_xj) is at most kappa scale sqrt(m) ||delta^l|| and
      dC/dw^l_jk at most kappa scale ||delta^l|| ||a^{l-1}|| (Cauchy-Schwarz): compared in squares,
      kappa^2 scale^2 m D_l and kappa^2 scale^2 D_l A_{l-1}; where the latter fails on a scalar
      bound, the dot products of delta^l, then of a^{l-1}, are taken; with x_sq None, dC/dw^2 itself.
    """
    a_sq = _forward_bounds(net, bounds, p, x_sq)
    if a_sq is None:
        return False
    limit = _LIMIT_SQ[net.dtype]
    a, deltas, a_rule = p.a, p.deltas, bounds.a_rule
    m, last = a[0].shape[0], len(deltas) - 1
    mean = net.reduction == "mean"
    grad_factor = _READ_BACK * _READ_BACK / (m * m if mean else 1.0)  # kappa^2 scale^2
    if bounds.output_prime_sq is None:
        d = math.inf
    else:
        d = bounds.output_prime_sq * _READ_BACK * (2.001 * float(p.cost) * (m if mean else 1) + 1.0)  # type: ignore[arg-type]
    back = bounds.back
    for i in range(last, -1, -1):
        if i < last:
            d = back[i] * d
        prev = a_sq[i]
        if not (d < limit and grad_factor * m * d < limit and (prev is None or grad_factor * d * prev < limit)):
            d = _READ_BACK * float(np.vdot(deltas[i], deltas[i]))
            if not (d < limit and grad_factor * m * d < limit):
                return False
            if prev is not None and not grad_factor * d * prev < limit:
                if i == 0 or a_rule[i - 1] == 0:
                    return False
                prev = _READ_BACK * float(np.vdot(a[i], a[i]))
                if not grad_factor * d * prev < limit:
                    return False
        if prev is None and not validation.is_finite(p.grad_weights[0]):
            return False
    return True


def full_cost(net: Prepared, x: Array, y: Array) -> float:
    """C over a checked batch, certified finite."""
    with np.errstate(all="ignore"):
        value = engine.evaluate_cost(net, x, y)
        require_finite(net, x, y, "the cost", [value])
    return float(value)  # type: ignore[arg-type]


def descend(
    net: Prepared, eta: float, grad_w: Sequence[Array], grad_b: Sequence[Array], bounds: list[float], what: str
) -> Prepared:
    """w^l <- w^l - eta dC/dw^l and b^l <- b^l - eta dC/db^l: the seed's update, with dC carrying the 1/m.

    ``bounds[i]`` bounds every |dC/dp| of layer i + 2 (from ``checked_pass``): only when eta
    times it could overflow are the new parameters searched, so the check costs nothing in
    ordinary training, and the new parameters are finite: the next pass need not search them.
    """
    with np.errstate(all="ignore"):
        rate = np.dtype(net.dtype).type(eta)
        weights = tuple(w - rate * g for w, g in zip(net.weights, grad_w, strict=True))
        biases = tuple(b - rate * g for b, g in zip(net.biases, grad_b, strict=True))
        if not np.isfinite(rate):
            raise ValueError(
                f"eta (the learning rate) = {eta!r} overflows {net.dtype} (largest finite value "
                f"{float(np.finfo(net.dtype).max):.4g})"
            )
        if not eta * max(bounds) < _SAFE_STEP[net.dtype]:
            _require_finite_update(net, eta, what, (("weights", "w", weights, grad_w), ("biases", "b", biases, grad_b)))
    return Prepared(net.sizes, net.activations, net.cost, net.reduction, net.dtype, weights, biases)


def step(net: Prepared, x: Array, y: Array, eta: float, what: str, x_finite: bool = False) -> Prepared:
    """One checked pass and one update (whose parameters are finite, see ``descend``)."""
    p, bounds = checked_pass(net, x, y, x_finite)
    return descend(net, eta, p.grad_weights, p.grad_biases, bounds, what)


def own(net: Prepared) -> Prepared:
    """A copy whose parameter arrays belong to the caller alone, for ``train_step`` to update in place."""
    return replace(net, weights=tuple(w.copy() for w in net.weights), biases=tuple(b.copy() for b in net.biases))


def train_step(net: Prepared, x: Array, y: Array, eta: float) -> Prepared:
    """``step`` for ``train``, on parameters that ``own`` copied: updated in place, bit for bit the
    values ``descend`` computes (eta dC/dp is the same product, p - it the same difference), without
    allocating new parameter arrays per mini-batch (x: rows of the training set, checked already)."""
    with np.errstate(all="ignore"):
        p, bounds = _checked_pass(net, x, y, True)
        rate = np.dtype(net.dtype).type(eta)
        if not (math.isfinite(rate) and eta * max(bounds) < _SAFE_STEP[net.dtype]):
            # eta overflows the dtype, or an update might: the checked path names it
            return descend(net, eta, p.grad_weights, p.grad_biases, bounds, "train")  # new arrays: ours too
        for params, grads in ((net.weights, p.grad_weights), (net.biases, p.grad_biases)):
            for param, grad in zip(params, grads, strict=True):
                grad *= rate  # the gradient arrays are this pass's own
                param -= grad
    return net


def _require_finite_update(
    net: Prepared,
    eta: float,
    what: str,
    groups: tuple[tuple[str, str, Sequence[Array], Sequence[Array]], ...],
) -> None:
    """Name the first parameter that p - eta dC/dp pushed out of the dtype's range."""
    for field, symbol, new, grads in groups:
        for i, (p, g) in enumerate(zip(new, grads, strict=True)):
            if validation.is_finite(p):
                continue
            index = tuple(int(k) for k in np.argwhere(~np.isfinite(p))[0])
            old = getattr(net, field)[i]
            raise FloatingPointError(
                f"{what}: the updated {field}[{i}] (layer {i + 2}) left the range of {net.dtype}: "
                f"{symbol} - eta dC/d{symbol} at index {list(index)} is {p[index]} "
                f"({symbol} = {old[index]:.6g}, dC/d{symbol} = {g[index]:.6g}, eta = {eta:.6g}); "
                "use a smaller eta"
            )
