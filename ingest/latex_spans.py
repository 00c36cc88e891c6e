"""Find the spans of a Markdown+LaTeX text that must never be cut: math, environments and code fences."""

from __future__ import annotations

import re

# Fences, escapes, dollars and environments, as named regex groups; the math plugin extends the same alternation.
FENCE_DOLLAR_ENV_EVENTS = (
    r"(?m)(?P<fence>^[ \t>]*(?:```|~~~))"
    r"|(?P<escaped>\\\\|\\\$)"
    r"|(?P<display>\$\$)"
    r"|(?P<inline>\$)"
    r"|\\begin\{(?P<begin>[^}\n]+)\}"
    r"|\\end\{(?P<end>[^}\n]+)\}"
)
_EVENT = re.compile(
    FENCE_DOLLAR_ENV_EVENTS
    + r"|(?P<bracket_open>\\\[)"
    r"|(?P<bracket_close>\\\])"
    r"|(?P<blank>\n[ \t>]*\n)"
)


def protected_spans(text: str) -> list[tuple[int, int]]:
    """Return sorted, non-overlapping (start, end) spans of math, LaTeX environments and fenced code.

    Inline ``$...$`` cannot run over a blank line (a stray dollar sign is then ignored); an unclosed
    block protects up to the end of the text, so an unbalanced block is kept whole rather than cut.
    """
    spans: list[tuple[int, int]] = []
    start = -1
    mode = ""  # "", "fence", "display", "inline", "bracket", "env"
    envs: list[str] = []
    for m in _EVENT.finditer(text):
        kind = m.lastgroup
        if mode == "fence":
            if kind == "fence":
                spans.append((start, m.end()))
                mode = ""
            continue
        if kind == "escaped":
            continue
        if mode == "":
            if kind == "blank":
                continue
            if kind in ("fence", "display", "inline", "bracket_open"):
                start, mode = m.start(), {"bracket_open": "bracket"}.get(kind, kind)
            elif kind == "begin":
                start, mode, envs = m.start(), "env", [m.group("begin")]
            continue
        if mode == "inline":
            if kind == "inline":
                spans.append((start, m.end()))
                mode = ""
            elif kind in ("blank", "display"):
                mode = ""  # a lone dollar sign, not math
            continue
        if mode == "env":
            if kind == "begin":
                envs.append(m.group("begin"))
            elif kind == "end" and m.group("end") in envs:
                while envs and envs.pop() != m.group("end"):
                    pass
                if not envs:
                    spans.append((start, m.end()))
                    mode = ""
            continue
        if (mode, kind) in (("display", "display"), ("bracket", "bracket_close")):
            spans.append((start, m.end()))
            mode = ""
    if mode not in ("", "inline"):
        spans.append((start, len(text)))
    return spans


def is_inside(pos: int, spans: list[tuple[int, int]]) -> bool:
    """True when a cut at ``pos`` would fall strictly inside one of ``spans``."""
    return any(s < pos < e for s, e in spans)


_PARAGRAPH_BREAK = re.compile(r"\n[ \t]*\n+")
SENTENCE_END = re.compile(r"(?<=[。！？；!?;])|(?<=\.)(?=\s)|\n")


def safe_cuts(text: str, pattern: re.Pattern[str], spans: list[tuple[int, int]]) -> list[int]:
    """Offsets where ``pattern`` matches outside every protected span (cut after the match)."""
    return [m.end() for m in pattern.finditer(text) if 0 < m.end() < len(text) and not is_inside(m.end(), spans)
            and not is_inside(m.start(), spans)]


def split_at(text: str, cuts: list[int]) -> list[str]:
    pieces, prev = [], 0
    for cut in [*cuts, len(text)]:
        piece = text[prev:cut].strip()
        if piece:
            pieces.append(piece)
        prev = cut
    return pieces


def paragraphs(text: str) -> list[str]:
    """Split at blank lines that lie outside math, environments and code."""
    return split_at(text, safe_cuts(text, _PARAGRAPH_BREAK, protected_spans(text)))


def sentences(text: str) -> list[str]:
    """Split a long paragraph after sentence ends or line breaks that lie outside protected spans."""
    return split_at(text, safe_cuts(text, SENTENCE_END, protected_spans(text)))


def sub_outside(pattern: re.Pattern[str], repl, text: str) -> str:
    """``pattern.sub(repl, text)`` for the matches that lie wholly outside math, environments and code (so a
    citation-like ``[0,1]`` inside a formula is left alone)."""
    spans = protected_spans(text)

    def replace(match: re.Match) -> str:
        if any(s <= match.start() < e or s < match.end() <= e for s, e in spans):
            return match.group(0)
        return repl(match) if callable(repl) else match.expand(repl)

    return pattern.sub(replace, text)


def find_outside(pattern: re.Pattern[str], text: str) -> list[re.Match]:
    """The matches of ``pattern`` that lie wholly outside math, environments and code."""
    spans = protected_spans(text)
    return [m for m in pattern.finditer(text) if not any(s <= m.start() < e or s < m.end() <= e for s, e in spans)]
