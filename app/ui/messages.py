"""Chat messages as the Gradio Chatbot holds them, and the Markdown of an answer's chat message."""

from __future__ import annotations

from collections.abc import Callable

from app.answering import Answer, Evidence
from app.answering.render import evidence_notices, support_notice
from app.chat_commands import is_command

NOT_COVERED = {"zh": "科学空间的文章没有涉及这个问题：没有可以引用的出处。",
               "en": "The blog does not cover this question: there is no post to cite."}


def message_text(message: dict) -> str:
    """The text of a chat message, whose content is a string or (as Gradio 6 passes it) a list of parts."""
    content = message.get("content")
    if isinstance(content, str):
        return content
    if isinstance(content, list):
        return "\n".join(part.get("text", "") for part in content if isinstance(part, dict))
    return ""


def conversation_texts(history: list[dict]) -> list[str]:
    """Every message's text, oldest first."""
    return [message_text(m) for m in history or []]


def earlier_questions(history: list[dict]) -> list[str]:
    """The user's earlier questions (commands left out), for rewriting a follow-up."""
    return [message_text(m) for m in history or []
            if m.get("role") == "user" and message_text(m).strip() and not is_command(message_text(m))]


def notice_block(text: str) -> str:
    return f"> ⚠️ {text}"


def answer_markdown(answer: Answer, transform: Callable[[str], str]) -> str:
    """The answer (through the math plugin), its notices, then one line per citation with a link."""
    parts = [transform(answer.answer)]
    if answer.refused:
        parts.append(notice_block(NOT_COVERED[answer.lang if answer.lang in NOT_COVERED else "en"]))
    if answer.notice:
        parts.append(notice_block(answer.notice))
    if support_notice(answer):
        parts.append(notice_block(support_notice(answer) + " (marked ⚠)"))
    if answer.citations:
        lines = ["**来源 Sources**" if answer.lang == "zh" else "**Sources**"]
        for c in answer.citations:
            section = f" · {c.section}" if c.section else ""
            label = "原句" if answer.lang == "zh" else "sentence"
            cited = f" · [{label} ↗]({c.link})" if c.link and c.link != c.url else ""
            lines.append(f"[{c.n}] [《{c.title}》]({c.url}) {c.date}{section}{cited}")
        parts.append("  \n".join(lines))
    return "\n\n".join(parts)


def gist_markdown(evidence: Evidence, lang: str, transform: Callable[[str], str]) -> str:
    """What the chat shows while the model reads: the best sentences, marked as a quote, and the expected wait."""
    if not evidence.gist:
        return ""
    heading = "**原文摘录**（模型阅读依据时先显示）" if lang == "zh" else \
        "**Quoted from the posts** (while the model reads)"
    quote = "\n".join(f"> {line}" for line in transform(evidence.gist).splitlines() if line.strip())
    notes = "".join(f"\n\n_{note}_" for note in evidence_notices(evidence))
    return f"{heading}\n\n{quote}{notes}"
