"""Every per-activation table outside reference/activations.py lists exactly the activations there.

Adding an activation means adding its record (``reference.activations.ACTIVATION_RECORDS``) and
then an entry in each table below, which must stay in its own layer: SymPy expressions, the
PyTorch adapter, the Node example (parsed as text), the golden vectors' recipes. Each test
names the table and the activation it misses or has in excess; the negative controls show
that a table missing one activation is named.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path

import pytest
import sympy as sp

from conformance.judging import tolerances
from conformance.vectors import generate
from reference import strategies
from reference.activations import ACTIVATION_RECORDS
from symbolic import functions, spec

ROOT = Path(__file__).resolve().parents[1]
NODE_EXAMPLE = ROOT / "conformance" / "examples" / "node" / "backprop.js"


@dataclass(frozen=True)
class Scope:
    """Which of the records a table must list, and how a message names them."""

    names: frozenset[str]
    description: str


ALL = Scope(frozenset(ACTIVATION_RECORDS), "the activations")
ELEMENTWISE = Scope(frozenset(n for n, r in ACTIVATION_RECORDS.items() if r.elementwise), "the elementwise activations")
HIDDEN = Scope(frozenset(n for n, r in ACTIVATION_RECORDS.items() if not r.output_only), "the hidden-layer activations")
OUTPUT_ONLY = Scope(frozenset(n for n, r in ACTIVATION_RECORDS.items() if r.output_only), "the output-only activations")

# A table: the names it lists, and which of ACTIVATION_RECORDS it must list.
Table = tuple[Iterable[str], Scope]


def mismatches(table: str, names: Iterable[str], expected: Scope) -> list[str]:
    """One message per activation ``table`` misses or has in excess, naming both."""
    got = set(names)
    scope = f"{expected.description} of reference.activations.ACTIVATION_RECORDS"
    return [f"{table} misses {n!r}, one of {scope}" for n in sorted(expected.names - got)] + [
        f"{table} has {n!r}, not one of {scope}" for n in sorted(got - expected.names)
    ]


def _block(source: str, opening: str) -> str:
    """The text from ``opening`` to the first line that closes it at column 0 ("}" or "};")."""
    start = source.index(opening)
    end = re.compile(r"^\};?$", re.MULTILINE).search(source, start)
    assert end is not None, f"no closing brace after {opening!r}"
    return source[start : end.start()]


JS_TABLES = (
    "ACTIVATIONS (sigma and sigma')",
    "activate() (ACTIVATIONS and the special cases)",
    "CAPABILITIES.activations",
)


def js_tables(source: str) -> dict[str, Table]:
    """The Node example's activation tables, parsed as text (no Node.js needed)."""
    table = _block(source, "const ACTIVATIONS = {")
    activate = _block(source, "function activate(name, z) {")
    capabilities = _block(source, "const CAPABILITIES = {")
    listed = re.search(r"^\s*activations: \[([^\]]*)\]", capabilities, re.MULTILINE)
    assert listed is not None, "CAPABILITIES has no activations list"
    elementwise = re.findall(r"^  (\w+): \{", table, re.MULTILINE)
    special = re.findall(r'name === "(\w+)"', activate)
    names = (elementwise, [*elementwise, *special], re.findall(r'"(\w+)"', listed.group(1)))
    return dict(zip(JS_TABLES, zip(names, (ELEMENTWISE, ALL, ALL), strict=True), strict=True))


def _covered(function: Callable[[str], object], names: Iterable[str]) -> list[str]:
    """The names ``function`` accepts (an if-chain over names raises ValueError for the others)."""
    covered = []
    for name in names:
        try:
            function(name)
        except ValueError:
            continue
        covered.append(name)
    return covered


def _symbolic_sigma() -> Table:
    t = [sp.Symbol("t1"), sp.Symbol("t2")]
    return _covered(lambda name: functions.sigma(name, 2, t), ALL.names), ALL


def _symbolic_sigma_prime() -> Table:
    t = sp.Symbol("t")
    return _covered(lambda name: functions.sigma_prime(name, 2, t), ALL.names), ELEMENTWISE


def _torch(table: str) -> Callable[[], Table]:
    def read() -> Table:
        adapter = pytest.importorskip("conformance.adapters.torch_adapter", exc_type=ImportError)
        names = adapter._ACTIVATIONS if table == "_ACTIVATIONS" else adapter.capabilities["activations"]
        return names, ALL

    return read


def _node(table: str) -> Callable[[], Table]:
    return lambda: js_tables(NODE_EXAMPLE.read_text(encoding="utf-8"))[table]


# "sigma" is the symbolic layer's own extra: an undefined function, every differentiable sigma.
TABLES: dict[str, Callable[[], Table]] = {
    "symbolic/spec.py ACTIVATIONS": lambda: ([n for n in spec.ACTIVATIONS if n != "sigma"], ALL),
    "symbolic/spec.py OUTPUT_ONLY": lambda: (spec.OUTPUT_ONLY, OUTPUT_ONLY),
    "symbolic/functions.py sigma": _symbolic_sigma,
    "symbolic/functions.py sigma_prime": _symbolic_sigma_prime,
    "conformance/adapters/torch_adapter.py _ACTIVATIONS": _torch("_ACTIVATIONS"),
    "conformance/adapters/torch_adapter.py capabilities['activations']": _torch("capabilities"),
    **{f"conformance/examples/node/backprop.js {name}": _node(name) for name in JS_TABLES},
    "conformance/vectors/generate.py _OUTPUTS": lambda: ([out for out, _ in generate._OUTPUTS], ALL),
    "conformance/vectors/generate.py _HIDDEN": lambda: (generate._HIDDEN, HIDDEN),
    "conformance/judging/tolerances.py LIPSCHITZ": lambda: (tolerances.LIPSCHITZ, ELEMENTWISE),
    "conformance/judging/tolerances.py SECOND_DERIVATIVE": lambda: (tolerances.SECOND_DERIVATIVE, ELEMENTWISE),
    "conformance/judging/tolerances.py PRIME_SCALE": lambda: (tolerances.PRIME_SCALE, ELEMENTWISE),
    "reference/strategies.py HIDDEN_ACTIVATIONS": lambda: (strategies.HIDDEN_ACTIVATIONS, HIDDEN),
}


@pytest.mark.parametrize("table", sorted(TABLES))
def test_the_table_lists_exactly_the_activations(table: str) -> None:
    names, expected = TABLES[table]()
    found = mismatches(table, names, expected)
    assert not found, "\n".join(found)


def test_symbolic_functions_cover_the_generic_sigma() -> None:
    assert "sigma" in spec.ACTIVATIONS
    assert _covered(lambda name: functions.sigma_prime(name, 2, sp.Symbol("t")), ["sigma"]) == ["sigma"]


# Negative controls: a table missing one activation (or with one too many) is named.


def test_a_missing_activation_is_named_with_its_table() -> None:
    table = [n for n in ACTIVATION_RECORDS if n != "softplus"]
    assert mismatches("some/table.py TABLE", table, ALL) == [
        "some/table.py TABLE misses 'softplus', one of the activations of reference.activations.ACTIVATION_RECORDS"
    ]


def test_an_extra_activation_is_named_with_its_table() -> None:
    assert mismatches("some/table.py TABLE", [*HIDDEN.names, "swish"], HIDDEN) == [
        "some/table.py TABLE has 'swish', not one of the hidden-layer activations of "
        "reference.activations.ACTIVATION_RECORDS"
    ]


def test_a_monkeypatched_table_missing_one_activation_fails_by_name(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(generate, "_HIDDEN", tuple(n for n in generate._HIDDEN if n != "relu"))
    table = "conformance/vectors/generate.py _HIDDEN"
    names, expected = TABLES[table]()
    assert mismatches(table, names, expected) == [
        f"{table} misses 'relu', one of the hidden-layer activations of reference.activations.ACTIVATION_RECORDS"
    ]


def test_the_node_example_missing_an_activation_is_named() -> None:
    source = NODE_EXAMPLE.read_text(encoding="utf-8")
    without = re.sub(r"^  softplus: \{.*\n", "", source, count=1, flags=re.MULTILINE)
    assert without != source
    found = [m for name, (names, expected) in js_tables(without).items() for m in mismatches(name, names, expected)]
    assert found == [
        "ACTIVATIONS (sigma and sigma') misses 'softplus', one of the elementwise activations of "
        "reference.activations.ACTIVATION_RECORDS",
        "activate() (ACTIVATIONS and the special cases) misses 'softplus', one of the activations of "
        "reference.activations.ACTIVATION_RECORDS",
    ]


def test_a_symbolic_function_missing_an_activation_is_named(monkeypatch: pytest.MonkeyPatch) -> None:
    original = functions.sigma_prime

    def without_tanh(name: str, layer: int, t: sp.Expr) -> sp.Expr:
        if name == "tanh":
            raise ValueError("no tanh")
        return original(name, layer, t)

    monkeypatch.setattr(functions, "sigma_prime", without_tanh)
    names, expected = _symbolic_sigma_prime()
    assert mismatches("symbolic/functions.py sigma_prime", names, expected) == [
        "symbolic/functions.py sigma_prime misses 'tanh', one of the elementwise activations of "
        "reference.activations.ACTIVATION_RECORDS"
    ]
