"""A concrete network on which the seed's typo in equation 2 gives the wrong delta.

The local identity for equation 2 is checked against an arbitrary tail of the network, so a
failure there only says "some cost would break it". This module builds the actual network
of the architecture with exact rational parameters, input and target, computes the true
delta^l_j = dC/dz^l_j by differentiating the composed tail C_l(z^l + t e_j) in t at t = 0
(the chain rule, no backprop formula), evaluates the typo's formula at the same point, and
certifies that they differ.
"""

from __future__ import annotations

import random
from dataclasses import dataclass

import sympy as sp

from . import functions, network
from .spec import Spec
from .zero import certainly_nonzero


@dataclass(frozen=True)
class NetworkCounterexample:
    """Exact values of every input, target and parameter, and both deltas at that point."""

    layer: int
    unit: int
    values: dict[str, sp.Rational]
    instance: str
    true_delta: str
    typo_delta: str
    difference: str


def _concrete(spec: Spec) -> tuple[Spec, str]:
    """An undefined sigma is instantiated as the sigmoid: one instance suffices to disprove."""
    if "sigma" not in spec.activations:
        return spec, ""
    acts = tuple("sigmoid" if name == "sigma" else name for name in spec.activations)
    return (
        Spec(spec.sizes, acts, spec.cost, spec.reduction, spec.hidden_rule),
        "the undefined sigma is instantiated as the sigmoid",
    )


def _point(spec: Spec, rng: random.Random) -> dict[sp.Symbol, sp.Rational]:
    def small() -> sp.Rational:
        return sp.Rational(rng.choice([p for p in range(-6, 7) if p]), rng.randint(2, 4))

    values: dict[sp.Symbol, sp.Rational] = {s: small() for s in network.parameters(spec)}
    xs, ys = network.sample_symbols(spec, None)
    values.update({s: small() for s in xs})
    if spec.cost == "cross_entropy":
        values.update({s: sp.Rational(rng.randint(1, 9), 10) for s in ys})
    elif spec.cost == "log_likelihood":
        weights = [rng.randint(1, 5) for _ in ys]
        values.update({s: sp.Rational(wt, sum(weights)) for s, wt in zip(ys, weights, strict=True)})
    else:
        values.update({s: small() for s in ys})
    return values


def seed_typo_counterexample(spec: Spec, l: int, seed: int = 0, tries: int = 4) -> NetworkCounterexample | None:
    """A point where the typo's delta^l_j differs from dC/dz^l_j, or None if none was found."""
    concrete, instance = _concrete(spec)
    rng = random.Random(seed)
    xs, ys = network.sample_symbols(concrete, None)
    fwd = network.forward(concrete, list(xs), list(ys))
    t = sp.Symbol("t", real=True)
    name = concrete.activation(l)
    for _ in range(tries):
        values = _point(concrete, rng)
        z_l = [zj.xreplace(values) for zj in fwd.z[l]]
        a_next = [ak.xreplace(values) for ak in fwd.a[l + 1]]
        w_next = network.weights(concrete, l + 1)
        targets = [yj.xreplace(values) for yj in ys]
        for j in range(len(z_l)):
            shifted = [zk + t if k == j else zk for k, zk in enumerate(z_l)]
            tail = network.tail_cost(concrete, l, shifted, targets).xreplace(values)
            true = sp.diff(tail, t).xreplace({t: sp.Integer(0)})
            typo = sp.Add(
                *[w_next[k][j].xreplace(values) * a_next[k] for k in range(len(a_next))]
            ) * functions.sigma_prime(name, l, z_l[j])
            difference = true - typo
            if certainly_nonzero(difference):
                return NetworkCounterexample(
                    layer=l,
                    unit=j + 1,
                    values={str(s): v for s, v in values.items()},
                    instance=instance,
                    true_delta=str(sp.N(true, 20)),
                    typo_delta=str(sp.N(typo, 20)),
                    difference=str(sp.N(difference, 20)),
                )
    return None
