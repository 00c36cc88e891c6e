"""Plain-text rendering of an answer for the terminal: the text, then its sources."""

from __future__ import annotations

from app.answering.support import UNSUPPORTED_MARK
from app.answering.types import Answer, Evidence


def sources_block(answer: Answer, show_all: bool = False) -> str:
    """《title》, date, URL, section for each cited source (or every retrieved one with ``show_all``)."""
    lines = tool_lines(answer)
    if answer.refused and answer.sources:
        lines.append("相关阅读（不是答案的出处）:" if answer.lang == "zh" else "Related reading (not sources):")
        for s in answer.sources[:3]:
            lines.append(f"  - 《{s.title}》 {s.date} {s.url}")
    if answer.citations:
        lines.append("来源 Sources:" if answer.lang == "zh" else "Sources:")
        for c in answer.citations:
            section = f" · {c.section}" if c.section else ""
            lines.append(f"  [{c.n}] 《{c.title}》 {c.date} {c.url}{section}")
            if c.link and c.link != c.url:
                lines.append(f"      → {c.link}")
    if show_all:
        lines.append("检索到的段落 Retrieved passages:" if answer.lang == "zh" else "Retrieved passages:")
        for s in answer.sources:
            preview = preview_of(s.text, 160)
            lines.append(f"  {s.rank}. 《{s.title}》 {s.date} score={s.score:.3f} {s.url}\n     {preview}")
    return "\n".join(lines)


def tool_lines(answer: Answer) -> list[str]:
    """The tools the model called while answering, each with the start of its result."""
    calls = answer.extra.get("tool_calls") or []
    lines = ["工具调用 Tool calls:" if answer.lang == "zh" else "Tool calls:"] if calls else []
    for call in calls:
        status = "ok" if call.get("ok") else "failed"
        result = " ".join(str(call.get("result", "")).split())[:160]
        lines.append(f"  {call['name']}({call['arguments']}) [{status}] → {result}")
    return lines


def evidence_block(evidence: Evidence, lang: str) -> str:
    """The excerpts an answer will be written from, shown before it: [n] 《title》 date § section URL."""
    if not evidence.excerpts:
        return ""
    lines = ["依据 Evidence:" if lang == "zh" else "Evidence:"]
    for s in evidence.excerpts:
        section = f" § {s.section}" if s.section else ""
        lines.append(f"  [{s.rank}] 《{s.title}》 {s.date}{section} {s.url}")
    return "\n".join(lines)


def reading_notice(evidence: Evidence) -> str:
    """How long the local model will read before it answers, when that was measured."""
    if evidence.reading_s is None or evidence.prompt_tokens is None:
        return ""
    return (f"the local model reads {evidence.prompt_tokens} tokens of evidence first: about "
            f"{evidence.reading_s:.0f} s on this machine")


def search_notice(evidence: Evidence) -> str:
    """What happens to an English question's evidence: searched again in Chinese (pending), or searched so."""
    if evidence.pending_search:
        return "searching the posts again with the question translated into Chinese by the local model"
    if evidence.searched_as:
        return f"also searched in Chinese as: {evidence.searched_as}"
    return ""


def evidence_notices(evidence: Evidence) -> list[str]:
    """The lines shown beside the evidence: the Chinese search of an English question, the model's reading time."""
    return [notice for notice in (search_notice(evidence), reading_notice(evidence)) if notice]


def support_notice(answer: Answer) -> str:
    """A line naming the sentences not backed by the excerpt they cite (marked in the text)."""
    weak = [s for s in answer.extra.get("sentences", []) if not s["supported"]]
    if not weak:
        return ""
    total = len(answer.extra.get("sentences", []))
    return f"{UNSUPPORTED_MARK} {len(weak)} of {total} sentences are not found in the excerpt they cite"


def preview_of(text: str, chars: int) -> str:
    """The start of ``text`` on one line, cut before ``chars`` but never inside a formula or code span."""
    from ingest.latex_spans import protected_spans

    flat = " ".join(text.split())
    if len(flat) <= chars:
        return flat
    cut = chars
    for start, end in protected_spans(flat):
        if start < cut < end:
            cut = start
            break
    return flat[:cut].rstrip() + "…"
