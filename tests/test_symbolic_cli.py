"""Exit codes and messages of ``python -m symbolic``: 0 proven, 1 disproven, 2 bad arguments."""

from __future__ import annotations

import re
import subprocess
import sys
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

import pytest

import reference
from symbolic.cli import main, plain
from symbolic.html_page import inline, to_html
from symbolic.spec import make_spec

ROOT = Path(__file__).resolve().parents[1]


@pytest.mark.suite
def test_the_issue_example_is_proven_end_to_end() -> None:
    run = subprocess.run(
        [
            sys.executable,
            "-m",
            "symbolic",
            "prove",
            "--sizes",
            "2,3,2",
            "--activations",
            "sigmoid,sigmoid",
            "--cost",
            "quadratic",
        ],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert run.returncode == 0, run.stderr
    assert "**Verdict: proven**" in run.stdout and "$$" in run.stdout


def test_seed_typo_exits_1_with_the_counterexample(capsys: pytest.CaptureFixture[str]) -> None:
    code = main(
        [
            "prove",
            "--sizes",
            "2,3,2",
            "--activations",
            "sigmoid,sigmoid",
            "--cost",
            "quadratic",
            "--hidden-rule",
            "seed-typo",
        ]
    )
    out = capsys.readouterr().out
    assert code == 1
    assert "**Verdict: disproven**" in out and "Counterexample to the seed's equation 2" in out


def test_sum_reduction_and_summary(capsys: pytest.CaptureFixture[str]) -> None:
    code = main(
        [
            "prove",
            "--sizes",
            "2,2",
            "--activations",
            "softmax",
            "--cost",
            "log_likelihood",
            "--reduction",
            "sum",
            "--summary",
        ]
    )
    out = capsys.readouterr().out
    assert code == 0 and "reduction sum" in out and "- chain rule:" not in out


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["prove", "--sizes", "2,x", "--activations", "sigmoid", "--cost", "quadratic"], "comma-separated"),
        (["prove", "--sizes", "2,3,2", "--activations", "sigmoid", "--cost", "quadratic"], "expected 2 names"),
        (["prove", "--sizes", "2,3,2", "--activations", "softmax,sigmoid", "--cost", "quadratic"], "layer 2"),
        (["prove", "--sizes", "2,2", "--activations", "tanh", "--cost", "cross_entropy"], "cross_entropy"),
        (["prove", "--sizes", "2,0", "--activations", "tanh", "--cost", "quadratic"], "layer 2"),
        (["prove", "--sizes", "2,2", "--activations", "tanh", "--cost", "hinge"], "unknown cost"),
        (
            ["prove", "--sizes", "2,2", "--activations", "tanh", "--cost", "quadratic", "--reduction", "avg"],
            "unknown reduction",
        ),
        (
            ["prove", "--sizes", "2,2", "--activations", "tanh", "--cost", "quadratic", "--hidden-rule", "x"],
            "unknown hidden_rule",
        ),
        (["prove", "--sizes", "2,2", "--activations", "tanh"], "--cost"),
        (["prove", "--sizes", "2,2,2", "--activations", "relu,tanh", "--cost", "quadratic", "--composed"], "relu"),
        (["crosscheck", "--sizes", "2,2", "--activations", "sigma", "--cost", "quadratic"], "concrete"),
        ([], "command"),
    ],
)
def test_bad_arguments_exit_2_with_a_message(argv: list[str], message: str, capsys: pytest.CaptureFixture[str]) -> None:
    try:
        code = main(argv)
    except SystemExit as stop:
        code = int(stop.code or 0)
    err = capsys.readouterr().err
    assert code == 2
    assert message in err


def test_crosscheck_command(capsys: pytest.CaptureFixture[str]) -> None:
    code = main(["crosscheck", "--sizes", "2,2", "--activations", "sigmoid", "--cost", "cross_entropy"])
    assert code == 0 and "float64" in capsys.readouterr().out


def test_spec_errors_name_field_layer_and_values() -> None:
    with pytest.raises(TypeError, match=r"sizes\[1\] \(n_2, layer 2\) must be an int, got 2.5"):
        make_spec([2, 2.5], ["tanh"], "quadratic")
    with pytest.raises(ValueError, match=r"activations\[0\] \(layer 2\): unknown activation 'gelu'"):
        make_spec([2, 2], ["gelu"], "quadratic")
    with pytest.raises(ValueError, match="needs the output layer 2 to use softmax, got 'sigmoid'"):
        make_spec([2, 2], ["sigmoid"], "log_likelihood")
    with pytest.raises(ValueError, match="at least two"):
        make_spec([2], [], "quadratic")


# --- output files, HTML, the cross-check's verdict, plain --help ---------------------------------

PROVE = ["prove", "--sizes", "2,2", "--activations", "sigmoid", "--cost", "quadratic"]
SECONDS = re.compile(r"checks, \d+\.\d+ s\)")


def test_output_writes_the_markdown_and_prints_one_line(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(PROVE) == 0
    printed = capsys.readouterr().out
    target = tmp_path / "proof.md"
    assert main([*PROVE, "--output", str(target)]) == 0
    out = capsys.readouterr().out
    assert out == f"proven (14 checks): wrote {target} (markdown)\n"
    written = target.read_text(encoding="utf-8")
    assert "**Verdict: proven**" in written and "$$" in written
    assert SECONDS.sub("T", written) == SECONDS.sub("T", printed.removesuffix("\n"))  # what stdout would show


def test_a_disproven_proof_still_exits_1_with_output(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    target = tmp_path / "typo.md"
    argv = ["prove", "--sizes", "2,2,2", "--activations", "sigmoid,sigmoid", "--cost", "quadratic"]
    assert main([*argv, "--hidden-rule", "seed-typo", "--no-batch", "--output", str(target)]) == 1
    assert capsys.readouterr().out.startswith("disproven (")
    assert "Counterexample to the seed's equation 2" in target.read_text(encoding="utf-8")


class _Page(HTMLParser):
    """Tags opened and closed, and the text, of an HTML page: enough to see it is well formed."""

    VOID = {"meta", "br", "hr"}

    def __init__(self) -> None:
        super().__init__()
        self.open: list[str] = []
        self.seen: list[str] = []
        self.text: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.seen.append(tag)
        if tag not in self.VOID:
            self.open.append(tag)

    def handle_endtag(self, tag: str) -> None:
        assert self.open and self.open.pop() == tag, (tag, self.open)

    def handle_data(self, data: str) -> None:
        self.text.append(data)


@pytest.mark.parametrize("how", [["--output", "proof.html"], ["--output", "proof.txt", "--format", "html"]])
def test_html_is_a_self_contained_page(how: list[str], tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    target = tmp_path / how[1]
    assert main([*PROVE, "--output", str(target), *how[2:]]) == 0
    assert capsys.readouterr().out.endswith("(html)\n")
    page = _Page()
    page.feed(target.read_text(encoding="utf-8"))
    page.close()
    assert page.open == []  # every element closed
    assert {"html", "head", "title", "body", "h2", "h3", "table", "th", "td", "ul", "li", "strong"} <= set(page.seen)
    assert "script" not in page.seen  # nothing fetched: the page is read offline
    text = "".join(page.text)
    assert "Verdict: proven" in text and "**" not in text and "$" not in text
    assert r"\[\frac{\partial C_x}{\partial z^{2}_{1}} = " in text  # display math, kept as LaTeX
    assert r"\(\delta^L = \nabla_a C \odot \sigma'(z^L)\)" in text  # inline math


def test_mathjax_adds_its_script_only_when_asked(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    target = tmp_path / "proof.html"
    assert main([*PROVE, "--summary", "--output", str(target), "--mathjax"]) == 0
    assert target.read_text(encoding="utf-8").count("<script") == 1
    assert main([*PROVE, "--summary", "--format", "html"]) == 0  # html on stdout
    out = capsys.readouterr().out
    assert out.split("\n", 1)[1].startswith("<!DOCTYPE html>") and "<script" not in out


def test_inline_markup_leaves_math_alone() -> None:
    assert inline("a $x < y^{**}$ and **b** `c<d>`, $$\\frac{1}{2}$$") == (
        r"a \(x &lt; y^{**}\) and <strong>b</strong> <code>c&lt;d&gt;</code>, \[\frac{1}{2}\]"
    )
    assert to_html("plain\n\n---\n", "t").count("<hr>") == 1


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        (["--output", "{tmp}"], "is a directory"),
        (["--output", "{tmp}/missing/proof.md"], "does not exist"),
        (["--mathjax"], "--mathjax is for the html format"),
        (["--format", "pdf"], "invalid choice: 'pdf'"),
    ],
)
def test_bad_output_arguments_exit_2_before_proving(
    extra: list[str], message: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    try:
        code = main([*PROVE, *(e.format(tmp=tmp_path) for e in extra)])
    except SystemExit as stop:
        code = int(stop.code or 0)
    captured = capsys.readouterr()
    assert code == 2 and message in captured.err and captured.out == ""


def test_crosscheck_says_agrees_with_its_tolerances(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["crosscheck", "--sizes", "2,3,2", "--activations", "tanh,sigmoid", "--cost", "quadratic"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[0].startswith("float64: AGREES: largest normwise relative difference ")
    assert lines[0].endswith(" <= tolerance 1e-12")
    assert lines[1].startswith("mpmath (50 digits): AGREES: ") and lines[1].endswith(" <= tolerance 1e-45")
    assert lines[-1].startswith("crosscheck AGREES: ")


def test_crosscheck_says_disagrees_and_exits_1(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """Negative control: the engine's float64 gradient off by one part in a million."""
    right = reference.backprop

    def off(case: Any) -> dict[str, Any]:
        out = right(case)
        return {**out, "grad_biases": [g * (1 + 1e-6) for g in out["grad_biases"]]}

    monkeypatch.setattr(reference, "backprop", off)
    assert main(["crosscheck", "--sizes", "2,2", "--activations", "tanh", "--cost", "quadratic"]) == 1
    lines = capsys.readouterr().out.splitlines()
    assert lines[0].startswith("float64: DISAGREES: ") and " > tolerance 1e-12" in lines[0]
    assert lines[1].startswith("mpmath (50 digits): AGREES: ")  # backprop_mp was left alone
    assert any(line.startswith("grad_biases[") for line in lines)
    assert lines[-1].startswith("crosscheck DISAGREES: ")


@pytest.mark.parametrize("argv", [["--help"], ["prove", "--help"], ["crosscheck", "--help"]])
def test_help_is_plain_text(argv: list[str], capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as stop:
        main(argv)
    out = capsys.readouterr().out
    assert stop.value.code == 0 and "usage: python -m symbolic" in out
    assert "``" not in out and ":func:" not in out and "`" not in out


def test_plain_strips_rst_markup() -> None:
    assert plain("Run ``python -m x`` or :func:`symbolic.prove`; keep `this`.") == (
        "Run python -m x or symbolic.prove; keep `this`."
    )
