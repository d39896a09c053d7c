"""A rendered proof as one self-contained HTML page, for ``python -m symbolic prove --output FILE.html``.

``render.render_proof`` writes Markdown with LaTeX; a browser shows neither. This converts exactly
the Markdown that renderer emits (headings, paragraphs, **bold**, `code`, "- " lists, "> " notes,
pipe tables, "---") to HTML, and leaves the math as LaTeX between MathJax's delimiters: ``$...$``
becomes ``\\( ... \\)`` and ``$$...$$`` becomes ``\\[ ... \\]``, HTML-escaped. The page needs nothing
else to be read: the LaTeX source shows as text. With ``mathjax=True`` it also loads MathJax from
its CDN, which typesets the math when the page is opened online.
"""

from __future__ import annotations

import html
import re

MATHJAX = '<script async src="https://cdn.jsdelivr.net/npm/mathjax@3/es5/tex-chtml.js"></script>'

_MATH = re.compile(r"\$\$(.+?)\$\$|\$(.+?)\$")
_BOLD = re.compile(r"\*\*(.+?)\*\*")
_CODE = re.compile(r"`([^`]+)`")

_STYLE = (
    "body{font-family:system-ui,sans-serif;max-width:60rem;margin:2rem auto;padding:0 1rem;line-height:1.5}"
    "table{border-collapse:collapse}td,th{border:1px solid #bbb;padding:.2rem .5rem}"
    "blockquote{border-left:3px solid #bbb;margin-left:0;padding-left:1rem;color:#444}"
)


def _text(segment: str) -> str:
    """Prose: escaped, then **bold** and `code`."""
    escaped = html.escape(segment, quote=False)
    return _CODE.sub(r"<code>\1</code>", _BOLD.sub(r"<strong>\1</strong>", escaped))


def inline(line: str) -> str:
    """One line of Markdown as HTML: math kept as LaTeX between MathJax delimiters, prose formatted."""
    out, start = [], 0
    for match in _MATH.finditer(line):
        out.append(_text(line[start : match.start()]))
        display, tex = match[1] is not None, match[1] if match[1] is not None else match[2]
        opening, closing = (r"\[", r"\]") if display else (r"\(", r"\)")
        out.append(opening + html.escape(tex, quote=False) + closing)
        start = match.end()
    out.append(_text(line[start:]))
    return "".join(out)


def _cells(row: str) -> list[str]:
    return [cell.strip() for cell in row.strip().strip("|").split("|")]


def _table(rows: list[str]) -> list[str]:
    """A pipe table: the first row is the header, the second (the alignment row) is dropped."""
    head = "".join(f"<th>{inline(c)}</th>" for c in _cells(rows[0]))
    body = ["<tr>" + "".join(f"<td>{inline(c)}</td>" for c in _cells(r)) + "</tr>" for r in rows[2:]]
    return ["<table>", f"<thead><tr>{head}</tr></thead>", "<tbody>", *body, "</tbody>", "</table>"]


def _blocks(markdown: str) -> list[list[str]]:
    """The text cut at blank lines, except that a list, a table or a note ends where its kind changes."""
    blocks: list[list[str]] = []
    for line in markdown.splitlines():
        if not line.strip():
            blocks.append([])
        elif blocks and blocks[-1] and _kind(blocks[-1][-1]) == _kind(line) and _kind(line) != "heading":
            blocks[-1].append(line)
        else:
            blocks.append([line])
    return [b for b in blocks if b]


def _kind(line: str) -> str:
    if line.startswith("#"):
        return "heading"
    if line.startswith("|"):
        return "table"
    if line.startswith("- "):
        return "list"
    if line.startswith("> "):
        return "note"
    if line.strip() == "---":
        return "rule"
    return "paragraph"


def to_html(markdown: str, title: str, mathjax: bool = False) -> str:
    """The whole page: the Markdown's blocks as HTML, a title, a little CSS, MathJax if asked for."""
    body: list[str] = []
    for block in _blocks(markdown):
        kind = _kind(block[0])
        if kind == "heading":
            level = min(len(block[0]) - len(block[0].lstrip("#")), 6)
            body.append(f"<h{level}>{inline(block[0][level:].strip())}</h{level}>")
        elif kind == "table":
            body += _table(block)
        elif kind == "list":
            body += ["<ul>", *(f"<li>{inline(line[2:])}</li>" for line in block), "</ul>"]
        elif kind == "note":
            body.append("<blockquote>" + "<br>\n".join(inline(line[2:]) for line in block) + "</blockquote>")
        elif kind == "rule":
            body.append("<hr>")
        else:
            body.append("<p>" + "\n".join(inline(line) for line in block) + "</p>")
    head = [
        "<!DOCTYPE html>",
        '<html lang="en">',
        "<head>",
        '<meta charset="utf-8">',
        f"<title>{html.escape(title)}</title>",
        f"<style>{_STYLE}</style>",
        *([MATHJAX] if mathjax else []),
        "</head>",
        "<body>",
    ]
    return "\n".join([*head, *body, "</body>", "</html>", ""])
