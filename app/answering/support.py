"""Check every sentence of an answer against the excerpt it cites: its support is the share of the sentence's words
and character bigrams found in that excerpt. A sentence under the floor is marked unsupported; a sentence that
matches another given excerpt far better than the one it cites gets that excerpt's number instead."""

from __future__ import annotations

import re
from dataclasses import asdict, dataclass

from app.answering.textmatch import overlap
from app.answering.types import Source
from ingest.latex_spans import SENTENCE_END, find_outside, protected_spans, safe_cuts, sub_outside

SUPPORT_FLOOR = 0.45  # below this share a sentence is not backed by what it cites
RENUMBER_MARGIN = 0.25  # another excerpt must back the sentence this much better to take over its citation
UNSUPPORTED_MARK = "⚠"
_CITES = re.compile(r"(?:\s*\[\d+\])+")
_NUMBER = re.compile(r"\[(\d+)\]")
_LEADING_CITES = re.compile(r"^[ \t]*(?:\[\d+\][ \t]*)+")
_MIN_CHARS = 6


@dataclass
class SentenceCheck:
    text: str  # the sentence without its citation marks
    cites: list[int]
    support: float
    supported: bool
    renumbered_from: list[int] | None = None

    def as_json(self) -> dict:
        data = asdict(self)
        data["support"] = round(self.support, 3)
        if self.renumbered_from is None:
            data.pop("renumbered_from")
        return data


@dataclass
class CheckedSentences:
    text: str  # the answer with corrected numbers and unsupported sentences marked
    sentences: list[SentenceCheck]
    renumbered: int

    @property
    def supported_share(self) -> float | None:
        return sum(s.supported for s in self.sentences) / len(self.sentences) if self.sentences else None


def split_sentences(answer: str) -> list[str]:
    """The answer cut into sentences with nothing lost (joined they give the answer back), each with the citation
    marks that follow it (a mark after the full stop belongs to the sentence before); formulas and code stay whole."""
    cuts = safe_cuts(answer, SENTENCE_END, protected_spans(answer))
    pieces: list[str] = []
    prev = 0
    for cut in [*cuts, len(answer)]:
        piece = answer[prev:cut]
        prev = cut
        lead = _LEADING_CITES.match(piece)
        if lead and pieces:
            pieces[-1] += lead.group(0)
            piece = piece[lead.end():]
        if piece:
            pieces.append(piece)
    return pieces


def _checkable(plain: str) -> bool:
    stripped = plain.strip().lstrip(">-*# ").strip()
    return len(stripped) >= _MIN_CHARS and not stripped.startswith(("$$", "```", "\\begin"))


def check_sentences(answer: str, sources: list[Source], floor: float = SUPPORT_FLOOR) -> CheckedSentences:
    """Score each cited (or citable) sentence against its excerpts; renumber clear mis-citations, mark the rest."""
    given = {s.rank: s for s in sources}
    out: list[str] = []
    checks: list[SentenceCheck] = []
    renumbered = 0
    for piece in split_sentences(answer):
        plain = sub_outside(_CITES, "", piece).strip()
        if not _checkable(plain):
            out.append(piece)
            continue
        cites = [int(m.group(1)) for m in find_outside(_NUMBER, piece) if int(m.group(1)) in given]
        scores = {rank: overlap(plain, s.text) for rank, s in given.items()}
        best = max(scores, key=scores.get) if scores else None
        support = max((scores[n] for n in cites), default=0.0)
        moved = None
        if best is not None and cites and best not in cites and support < floor and \
                scores[best] >= support + RENUMBER_MARGIN:
            moved, cites, support = cites, [best], scores[best]
            renumbered += 1
            piece = _renumber(piece, best)
        supported = bool(cites) and support >= floor
        checks.append(SentenceCheck(plain, cites, support, supported, moved))
        out.append(piece if supported else _mark(piece))
    return CheckedSentences("".join(out), checks, renumbered)


def _renumber(piece: str, rank: int) -> str:
    """The sentence with its first run of citation marks replaced by ``[rank]`` and any other run dropped."""
    runs = iter(range(1_000_000))
    return sub_outside(_CITES, lambda m: f"[{rank}]" if next(runs) == 0 else "", piece)


def _mark(piece: str) -> str:
    tail = len(piece) - len(piece.rstrip())
    return piece.rstrip() + UNSUPPORTED_MARK + piece[len(piece) - tail:] if tail else piece + UNSUPPORTED_MARK
