"""A proof as Markdown with LaTeX: what was derived, what the equation claims, and the verdict."""

from __future__ import annotations

import sympy as sp

from .proof import Check, Proof

TITLES: dict[str, str] = {
    "eq1": r"Equation 1: $\delta^L = \nabla_a C \odot \sigma'(z^L)$",
    "eq1-closed": r"Equation 1, closed form: $\delta^L = a^L - y$",
    "eq2": r"Equation 2: $\delta^l = ((w^{l+1})^T \delta^{l+1}) \odot \sigma'(z^l)$",
    "eq2-typo": r"Equation 2 as printed in the seed: $\delta^l = ((w^{l+1})^T \sigma^{l+1}) \odot \sigma'(z^l)$",
    "eq3": r"Equation 3: $\partial C / \partial b^l_j = \delta^l_j$ (one sample)",
    "eq4": r"Equation 4: $\partial C / \partial w^l_{jk} = a^{l-1}_k \delta^l_j$ (one sample)",
    "eq3-batch": r"Equation 3 over a batch of 2: $\partial C / \partial b^l_j = s \sum_x \delta^{x,l}_j$",
    "eq4-batch": (
        r"Equation 4 over a batch of 2: "
        r"$\partial C / \partial w^l_{jk} = s \sum_x a^{x,l-1}_k \delta^{x,l}_j$"
    ),
    "composed": (
        r"Written out: $\partial C_x / \partial z^l_j$ of the fully composed cost = equations 1 and 2 "
        r"applied recursively"
    ),
}

READING = (
    r"How to read the chain-rule side: for a hidden layer, SymPy differentiates "
    r"$C_x = C_{l+1}(w^{l+1} \sigma(z^l) + b^{l+1})$ with $C_{l+1}$ (the rest of the network "
    r"and the cost) an undefined function; the partial derivatives "
    r"$(\partial_k C_{l+1})(z^{l+1})$ it produces are, by definition, $\delta^{l+1}_k$, and are "
    r"printed as such. Equations 3 and 4 likewise differentiate $C_l(w^l a^{l-1} + b^l)$ and print "
    r"$(\partial_j C_l)(z^l)$ as $\delta^l_j$. Samples of the batch are numbered $(1), (2)$."
)

MEANING = (
    '"proven" means: SymPy reduced (chain-rule derivative) - (equation) to exactly 0, for every '
    "value of every symbol (wherever both sides are defined), for this architecture, these "
    "activations and this cost. It does not cover other "
    "architectures, floating-point rounding, or the engine's code (the numeric cross-check does "
    'that). "not proven" means no simplification reached 0 and no rational point refuted it; '
    '"disproven" comes with an exact point where the difference is nonzero.'
)

SHORT = {
    "eq1": "equation 1",
    "eq1-closed": "equation 1 (closed form)",
    "eq2": "equation 2",
    "eq2-typo": "the seed's equation 2",
    "eq3": "equation 3",
    "eq4": "equation 4",
    "eq3-batch": "equation 3 (batch, m = {m})",
    "eq4-batch": "equation 4 (batch, m = {m})",
    "composed": "the written-out check",
}


def provenance(proof: Proof) -> str:
    """Where every chain-rule side comes from, counted from the checks themselves: derived with
    sympy.diff of the composed cost, or renamed from its layer's derived unit 1 / entry (1, 1)
    under a certified renaming."""
    groups: dict[tuple[str, int], list[int]] = {}
    for c in proof.checks:
        counts = groups.setdefault((c.equation, c.layer), [0, 0])
        counts[c.source == "renamed"] += 1
    order = list(TITLES)
    parts = []
    for (eq, layer), (derived, renamed) in sorted(groups.items(), key=lambda kv: (order.index(kv[0][0]), kv[0][1])):
        what = SHORT[eq].format(m=proof.batch) + f" at layer {layer}: "
        what += f"{derived} derived" + (f", {renamed} renamed" if renamed else "")
        parts.append(what)
    n_renamed = sum(c.source == "renamed" for c in proof.checks)
    head = (
        "The chain-rule side of every check is derived with `sympy.diff` of the composed cost, layer by "
        "layer with the rest of the network an arbitrary differentiable function (`symbolic/derive.py`)"
    )
    if n_renamed:
        head += (
            f", except {n_renamed} of the {len(proof.checks)} checks (printed as renamed): those are the "
            "derived unit 1 or entry (1, 1) of their layer with units 1 and j swapped, a renaming SymPy "
            "certified to permute the tail's arguments as the proof needs (`symbolic/renaming.py`); a layer "
            "whose renaming is not certified is derived entry by entry"
        )
    return head + ". Per equation and layer: " + "; ".join(parts) + "."


def latex(expr: sp.Basic) -> str:
    """LaTeX with the seed's Greek letters (delta, partial) for symbols named in plain text."""
    names = {s: "\\" + s.name for s in expr.free_symbols if s.name.startswith("delta")}
    return sp.latex(expr, symbol_names=names)


def _name(name: str) -> str:
    return "\\" + name if name.startswith("delta") else name


def _lhs(check: Check, spec_L: int) -> tuple[str, str]:
    """(chain-rule left side, equation left side) for one check."""
    l, unit = check.layer, check.unit
    if check.equation.startswith(("eq1", "eq2", "composed")):
        j = unit[0]
        return rf"\frac{{\partial C_x}}{{\partial z^{{{l}}}_{{{j}}}}}", rf"\delta^{{{l}}}_{{{j}}}"
    batch = check.equation.endswith("batch")
    cost = r"C" if batch else r"C_x"
    if check.equation.startswith("eq3"):
        param = f"b^{{{l}}}_{{{unit[0]}}}"
    else:
        param = f"w^{{{l}}}_{{{unit[0]}{unit[1]}}}"
    head = rf"\frac{{\partial {cost}}}{{\partial {param}}}"
    return head, head


RENAMED = " (renamed from unit 1 of this layer under the certified renaming)"


def _check_block(check: Check, spec_L: int) -> list[str]:
    derived_lhs, claimed_lhs = _lhs(check, spec_L)
    unit = ",".join(str(u) for u in check.unit)
    lines = [
        f"**layer {check.layer}, unit {unit}**: {check.verdict}" + (f" ({check.note})" if check.note else ""),
        "",
        f"- chain rule{RENAMED if check.source == 'renamed' else ''}: $${derived_lhs} = {latex(check.derived)}$$",
        f"- equation: $${claimed_lhs} = {latex(check.claimed)}$$",
    ]
    if check.point is not None:
        values = ", ".join(f"${_name(k)} = {sp.latex(v)}$" for k, v in check.point.values.items())
        lines.append(f"- the difference is {check.point.difference} at {values}")
    lines.append("")
    return lines


def _examples(proof: Proof) -> list[Check]:
    """Every unit of equations 1 and 2; for 3 and 4 (all alike) the first unit of each layer and
    every unit that is not proven. Grouped by equation, layers back to front as derived."""
    seen: set[tuple[str, int]] = set()
    out = []
    for c in proof.checks:
        key = (c.equation, c.layer)
        if c.equation.startswith(("eq1", "eq2", "composed")) or c.verdict != "proven" or key not in seen:
            out.append(c)
            seen.add(key)
    order = list(TITLES)
    return sorted(out, key=lambda c: order.index(c.equation))  # stable: keeps layer/unit order


def render_proof(proof: Proof, detail: bool = True) -> str:
    spec = proof.spec
    head = [
        f"## Backpropagation from the chain rule: sizes {list(spec.sizes)}",
        "",
        f"Activations {', '.join(f'layer {i + 2}: {a}' for i, a in enumerate(spec.activations))}; "
        f"cost {spec.cost}; reduction {spec.reduction} (s = "
        f"{'1/2' if spec.reduction == 'mean' else '1'} in the batch checks); "
        f"hidden rule {spec.hidden_rule}.",
        "",
        f"**Verdict: {proof.verdict}** ({len(proof.checks)} checks, {proof.seconds:.2f} s).",
        "",
    ]
    head += [f"> {note}" for note in proof.notes]
    if proof.notes:
        head.append("")
    head += ["| equation | layer | units | verdict |", "| --- | ---: | ---: | --- |"]
    counts: dict[tuple[str, int], int] = {}
    for c in proof.checks:
        counts[(c.equation, c.layer)] = counts.get((c.equation, c.layer), 0) + 1
    order = list(TITLES)
    table = sorted(proof.verdicts().items(), key=lambda item: (order.index(item[0][0]), item[0][1]))
    for (eq, layer), verdict in table:
        head.append(f"| {TITLES[eq]} | {layer} | {counts[(eq, layer)]} | {verdict} |")
    head.append("")
    body: list[str] = []
    for cx in proof.counterexamples:
        values = ", ".join(f"${k} = {sp.latex(v)}$" for k, v in cx.values.items())
        body += [
            f"### Counterexample to the seed's equation 2, layer {cx.layer}, unit {cx.unit}",
            "",
            f"On the network with {values}" + (f" ({cx.instance})" if cx.instance else "") + ":",
            "",
            f"- true $\\delta^{{{cx.layer}}}_{{{cx.unit}}} = \\partial C_x / \\partial z^{{{cx.layer}}}_{{{cx.unit}}}$"
            f" (chain rule on the composed network) = {cx.true_delta}",
            f"- the seed's printed equation 2 gives {cx.typo_delta}",
            f"- difference {cx.difference} (certainly nonzero: evaluated exactly, 30 correct digits)",
            "",
        ]
    if detail:
        body += [READING, ""]
        current = ""
        for c in _examples(proof):
            if c.equation != current:
                body += [f"### {TITLES[c.equation]}", ""]
                current = c.equation
            body += _check_block(c, spec.L)
    body += ["---", "", provenance(proof), "", MEANING, ""]
    return "\n".join(head + body)
