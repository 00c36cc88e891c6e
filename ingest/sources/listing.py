"""Listing pages copied as plain text (seeds/): each entry becomes an excerpt Post.

Two layouts: search/category listings (title line, then ``By 苏剑林 | 2020-12-11 | N位读者 | 引用`` with the
opening paragraph glued on) and home-page listings (``11 Dec``, blank line, title, opening paragraphs,
``点击阅读全文...``). Neither carries archive ids, and home-page entries carry no year and sometimes no title
(the entry then starts with its opening paragraph, or with an image caption written twice). An entry without
an id gets a stable synthetic one: ``title:<sha1(normalised title)[:10]>``, or ``text:<sha1(normalised first
200 characters of the excerpt)[:10]>`` when it has no title either; ``merge_posts`` later folds such entries
into the full post with the same title or the same opening text.
"""

from __future__ import annotations

import hashlib
import re
import unicodedata
from pathlib import Path

from ingest.post import Post, Section

SEARCH_META_RE = re.compile(r"^By 苏剑林 \| (?P<date>\d{4}-\d{2}-\d{2}) \| \d+\s*位读者 \|(?: ?引用)?", re.M)
MORE_RE = re.compile(r"^[ \t]*点击阅读全文\.*[ \t]*$", re.M)
DAY_MONTH_RE = re.compile(r"\A\s*(\d{1,2}) (Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec)[ \t]*\n")
CHROME_TAIL_RE = re.compile(r"(?:\n[ \t]*(?:最近评论|随机文章|热门标签|友情链接|智能搜索|内容速览)?[ \t]*)+\Z")
_NON_WORD = re.compile(r"[\W_]+")
TITLE_END_RE = re.compile(r"[。，,；;：:…．.]$")


def detect(text: str, path: Path) -> bool:
    return bool(SEARCH_META_RE.search(text)) or (
        bool(MORE_RE.search(text)) and bool(re.search(r"^\d{1,2} [A-Z][a-z]{2}[ \t]*$", text, re.M)))


def normalise(text: str) -> str:
    """Text reduced for matching: NFKC, links reduced to their text, only letters and digits, lower case."""
    text = re.sub(r"!?\[([^\]]*)\]\([^)]*\)", r"\1", unicodedata.normalize("NFKC", text))
    text = re.sub(r"https?://\S+", "", text)
    return _NON_WORD.sub("", text).lower()


def synthetic_id(title: str, text: str) -> str:
    if title:
        return "title:" + hashlib.sha1(normalise(title).encode("utf-8")).hexdigest()[:10]
    return "text:" + hashlib.sha1(normalise(text)[:200].encode("utf-8")).hexdigest()[:10]


def _excerpt(title: str, date: str, text: str, path: Path) -> Post:
    return Post(post_id=synthetic_id(title, text), title=title, date=date, url="",
                sections=[Section((), text)], source=str(path), format="listing", excerpt=True)


def _search_entries(text: str, path: Path) -> list[Post]:
    lines = text.split("\n")
    metas = [(i, m) for i, line in enumerate(lines) if (m := SEARCH_META_RE.match(line))]
    posts = []
    for n, (i, m) in enumerate(metas):
        above = lines[i - 1] if i > 0 else ""
        above_meta = SEARCH_META_RE.match(above)
        title = above[above_meta.end():].strip() if above_meta else above.strip()
        stop = metas[n + 1][0] - 1 if n + 1 < len(metas) else len(lines)
        if stop == i:  # what follows ``引用`` here is the next entry's title: this entry shows no excerpt
            continue
        body = "\n".join([lines[i][m.end():], *lines[i + 1:stop]]).strip()
        if body:
            posts.append(_excerpt(title, m.group("date"), body, path))
    return posts


def _home_entry(chunk: str, path: Path) -> Post | None:
    raw = [p.strip() for p in re.split(r"\n[ \t]*\n", DAY_MONTH_RE.sub("", chunk, count=1)) if p.strip()]
    if not raw:
        return None
    captioned = len(raw) > 1 and raw[0] == raw[1]  # an image caption (alt text and caption), not a title
    paras = [p for i, p in enumerate(raw) if i == 0 or p != raw[i - 1]]
    first = paras[0]
    is_title = (not captioned and len(paras) > 1 and "\n" not in first and len(first) <= 80
                and "$" not in first and not TITLE_END_RE.search(first))
    body = "\n\n".join(paras[1:] if is_title else paras)
    return _excerpt(first if is_title else "", "", body, path)


def load(text: str, path: Path) -> list[Post]:
    text = CHROME_TAIL_RE.sub("", text)
    if SEARCH_META_RE.search(text):
        return _search_entries(text, path)
    return [p for chunk in MORE_RE.split(text) if (p := _home_entry(chunk, path))]
