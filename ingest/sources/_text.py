"""Markdown helpers shared by the loaders: code fences, blockquotes, images, headings → sections."""

from __future__ import annotations

import html
import re
from collections.abc import Callable, Iterator

from ingest.post import Section

FENCE_RE = re.compile(r"^[ \t]*(```|~~~)")
HEADING_RE = re.compile(r"^(#{1,6})[ \t]+(\S.*?)[ \t]*$")
ANCHOR_RE = re.compile(r"\s*\[\s*\\?#\s*\]\([^)]*\)")
QUOTE_RE = re.compile(r"^(?:[ \t]*>(?![>=])[ \t]?)+", re.M)
LINKED_IMAGE_RE = re.compile(r"\[!\[([^\]]*)\]\(([^)\s]+)[^)]*\)\]\([^)]*\)")
ENTITY_RE = re.compile(r"&(?:#\d{1,7}|#[xX][0-9a-fA-F]{1,6}|[A-Za-z][A-Za-z0-9]{1,31});")
BLANKS_RE = re.compile(r"\n[ \t]*(?:\n[ \t]*)+\n")


def fence_blocks(text: str) -> Iterator[tuple[bool, str]]:
    """The text cut into runs of lines, each flagged True when it is a fenced code block (fences included).

    A fence left open at the end is taken as a stray fence line (scraped pages lose opening fences), not as
    code running to the end of the text."""
    run: list[str] = []
    fence = ""
    for line in text.split("\n"):
        if fence:
            run.append(line)
            if line.strip() and line.strip().strip(fence[0]) == "" and len(line.strip()) >= len(fence):
                yield True, "\n".join(run)
                run, fence = [], ""
            continue
        m = FENCE_RE.match(line)
        if m:
            if run:
                yield False, "\n".join(run)
            run, fence = [line], m.group(1)
            continue
        run.append(line)
    if run:
        yield False, "\n".join(run)


def outside_code(text: str, fn: Callable[[str], str]) -> str:
    """Apply ``fn`` to every part of the text that is not a fenced code block."""
    return "\n".join(block if code else fn(block) for code, block in fence_blocks(text))


def unwrap_blockquotes(text: str) -> str:
    """Drop ``> `` markers (a formula may run on across quoted lines; one post is wrongly quoted whole)."""
    return QUOTE_RE.sub("", text)


def simplify_images(text: str) -> str:
    """``[![alt](src)](href "title")`` → ``![alt](src)``."""
    return LINKED_IMAGE_RE.sub(r"![\1](\2)", text)


def unescape_entities(text: str) -> str:
    """HTML entities written out in full (``&lt;``, ``&#39;``) → characters; a bare ``&`` stays."""
    return ENTITY_RE.sub(lambda m: html.unescape(m.group()), text)


def tidy(text: str) -> str:
    """Trailing spaces off, runs of blank lines down to one, outer blank lines off."""
    text = "\n".join(line.rstrip() for line in text.split("\n"))
    return BLANKS_RE.sub("\n\n", text).strip("\n")


def clean_heading(title: str) -> str:
    title = ANCHOR_RE.sub("", title)
    title = re.sub(r"\s#+\s*$", "", title).strip()
    title = re.sub(r"^\*\*(.*)\*\*$", r"\1", title)
    return title.strip()


def split_sections(text: str) -> list[Section]:
    """Cut Markdown at its headings (not those inside fenced code) into sections keyed by heading path."""
    sections: list[Section] = []
    stack: list[tuple[int, str]] = []
    lines: list[str] = []

    def flush() -> None:
        body = tidy("\n".join(lines))
        if body:
            sections.append(Section(tuple(t for _, t in stack), body))
        lines.clear()

    for code, block in fence_blocks(text):
        if code:
            lines.append(block)
            continue
        for line in block.split("\n"):
            m = HEADING_RE.match(line)
            title = clean_heading(m.group(2)) if m else ""
            if not title:
                lines.append(line)
                continue
            flush()
            level = len(m.group(1))
            while stack and stack[-1][0] >= level:
                stack.pop()
            stack.append((level, title))
    flush()
    return sections
