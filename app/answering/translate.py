"""An English question put into Chinese by the local model, so that it can also be searched as the posts are
written: e5's cross-lingual similarity is weak and BM25 finds no Chinese word in an English question.

The translation only joins the search (the retriever fuses both queries' rankings); the answer and the refusal rule
still read the question as asked. A reply that is not a Chinese question of about the question's length (the model
answered instead, or echoed the English) is dropped."""

from __future__ import annotations

import re
from typing import Any

from app.answering.language import detect_language
from app.answering.prompt import TRANSLATE, translate_messages

MAX_TOKENS = 96
_LABEL = re.compile(r"^\s*(译文|翻译|中文|问题)\s*[:：]\s*")
_QUOTES = "\"“”'‘’「」"
_ECHO = 6  # a reply sharing this many characters in a row with the instruction repeats it instead of translating


def clean_translation(reply: str, question: str) -> str | None:
    """The model's reply as a Chinese query, or None when it is not one."""
    lines = [line for line in reply.strip().splitlines() if line.strip()]
    if not lines:
        return None
    text = _LABEL.sub("", lines[0]).strip().strip(_QUOTES).strip()
    if len(text) < 4 or len(text) > len(question) + 40 or detect_language(text) != "zh" or _echoes(text):
        return None
    return text


def _echoes(text: str) -> bool:
    """Whether ``text`` repeats a piece of the instruction (the model copied the prompt)."""
    return any(TRANSLATE[i:i + _ECHO] in text for i in range(len(TRANSLATE) - _ECHO + 1))


def translate_question(backend: Any, question: str) -> str | None:
    """``question`` in Chinese by ``backend`` (greedy, a few dozen tokens), or None."""
    reply = "".join(backend.stream(translate_messages(question), max_tokens=MAX_TOKENS, temperature=0.0))
    return clean_translation(reply, question)
