"""Activations and costs in SymPy, each twice: as a definition and as the closed-form derivative
the equations use.

The definitions (``sigma``, ``cost``) are what the chain rule differentiates. The formulas
(``sigma_prime``, ``softmax_jacobian``, ``grad_a``, ``closed_output_error``) are written by hand,
the way the seed and the engine state them, and never obtained from ``diff``: a proof compares
the two, so the hand-written derivatives are themselves proven on the way.
"""

from __future__ import annotations

from collections.abc import Sequence

import sympy as sp
from sympy import Expr


def generic_sigma(layer: int) -> sp.FunctionClass:
    """An undefined, per-layer sigma_l: a proof through it holds for every differentiable function."""
    return sp.Function(f"sigma_{layer}", real=True)


def _sigmoid(t: Expr) -> Expr:
    return 1 / (1 + sp.exp(-t))


def _relu(t: Expr) -> Expr:
    # Branchwise: SymPy differentiates a Piecewise branch by branch, which yields relu'(0) = 0 on
    # the branch t <= 0, the engine's convention; relu has no derivative at 0 itself.
    return sp.Piecewise((sp.Integer(0), t <= 0), (t, True))


def sigma(name: str, layer: int, z: Sequence[Expr]) -> list[Expr]:
    """a^l = sigma(z^l) for the whole layer (softmax couples the units)."""
    if name == "softmax":
        exps = [sp.exp(t) for t in z]
        total = sp.Add(*exps)
        return [e / total for e in exps]
    if name == "sigmoid":
        return [_sigmoid(t) for t in z]
    if name == "tanh":
        return [sp.tanh(t) for t in z]
    if name == "relu":
        return [_relu(t) for t in z]
    if name == "identity":
        return list(z)
    if name == "softplus":
        return [sp.log(1 + sp.exp(t)) for t in z]
    if name == "sigma":
        f = generic_sigma(layer)
        return [f(t) for t in z]
    raise ValueError(f"unknown activation {name!r} (layer {layer})")


def sigma_prime(name: str, layer: int, t: Expr) -> Expr:
    """sigma'(t) as the equations write it (elementwise activations only)."""
    if name == "sigmoid":
        s = _sigmoid(t)
        return s * (1 - s)
    if name == "tanh":
        return 1 / sp.cosh(t) ** 2  # sech^2, the engine's form
    if name == "relu":
        return sp.Piecewise((sp.Integer(0), t <= 0), (sp.Integer(1), True))  # relu'(0) = 0
    if name == "identity":
        return sp.Integer(1)
    if name == "softplus":
        return _sigmoid(t)
    if name == "sigma":
        u = sp.Dummy("u")
        return sp.Subs(sp.Derivative(generic_sigma(layer)(u), u), u, t).doit()
    raise ValueError(f"activation {name!r} (layer {layer}) has no elementwise derivative")


def softmax_jacobian(a: Sequence[Expr], i: int, j: int) -> Expr:
    """da_i/dz_j = a_i (delta_ij - a_j) for softmax (0-based i, j)."""
    return a[i] * ((1 if i == j else 0) - a[j])


def cost(name: str, a: Sequence[Expr], y: Sequence[Expr]) -> Expr:
    """C_x of one sample."""
    if name == "quadratic":
        return sp.Rational(1, 2) * sp.Add(*[(aj - yj) ** 2 for aj, yj in zip(a, y, strict=True)])
    if name == "cross_entropy":
        return -sp.Add(*[yj * sp.log(aj) + (1 - yj) * sp.log(1 - aj) for aj, yj in zip(a, y, strict=True)])
    if name == "log_likelihood":
        return -sp.Add(*[yj * sp.log(aj) for aj, yj in zip(a, y, strict=True)])
    raise ValueError(f"unknown cost {name!r}")


def grad_a(name: str, a: Sequence[Expr], y: Sequence[Expr]) -> list[Expr]:
    """nabla_a C_x, the first factor of equation 1, as the textbooks write it."""
    if name == "quadratic":
        return [aj - yj for aj, yj in zip(a, y, strict=True)]
    if name == "cross_entropy":
        return [(aj - yj) / (aj * (1 - aj)) for aj, yj in zip(a, y, strict=True)]
    if name == "log_likelihood":
        return [-yj / aj for aj, yj in zip(a, y, strict=True)]
    raise ValueError(f"unknown cost {name!r}")


def closed_output_error(cost_name: str, output: str, a: Sequence[Expr], y: Sequence[Expr]) -> list[Expr] | None:
    """delta^L = a^L - y where the cost and output activation admit that closed form, else None."""
    if (cost_name, output) in {("cross_entropy", "sigmoid"), ("log_likelihood", "softmax")}:
        return [aj - yj for aj, yj in zip(a, y, strict=True)]
    return None


def batch_cost(reduction: str, per_sample: Sequence[Expr]) -> Expr:
    """C of a batch from its definition: the mean (1/m) sum_x C_x or the sum sum_x C_x.

    Written from the definition, independently of ``network.reduction_scale`` (the factor the
    seed's update rule states): the batch proofs differentiate this, so the factor 1/m in the
    equations is proven from the cost, not assumed on both sides.
    """
    total = sp.Add(*per_sample)
    if reduction == "mean":
        return total / len(per_sample)
    if reduction == "sum":
        return total
    raise ValueError(f"unknown reduction {reduction!r}")
