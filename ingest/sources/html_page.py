"""HTML pages as kexue.fm serves them: a post page (body in ``.PostContent``) or a listing page (``div.Post``).

The body HTML becomes Markdown-ish text: headings → ``##`` lines (and so sections), ``<pre>`` → fenced code,
MathJax source kept as the raw TeX it is in the HTML (``<script type="math/tex">`` → ``$...$``).
"""

from __future__ import annotations

import re
from pathlib import Path

from bs4 import BeautifulSoup, Comment, Declaration, Doctype, NavigableString, ProcessingInstruction, Tag

from ingest.post import Post, Section, SourceError, archive_url
from ingest.sources._text import split_sections, tidy

ARCHIVE_RE = re.compile(r"/archives/(\d+)(?:[/?#]|$)")
DATE_RE = re.compile(r"(\d{4})-(\d{1,2})-(\d{1,2})")
END_MARKERS = ("转载到请包括本文地址", "如果您需要引用本文", "如果您还有什么疑惑或建议")
BLOCKS = {"p", "div", "section", "article", "blockquote", "center", "figure", "figcaption", "dl", "dd", "dt"}
LABEL_RE = re.compile(r"[\u4e00-\u9fff]{2}[:：]")
SKIP = {"style", "noscript", "iframe", "form", "button", "input", "textarea", "select", "nav", "svg"}


def detect(text: str, path: Path) -> bool:
    head = text[:2048].lstrip().lower()
    return head.startswith(("<!doctype html", "<html")) or bool(
        re.search(r"<div[^>]+class=\"[^\"]*\b(PostContent|Post)\b", text[:200000]))


def _inline(node: Tag) -> str:
    return "".join(_convert(c) for c in node.children)


def _convert(node) -> str:
    """One node as Markdown-ish text."""
    if isinstance(node, NavigableString):
        return "" if isinstance(node, Comment | Declaration | Doctype | ProcessingInstruction) else str(node)
    if not isinstance(node, Tag) or node.name in SKIP:
        return ""
    name = node.name
    if name == "script":
        kind = (node.get("type") or "").lower()
        if kind.startswith("math/tex"):
            tex = node.get_text()
            return f"$${tex}$$" if "mode=display" in kind else f"${tex}$"
        return ""
    if re.fullmatch(r"h[1-6]", name):
        for a in node.find_all("a"):
            if a.get_text(strip=True) in ("#", "") or (a.get("href") or "").startswith("#"):
                a.decompose()
        return f"\n\n{'#' * int(name[1])} {node.get_text(' ', strip=True)}\n\n"
    if name == "pre":
        return f"\n\n```\n{node.get_text().strip(chr(10))}\n```\n\n"
    if name == "code":
        return f"`{node.get_text()}`"
    if name == "br":
        return "\n"
    if name == "img":
        return f"![{node.get('alt', '')}]({node.get('src', '')})"
    if name in ("strong", "b"):
        inner = _inline(node).strip()
        return f"**{inner}**" if inner else ""
    if name == "a":
        inner, href = _inline(node), node.get("href", "")
        if node.find("img") or not href or href.startswith(("#", "javascript:")) or inner.strip() == href:
            return inner
        return f"[{inner}]({href})"
    if name in ("ul", "ol"):
        items = [li for li in node.find_all("li", recursive=False)]
        marks = [f"{i}." for i in range(1, len(items) + 1)] if name == "ol" else ["-"] * len(items)
        return "\n\n" + "\n".join(f"{m} {_inline(li).strip()}" for m, li in zip(marks, items, strict=True)) + "\n\n"
    if name == "table":
        rows = ["| " + " | ".join(_inline(c).strip().replace("\n", " ") for c in tr.find_all(["td", "th"]))
                + " |" for tr in node.find_all("tr")]
        return "\n\n" + "\n".join(rows) + "\n\n"
    if name == "hr":
        return "\n\n---\n\n"
    text = _inline(node)
    return f"\n\n{text}\n\n" if name in BLOCKS else text


def body_markdown(content: Tag) -> str:
    """The post body (``.PostContent``) as Markdown, without the reprint/citation notice at its end."""
    text = tidy(_convert(content))
    cut = min((i for m in END_MARKERS if (i := text.find(m)) >= 0), default=len(text))
    return tidy(re.sub(r"[_*\s]*$", "", text[:cut]))


def _iso(text: str) -> str:
    m = DATE_RE.search(text or "")
    return f"{int(m.group(1)):04d}-{int(m.group(2)):02d}-{int(m.group(3)):02d}" if m else ""


def _labelled_links(soup: BeautifulSoup, label: str, kind: str) -> list[str]:
    """Texts of the ``/category/`` or ``/tag/`` links right after a label such as ``分类：``."""
    for node in soup.find_all(string=re.compile(label + "[:：]")):
        links: list[str] = []
        for el in node.next_elements:
            if isinstance(el, NavigableString):
                if el is not node and LABEL_RE.search(el):
                    break
            elif el.name == "a":
                if kind not in (el.get("href") or ""):
                    break
                links.append(el.get_text(strip=True))
            elif el.name in BLOCKS or el.name in ("li", "br"):
                break
        if links:
            return links
    return []


def _post_id(soup: BeautifulSoup, title_link: Tag | None, path: Path) -> str:
    candidates = [title_link.get("href") if title_link else None]
    for selector, attr in (("link[rel=canonical]", "href"), ("meta[property='og:url']", "content")):
        el = soup.select_one(selector)
        candidates.append(el.get(attr) if el else None)
    for url in candidates:
        if url and (m := ARCHIVE_RE.search(url)):
            return m.group(1)
    return path.stem if path.stem.isdigit() else ""


def _load_post(soup: BeautifulSoup, content: Tag, path: Path) -> Post:
    title_link = None
    for heading in soup.find_all(["h1", "h2"]):
        link = heading.find("a", href=ARCHIVE_RE)
        if link and link.get_text(strip=True):
            title_link = link
            break
    title = title_link.get_text(strip=True) if title_link else ""
    if not title:
        heading = soup.find("h1")
        page_title = soup.title.get_text(strip=True) if soup.title else ""
        title = heading.get_text(strip=True) if heading else re.split(r"\s+[-|–]\s+", page_title)[0]
    post_id = _post_id(soup, title_link, path)
    if not post_id:
        raise SourceError(str(path), "no archive id (no /archives/<id> link, canonical URL or numeric file name)")
    submitted = soup.select_one(".submitted, .PostTime, time")
    published = soup.select_one("meta[property='article:published_time']")
    date = _iso(submitted.get_text(" ") if submitted else "") or _iso(published.get("content", "") if published else "")
    sections = split_sections(body_markdown(content))
    if not sections:
        raise SourceError(str(path), "no post body found (empty .PostContent)")
    categories = _labelled_links(soup, "分类", "/category/")
    return Post(post_id=post_id, title=title, date=date, url=archive_url(post_id), sections=sections,
                source=str(path), format="html", category=categories[0] if categories else "",
                tags=_labelled_links(soup, "标签", "/tag/"))


def _load_listing(items: list[Tag], path: Path) -> list[Post]:
    posts = []
    for item in items:
        link = item.select_one("h2 a[href]")
        m = ARCHIVE_RE.search(link.get("href", "")) if link else None
        if not m:
            continue
        post_id, title = m.group(1), link.get_text(strip=True)
        meta = item.select_one(".submitted")
        date = _iso(meta.get_text(" ")) if meta else ""
        body = item.select_one(".PostContent") or item
        for junk in [*body.select("h2, .submitted"), *(a for a in body.find_all("a") if "阅读全文" in a.get_text())]:
            junk.decompose()
        text = re.sub(r"\s*点击阅读全文\.*\s*$", "", body_markdown(body))
        posts.append(Post(post_id=post_id, title=title, date=date, url=archive_url(post_id),
                          sections=[Section((), text)] if text else [], source=str(path), format="listing",
                          excerpt=True))
    return posts


def load(text: str, path: Path) -> list[Post]:
    soup = BeautifulSoup(text, "lxml")
    items = soup.select("div.Post")
    content = soup.select_one(".PostContent")
    if len(items) > 1 or (items and (content is None or "阅读全文" in items[0].get_text())):
        return _load_listing(items, path)
    if content is None:
        raise SourceError(str(path), "no post body found (no .PostContent element)")
    return [_load_post(soup, content, path)]
