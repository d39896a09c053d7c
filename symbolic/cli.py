"""Command line: ``python -m symbolic prove`` and ``python -m symbolic crosscheck``.

prove prints the proof as Markdown with LaTeX, or writes it to ``--output FILE``: Markdown, or an
HTML page when FILE ends in .html (or with ``--format html``).
crosscheck prints AGREES or DISAGREES for float64 and for mpmath, each with its tolerance.

Exit status: 0 everything proven (or the cross-check agrees), 1 something disproven, not
proven, or in disagreement, 2 bad arguments (message on stderr).
"""

from __future__ import annotations

import argparse
import re
import sys
from collections.abc import Sequence
from pathlib import Path

from .html_page import to_html
from .spec import ACTIVATIONS, COSTS, HIDDEN_RULES, REDUCTIONS, Spec, check_size, make_spec


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> None:  # type: ignore[override]
        self.print_usage(sys.stderr)
        print(f"{self.prog}: error: {message}", file=sys.stderr)
        raise SystemExit(2)


def _sizes(text: str) -> list[int]:
    try:
        sizes = [int(part) for part in text.split(",")]
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"--sizes must be comma-separated integers such as 2,3,2, got {text!r}"
        ) from None
    return sizes


def _names(text: str) -> list[str]:
    return [part.strip() for part in text.split(",")]


def plain(text: str) -> str:
    """A docstring as plain text for ``--help``: RST's ``literals`` and :role:`names` lose their markup."""
    return re.sub(r":\w+:`([^`]+)`", r"\1", re.sub(r"``([^`]+)``", r"\1", text))


FORMATS = ("markdown", "html")


def _format(args: argparse.Namespace) -> str:
    """--format if given, else from --output's suffix (.html or .htm: html), else markdown."""
    if args.format is not None:
        return str(args.format)
    if args.output is not None and args.output.suffix.lower() in (".html", ".htm"):
        return "html"
    return "markdown"


def _check_output(path: Path | None) -> None:
    """Refuse an unwritable --output before the proof runs (it may take minutes), not after."""
    if path is None:
        return
    if path.is_dir():
        raise ValueError(f"--output {path} is a directory; expected a file name such as proof.md or proof.html")
    if not path.parent.is_dir():
        raise ValueError(f"--output {path}: the directory {path.parent} does not exist")


def _parser() -> argparse.ArgumentParser:
    parser = _Parser(
        prog="python -m symbolic",
        description=plain(__doc__ or ""),
        formatter_class=argparse.RawDescriptionHelpFormatter,  # the docstring's paragraphs, as written
    )
    sub = parser.add_subparsers(dest="command", required=True, parser_class=_Parser)
    for name, text in (
        ("prove", "derive every delta from the chain rule and prove the backprop equations"),
        ("crosscheck", "compare reference.backprop with the symbolic gradients at random points"),
    ):
        p = sub.add_parser(name, help=text, description=text)
        p.add_argument("--sizes", type=_sizes, required=True, help="layer widths, e.g. 2,3,2")
        p.add_argument(
            "--activations",
            type=_names,
            required=True,
            help=f"one per layer 2..L, comma-separated, from: {', '.join(ACTIVATIONS)}",
        )
        p.add_argument("--cost", required=True, help=f"one of: {', '.join(COSTS)}")
        p.add_argument("--reduction", default="mean", help=f"one of: {', '.join(REDUCTIONS)}")
        if name == "prove":
            p.add_argument("--hidden-rule", default="seed", help=f"one of: {', '.join(HIDDEN_RULES)}")
            p.add_argument("--summary", action="store_true", help="verdict table only")
            p.add_argument("--no-batch", action="store_true", help="skip the 2-sample batch checks")
            p.add_argument(
                "--per-entry",
                action="store_true",
                help="derive equations 3 and 4 for every weight and bias (default: one per layer, "
                "the others proven to be its renamings)",
            )
            p.add_argument(
                "--composed",
                action="store_true",
                help="also check every delta against the fully written-out cost (small networks)",
            )
            p.add_argument(
                "--output", type=Path, metavar="FILE", help="write the proof to this file instead of printing it"
            )
            p.add_argument(
                "--format",
                choices=FORMATS,
                help="markdown (the default) or html: a self-contained page with the math as LaTeX "
                "between \\( \\) (default: html when --output ends in .html)",
            )
            p.add_argument("--mathjax", action="store_true", help="html: load MathJax from its CDN to typeset the math")
        else:
            p.add_argument("--seed", type=int, default=0, help="random network and batch")
            p.add_argument("--samples", type=int, default=2, help="batch size m")
    return parser


def _prove(args: argparse.Namespace, spec: Spec) -> int:
    # Lazy, for start-up time: SymPy takes about 0.2 s to import, and --help or a
    # rejected size must answer at once (spec.py checks them without SymPy).
    from .prove import prove_spec  # noqa: PLC0415 - lazy, see above
    from .render import render_proof  # noqa: PLC0415 - lazy, see above

    proof = prove_spec(spec, batch=not args.no_batch, composed=args.composed, per_entry=args.per_entry)
    text = render_proof(proof, detail=not args.summary)
    if _format(args) == "html":
        title = f"Backpropagation from the chain rule: sizes {list(spec.sizes)}"
        text = to_html(text, title, mathjax=args.mathjax)
    if args.output is None:
        print(text)
    else:
        args.output.write_text(text, encoding="utf-8")
        print(f"{proof.verdict} ({len(proof.checks)} checks): wrote {args.output} ({_format(args)})")
    return 0 if proof.proven else 1


def _crosscheck(args: argparse.Namespace, spec: Spec) -> int:
    from .numeric import (  # noqa: PLC0415 - lazy, for start-up time (as in _prove)
        FLOAT64_TOL,
        MP_DIGITS,
        MP_TOL,
        cross_check,
        random_case,
    )

    report = cross_check(random_case(spec, args.samples, args.seed))
    for label, error, tolerance in (
        ("float64", report.float64_error, FLOAT64_TOL),
        (f"mpmath ({MP_DIGITS} digits)", report.mp_error, MP_TOL),
    ):
        word, op = ("AGREES", "<=") if error <= tolerance else ("DISAGREES", ">")
        print(f"{label}: {word}: largest normwise relative difference {error:.3g} {op} tolerance {tolerance:g}")
    for failure in report.failures:
        print(failure)
    print(
        f"crosscheck {'AGREES' if report.ok else 'DISAGREES'}: reference.backprop and reference.backprop_mp "
        f"against the chain rule's gradients (sizes {list(spec.sizes)}, m = {args.samples}, seed {args.seed})"
    )
    return 0 if report.ok else 1


def main(argv: Sequence[str] | None = None) -> int:
    parser = _parser()
    args = parser.parse_args(argv)
    try:
        spec = make_spec(
            args.sizes,
            args.activations,
            args.cost,
            args.reduction,
            getattr(args, "hidden_rule", "seed"),
        )
        check_size(spec)
        if args.command == "prove":
            _check_output(args.output)
            if args.mathjax and _format(args) != "html":
                raise ValueError("--mathjax is for the html format: add --format html or an --output ending in .html")
        if args.command == "prove" and args.composed and "relu" in spec.activations:
            raise ValueError("--composed does not support relu; the layer-by-layer proof covers it")
        if args.command == "crosscheck":
            if "sigma" in spec.activations:
                raise ValueError("crosscheck needs concrete activations; 'sigma' has no numeric value")
            if args.samples < 1:
                raise ValueError(f"--samples must be >= 1, got {args.samples}")
    except (ValueError, TypeError) as error:
        print(f"{parser.prog} {args.command}: error: {error}", file=sys.stderr)
        return 2
    return _prove(args, spec) if args.command == "prove" else _crosscheck(args, spec)
