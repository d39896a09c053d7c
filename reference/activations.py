"""The activation functions sigma and their derivatives sigma_prime.

Every formula is written so that pre-activations of +-1000 stay finite and
raise no numpy warning: exponentials are only ever taken of numbers whose real
part is <= 0. The derivatives are evaluated from z itself (not from a = sigma(z))
because 1 - a loses all relative precision once sigma saturates, and a
saturated layer's gradient must still be exact to the last bits.

softmax is the one activation that couples the units of a layer; its
derivative is a Jacobian, not an elementwise factor, so equation 1 applies it
as a Jacobian-vector product (see ``equations.equation_1``).

Conventions. Two choices that libraries make differently are parameters here, with
the contract's defaults: relu'(0) (``relu_prime_at_zero``, default 0: any value in
[0, 1] is a subgradient; HIPS autograd's ``np.maximum`` gives 0.5) and a softplus that
is the identity above a threshold (``softplus_threshold``, default None: none; torch's
``F.softplus`` switches at z > 20). ``sigma``, ``sigma_prime`` and ``sigma_and_prime``
take them as a ``conventions`` mapping; without one (or empty) they run the default code
unchanged, so the default path costs one truth test.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from types import MappingProxyType

import numpy as np

from . import _ops
from ._ops import Array


def _folded(z: Array) -> tuple[Array, Array]:
    """Return (positive, s) with s = -|z| taken on the real part: exp(s) can never overflow."""
    positive = _ops.real(z) >= 0
    return positive, np.where(positive, -z, z)


def sigmoid(z: Array) -> Array:
    if z.dtype.kind == "f":
        # 1 / (1 + e^{-z}) is accurate to a few ulps for every real z; for z < -709, e^{-z}
        # overflows to inf and the result is the correctly rounded 0, so the overflow is benign.
        with np.errstate(over="ignore"):
            e = np.exp(-z)
            e += 1.0
            return np.reciprocal(e, out=e)
    positive, s = _folded(z)
    e = _ops.exp(s)  # e = exp(-|z|) in (0, 1]
    one = _ops.const(z, 1.0)
    return np.where(positive, one, e) / (one + e)


def sigmoid_prime(z: Array) -> Array:
    # sigma'(z) = e^{-|z|} / (1 + e^{-|z|})^2: sigma' is even, and this form has no cancellation.
    if z.dtype.kind == "f":
        e = np.abs(z)
        np.negative(e, out=e)
        np.exp(e, out=e)
        d = e + 1.0
        d *= d
        e /= d
        return e
    _, s = _folded(z)
    e = _ops.exp(s)
    one = _ops.const(z, 1.0)
    return e / ((one + e) * (one + e))


def tanh(z: Array) -> Array:
    if _ops.is_mp(z):
        # tanh(z) = (1 - e^{-2|z|}) / (1 + e^{-2|z|}) * sign(z)
        positive, s = _folded(z)
        e = _ops.exp(s + s)
        one = _ops.const(z, 1.0)
        t = (one - e) / (one + e)
        return np.where(positive, t, -t)
    return np.tanh(z)


def tanh_prime(z: Array) -> Array:
    # tanh'(z) = sech^2(z) = 4 e^{-2|z|} / (1 + e^{-2|z|})^2, not 1 - tanh^2 (which rounds to 0 at |z| > 19).
    _, s = _folded(z)
    e = _ops.exp(s + s)
    one = _ops.const(z, 1.0)
    return _ops.const(z, 4.0) * e / ((one + e) * (one + e))


def relu(z: Array) -> Array:
    return np.where(_ops.real(z) > 0, z, z * _ops.const(z, 0.0))


def relu_prime(z: Array, at_zero: float = 0.0) -> Array:
    """1 for z > 0, 0 for z < 0, and ``at_zero`` at z = 0 (the contract's default 0, like PyTorch's)."""
    below = _ops.const(z, 0.0)
    if at_zero != 0.0:
        below = np.where(_ops.real(z) == 0, _ops.const(z, at_zero), below)
    return np.where(_ops.real(z) > 0, _ops.const(z, 1.0), below)


def identity(z: Array) -> Array:
    return z


def identity_prime(z: Array) -> Array:
    return np.ones_like(z) if not _ops.is_mp(z) else np.full(z.shape, _ops.const(z, 1.0), dtype=object)


def softplus(z: Array, threshold: float | None = None) -> Array:
    """ln(1 + e^z); with a ``threshold``, z itself where z > threshold (torch's convention)."""
    # ln(1 + e^z) = max(z, 0) + ln(1 + e^{-|z|})
    positive, s = _folded(z)
    value = np.where(positive, z, z * _ops.const(z, 0.0)) + _ops.log1p(_ops.exp(s))
    return value if threshold is None else np.where(_ops.real(z) > threshold, z, value)


def softplus_prime(z: Array, threshold: float | None = None) -> Array:
    """sigmoid(z); with a ``threshold``, exactly 1 where z > threshold (the linear branch's slope)."""
    if threshold is None:
        return sigmoid(z)
    return np.where(_ops.real(z) > threshold, _ops.const(z, 1.0), sigmoid(z))


def softmax(z: Array) -> Array:
    """Row-wise softmax (one sample per row); the shift uses the real part so complex steps pass through."""
    shift = np.max(_ops.real(z), axis=1, keepdims=True)
    e = _ops.exp(z - shift)
    return e / e.sum(axis=1, keepdims=True)


def softmax_jacobian_t_dot(a: Array, g: Array) -> Array:
    """(da/dz)^T g for softmax, row by row.

    J = diag(a) - a a^T is symmetric, so J^T g = a (.) (g - <a, g>). When one unit dominates,
    g - <a, g> cancels; with sum_k a_k = 1 it equals (g - g_top) - sum_k a_k (g_k - g_top), whose
    sum is of small terms only.
    """
    top = np.argmax(_ops.real(a), axis=1)[:, None]
    centred = g - np.take_along_axis(g, top, axis=1)
    return a * (centred - (a * centred).sum(axis=1, keepdims=True))


def log_softmax(z: Array) -> Array:
    """ln softmax(z) = (z - max) - ln(1 + sum of the other e^(z_k - max)).

    Never forms ln of an underflowed a_j, and log1p keeps full precision when one unit dominates
    (C = 6e-6 would otherwise lose 1e-11 relative to the rounding of 1 + 6e-6).
    """
    top = np.argmax(_ops.real(z), axis=1)[:, None]
    is_top = np.arange(z.shape[1])[None, :] == top
    shifted = z - np.take_along_axis(z, top, axis=1)  # any shift cancels, a complex one included
    e = _ops.exp(shifted)
    rest = np.sum(np.where(is_top, e * _ops.const(z, 0.0), e), axis=1, keepdims=True)
    return shifted - _ops.log1p(rest)


@dataclass(frozen=True)
class Activation:
    """One activation and the facts every layer needs about it, kept together.

    The other layers keep their own tables where they must (SymPy expressions, the PyTorch
    adapter, the Node example, the golden vectors' recipes); tests/test_activation_tables.py
    fails when one of them misses an activation listed here. The bounds feed the rounding-error
    model in conformance/judging/tolerances.py; None where the activation is not elementwise (softmax
    enters equation 1 through its Jacobian, and the error model treats it separately).
    """

    name: str
    sigma: Callable[[Array], Array]
    sigma_prime: Callable[[Array], Array] | None  # None: no elementwise derivative (a Jacobian)
    output_only: bool = False  # allowed in the output layer only
    bounded: bool = False  # |sigma(z)| <= 1 for every z: the residual a - y may go through 1 - a
    nonnegative: bool = False  # sigma(z) >= 0 for every z
    kinks: tuple[float, ...] = ()  # the z where sigma' jumps (a convention picks sigma' there)
    lipschitz: float | None = None  # max |sigma'| over the real line: how a z error moves a
    second_derivative: float | None = None  # max |sigma''| over the real line: how it moves sigma'
    # The size of the quantities sigma' may be built from (s(1 - s), 1 - t^2): an absolute error
    # of a few u times this, even where sigma' itself is tiny. 0: sigma' is exact.
    prime_scale: float | None = None
    # |sigma(z)| <= |z| + growth for every real z, where sigma is not bounded (relu and identity: 0,
    # softplus: ln 2, at most 1 for every record); None where it is bounded or not elementwise. The
    # prepared pass bounds ||a^l|| by ||z^l|| with it (``prepared._scalar_certificate``).
    growth: float | None = None

    @property
    def elementwise(self) -> bool:
        """sigma acts on each unit alone, so sigma'(z) is a factor, not a Jacobian."""
        return self.sigma_prime is not None


ACTIVATION_RECORDS: Mapping[str, Activation] = MappingProxyType(
    {
        record.name: record
        for record in (
            Activation(
                "sigmoid",
                sigmoid,
                sigmoid_prime,
                nonnegative=True,
                bounded=True,
                lipschitz=0.25,  # sigma'(0) = 1/4
                second_derivative=0.0963,  # max |s(1 - s)(1 - 2s)| = 1 / (6 sqrt 3)
                prime_scale=1.0,  # s(1 - s)
            ),
            Activation(
                "tanh",
                tanh,
                tanh_prime,
                bounded=True,
                lipschitz=1.0,  # tanh'(0) = 1
                second_derivative=0.7699,  # max |2t(1 - t^2)| = 4 / (3 sqrt 3)
                prime_scale=1.0,  # 1 - t^2
            ),
            Activation(
                "relu",
                relu,
                relu_prime,
                nonnegative=True,
                kinks=(0.0,),
                lipschitz=1.0,  # relu' is 0 or 1
                second_derivative=0.0,  # piecewise constant away from 0 (see tolerances.ambiguous_kink)
                prime_scale=0.0,  # relu' is exact
                growth=0.0,  # relu(z) is z or 0
            ),
            Activation(
                "identity",
                identity,
                identity_prime,
                lipschitz=1.0,  # identity' = 1
                second_derivative=0.0,
                prime_scale=0.0,  # identity' is exact
                growth=0.0,
            ),
            Activation(
                "softplus",
                softplus,
                softplus_prime,
                nonnegative=True,
                lipschitz=1.0,  # softplus' = sigmoid, which tends to 1
                second_derivative=0.25,  # softplus'' = sigmoid'
                prime_scale=1.0,  # softplus' = sigmoid, of size 1
                growth=0.6931471805599453,  # softplus(z) = max(z, 0) + ln(1 + e^{-|z|}) <= |z| + ln 2
            ),
            Activation("softmax", softmax, None, output_only=True, bounded=True, nonnegative=True),
        )
    }
)
"""Every activation by name, in the order the suite lists them."""

ACTIVATIONS: tuple[str, ...] = tuple(ACTIVATION_RECORDS)
OUTPUT_ONLY: frozenset[str] = frozenset(n for n, r in ACTIVATION_RECORDS.items() if r.output_only)
# Outputs bounded by 1 in magnitude, whatever z is.
BOUNDED: frozenset[str] = frozenset(n for n, r in ACTIVATION_RECORDS.items() if r.bounded)


def kinks_of(activations: tuple[str, ...] | list[str]) -> list[tuple[int, float]]:
    """(index into activations, kink point) for every kink of every layer: where C stops being
    smooth in z, which gradient checks probe for and the suite will not judge a case beside."""
    return [(i, k) for i, name in enumerate(activations) for k in ACTIVATION_RECORDS[name].kinks]


# Below these z, e^{-z} overflows (float64: e^709.78; float32: e^88.72); margin of one unit.
_EXP_SAFE: dict[str, float] = {"d": -708.0, "f": -87.0}


def _conventional(name: str, conventions: Mapping[str, float] | None) -> bool:
    """True when a declared convention changes this activation (else the default code runs)."""
    if not conventions:
        return False
    if name == "relu":
        return conventions.get("relu_prime_at_zero", 0.0) != 0.0
    return name == "softplus" and conventions.get("softplus_threshold") is not None


def sigma_and_prime(name: str, z: Array, conventions: Mapping[str, float] | None = None) -> tuple[Array, Array | None]:
    """(sigma(z), sigma'(z)) together: the forward pass keeps sigma'(z^l) for equations 1 and 2.

    For real sigmoid and softplus the derivative comes from one e = exp(-|z|), with r = 1 / (1 + e):
    sigmoid'(z) = e r^2; softplus(z) = max(z, 0) + log1p(e) and softplus'(z) = r or e r (z >= 0
    or not). The first element is always bit for bit ``sigma(name, z, conventions)``, so the
    engine's forward-only views agree exactly with its full pass. softmax has no elementwise
    derivative: None. ``conventions``: see the module docstring.
    """
    if _conventional(name, conventions):
        return sigma(name, z, conventions), sigma_prime(name, z, conventions)
    if name == "softmax":
        return softmax(z), None
    safe = _sigmoid_and_complement(z) if name == "sigmoid" else None
    if safe is not None:
        a, e = safe  # e = e sigma = 1 - sigma, then sigma' = (e sigma) sigma
        e *= a
        return a, e
    if z.dtype.kind == "f" and name in ("sigmoid", "softplus"):
        # In place where possible: at large sizes every fresh array costs page faults.
        e = np.abs(z)
        np.negative(e, out=e)
        np.exp(e, out=e)  # e = exp(-|z|)
        r = e + 1.0
        np.reciprocal(r, out=r)  # r = sigma(|z|)
        if name == "sigmoid":
            e *= r
            e *= r  # sigma'(z) = e r^2
            return sigmoid(z), e  # a exactly as sigma(z) rounds it: a forward-only pass gives the same a^l
        logistic = e * r  # sigma(-|z|), then sigma(z) = softplus'(z)
        np.copyto(logistic, r, where=z >= 0)
        np.log1p(e, out=e)
        e += np.maximum(z, 0.0)  # softplus(z) = max(z, 0) + log1p(exp(-|z|))
        return e, logistic
    return sigma(name, z), sigma_prime(name, z)


def _sigmoid_and_complement(z: Array) -> tuple[Array, Array] | None:
    """(sigma(z), 1 - sigma(z)) for a real sigmoid layer whose e = e^{-z} cannot overflow; None otherwise.

    sigma = 1 / (1 + e), bit for bit ``sigmoid(z)``, and 1 - sigma = e sigma, in [0, 1]: no
    cancellation, no underflow. sigma' = (e sigma) sigma multiplies it once more.
    """
    if z.dtype.kind != "f" or not (z.size == 0 or z.min() > _EXP_SAFE[z.dtype.char]):
        return None
    e = np.exp(-z)
    a = e + 1.0
    np.reciprocal(a, out=a)
    e *= a
    return a, e


def sigma_prime_and_complement(
    name: str, z: Array, conventions: Mapping[str, float] | None = None
) -> tuple[Array, Array | None, Array | None]:
    """``sigma_and_prime``'s (sigma(z), sigma'(z)), bit for bit, and 1 - sigma(z) where the same
    exponentials give it (a real sigmoid layer on the guarded range; None elsewhere).

    The output layer's residual a^L - y is formed from that complement (``costs.residual``) rather
    than from a second exponential of z^L. Sigmoid has no convention, so ``conventions`` only
    reaches the other activations.
    """
    safe = _sigmoid_and_complement(z) if name == "sigmoid" else None
    if safe is None:
        return (*sigma_and_prime(name, z, conventions), None)
    a, complement = safe
    return a, complement * a, complement


def sigma_and_complement(
    name: str, z: Array, conventions: Mapping[str, float] | None = None
) -> tuple[Array, Array | None]:
    """(sigma(z), 1 - sigma(z) or None): ``sigma_prime_and_complement`` without sigma', for a
    forward-only pass whose C must be bit for bit the full pass's."""
    safe = _sigmoid_and_complement(z) if name == "sigmoid" else None
    return (sigma(name, z, conventions), None) if safe is None else safe


def sigma(name: str, z: Array, conventions: Mapping[str, float] | None = None) -> Array:
    """a = sigma(z) for the activation called ``name``, under ``conventions`` (module docstring)."""
    if conventions and name == "softplus":
        return softplus(z, conventions.get("softplus_threshold"))
    return ACTIVATION_RECORDS[name].sigma(z)


def sigma_prime(name: str, z: Array, conventions: Mapping[str, float] | None = None) -> Array:
    """sigma'(z), elementwise. softmax has no elementwise derivative: use softmax_jacobian_t_dot."""
    if conventions and name == "relu":
        return relu_prime(z, conventions.get("relu_prime_at_zero", 0.0))
    if conventions and name == "softplus":
        return softplus_prime(z, conventions.get("softplus_threshold"))
    prime = ACTIVATION_RECORDS[name].sigma_prime
    if prime is None:
        raise ValueError(
            f"{name} has no elementwise derivative; equation 1 applies its Jacobian through softmax_jacobian_t_dot"
        )
    return prime(z)
