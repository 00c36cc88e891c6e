r"""Text for the terminal: every formula as readable Unicode (``$\sqrt{d}$`` -> ``√d``), display formulas on lines
of their own, indented, with their equation numbers; ``\eqref`` as the number."""

from __future__ import annotations

import re

from plugins.math_render.katex_compat import katex_ready
from plugins.math_render.macros import expand_macros
from plugins.math_render.numbering import number_formula, resolve_refs
from plugins.math_render.segments import CODE, DISPLAY, INLINE, split_math
from plugins.math_render.unicode_math import formula_to_unicode

INDENT = "    "
_UNCLOSED_TAIL = re.compile(r"(?:\$\$?|\\\[|\\\(|(?=\\begin\{))(?=[^$\n]*\\[A-Za-z])[^$\n]*$", re.M)


def _unclosed_tails(text: str) -> str:
    """A formula cut off at the end of a line (a truncated preview) rendered as far as it goes, then "…"."""
    return _UNCLOSED_TAIL.sub(lambda m: formula_to_unicode(m.group(0).lstrip("$").removeprefix("\\[")
                                                           .removeprefix("\\(")).replace("\n", " ") + "…", text)


def to_unicode(text: str, compact: bool = False) -> str:
    """``text`` with its LaTeX rendered as Unicode for a terminal; prose and code are left as they are.

    ``compact`` (for one-line previews): display formulas stay inline and a formula cut off by truncation is
    rendered too."""
    segments = split_math(text)
    definitions: dict[str, tuple[int, str]] = {}
    counter, labels = [0], {}
    formulas: dict[int, str] = {}
    for i, seg in enumerate(segments):
        if seg.kind in (INLINE, DISPLAY):
            tex = katex_ready(seg.tex, definitions)
            formulas[i] = number_formula(tex, seg.kind == DISPLAY, counter, labels)
    out: list[str] = []
    for i, seg in enumerate(segments):
        if seg.kind == CODE:
            out.append(seg.raw)
        elif i not in formulas:
            prose = resolve_refs(seg.raw, labels, in_math=False)
            out.append(_unclosed_tails(prose) if compact else prose)
        else:
            tex = expand_macros(resolve_refs(formulas[i], labels, in_math=True), definitions)
            rendered = formula_to_unicode(tex)
            if compact or (seg.kind == INLINE and "\n" not in rendered):
                out.append(rendered.replace("\n", "; "))
                continue
            if not rendered:
                continue
            last = next((piece[-1] for piece in reversed(out) if piece), "\n")
            following = segments[i + 1].raw if i + 1 < len(segments) else "\n"
            block = "\n".join(INDENT + line for line in rendered.split("\n"))
            out.append(("" if last == "\n" else "\n") + block + ("" if following.startswith("\n") else "\n"))
    return "".join(out)
