"""The chat prompt: numbered sources with title and date, and rules for citing and refusing."""

from __future__ import annotations

from app.answering.types import Source

# One system prompt for every question and for the follow-up rewrite, so the local model keeps it evaluated
# (its KV cache reuses the common prefix) and only the excerpts and the question cost prompt time.
SYSTEM = ("你是“科学空间问答”助手，只依据编号的博客《科学空间》（苏剑林）文章摘录回答问题，"
          "不要编造，不要用摘录以外的常识补充。"
          "用提问的语言回答（英文问题用英文回答，文章标题保留中文）。第一句直接回答问题，然后用文章自己的解释说明原因，"
          "共3到8句；每句末尾用[编号]标注它依据的摘录，如[1]，只能使用给出的编号；"
          "问公式时照抄摘录中的LaTeX公式（用$$…$$）；问代码时照抄摘录中的代码块；"
          "只有当摘录与问题完全无关时，才只回答“博客没有涉及这个问题。”")
CITE_REMINDER = {"zh": "用中文回答：第一句直接回答，再按文章的解释说明，每句末尾用[编号]标注出处。",
                 "en": "Answer in English: the first sentence answers the question, then explain as the post "
                       "does, ending each sentence with the number of its excerpt in brackets, like [1]. "
                       "If the excerpts are unrelated, reply only \"The blog does not cover this question.\""}
REFUSAL = {"zh": "博客没有涉及这个问题。", "en": "The blog does not cover this question."}
REFUSAL_MARKERS = ("没有涉及", "未涉及", "没有提到", "未提及", "无法回答", "does not cover", "doesn't cover",
                   "not covered", "do not contain", "don't contain", "does not contain", "no information")
REWRITE = {"zh": "把用户的最后一个问题改写成一个独立、完整的中文问题：根据前面的问题补全代词和省略的对象。"
                 "只输出改写后的问题，不要回答。",
           "en": "Rewrite the user's last question as one standalone question in English, resolving pronouns and "
                 "references from the earlier questions. Output only the rewritten question; do not answer it."}


def excerpt_label(source: Source) -> str:
    """``[n] 《title》 (date) § section`` (the section only when the post has one)."""
    section = f" § {source.section}" if source.section else ""
    excerpt = "（仅摘要）" if source.excerpt else ""
    return f"[{source.rank}] 《{source.title}》（{source.date}）{section}{excerpt}"


def source_block(excerpts: list[Source]) -> str:
    """The evidence as the model sees it: each excerpt under its label."""
    return "\n\n".join(f"{excerpt_label(s)}\n{s.text}" for s in excerpts)


def answer_messages(question: str, lang: str, excerpts: list[Source]) -> list[dict]:
    label = "文章摘录" if lang == "zh" else "Excerpts"
    asked = "问题" if lang == "zh" else "Question"
    return [
        {"role": "system", "content": SYSTEM},
        {"role": "user", "content": f"{label}:\n{source_block(excerpts)}\n\n{asked}: {question}\n"
                                    f"{CITE_REMINDER[lang]}"},
    ]


def quote_block(quoted: str, lang: str) -> str:
    """The quoted sentences an answer opens with, as a Markdown quote under a heading that says they are quoted."""
    heading = "原文摘录：" if lang == "zh" else "From the posts (quoted):"
    lines = "\n".join(f"> {line}" for line in quoted.splitlines() if line.strip())
    explain = "解释：" if lang == "zh" else "Explanation:"
    return f"{heading}\n{lines}\n\n{explain}" if lines else ""


TRANSLATE = ("把下面这个英文问题翻译成中文，供检索中文博客使用：术语译成博客常用的中文说法，"
             "英文缩写、模型名和公式保留原文。只输出译文，不要回答问题。")


def translate_messages(question: str) -> list[dict]:
    """Ask for the question in Chinese (same system prompt as answers, so the model reuses its evaluated prefix)."""
    return [{"role": "system", "content": SYSTEM}, {"role": "user", "content": f"{TRANSLATE}\n\n{question}"}]


def rewrite_messages(history: list[str], question: str, lang: str) -> list[dict]:
    turns = "\n".join(f"User: {turn}" for turn in history)
    return [{"role": "system", "content": SYSTEM},
            {"role": "user", "content": f"{REWRITE[lang]}\n{turns}\nUser (last question): {question}"}]


def says_not_covered(text: str) -> bool:
    """True when the model's answer is a refusal (it says the excerpts do not answer the question)."""
    head = text.strip()[:80].lower()
    return any(marker in head for marker in REFUSAL_MARKERS)
