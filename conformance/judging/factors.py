"""A factor claim ("exactly m times", "1/n_L of", "2 times") is printed only when it is true.

A wrong array A (a layer's deltas or gradients, the cost, an SGD step) may be a multiple k R
of the expected R. Naming k is a claim about the code ("the 1/m is missing"), and the suite
met it made by coincidence: a ratio of 0.039 called "m = 3", 0.254 called "1/4", a factor
1/n_L called 1/m because n_L happened to equal m, a tanh' bug called "m = 4". So a factor is
named only when

(a) the observed ratio matches it to a tight band of its own (``Observation.fits``), and
(b) a second case built to break the coincidence confirms it (``Confirmer``): the same
    network and batch with one more sample (another m), and with one more output unit
    (another n_L). Every hypothesis in ``HYPOTHESES`` is a different function of (m, n_L),
    and any two of them differ on one of those three cases, so at most one survives them all;
    it is named only when it is the only one left and was seen on at least two cases.

Otherwise the failure is reported by its numbers, the observed ratio among them (``ratio_text``).

The band. A correct implementation returns R + e with |e| <= T element by element
(tolerances.py: T covers its rounding and the reference's); one that computes k R instead
returns k (R + e) plus one more rounding of the product, within (k + 1) T of k R. Its
least-squares ratio r = <A, R> / <R, R> is therefore within

    band(k) = (k + 1) ||T|| / ||R||

of k (Cauchy-Schwarz on <A - k R, R>), and the whole of A is within (k + 1) ||T|| of k R (the
test ``norm_mismatch`` applies). A claim needs both, and needs the band itself to be tight:
band(k) <= TIGHT k. The hypotheses are integers and reciprocals of m and n_L up to the widest
the suite draws (64) and the constants 2 and 1/2; neighbours among them differ by at least
1/64 ~ 1.6e-2 relative, so a band of TIGHT = 1e-3 relative keeps each at least 15 bands
from the next: no observed ratio fits two of them. It is also far inside the plain
tolerance: float64 layers have ||T|| / ||R|| near 1e-13, float32 ones near 1e-5; a case whose
tolerance is a sizeable part of its value (a float32 cost of 106.8 allowed 92) makes no claim.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from functools import cached_property
from typing import Any

import numpy as np

from conformance.errors import Unusable
from conformance.judging.findings import RATIO_PHRASE
from conformance.judging.tolerances import Expected, expect, norm, norm_mismatch
from reference import Case
from reference._ops import Array

# The largest relative band under which a factor may be named (module docstring).
TIGHT = 1e-3

# Each hypothesis: its name in the text and its value as a function of (m, n_L).
HYPOTHESES: tuple[tuple[str, Callable[[int, int], float]], ...] = (
    ("m", lambda m, n: float(m)),
    ("1/m", lambda m, n: 1.0 / m),
    ("n_L", lambda m, n: float(n)),
    ("1/n_L", lambda m, n: 1.0 / n),
    ("m n_L", lambda m, n: float(m * n)),
    ("1/(m n_L)", lambda m, n: 1.0 / (m * n)),
    ("2", lambda m, n: 2.0),
    ("1/2", lambda m, n: 0.5),
)


@dataclass(frozen=True)
class Observation:
    """One case's wrong array A, the expected R and its tolerance T, with the case's m and n_L."""

    actual: Array
    expected: Array
    tol: Array
    m: int
    n_L: int

    def ratio(self) -> float | None:
        """The least-squares ratio <A, R> / <R, R>; None where R is 0 or A is not finite."""
        return self._ratio

    @cached_property
    def _ratio(self) -> float | None:
        """Computed once: ``fits`` asks it for every hypothesis (eight per claim, a claim per wrong array)."""
        a = np.asarray(self.actual, dtype=np.float64).ravel()
        r = np.asarray(self.expected, dtype=np.float64).ravel()
        with np.errstate(all="ignore"):  # an answer near the largest float has no ratio
            rr = float(r @ r)
            ar = float(a @ r)
        if not (rr > 0 and np.isfinite(rr) and np.isfinite(ar)):
            return None
        return ar / rr

    def relative(self) -> float:
        """||T|| / ||R||: the band per unit of (k + 1)."""
        return self._relative

    @cached_property
    def _relative(self) -> float:
        """Computed once, as ``_ratio``: two norms that do not depend on the hypothesis."""
        size = norm(self.expected)
        return float("inf") if size == 0 else norm(np.broadcast_to(self.tol, np.shape(self.expected))) / size

    def fits(self, k: float) -> bool:
        """A is k R to within what rounding allows, and that allowance is tight (module docstring)."""
        r = self.ratio()
        if r is None or k <= 0:
            return False
        band = (k + 1.0) * self.relative()
        if not band <= TIGHT * k or abs(r - k) > band:
            return False
        with np.errstate(over="ignore"):  # near the largest float: inf, which fails
            scaled, allowed = k * np.asarray(self.expected), (k + 1.0) * np.asarray(self.tol)
        return norm_mismatch(self.actual, scaled, allowed) is None


def survivors(observations: list[Observation]) -> list[tuple[str, float]]:
    """The hypotheses that fit every observation, with their value on the first."""
    if not observations:
        return []
    first = observations[0]
    return [
        (name, value(first.m, first.n_L))
        for name, value in HYPOTHESES
        if all(o.fits(value(o.m, o.n_L)) for o in observations)
    ]


@dataclass(frozen=True)
class Claim:
    """A factor named: which hypothesis, its value on the case, and the cases that confirmed it."""

    name: str
    value: float
    seen: tuple[tuple[int, int, float], ...]  # (m, n_L, observed ratio) per case

    def text(self) -> str:
        """'exactly m = 3 times the expected value (ratio 3.0 at m = 3; 4.0 at m = 4, n_L = 2)'."""
        shown = _fraction(self.value)
        named = shown if self.name in ("2", "1/2") else f"{self.name} = {shown}"
        where = "; ".join(f"{r:.6g} at m = {m}, n_L = {n}" for m, n, r in self.seen)
        return f"exactly {named} times the expected value (observed ratio {where})"


def _fraction(k: float) -> str:
    return f"{k:g}" if k >= 1 else f"1/{round(1 / k)}"


def name_factor(observations: list[Observation]) -> Claim | None:
    """The one hypothesis every observation confirms, when there are at least two of them, else None."""
    if len(observations) < 2:
        return None
    left = survivors(observations)
    if len(left) != 1:
        return None
    name, value = left[0]
    seen = tuple((o.m, o.n_L, float(o.ratio() or 0.0)) for o in observations)
    return Claim(name, value, seen)


def ratio_text(observation: Observation) -> str:
    """The observed ratio as a number, for a failure no claim explains ('' where it has none)."""
    r = observation.ratio()
    if r is None:
        return ""
    size = int(np.size(observation.expected))
    over = f" (least squares over its {size} elements)" if size > 1 else ""
    shown = next(f"{r:.{d}g}" for d in (*range(6, 17), 17) if d == 17 or float(f"{r:.{d}g}") != 1.0)
    return f"{RATIO_PHRASE} {shown}{over}"


# -- the second cases ----------------------------------------------------------------------------


def another_m(case: Case) -> Case:
    """The case with one more sample: its first, repeated (valid targets, m + 1)."""
    return case.replace(x=np.concatenate([case.x, case.x[:1]]), y=np.concatenate([case.y, case.y[:1]]))


def another_n_L(case: Case) -> Case:
    """The case with one more output unit: the last one repeated (n_L + 1).

    A softmax output's new unit gets the target 0, so every target stays a probability vector.
    """
    w, b = case.weights[-1], case.biases[-1]
    column = np.zeros_like(case.y[:, -1:]) if case.activations[-1] == "softmax" else case.y[:, -1:]
    return case.replace(
        sizes=(*case.sizes[:-1], case.sizes[-1] + 1),
        weights=[*case.weights[:-1], np.concatenate([w, w[-1:]])],
        biases=[*case.biases[:-1], np.concatenate([b, b[-1:]])],
        y=np.concatenate([case.y, column], axis=1),
    )


# Where a sigmoid output rounds to exactly 1 but e^z is still finite: past ln(1/u) (36.7 in
# float64, 16.6 in float32) and far below the overflow of e^z (709.8, 88.7).
ROUNDS_TO_ONE: dict[str, float] = {"float64": 40.0, "float32": 20.0}


def scaled_output(case: Case, exp: Expected, top: float, signed: bool = False) -> Case | None:
    """The case with w^L and b^L scaled so that max |z^L| = top (None: z^L is 0).

    ``signed``: the largest |z^L| becomes +top, and every target 0 (a sigmoid output's
    -ln(1 - a) is then the whole cost where a rounds to 1).
    """
    z = exp.z[-1] if exp.z else np.zeros(1)
    peak = float(z.flat[int(np.argmax(np.abs(z)))])
    if peak == 0.0:
        return None
    scale = top / (peak if signed else abs(peak))
    with np.errstate(over="ignore"):  # beyond the dtype's range: no such case, checked below
        w = (np.asarray(case.weights[-1], dtype=np.float64) * scale).astype(case.dtype)
        b = (np.asarray(case.biases[-1], dtype=np.float64) * scale).astype(case.dtype)
    if not (np.isfinite(w).all() and np.isfinite(b).all()):
        return None
    return case.replace(
        weights=[*case.weights[:-1], w],
        biases=[*case.biases[:-1], b],
        y=np.zeros_like(case.y) if signed else case.y,
    )


# What the implementation answers on another case (a parsed Result for backprop, the new
# parameters for sgd_step), or None when it has no usable answer there.
Probe = Callable[[Case], Any]
# From that answer and the reference's values on the case: (A, R, T), or None.
Extract = Callable[[Any, Expected], tuple[Array, Array, Array] | None]


class Confirmer:
    """Asks the implementation for the second cases, once each, and names what they confirm."""

    def __init__(self, case: Case, conventions: dict[str, float], probe: Probe | None) -> None:
        self.case = case
        self.conventions = conventions
        self.probe = probe
        self._asked: dict[str, tuple[Any, Expected] | None] = {}

    def answer(self, kind: str, exp: Expected | None = None) -> tuple[Any, Expected] | None:
        """The implementation's answer and the reference's values on the second case ``kind``
        ("m", "n_L", "sample s"; "unsaturated" and "rounded", ``scaled_output``, need the first
        case's ``exp``)."""
        if kind not in self._asked:
            self._asked[kind] = self._ask(kind, exp)
        return self._asked[kind]

    def _ask(self, kind: str, exp: Expected | None) -> tuple[Any, Expected] | None:
        if self.probe is None:
            return None
        if kind == "m":
            variant: Case | None = another_m(self.case)
        elif kind == "n_L":
            variant = another_n_L(self.case)
        elif kind.startswith("sample "):  # one sample of the batch, asked alone
            s = int(kind.removeprefix("sample "))
            variant = self.case.replace(x=self.case.x[s : s + 1], y=self.case.y[s : s + 1])
        elif exp is None or (kind == "unsaturated" and not np.max(np.abs(exp.z[-1])) > 1.0):
            variant = None
        else:  # |z^L| <= 1: no output near 0 or 1; or past where a sigmoid output rounds to 1
            rounded = kind == "rounded"
            top = ROUNDS_TO_ONE[self.case.dtype] if rounded else 1.0
            variant = scaled_output(self.case, exp, top, signed=rounded)
        if variant is None:
            return None
        try:
            again = expect(variant, self.conventions)
        except (Unusable, ValueError):
            return None
        answer = self.probe(variant)
        return None if answer is None else (answer, again)

    def claim(self, first: Observation, extract: Extract) -> Claim | None:
        """The factor the first observation and the second cases confirm, else None.

        Nothing is asked unless some hypothesis fits the first case; then another m, and another
        n_L while more than one hypothesis is left.
        """
        observations = [first]
        if not survivors(observations):
            return None
        for kind in ("m", "n_L"):
            if len(observations) >= 2 and len(survivors(observations)) <= 1:
                break
            got = self.answer(kind)
            values = None if got is None else extract(*got)
            if got is None or values is None:
                continue
            case = got[1].case64
            observations.append(Observation(*values, m=case.m, n_L=case.sizes[-1]))
        return name_factor(observations)

    def passes_unsaturated(self, exp: Expected, extract: Extract) -> bool:
        """True when the implementation is right on the case with |z^L| <= 1 (``scaled_output``).

        Every sigmoid output then lies in (0.26, 0.74) and no softmax output is near 0 or 1: a
        cause that lives only where the output saturates must be gone there.
        """
        got = self.answer("unsaturated", exp)
        values = None if got is None else extract(*got)
        return values is not None and norm_mismatch(*values) is None

    def cost_when_rounded(self, exp: Expected) -> float | None:
        """The implementation's cost where its sigmoid output rounds to 1 but e^z is finite, or None."""
        got = self.answer("rounded", exp)
        cost = None if got is None else getattr(got[0], "cost", None)
        return None if cost is None else float(cost)
