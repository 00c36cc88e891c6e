"""Fold copies of the same post from several sources into one Post."""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable

from ingest.post import Post, archive_url
from ingest.sources.listing import normalise

FORMAT_RANK = {"markdown": 4, "html": 3, "page": 2, "page-flat": 1, "listing": 0}
LONGER = 1.2  # a copy this much longer than the cleanest one is taken instead
PROBE_CHARS = 40
MIN_PROBE_CHARS = 16


def _synthetic(post_id: str) -> bool:
    return not post_id.isdigit()


def _length(post: Post) -> int:
    return len(normalise(post.body))


def _merge_group(group: list[Post]) -> Post:
    """The fullest copy, with metadata it lacks (date, category, tags, ...) taken from the others.

    Full posts win over excerpts; among full posts the cleanest format wins (Markdown, then HTML, then the
    scraped pages, which may have lost formulas to rendered text) unless another copy is clearly longer."""
    lengths = {id(p): _length(p) for p in group} if len(group) > 1 else {id(group[0]): 0}
    full = [p for p in group if not p.excerpt] or group
    best = max(full, key=lambda p: (FORMAT_RANK.get(p.format, 0), lengths[id(p)]))
    longest = max(full, key=lambda p: lengths[id(p)])
    if lengths[id(longest)] > LONGER * lengths[id(best)]:
        best = longest
    ranked = [best] + sorted((p for p in group if p is not best),
                             key=lambda p: (not p.excerpt, lengths[id(p)]), reverse=True)
    fill = {}
    for name in ("title", "date", "url", "category", "tags", "author"):
        if not getattr(best, name):
            fill[name] = next((getattr(p, name) for p in ranked[1:] if getattr(p, name)), getattr(best, name))
    if not best.url and not _synthetic(best.post_id):
        fill["url"] = archive_url(best.post_id)
    return dataclasses.replace(best, **fill) if fill else best


def _probes(post: Post) -> list[str]:
    probes = []
    for para in post.body.split("\n\n")[:3]:
        text = normalise(para)
        if len(text) >= MIN_PROBE_CHARS:
            probes.append(text[:PROBE_CHARS])
    return probes


def _match_by_text(excerpt: Post, bodies: list[tuple[Post, str]]) -> Post | None:
    """The one full post whose text holds the excerpt's opening paragraphs (None if none or several)."""
    probes = _probes(excerpt)
    if not probes:
        return None
    scored = [(sum(p in body for p in probes), post) for post, body in bodies]
    best = max((s for s, _ in scored), default=0)
    winners = [post for s, post in scored if s == best]
    return winners[0] if best and len(winners) == 1 else None


def _sort_key(post: Post) -> tuple:
    return (0, int(post.post_id), "") if post.post_id.isdigit() else (1, 0, post.post_id)


def merge_posts(posts: Iterable[Post]) -> list[Post]:
    """One Post per archive id, keeping the fullest text; listing excerpts without an id are folded into the
    post with the same title, else the one whose text holds their opening paragraphs."""
    groups: dict[str, list[Post]] = {}
    for post in posts:
        groups.setdefault(post.post_id, []).append(post)
    merged = {pid: _merge_group(group) for pid, group in groups.items()}
    out = {pid: p for pid, p in merged.items() if not _synthetic(pid)}
    by_title: dict[str, str] = {}
    for pid, post in out.items():
        by_title.setdefault(normalise(post.title), pid)
    bodies = [(p, normalise(p.body)) for p in out.values() if not p.excerpt]
    for pid, post in merged.items():
        if not _synthetic(pid):
            continue
        target = by_title.get(normalise(post.title)) if post.title else None
        if target is None and (match := _match_by_text(post, bodies)):
            target = match.post_id
        if target is None:
            out[pid] = post
        else:
            folded = _merge_group([out[target], post])
            if folded.post_id != target:  # the excerpt was longer than an id-carrying excerpt: keep the id
                folded = dataclasses.replace(folded, post_id=target, url=out[target].url or archive_url(target))
            out[target] = folded
    return sorted(out.values(), key=_sort_key)
