"""Plain-text rendering of an answer for the terminal: the text, then its sources."""

from __future__ import annotations

from app.answering.types import Answer


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
    if show_all:
        lines.append("检索到的段落 Retrieved passages:" if answer.lang == "zh" else "Retrieved passages:")
        for s in answer.sources:
            preview = " ".join(s.text.split())[:160]
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
