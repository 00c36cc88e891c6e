r"""Split Markdown+LaTeX text into prose, code and math segments: ``$..$``, ``\(..\)`` (inline), ``$$..$$``,
``\[..\]`` and top-level ``\begin{..}..\end{..}`` (display), fenced and inline code.

Like ``ingest.latex_spans`` (which decides where chunks may be cut), but a delimiter that is never closed (a
lone dollar sign, a formula cut off while streaming) is prose and the text after it is read again."""

from __future__ import annotations

import re
from dataclasses import dataclass

from ingest.latex_spans import FENCE_DOLLAR_ENV_EVENTS

TEXT, CODE, INLINE, DISPLAY = "text", "code", "inline", "display"

_EVENT = re.compile(
    FENCE_DOLLAR_ENV_EVENTS
    + r"|(?P<bracket>\\\[)|(?P<bracket_close>\\\])"
    r"|(?P<paren>\\\()|(?P<paren_close>\\\))"
    r"|(?P<blank>\n[ \t>]*\n)"
)
_CLOSER = {"fence": "fence", "display": "display", "inline": "inline", "bracket": "bracket_close",
           "paren": "paren_close"}
_OPENERS = ("fence", "display", "inline", "bracket", "paren", "begin")
_BLOCK_OPENERS = ("fence", "display", "bracket", "begin")
_CANCELLED_BY = {"inline": ("blank", "display"), "paren": ("blank",)}
_INLINE_CODE = re.compile(r"(?<!`)(`+)(?!`)[^\n]+?(?<!`)\1(?!`)")


@dataclass
class Segment:
    """A piece of the text: ``raw`` as written; ``tex`` the formula inside its delimiters (math kinds only)."""

    kind: str
    raw: str
    tex: str = ""


def _closing(text: str, opener: re.Match) -> int | None:
    """Where the span opened by ``opener`` ends; None when it is not closed."""
    kind, depth = opener.lastgroup, 1
    for m in _EVENT.finditer(text, opener.end()):
        event = m.lastgroup
        if event == "escaped":
            continue
        if kind == "begin":
            depth += {"begin": 1, "end": -1}.get(event, 0)
            if depth == 0:
                return m.end()
        elif event == _CLOSER[kind]:
            return m.end()
        elif event in _CANCELLED_BY.get(kind, ()):
            return None
    return None


def _segment(raw: str, kind: str) -> Segment:
    if kind == "fence":
        return Segment(CODE, raw)
    if kind == "begin":
        return Segment(DISPLAY, raw, raw)
    cut = 1 if kind == "inline" else 2
    return Segment(DISPLAY if kind in ("display", "bracket") else INLINE, raw, raw[cut:-cut])


def _spans(text: str) -> list[tuple[int, int, str]]:
    """(start, end, opener kind) of every closed math span and fenced code block, in order."""
    spans, pos = [], 0
    while True:
        for m in _EVENT.finditer(text, pos):
            if m.lastgroup in _OPENERS:
                end = _closing(text, m) or (len(text) if m.lastgroup == "fence" else None)
                if end is not None and end > m.end():
                    spans.append((m.start(), end, m.lastgroup))
                    pos = end
                    break
        else:
            return spans


def printable_length(text: str) -> int:
    """How much of a streamed text can be shown now: whole lines, stopping before a display formula or code
    block that is not closed yet (so it is transformed in one piece)."""
    cut = text.rfind("\n") + 1
    masked = _mask_inline_code(text[:cut])
    pos = 0
    for m in _EVENT.finditer(masked):
        if m.start() < pos or m.lastgroup not in _OPENERS:
            continue
        end = _closing(masked, m)
        if end is None and m.lastgroup in _BLOCK_OPENERS:
            return masked.rfind("\n", 0, m.start()) + 1
        pos = end or pos
    return cut


def _mask_inline_code(text: str) -> str:
    """``text`` with the inside of each inline code span blanked out (same length), so no math is seen there."""
    return _INLINE_CODE.sub(lambda m: m.group(1) + "x" * (len(m.group(0)) - 2 * len(m.group(1))) + m.group(1), text)


def _prose(text: str) -> list[Segment]:
    """Prose with its inline code spans cut out."""
    pieces, prev = [], 0
    for m in _INLINE_CODE.finditer(text):
        pieces += [Segment(TEXT, text[prev:m.start()]), Segment(CODE, m.group(0))]
        prev = m.end()
    pieces.append(Segment(TEXT, text[prev:]))
    return [p for p in pieces if p.raw]


def split_math(text: str) -> list[Segment]:
    """The segments of ``text`` in order; joining their ``raw`` gives ``text`` back."""
    segments: list[Segment] = []
    prev = 0
    for start, end, kind in _spans(_mask_inline_code(text)):
        segments += _prose(text[prev:start])
        segments.append(_segment(text[start:end], kind))
        prev = end
    return segments + _prose(text[prev:])
