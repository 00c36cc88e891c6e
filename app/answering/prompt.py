"""The chat prompt: numbered sources with title and date, and rules for citing and refusing."""

from __future__ import annotations

from app.answering.extractive import best_window
from app.answering.types import Source

# One system prompt for every question and for the follow-up rewrite, so the local model keeps it evaluated
# (its KV cache reuses the common prefix) and only the excerpts and the question cost prompt time.
SYSTEM = ("你是“科学空间问答”助手，只依据编号的博客《科学空间》（苏剑林）文章片段回答问题，不要编造。"
          "用提问的语言回答（英文问题用英文回答，文章标题保留中文），简洁准确，3到6句话；"
          "每个事实后用[编号]标注出处，如[1]，只能使用给出的编号；公式保持原样的LaTeX；"
          "只有当片段与问题完全无关时，才只回答“博客没有涉及这个问题。”")
CITE_REMINDER = {"zh": "用中文回答，每句末尾用[编号]标注出处。",
                 "en": "Answer in English, ending each sentence with the number of its excerpt in brackets, "
                       "like [1]. If the excerpts are unrelated, reply only \"The blog does not cover this "
                       "question.\""}
REFUSAL = {"zh": "博客没有涉及这个问题。", "en": "The blog does not cover this question."}
REFUSAL_MARKERS = ("没有涉及", "未涉及", "没有提到", "未提及", "无法回答", "does not cover", "doesn't cover",
                   "not covered", "do not contain", "don't contain", "does not contain", "no information")
REWRITE = {"zh": "把用户的最后一个问题改写成一个独立、完整的中文问题：根据前面的问题补全代词和省略的对象。"
                 "只输出改写后的问题，不要回答。",
           "en": "Rewrite the user's last question as one standalone question in English, resolving pronouns and "
                 "references from the earlier questions. Output only the rewritten question; do not answer it."}
MIN_SOURCE_CHARS = 90


def source_block(sources: list[Source], question: str, chars: int) -> str:
    """The sources as the model sees them: [n] 《title》 (date), then the window of its text that best matches
    the question; ``chars`` is shared among the sources (a short prompt starts the answer sooner)."""
    each = max(chars // max(len(sources), 1), MIN_SOURCE_CHARS)
    parts, shown = [], set()
    for s in sources:
        header = "（同上文）" if s.post_id in shown else f"《{s.title}》（{s.date}）"
        shown.add(s.post_id)
        excerpt = "（仅摘要）" if s.excerpt else ""
        parts.append(f"[{s.rank}] {header}{excerpt}\n{best_window(question, s.text, each)}")
    return "\n".join(parts)


def answer_messages(question: str, lang: str, sources: list[Source], chars: int) -> list[dict]:
    label = "文章片段" if lang == "zh" else "Excerpts"
    asked = "问题" if lang == "zh" else "Question"
    return [
        {"role": "system", "content": SYSTEM},
        {"role": "user", "content": f"{label}:\n{source_block(sources, question, chars)}\n{asked}: {question}\n"
                                    f"{CITE_REMINDER[lang]}"},
    ]


def rewrite_messages(history: list[str], question: str, lang: str) -> list[dict]:
    turns = "\n".join(f"User: {turn}" for turn in history)
    return [{"role": "system", "content": SYSTEM},
            {"role": "user", "content": f"{REWRITE[lang]}\n{turns}\nUser (last question): {question}"}]


def says_not_covered(text: str) -> bool:
    """True when the model's answer is a refusal (it says the excerpts do not answer the question)."""
    head = text.strip()[:80].lower()
    return any(marker in head for marker in REFUSAL_MARKERS)
