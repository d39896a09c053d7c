"""README tells the truth: its examples run as written, its commands are the ones CI runs.

The guides in docs/ have their own test (tests/test_docs.py), with the same annotations.

Blocks are annotated in README.md with an HTML comment on the line before the fence:
  <!-- readme-test: file NAME -->   the block is saved as NAME in a scratch directory;
  <!-- readme-test: run -->         each command of the bash block runs there (exit 0 expected);
  <!-- readme-test: run cwd=repo --> the same, from the repository's root.
Unannotated python blocks are executed, in order, in the scratch directory.
"""

from __future__ import annotations

import os
import re
import shlex
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest

import reference

ROOT = Path(__file__).resolve().parent.parent
README = (ROOT / "README.md").read_text(encoding="utf-8")


@dataclass(frozen=True)
class Block:
    language: str
    code: str
    note: str  # the readme-test annotation, or ""


def _blocks() -> list[Block]:
    pattern = re.compile(r"(?:<!-- readme-test: (?P<note>[^>]*?) -->\n)?```(?P<lang>\w*)\n(?P<code>.*?)```", re.DOTALL)
    return [Block(m["lang"], m["code"], (m["note"] or "").strip()) for m in pattern.finditer(README)]


def _env(workdir: Path) -> dict[str, str]:
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join([str(workdir), str(ROOT), env.get("PYTHONPATH", "")])
    env["BACKPROP_CONFORMANCE_FAILURES"] = str(workdir / ".conformance-failures")
    return env


def _commands(code: str) -> list[str]:
    joined = code.replace("\\\n", " ")
    return [line.split("  #")[0].strip() for line in joined.splitlines() if line.strip() and not line.startswith("#")]


def _run(command: str, cwd: Path, workdir: Path) -> subprocess.CompletedProcess[str]:
    args = shlex.split(command)
    if args[0] in ("python", "pytest"):
        args = [sys.executable, *(["-m", "pytest"] if args[0] == "pytest" else []), *args[1:]]
    return subprocess.run(args, cwd=cwd, env=_env(workdir), capture_output=True, text=True, timeout=300)


@pytest.fixture(scope="module")
def workdir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("readme")
    for block in _blocks():
        if block.note.startswith("file "):
            (path / block.note.split()[1]).write_text(block.code, encoding="utf-8")
    return path


def test_python_examples_run(workdir: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(workdir)
    monkeypatch.syspath_prepend(str(workdir))
    examples = [b for b in _blocks() if b.language == "python" and not b.note]
    assert len(examples) >= 2
    for index, block in enumerate(examples):
        exec(compile(block.code, f"README.md python example {index}", "exec"), {"__name__": "readme_example"})


@pytest.mark.suite
@pytest.mark.parametrize("index", range(sum(b.note.startswith("run") for b in _blocks())))
def test_documented_commands_succeed(index: int, workdir: Path) -> None:
    block = [b for b in _blocks() if b.note.startswith("run")][index]
    cwd = ROOT if "cwd=repo" in block.note else workdir
    for command in _commands(block.code):
        done = _run(command, cwd, workdir)
        output = f"{done.stdout[-3000:]}\n{done.stderr[-3000:]}"
        assert done.returncode == 0, f"README command {command!r} exited {done.returncode}:\n{output}"


@pytest.mark.suite
def test_the_guides_test_file_runs_under_pytest(workdir: Path) -> None:
    done = _run("pytest -q -p no:cacheprovider test_mynet.py", workdir, workdir)
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    assert "passed" in done.stdout


@pytest.mark.suite
def test_planting_the_seed_typo_gives_the_documented_verdict(workdir: Path) -> None:
    mynet = (workdir / "mynet.py").read_text(encoding="utf-8")
    right, typo = "deltas[0] @ case.weights[i + 1]", "a[i + 2] @ case.weights[i + 1]"
    assert right in mynet and f"`{right}`" in README and f"`{typo}`" in README
    (workdir / "mynet_typo.py").write_text(mynet.replace(right, typo), encoding="utf-8")
    done = _run("python -m conformance --impl mynet_typo --quick", workdir, workdir)
    assert done.returncode == 1, done.stdout[-3000:]
    assert "FAILED: equation2 layer" in done.stdout
    assert "replay: python -m conformance replay" in done.stdout
    assert "FAILED: equation1" not in done.stdout
    guide = (ROOT / "docs" / "validating.md").read_text(encoding="utf-8")  # where the output is shown
    shown = re.search(r"^FAILED: equation2 layer (\d+) \(float64\)", guide, re.MULTILINE)
    assert shown is not None and f"FAILED: equation2 layer {shown[1]} (float64)" in done.stdout


def test_quick_start_commands_are_what_ci_runs() -> None:
    bash = [b for b in _blocks() if b.language == "bash"]
    commands = [_commands(b.code)[0] for b in bash[:2]]
    assert commands[0].startswith("pip install -e '.[test,torch]'")
    assert commands[1] == "python -m pytest"
    ci = (ROOT / ".ci" / "run").read_text(encoding="utf-8").splitlines()
    for command in commands:
        assert command in ci, f"README's command {command!r} is not run verbatim by .ci/run"


def test_public_names_in_readme_exist() -> None:
    for name in re.findall(r"`reference\.(\w+)", README):
        assert hasattr(reference, name), f"README names reference.{name}, which does not exist"
