"""The ``extractive`` backend: no LLM; the answer is the sentences of the best passages that best match the
question, each with its citation number."""

from __future__ import annotations

import re

from app.answering.types import Source
from ingest.latex_spans import sentences

NAME = "extractive"
_WORD = re.compile(r"[A-Za-z][A-Za-z0-9_\-]+|[\u4e00-\u9fff]")


def _grams(text: str) -> set[str]:
    """Lower-cased English words plus Chinese character unigrams and bigrams."""
    tokens = [t.lower() for t in _WORD.findall(text)]
    bigrams = {a + b for a, b in zip(tokens, tokens[1:], strict=False) if len(a) == len(b) == 1}
    return set(tokens) | bigrams


def _clean(sentence: str) -> str:
    return re.sub(r"\s+", " ", re.sub(r"!?\[([^\]]*)\]\([^)]*\)", r"\1", sentence)).strip()


def extract(question: str, sources: list[Source], max_sentences: int = 4, max_sources: int = 3) -> str:
    """Pick the sentences of the top sources that share most with the question, cite them as [n]."""
    wanted = _grams(question)
    scored: list[tuple[float, int, int, str]] = []
    for source in sources[:max_sources]:
        for position, sentence in enumerate(sentences(source.text)):
            text = _clean(sentence)
            if len(text) < 8 or text.startswith(("#", "|", "```")):
                continue
            overlap = len(wanted & _grams(text)) / (len(wanted) or 1)
            scored.append((overlap - 0.05 * (source.rank - 1), source.rank, position, text))
    best = sorted(scored, reverse=True)[:max_sentences]
    best.sort(key=lambda item: (item[1], item[2]))
    return "\n".join(f"{text} [{rank}]" for _, rank, _, text in best)
