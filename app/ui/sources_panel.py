"""The sources panel: each cited post with its title, date, link, section and the retrieved passage (expandable)."""

from __future__ import annotations

import html
from collections.abc import Callable

from app.answering import Answer, Evidence, Source
from app.answering.types import Citation

EMPTY = "_Sources of the latest answer appear here._"
RELATED = 3

Transform = Callable[[str], str]


def _heading(source: Source) -> str:
    title = html.escape(source.title)
    return f"**[《{title}》]({source.url})** · {source.date} · <{source.url}>"


def _passage(label: str, source: Source, transform: Transform, cited: Citation | None = None) -> str:
    """One passage as an expandable block; the blank lines let the Markdown (and math) inside render. The sentence a
    citation points at is marked, with a link that opens the post at it."""
    where = f"§\u00a0{html.escape(source.section)}" if source.section else "passage"
    text, link = source.text, ""
    if cited and cited.sentence and cited.sentence in text:
        text = text.replace(cited.sentence, f'<mark class="kexue-cited">{cited.sentence}</mark>', 1)
    if cited and cited.link and cited.link != cited.url:
        link = f"\n\n[→ 在原文中打开这一句 · open the post at this sentence]({cited.link})"
    return (f'<details class="kexue-passage"><summary>{label} {where}</summary>\n\n'
            f"{transform(text)}{link}\n\n</details>")


def _cited_posts(answer: Answer) -> list[tuple[Source, list[Source]]]:
    """The cited passages grouped by post, in the order of their first citation."""
    by_rank = {s.rank: s for s in answer.sources}
    posts: dict[str, tuple[Source, list[Source]]] = {}
    for citation in answer.citations:
        source = by_rank.get(citation.n)
        if source is None:
            continue
        posts.setdefault(source.post_id, (source, []))[1].append(source)
    return list(posts.values())


def render_sources(answer: Answer, transform: Transform, show_retrieved: bool = False) -> str:
    """The panel's Markdown for ``answer``; ``transform`` prepares a passage for display (math plugin)."""
    zh = answer.lang == "zh"
    blocks: list[str] = []
    if answer.citations:
        blocks.append("### 来源 Sources" if zh else "### Sources")
        cited = {c.n: c for c in answer.citations}
        for first, passages in _cited_posts(answer):
            blocks.append(_heading(first))
            blocks.extend(_passage(f"[{p.rank}]", p, transform, cited.get(p.rank)) for p in passages)
    elif answer.sources:
        blocks.append("### 相关阅读（不是答案的出处）" if zh else "### Related reading (not sources of the answer)")
        blocks.extend(f"- {_heading(s)}" for s in answer.sources[:RELATED])
    if show_retrieved and answer.sources:
        blocks.append("### 检索到的段落 Retrieved passages" if zh else "### Retrieved passages")
        for source in answer.sources:
            blocks.append(f"{source.rank}. {_heading(source)} · score {source.score:.3f}")
            blocks.append(_passage(f"#{source.rank}", source, transform))
    return "\n\n".join(blocks) or EMPTY


def render_evidence(evidence: Evidence, lang: str, transform: Transform) -> str:
    """The panel while the answer is written: every excerpt it is written from, with title, date, link, section."""
    if not evidence.excerpts:
        return EMPTY
    blocks = ["### 依据（回答正在生成）" if lang == "zh" else "### Evidence (the answer is being written)"]
    shown: set[str] = set()
    for source in evidence.excerpts:
        if source.post_id not in shown:
            blocks.append(_heading(source))
            shown.add(source.post_id)
        blocks.append(_passage(f"[{source.rank}]", source, transform))
    return "\n\n".join(blocks)
