"""The test tiers hold: every test that runs the suite end to end carries the ``suite`` marker.

``python -m pytest -m "not suite"`` is the inner loop (CONTRIBUTING.md, Running the checks): it
must leave out every test that starts a worker, runs the suite's Hypothesis search, or spawns
``python -m conformance`` or pytest, and it can only do that if those tests are marked. This
module reads every test module's source (a static scan, no import) and names each test that
reaches one of those entry points, directly or through a helper or fixture of its own module,
without the marker (on the test, its class, or the module's ``pytestmark``).

What counts as end to end (``END_TO_END``): ``check_implementation``, ``replay`` and
``parametrize_with_checks`` (a whole run), ``run_group`` (the Hypothesis search), ``suite_verdict``
(the mutation benchmark's run of the suite on a mutant),
``load_implementation`` without ``in_process=True`` (a worker process), the command line called in
process (``conformance.frontends.cli.main``, under any name it is imported as), and a fresh Python
process: ``run_python``, ``pytest.main``, pytester's ``runpytest``, or a ``subprocess`` call in a
function that names ``sys.executable`` (``python -m conformance``, pytest, a CLI, a docs recipe, a
benchmark). A subprocess of another program (git, node) is not: it costs milliseconds.

The marker is one tier, ``suite``, for everything end to end; a test slow for another reason
(a search of its own) may carry it too, by hand: the scan asks for the marker, it never forbids it.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

TESTS = Path(__file__).resolve().parent
MARKER = "suite"
# Calls that run the suite end to end, by the name called (module docstring).
END_TO_END = frozenset(
    {
        "check_implementation",
        "replay",
        "parametrize_with_checks",
        "run_group",
        "run_python",
        "runpytest",
        "runpytest_subprocess",
        "runpytest_inprocess",
        "inline_run",
        "suite_verdict",  # benchmarks.mutation.run: python -m conformance on a mutant
    }
)
# Called through pytest, this runs pytest again (in this process: the suite's plugin and a run).
PYTEST_RUN = "main"


def _called(call: ast.Call) -> str:
    """The name a call calls: f(...) -> "f", obj.f(...) -> "f"."""
    func = call.func
    if isinstance(func, ast.Name):
        return func.id
    if isinstance(func, ast.Attribute):
        return func.attr
    return ""


def _in_process(call: ast.Call) -> bool:
    return any(
        k.arg == "in_process" and isinstance(k.value, ast.Constant) and k.value.value is True for k in call.keywords
    )


# The command line's module: its main, called in process, is a whole run.
CLI = "conformance.frontends.cli"


def _cli_names(tree: ast.Module) -> frozenset[str]:
    """The names this module imports the command line's functions as (from CLI import main as cli_main)."""
    return frozenset(
        alias.asname or alias.name
        for node in ast.walk(tree)
        if isinstance(node, ast.ImportFrom) and node.module == CLI
        for alias in node.names
    )


def _dotted(node: ast.expr) -> str:
    """conformance.frontends.cli for that attribute chain, "" for anything else."""
    if isinstance(node, ast.Name):
        return node.id
    if isinstance(node, ast.Attribute):
        head = _dotted(node.value)
        return f"{head}.{node.attr}" if head else ""
    return ""


def _is_end_to_end(call: ast.Call, cli_names: frozenset[str] = frozenset()) -> bool:
    name = _called(call)
    if name in END_TO_END:
        return True
    if isinstance(call.func, ast.Name) and name in cli_names:
        return True
    if isinstance(call.func, ast.Attribute) and (f".{_dotted(call.func.value)}".endswith(".cli")):
        return True
    if name == "load_implementation":
        return not _in_process(call)
    return _through(call, "pytest") and name == PYTEST_RUN


def _through(call: ast.Call, module: str) -> bool:
    """Whether the call is module.something(...)."""
    func = call.func
    return isinstance(func, ast.Attribute) and isinstance(func.value, ast.Name) and func.value.id == module


def _starts_python(node: Function) -> bool:
    """A subprocess call in a function that names sys.executable: a fresh Python process."""
    calls = [n for n in ast.walk(node) if isinstance(n, ast.Call) and _through(n, "subprocess")]
    named = any(
        isinstance(n, ast.Attribute)
        and n.attr == "executable"
        and isinstance(n.value, ast.Name)
        and n.value.id == "sys"
        for n in ast.walk(node)
    )
    return bool(calls) and named


def _marks_suite(decorators: list[ast.expr]) -> bool:
    """Whether one of these decorators (or pytestmark's values) is pytest.mark.suite."""
    for node in decorators:
        for inner in ast.walk(node):
            if isinstance(inner, ast.Attribute) and inner.attr == MARKER:
                value = inner.value
                if isinstance(value, ast.Attribute) and value.attr == "mark":
                    return True
    return False


def _module_marked(tree: ast.Module) -> bool:
    for node in tree.body:
        targets = node.targets if isinstance(node, ast.Assign) else []
        if any(isinstance(t, ast.Name) and t.id == "pytestmark" for t in targets):
            assert isinstance(node, ast.Assign)
            return _marks_suite([node.value])
    return False


Function = ast.FunctionDef | ast.AsyncFunctionDef


def _definitions(tree: ast.Module) -> tuple[dict[str, Function], list[tuple[str, Function, bool]]]:
    """The module's functions and methods by name (what a call or a fixture parameter can reach),
    and its tests: (name as pytest shows it, definition, whether its class is marked)."""
    functions: dict[str, Function] = {}
    tests: list[tuple[str, Function, bool]] = []
    for node in tree.body:
        if isinstance(node, Function):
            functions[node.name] = node
            if node.name.startswith("test"):
                tests.append((node.name, node, False))
        elif isinstance(node, ast.ClassDef):
            marked = _marks_suite(node.decorator_list)
            for item in node.body:
                if isinstance(item, Function):
                    functions.setdefault(item.name, item)
                    if item.name.startswith("test"):
                        tests.append((f"{node.name}.{item.name}", item, marked))
    return functions, tests


def _reaches(node: Function, functions: dict[str, Function], seen: set[str], cli: frozenset[str]) -> bool:
    """Whether the function calls an end-to-end entry point, itself or through the module's own
    functions and fixtures (a parameter named as one of the module's functions)."""
    if _starts_python(node):
        return True
    uses = {a.arg for a in (*node.args.args, *node.args.kwonlyargs)}
    for inner in ast.walk(node):
        if isinstance(inner, ast.Call):
            if _is_end_to_end(inner, cli):
                return True
            uses.add(_called(inner))
        elif isinstance(inner, ast.Name):
            uses.add(inner.id)  # a helper passed on, as map(_run, ...)
    fresh = {name for name in uses if name in functions and name not in seen}
    seen |= fresh
    return any(_reaches(functions[name], functions, seen, cli) for name in fresh)


def unmarked(source: str) -> list[str]:
    """The tests of a module that run the suite end to end without the ``suite`` marker."""
    tree = ast.parse(source)
    if _module_marked(tree):
        return []
    functions, tests = _definitions(tree)
    cli = _cli_names(tree)
    offenders = [
        name
        for name, node, class_marked in tests
        if not (class_marked or _marks_suite(node.decorator_list)) and _reaches(node, functions, {node.name}, cli)
    ]
    module_level = [s for s in tree.body if not isinstance(s, Function | ast.ClassDef)]
    if any(isinstance(n, ast.Call) and _is_end_to_end(n, cli) for s in module_level for n in ast.walk(s)):
        offenders.append("<module>")  # tests generated at collection, as parametrize_with_checks(...)
    return offenders


def test_every_end_to_end_test_carries_the_suite_marker() -> None:
    found = {path.name: names for path in sorted(TESTS.glob("test_*.py")) if (names := unmarked(path.read_text()))}
    assert not found, (
        f"these tests run the suite end to end without @pytest.mark.{MARKER} "
        f"(or pytestmark = pytest.mark.{MARKER} for a whole module): {found}"
    )


UNMARKED = """
from conformance import check_implementation
from ._conformance_helpers import run_python


def _run(impl):
    return check_implementation(impl, quick=True)


def test_direct():
    assert check_implementation("reference", quick=True).ok


def test_through_a_helper():
    assert _run("reference").ok


@pytest.fixture
def report():
    return _run("reference")


def test_through_a_fixture(report):
    assert report.ok


def test_a_subprocess(tmp_path):
    assert run_python(["-m", "conformance", "--impl", "reference"], tmp_path).returncode == 0


def test_a_worker():
    load_implementation("reference")


class TestGrouped:
    def test_method(self):
        assert _run("reference").ok


def test_in_process_is_fast():
    load_implementation(object(), in_process=True)


def test_pure():
    assert 1 + 1 == 2
"""


def test_the_scan_flags_each_way_of_running_the_suite_unmarked() -> None:
    """Negative control: a module that runs the suite every way, unmarked, is flagged test by test."""
    assert unmarked(UNMARKED) == [
        "test_direct",
        "test_through_a_helper",
        "test_through_a_fixture",
        "test_a_subprocess",
        "test_a_worker",
        "TestGrouped.test_method",
    ]
    python = "import subprocess, sys\n\ndef test_x():\n    subprocess.run([sys.executable, '-m', 'conformance'])\n"
    assert unmarked(python) == ["test_x"]
    in_process = "from conformance.frontends.cli import main as run\n\ndef test_x():\n    run(['--impl', 'r'])\n"
    assert unmarked(in_process) == ["test_x"]
    dotted = "import conformance.frontends.cli\n\ndef test_x():\n    conformance.frontends.cli.main([])\n"
    assert unmarked(dotted) == ["test_x"]
    # Another program is no end-to-end run (the positive control of the rule above).
    assert unmarked("import subprocess\n\ndef test_x():\n    subprocess.run(['git', 'ls-files'])\n") == []
    assert unmarked("import pytest\n\ndef test_x():\n    pytest.main(['-q'])\n") == ["test_x"]
    assert unmarked("from conformance import parametrize_with_checks\ntest_it = parametrize_with_checks('r')\n") == [
        "<module>"
    ]


@pytest.mark.parametrize(
    "marking",
    [
        "pytestmark = pytest.mark.suite\n",
        "pytestmark = [pytest.mark.skipif(False, reason='x'), pytest.mark.suite]\n",
    ],
)
def test_a_module_marked_as_a_whole_passes(marking: str) -> None:
    assert unmarked("import pytest\n" + marking + UNMARKED) == []


def test_tests_marked_one_by_one_pass() -> None:
    marked = (
        UNMARKED.replace("\ndef test_", "\n@pytest.mark.suite\ndef test_")
        .replace("class TestGrouped", "@pytest.mark.suite\nclass TestGrouped")
        .replace("@pytest.fixture\n@pytest.mark.suite", "@pytest.fixture")
    )
    assert unmarked(marked) == []
    # Another marker is not this one.
    assert unmarked(UNMARKED.replace("\ndef test_direct", "\n@pytest.mark.slow\ndef test_direct")) != []
