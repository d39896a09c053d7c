"""Ground truth in arbitrary precision: backprop in mpmath, confirmed by mpmath central differences.

The reference's ``backprop_mp`` runs the same equations on exact mpf copies of the float inputs,
so it gives the true gradient at exactly those inputs to ~10^-digits, provided the equations
are right. To not take the equations on trust, every entry is confirmed independently by central
differences of the mpmath cost (the core engine on object arrays) at working precision
digits + 10, with steps h = 2^-round(bits/3) max(1, |p|) and 2h extrapolated:
R = (4 D(h) - D(2h)) / 3, whose error is bounded by |R - D(h)| (the O(h^2) term of D(h),
~10^-(2 digits/3))
plus the rounding 10^-(digits+10) / h. An entry is confirmed when |backprop_mp - R| is within that.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import mpmath
import numpy as np

from .. import engine
from ..activations import kinks_of
from ..api import backprop_mp
from ..case import Layers
from .central import NumericGradient
from .formatting import count, fmt_sci, short_repr
from .kinks import Kink, corner_at_point, crossing_inside
from .problem import from_case


@dataclass(frozen=True)
class MpGroundTruth:
    """exact[t]: object arrays of mpf; confirmed: every non-kink entry agreed with mp differences.

    worst_discrepancy: max over confirmed entries of |backprop_mp - R| / max(1e-300, |R|);
    kinks: entries whose mp difference straddles a relu kink (not confirmable, not counted).
    """

    digits: int
    exact: list[np.ndarray]
    numeric: NumericGradient
    confirmed: bool
    worst_discrepancy: float
    unconfirmed: list[str] = field(default_factory=list)
    kinks: dict[tuple[int, int], Kink] = field(default_factory=dict)

    def __repr__(self) -> str:
        """One line: confirmed or not, and the worst discrepancy (the arrays stay in the fields)."""
        return short_repr(
            "MpGroundTruth",
            f"{self.digits} digits, {'confirmed' if self.confirmed else 'NOT confirmed'}",
            f"{count(len(self.exact), 'tensor')}, worst discrepancy {fmt_sci(self.worst_discrepancy)}, "
            f"{len(self.unconfirmed)} unconfirmed, {count(len(self.kinks), 'kink')}",
        )


def _mp_array(a: np.ndarray) -> np.ndarray:
    out = np.empty(a.size, dtype=object)
    out[:] = [mpmath.mpf(float(v)) for v in a.reshape(-1)]
    return out.reshape(a.shape)


def mp_ground_truth(
    target: Any, digits: int = 50, confirm: bool = True, candidate: list[np.ndarray] | None = None
) -> MpGroundTruth:
    """The gradient of a reference case at ``digits`` decimal digits, confirmed entry by entry.

    candidate: an mp gradient to confirm instead of ``reference.backprop_mp``'s (same layout as
    Problem.params: w^2, b^2, w^3, ...), e.g. another arbitrary-precision implementation's.
    """
    problem = from_case(target)
    case = problem.case
    exact: list[np.ndarray] = []
    if candidate is None:
        result = backprop_mp(case, digits=digits)
        for gw, gb in zip(result["grad_weights"], result["grad_biases"], strict=True):
            exact += [np.asarray(gw, dtype=object), np.asarray(gb, dtype=object)]
    else:
        exact = [np.asarray(c, dtype=object) for c in candidate]
    unconfirmed: list[str] = []
    kinks: dict[tuple[int, int], Kink] = {}
    worst = 0.0
    if confirm:
        with mpmath.workdps(digits + 10):
            params = [_mp_array(p) for p in problem.params]
            x, y = (
                _mp_array(np.asarray(case.x, dtype=np.float64)),
                _mp_array(np.asarray(case.y, dtype=np.float64)),
            )
            acts = case.activations
            kinked = kinks_of(acts)  # relu: (layer index, 0.0)

            def at(ps: list[np.ndarray]) -> Layers:
                """The case's network with the mpmath parameters ps (w^2, b^2, w^3, ...)."""
                return Layers(ps[0::2], ps[1::2], acts, case.cost, case.reduction)

            def cost(ps: list[np.ndarray]) -> Any:
                return engine.evaluate_cost(at(ps), x, y)

            def probe(ps: list[np.ndarray]) -> list[np.ndarray]:
                z, _ = engine.feedforward(at(ps), x)
                return [
                    np.sign(np.asarray([float(mpmath.sign(v - k)) for v in z[i].reshape(-1)])).reshape(z[i].shape)
                    for i, k in kinked
                ]

            layers = [i + 2 for i, _ in kinked]
            centre = probe(params) if kinked else None
            bits = mpmath.mp.prec
            c0 = max(mpmath.mpf(1), abs(cost(params)))
            for t, p in enumerate(params):
                flat = p.reshape(-1)
                for i in range(flat.size):
                    p0 = flat[i]
                    h = mpmath.ldexp(1, -round(bits / 3)) * max(mpmath.mpf(1), abs(p0))
                    if centre is not None:
                        ends = []
                        for s in (2, -2):
                            flat[i] = p0 + s * h
                            ends.append(probe(params))
                        flat[i] = p0
                        kink = (
                            corner_at_point(centre, ends, layers)
                            or crossing_inside(centre, ends[0], layers)
                            or crossing_inside(centre, ends[1], layers)
                        )
                        if kink is not None:
                            kinks[(t, i)] = kink
                            continue
                    quotients = []
                    for step in (h, 2 * h):
                        flat[i] = p0 + step
                        fp = cost(params)
                        flat[i] = p0 - step
                        fm = cost(params)
                        flat[i] = p0
                        quotients.append((fp - fm) / (2 * step))
                    r = (4 * quotients[0] - quotients[1]) / 3
                    bound = abs(r - quotients[0]) + 4 * c0 * mpmath.mpf(10) ** (-(digits + 10)) / h
                    g = exact[t].reshape(-1)[i]
                    gap = abs(g - r)
                    if gap > bound:
                        unconfirmed.append(
                            f"dC/d{problem.names[t]}[{i}]: backprop_mp {mpmath.nstr(g, 20)}, "
                            f"mp central differences {mpmath.nstr(r, 20)} "
                            f"(bound {mpmath.nstr(bound, 3)})"
                        )
                    worst = max(worst, float(gap / max(abs(r), mpmath.mpf(10) ** -300)))
    rounded = [np.vectorize(float, otypes=[np.float64])(e) if e.size else np.zeros(e.shape) for e in exact]
    # rounding an mpf to float64 errs by <= half an ulp: 2^-53 |value|
    errors = [np.abs(r) * 2.0**-53 for r in rounded]
    steps = [np.zeros(r.shape) for r in rounded]
    numeric = NumericGradient(f"mpmath ({digits} digits)", rounded, errors, steps, noise=0.0)
    return MpGroundTruth(digits, exact, numeric, confirm and not unconfirmed, worst, unconfirmed, kinks)
