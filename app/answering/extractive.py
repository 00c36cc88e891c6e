"""The ``extractive`` backend (no LLM: the answer is the evidence's sentences that bear most on the question, each
cited) and the best-matching window of a passage (for previews)."""

from __future__ import annotations

from app.answering.evidence import pick_units, units_of
from app.answering.textmatch import clean_sentence, overlap
from app.answering.types import Source
from ingest.latex_spans import sentences

NAME = "extractive"


def best_window(question: str, text: str, chars: int) -> str:
    """The run of consecutive sentences, at most ``chars`` long, that shares most with the question."""
    text = clean_sentence(text) if len(text) > chars else text
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


def extract(question: str, excerpts: list[Source], chars: int = 700) -> str:
    """The excerpts' sentences that bear most on the question (with the neighbours they need, equations and code
    whole) within ``chars`` characters, in their order, each line cited as [n]."""
    weights = [1.0 - 0.1 * min(i, 5) for i in range(len(excerpts))]
    chunk_units = units_of(question, [(s.text, w) for s, w in zip(excerpts, weights, strict=True)])
    lines = []
    for unit in pick_units(chunk_units, chars):
        rank = excerpts[unit.chunk].rank
        lines.append(unit.text if unit.is_block else f"{unit.text} [{rank}]")
    return "\n".join(lines)
