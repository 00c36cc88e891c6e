"""Term overlap between a question and a text: lower-cased English words plus Chinese characters and bigrams."""

from __future__ import annotations

import functools
import re

_WORD = re.compile(r"[A-Za-z][A-Za-z0-9_\-]+|[\u4e00-\u9fff]")
_LINK = re.compile(r"!?\[([^\]]*)\]\([^)]*\)")


@functools.lru_cache(maxsize=4096)
def grams(text: str) -> frozenset[str]:
    """Lower-cased English words plus Chinese character unigrams and bigrams (cached: the same question is
    compared with every sentence and passage)."""
    tokens = [t.lower() for t in _WORD.findall(text)]
    bigrams = {a + b for a, b in zip(tokens, tokens[1:], strict=False) if len(a) == len(b) == 1}
    return frozenset(tokens) | bigrams


def overlap(query: str, text: str) -> float:
    """Share of the query's words and character bigrams that occur in ``text``."""
    wanted = grams(query)
    return len(wanted & grams(text)) / (len(wanted) or 1)


def clean_sentence(sentence: str) -> str:
    """A sentence with Markdown links reduced to their text and whitespace collapsed."""
    return re.sub(r"\s+", " ", _LINK.sub(r"\1", sentence)).strip()
