r"""Equation numbers as the blog's MathJax gives them (every row of ``equation``/``align``/``gather``... that has no
``\nonumber``), made explicit with ``\tag{n}``; ``\label`` dropped and ``\eqref``/``\ref`` replaced by the number."""

from __future__ import annotations

import re

from plugins.math_render.tex_scan import replace_macro, split_rows

NUMBERED_ENVS = ("equation", "align", "gather", "alignat", "multline", "flalign")
_NUMBERED_BEGIN = re.compile(r"\\begin\{(" + "|".join(NUMBERED_ENVS) + r")\}")
_LABEL = re.compile(r"\\label\s*\{([^{}]*)\}")
_TAG = re.compile(r"\\tag\*?\s*\{([^{}]*)\}")
_NO_NUMBER = re.compile(r"\\(?:nonumber|notag)(?![A-Za-z])")
_ARGS_OF = {"alignat": r"\s*\{[^{}]*\}"}


def _number_row(row: str, numbered: bool, counter: list[int], labels: dict[str, str]) -> str:
    """Tag one row (``counter`` is the last number used), record its labels, drop them from the row."""
    tag = _TAG.search(row)
    number = tag.group(1).strip() if tag else None
    if number is None and numbered and not _NO_NUMBER.search(row) and row.strip():
        counter[0] += 1
        number = str(counter[0])
        row = row.rstrip() + rf"\tag{{{number}}}" + row[len(row.rstrip()):]
    for label in _LABEL.findall(row):
        labels.setdefault(label.strip(), number or "")
    return _LABEL.sub("", row)


def _number_environment(tex: str, begin: re.Match, counter: list[int], labels: dict[str, str]) -> tuple[str, int]:
    """Number the environment opening at ``begin``; returns its rewritten text and where it ended in ``tex``."""
    name = begin.group(1)
    head_end = begin.end()
    extra = re.match(_ARGS_OF.get(name, ""), tex[head_end:])
    head_end += extra.end() if extra else 0
    end_tag = "\\end{" + name + "}"
    close = tex.find(end_tag, head_end)
    if close < 0:
        return tex[begin.start():], len(tex)
    body = tex[head_end:close]
    rows = [(body, "")] if name in ("equation", "multline") else split_rows(body)
    if len(rows) > 1 and not rows[-1][0].strip():
        rows[-2:] = [(rows[-2][0], rows[-1][0])]
    numbered = [_number_row(row, True, counter, labels) + sep for row, sep in rows]
    return tex[begin.start():head_end] + "".join(numbered) + end_tag, close + len(end_tag)


def number_formula(tex: str, display: bool, counter: list[int], labels: dict[str, str]) -> str:
    r"""Give the numbered rows of one formula their ``\tag``, continuing ``counter``; labels go to ``labels``."""
    out, prev = [], 0
    if display:
        for begin in _NUMBERED_BEGIN.finditer(tex):
            if begin.start() < prev:
                continue
            rewritten, prev_end = _number_environment(tex, begin, counter, labels)
            out += [tex[prev:begin.start()], rewritten]
            prev = prev_end
    rest = tex[prev:]
    if _LABEL.search(rest):
        rest = _number_row(rest, False, counter, labels)
    return "".join(out) + rest


def readable_label(label: str) -> str:
    """A label shown as text where its number is unknown, e.g. ``eq:loss`` -> ``(eq:loss)``."""
    return "(" + label.strip() + ")"


_TEXT_MODE_ESCAPES = {"\\": r"\textbackslash ", "~": r"\textasciitilde ", "^": r"\textasciicircum ",
                      "$": r"\textdollar "}


def _escape_text_mode(text: str) -> str:
    return re.sub(r"([_#%&$^{}~\\])", lambda m: _TEXT_MODE_ESCAPES.get(m.group(1), "\\" + m.group(1)), text)


def resolve_refs(tex: str, labels: dict[str, str], in_math: bool) -> str:
    r"""Replace ``\eqref{x}`` by ``(n)`` and ``\ref{x}`` by ``n`` (``\text{..}`` inside math)."""

    def ref(parens: bool):
        def replace(_opt, args):
            label = args[0].strip()
            number = labels.get(label)
            shown = (f"({number})" if parens else number) if number else readable_label(label)
            return r"\text{" + _escape_text_mode(shown) + "}" if in_math else shown
        return replace

    tex = replace_macro(tex, "eqref", ref(True), 1)
    return replace_macro(tex, "ref", ref(False), 1)
