"""A whole post rebuilt from the index's chunks (in order, with section headings) as Markdown with its metadata."""

from __future__ import annotations

import re
from typing import Any

from ingest.chunking import SECTION_SEPARATOR

_POST_URL = re.compile(r"^(?:https?://)?(?:www\.)?kexue\.fm/archives/(\d+)/?(?:[#?].*)?$")


class PostNotFound(LookupError):
    """No such post, or no such section of it; the message says which."""


def normalise_id(post_id: str | int) -> str:
    """A post id as given, or taken from its kexue.fm URL."""
    text = str(post_id).strip()
    match = _POST_URL.match(text)
    return match.group(1) if match else text


def post_nodes(index: Any, post_id: str) -> list[Any]:
    """The post's chunks in order; ``PostNotFound`` when the index has no such post."""
    entry = index.manifest["posts"].get(post_id)
    if entry is None:
        raise PostNotFound(f"no post {post_id} in the index")
    return [index.docstore.get_node(f"{post_id}#{i}") for i in range(entry["chunks"])]


def post_metadata(nodes: list[Any]) -> dict[str, Any]:
    meta = nodes[0].metadata
    return {"post_id": meta["post_id"], "title": meta["title"], "date": str(meta.get("date") or "")[:10],
            "url": meta["url"], "category": meta.get("category") or "", "tags": list(meta.get("tags") or []),
            "excerpt": bool(meta.get("excerpt")), "sections": list(dict.fromkeys(n.metadata["section"] for n in nodes
                                                                               if n.metadata["section"]))}


def post_markdown(index: Any, post_id: str | int, section: str | None = None) -> str:
    """The post as Markdown: title, metadata lines, then its text with a heading wherever the section changes;
    with ``section``, only the chunks whose section path contains it (case-insensitive)."""
    post_id = normalise_id(post_id)
    nodes = post_nodes(index, post_id)
    meta = post_metadata(nodes)
    wanted = (section or "").strip().casefold()
    if wanted:
        nodes = [n for n in nodes if wanted in n.metadata["section"].casefold()]
        if not nodes:
            raise PostNotFound(f"post {post_id} has no section matching {section!r}; its sections: "
                               f"{'; '.join(meta['sections']) or 'none'}")
    lines = [f"# 《{meta['title']}》", "", f"- post id: {meta['post_id']}", f"- date: {meta['date']}",
             f"- url: {meta['url']}"]
    if meta["category"]:
        lines.append(f"- category: {meta['category']}")
    if meta["tags"]:
        lines.append(f"- tags: {', '.join(meta['tags'])}")
    if meta["excerpt"]:
        lines.append("- note: the index holds only the listing-page excerpt of this post")
    if wanted:
        lines.append(f"- showing: the sections matching {section.strip()!r}")
    lines.append("")
    previous: list[str] = []
    for node in nodes:
        path = [p for p in node.metadata["section"].split(SECTION_SEPARATOR) if p]
        common = 0
        while common < min(len(path), len(previous)) and path[common] == previous[common]:
            common += 1
        for depth in range(common, len(path)):
            lines += [f"{'#' * min(depth + 2, 6)} {path[depth]}", ""]
        previous = path
        lines += [node.text.strip(), ""]
    return "\n".join(lines).rstrip() + "\n"
