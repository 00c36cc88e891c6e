"""An answer as the API returns it: Markdown content with a Sources list, and machine-readable citations."""

from __future__ import annotations

import re
from typing import Any

from app.answering import Answer, Citation, Source
from app.answering.render import support_notice
from app.ui.messages import NOT_COVERED, notice_block

_MARK = re.compile(r"\[(\d+)\]")


def citation_json(citation: Citation) -> dict[str, Any]:
    """post_id, title, date, url, section, the cited sentence and a link to it (the URL when no fragment is known)."""
    return {"n": citation.n, "post_id": citation.post_id, "title": citation.title, "date": citation.date,
            "url": citation.url, "section": citation.section, "sentence": citation.sentence,
            "link": citation.link or citation.url}


def excerpt_json(source: Source) -> dict[str, Any]:
    """An excerpt the answer is being written from (sent before the answer streams)."""
    return {"n": source.rank, "post_id": source.post_id, "title": source.title, "date": source.date,
            "url": source.url, "section": source.section}


def sources_markdown(entries: list[dict[str, Any]], lang: str) -> str:
    """``[n] [《title》](link) date · section``, one line per entry, under a Sources heading."""
    if not entries:
        return ""
    lines = ["**来源 Sources**" if lang == "zh" else "**Sources**"]
    for entry in sorted(entries, key=lambda e: e["n"]):
        section = f" · {entry['section']}" if entry.get("section") else ""
        lines.append(f"[{entry['n']}] [《{entry['title']}》]({entry.get('link') or entry['url']}) "
                     f"{entry['date']}{section}")
    return "  \n".join(lines)


def related_markdown(answer: Answer) -> str:
    """For a refusal: the closest posts, said not to be sources."""
    if not (answer.refused and answer.sources):
        return ""
    heading = "相关阅读（不是答案的出处）" if answer.lang == "zh" else "Related reading (not sources)"
    return "\n".join([f"**{heading}**", *(f"- [《{s.title}》]({s.url}) {s.date}" for s in answer.sources[:3])])


def notices(answer: Answer) -> list[str]:
    """The refusal, fallback and support notices, as quoted lines."""
    parts = []
    if answer.refused:
        parts.append(notice_block(NOT_COVERED.get(answer.lang, NOT_COVERED["en"])))
    if answer.notice:
        parts.append(notice_block(answer.notice))
    if support_notice(answer):
        parts.append(notice_block(support_notice(answer) + " (marked ⚠)"))
    return parts


def tail_markdown(answer: Answer, entries: list[dict[str, Any]]) -> str:
    """What follows the answer text: its notices, then its sources (or related reading for a refusal)."""
    parts = [*notices(answer), sources_markdown(entries, answer.lang), related_markdown(answer)]
    return "\n\n".join(p for p in parts if p)


def answer_content(answer: Answer) -> str:
    """The assistant message of a non-streamed answer."""
    tail = tail_markdown(answer, [citation_json(c) for c in answer.citations])
    return f"{answer.answer}\n\n{tail}" if tail else answer.answer


def streamed_entries(answer: Answer, shown: str, excerpts: list[Source]) -> list[dict[str, Any]]:
    """The sources for streamed text: the answer's citations, plus any excerpt the text as shown cites that the
    final check dropped or renumbered (the shown marks must still resolve)."""
    entries = [citation_json(c) for c in answer.citations]
    cited = {e["n"] for e in entries}
    by_rank = {s.rank: s for s in excerpts}
    for n in dict.fromkeys(int(m) for m in _MARK.findall(shown)):
        if n not in cited and n in by_rank and not answer.refused:
            entries.append({**excerpt_json(by_rank[n]), "sentence": "", "link": by_rank[n].url})
            cited.add(n)
    return entries
