"""One change at a time: the mutants of a Python source file.

A mutant changes one operator, constant, comparison, index offset, transpose, axis or keepdims
argument, argument order, sign or statement of a correct program (the standard mutation operators
of Offutt et al. and of mutmut / cosmic-ray, restricted to what alters a numeric program). Sites are
numbered in source order, so a mutant is named by (subject, site) and is the same on every run.

What is never mutated, because changing it changes what is asked rather than what is computed: the
module-level ``capabilities`` declaration, docstrings and other strings (activation and cost names
are compared against strings: mutating those compares is enough), type annotations and imports.
"""

from __future__ import annotations

import ast
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

# Operator replacements: each original operator and what it becomes (one mutant each).
BINARY = {
    ast.Add: (ast.Sub,),
    ast.Sub: (ast.Add,),
    ast.Mult: (ast.Div,),
    ast.Div: (ast.Mult,),
    ast.Pow: (ast.Mult,),
    ast.MatMult: (ast.Mult,),
}
# Operand order matters for these: a - b -> b - a is a mutant of its own.
NON_COMMUTATIVE = (ast.Sub, ast.Div, ast.Pow, ast.MatMult)
COMPARE = {ast.Gt: ast.GtE, ast.GtE: ast.Gt, ast.Lt: ast.LtE, ast.LtE: ast.Lt, ast.Eq: ast.NotEq, ast.NotEq: ast.Eq}
BOOLEAN = {ast.And: ast.Or, ast.Or: ast.And}


@dataclass(frozen=True)
class Mutant:
    """One changed program: ``site`` counts the mutation sites of the subject in source order."""

    subject: str
    site: int
    operator: str
    line: int
    description: str
    source: str

    @property
    def name(self) -> str:
        return f"{self.subject}#{self.site}"


def _short(node: ast.AST) -> str:
    text = ast.unparse(node)
    return text if len(text) <= 70 else text[:67] + "..."


Change = Callable[[Any], ast.AST]  # changes a node in place, or returns the node to put in its place


def _set(field: str, value: Callable[[Any], Any]) -> Change:
    def change(node: Any) -> ast.AST:
        setattr(node, field, value(node))
        return node

    return change


def _constantly(make: Callable[[], Any]) -> Callable[[Any], Any]:
    """A new value for a field, whatever the node holds (make() is called once per mutant)."""
    return lambda node: make()


def _fixed(value: float) -> Callable[[Any], Any]:
    return lambda node: value


def _without_keyword(index: int) -> Callable[[Any], Any]:
    return lambda node: node.keywords[:index] + node.keywords[index + 1 :]


def _swap_operands(node: Any) -> ast.AST:
    node.left, node.right = node.right, node.left
    return node


def _swap_arguments(node: Any) -> ast.AST:
    node.args = [node.args[1], node.args[0], *node.args[2:]]
    return node


def _number_changes(value: float) -> list[float]:
    if isinstance(value, int):
        return [value + 1, value - 1]
    return [value * 2, 0.0] if value != 0 else [1.0]


def _sites_of(node: ast.AST) -> Iterator[tuple[str, Change]]:
    """The mutations one node admits, each as (operator, change)."""
    if isinstance(node, ast.BinOp | ast.AugAssign) and type(node.op) in BINARY:
        for new in BINARY[type(node.op)]:
            yield "arithmetic", _set("op", _constantly(new))
        if isinstance(node, ast.BinOp) and isinstance(node.op, NON_COMMUTATIVE):
            yield "swap", _swap_operands
    elif isinstance(node, ast.Compare) and len(node.ops) == 1 and type(node.ops[0]) in COMPARE:
        yield "comparison", _set("ops", lambda n: [COMPARE[type(n.ops[0])]()])
    elif isinstance(node, ast.BoolOp):
        yield "boolean", _set("op", lambda n: BOOLEAN[type(n.op)]())
    elif isinstance(node, ast.Constant) and isinstance(node.value, bool):
        yield "constant", _set("value", lambda n: not n.value)
    elif isinstance(node, ast.Constant) and isinstance(node.value, int | float):
        for new_value in _number_changes(node.value):
            yield "constant", _set("value", _fixed(new_value))
    elif isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.USub):
        yield "sign", lambda n: n.operand
    elif isinstance(node, ast.Attribute) and node.attr == "T":
        yield "transpose", lambda n: n.value
    elif isinstance(node, ast.Call):
        if len(node.args) >= 2 and not any(isinstance(a, ast.Starred) for a in node.args[:2]):
            yield "swap", _swap_arguments
        for index, keyword in enumerate(node.keywords):
            if keyword.arg in ("axis", "keepdims"):
                yield "axis", _set("keywords", _without_keyword(index))


def _skipped(tree: ast.Module) -> set[int]:
    """ids of nodes never mutated: capabilities, docstrings, annotations, imports and their subtrees."""
    skip: set[int] = set()

    def cover(node: ast.AST | None) -> None:
        if node is not None:
            skip.update(id(n) for n in ast.walk(node))

    for node in ast.walk(tree):
        if isinstance(node, ast.Import | ast.ImportFrom):
            cover(node)
        elif isinstance(node, ast.Assign) and any(
            isinstance(t, ast.Name) and t.id == "capabilities" for t in node.targets
        ):
            cover(node)
        elif isinstance(node, ast.AnnAssign):
            cover(node.annotation)
        elif isinstance(node, ast.FunctionDef):
            cover(node.returns)
            for arg in [*node.args.args, *node.args.kwonlyargs, *node.args.posonlyargs]:
                cover(arg.annotation)
        if isinstance(node, ast.Module | ast.FunctionDef | ast.ClassDef) and node.body:
            first = node.body[0]
            if (
                isinstance(first, ast.Expr)
                and isinstance(first.value, ast.Constant)
                and isinstance(first.value.value, str)
            ):
                cover(first)
    return skip


def _statement_sites(tree: ast.Module, skip: set[int]) -> Iterator[tuple[ast.AST, list[ast.stmt], int]]:
    """Statements inside functions that can be deleted (replaced by ``pass``): assignments and calls."""
    for func in ast.walk(tree):
        if not isinstance(func, ast.FunctionDef):
            continue
        for node in ast.walk(func):
            for body in (getattr(node, "body", None), getattr(node, "orelse", None)):
                if not isinstance(body, list):
                    continue
                for index, statement in enumerate(body):
                    if id(statement) in skip:
                        continue
                    if isinstance(statement, ast.Assign | ast.AugAssign | ast.Expr):
                        yield statement, body, index


def _ordered(tree: ast.Module) -> list[ast.AST]:
    """The nodes that may change, in source order (ast.walk's order is breadth first, not source order)."""
    skip = _skipped(tree)
    nodes = [n for n in ast.walk(tree) if id(n) not in skip]
    return sorted(nodes, key=lambda n: (getattr(n, "lineno", 0), getattr(n, "col_offset", 0), type(n).__name__))


def _enumerate(source: str) -> list[tuple[str, int, str, Callable[[ast.Module], str]]]:
    """Every site as (operator, line, description, apply): apply(tree) mutates a fresh parse in place."""
    tree = ast.parse(source)
    skip = _skipped(tree)
    nodes = _ordered(tree)
    positions = {id(n): i for i, n in enumerate(nodes)}
    found: list[tuple[str, int, str, Callable[[ast.Module], str]]] = []
    for node in nodes:
        for operator, change in _sites_of(node):
            before = _short(node)

            def apply(fresh: ast.Module, position: int = positions[id(node)], change: Change = change) -> str:
                target = _ordered(fresh)[position]
                replacement = change(target)
                if replacement is not target:
                    _replace(fresh, target, replacement)
                return _short(replacement)

            found.append((operator, int(getattr(node, "lineno", 0)), before, apply))
    for statement, _, _ in _statement_sites(tree, skip):
        position = positions[id(statement)]

        def delete(fresh: ast.Module, position: int = position) -> str:
            target = _ordered(fresh)[position]
            _replace(fresh, target, ast.Pass())
            return "(deleted)"

        found.append(("delete", int(getattr(statement, "lineno", 0)), _short(statement), delete))
    found.sort(key=lambda item: item[1])
    return found


def _replace(tree: ast.Module, old: ast.AST, new: ast.AST) -> None:
    """Put ``new`` where ``old`` stands in its parent (a field or an element of a list field)."""
    for parent in ast.walk(tree):
        for field, value in ast.iter_fields(parent):
            if value is old:
                setattr(parent, field, new)
                return
            if isinstance(value, list):
                for i, item in enumerate(value):
                    if item is old:
                        value[i] = new
                        return
    raise ValueError(f"node {ast.dump(old)[:80]} not found in its tree")


def mutants(subject: str, source: str) -> list[Mutant]:
    """All mutants of ``source``, in source order; each differs from it in exactly one place."""
    result = []
    lines = source.splitlines()
    original = ast.unparse(ast.parse(source))
    for site, (operator, line, before, apply) in enumerate(_enumerate(source)):
        fresh = ast.parse(source)
        after = apply(fresh)
        ast.fix_missing_locations(fresh)
        text = ast.unparse(fresh)
        if text == original:  # a change that prints the same (0.0 * 2 == 0.0): not a mutant
            continue
        where = lines[line - 1].strip() if 0 < line <= len(lines) else ""
        result.append(Mutant(subject, site, operator, line, f"line {line} `{where}`: `{before}` -> `{after}`", text))
    return result
