"""Links to a sentence of a post: ``url#:~:text=start,end`` per the WICG text-fragment spec, built only from text the
page shows verbatim (formulas, which MathJax renders, and code spans are skipped; Markdown links keep their text)."""

from __future__ import annotations

import re
from urllib.parse import quote

# lengths in Latin letters; a Chinese character counts as two
WHOLE_WIDTH = 60  # a run this short is matched whole (text=run)
EDGE_WIDTH = 24  # otherwise textStart and textEnd are at least this long each
MIN_RUN_WIDTH = 12  # shorter runs between formulas are too common a phrase to find the sentence by
_BREAK = "\x00"
_HIDDEN = re.compile(
    r"\$\$.*?\$\$|\$[^$]*\$|\\\(.*?\\\)|\\\[.*?\\\]|\\begin\{([^}]+)\}.*?\\end\{\1\}"  # math
    r"|```.*?```|`[^`]*`"  # code
    r"|!\[[^\]]*\]\([^)]*\)|<[^>]+>|\[\^[^\]]*\]",  # images, HTML tags, footnote marks
    re.S)
_LINK = re.compile(r"\[([^\]]*)\]\([^)]*\)")
_EMPHASIS = re.compile(r"\*\*|__|~~|(?<![\w\\])\*|\*(?!\w)")
_ESCAPE = re.compile(r"\\([\\`*_{}\[\]()#+\-.!$])")
LINE_MARKERS = re.compile(r"^\s*(?:#{1,6}\s+|>\s*|[-*+]\s+|\d+[.)]\s+)+")  # heading, quote, list item
_EDGE = " \t\r\n,，、.。;；:：!！?？\"'“”‘’()（）[]【】《》<>-—…"
# a space beside Chinese text may be the page's or a scraper's (around a link, say): neither side is relied on
_CJK_SPACE = re.compile(r"(?<=[\u3000-\u9fff\uff00-\uffef])\s+|\s+(?=[\u3000-\u9fff\uff00-\uffef])")
_TOKEN = re.compile(r"[A-Za-z0-9_]+|\s+|.", re.S)


def visible_runs(sentence: str) -> list[str]:
    """The pieces of a Markdown sentence that the page renders as the same text, in order, whitespace collapsed
    and trimmed of edge punctuation (also cut at spaces beside Chinese characters)."""
    text = _HIDDEN.sub(_BREAK, LINE_MARKERS.sub("", sentence))
    text = _ESCAPE.sub(r"\1", _EMPHASIS.sub("", _LINK.sub(r"\1", text)))
    text = _CJK_SPACE.sub(_BREAK, text)
    runs = (" ".join(part.split()).strip(_EDGE) for part in text.split(_BREAK))
    return [run for run in runs if run]


def _tokens(text: str) -> list[str]:
    """``text`` cut where a word may start or end: between Chinese words (jieba), around English words and spaces."""
    from app.bm25 import jieba_module

    pieces: list[str] = []
    for part in re.split(r"([\u4e00-\u9fff]+)", text):
        if re.fullmatch(r"[\u4e00-\u9fff]+", part):
            pieces.extend(jieba_module().lcut(part, HMM=False))
        elif part:
            pieces.extend(_TOKEN.findall(part))
    return pieces


def width(text: str) -> int:
    """Length with each Chinese character (or full-width sign) counted twice."""
    return len(text) + sum(1 for ch in text if ord(ch) >= 0x2E80)


def _head(run: str, wide: int) -> str:
    """The shortest start of ``run`` at least ``wide`` long that ends at a word end."""
    out = ""
    for token in _tokens(run):
        out += token
        if width(out.strip()) >= wide:
            break
    return out.strip(_EDGE)


def _tail(run: str, wide: int) -> str:
    """The shortest end of ``run`` at least ``wide`` long that starts at a word start."""
    out = ""
    for token in reversed(_tokens(run)):
        out = token + out
        if width(out.strip()) >= wide:
            break
    return out.strip(_EDGE)


def encode(text: str) -> str:
    """Percent-encode a text directive term: UTF-8, everything but unreserved characters, and ``-`` as well."""
    return quote(text, safe="").replace("-", "%2D")


def text_directive(sentence: str) -> str:
    """``start,end`` or ``whole`` (percent-encoded) locating ``sentence`` on its page; "" when it shows too little
    verbatim text to be found by."""
    runs = [run for run in visible_runs(sentence) if width(run) >= MIN_RUN_WIDTH]
    if not runs:
        return ""
    first, last = runs[0], runs[-1]
    if len(runs) == 1 and width(first) <= WHOLE_WIDTH:
        return encode(first)
    start = first if len(runs) > 1 and width(first) <= WHOLE_WIDTH else _head(first, EDGE_WIDTH)
    end = last if len(runs) > 1 and width(last) <= WHOLE_WIDTH else _tail(last, EDGE_WIDTH)
    if len(runs) == 1 and len(start) + len(end) >= len(first):
        return encode(first)
    return f"{encode(start)},{encode(end)}"


def text_fragment(url: str, sentence: str) -> str:
    """``url`` with a text fragment that scrolls to ``sentence`` and highlights it (``url`` itself when the sentence
    has no verbatim text to match)."""
    directive = text_directive(sentence or "")
    if not url or not directive:
        return url
    return f"{url.split('#', 1)[0]}#:~:text={directive}"
