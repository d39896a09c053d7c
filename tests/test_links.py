"""Nothing in the repository points outside it: a reader of any file has everything it refers to.

Every tracked .md, .py, .toml and .txt file is read. Markdown links (inline code and fenced
blocks aside) must name a file or directory inside the repository, and an anchor must name a
heading of the page it points to. No file may mention the workshop's paths that a user of the
project does not have (spelled below in pieces, so that this file does not mention them).
"""

from __future__ import annotations

import re
import shutil
import subprocess
from collections.abc import Iterable
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
SUFFIXES = (".md", ".py", ".toml", ".txt")
FORBIDDEN = ("../" + "shared", "NOTES" + ".md", "/" + "work/")

_FENCED = re.compile(r"^```.*?^```", re.DOTALL | re.MULTILINE)
_INLINE_CODE = re.compile(r"`[^`\n]*`")
_LINK = re.compile(r"!?\[[^\]\n]*\]\(\s*<?([^)\s>]+)>?(?:\s+\"[^\"]*\")?\s*\)")
_HEADING = re.compile(r"^#{1,6}\s+(.+?)\s*#*\s*$", re.MULTILINE)
_EXTERNAL = re.compile(r"^[a-z][a-z0-9+.-]*:", re.IGNORECASE)  # https:, mailto:, ...


def tracked_files() -> list[Path]:
    """The repository's own files of the checked kinds (git's list: no scratch or build output)."""
    if shutil.which("git") is None or not (ROOT / ".git").exists():
        pytest.skip("not a git checkout: the list of tracked files is unknown")
    listed = subprocess.run(["git", "ls-files", "-z"], cwd=ROOT, capture_output=True, text=True, check=True)
    paths = [ROOT / name for name in listed.stdout.split("\0") if name.endswith(SUFFIXES)]
    return [p for p in paths if p.is_file()]  # a file deleted in the worktree but not yet in git is gone


def slug(heading: str) -> str:
    """GitHub's anchor for a heading: lower case, punctuation dropped, spaces to hyphens."""
    text = re.sub(r"[`*_]|<[^>]+>", "", heading).strip().lower()
    return re.sub(r"[^\w\- ]", "", text).replace(" ", "-")


def anchors(markdown: str) -> set[str]:
    seen: dict[str, int] = {}
    out = set()
    for heading in _HEADING.findall(_FENCED.sub("", markdown)):
        base = slug(heading)
        count = seen.get(base, 0)
        seen[base] = count + 1
        out.add(base if count == 0 else f"{base}-{count}")
    return out


def link_problems(text: str, source: Path, root: Path) -> list[str]:
    """Every Markdown link in ``text`` (the content of ``source``) that leaves ``root`` or leads nowhere."""
    problems = []
    prose = _INLINE_CODE.sub("", _FENCED.sub("", text))
    for target in _LINK.findall(prose):
        if _EXTERNAL.match(target):
            continue
        path_part, _, anchor = target.partition("#")
        resolved = (source.parent / path_part).resolve() if path_part else source.resolve()
        where = f"{source.relative_to(root)}: link {target!r}"
        if path_part.startswith("/") or not resolved.is_relative_to(root):
            problems.append(f"{where} leaves the repository")
        elif not resolved.exists():
            problems.append(f"{where} names a file that does not exist")
        elif anchor and resolved.suffix == ".md":
            page = text if resolved == source.resolve() else resolved.read_text(encoding="utf-8")
            if anchor not in anchors(page):
                problems.append(f"{where} names no heading of {resolved.relative_to(root)}")
    return problems


def mention_problems(text: str, source: Path, root: Path) -> list[str]:
    return [f"{source.relative_to(root)} mentions {word!r}" for word in FORBIDDEN if word in text]


def problems_in(files: Iterable[Path], root: Path) -> list[str]:
    out = []
    for path in files:
        text = path.read_text(encoding="utf-8")
        out += mention_problems(text, path, root)
        if path.suffix == ".md":
            out += link_problems(text, path, root)
    return out


def test_no_file_links_or_refers_outside_the_repository() -> None:
    files = tracked_files()
    assert any(p.name == "README.md" for p in files) and any(p.parent.name == "docs" for p in files)
    problems = problems_in(files, ROOT)
    assert not problems, "\n".join(problems)


def test_the_checker_flags_bad_links_and_mentions(tmp_path: Path) -> None:
    """Negative control: links out of the root, to nothing, to a missing heading, and the forbidden words."""
    root = tmp_path / "repo"
    (root / "docs").mkdir(parents=True)
    (root / "docs" / "guide.md").write_text("# A guide\n\n## The part\n", encoding="utf-8")
    page = root / "README.md"
    page.write_text(
        "# Title\n\n"
        "[fine](docs/guide.md#the-part) [fine too](#title) [web](https://example.org/x.md)\n"
        "[escapes](../outside.md) [missing](docs/nothing.md) [no heading](docs/guide.md#no-such-part)\n"
        "`[in code](nowhere.md)`\n\n"
        f"see {FORBIDDEN[0]}/seed and {FORBIDDEN[1]}\n",
        encoding="utf-8",
    )
    (tmp_path / "outside.md").write_text("outside\n", encoding="utf-8")
    found = problems_in([page], root)
    assert any("'../outside.md' leaves the repository" in p for p in found), found
    assert any("'docs/nothing.md' names a file that does not exist" in p for p in found), found
    assert any("'docs/guide.md#no-such-part' names no heading" in p for p in found), found
    assert any(FORBIDDEN[0] in p for p in found) and any(FORBIDDEN[1] in p for p in found), found
    assert len(found) == 5, found  # the good links, the web link and the one in code are not flagged


def test_anchors_follow_githubs_slugs() -> None:
    page = '# Top\n## 1. Validate your implementation\n## What "proven" means\n## Top\n```\n# not a heading\n```\n'
    assert anchors(page) == {"top", "1-validate-your-implementation", "what-proven-means", "top-1"}
