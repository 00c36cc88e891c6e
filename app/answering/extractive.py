"""The ``extractive`` backend (no LLM: the answer is the best-matching sentences of the best passages, each
cited) and the sentence scoring the prompt uses to pick each passage's most relevant window."""

from __future__ import annotations

import functools
import re

from app.answering.types import Source
from ingest.latex_spans import sentences

NAME = "extractive"
_WORD = re.compile(r"[A-Za-z][A-Za-z0-9_\-]+|[\u4e00-\u9fff]")
_LINK = re.compile(r"!?\[([^\]]*)\]\([^)]*\)")


@functools.lru_cache(maxsize=1024)
def _grams(text: str) -> frozenset[str]:
    """Lower-cased English words plus Chinese character unigrams and bigrams (cached: the same question is
    compared with every sentence and passage)."""
    tokens = [t.lower() for t in _WORD.findall(text)]
    bigrams = {a + b for a, b in zip(tokens, tokens[1:], strict=False) if len(a) == len(b) == 1}
    return frozenset(tokens) | bigrams


def overlap(query: str, text: str) -> float:
    """Share of the query's words and character bigrams that occur in ``text``."""
    wanted = _grams(query)
    return len(wanted & _grams(text)) / (len(wanted) or 1)


def _clean(sentence: str) -> str:
    return re.sub(r"\s+", " ", _LINK.sub(r"\1", sentence)).strip()


def best_window(question: str, text: str, chars: int) -> str:
    """The run of consecutive sentences, at most ``chars`` long, that shares most with the question."""
    text = _clean(text) if len(text) > chars else text
    if len(text) <= chars:
        return text
    parts = sentences(text) or [text]
    scores = [overlap(question, p) for p in parts]
    best, best_score = (0, 0), -1.0
    for start in range(len(parts)):
        length, score, end = 0, 0.0, start
        while end < len(parts) and length + len(parts[end]) <= chars:
            length += len(parts[end])
            score += scores[end]
            end += 1
        if end > start and score > best_score:
            best, best_score = (start, end), score
    start, end = best
    if end == start:  # every sentence is longer than the budget (code, display math): cut the best one
        start = max(range(len(parts)), key=scores.__getitem__)
        return parts[start][:chars].strip()
    return "".join(parts[start:end]).strip()


def extract(question: str, sources: list[Source], max_sentences: int = 4, max_sources: int = 3) -> str:
    """Pick the sentences of the top sources that share most with the question, cite them as [n]."""
    scored: list[tuple[float, int, int, str]] = []
    for source in sources[:max_sources]:
        for position, sentence in enumerate(sentences(source.text)):
            text = _clean(sentence)
            if len(text) < 8 or text.startswith(("#", "|", "```")):
                continue
            scored.append((overlap(question, text) - 0.05 * (source.rank - 1), source.rank, position, text))
    best = sorted(scored, reverse=True)[:max_sentences]
    best.sort(key=lambda item: (item[1], item[2]))
    return "\n".join(f"{text} [{rank}]" for _, rank, _, text in best)
