r"""Markdown for the chat, with every formula in a form KaTeX renders.

Gradio's Chatbot (and Markdown) first swaps each ``left..right`` pair of its ``latex_delimiters`` (one delimiter
after the other, non-greedy, across lines, blind to backslashes, braces and code) for a placeholder, renders the
Markdown, puts the formulas back and runs KaTeX's auto-render on the page. So the output here has display math
as a ``$$`` block on lines of its own, inline math as ``$..$``, and no ``$``, ``\(`` or ``\[`` anywhere else:
not inside a formula, not in the prose (an HTML entity in an element of its own), not in code (HTML entities).
"""

from __future__ import annotations

import re

from plugins.math_render.katex_compat import katex_ready
from plugins.math_render.macros import macro_prelude
from plugins.math_render.numbering import number_formula, resolve_refs
from plugins.math_render.segments import CODE, DISPLAY, INLINE, TEXT, Segment, split_math

LITERAL_DOLLAR = "<span>&#36;</span>"  # shown as "$", seen as a delimiter neither by Gradio nor by auto-render
_DISPLAY_ONLY = re.compile(r"\\tag\b|\\begin\{(?:equation|align|gather|alignat|multline|flalign|CD)\*?\}")
_BLANK_LINES = re.compile(r"\n[ \t]*(?:\n[ \t]*)+")
_PROSE_DELIMITER = re.compile(r"(\\+)([()\[\]$])|\$")
_CODE_DELIMITER = re.compile(r"\$|\\[()\[\]]")
_FENCED = re.compile(r"(?P<indent>[ \t>]*)(?P<fence>```|~~~)(?P<info>[^\n]*)\n(?P<body>.*?)"
                     r"(?:\n[ \t>]*(?P=fence)[`~]*[ \t]*)?$", re.S)
_HTML_ESCAPES = {"&": "&amp;", "<": "&lt;", ">": "&gt;", "$": "&#36;", "\\": "&#92;"}


def _prepare(segments: list[Segment]) -> tuple[list[Segment], dict[str, str]]:
    """Formulas rewritten for KaTeX and numbered; returns the segments and the labels' numbers."""
    definitions: dict[str, tuple[int, str]] = {}
    prepared = []
    for seg in segments:
        if seg.kind in (INLINE, DISPLAY):
            tex = katex_ready(seg.tex, definitions)
            kind = DISPLAY if _DISPLAY_ONLY.search(tex) else seg.kind
            seg = Segment(kind, seg.raw, tex)
        prepared.append(seg)
    counter, labels = [0], {}
    numbered = []
    for seg in prepared:
        if seg.kind in (INLINE, DISPLAY):
            seg = Segment(seg.kind, seg.raw, number_formula(seg.tex, seg.kind == DISPLAY, counter, labels))
        numbered.append(seg)
    for i, seg in enumerate(numbered):
        if seg.kind in (INLINE, DISPLAY):
            tex = resolve_refs(seg.tex, labels, in_math=True)
            numbered[i] = Segment(seg.kind, seg.raw, macro_prelude(tex, definitions) + tex if tex.strip() else "")
    return numbered, labels


def _html_escape(code: str) -> str:
    return "".join(_HTML_ESCAPES.get(ch, ch) for ch in code)


def _code(raw: str) -> str:
    """Code as written, or as HTML with entities when it holds what the chat would take for a math delimiter."""
    if not _CODE_DELIMITER.search(raw):
        return raw
    fenced = _FENCED.fullmatch(raw)
    if fenced and not fenced.group("indent").strip():
        language = fenced.group("info").strip().split(" ")[0]
        attribute = f' class="language-{_html_escape(language)}"' if language else ""
        return f"<pre><code{attribute}>{_html_escape(fenced.group('body'))}</code></pre>"
    if raw.startswith("`"):
        return "<code>" + _html_escape(raw.strip("`").strip()) + "</code>"
    return raw


def _prose(text: str, labels: dict[str, str]) -> str:
    """Prose with references resolved and nothing left that the chat could take for a math delimiter."""
    return _PROSE_DELIMITER.sub(_literal_delimiter, resolve_refs(text, labels, in_math=False))


def _literal_delimiter(m: re.Match) -> str:
    """What Markdown would show for backslashes + a delimiter character, hidden from Gradio and auto-render: the
    shown backslashes and dollar signs as entities in an element of their own."""
    backslashes, char = len(m.group(1) or ""), m.group(2) or "$"
    shown = "<span>" + "&#92;" * (backslashes // 2) + "</span>" if backslashes > 1 else ""
    return shown + (LITERAL_DOLLAR if char == "$" else char)


def _last_char(out: list[str]) -> str:
    return next((piece[-1] for piece in reversed(out) if piece), "")


def to_katex_markdown(text: str) -> str:
    """``text`` (Markdown with the blog's LaTeX) as Markdown whose formulas the chat's KaTeX renders."""
    segments, labels = _prepare(split_math(text))
    out: list[str] = []
    for i, seg in enumerate(segments):
        if seg.kind == CODE:
            out.append(_code(seg.raw))
        elif seg.kind == TEXT:
            out.append(_prose(seg.raw, labels))
        elif not seg.tex.strip():
            continue
        elif seg.kind == INLINE:
            tex = _BLANK_LINES.sub("\n", seg.tex.strip())
            out.append((" " if _last_char(out) == "$" else "") + "$" + tex + "$")
        else:
            tex = _BLANK_LINES.sub("\n", seg.tex.strip("\n"))
            following = segments[i + 1].raw if i + 1 < len(segments) else "\n"
            before = "" if _last_char(out) in ("", "\n") else "\n"
            after = "" if following.startswith("\n") else "\n"
            out.append(before + "$$\n" + tex + "\n$$" + after)
    return "".join(out)
