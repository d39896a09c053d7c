"""Why a check failed: the known causes a failure is tested against, and the words that name them.

A wrong result is first compared with the reference; when it fails, these functions look for a
cause that accounts for all of it, so that the report can say what to fix. Each cause is a
claim, printed only when the numbers match it tightly and a second case built to break the
coincidence confirms it (conformance.judging.factors: ``Confirmer`` asks the implementation for it);
otherwise the failure is reported by its numbers, the observed ratio among them:

* a factor (m, 1/m, n_L, 1/n_L, 2, ...: ``claim_text``), confirmed with another m and n_L;
* relu'(0) (``relu_cause``): the disagreement sits only on units of a relu layer whose
  pre-activation is exactly 0; the value used is solved for, the case re-judged under it as
  a declared convention, and the case with another m too;
* a clipped forward pass (``clip_cause``): delta^L is what a sigmoid of z^L clipped at +-t gives;
* a saturated output (``saturation_cause``, ``saturation_fit``), for the costs computed from
  the rounded a only: the disagreement sits only where the sigmoid or softmax output is within
  sqrt(u) of 0 or 1, and the case scaled to |z^L| <= 1 is right;
* torch's softplus threshold (``threshold_cause``): softplus(z) = z above z = 20, undeclared;
* for the cost, a clamped cost, eps inside its logarithms, an a-based cost (``cost_cause``);
* float64 computed in float32 (``float32_cause``): one cause for every failure of the case.

"Accounts for all of it" is tested, not assumed: with the cause removed, the layer (or the
cost) passes within its tolerance.
"""

from __future__ import annotations

import numpy as np

from conformance.errors import Unusable
from conformance.judging.factors import TIGHT, Claim, Confirmer, Observation, ratio_text
from conformance.judging.structure import Result
from conformance.judging.tolerances import (
    ELEMENTARY_ULPS,
    UNIT_ROUNDOFF,
    Expected,
    Mismatch,
    expect,
    format_number,
    norm_mismatch,
    place,
    with_dtype,
)
from reference import Case
from reference._ops import Array
from reference.activations import sigma_prime, sigmoid, softplus
from reference.costs import COST_RECORDS, cost_record

# torch's softplus threshold (F.softplus, nn.Softplus): the one tried when none is declared.
TORCH_SOFTPLUS_THRESHOLD = 20.0
# torch's BCELoss clamps each logarithm at this value.
BCE_LOG_CLAMP = -100.0
# The output and cost pairs that a cost computed from the rounded output a can break where the
# output saturates (BCELoss after Sigmoid, NLLLoss of log(softmax)): the only ones where the
# saturation advice applies. A quadratic cost has no logarithm to lose.
A_BASED_COSTS: tuple[tuple[str | None, str], ...] = tuple(
    (record.output, name) for name, record in COST_RECORDS.items() if record.logarithmic
)


def mismatch_text(field_name: str, i: int | None, mm: Mismatch, layer: int | None, what: str, dtype: str) -> str:
    """A failed comparison in words: where, what was returned, what it should be, by how much."""
    where = f"layer {layer}, " if layer is not None else ""
    # A layer is judged norm-wise over its elements; a scalar (the cost) by its own error.
    measure = "on its error" if layer is None and i is None else "on the layer's error norm"
    return (
        f"{place(field_name, i, mm.index)} = {format_number(mm.actual)}, but should be "
        f"{format_number(mm.expected)} ({where}{what}, {dtype}, tolerance {mm.tolerance:.2g} "
        f"{measure}, which is {mm.error:.2g})"
    )


# -- a factor: the reduction, the outputs, a constant ------------------------------------------


def factor(actual: Array, expected: Array, tol: Array, m: int) -> float | None:
    """m or 1/m when actual fits that multiple of expected tightly on this case alone, else None.

    Necessary, not sufficient: a factor is named only once a second case confirms it
    (conformance.judging.factors). Kept for the callers that ask the first case alone.
    """
    if m < 2:
        return None
    first = Observation(actual, expected, tol, m, 1)
    for k in (float(m), 1.0 / m):
        if first.fits(k):
            return k
    return None


def claim_text(claim: Claim, reduction: str) -> str:
    """A confirmed factor in words, with what it means in the code (factors.HYPOTHESES)."""
    meaning = {
        "m": ": the 1/m of the mean reduction is missing" if reduction == "mean" else " although the reduction is sum",
        "1/m": ": averaged although the reduction is sum" if reduction == "sum" else ": divided by m twice",
        "n_L": ": multiplied by the number of outputs",
        "1/n_L": ": divided by the number of outputs, a mean over the output units (scikit-learn's squared "
        'error, torch\'s MSELoss(reduction="mean"))',
        "m n_L": ": multiplied by the number of samples and of outputs",
        "1/(m n_L)": ": a mean over every element, samples and outputs together",
        "2": ", the same factor on every case asked",
        "1/2": ", the same factor on every case asked",
    }
    return claim.text() + meaning[claim.name]


# -- conventions: the case judged again under another one ---------------------------------------


def _judged_under(case: Case, conventions: dict[str, float]) -> Expected | None:
    """The reference's values and tolerances under other conventions (None: not judgeable)."""
    try:
        return expect(case, conventions)
    except Unusable:
        return None


def _layer_passes(exp: Expected, i: int, deltas: Array | None, grads: tuple[Array, Array] | None) -> bool:
    """True when the implementation's delta^{i+2} (or, without deltas, both gradients) pass against exp."""
    if deltas is not None:
        return norm_mismatch(deltas, exp.deltas[i], exp.tol_deltas[i]) is None
    assert grads is not None
    return (
        norm_mismatch(grads[0], exp.grad_biases[i], exp.tol_biases[i]) is None
        and norm_mismatch(grads[1], exp.grad_weights[i], exp.tol_weights[i]) is None
    )


def _number(value: float) -> str:
    """The shortest form that reads back as value: 0.5, 1, 0.333333333333."""
    text = repr(value)
    return text.removesuffix(".0")


# -- relu'(0) -------------------------------------------------------------------------------------


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


def relu_cause(
    case: Case,
    exp: Expected,
    i: int,
    deltas: Array | None,
    grads: tuple[Array, Array] | None,
    confirmer: Confirmer,
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
            if not _relu_confirmed(exp, i, candidate, confirmer, deltas is not None):
                return None
            return _relu_text(i + 2, _number(candidate), candidate, declared)
    return None


def _relu_confirmed(exp: Expected, i: int, value: float, confirmer: Confirmer, with_deltas: bool) -> bool:
    """The second case: with one more sample (the first, repeated: its exact zeros too), judged
    under relu'(0) = value, layer i + 2 passes."""
    got = confirmer.answer("m")
    if got is None or not isinstance(got[0], Result):
        return False
    result, variant = got
    in_dtype = with_dtype(variant.case64, confirmer.case.dtype)  # exact: it was built in that dtype
    again = _judged_under(in_dtype, {**exp.conventions, "relu_prime_at_zero": value})
    if again is None:
        return False
    if with_deltas:
        return result.deltas is not None and _layer_passes(again, i, result.deltas[i], None)
    return _layer_passes(again, i, None, (result.grad_biases[i], result.grad_weights[i]))


# -- saturated outputs ---------------------------------------------------------------------------


def _saturated(exp: Expected, dtype: str) -> Array | None:
    """Mask of saturated outputs: sigmoid or softmax a^L within sqrt(u) of 0 or 1, else None.

    Beyond there a formula that goes through the rounded a (a division by a (1 - a), ln(1 - a),
    a clamp) keeps less than half of its digits, and a clamp at 1e-12 or an a that rounds to 1
    loses delta^L entirely.
    """
    name = exp.case64.activations[-1]
    if (name, exp.case64.cost) not in A_BASED_COSTS or not exp.z:
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
    confirmed = "the same network with w^L and b^L scaled to |z^L| <= 1 is right"
    if unsaturated:
        plural = unsaturated > 1
        right = f"{unsaturated} unsaturated output{'s' if plural else ''} here {'are' if plural else 'is'} right"
        scope = f"where the {name} output saturates (the {right}, and {confirmed})"
    else:
        scope = f"where the {name} output saturates (every output of this case is saturated; {confirmed})"
    cure = "BCEWithLogitsLoss, or softplus of z^L" if name == "sigmoid" else "log_softmax of z^L with NLLLoss"
    return (
        f"the disagreement sits only {scope}: delta^L[{', '.join(map(str, index))}] = {format_number(got)} at "
        f"z^L = {z:.4g}, where it should be {format_number(want)}; a cost computed from the rounded output a "
        "loses delta^L there: clamped (BCELoss after Sigmoid clamps ln at -100 and divides by "
        "max(a (1 - a), 1e-12)) or a-based (-[y ln a + (1 - y) ln(1 - a)] differentiated through a); "
        f"compute the cost from z^L instead ({cure})"
    )


def _output_deltas(result: Result, exp: Expected) -> tuple[Array, Array, Array] | None:
    return None if result.deltas is None else (result.deltas[-1], exp.deltas[-1], exp.tol_deltas[-1])


def _output_gradients(result: Result, exp: Expected) -> tuple[Array, Array, Array]:
    """Both gradients of the output layer as one array (judged together, as one layer)."""
    return (
        np.concatenate([result.grad_biases[-1], np.ravel(result.grad_weights[-1])]),
        np.concatenate([exp.grad_biases[-1], np.ravel(exp.grad_weights[-1])]),
        np.concatenate([exp.tol_biases[-1], np.ravel(exp.tol_weights[-1])]),
    )


def saturation_cause(
    exp: Expected, dtype: str, actual: Array, expected: Array, tol: Array, confirmer: Confirmer
) -> str | None:
    """The saturation text when delta^L is wrong only at saturated outputs, and right on the
    case with its outputs unsaturated (the claim's second case), else None."""
    mask = _saturated(exp, dtype)
    if mask is None:
        return None
    off = ~mask
    if off.any() and norm_mismatch(actual[off], expected[off], tol[off]) is not None:
        return None
    if not confirmer.passes_unsaturated(exp, _output_deltas):
        return None
    wrong = np.where(mask, np.abs(np.asarray(actual, dtype=np.float64) - expected), -1.0)
    index = tuple(int(k) for k in np.unravel_index(int(np.argmax(wrong)), wrong.shape))
    return _saturation_text(exp, mask, index, float(actual[index]), float(expected[index]))


class _TooManyUnknowns(Exception):
    """More saturated samples of one output than the output layer's gradients have equations."""


def _fit_change(exp: Expected, mask: Array, grad_b: Array, grad_w: Array) -> Array | None:
    """The change of delta^L at the masked outputs that explains both output gradients, or None.

    Per output unit j, the unknown changes at its saturated samples are fitted to dC/db_j and
    dC/dw_j by least squares; the fit must have fewer unknowns than equations (otherwise any
    change of the gradients could be fitted: _TooManyUnknowns), and the refitted gradients
    must then pass within their tolerances.
    """
    i = len(exp.case64.weights) - 1
    a_prev, scale = exp.a[i], exp.scale
    change = np.zeros_like(exp.deltas[i])
    for j in range(mask.shape[1]):
        rows = np.flatnonzero(mask[:, j])
        if rows.size == 0:
            continue
        if rows.size >= 1 + a_prev.shape[1]:
            raise _TooManyUnknowns
        system = scale * np.vstack([np.ones(rows.size), a_prev[rows].T])
        target = np.concatenate([[grad_b[j] - exp.grad_biases[i][j]], grad_w[j] - exp.grad_weights[i][j]])
        if not np.isfinite(target).all():
            return None
        change[rows, j] = np.linalg.lstsq(system, target, rcond=None)[0]
    fitted_b = exp.grad_biases[i] + scale * change.sum(axis=0)
    fitted_w = exp.grad_weights[i] + scale * (change.T @ a_prev)
    if norm_mismatch(grad_b, fitted_b, exp.tol_biases[i]) is not None or norm_mismatch(
        grad_w, fitted_w, exp.tol_weights[i]
    ):
        return None
    return change


def _fit_per_sample(exp: Expected, mask: Array, confirmer: Confirmer) -> Array | None:
    """The same fit, one sample at a time: each sample asked alone (a second case each), where a
    batch has more saturated samples than equations. Every sample must fit, or be right."""
    change = np.zeros_like(exp.deltas[-1])
    for s in range(mask.shape[0]):
        got = confirmer.answer(f"sample {s}")
        if got is None or not isinstance(got[0], Result):
            return None
        result, alone = got
        try:
            one = _fit_change(alone, mask[s : s + 1], result.grad_biases[-1], result.grad_weights[-1])
        except _TooManyUnknowns:
            return None
        if one is None:
            return None
        change[s] = one[0]
    return change


def saturation_fit(exp: Expected, dtype: str, grad_b: Array, grad_w: Array, confirmer: Confirmer) -> str | None:
    """Without deltas: the saturation text when a change of delta^L at saturated outputs only
    explains both gradients (``_fit_change``; per sample where the batch has too many unknowns),
    and the case with unsaturated outputs is right."""
    mask = _saturated(exp, dtype)
    if mask is None:
        return None
    try:
        change = _fit_change(exp, mask, grad_b, grad_w)
    except _TooManyUnknowns:
        change = _fit_per_sample(exp, mask, confirmer)
    if change is None or not confirmer.passes_unsaturated(exp, _output_gradients):
        return None
    i = len(exp.case64.weights) - 1
    index = tuple(int(k) for k in np.unravel_index(int(np.argmax(np.abs(change))), change.shape))
    want = float(exp.deltas[i][index])
    text = _saturation_text(exp, mask, index, want + float(change[index]), want)
    return text.replace(f"delta^L[{', '.join(map(str, index))}] = ", f"delta^L[{', '.join(map(str, index))}] ~ ", 1)


# -- torch's softplus threshold ------------------------------------------------------------------


def threshold_text(what: str) -> str:
    t = f"{TORCH_SOFTPLUS_THRESHOLD:g}"
    return (
        f"{what} is right when softplus is z itself above z = {t}, as torch's F.softplus and nn.Softplus "
        f"make it (a deviation of log1p(e^-z), 2e-9 at z = {t}): a documented convention; declare it: "
        f'capabilities["conventions"] = {{"softplus_threshold": {t}}}, or compute ln(1 + e^z) everywhere '
        "(torch.logaddexp(z, 0))"
    )


def under_torch_threshold(case: Case, exp: Expected) -> Expected | None:
    """The case judged under torch's softplus threshold, when none is declared and it changes something."""
    if "softplus_threshold" in exp.conventions or not any(
        name == "softplus" and bool((z > TORCH_SOFTPLUS_THRESHOLD).any())
        for name, z in zip(exp.case64.activations, exp.z, strict=False)
    ):
        return None
    return _judged_under(case, {**exp.conventions, "softplus_threshold": TORCH_SOFTPLUS_THRESHOLD})


def threshold_cause(
    case: Case, exp: Expected, i: int, deltas: Array | None, grads: tuple[Array, Array] | None
) -> str | None:
    """The softplus-threshold text when torch's threshold, undeclared, explains layer i + 2, else None.

    Tried only where it changes something: no threshold declared, and a softplus
    pre-activation above torch's 20 somewhere in the case. The layer must pass when the
    case is judged again under that threshold.
    """
    again = under_torch_threshold(case, exp)
    if again is None or not _layer_passes(again, i, deltas, grads):
        return None
    return threshold_text(f"layer {i + 2}")


# -- a layer's cause ------------------------------------------------------------------------------


# The clips of z^L tried (a guard against overflow in exp: +-20 most often).
CLIPS = (20.0, 15.0, 30.0, 40.0, 50.0)


def _clipped_deltas(exp: Expected, t: float) -> list[Array]:
    """delta^L of a sigmoid output computed from z^L clipped at +-t, as code does it: from the
    clipped a, with sigma' at z, at the clipped z, or 0 beyond the clip (autograd through clip)."""
    c = exp.case64
    z, y = exp.z[-1], c.y
    a = sigmoid(np.clip(z, -t, t))
    closed_form = cost_record(c.cost).closed_form
    if closed_form is not None:  # with a sigmoid output: cross_entropy's a - y
        return [closed_form(a - y, a, y)]
    beyond = np.abs(z) > t
    prime = sigma_prime("sigmoid", z)
    return [
        (a - y) * prime,
        (a - y) * sigma_prime("sigmoid", np.clip(z, -t, t)),
        np.where(beyond, 0.0, (a - y) * prime),
    ]


def clip_cause(exp: Expected, deltas: Array, confirmer: Confirmer) -> str | None:
    """The clipping text when delta^L is what a sigmoid of z^L clipped at +-t gives, else None.

    A claim about values, not places: the deltas must match the clipped computation within the
    layer's tolerance, that computation must differ from the right one by more than it (else the
    clip changes nothing), and the same network scaled to |z^L| <= 1 must be right.
    """
    if exp.case64.activations[-1] != "sigmoid" or not exp.z:
        return None
    expected, tol = exp.deltas[-1], exp.tol_deltas[-1]
    for t in CLIPS:
        if not bool((np.abs(exp.z[-1]) > t).any()):
            continue
        for predicted in _clipped_deltas(exp, t):
            if norm_mismatch(predicted, expected, tol) is None or norm_mismatch(deltas, predicted, tol) is not None:
                continue
            if not confirmer.passes_unsaturated(exp, _output_deltas):
                return None
            return (
                f"delta^L is what the sigmoid of z^L clipped at +-{t:g} gives (|z^L| up to "
                f"{float(np.max(np.abs(exp.z[-1]))):.4g}; the same network scaled to |z^L| <= 1 is right): "
                "the forward pass is clipped"
            )
    return None


def delta_cause(case: Case, exp: Expected, i: int, deltas: Array, confirmer: Confirmer) -> str | None:
    """Why delta^{i+2} is wrong, when a known cause explains all of it (module docstring)."""
    cause = relu_cause(case, exp, i, deltas, None, confirmer)
    if cause is None and i == len(case.weights) - 1:
        cause = clip_cause(exp, deltas, confirmer)
        cause = cause or saturation_cause(exp, case.dtype, deltas, exp.deltas[i], exp.tol_deltas[i], confirmer)
    return cause or threshold_cause(case, exp, i, deltas, None)


def gradients_cause(case: Case, exp: Expected, i: int, res: Result, confirmer: Confirmer) -> str | None:
    """Without deltas: the known cause that explains layer i + 2's gradients, else None."""
    grads = (res.grad_biases[i], res.grad_weights[i])
    cause = relu_cause(case, exp, i, None, grads, confirmer)
    if cause is None and i == len(case.weights) - 1:
        cause = saturation_fit(exp, case.dtype, *grads, confirmer)
    return cause or threshold_cause(case, exp, i, None, grads)


# -- the cost: clamped, a-based -------------------------------------------------------------------


def clamped_costs(exp: Expected, dtype: str) -> list[float]:
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


def rounded_output_hint(case: Case, exp: Expected) -> str:
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


def a_based_cost_may_be_infinite(case: Case, exp: Expected) -> bool:
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


def costs_comparable(conventions: dict[str, float], case: Case, exp: Expected) -> bool:
    """False where a declared a-based cost may be infinite (its values then say nothing)."""
    return not (conventions.get("cost_from_activations") == 1.0 and a_based_cost_may_be_infinite(case, exp))


def _cost_values(result: Result, exp: Expected) -> tuple[Array, Array, Array] | None:
    if result.cost is None or not np.isfinite(result.cost):
        return None
    return np.asarray(result.cost), np.asarray(exp.cost), np.asarray(exp.tol_cost)


def clamp_cause(case: Case, exp: Expected, cost: float, confirmer: Confirmer) -> str:
    """The clamped-logarithm text when the cost is BCELoss's clamped value, else "".

    A claim like any other (conformance.judging.factors): the cost must match the clamped value within
    its tolerance, that tolerance must be a small part (TIGHT) of how far the clamped value lies
    from the exact one (else "clamped" and "exact" cannot be told apart, as when a cost of 107.4
    was called clamped at 285.98), and the case with unsaturated outputs must be right.
    """
    tol = float(exp.tol_cost)
    for clamped in clamped_costs(exp, case.dtype):
        if abs(cost - clamped) > tol or not tol <= TIGHT * abs(clamped - exp.cost):
            continue
        if not confirmer.passes_unsaturated(exp, _cost_values):
            return ""
        z_max = float(np.max(np.abs(exp.z[-1])))
        return (
            f"; it is the cost with every logarithm clamped at {BCE_LOG_CLAMP:g} ({format_number(clamped)}), "
            f"as BCELoss after Sigmoid computes it from the rounded output a: the output saturates "
            f"(|z^L| up to {z_max:.4g}; the same network with |z^L| <= 1 is right); compute the cost from z^L "
            "instead (BCEWithLogitsLoss, or softplus of z^L)"
        )
    return ""


def _huge(cost: float, dtype: str) -> bool:
    """Infinite, NaN, or the largest float's neighbourhood (nan_to_num's stand-in for infinity)."""
    return not np.isfinite(cost) or abs(cost) >= 0.5 * float(np.finfo(dtype).max)


def a_based_hint(case: Case, exp: Expected, cost: float, confirmer: Confirmer) -> str:
    """``rounded_output_hint`` where it is true, else "".

    The claim: the cost is computed from the rounded a. So the cost is infinite (or the largest
    float) here, where the output rounds to 0 or 1; it is right on the case with unsaturated
    outputs; and, for a sigmoid output, it is infinite again on the case scaled to where a
    rounds to 1 while e^z is finite (``factors.ROUNDS_TO_ONE``), which a cost computed from z
    that overflows e^z (ln(1 + e^z) taken naively) is not.
    """
    hint = rounded_output_hint(case, exp) if _huge(cost, case.dtype) else ""
    if not hint or not confirmer.passes_unsaturated(exp, _cost_values):
        return ""
    if case.activations[-1] == "sigmoid":
        again = confirmer.cost_when_rounded(exp)
        if again is None or not _huge(again, case.dtype):
            return ""
    return hint


# The eps that code adds inside a logarithm of a (or clips a to [eps, 1 - eps] with): Keras's
# 1e-7 and the usual others.
LOG_EPSILONS = (1e-7, 1e-8, 1e-9, 1e-10, 1e-12, 1e-15, 1e-6, 1e-5)


def _eps_costs(exp: Expected, eps: float) -> dict[str, float]:
    """The cost with eps inside each logarithm, and with a clipped to [eps, 1 - eps], from the exact a."""
    c = exp.case64
    out = c.activations[-1]
    if (out, c.cost) not in A_BASED_COSTS or not exp.z:
        return {}
    y, a = c.y, exp.a[-1]
    if out == "sigmoid":
        not_a = sigmoid(-exp.z[-1])  # 1 - a without cancellation

        def total(log_a: Array, log_not_a: Array) -> float:
            return float(-exp.scale * np.sum(y * log_a + (1 - y) * log_not_a))

        added = total(np.log(a + eps), np.log(not_a + eps))
        clipped = total(np.log(np.clip(a, eps, 1 - eps)), np.log(np.clip(not_a, eps, 1 - eps)))
    else:
        added = float(-exp.scale * np.sum(y * np.log(a + eps)))
        clipped = float(-exp.scale * np.sum(y * np.log(np.clip(a, eps, 1 - eps))))
    return {"added inside each logarithm": added, "clipped to [eps, 1 - eps] before each logarithm": clipped}


def _eps_fits(exp: Expected, cost: float | None, eps: float, how: str) -> bool:
    """The cost is the eps one within its tolerance, and that one is far from the exact cost (TIGHT)."""
    predicted = _eps_costs(exp, eps).get(how)
    if cost is None or predicted is None:
        return False
    tol = float(exp.tol_cost)
    return abs(cost - predicted) <= tol and tol <= TIGHT * abs(predicted - exp.cost)


def eps_cause(case: Case, exp: Expected, cost: float, confirmer: Confirmer) -> str:
    """The eps text when the cost is the a-based one with eps inside its logarithms, here and on
    the case with another m; else ""."""
    for eps in LOG_EPSILONS:
        for how in _eps_costs(exp, eps):
            if not _eps_fits(exp, cost, eps, how):
                continue
            got = confirmer.answer("m")
            if got is None or not _eps_fits(got[1], getattr(got[0], "cost", None), eps, how):
                return ""
            return (
                f"; it is the cost with a {how}, eps = {eps:g} (here and on the case with another m): "
                "compute the cost from z^L (softplus of z^L, log_softmax) and leave eps out"
            )
    return ""


def cost_cause(case: Case, exp: Expected, cost: float, confirmer: Confirmer) -> str:
    """What explains a wrong cost, as the end of its message ("; ..."); where no known cause
    does, the observed ratio to the expected value."""
    first = Observation(np.asarray(cost), np.asarray(exp.cost), np.asarray(exp.tol_cost), case.m, case.sizes[-1])
    claim = confirmer.claim(first, _cost_values)
    if claim is not None:
        return f"; it is {claim_text(claim, case.reduction)}"
    clamped = clamp_cause(case, exp, cost, confirmer) or eps_cause(case, exp, cost, confirmer)
    if clamped:
        return clamped
    again = under_torch_threshold(case, exp)
    if again is not None and norm_mismatch(np.asarray(cost), np.asarray(again.cost), again.tol_cost) is None:
        return "; " + threshold_text("the cost")
    return a_based_hint(case, exp, cost, confirmer) or ratio_text(first)


# -- float64 computed in float32 ------------------------------------------------------------------


def _float32_numbers(result: Result) -> bool:
    """Every returned value is a finite float32 number: looked at first, as it needs no reference values."""
    arrays = [*result.grad_weights, *result.grad_biases, *(result.deltas or [])]
    if result.cost is not None:
        arrays.append(np.asarray(result.cost))
    for actual in arrays:
        values = np.asarray(actual, dtype=np.float64)
        with np.errstate(over="ignore"):  # beyond float32's range: not a float32 number
            as_float32 = values.astype(np.float32)
        if not np.isfinite(values).all() or not np.array_equal(as_float32, values):
            return False
    return True


def _float32_accurate(result: Result, exp32: Expected) -> bool:
    """Every returned value (float32 numbers, ``_float32_numbers``) within the float32 tolerances of exp32."""
    pairs = [
        *zip(result.grad_weights, exp32.grad_weights, exp32.tol_weights, strict=True),
        *zip(result.grad_biases, exp32.grad_biases, exp32.tol_biases, strict=True),
    ]
    if result.deltas is not None:
        pairs += list(zip(result.deltas, exp32.deltas, exp32.tol_deltas, strict=True))
    if result.cost is not None:
        pairs.append((np.asarray(result.cost), np.asarray(exp32.cost), np.asarray(exp32.tol_cost)))
    return all(norm_mismatch(np.asarray(a, dtype=np.float64), e, t) is None for a, e, t in pairs)


def float32_cause(
    case: Case, exp: Expected, result: Result, conventions: dict[str, float], confirmer: Confirmer
) -> bool:
    """Whether a failing float64 answer is float32 arithmetic (``FLOAT32_PRECISION``).

    The claim is sharp: a float64 computation returns a float32 number by chance with
    probability 2^-29 per element, and the answer must also be as accurate as a correct
    float32 implementation on the inputs rounded to float32 (tolerances.py, with u32); a real
    bug small enough to hide under float32's tolerance (a sigmoid clipped at 20, 2e-9) returns
    float64 numbers. Confirmed on the case with another m, asked only when the first case
    fits: almost every failing float64 case returns float64 numbers, and asking first cost every
    such case a call and the reference's values on the second case for nothing.
    """
    if case.dtype != "float64" or not _float32_on(exp, result, conventions):
        return False
    got = confirmer.answer("m")
    return got is not None and isinstance(got[0], Result) and _float32_on(got[1], got[0], conventions)


def _float32_on(exp64: Expected, result: Result, conventions: dict[str, float]) -> bool:
    """The answer on the float64 case whose reference values are ``exp64`` (``exp64.case64``) is float32
    arithmetic: float32 numbers, as accurate as float32 allows on the case in float32."""
    if not _float32_numbers(result):
        return False
    try:
        exp32 = expect(with_dtype(exp64.case64, "float32"), conventions)
    except (Unusable, ValueError):
        return False
    # No evidence where the exact answer is itself float32 numbers (zero gradients: softmax with
    # n_L = 1, a case made of small integers): float64 code returns them too. Seen in CI, where a
    # timeout on such a case was named "float64 computed in float32".
    exact = Result(exp64.grad_weights, exp64.grad_biases, exp64.deltas, exp64.cost)
    return not _float32_numbers(exact) and _float32_accurate(result, exp32)
