"""The guides and recipes in docs/ tell the truth: every code block on every page runs, as written.

The annotations are README's (tests/test_readme.py), with the prefix ``docs-test``, on the
line before a fence:
  <!-- docs-test: file NAME -->     the block is saved as NAME in the page's scratch directory;
  <!-- docs-test: run -->           each command of the bash block runs there (exit 0 expected);
  <!-- docs-test: run cwd=repo -->  the same, from the repository's root;
                                    a command commented ``# exit N`` must exit N instead.
Unannotated python blocks are executed, in order, in the scratch directory (from the
repository's root when the page has a ``run cwd=repo`` block). ``text`` blocks are output,
not code. Anywhere on a page:
  <!-- docs-test: needs MODULE -->          the page is skipped, with the reason, without MODULE;
  <!-- docs-test: needs-program PROGRAM --> the same for a program on PATH.
Each page's recipe runs with --quick and one dtype, so that the pages add seconds, not minutes.
docs/benchmarks.md is generated (``python -m benchmarks.report``); a test holds it to latest.json.
"""

from __future__ import annotations

import importlib.util
import json
import os
import re
import shlex
import shutil
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest

import reference
from benchmarks import report
from reference import equations
from symbolic import prove, render_proof

ROOT = Path(__file__).resolve().parent.parent
DOCS = ROOT / "docs"
PAGES = sorted(DOCS.glob("*.md"))
_FENCE = re.compile(r"(?:<!-- docs-test: (?P<note>[^>]*?) -->\n)?```(?P<lang>\w*)\n(?P<code>.*?)```", re.DOTALL)
_NEEDS = re.compile(r"<!-- docs-test: (needs|needs-program) (\S+) -->")
EXECUTABLE = ("python", "bash")
RECIPES = {"pytorch.md", "jax.md", "keras.md", "scikit-learn.md", "scalar-autograd.md", "other-languages.md"}
GUIDES = {"validating.md", "engine.md", "gradient-checking.md", "proofs.md", "derivation.md", "benchmarks.md"}


@dataclass(frozen=True)
class Block:
    language: str
    code: str
    note: str  # the docs-test annotation, or ""


def blocks(text: str) -> list[Block]:
    return [Block(m["lang"], m["code"], (m["note"] or "").strip()) for m in _FENCE.finditer(text)]


def _commands(code: str) -> list[tuple[str, int]]:
    """Each command of a bash block with the exit status it must give (0, or ``# exit N``)."""
    joined = code.replace("\\\n", " ")
    out = []
    for line in joined.splitlines():
        if line.strip() and not line.startswith("#"):
            command, _, comment = line.partition("  #")
            expected = re.match(r"\s*exit (\d+)", comment)
            out.append((command.strip(), int(expected[1]) if expected else 0))
    return out


def _missing(text: str) -> str | None:
    """Why the page cannot run here (a module or program it needs is absent), or None."""
    for kind, name in _NEEDS.findall(text):
        if kind == "needs" and importlib.util.find_spec(name) is None:
            return f"{name} is not installed (an optional extra: pip install 'backprop-reference[{name}]')"
        if kind == "needs-program" and shutil.which(name) is None:
            return f"the program {name!r} is not on PATH"
    return None


def _env(workdir: Path) -> dict[str, str]:
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join([str(workdir), str(ROOT), env.get("PYTHONPATH", "")])
    env["BACKPROP_CONFORMANCE_FAILURES"] = str(workdir / ".conformance-failures")
    return env


def _run(command: str, cwd: Path, workdir: Path) -> subprocess.CompletedProcess[str]:
    args = shlex.split(command)
    if args[0] in ("python", "pytest"):
        args = [sys.executable, *(["-m", "pytest"] if args[0] == "pytest" else []), *args[1:]]
    return subprocess.run(args, cwd=cwd, env=_env(workdir), capture_output=True, text=True, timeout=300)


def test_there_are_recipes_and_every_code_block_is_run() -> None:
    """Each recipe page exists, has code, and has no code block this test would leave unrun."""
    names = {p.name for p in PAGES}
    assert RECIPES | GUIDES <= names, names
    for page in PAGES:
        found = blocks(page.read_text(encoding="utf-8"))
        for block in found:
            assert block.language in (*EXECUTABLE, "text"), f"{page.name}: a {block.language or 'bare'} block"
            if block.language == "bash":
                assert block.note.startswith("run"), f"{page.name}: a bash block without 'run' is never run"
            if block.note:
                assert block.note.startswith(("file ", "run")), f"{page.name}: unknown annotation {block.note!r}"
        if page.name in RECIPES:
            assert any(b.note.startswith("run") for b in found), f"{page.name} never runs the suite"


def test_the_block_parser_sees_annotations_and_missing_needs() -> None:
    """Negative controls of the machinery below: a page it misreads would pass unrun."""
    page = "<!-- docs-test: file a.py -->\n```python\nx = 1\n```\n<!-- docs-test: run -->\n```bash\nls\n```\n"
    assert [(b.language, b.note) for b in blocks(page)] == [("python", "file a.py"), ("bash", "run")]
    assert _missing("<!-- docs-test: needs no_such_module_xyz -->") is not None
    assert _missing("<!-- docs-test: needs-program no-such-program-xyz -->") is not None
    assert _missing("<!-- docs-test: needs json -->") is None
    assert _commands("a --x  # exit 1: no\nb \\\n  --y  # a note\n# c\n") == [("a --x", 1), ("b    --y", 0)]


@pytest.mark.suite
@pytest.mark.parametrize("page", [p for p in PAGES if p.name != "README.md"], ids=lambda p: p.stem)
def test_recipe_runs(page: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    text = page.read_text(encoding="utf-8")
    reason = _missing(text)
    if reason:
        pytest.skip(f"{page.name}: {reason}")
    found = blocks(text)
    for block in found:
        if block.note.startswith("file "):
            (tmp_path / block.note.split()[1]).write_text(block.code, encoding="utf-8")
    from_repo = any("cwd=repo" in b.note for b in found)
    monkeypatch.chdir(ROOT if from_repo else tmp_path)
    monkeypatch.syspath_prepend(str(tmp_path))
    for index, block in enumerate(b for b in found if b.language == "python" and not b.note):
        exec(compile(block.code, f"{page.name} python block {index}", "exec"), {"__name__": "docs_example"})
    for block in (b for b in found if b.note.startswith("run")):
        cwd = ROOT if "cwd=repo" in block.note else tmp_path
        for command, expected in _commands(block.code):
            done = _run(command, cwd, tmp_path)
            output = f"{done.stdout[-3000:]}\n{done.stderr[-3000:]}"
            assert done.returncode == expected, f"{page.name}: {command!r} exited {done.returncode}:\n{output}"
            if "conformance" in command and "pytest" not in command:
                assert "CONFORMS" in done.stdout.splitlines()[-1], output


@pytest.mark.suite
def test_a_planted_bug_in_the_scalar_engine_is_caught(tmp_path: Path) -> None:
    """The bug the scalar-autograd page tells readers to plant fails, so its passing run means something."""
    page = (DOCS / "scalar-autograd.md").read_text(encoding="utf-8")
    source = next(b.code for b in blocks(page) if b.note == "file scalar_net.py")
    right, wrong = "parent.grad += local * node.grad", "parent.grad = local * node.grad"
    assert right in source and f"`{wrong}`" in page
    (tmp_path / "scalar_net_bug.py").write_text(source.replace(right, wrong), encoding="utf-8")
    done = _run("python -m conformance --impl scalar_net_bug --quick", tmp_path, tmp_path)
    assert done.returncode == 1, done.stdout[-3000:] + done.stderr[-3000:]
    assert "DOES NOT CONFORM" in done.stdout and "root cause" in done.stdout


def test_the_seed_typo_is_disproven_on_the_proofs_page() -> None:
    """The page's commands include the negative control, and the runner expects its exit status 1."""
    page = (DOCS / "proofs.md").read_text(encoding="utf-8")
    commands = [c for b in blocks(page) if b.note.startswith("run") for c in _commands(b.code)]
    assert any("--hidden-rule seed-typo" in command and expected == 1 for command, expected in commands)


def test_equation_table_names_real_functions_with_matching_docstrings() -> None:
    page = (DOCS / "engine.md").read_text(encoding="utf-8")
    for number in (1, 2, 3, 4):
        function = getattr(equations, f"equation_{number}")
        assert f"Equation {number}" in (function.__doc__ or ""), function.__name__
        assert f"`equation_{number}`" in page


@pytest.mark.parametrize("page", PAGES, ids=lambda p: p.stem)
def test_public_names_exist(page: Path) -> None:
    for name in re.findall(r"`reference\.(\w+)", page.read_text(encoding="utf-8")):
        assert hasattr(reference, name), f"{page.name} names reference.{name}, which does not exist"


def test_the_benchmarks_page_is_what_the_report_renders_from_latest_json() -> None:
    """docs/benchmarks.md is generated: a hand edit, or a JSON without its page, fails here."""
    results = json.loads(report.RESULTS.read_text(encoding="utf-8"))
    page = (DOCS / "benchmarks.md").read_text(encoding="utf-8")
    assert page == report.page(results), "docs/benchmarks.md is stale: run python -m benchmarks.report"


def test_the_rendered_derivation_on_the_proofs_page_is_the_provers_output() -> None:
    """The page shows `python -m symbolic prove` verbatim: any change to the prover or the renderer
    must be made on the page too. Only the measured time may differ."""
    page = (DOCS / "proofs.md").read_text(encoding="utf-8")
    shown = page.split("</summary>", 1)[1].split("</details>", 1)[0].strip()
    actual = render_proof(prove((2, 3, 2), ("sigmoid", "sigmoid"), "quadratic")).strip()
    seconds = re.compile(r"checks, \d+\.\d+ s\)")
    assert seconds.search(shown), "the page no longer shows the proof's summary line"
    assert seconds.sub("checks, T s)", shown) == seconds.sub("checks, T s)", actual)
