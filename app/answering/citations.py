"""Check the [n] citations of a generated answer against the sources the prompt gave."""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from app.answering.evidence import GAP
from app.answering.fragment import LINE_MARKERS, text_fragment
from app.answering.textmatch import overlap
from app.answering.types import Citation, Source
from ingest.latex_spans import sentences, sub_outside

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

    cleaned = sub_outside(_CITE, keep_valid, text)
    cleaned = re.sub(r"[ \t]+([。，,.!！?？])", r"\1", cleaned).strip()
    attached = False
    if not order and sources and cleaned:
        best = max(sources, key=lambda s: overlap(cleaned, s.text))
        cleaned = f"{cleaned} [{best.rank}]"
        order, attached = [best.rank], True
    return CheckedAnswer(cleaned, [_citation(given[n]) for n in order], removed, attached)


_BLOCK = re.compile(r"^\s*(\$\$|\\begin\{|\\\[|```|~~~|#|\||!\[)")


def best_sentence(claims: Sequence[str], excerpt: str) -> str:
    """The sentence of ``excerpt`` (formulas, code and headings left out) that best backs ``claims``: the highest
    harmonic mean of the two overlaps, so it must hold the claim's words without being mostly something else."""
    def score(sentence: str) -> float:
        best = 0.0
        for claim in claims:
            a, b = overlap(claim, sentence), overlap(sentence, claim)
            best = max(best, 2 * a * b / (a + b) if a + b else 0.0)
        return best

    units = [LINE_MARKERS.sub("", u).strip() for u in sentences(excerpt.replace(GAP, "\n")) if not _BLOCK.match(u)]
    return max((u for u in units if len(u) >= 6), key=score, default="")


def locate(citations: list[Citation], sources: list[Source], checks: Sequence[Any]) -> list[Citation]:
    """``citations`` with the cited sentence of each excerpt and a link to it (``checks``: the answer's sentence
    checks, each with its ``text`` and the numbers it ``cites``)."""
    given = {s.rank: s for s in sources}
    located = []
    for citation in citations:
        source = given.get(citation.n)
        claims = [c.text for c in checks if citation.n in c.cites] or [c.text for c in checks]
        sentence = best_sentence(claims, source.text) if source and claims else ""
        located.append(dataclasses.replace(citation, sentence=sentence, link=text_fragment(citation.url, sentence)))
    return located
