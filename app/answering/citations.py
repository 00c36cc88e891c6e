"""Check the [n] citations of a generated answer against the sources the prompt gave."""

from __future__ import annotations

import re
from dataclasses import dataclass

from app.answering.textmatch import overlap
from app.answering.types import Citation, Source

_CITE = re.compile(r"\[(\d+(?:\s*[,，、]\s*\d+)*)\]")


@dataclass
class CheckedAnswer:
    text: str
    citations: list[Citation]
    removed: list[int]  # numbers cited that were never given
    attached: bool  # no valid citation: the best-supported source was attached


def _citation(source: Source) -> Citation:
    return Citation(source.rank, source.post_id, source.title, source.date, source.url, source.section)


def check_citations(text: str, sources: list[Source]) -> CheckedAnswer:
    """Drop citations of numbers never given; attach the best-supported source when none is left."""
    given = {s.rank: s for s in sources}
    removed: list[int] = []
    order: list[int] = []

    def keep_valid(match: re.Match) -> str:
        numbers = [int(n) for n in re.findall(r"\d+", match.group(1))]
        valid = [n for n in numbers if n in given]
        removed.extend(n for n in numbers if n not in given)
        order.extend(n for n in valid if n not in order)
        return "".join(f"[{n}]" for n in valid)

    cleaned = _CITE.sub(keep_valid, text)
    cleaned = re.sub(r"[ \t]+([。，,.!！?？])", r"\1", cleaned).strip()
    attached = False
    if not order and sources and cleaned:
        best = max(sources, key=lambda s: overlap(cleaned, s.text))
        cleaned = f"{cleaned} [{best.rank}]"
        order, attached = [best.rank], True
    return CheckedAnswer(cleaned, [_citation(given[n]) for n in order], removed, attached)
