"""Scraped web pages of posts (kexue-pages): the full page as Markdown, or the flat body-only layout."""

from __future__ import annotations

import re
from pathlib import Path

from ingest.post import Post, Section, SourceError, archive_url
from ingest.sources._escapes import escape_style, unescape
from ingest.sources._text import (
    fence_blocks,
    outside_code,
    simplify_images,
    split_sections,
    tidy,
    unescape_entities,
    unwrap_blockquotes,
)

MONTHS = {m: i for i, m in enumerate(("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov",
                                      "Dec"), 1)}
TITLE_RE = re.compile(r"^# \[(?P<title>.+)\]\((?P<url>https?://[^)\s]*?/archives/(?P<id>\d+))[^)]*\)[ \t]*$",
                      re.M)
BYLINE_RE = re.compile(r"By\s*苏剑林\s*\\?\|\s*(?P<date>\d{4}-\d{2}-\d{2})\s*\\?\|\s*\d+\s*位读者\s*\\?\|[ \t]*:?")
CITE_RE = re.compile(r"苏剑林\.\s*\((?P<mon>[A-Z][a-z]{2})[a-z]*\.?\s*(?P<day>\d{1,2}),\s*(?P<year>\d{4})\)\.\s*"
                     r"《(?P<title>[^\n]+?)\s*》[^\n]*?Retrieved from\s*\[?https?://\S+?/archives/(?P<id>\d+)")
BIBTEX_RE = re.compile(r"@online\{kexuefm-(?P<id>\d+),\s*title=\{(?P<title>[^\n]*)\},[ \t]*$", re.M)
REPRINT_RE = re.compile(r"[_*\s]*\*\*转载到请包括本文地址|^[ \t]*转载到请包括本文地址", re.M)
END_RES = [REPRINT_RE, re.compile(r"^\W*如果您还有什么疑惑或建议", re.M), re.compile(r"^\W*如果您需要引用本文", re.M),
           re.compile(r"^分类：", re.M), re.compile(r"^\[发表你的看法\]", re.M)]
META_LINE_RE = re.compile(r"^分类：(?P<line>.*)$", re.M)
LINK_RE = re.compile(r"\[([^\]]+)\]\((https?://[^)\s]+)[^)]*\)")
CRUMB_RE = re.compile(r"^\[首页\]\(https?://[^)]+\)\s*\[(?P<cat>[^\]]+)\]\(https?://[^)]*/category/", re.M)
EMPTY_HEADING_RE = re.compile(r"^#{1,6}[ \t]*(?:\[#\]\([^)\n]*\))?[ \t]*$", re.M)
MD_HEADING_RE = re.compile(r"^#{2,6} \S", re.M)
MIDLINE_HEADING_RE = re.compile(r"(?<=[^\s#])[ \t]*(#{2,6} [^\n#]{1,80}?\[#\]\([^)\n]*\))")
INNER_TICKS_RE = re.compile(r"^(```[^\n]*\n)`([^`]*)`(\n```)[ \t]*$", re.M)
SELF_LINK_RE = re.compile(r"\[([^\]\n]+)\]\(https?://kexue\.fm/kexue\.fm#[^)\s]*\)")
GLUED_FENCE_RE = re.compile(r"(?<=[^\s`])```(?=[ \t]*\n)")
CHROME_MARKERS = ("## CATEGORIES", "## NEWPOSTS", "## COMMENTS")


def detect(text: str, path: Path) -> bool:
    return "kexue.fm/archives/" in text and bool(
        TITLE_RE.search(text) or "Retrieved from" in text or any(m in text for m in CHROME_MARKERS))


def _body_span(text: str) -> tuple[int, int, re.Match | None]:
    start = 0
    title = TITLE_RE.search(text)
    if title:
        start = title.end()
    by = BYLINE_RE.search(text, start, start + 600)
    if by:
        start = by.end()
    elif not title and any(m in text for m in CHROME_MARKERS):
        return 0, 0, None
    ends = [m.start() for r in END_RES if (m := r.search(text, start))]
    return start, min(ends, default=len(text)), by


def _metadata(text: str, path: Path, by: re.Match | None, style: str) -> dict:
    meta = {"post_id": "", "title": "", "date": by.group("date") if by else "", "category": "", "tags": []}
    cite, bib, title = CITE_RE.search(text), BIBTEX_RE.search(text), TITLE_RE.search(text)
    if title:
        meta["post_id"], meta["title"] = title.group("id"), title.group("title")
    elif bib:
        meta["post_id"], meta["title"] = bib.group("id"), bib.group("title")
    elif cite:
        meta["post_id"], meta["title"] = cite.group("id"), cite.group("title")
    if not meta["date"] and cite:
        month = MONTHS.get(cite.group("mon"), 0)
        meta["date"] = f"{cite.group('year')}-{month:02d}-{int(cite.group('day')):02d}" if month else ""
    if not meta["post_id"] and re.fullmatch(r"\d+", path.stem):
        meta["post_id"] = path.stem
    line = META_LINE_RE.search(text)
    if line:
        for label, url in LINK_RE.findall(line.group("line")):
            if "/category/" in url and not meta["category"]:
                meta["category"] = label
            elif "/tag/" in url:
                meta["tags"].append(label)
    if not meta["category"] and (crumb := CRUMB_RE.search(text)):
        meta["category"] = crumb.group("cat")
    for key in ("title", "category"):
        meta[key] = _clean_inline(meta[key], style)
    meta["tags"] = [_clean_inline(t, style) for t in meta["tags"]]
    return meta


def _clean_inline(value: str, style: str) -> str:
    return unescape_entities(unescape(value, style)).strip()


FLAT_HEAD_TOKEN_RE = re.compile(r"[^\s()=\[\]{}$\\'\"<>;,，。：；:&@.`|/*]{1,20}")
ASCII_WORD_RE = re.compile(r"[A-Za-z0-9][A-Za-z0-9'+\-]*|-")
CODE_TAIL_RE = re.compile(r"[=@:(,\[{+*/%<>-]$")
TABLE_RULE_RE = re.compile(r"[ \t]*[=_-]{3,}")
SENTENCE_END_RE = re.compile(r"(?<=[。！？])[ \t]+(?=\S)")


def _flat_heading(before: str) -> int | None:
    """Where the heading that ends ``before`` (the text before an inline `` # ``) starts, if it is one."""
    tokens = list(re.finditer(r"\S+", before[-120:]))
    if not tokens or not FLAT_HEAD_TOKEN_RE.fullmatch(tokens[-1].group()):
        return None
    first = len(tokens) - 1
    while first > 0 and len(tokens) - first < 4 and ASCII_WORD_RE.fullmatch(tokens[first - 1].group()) \
            and (ASCII_WORD_RE.fullmatch(tokens[first].group()) or tokens[first].group()[0].isascii()):
        first -= 1
    if first > 0 and CODE_TAIL_RE.search(tokens[first - 1].group()):
        return None
    return len(before) - len(before[-120:]) + tokens[first].start()


def flat_sections(body: str) -> list[Section]:
    """Sections of the flat layout, cut at its ``heading # text`` markers; paragraphs split at sentence ends."""
    parts: list[tuple[tuple[str, ...], str]] = []
    path: tuple[str, ...] = ()
    pos = 0
    for m in re.finditer(r"(?<= )#(?= |\n|$)", body):
        start = _flat_heading(body[pos:m.start() - 1])
        eol = body.find("\n", m.end())
        line_rest = body[m.end():eol if eol >= 0 else len(body)].strip()
        if start is None or TABLE_RULE_RE.match(line_rest) or (line_rest.isascii() and len(line_rest) < 20):
            continue
        parts.append((path, body[pos:pos + start]))
        path = (body[pos + start:m.start() - 1].strip(),)
        pos = m.end()
    parts.append((path, body[pos:]))
    sections = []
    for path, text in parts:
        text = tidy(simplify_images(SENTENCE_END_RE.sub("\n\n", text)))
        if text:
            sections.append(Section(path, text))
    return sections


def load(text: str, path: Path) -> list[Post]:
    text = GLUED_FENCE_RE.sub("\n```", text)
    start, end, by = _body_span(text)
    raw = text[start:end]
    style = escape_style("\n".join(block for code, block in fence_blocks(text) if not code))
    # the `double` scraper escaped code blocks too (and wrapped them in `...`); the `pairs` one left them alone
    body = unescape(raw, style) if style == "double" else outside_code(raw, lambda s: unescape(s, style))
    body = INNER_TICKS_RE.sub(r"\1\2\3", SELF_LINK_RE.sub(r"\1", unescape_entities(body)))
    body = EMPTY_HEADING_RE.sub("", body)
    flat = not MD_HEADING_RE.search(body) and not TITLE_RE.search(text)
    if flat:
        sections = flat_sections(body)
    else:
        body = outside_code(body, lambda s: MIDLINE_HEADING_RE.sub(r"\n\n\1", s))
        sections = split_sections(tidy(simplify_images(outside_code(body, unwrap_blockquotes))))
    if sum(len(re.sub(r"\s", "", s.text)) for s in sections) < 20:
        raise SourceError(str(path), "no post body found (the page holds only site chrome)")
    meta = _metadata(text, path, by, style)
    if not meta["post_id"]:
        raise SourceError(str(path), "no archive id (no title link, citation or numeric file name)")
    if not meta["title"]:
        raise SourceError(str(path), "no post title found")
    return [Post(url=archive_url(meta["post_id"]), sections=sections, source=str(path),
                 format="page-flat" if flat else "page", **meta)]
