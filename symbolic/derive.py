"""The chain-rule side of every proof: dC/dz^l_j, dC/db^l_j and dC/dw^l_jk obtained with
``sympy.diff`` on the composed cost, never from the backpropagation formulas.

How "the composed cost" is handled layer by layer, and why that is still the chain rule of
the whole network: fix one sample x and write C_l for the cost as a function of z^l alone
(every parameter fixed), so that delta^l_j = dC/dz^l_j = (d_j C_l)(z^l) by definition. The
network is a composition, so

    C_L(zeta) = C_x(sigma_L(zeta), y)                               (output layer)
    C_l(zeta) = C_{l+1}(w^{l+1} sigma_l(zeta) + b^{l+1})            (l = L-1, ..., 2)
    C       = C_l(w^l a^{l-1} + b^l),  a^{l-1} free of w^l and b^l  (parameters of layer l)

are identities, with C_{l+1} the actual (fully composed) tail of the network. SymPy
differentiates the right-hand sides with C_{l+1} an *undefined* function of n_{l+1}
arguments (``TailFunction``, whose k-th partial derivative is itself an undefined function
"d_k C_{l+1}", applied at the same arguments); SymPy's multivariate chain rule
(``Function._eval_derivative``) produces terms (d_k C_{l+1})(w^{l+1} sigma_l(zeta) + b^{l+1})
times the derivative of the k-th argument, which SymPy also computes, through the concrete
sigma_l. At zeta = z^l the argument is z^{l+1}, so (d_k C_{l+1})(...) is, by the definition
above, delta^{l+1}_k. ``partial_names`` renames exactly those terms (matching the function,
the argument slot and the evaluation point) and nothing else.
Because C_{l+1} is arbitrary, every identity proven this way holds for the real tail of
every network of this architecture, and induction over l = L, L-1, ..., 2 covers all of
dC/dz^l without ever writing out the fully composed cost, whose size grows exponentially
with depth. sigma_l and the cost stay concrete (or an undefined sigma_l), so the activation
derivatives are derived, not assumed.
"""

from __future__ import annotations

from collections.abc import Sequence

import sympy as sp
from sympy import Expr

from . import functions, network
from .spec import Spec


class TailFunction(sp.Function):
    """An undefined function C_l of n arguments whose k-th partial derivative is the undefined
    function ``partial(k)``: SymPy's chain rule (Function._eval_derivative) then writes
    d/ds C_l(u(s)) = sum_k partial(k)(u(s)) * du_k/ds, the same sum it forms for any undefined
    function, without wrapping each term in a Subs object (whose construction dominates the time).
    """

    partials: tuple[sp.FunctionClass, ...] = ()

    def fdiff(self, argindex: int = 1) -> sp.Expr:
        if not 1 <= argindex <= len(self.partials) or len(self.args) != len(self.partials):
            raise sp.ArgumentIndexError(self, argindex)
        return self.partials[argindex - 1](*self.args)


def tail_function(l: int, n: int, s: int | None = None) -> type[TailFunction]:
    """C_l, the cost as a function of the n = n_l values z^l (of sample s), undefined."""
    label = f"C_{{{l}}}" if s is None else f"C^{{({s})}}_{{{l}}}"
    partials = tuple(sp.Function(f"\\partial_{{{k}}} {label}", real=True) for k in range(1, n + 1))
    return type(label, (TailFunction,), {"partials": partials, "nargs": n})


def partial_names(f: type[TailFunction], args: Sequence[Expr], names: Sequence[sp.Symbol]) -> dict[sp.Basic, sp.Symbol]:
    """{(d_p f)(args): names[p]}: the p-th partial of f evaluated exactly at ``args``.

    Used with xreplace, which matches whole subtrees only: a term of any other shape (another
    function, another point, a higher derivative) is left alone, so a mismatch can only make a
    proof fail, never make it pass.
    """
    return {f.partials[p](*args): names[p] for p in range(len(f.partials))}


def output_errors(spec: Spec) -> list[Expr]:
    """dC_x/dz^L_j from C_x(sigma_L(z^L), y), with z^L free symbols."""
    L = spec.L
    zeta = [network.z(L, j) for j in range(1, spec.n(L) + 1)]
    _, targets = network.sample_symbols(spec, None)
    c = functions.cost(spec.cost, functions.sigma(spec.activation(L), L, zeta), targets)
    return [sp.diff(c, zj) for zj in zeta]


def hidden_errors(spec: Spec, l: int, units: Sequence[int] | None = None) -> list[Expr]:
    """dC_x/dz^l_j = d/dz^l_j C_{l+1}(w^{l+1} sigma_l(z^l) + b^{l+1}), for l = 2..L-1
    (for the units j given, 1-based; default every unit)."""
    if not 2 <= l < spec.L:
        raise ValueError(f"hidden layers are 2..{spec.L - 1}, got layer {l}")
    zeta = [network.z(l, j) for j in range(1, spec.n(l) + 1)]
    args = network.layer_map(spec, l + 1, functions.sigma(spec.activation(l), l, zeta))
    tail = tail_function(l + 1, spec.n(l + 1))
    composed = tail(*args)
    names = [network.delta(l + 1, k) for k in range(1, spec.n(l + 1) + 1)]
    rename = partial_names(tail, args, names)
    chosen = zeta if units is None else [zeta[j - 1] for j in units]
    return [composed.diff(zj).xreplace(rename) for zj in chosen]


def parameter_gradients(
    spec: Spec,
    l: int,
    samples: int | None = None,
    weights: Sequence[tuple[int, int]] | None = None,
    biases: Sequence[int] | None = None,
) -> tuple[dict[tuple[int, int], Expr], dict[int, Expr]]:
    """(dC/dw^l_jk, dC/db^l_j) with C = C_l(w^l a^{l-1} + b^l).

    samples=None: one sample, C = C_x. samples=m: C is the batch cost of its definition
    (``functions.batch_cost``: (1/m) sum_x C_x for "mean", sum_x C_x for "sum"), each sample with its
    own tail C_l^x(w^l a^{x,l-1} + b^l) and its own free a^{x,l-1}; ``sympy.diff`` differentiates
    that whole expression, reduction factor included, so "mean means 1/m" is derived, never
    multiplied in from ``network.reduction_scale`` (which only the claimed side uses).
    ``weights`` and ``biases`` restrict the entries differentiated (default: every one).
    """
    labels: list[int | None] = [None] if samples is None else list(range(1, samples + 1))
    rename: dict[sp.Basic, sp.Symbol] = {}
    terms: list[Expr] = []
    for s in labels:
        a_prev: list[Expr] = [network.a(l - 1, k, s) for k in range(1, spec.n(l - 1) + 1)]
        args = network.layer_map(spec, l, a_prev)
        tail = tail_function(l, spec.n(l), s)
        names = [network.delta(l, j, s) for j in range(1, spec.n(l) + 1)]
        rename.update(partial_names(tail, args, names))
        terms.append(tail(*args))
    total = terms[0] if samples is None else functions.batch_cost(spec.reduction, terms)

    def derived(symbol: sp.Symbol) -> Expr:
        return total.diff(symbol).xreplace(rename)

    if weights is None:
        weights = [(j, k) for j in range(1, spec.n(l) + 1) for k in range(1, spec.n(l - 1) + 1)]
    if biases is None:
        biases = range(1, spec.n(l) + 1)
    grad_w = {(j, k): derived(network.w(l, j, k)) for j, k in weights}
    grad_b = {j: derived(network.b(l, j)) for j in biases}
    return grad_w, grad_b


def composed_errors(spec: Spec, l: int) -> list[Expr]:
    """dC_x/dz^l_j with the whole tail (layers l..L and the cost) written out, no undefined
    function: an independent check on the layer-by-layer argument, practical for small networks
    only (the expression grows exponentially with depth)."""
    zeta = [network.z(l, j) for j in range(1, spec.n(l) + 1)]
    _, targets = network.sample_symbols(spec, None)
    c = network.tail_cost(spec, l, list(zeta), list(targets))
    return [sp.diff(c, zj) for zj in zeta]
