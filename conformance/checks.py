"""The checks, run on one case in dependency order, each ending in a Finding.

Order and dependencies: structure first (nothing else can be judged without a
well-formed result); then determinism, the same case asked twice: an answer that
depends on the call history (state carried between calls, a forgotten zero_grad)
cannot be judged against anything, so every later check is *blocked* by it and a
stateful implementation is diagnosed as such, not by whichever equation the
history happened to break; delta^L (equation 1) before delta^l (equation 2), top down,
so that the first wrong delta is blamed and the layers below it are *blocked*;
then per layer the gradients (equations 3 and 4), where a gradient off by exactly
m (or 1/m) is blamed on the reduction, and a gradient computed from wrong deltas
is blocked by them when it is consistent with the implementation's own deltas.
The SGD step needs right gradients; batch additivity and permutation invariance
are judged only on cases where nothing earlier failed. The inputs left unmodified
and the cost depend on the structure only (and determinism).

Causes. A failure of delta^l (or, without deltas, of the gradients where they first go
wrong) is explained further when one of two known causes accounts for all of it: relu'(0)
(the disagreement sits only on units of a relu layer whose pre-activation is exactly 0;
the value used is solved for, and the case re-judged under it as a declared convention)
and a saturated output (the disagreement sits only where the sigmoid or softmax output is
within sqrt(u) of 0 or 1, where a cost computed from the rounded a, or clamped, loses
delta^L). "Accounts for all of it" is tested, not assumed: with the cause removed, the layer
passes within its tolerance (``_relu_cause``, ``_saturation_cause``).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Literal

import numpy as np

from reference import Case
from reference.activations import sigmoid, softplus

from .calls import Answer, Fault, describe_exception
from .loader import Implementation
from .mutation import fresh_copy, mutation
from .structure import Result, StructureError, parse_parameters, parse_result
from .tolerances import (
    ELEMENTARY_ULPS,
    SAFETY,
    UNIT_ROUNDOFF,
    Expected,
    Mismatch,
    Unusable,
    compare,
    expect,
    format_number,
    gamma,
    norm,
    place,
)

Status = Literal["passed", "failed", "blocked", "not covered"]
Array = np.ndarray

CHECKS: tuple[str, ...] = (
    "structure",
    "determinism",
    "equation1",
    "equation2",
    "equation3",
    "equation4",
    "cost",
    "reduction",
    "sgd_step",
    "no_mutation",
    "batch_additivity",
    "permutation",
)
LAYERED: frozenset[str] = frozenset({"equation1", "equation2", "equation3", "equation4", "reduction"})
_LABEL = {
    "equation1": "equation 1",
    "equation2": "equation 2",
    "equation3": "equation 3",
    "equation4": "equation 4",
}


@dataclass(frozen=True)
class Finding:
    """One check's verdict on one case (and one layer for the layered checks)."""

    check: str
    layer: int | None
    status: Status
    message: str


@dataclass
class CaseReport:
    """Everything the checks found on one case."""

    case: Case
    eta: float
    permutation: tuple[int, ...]
    findings: list[Finding] = field(default_factory=list)
    fatal: bool = False
    answered: bool = False  # the first backprop call returned a value (whatever it was)

    def add(self, check: str, layer: int | None, status: Status, message: str = "") -> None:
        self.findings.append(Finding(check, layer, status, message))

    def root(self) -> Finding | None:
        """The first failure in check order: the one to shrink and to fix first."""
        failed = [f for f in self.findings if f.status == "failed"]
        return min(failed, key=lambda f: (CHECKS.index(f.check), -(f.layer or 0))) if failed else None

    def failed_any(self, checks: Sequence[str]) -> Finding | None:
        for f in self.findings:
            if f.check in checks and f.status in ("failed", "blocked"):
                return f
        return None


def _mismatch_text(field_name: str, i: int | None, mm: Mismatch, layer: int | None, what: str, dtype: str) -> str:
    where = f"layer {layer}, " if layer is not None else ""
    return (
        f"{place(field_name, i, mm.index)} = {format_number(mm.actual)}, but should be "
        f"{format_number(mm.expected)} ({where}{what}, {dtype}, tolerance {mm.tolerance:.2g} "
        f"on the layer's error norm, which is {mm.error:.2g})"
    )


def _factor(actual: Array, expected: Array, tol: Array, m: int) -> float | None:
    """m or 1/m when actual is that multiple of expected (a reduction bug), else None.

    Called once ``compare(actual, expected, tol)`` has failed. Computing k R instead of R
    multiplies the implementation's own error by k, so k R is accepted within k T + T. The
    factor explains the mismatch when actual fits k R and k R itself is not within T of R
    (the same test compare applies): otherwise "off by k" and "right" cannot be told apart.
    """
    if m < 2:
        return None
    for k in (float(m), 1.0 / m):
        fits = compare(actual, k * expected, tol * max(k, 1.0) + tol) is None
        if fits and compare(k * expected, expected, tol) is not None:
            return k
    return None


def _fraction(k: float) -> str:
    return f"{k:g}" if k >= 1 else f"1/{round(1 / k)}"


def _factor_text(k: float, m: int, reduction: str) -> str:
    if k > 1:
        return (
            f"exactly m = {m} times the expected value: the 1/m of the mean reduction is missing"
            if reduction == "mean"
            else f"exactly m = {m} times the expected value although the reduction is sum"
        )
    return (
        f"exactly 1/m = 1/{m} of the expected value: averaged although the reduction is sum"
        if reduction == "sum"
        else f"exactly 1/m = 1/{m} of the expected value: divided by m twice?"
    )


# -- causes: relu'(0) and saturated outputs (module docstring, "Causes") ------------------------


def _relu_zeros(exp: Expected, i: int) -> Array | None:
    """The (sample, unit) mask of exact zeros of z^{i+2} when that layer is relu, else None."""
    if exp.case64.activations[i] != "relu" or len(exp.z) <= i:
        return None
    mask = exp.z[i] == 0
    return mask if mask.any() else None


def _incoming(exp: Expected, i: int) -> Array:
    """What sigma'(z^l) multiplies in delta^l: (w^{l+1})^T delta^{l+1}, or a^L - y at a relu output.

    The layers above are right when this is asked (else this layer is blocked), so the
    reference's values stand in for the implementation's. A relu output has the quadratic
    cost (the others need sigmoid or softmax), whose nabla_a C is a^L - y.
    """
    c = exp.case64
    if i == len(c.weights) - 1:
        return exp.a[-1] - c.y
    return exp.deltas[i + 1] @ c.weights[i + 1]


def _relu_text(layer: int, shown: str, value: float, declared: float | None) -> str:
    where = (
        f"the disagreement sits only on units whose pre-activation z^{layer} is exactly 0 in this relu "
        f"layer: relu'(0) = {shown} in this implementation"
    )
    snippet = f'capabilities["conventions"] = {{"relu_prime_at_zero": {shown}}}'
    if not 0.0 <= value <= 1.0:
        return where + ", which is not a subgradient of relu (those lie in [0, 1]): a bug, not a convention"
    if declared is not None:
        return (
            where + f", but its declared convention is relu'(0) = {declared:g}: correct the code, or declare {snippet}"
        )
    return (
        where + ", where the contract's default is relu'(0) = 0; any value in [0, 1] is a valid subgradient: "
        f"if {shown} is your convention, declare it: {snippet}"
    )


def _saturated(exp: Expected, dtype: str) -> Array | None:
    """Mask of saturated outputs: sigmoid or softmax a^L within sqrt(u) of 0 or 1, else None.

    Beyond there a formula that goes through the rounded a (a division by a (1 - a), ln(1 - a),
    a clamp) keeps less than half of its digits, and a clamp at 1e-12 or an a that rounds to 1
    loses delta^L entirely.
    """
    name = exp.case64.activations[-1]
    if name not in ("sigmoid", "softmax") or not exp.z:
        return None
    if name == "sigmoid":
        complement = sigmoid(-np.abs(exp.z[-1]))
    else:
        a = exp.a[-1]
        complement = np.minimum(a, np.sum(a, axis=1, keepdims=True) - a)  # 1 - a_j as the other outputs' sum
    mask = complement < np.sqrt(UNIT_ROUNDOFF[dtype])
    return mask if mask.any() else None


def _saturation_text(exp: Expected, mask: Array, index: tuple[int, ...], got: float, want: float) -> str:
    name = exp.case64.activations[-1]
    z = float(exp.z[-1][index])
    unsaturated = int(mask.size - mask.sum())
    if unsaturated:
        plural = unsaturated > 1
        right = f"{unsaturated} unsaturated output{'s' if plural else ''} here {'are' if plural else 'is'} right"
        scope = f"where the {name} output saturates (the {right})"
    else:
        scope = f"where the {name} output saturates (every output of this case is saturated)"
    cure = "BCEWithLogitsLoss, or softplus of z^L" if name == "sigmoid" else "log_softmax of z^L with NLLLoss"
    return (
        f"the disagreement sits only {scope}: delta^L[{', '.join(map(str, index))}] = {format_number(got)} at "
        f"z^L = {z:.4g}, where it should be {format_number(want)}; a cost computed from the rounded output a "
        "loses delta^L there: clamped (BCELoss after Sigmoid clamps ln at -100 and divides by "
        "max(a (1 - a), 1e-12)) or a-based (-[y ln a + (1 - y) ln(1 - a)] differentiated through a); "
        f"compute the cost from z^L instead ({cure})"
    )


def _saturation_cause(exp: Expected, dtype: str, actual: Array, expected: Array, tol: Array) -> str | None:
    """The saturation text when delta^L is wrong only at saturated outputs, else None."""
    mask = _saturated(exp, dtype)
    if mask is None:
        return None
    off = ~mask
    if off.any() and compare(actual[off], expected[off], tol[off]) is not None:
        return None
    wrong = np.where(mask, np.abs(np.asarray(actual, dtype=np.float64) - expected), -1.0)
    index = tuple(int(k) for k in np.unravel_index(int(np.argmax(wrong)), wrong.shape))
    return _saturation_text(exp, mask, index, float(actual[index]), float(expected[index]))


def _saturation_fit(exp: Expected, dtype: str, grad_b: Array, grad_w: Array) -> str | None:
    """Without deltas: the saturation text when a change of delta^L at saturated outputs only explains both gradients.

    Per output unit j, the unknown changes of delta^L at its saturated samples are fitted to
    dC/db_j and dC/dw_j by least squares; the fit must have fewer unknowns than equations
    (otherwise any change of the gradients could be fitted, and nothing would be shown), and
    the refitted gradients must then pass within their tolerances.
    """
    mask = _saturated(exp, dtype)
    if mask is None:
        return None
    i = len(exp.case64.weights) - 1
    a_prev, scale = exp.a[i], exp.scale
    change = np.zeros_like(exp.deltas[i])
    for j in range(mask.shape[1]):
        rows = np.flatnonzero(mask[:, j])
        if rows.size == 0:
            continue
        if rows.size >= 1 + a_prev.shape[1]:
            return None
        system = scale * np.vstack([np.ones(rows.size), a_prev[rows].T])
        target = np.concatenate([[grad_b[j] - exp.grad_biases[i][j]], grad_w[j] - exp.grad_weights[i][j]])
        if not np.isfinite(target).all():
            return None
        change[rows, j] = np.linalg.lstsq(system, target, rcond=None)[0]
    fitted_b = exp.grad_biases[i] + scale * change.sum(axis=0)
    fitted_w = exp.grad_weights[i] + scale * (change.T @ a_prev)
    if compare(grad_b, fitted_b, exp.tol_biases[i]) is not None or compare(grad_w, fitted_w, exp.tol_weights[i]):
        return None
    index = tuple(int(k) for k in np.unravel_index(int(np.argmax(np.abs(change))), change.shape))
    want = float(exp.deltas[i][index])
    text = _saturation_text(exp, mask, index, want + float(change[index]), want)
    return text.replace(f"delta^L[{', '.join(map(str, index))}] = ", f"delta^L[{', '.join(map(str, index))}] ~ ", 1)


# torch's softplus threshold (F.softplus, nn.Softplus): the one tried when none is declared.
TORCH_SOFTPLUS_THRESHOLD = 20.0
# torch's BCELoss clamps each logarithm at this value.
BCE_LOG_CLAMP = -100.0


def _clamped_costs(exp: Expected, dtype: str) -> list[float]:
    """C of a cross_entropy case with ln a and ln(1 - a) clamped at -100 (BCELoss), else [].

    Twice: from the exact logarithms, and from a rounded to the case's dtype (where a rounds
    to 1, at z > 16.6 in float32, ln(1 - a) is -inf before the clamp makes it -100).
    """
    c = exp.case64
    if c.cost != "cross_entropy" or not exp.z:
        return []
    z, y = exp.z[-1], c.y
    rounded = exp.a[-1].astype(dtype).astype(np.float64)
    with np.errstate(divide="ignore"):
        logs = ((-softplus(-z), -softplus(z)), (np.log(rounded), np.log(1 - rounded)))
    return [
        float(
            -exp.scale * np.sum(y * np.maximum(log_a, BCE_LOG_CLAMP) + (1 - y) * np.maximum(log_not_a, BCE_LOG_CLAMP))
        )
        for log_a, log_not_a in logs
    ]


def _threshold_text(what: str) -> str:
    t = f"{TORCH_SOFTPLUS_THRESHOLD:g}"
    return (
        f"{what} is right when softplus is z itself above z = {t}, as torch's F.softplus and nn.Softplus "
        f"make it (a deviation of log1p(e^-z), 2e-9 at z = {t}): a documented convention; declare it: "
        f'capabilities["conventions"] = {{"softplus_threshold": {t}}}, or compute ln(1 + e^z) everywhere '
        "(torch.logaddexp(z, 0))"
    )


def _judged_under(case: Case, conventions: dict[str, float]) -> Expected | None:
    """The reference's values and tolerances under other conventions (None: not judgeable)."""
    try:
        return expect(case, conventions)
    except Unusable:
        return None


def _layer_passes(exp: Expected, i: int, deltas: Array | None, grads: tuple[Array, Array] | None) -> bool:
    """True when the implementation's delta^{i+2} (or, without deltas, both gradients) pass against exp."""
    if deltas is not None:
        return compare(deltas, exp.deltas[i], exp.tol_deltas[i]) is None
    assert grads is not None
    return (
        compare(grads[0], exp.grad_biases[i], exp.tol_biases[i]) is None
        and compare(grads[1], exp.grad_weights[i], exp.tol_weights[i]) is None
    )


def _number(value: float) -> str:
    """The shortest form that reads back as value: 0.5, 1, 0.333333333333."""
    text = repr(value)
    return text.removesuffix(".0")


def _under_torch_threshold(case: Case, exp: Expected) -> Expected | None:
    """The case judged under torch's softplus threshold, when none is declared and it changes something."""
    if "softplus_threshold" in exp.conventions or not any(
        name == "softplus" and bool((z > TORCH_SOFTPLUS_THRESHOLD).any())
        for name, z in zip(exp.case64.activations, exp.z, strict=False)
    ):
        return None
    return _judged_under(case, {**exp.conventions, "softplus_threshold": TORCH_SOFTPLUS_THRESHOLD})


class CaseChecker:
    """Runs every check on one case against one implementation."""

    def __init__(self, impl: Implementation) -> None:
        self.impl = impl
        caps = impl.capabilities
        # The declared conventions, under which the reference judges (CONTRACT.md section 1).
        self.conventions: dict[str, float] = dict(getattr(caps, "conventions", None) or {})
        # Required only when declared: capabilities that name other keys say nothing of outputs.
        self.want_deltas = "deltas" in caps.outputs and "outputs" in caps.declared_keys
        self.want_cost = "cost" in caps.outputs and "outputs" in caps.declared_keys

    def _call_backprop(self, case: Case) -> tuple[Case, Answer | Fault]:
        given = fresh_copy(case)
        return given, self.impl.backprop(given)

    def _ask(self, report: CaseReport, case: Case, what: str) -> Result | str:
        """One more backprop call for a property check: its parsed result, or why it has none."""
        _, outcome = self._call_backprop(case)
        report.fatal |= isinstance(outcome, Fault) and outcome.fatal
        return self._parse(case, outcome, what)

    def _parse(self, case: Case, outcome: Answer | Fault, what: str) -> Result | str:
        if isinstance(outcome, Fault):
            return f"{what} {outcome.message}"
        try:
            return parse_result(
                outcome.value,
                case.sizes,
                case.m,
                case.dtype,
                want_deltas=self.want_deltas,
                want_cost=self.want_cost,
            )
        except StructureError as error:
            return f"{what}: {error}"
        except Exception as error:  # noqa: BLE001 - whatever was sent, it is the answer's fault
            return f"{what}: the answer cannot be read as a result ({describe_exception(error)})"

    def run(self, case: Case, eta: float, permutation: Sequence[int]) -> CaseReport | None:
        """All findings for the case; None when it cannot be judged (see tolerances.expect)."""
        try:
            exp = expect(case, self.conventions)
        except Unusable:
            return None
        report = CaseReport(case, eta, tuple(int(p) for p in permutation))
        given, outcome = self._call_backprop(case)
        report.fatal |= isinstance(outcome, Fault) and outcome.fatal
        report.answered = isinstance(outcome, Answer)
        parsed = self._parse(case, outcome, "backprop")
        self._no_mutation(report, given, case, "backprop", outcome)
        if isinstance(parsed, str):
            report.add("structure", None, "failed", parsed)
            _block_after(report, "structure", "blocked by the structure check")
            return report
        report.add("structure", None, "passed")
        if not self._determinism(report, parsed, exp):
            _block_after(report, "determinism", "blocked by determinism: the same case gave two answers")
            return report
        delta_ok = self._equations_1_2(report, parsed, exp)
        self._equations_3_4(report, parsed, exp, delta_ok)
        self._cost(report, parsed, exp)
        self._sgd_step(report, exp)
        self._batch_additivity(report, parsed, exp)
        self._permutation(report, parsed, exp)
        return report

    # -- causes -----------------------------------------------------------------------------

    def _relu_cause(
        self, case: Case, exp: Expected, i: int, deltas: Array | None, grads: tuple[Array, Array] | None
    ) -> str | None:
        """The relu'(0) text when a relu'(0) other than the judged one explains layer i + 2, else None.

        The implementation's deviation from the reference, restricted to the exact zeros, is
        (r - r0) times what relu'(0) multiplies there (delta^l = p (.) relu'(z), and equations 3
        and 4 of that); r is its least-squares solution. The value shown is the shortest decimal
        within what the data can tell (the tolerance over the size of p, at least 1e-12 relative)
        under which the case, judged again, passes at this layer: so declaring it works.
        """
        mask = _relu_zeros(exp, i)
        if mask is None:
            return None
        p = np.where(mask, _incoming(exp, i), 0.0)
        if deltas is not None:
            diffs, basis, tols = [deltas - exp.deltas[i]], [p], [exp.tol_deltas[i]]
        else:
            assert grads is not None
            diffs = [grads[0] - exp.grad_biases[i], grads[1] - exp.grad_weights[i]]
            basis = [exp.scale * p.sum(axis=0), exp.scale * (p.T @ exp.a[i])]
            tols = [exp.tol_biases[i], exp.tol_weights[i]]
        size = float(sum(np.sum(b * b) for b in basis))
        if not (size > 0 and np.isfinite(size) and all(np.isfinite(d).all() for d in diffs)):
            return None
        declared = exp.conventions.get("relu_prime_at_zero")
        r = (declared or 0.0) + float(sum(np.sum(d * b) for d, b in zip(diffs, basis, strict=True))) / size
        spread = float(np.sqrt(sum(np.sum(np.asarray(t) ** 2) for t in tols) / size))
        window = max(spread, 1e-12 * max(1.0, abs(r)))
        for digits in range(1, 18):
            candidate = float(f"{r:.{digits}g}")
            if abs(candidate - r) > window:
                continue
            again = _judged_under(case, {**exp.conventions, "relu_prime_at_zero": candidate})
            if again is not None and _layer_passes(again, i, deltas, grads):
                return _relu_text(i + 2, _number(candidate), candidate, declared)
        return None

    def _threshold_cause(
        self, case: Case, exp: Expected, i: int, deltas: Array | None, grads: tuple[Array, Array] | None
    ) -> str | None:
        """The softplus-threshold text when torch's threshold, undeclared, explains layer i + 2, else None.

        Tried only where it changes something: no threshold declared, and a softplus
        pre-activation above torch's 20 somewhere in the case. The layer must pass when the
        case is judged again under that threshold.
        """
        again = _under_torch_threshold(case, exp)
        if again is None or not _layer_passes(again, i, deltas, grads):
            return None
        return _threshold_text(f"layer {i + 2}")

    def _delta_cause(self, case: Case, exp: Expected, i: int, deltas: Array) -> str | None:
        """Why delta^{i+2} is wrong, when a known cause explains all of it (module docstring)."""
        cause = self._relu_cause(case, exp, i, deltas, None)
        if cause is None and i == len(case.weights) - 1:
            cause = _saturation_cause(exp, case.dtype, deltas, exp.deltas[i], exp.tol_deltas[i])
        return cause or self._threshold_cause(case, exp, i, deltas, None)

    def _gradients_cause(self, case: Case, exp: Expected, i: int, res: Result) -> str | None:
        """Without deltas: the known cause that explains layer i + 2's gradients, else None."""
        grads = (res.grad_biases[i], res.grad_weights[i])
        cause = self._relu_cause(case, exp, i, None, grads)
        if cause is None and i == len(case.weights) - 1:
            cause = _saturation_fit(exp, case.dtype, *grads)
        return cause or self._threshold_cause(case, exp, i, None, grads)

    # -- equations ------------------------------------------------------------------------

    def _equations_1_2(self, report: CaseReport, res: Result, exp: Expected) -> dict[int, str | None]:
        """Per layer, None when the reported delta^l is right, else the cause; {} without deltas."""
        case = report.case
        L = len(case.sizes)
        if res.deltas is None:
            why = "not covered: the implementation does not report deltas"
            report.add("equation1", None, "not covered", why)
            report.add("equation2", None, "not covered", why)
            return {}
        causes: dict[int, str | None] = {}
        for layer in range(L, 1, -1):
            i = layer - 2
            check = "equation1" if layer == L else "equation2"
            above = causes.get(layer + 1)
            if layer < L and above is not None:
                causes[layer] = above
                report.add(check, layer, "blocked", f"blocked by {above}")
                continue
            mm = compare(res.deltas[i], exp.deltas[i], exp.tol_deltas[i])
            if mm is None:
                causes[layer] = None
                report.add(check, layer, "passed")
                continue
            causes[layer] = f"{_LABEL[check]} at layer {layer}"
            detail = "delta^L" if layer == L else f"delta^{layer}, while delta^{layer + 1} is right"
            k = _factor(res.deltas[i], exp.deltas[i], exp.tol_deltas[i], case.m)
            if k is not None:
                detail += (
                    f"; the deltas are exactly {'m' if k > 1 else '1/m'} = {_fraction(k)} times the "
                    "expected ones: the contract's delta^l is per sample (dC_x/dz^{x,l}), without the "
                    "reduction's factor"
                )
            else:
                cause = self._delta_cause(case, exp, i, res.deltas[i])
                if cause is not None:
                    detail += f"; {cause}"
            report.add(
                check,
                layer,
                "failed",
                _mismatch_text("deltas", i, mm, layer, _LABEL[check], case.dtype) + f": {detail}",
            )
        return causes

    def _equations_3_4(self, report: CaseReport, res: Result, exp: Expected, causes: dict[int, str | None]) -> None:
        case = report.case
        L, m, dtype = len(case.sizes), case.m, case.dtype
        entry: str | None = None  # without deltas: the layer where both gradients first went wrong
        for layer in range(L, 1, -1):
            i = layer - 2
            cause = causes.get(layer)
            wrong_here: list[str] = []
            reduction_seen: str | None = None
            reduction_ok = True
            pending: list[tuple[str, Status, str]] = []
            for check, field_name, actual, expected, tol in (
                (
                    "equation3",
                    "grad_biases",
                    res.grad_biases[i],
                    exp.grad_biases[i],
                    exp.tol_biases[i],
                ),
                (
                    "equation4",
                    "grad_weights",
                    res.grad_weights[i],
                    exp.grad_weights[i],
                    exp.tol_weights[i],
                ),
            ):
                label = _LABEL[check]
                if cause is None or res.deltas is None:
                    mm = compare(actual, expected, tol)
                    if mm is None:
                        pending.append((check, "passed", ""))
                        continue
                    if entry is not None:  # a wrong delta above explains it, a factor m included
                        reduction_ok = False
                        pending.append((check, "blocked", f"blocked by {entry}"))
                        continue
                    k = _factor(actual, expected, tol, m)
                    if k is not None:
                        reduction_seen = (
                            f"{place(field_name, i, ())} "
                            f"(dC/d{'wb'[check == 'equation3']}^{layer}) is "
                            f"{_factor_text(k, m, case.reduction)} (layer {layer}, "
                            f"reduction {case.reduction}, "
                            f"m = {m}, {dtype})"
                        )
                        pending.append((check, "blocked", "blocked by the reduction check at this layer"))
                        continue
                    reduction_ok = False
                    wrong_here.append(check)
                    pending.append((check, "failed", _mismatch_text(field_name, i, mm, layer, label, dtype)))
                else:
                    if compare(actual, expected, tol) is None:
                        pending.append((check, "passed", ""))  # right, whatever the deltas say
                        continue
                    own, own_tol = self._from_own_deltas(check, res, exp, i)
                    if compare(actual, own, own_tol) is None:
                        pending.append(
                            (
                                check,
                                "blocked",
                                f"blocked by {cause}: consistent with the wrong deltas",
                            )
                        )
                        continue
                    k = _factor(actual, own, own_tol, m)
                    if k is not None:
                        reduction_seen = (
                            f"{place(field_name, i, ())} is {_factor_text(k, m, case.reduction)}, "
                            "relative to the "
                            f"implementation's own deltas (layer {layer}, m = {m}, {dtype})"
                        )
                        pending.append((check, "blocked", "blocked by the reduction check at this layer"))
                        continue
                    reduction_ok = False
                    mm = compare(actual, own, own_tol)
                    assert mm is not None
                    pending.append(
                        (
                            check,
                            "failed",
                            _mismatch_text(field_name, i, mm, layer, label, dtype)
                            + ", where 'should be' is computed from the implementation's own "
                            "deltas",
                        )
                    )
            explained = None
            if res.deltas is None and wrong_here and entry is None:
                explained = self._gradients_cause(case, exp, i, res)
            if explained is not None:
                entry = f"layer {layer}, where delta^{layer} is wrong"
                pending = [(c, s, msg + f"; {explained}") if s == "failed" else (c, s, msg) for c, s, msg in pending]
            elif res.deltas is None and len(wrong_here) == 2 and entry is None:
                entry = f"layer {layer}, where dC/db and dC/dw both go wrong"
                pending = [
                    (
                        c,
                        s,
                        msg + f"; both gradients of layer {layer} are wrong while the layers above "
                        "are right: "
                        f"delta^{layer} is probably wrong (equation {'1' if layer == L else '2'}); "
                        "report deltas for a "
                        "sharper diagnosis",
                    )
                    if s == "failed"
                    else (c, s, msg)
                    for c, s, msg in pending
                ]
            for check, status, message in pending:
                report.add(check, layer, status, message)
            if reduction_seen is not None:
                report.add("reduction", layer, "failed", reduction_seen)
            elif reduction_ok and m > 1 and self._reduction_visible(exp, i):
                report.add("reduction", layer, "passed")

    @staticmethod
    def _reduction_visible(exp: Expected, i: int) -> bool:
        m = exp.case64.m
        return norm(exp.grad_biases[i]) * (m - 1) > 2 * m * norm(exp.tol_biases[i]) or norm(exp.grad_weights[i]) * (
            m - 1
        ) > 2 * m * norm(exp.tol_weights[i])

    def _from_own_deltas(self, check: str, res: Result, exp: Expected, i: int) -> tuple[Array, Array]:
        """Equation 3 or 4 applied to the implementation's own delta^l, with its rounding bound."""
        assert res.deltas is not None
        d, m = res.deltas[i], exp.case64.m
        u = max(exp.u, UNIT_ROUNDOFF["float32"])  # diagnosis only: see the end of tolerances' docstring
        abs_d = np.abs(d)
        if check == "equation3":
            value = exp.scale * d.sum(axis=0)
            bound = SAFETY * exp.scale * gamma(m + 2, u) * abs_d.sum(axis=0) + exp.tol_biases[i]
            return value, bound
        a_prev = exp.a[i]
        value = exp.scale * (d.T @ a_prev)
        bound = (
            SAFETY * exp.scale * (gamma(m + 2, u) * (abs_d.T @ np.abs(a_prev)) + abs_d.T @ exp.tol_a[i])
            + exp.tol_weights[i]
        )
        return value, bound

    # -- the other checks -----------------------------------------------------------------

    def _cost(self, report: CaseReport, res: Result, exp: Expected) -> None:
        if res.cost is None:
            report.add("cost", None, "not covered", "not covered: the implementation does not report cost")
            return
        if self.conventions.get("cost_from_activations") == 1.0 and _a_based_cost_may_be_infinite(report.case, exp):
            report.add(
                "cost",
                None,
                "not covered",
                "not covered: the output rounds to 0 or 1 here, where a cost computed from a (the declared "
                "convention cost_from_activations) is infinite by construction",
            )
            return
        if not np.isfinite(res.cost):
            report.add("cost", None, "failed", self._non_finite_cost(report, res.cost, exp))
            return
        mm = compare(np.asarray(res.cost), np.asarray(exp.cost), exp.tol_cost)
        if mm is None:
            report.add("cost", None, "passed")
            return
        message = _mismatch_text(
            "cost",
            None,
            mm,
            None,
            f"cost {report.case.cost}, reduction {report.case.reduction}",
            report.case.dtype,
        )
        k = _factor(np.asarray(res.cost), np.asarray(exp.cost), np.asarray(exp.tol_cost), report.case.m)
        if k is not None:
            message += f"; it is {_factor_text(k, report.case.m, report.case.reduction)}"
        else:
            fits = [
                c
                for c in _clamped_costs(exp, report.case.dtype)
                if compare(np.asarray(res.cost), np.asarray(c), exp.tol_cost) is None
            ]
            if fits:
                clamped = fits[0]
                z_max = float(np.max(np.abs(exp.z[-1])))
                message += (
                    f"; it is the cost with every logarithm clamped at {BCE_LOG_CLAMP:g} ({format_number(clamped)}), "
                    f"as BCELoss after Sigmoid computes it from the rounded output a: the output saturates "
                    f"(|z^L| up to {z_max:.4g}); compute the cost from z^L instead (BCEWithLogitsLoss, or "
                    "softplus of z^L)"
                )
            else:
                again = _under_torch_threshold(report.case, exp)
                if again is not None and compare(np.asarray(res.cost), np.asarray(again.cost), again.tol_cost) is None:
                    message += "; " + _threshold_text("the cost")
                else:
                    message += _rounded_output_hint(report.case, exp)
        report.add("cost", None, "failed", message)

    def _costs_comparable(self, case: Case, exp: Expected) -> bool:
        """False where a declared a-based cost may be infinite (its values then say nothing)."""
        return not (self.conventions.get("cost_from_activations") == 1.0 and _a_based_cost_may_be_infinite(case, exp))

    @staticmethod
    def _non_finite_cost(report: CaseReport, cost: float, exp: Expected) -> str:
        """The exact cost is finite (expect() refuses cases where it is not): say so, and where the
        output rounds to exactly 0 or 1 in the case's dtype, why an a-based cost is infinite there."""
        case = report.case
        text = (
            f"cost = {format_number(cost)}, but should be {format_number(exp.cost)} (cost {case.cost}, "
            f"reduction {case.reduction}, {case.dtype}): the exact value is finite"
        )
        return text + _rounded_output_hint(case, exp)

    def _no_mutation(self, report: CaseReport, given: Case, original: Case, what: str, outcome: Answer | Fault) -> None:
        if self.impl.in_process:
            changed = mutation(given, original)
        elif self.impl.reports_mutation:
            changed = outcome.mutation  # the worker compared the arrays it passed
        else:
            if not any(f.check == "no_mutation" for f in report.findings):
                report.add(
                    "no_mutation",
                    None,
                    "not covered",
                    "not covered: a subprocess receives a serialised copy and cannot modify the inputs",
                )
            return
        if changed:
            report.add("no_mutation", None, "failed", f"{what} modified its input: {changed}")
        elif what == "backprop":
            report.add("no_mutation", None, "passed")

    def _gradient_cause(self, report: CaseReport) -> Finding | None:
        return report.failed_any(("equation1", "equation2", "equation3", "equation4", "reduction"))

    def _sgd_step(self, report: CaseReport, exp: Expected) -> None:
        case, eta = report.case, report.eta
        if not self.impl.has_sgd_step:
            report.add(
                "sgd_step",
                None,
                "not covered",
                "not covered: the implementation does not provide sgd_step",
            )
            return
        blocker = self._gradient_cause(report)
        if blocker is not None:
            where = f" at layer {blocker.layer}" if blocker.layer else ""
            report.add("sgd_step", None, "blocked", f"blocked by {blocker.check}{where}")
            return
        given = fresh_copy(case)
        outcome = self.impl.sgd_step(given, eta)
        self._no_mutation(report, given, case, "sgd_step", outcome)
        if isinstance(outcome, Fault):
            report.fatal |= outcome.fatal
            status: Status = "not covered" if outcome.kind == "unsupported" else "failed"
            prefix = "not covered: " if status == "not covered" else "sgd_step "  # "sgd_step raised ..."
            report.add("sgd_step", None, status, prefix + outcome.message)
            return
        try:
            weights, biases = parse_parameters(outcome.value, case.sizes, case.dtype)
        except StructureError as error:
            report.add("sgd_step", None, "failed", f"sgd_step: {error}")
            return
        except Exception as error:  # noqa: BLE001 - whatever was sent, it is the answer's fault
            report.add("sgd_step", None, "failed", f"sgd_step: the answer cannot be read ({describe_exception(error)})")
            return
        c64, u = exp.case64, exp.u
        for name, got, params, grads, tols in (
            ("weights", weights, c64.weights, exp.grad_weights, exp.tol_weights),
            ("biases", biases, c64.biases, exp.grad_biases, exp.tol_biases),
        ):
            for i, (new, p, g, t) in enumerate(zip(got, params, grads, tols, strict=True)):
                expected = p - eta * g
                # p - eta g: two roundings, the rounding of eta, and eta times the gradient's bound
                tol = SAFETY * u * (np.abs(p) + 2 * eta * np.abs(g)) + eta * t
                mm = compare(new, expected, tol)
                if mm is None:
                    continue
                text = _mismatch_text(name, i, mm, i + 2, f"sgd_step with eta = {eta}", case.dtype)
                k = _factor(p - new, eta * g, tol, case.m)
                if k is not None:
                    text += f"; the step is {_factor_text(k, case.m, case.reduction)}"
                report.add("sgd_step", None, "failed", text)
                return
        report.add("sgd_step", None, "passed")

    def _determinism(self, report: CaseReport, first: Result, exp: Expected) -> bool:
        """Asks for the same case again, right after the first call; True when the answers agree."""
        case = report.case
        second = self._ask(report, case, "the second backprop call on the same case")
        if isinstance(second, str):
            report.add("determinism", None, "failed", second)
            return False
        again = "the second call on the same case"
        problem = _differs(second, first, exp, again, "the first call", case.dtype, self._costs_comparable(case, exp))
        report.add("determinism", None, "failed" if problem else "passed", problem or "")
        return problem is None

    def _property_skipped(self, report: CaseReport, check: str) -> bool:
        """True when a batch property cannot be judged: one sample only, or blocked (then said so)."""
        if report.case.m < 2:
            return True
        root = report.failed_any(("equation1", "equation2", "equation3", "equation4", "reduction", "cost"))
        if root is None:
            return False
        where = f" at layer {root.layer}" if root.layer else ""
        report.add(check, None, "blocked", f"blocked by {root.check}{where}")
        return True

    def _batch_additivity(self, report: CaseReport, batch: Result, exp: Expected) -> None:
        case = report.case
        if self._property_skipped(report, "batch_additivity"):
            return
        singles: list[Result] = []
        for s in range(case.m):
            one = case.replace(x=case.x[s : s + 1], y=case.y[s : s + 1])
            parsed = self._ask(report, one, f"backprop on sample {s} alone (m = 1)")
            if isinstance(parsed, str):
                report.add("batch_additivity", None, "failed", parsed)
                return
            singles.append(parsed)
        weight = 1.0 / case.m if case.reduction == "mean" else 1.0
        layers = range(len(batch.grad_weights))
        single_deltas = [r.deltas for r in singles if r.deltas is not None]
        single_costs = [r.cost for r in singles if r.cost is not None]
        combined = Result(
            grad_weights=[weight * np.sum([r.grad_weights[i] for r in singles], axis=0) for i in layers],
            grad_biases=[weight * np.sum([r.grad_biases[i] for r in singles], axis=0) for i in layers],
            deltas=None
            if batch.deltas is None or len(single_deltas) < case.m
            else [np.concatenate([d[i] for d in single_deltas]) for i in layers],
            cost=None if batch.cost is None or len(single_costs) < case.m else weight * sum(single_costs),
        )
        how = f"the {case.reduction} of the {case.m} single-sample results"
        problem = _differs(combined, batch, exp, how, "the batch result", case.dtype, self._costs_comparable(case, exp))
        report.add("batch_additivity", None, "failed" if problem else "passed", problem or "")

    def _permutation(self, report: CaseReport, batch: Result, exp: Expected) -> None:
        case, perm = report.case, np.asarray(report.permutation)
        if self._property_skipped(report, "permutation"):
            return
        shuffled = case.replace(x=case.x[perm], y=case.y[perm])
        parsed = self._ask(report, shuffled, f"backprop on the samples in the order {perm.tolist()}")
        if isinstance(parsed, str):
            report.add("permutation", None, "failed", parsed)
            return
        inverse = np.argsort(perm)
        unshuffled = Result(
            parsed.grad_weights,
            parsed.grad_biases,
            None if parsed.deltas is None else [d[inverse] for d in parsed.deltas],
            parsed.cost,
        )
        order = f"the samples in the order {perm.tolist()}"
        comparable = self._costs_comparable(case, exp)
        problem = _differs(unshuffled, batch, exp, order, "the original order", case.dtype, comparable)
        report.add("permutation", None, "failed" if problem else "passed", problem or "")


def _rounded_output_hint(case: Case, exp: Expected) -> str:
    """Why an a-based cost goes wrong where the output rounds to exactly 0 or 1 in the case's dtype.

    There ln(a) or ln(1 - a) of the rounded a is infinite (or, through nan_to_num, the largest
    float): the exact cost is finite, and only a cost computed from z^L keeps it.
    """
    out = case.activations[-1]
    if out not in ("sigmoid", "softmax") or case.cost not in ("cross_entropy", "log_likelihood"):
        return ""
    a = np.asarray(exp.a[-1], dtype=case.dtype)  # the output as the case's dtype rounds it
    if not (np.any(a == 0) or (out == "sigmoid" and np.any(a == 1))):
        return ""
    z_max = float(np.max(np.abs(exp.z[-1])))
    return (
        f"; the output a^L rounds to exactly {'0 or 1' if out == 'sigmoid' else '0'} in {case.dtype} "
        f"(|z^L| up to {z_max:.4g}), where ln(a) or ln(1 - a) of the rounded a is infinite: compute "
        "the cost from z^L instead (softplus of z^L, BCEWithLogitsLoss, log_softmax), or, if computing it "
        'from a is your design, declare capabilities["conventions"] = {"cost_from_activations": 1}'
    )


def _a_based_cost_may_be_infinite(case: Case, exp: Expected) -> bool:
    """Whether ln(a) or ln(1 - a), with a computed in the case's dtype, can be infinite on this case.

    A correct sigmoid or softmax errs by ELEMENTARY_ULPS ulps (tolerances.py), so 1 - a within
    that of 0 may round to exactly 1. At the other end, below the smallest normal number a has
    lost its relative precision, and the textbook 1 / (1 + e^-z) is exactly 0 once e^-z
    overflows (a < 1 / max, which is below the smallest normal): a few times that is the limit.
    """
    out = case.activations[-1]
    if out not in ("sigmoid", "softmax") or case.cost not in ("cross_entropy", "log_likelihood"):
        return False
    a, y = np.asarray(exp.a[-1], dtype=np.float64), np.asarray(exp.case64.y)
    info = np.finfo(case.dtype)
    near_zero = (a <= ELEMENTARY_ULPS * float(info.tiny)) & (y > 0)
    near_one = (1.0 - a <= ELEMENTARY_ULPS * UNIT_ROUNDOFF[case.dtype]) & (y < 1) if out == "sigmoid" else False
    return bool(np.any(near_zero | near_one))


def _block_after(report: CaseReport, failed: str, cause: str) -> None:
    """Every check after ``failed`` is blocked, except no_mutation, judged on the first call alone."""
    for check in CHECKS[CHECKS.index(failed) + 1 :]:
        if check != "no_mutation":
            report.add(check, None, "blocked", cause)


def _differs(
    got: Result, want: Result, exp: Expected, got_name: str, want_name: str, dtype: str, costs: bool = True
) -> str | None:
    """First disagreement between two results of the same implementation, beyond twice T.

    Each correct evaluation is within T of the exact value, in any summation order, so two of
    them differ by at most 2T.
    """
    fields: list[tuple[str, list[Array] | None, list[Array] | None, list[Array]]] = [
        ("grad_weights", got.grad_weights, want.grad_weights, exp.tol_weights),
        ("grad_biases", got.grad_biases, want.grad_biases, exp.tol_biases),
        ("deltas", got.deltas, want.deltas, exp.tol_deltas),
    ]
    for name, a_list, b_list, tols in fields:
        if a_list is None or b_list is None:
            continue
        for i, (a, b, t) in enumerate(zip(a_list, b_list, tols, strict=True)):
            mm = compare(a, b, 2 * t)
            if mm is not None:
                return (
                    f"{place(name, i, mm.index)} = {format_number(mm.actual)} with {got_name}, but "
                    f"{format_number(mm.expected)} with {want_name} (layer {i + 2}, {dtype}, "
                    "tolerance "
                    f"{mm.tolerance:.2g} on the layer's error norm, which is {mm.error:.2g})"
                )
    if costs and got.cost is not None and want.cost is not None and not (got.cost == want.cost):  # inf == inf
        mm = compare(np.asarray(got.cost), np.asarray(want.cost), 2 * exp.tol_cost)
        if mm is not None:
            return f"cost = {format_number(got.cost)} with {got_name}, but {format_number(want.cost)} with {want_name}"
    return None
