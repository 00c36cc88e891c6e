"""Search the blog: posts ranked by the answering API's hybrid retrieval (dense FAISS + BM25, fused by reciprocal
rank), filtered by date range and category, each with its best-matching passage and the query's terms in bold."""

from __future__ import annotations

import re
from dataclasses import asdict, dataclass
from datetime import date as Date
from typing import Any

from app.answering.retriever import CANDIDATES
from app.answering.textmatch import clean_sentence, overlap
from app.bm25 import STOPWORDS, jieba_module
from ingest.latex_spans import protected_spans, sentences

MAX_K = 50
PASSAGE_CHARS = 300
_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
_ASCII_WORD = re.compile(r"[A-Za-z0-9][A-Za-z0-9_\-]*")
_CJK = re.compile(r"^[\u4e00-\u9fff]+$")
_LINK = re.compile(r"!?\[([^\]]*)\]\([^)\s]*\)")
_EMPHASIS = re.compile(r"\*\*")
_BLOCK = re.compile(r"^\s*(\$\$|\\begin\{|\\\[|```|~~~|\|)")
_catalogs: dict[str, dict[str, dict[str, str]]] = {}


@dataclass
class PostHit:
    """One post found: where it ranks, its metadata and its best-matching passage (plain and highlighted)."""

    rank: int
    post_id: str
    title: str
    date: str
    category: str
    url: str
    section: str
    score: float
    passage: str
    snippet: str

    def to_json(self) -> dict:
        return asdict(self)


class SearchError(ValueError):
    """A bad search argument; the message names the field."""


def catalog(retriever: Any) -> dict[str, dict[str, str]]:
    """post id -> {"date", "category"} for every post of the retriever's index (read once per index version)."""
    index = retriever.index
    key = str(index.path)
    if key not in _catalogs:
        posts: dict[str, dict[str, str]] = {}
        for post_id in index.manifest["posts"]:
            meta = index.docstore.get_node(f"{post_id}#0").metadata
            posts[post_id] = {"date": str(meta.get("date") or "")[:10], "category": str(meta.get("category") or "")}
        _catalogs[key] = posts
    return _catalogs[key]


def categories(retriever: Any) -> list[str]:
    """The index's categories, the most used first."""
    counts: dict[str, int] = {}
    for post in catalog(retriever).values():
        if post["category"]:
            counts[post["category"]] = counts.get(post["category"], 0) + 1
    return sorted(counts, key=lambda name: (-counts[name], name))


def check_date(field: str, value: str | None) -> str | None:
    """``value`` trimmed (None when empty); ``SearchError`` unless it is a date YYYY-MM-DD."""
    if value is None or not str(value).strip():
        return None
    value = str(value).strip()
    try:
        if not _DATE.match(value):
            raise ValueError
        Date.fromisoformat(value)
    except ValueError:
        raise SearchError(f"{field} must be a date YYYY-MM-DD, not {value!r}") from None
    return value


def _check_category(retriever: Any, value: str | None) -> str | None:
    if value is None or not value.strip():
        return None
    known = categories(retriever)
    wanted = value.strip()
    for name in known:
        if name == wanted or name.casefold() == wanted.casefold():
            return name
    raise SearchError(f"category {value!r} is not in the index (known: {', '.join(known) or 'none'})")


def query_terms(query: str) -> list[str]:
    """The words of the query worth highlighting: jieba words of two or more Chinese characters, English words and
    numbers, no stopwords; longest first."""
    terms = set()
    for word in jieba_module().lcut_for_search(query):
        word = word.strip().lower()
        if word in STOPWORDS or not word:
            continue
        if (_CJK.match(word) and len(word) >= 2) or (_ASCII_WORD.fullmatch(word) and len(word) >= 2):
            terms.add(word)
    return sorted(terms, key=lambda t: (-len(t), t))


def highlight(text: str, terms: list[str]) -> str:
    """``text`` as Markdown (asterisks escaped) with every occurrence of ``terms`` outside formulas and code in bold,
    adjacent ones merged; an English term matches case-insensitively and only at the start of a word."""
    marked = [False] * len(text)
    for term in terms:
        prefix = r"(?<![A-Za-z0-9])" if _ASCII_WORD.fullmatch(term) else ""
        for m in re.finditer(prefix + re.escape(term), text, re.IGNORECASE):
            marked[m.start():m.end()] = [True] * (m.end() - m.start())
    plain = [True] * len(text)
    for start, end in protected_spans(text):
        marked[start:end] = [False] * (end - start)
        plain[start:end] = [False] * (end - start)
    out: list[str] = []
    for i, ch in enumerate(text):
        if marked[i] and (i == 0 or not marked[i - 1]):
            out.append("**")
        out.append("\\*" if ch == "*" and plain[i] else ch)
        if marked[i] and (i + 1 == len(text) or not marked[i + 1]):
            out.append("**")
    return "".join(out)


def _cut(text: str, chars: int) -> str:
    """The start of ``text`` up to about ``chars`` characters, never ending inside a formula or code span."""
    if len(text) <= chars:
        return text
    cut = chars
    for start, end in protected_spans(text):
        if start < cut < end:
            cut = start if start > chars // 3 else end if end <= 2 * chars else chars
            break
    return text[:cut].rstrip() + ("…" if cut < len(text) else "")


def best_passage(query: str, text: str, chars: int = PASSAGE_CHARS) -> str:
    """About ``chars`` characters of ``text`` around its sentence that best matches the query, as plain text (display
    formulas and code blocks left out unless there is nothing else)."""
    plain = _EMPHASIS.sub("", _LINK.sub(r"\1", text))
    units = [u for u in (clean_sentence(s.lstrip("#> ")) for s in sentences(plain)) if u]
    units = [u for u in units if not _BLOCK.match(u)] or units
    if not units:
        return ""
    best = max(range(len(units)), key=lambda i: (overlap(query, units[i]), -i))
    lo = hi = best
    size = len(units[best])
    while True:
        after = units[hi + 1] if hi + 1 < len(units) else None
        before = units[lo - 1] if lo > 0 else None
        pick = after if after is not None and (before is None or hi - best <= best - lo) else before
        if pick is None or size + len(pick) + 1 > chars:
            break
        hi, lo = (hi + 1, lo) if pick is after else (hi, lo - 1)
        size += len(pick) + 1
    return _cut(" ".join(units[lo:hi + 1]), int(chars * 1.5))


def _check(retriever: Any, query: str, k: int, after: str | None, before: str | None,
           category: str | None) -> tuple[str, int, str | None, str | None, str | None]:
    if not isinstance(query, str) or not query.strip():
        raise SearchError("query must not be empty")
    try:
        k = int(k)
    except (TypeError, ValueError):
        raise SearchError(f"k must be a whole number from 1 to {MAX_K}, not {k!r}") from None
    if not 1 <= k <= MAX_K:
        raise SearchError(f"k must be from 1 to {MAX_K}, not {k}")
    after, before = check_date("after", after), check_date("before", before)
    if after and before and after > before:
        raise SearchError(f"after ({after}) must not be later than before ({before})")
    return query.strip(), k, after, before, _check_category(retriever, category)


def search_posts(retriever: Any, query: str, k: int = 10, after: str | None = None, before: str | None = None,
                 category: str | None = None) -> list[PostHit]:
    """The ``k`` posts that best match ``query`` (hybrid retrieval), published between ``after`` and ``before``
    (inclusive, YYYY-MM-DD) and in ``category``; ``SearchError`` for a bad argument."""
    query, k, after, before, category = _check(retriever, query, k, after, before, category)
    posts = catalog(retriever)
    allowed = {pid for pid, p in posts.items() if (not after or p["date"] >= after)
               and (not before or p["date"] <= before) and (not category or p["category"] == category)}
    if not allowed:
        return []
    narrowed = allowed if len(allowed) < len(posts) else None
    ranking = retriever.rank_posts(query, "hybrid", narrowed, max(CANDIDATES, 4 * k))
    terms = query_terms(query)
    hits: list[PostHit] = []
    for post_id in ranking.posts[:k]:
        node = retriever._passages(query, ranking.chunks[post_id], 1)[0]
        meta = node.metadata
        passage = best_passage(query, node.text)
        hits.append(PostHit(len(hits) + 1, post_id, meta["title"], posts[post_id]["date"], meta.get("category", ""),
                            meta["url"], meta["section"], round(ranking.scores[post_id], 5), passage,
                            highlight(passage, terms)))
    return hits
