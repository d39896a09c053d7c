"""The import graph of reference, symbolic and conformance: no cycles, and the layers run one way.

Every import counts, also those inside functions and under ``if TYPE_CHECKING``: a cycle
hidden in a function is still a cycle, only one that fails later. Importing ``a.b.c`` also
runs the packages ``a`` and ``a.b`` (those the importer is not itself inside), so those are
edges too; a module that imports its own package by name depends on its ``__init__``.

The layers: reference (the engine) imports nothing above it; symbolic (the proofs) nothing
but reference; conformance (the suite) may use reference but not symbolic or the benchmarks.
"""

from __future__ import annotations

import ast
import json
from collections.abc import Iterable, Iterator
from pathlib import Path

import pytest

from ._conformance_helpers import ROOT, run_python

PACKAGES = ("reference", "symbolic", "conformance")

# Top-level packages each package must not import (reference.strategies' Hypothesis is a library, not a layer).
FORBIDDEN: dict[str, frozenset[str]] = {
    "reference": frozenset({"symbolic", "conformance", "benchmarks"}),
    "symbolic": frozenset({"conformance", "benchmarks"}),
    "conformance": frozenset({"symbolic", "benchmarks"}),
}


def modules(root: Path, packages: Iterable[str]) -> dict[str, tuple[Path, bool]]:
    """Dotted module name -> (file, whether it is a package's __init__)."""
    found: dict[str, tuple[Path, bool]] = {}
    for package in packages:
        for path in sorted((root / package).rglob("*.py")):
            parts = list(path.relative_to(root).with_suffix("").parts)
            is_package = parts[-1] == "__init__"
            found[".".join(parts[:-1] if is_package else parts)] = (path, is_package)
    return found


def _absolute(module: str, is_package: bool, target: str | None, level: int) -> str:
    """The absolute name of ``from {'.' * level}{target} import ...`` written in ``module``."""
    if level == 0:
        return target or ""
    base = module.split(".") if is_package else module.split(".")[:-1]
    base = base[: len(base) - (level - 1)]
    return ".".join([*base, target] if target else base)


def imported_names(module: str, path: Path, is_package: bool) -> Iterator[tuple[str, str | None]]:
    """(absolute module, imported attribute or None) for every import statement, at any depth."""
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"), filename=str(path))):
        if isinstance(node, ast.Import):
            for alias in node.names:
                yield alias.name, None
        elif isinstance(node, ast.ImportFrom):
            source = _absolute(module, is_package, node.module, node.level)
            for alias in node.names:
                yield source, alias.name


def import_graph(root: Path, packages: Iterable[str] = PACKAGES) -> dict[str, set[str]]:
    """Module -> the modules of ``packages`` that importing it runs directly."""
    known = modules(root, packages)
    graph: dict[str, set[str]] = {name: set() for name in known}
    for name, (path, is_package) in known.items():
        own_parents = {".".join(name.split(".")[:k]) for k in range(1, name.count(".") + 1)}
        for source, attribute in imported_names(name, path, is_package):
            target = f"{source}.{attribute}" if attribute and f"{source}.{attribute}" in known else source
            parts = target.split(".")
            # the packages above the target that this module is not already inside, and the target
            steps = [".".join(parts[:k]) for k in range(1, len(parts))]
            graph[name].update(s for s in steps if s in known and s != name and s not in own_parents)
            if target in known and target != name:
                graph[name].add(target)
    return graph


def find_cycle(graph: dict[str, set[str]]) -> list[str] | None:
    """One cycle (its modules in import order, the first repeated at the end), or None."""
    state: dict[str, int] = {}  # 1: on the current path, 2: done
    path: list[str] = []

    def visit(node: str) -> list[str] | None:
        state[node] = 1
        path.append(node)
        for nxt in sorted(graph.get(node, ())):
            if state.get(nxt) == 1:
                return [*path[path.index(nxt) :], nxt]
            if nxt not in state:
                found = visit(nxt)
                if found:
                    return found
        path.pop()
        state[node] = 2
        return None

    for start in sorted(graph):
        if start not in state:
            found = visit(start)
            if found:
                return found
    return None


def test_no_import_cycles() -> None:
    graph = import_graph(ROOT)
    cycle = find_cycle(graph)
    assert cycle is None, "import cycle: " + " -> ".join(cycle or [])


def _write(root: Path, files: dict[str, str]) -> None:
    for name, text in files.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")


@pytest.mark.parametrize(
    "files",
    [
        {  # module level, absolute
            "pkg/__init__.py": "",
            "pkg/a.py": "import pkg.b\n",
            "pkg/b.py": "from pkg import a\n",
        },
        {  # relative, one of them inside a function (the hidden kind)
            "pkg/__init__.py": "",
            "pkg/a.py": "from .b import thing\n",
            "pkg/b.py": "def thing():\n    from . import a\n    return a\n",
        },
        {  # through a package __init__ that imports its submodule
            "pkg/__init__.py": "",
            "pkg/sub/__init__.py": "from .c import C\n",
            "pkg/sub/c.py": "from ..d import D\nC = 1\n",
            "pkg/d.py": "from pkg.sub.c import C as D\n",
        },
    ],
    ids=["absolute", "relative-in-function", "through-package-init"],
)
def test_the_checker_finds_a_planted_cycle(tmp_path: Path, files: dict[str, str]) -> None:
    """The negative control: modules that import each other are flagged, and named."""
    _write(tmp_path, files)
    cycle = find_cycle(import_graph(tmp_path, ["pkg"]))
    assert cycle is not None and cycle[0] == cycle[-1] and len(cycle) >= 3, cycle


def test_the_checker_passes_a_planted_chain(tmp_path: Path) -> None:
    """And a one-way chain (a package importing its own modules included) is not a cycle."""
    _write(
        tmp_path,
        {
            "pkg/__init__.py": "from .a import A\n",
            "pkg/a.py": "from .b import B\nA = B\n",
            "pkg/b.py": "from typing import TYPE_CHECKING\nB = 1\nif TYPE_CHECKING:\n    import json\n",
        },
    )
    graph = import_graph(tmp_path, ["pkg"])
    assert graph == {"pkg": {"pkg.a"}, "pkg.a": {"pkg.b"}, "pkg.b": set()}
    assert find_cycle(graph) is None


# conformance's rooms in the order imports run (CONTRIBUTING.md, "The suite's rooms"): a module may import
# from its own room and the rooms before it, never after.
ROOMS = ("implementations", "judging", "reporting", "cases", "frontends")


def room_violations(root: Path, package: str = "conformance", rooms: tuple[str, ...] = ROOMS) -> list[str]:
    """Every import of a later room by a module of an earlier one, as 'importer imports imported'."""
    rank = {room: k for k, room in enumerate(rooms)}
    known = modules(root, [package])
    wrong: list[str] = []
    for name, (path, is_package) in known.items():
        parts = name.split(".")
        if len(parts) < 3 or parts[1] not in rank:
            continue  # the package's top (its __init__, errors, vectors, adapters) is not in a room
        for source, attribute in imported_names(name, path, is_package):
            dotted = f"{source}.{attribute}" if f"{source}.{attribute}" in known else source
            target = dotted.split(".")
            line = f"{name} imports {dotted}"
            if len(target) >= 2 and target[0] == package and rank.get(target[1], -1) > rank[parts[1]]:
                wrong += [line] if line not in wrong else []
    return wrong


def test_the_suites_rooms_import_up_the_table() -> None:
    assert not room_violations(ROOT), room_violations(ROOT)


def test_the_room_checker_flags_a_room_importing_a_later_one(tmp_path: Path) -> None:
    """The negative control: judging importing frontends (even inside a function) is named; the reverse is not."""
    _write(
        tmp_path,
        {
            "conformance/__init__.py": "",
            "conformance/judging/__init__.py": "",
            "conformance/judging/a.py": "def f():\n    from conformance.frontends import b\n    return b\n",
            "conformance/frontends/__init__.py": "",
            "conformance/frontends/b.py": "from conformance.judging.a import f\n",
        },
    )
    assert room_violations(tmp_path) == ["conformance.judging.a imports conformance.frontends.b"]


@pytest.mark.parametrize("package", sorted(FORBIDDEN))
def test_the_layers_import_downwards(package: str) -> None:
    wrong = []
    for name, (path, is_package) in modules(ROOT, [package]).items():
        for source, _ in imported_names(name, path, is_package):
            if source.split(".")[0] in FORBIDDEN[package]:
                wrong.append(f"{name} imports {source}")
    assert not wrong, wrong


@pytest.mark.suite
def test_import_reference_stays_free_of_test_and_proof_libraries(tmp_path: Path) -> None:
    """``import reference`` (the engine alone) loads neither Hypothesis, pytest nor SymPy."""
    code = (
        "import json, sys; import reference; "
        "loaded = {m.split('.')[0] for m in sys.modules}; "
        "print(json.dumps(sorted(loaded & {'hypothesis', 'pytest', '_pytest', 'sympy'})))"
    )
    done = run_python(["-c", code], cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout) == []
