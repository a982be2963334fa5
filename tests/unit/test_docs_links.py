"""The README and docs/: every relative link and image resolves, and the pages stay small.

A link `page.md#anchor` must name a heading of that page, slugged as GitHub does (lowercase,
spaces to `-`, punctuation other than `-` and `_` dropped, a repeated heading gets `-1`, `-2`).
Links to http(s) URLs are not checked.
"""

import os
import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
README = ROOT / "README.md"
PAGES = sorted((ROOT / "docs").glob("*.md"))
README_MAX_BYTES = 8192  # at most
PAGE_LIMIT_BYTES = 20480  # under

FENCE = re.compile(r"^\s*(```|~~~)")
INLINE_CODE = re.compile(r"(`+)(?:(?!\1).)+?\1")
LINK = re.compile(r"!?\[(?:[^\[\]]|\[[^\[\]]*\])*\]\(\s*<?([^)\s>]*)>?(?:\s+\"[^\"]*\")?\s*\)")
HEADING = re.compile(r"^ {0,3}#{1,6}\s+(.*?)\s*#*\s*$")
EXTERNAL = re.compile(r"^[a-z][a-z0-9+.-]*:", re.IGNORECASE)  # http:, https:, mailto:, ...


def prose_lines(text: str) -> list[tuple[int, str]]:
    """(line number, line) outside fenced code blocks."""
    out, fenced = [], False
    for number, line in enumerate(text.splitlines(), 1):
        if FENCE.match(line):
            fenced = not fenced
        elif not fenced:
            out.append((number, line))
    return out


def slug(heading: str) -> str:
    """GitHub's anchor for a heading's text."""
    text = re.sub(r"!?\[([^\]]*)\]\([^)]*\)", r"\1", heading)  # a link counts as its text
    text = re.sub(r"[^\w\- ]", "", text.strip().lower())
    return text.replace(" ", "-")


def anchors(path: Path) -> set[str]:
    found, seen = set(), {}
    for _, line in prose_lines(path.read_text(encoding="utf-8")):
        match = HEADING.match(line)
        if match:
            base = slug(match.group(1))
            repeats = seen.get(base, 0)
            found.add(f"{base}-{repeats}" if repeats else base)
            seen[base] = repeats + 1
    return found


def links(path: Path) -> list[tuple[int, str]]:
    """(line number, target) of every Markdown link and image outside code."""
    found = []
    for number, line in prose_lines(path.read_text(encoding="utf-8")):
        for match in LINK.finditer(INLINE_CODE.sub("", line)):
            found.append((number, match.group(1)))
    return found


def broken_links(path: Path, root: Path = ROOT) -> list[str]:
    problems = []
    for number, target in links(path):
        where = f"{os.path.relpath(path, root)}:{number}: {target}"
        if not target:
            problems.append(f"{where}: empty link")
            continue
        if EXTERNAL.match(target):
            continue
        file_part, _, anchor = target.partition("#")
        dest = (path.parent / file_part).resolve() if file_part else path
        if not dest.exists():
            problems.append(f"{where}: no such file")
        elif anchor and dest.suffix == ".md" and anchor not in anchors(dest):
            problems.append(f"{where}: no heading #{anchor} in {os.path.relpath(dest, root)}")
    return problems


@pytest.mark.parametrize("path", [README, *PAGES], ids=lambda p: str(p.relative_to(ROOT)))
def test_relative_links_resolve(path):
    assert broken_links(path) == []


def test_there_are_pages_to_check():
    assert README.exists()
    assert len(PAGES) >= 10


def test_readme_is_a_front_door():
    size = README.stat().st_size
    assert size <= README_MAX_BYTES, f"README.md is {size} bytes, at most {README_MAX_BYTES}"


@pytest.mark.parametrize("path", PAGES, ids=lambda p: p.name)
def test_each_page_stays_under_20_kb(path):
    size = path.stat().st_size
    assert size < PAGE_LIMIT_BYTES, f"{path.name} is {size} bytes, must be < {PAGE_LIMIT_BYTES}"


def test_slugs_follow_github():
    assert slug("Queue, one refresh at a time, retries (`dagster.yaml`)") == (
        "queue-one-refresh-at-a-time-retries-dagsteryaml"
    )
    assert slug("`kam status`") == "kam-status"
    assert slug("Designation history (`key_account_designations`)") == (
        "designation-history-key_account_designations"
    )
    assert slug("See [the CLI](cli.md) first") == "see-the-cli-first"


def test_the_checker_finds_broken_links(tmp_path):
    (tmp_path / "a.md").write_text("# Title\n\n## Same\n\n## Same\n", encoding="utf-8")
    page = tmp_path / "b.md"
    page.write_text(
        "[ok](a.md#title) [dup](a.md#same-1) [bad](a.md#nope) [gone](missing.md)\n"
        "![img](pic.png) [web](https://example.com/x) `[code](nowhere.md)`\n"
        "```\n[fenced](nowhere.md)\n```\n[self](#nothing)\n",
        encoding="utf-8",
    )
    assert broken_links(page, root=tmp_path) == [
        "b.md:1: a.md#nope: no heading #nope in a.md",
        "b.md:1: missing.md: no such file",
        "b.md:2: pic.png: no such file",
        "b.md:6: #nothing: no heading #nothing in b.md",
    ]
