r"""Make the blog's MathJax LaTeX acceptable to KaTeX: MathJax-only commands rewritten, what MathJax forgives
and KaTeX does not fixed, a scraping artefact repaired, dollar signs removed from inside formulas (so the chat's
delimiter matching cannot go wrong) and ``\newcommand``s taken out (see ``macros``)."""

from __future__ import annotations

import itertools
import re

from plugins.math_render.macros import extract_definitions
from plugins.math_render.tex_scan import read_argument, replace_macro

_PERCENT_SIGN = re.compile(r"(?<=[0-9])%")
_COMMENT = re.compile(r"(?<!\\)((?:\\\\)*)%[^\n]*")
_ESCAPED_DOLLAR = re.compile(r"(?<!\\)((?:\\\\)*)\\\$")
_DOLLAR = re.compile(r"(?<!\\)((?:\\\\)*)\$")
_EQNARRAY = re.compile(r"\\(begin|end)\{eqnarray\*?\}")
_MBOX = re.compile(r"\\mbox(?![A-Za-z])")
TEXT_COMMANDS = ("text", "textbf", "textit", "textrm", "textsf", "texttt", "textnormal", "textup", "textmd")
_ARGUMENTS = {name: 1 for name in (
    "boldsymbol", "bm", "mathbf", "mathbb", "mathcal", "mathrm", "mathit", "mathsf", "mathtt", "mathfrak",
    "mathscr", "operatorname", "sqrt", "hat", "tilde", "bar", "vec", "dot", "ddot", "overline", "underline",
    "widehat", "widetilde", "color", "mathop", "text", "textbf", "textrm", "textit")}
_ARGUMENTS.update({"frac": 2, "dfrac": 2, "tfrac": 2, "binom": 2, ",": 0, ";": 0, ":": 0, "!": 0, "quad": 0,
                   "qquad": 0})
_SCRIPT_MACRO = re.compile(r"([_^])\s*\\(" + "|".join(map(re.escape, sorted(_ARGUMENTS, key=len, reverse=True)))
                           + r")(?![A-Za-z])")
# The scraper's "&S&S..." artefact: a cell's start written twice. Only repaired where S cannot be a whole cell.
_GARBLE = re.compile(r"(?<!\\)&([^&\n]{1,30}?|[^&\n]{0,30}?&[^&\n]{1,30}?)(?<!\\)&\1(?=[^&\n])")


def _bbox(options: str | None, args: list[str]) -> str:
    options = (options or "").strip()
    if "border" in options:
        return r"\boxed{" + args[0] + "}"
    if re.fullmatch(r"[A-Za-z]+", options):
        return r"\colorbox{" + options + r"}{\(" + args[0] + r"\)}"
    return "{" + args[0] + "}"


def strip_mathjax(tex: str) -> str:
    r"""Rewrite what only MathJax knows (``\require``, ``\style``, ``\bbox``, ``eqnarray``...) and drop comments."""
    tex = _COMMENT.sub(r"\1", _PERCENT_SIGN.sub(r"\\%", tex))
    for name in ("require", "setCounter", "uproot", "leftroot"):
        tex = replace_macro(tex, name, lambda _o, _a: "", 1)
    for name in ("style", "class", "cssId"):
        tex = replace_macro(tex, name, lambda _o, a: "{" + a[1] + "}", 2)
    tex = replace_macro(tex, "bbox", _bbox, 1, optional=True)
    tex = _EQNARRAY.sub(lambda m: r"\begin{array}{rcl}" if m.group(1) == "begin" else r"\end{array}", tex)
    return _MBOX.sub(r"\\text", tex)


def _escape_text_scripts(text: str) -> str:
    r"""``_`` and ``^`` in a text-mode argument as literal characters, except inside ``\(..\)``."""
    parts = re.split(r"(\\\(.*?\\\))", text, flags=re.S)
    return "".join(p if i % 2 else re.sub(r"(?<!\\)([_^])", lambda m: {"_": r"\_", "^": r"\^{}"}[m.group(1)], p)
                   for i, p in enumerate(parts))


def _brace_script_argument(tex: str) -> str:
    r"""``x_\boldsymbol{y}`` (MathJax takes it, KaTeX does not) as ``x_{\boldsymbol{y}}``."""
    out, prev = [], 0
    for m in _SCRIPT_MACRO.finditer(tex):
        if m.start() < prev:
            continue
        pos = m.end()
        for _ in range(_ARGUMENTS[m.group(2)]):
            _arg, pos = read_argument(tex, pos)
        out += [tex[prev:m.start()], m.group(1) + "{" + tex[m.start(2) - 1:pos] + "}"]
        prev = pos
    out.append(tex[prev:])
    return "".join(out)


def _is_cut_short(cell: str, following: str) -> bool:
    """Whether ``cell`` (then ``following``) ends where no table cell can: mid-command, after ``_`` or an operator,
    or with a bracket left open."""
    if re.search(r"[_^\\+-]\s*$", cell) or re.search(r"\\[A-Za-z]+$", cell) and following[:1].isalpha():
        return True
    return any(cell.count(a) > cell.count(b) for a, b in ("()", "[]", "{}"))


def repair_scraper_garble(tex: str) -> str:
    r"""``&r_m r_&r_m r_n`` (a scraping artefact in some pages) as ``&r_m r_n``."""
    def repair(m: re.Match) -> str:
        return "&" + m.group(1) if _is_cut_short(m.group(1), tex[m.end():m.end() + 1]) else m.group(0)

    return _GARBLE.sub(repair, tex)


def fix_syntax(tex: str) -> str:
    r"""What MathJax forgives and KaTeX does not: ``_`` inside ``\text{}``, a command with arguments as a script."""
    for name in TEXT_COMMANDS:
        tex = replace_macro(tex, name, lambda _o, a, name=name: "\\" + name + "{" + _escape_text_scripts(a[0]) + "}",
                            1)
    return _brace_script_argument(tex)


def remove_dollars(tex: str) -> str:
    r"""``\$`` as ``\char36`` and inner ``$..$`` (inside ``\text{}``) as ``\(..\)``: no dollar sign is left."""
    tex = _ESCAPED_DOLLAR.sub(lambda m: m.group(1) + r"\char36 ", tex)
    dollars = itertools.count()
    return _DOLLAR.sub(lambda m: m.group(1) + ("\\)" if next(dollars) % 2 else "\\("), tex)


def katex_ready(tex: str, definitions: dict[str, tuple[int, str]]) -> str:
    """One formula with every rewrite above applied; its macro definitions moved to ``definitions``."""
    tex = fix_syntax(remove_dollars(repair_scraper_garble(strip_mathjax(tex))))
    return extract_definitions(tex, definitions)
