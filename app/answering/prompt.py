"""The chat prompt: numbered sources with title and date, and rules for citing and refusing."""

from __future__ import annotations

from app.answering.extractive import best_window
from app.answering.types import Source

SYSTEM = {
    "zh": ("你是“科学空间问答”助手，只依据下面编号的博客《科学空间》（苏剑林）文章片段回答问题。"
           "规则：1. 用中文回答，简洁准确，3到6句话；2. 每个事实后用[编号]标注出处，例如[1]，只能使用给出的编号；"
           "3. 公式保持原样的LaTeX；4. 只有当片段与问题完全无关时，才只回答“博客没有涉及这个问题。”；不要编造。"),
    "en": ("You are the assistant of 科学空间问答. Answer only from the numbered excerpts of the blog 科学空间 "
           "(by 苏剑林) below. Rules: 1. answer in English, concisely, in 3 to 6 sentences; keep post titles in "
           "Chinese; 2. after each fact cite its excerpt as [n], e.g. [1], using only the given numbers; "
           "3. keep formulas as LaTeX; 4. only if the excerpts are entirely unrelated to the question, reply only "
           "\"The blog does not cover this question.\" and do not make anything up."),
}
CITE_REMINDER = {"zh": "请用中文回答，每句话末尾用方括号写出所依据片段的编号，如[1]。",
                 "en": "Answer in English, ending each sentence with the number of its excerpt in brackets, "
                       "like [1]."}
REFUSAL = {"zh": "博客没有涉及这个问题。", "en": "The blog does not cover this question."}
REFUSAL_MARKERS = ("没有涉及", "未涉及", "没有提到", "未提及", "无法回答", "does not cover", "doesn't cover",
                   "not covered", "do not contain", "don't contain", "does not contain", "no information")
REWRITE = ("Rewrite the user's last question as one standalone question in the same language, resolving "
           "pronouns and references from the earlier turns. Output only the rewritten question.")


def source_block(sources: list[Source], question: str, chars: int) -> str:
    """The sources as the model sees them: [n] 《title》 (date) section, then the best window of its text."""
    parts = []
    for s in sources:
        section = f" · {s.section}" if s.section else ""
        excerpt = "（仅摘要）" if s.excerpt else ""
        parts.append(f"[{s.rank}] 《{s.title}》（{s.date}）{section}{excerpt}\n{best_window(question, s.text, chars)}")
    return "\n\n".join(parts)


def answer_messages(question: str, lang: str, sources: list[Source], chars: int) -> list[dict]:
    label = "文章片段" if lang == "zh" else "Excerpts"
    asked = "问题" if lang == "zh" else "Question"
    return [
        {"role": "system", "content": SYSTEM[lang]},
        {"role": "user", "content": f"{label}:\n{source_block(sources, question, chars)}\n\n{asked}: {question}\n"
                                    f"{CITE_REMINDER[lang]}"},
    ]


def rewrite_messages(history: list[str], question: str) -> list[dict]:
    turns = "\n".join(f"User: {turn}" for turn in history)
    return [{"role": "system", "content": REWRITE},
            {"role": "user", "content": f"{turns}\nUser (last question): {question}"}]


def says_not_covered(text: str) -> bool:
    """True when the model's answer is a refusal (it says the excerpts do not answer the question)."""
    head = text.strip()[:80].lower()
    return any(marker in head for marker in REFUSAL_MARKERS)
