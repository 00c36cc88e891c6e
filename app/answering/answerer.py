"""The one answering API that the CLI, the chat UI and the eval harness call."""

from __future__ import annotations

import re
import time
from collections.abc import Iterator
from typing import Any

from app.answering import extractive
from app.answering.language import detect_language
from app.answering.retriever import Retriever
from app.answering.types import Answer, Citation, Source
from app.settings import Settings

MAX_QUESTION_CHARS = 2000


class QuestionError(ValueError):
    """The question cannot be answered as given (empty, too long)."""


def check_question(question: str) -> str:
    text = (question or "").strip()
    if not text:
        raise QuestionError("the question is empty")
    if len(text) > MAX_QUESTION_CHARS:
        raise QuestionError(f"the question is {len(text)} characters long; the limit is {MAX_QUESTION_CHARS}")
    return text


def cited_numbers(text: str, sources: list[Source]) -> list[int]:
    """Source numbers cited as [n] in the text, in order of first use, ignoring numbers never given."""
    valid = {s.rank for s in sources}
    seen: list[int] = []
    for match in re.finditer(r"\[(\d+)\]", text):
        n = int(match.group(1))
        if n in valid and n not in seen:
            seen.append(n)
    return seen


class Answerer:
    """Retrieval plus an answer backend; build once, then call :meth:`answer` or :meth:`stream`."""

    def __init__(self, settings: Settings, retriever: Retriever | None = None, embedder: Any = None):
        self.settings = settings
        self.retriever = retriever or Retriever(settings, embedder)

    def stream(self, question: str, k: int | None = None) -> Iterator[str | Answer]:
        """Yield answer text pieces as they are produced, then the finished :class:`Answer`."""
        question = check_question(question)
        start = time.perf_counter()
        retrieval = self.retriever.retrieve(question, k or self.settings.top_k)
        sources, retrieve_ms = retrieval.sources, retrieval.ms
        generate_start = time.perf_counter()
        text = extractive.extract(question, sources)
        yield text
        numbers = cited_numbers(text, sources)
        by_rank = {s.rank: s for s in sources}
        citations = [Citation(n, by_rank[n].post_id, by_rank[n].title, by_rank[n].date, by_rank[n].url,
                              by_rank[n].section) for n in numbers]
        now = time.perf_counter()
        yield Answer(question, text, detect_language(question), False, citations, sources,
                     {"retrieve_ms": round(retrieve_ms, 1), "generate_ms": round((now - generate_start) * 1000, 1),
                      "total_ms": round((now - start) * 1000, 1)}, extractive.NAME,
                     notice="extractive answer: quoted from the posts, no language model used")

    def answer(self, question: str, k: int | None = None) -> Answer:
        result = None
        for item in self.stream(question, k):
            result = item
        assert isinstance(result, Answer)
        return result
