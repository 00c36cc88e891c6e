r"""One LaTeX formula as readable Unicode text: ``\sum_{i=1}^n x_i^2`` -> ``∑ᵢ₌₁ⁿ xᵢ²``, ``\frac{a+b}{c}`` ->
``(a+b)/c``, ``\mathbb{E}_{x\sim p}`` -> ``𝔼_(x∼p)``; parsed with pylatexenc's latexwalker."""

from __future__ import annotations

import re

from pylatexenc import macrospec
from pylatexenc.latexwalker import (
    LatexCharsNode,
    LatexCommentNode,
    LatexEnvironmentNode,
    LatexGroupNode,
    LatexMacroNode,
    LatexMathNode,
    LatexSpecialsNode,
    LatexWalker,
    LatexWalkerError,
    get_default_latex_context_db,
)

from plugins.math_render.unicode_tables import (
    BIG_OPERATORS,
    COMBINING,
    FUNCTION_NAMES,
    IGNORED,
    LETTER_STYLES,
    RELATIONS,
    SPACES,
    SUBSCRIPT,
    SUPERSCRIPT,
    SYMBOLS,
)

_EXTRA_SPECS = {"boldsymbol": "{", "bm": "{", "mathop": "{", "operatorname": "*{", "dfrac": "{{", "tfrac": "{{",
                "binom": "{{", "stackrel": "{{", "overset": "{{", "underset": "{{", "tag": "*{", "boxed": "{",
                "cancel": "{", "bcancel": "{", "xcancel": "{", "xlongequal": "[{", "xleftarrow": "[{",
                "substack": "{", "smash": "[{", "rlap": "{", "llap": "{", "colorbox": "{{", "fcolorbox": "{{{",
                "mathsf": "{", "mathtt": "{", "mathnormal": "{", "Bbb": "{", "widetilde": "{", "check": "{",
                "overbrace": "{", "phantom": "{", "vphantom": "{", "hphantom": "{", "char": "{"}
_CONTEXT = get_default_latex_context_db()
_CONTEXT.add_context_category("kexue-math", prepend=True,
                              macros=[macrospec.MacroSpec(name, spec) for name, spec in _EXTRA_SPECS.items()])

PASS_THROUGH = {"boldsymbol", "bm", "mathbf", "mathrm", "mathit", "mathsf", "mathtt", "mathnormal", "mathop",
                "operatorname", "boxed", "cancel", "bcancel", "xcancel", "smash", "rlap", "llap", "underbrace",
                "overbrace", "ensuremath", "pmb", "bold", "substack", "displaylines", "emph", "textnormal"}
TEXT_MODE = {"text", "textbf", "textit", "textrm", "textsf", "texttt", "mbox", "textup", "textmd", "hbox"}
MATRIX_BRACKETS = {"pmatrix": "()", "bmatrix": "[]", "Bmatrix": "{}", "vmatrix": "||", "Vmatrix": "‖‖",
                   "matrix": "[]", "smallmatrix": "[]", "cases": "{}"}
TAG_GAP = "\x00"  # where an equation number goes; four spaces in the end
_SIMPLE = re.compile(r"[\w.′∞]+|\(.*\)|\[.*\]|⟨.*⟩|.")


def _arguments(node: LatexMacroNode) -> list:
    return [a for a in (node.nodeargd.argnlist if node.nodeargd else []) if a is not None]


def script(content: str, superscript: bool) -> str:
    """``content`` as Unicode super/subscript characters when all exist, else ``^x``, ``^(..)``."""
    table = SUPERSCRIPT if superscript else SUBSCRIPT
    if content and all(ch in table for ch in content):
        return "".join(table[ch] for ch in content)
    mark = "^" if superscript else "_"
    return mark + content if len(content) == 1 else f"{mark}({content})"


def _wrap(part: str) -> str:
    return part if _SIMPLE.fullmatch(part) else f"({part})"


class _Renderer:
    """Walks latexwalker nodes; ``nested`` (inside scripts, fractions) drops the spaces around relations."""

    def __init__(self) -> None:
        self.tags: list[str] = []

    def nodes(self, nodes, nested: bool = False, text_mode: bool = False) -> str:
        atoms = []
        for node in nodes or []:
            if isinstance(node, LatexCharsNode):
                atoms += list(node.chars)
            elif node is not None and not isinstance(node, LatexCommentNode):
                atoms.append(node)
        pieces: list[list[str]] = []  # [text, kind] with kind "", "bigop", "function"
        i = 0
        while i < len(atoms):
            atom = atoms[i]
            i += 1
            if isinstance(atom, str) and atom in "^_" and not text_mode:
                while i < len(atoms) and isinstance(atoms[i], str) and atoms[i].isspace():
                    i += 1
                if i < len(atoms):
                    text = script(self.atom(atoms[i], True, False).strip(), atom == "^")
                    i += 1
                    if pieces:
                        pieces[-1][0] += text
                    else:
                        pieces.append([text, ""])
                continue
            if isinstance(atom, LatexMacroNode) and atom.macroname in ("left", "right", "middle", "bigl", "bigr",
                                                                       "Bigl", "Bigr") and i < len(atoms):
                if isinstance(atoms[i], str) and atoms[i] == ".":
                    i += 1
                continue
            text = self.atom(atom, nested, text_mode)
            if not text:
                continue
            kind = "bigop" if text in BIG_OPERATORS else "function" if _is_function(atom) else _kind_of(atom)
            pieces.append([text, kind])
        return _join(pieces)

    def atom(self, atom, nested: bool, text_mode: bool) -> str:
        if isinstance(atom, str):
            if text_mode:
                return atom
            if atom.isspace():
                return ""
            if atom in "=<>" and not nested:
                return f" {atom} "
            return {"'": "′", "~": " "}.get(atom, atom)
        if isinstance(atom, LatexGroupNode):
            return self.nodes(atom.nodelist, nested, text_mode)
        if isinstance(atom, LatexMathNode):
            return self.nodes(atom.nodelist, nested)
        if isinstance(atom, LatexSpecialsNode):
            return {"&": "", "~": " "}.get(atom.specials_chars, atom.specials_chars)
        if isinstance(atom, LatexEnvironmentNode):
            return self.environment(atom)
        if isinstance(atom, LatexMacroNode):
            return self.macro(atom, nested, text_mode)
        return ""

    def macro(self, node: LatexMacroNode, nested: bool, text_mode: bool) -> str:
        name, args = node.macroname, _arguments(node)
        if name in RELATIONS:
            return RELATIONS[name] if nested else f" {RELATIONS[name]} "
        if name in SYMBOLS:
            return SYMBOLS[name]
        if name in SPACES:
            return "" if nested else SPACES[name]
        if name == "\\":
            return "\n"
        if name in LETTER_STYLES and args:
            return "".join(LETTER_STYLES[name].get(ch, ch) for ch in self.atom(args[-1], True, False))
        if name in TEXT_MODE:
            return self.atom(args[-1], nested, True) if args else ""
        if name in ("frac", "dfrac", "tfrac", "cfrac") and len(args) == 2:
            num, den = (self.atom(a, True, False) for a in args)
            return f"{_wrap(num)}/{_wrap(den)}"
        if name == "sqrt" and args:
            body = _wrap(self.atom(args[-1], True, False))
            index = self.atom(args[0], True, False) if len(args) == 2 else ""
            return (script(index, True) if index else "") + "√" + body
        if name in COMBINING and args:
            body = self.atom(args[-1], True, False)
            return body + COMBINING[name] if len(body) == 1 else f"{name}({body})"
        if name == "binom" and len(args) == 2:
            return "C({}, {})".format(*(self.atom(a, True, False) for a in args))
        if name in ("stackrel", "overset", "underset", "colorbox", "fcolorbox", "textcolor") and args:
            return self.atom(args[-1], nested, False)
        if name in ("xrightarrow", "xlongequal", "xleftarrow"):
            return {"xrightarrow": " → ", "xlongequal": " = ", "xleftarrow": " ← "}[name]
        if name == "tag" and args:
            self.tags.append(self.atom(args[-1], True, True))
            return ""
        if name in PASS_THROUGH:
            return "".join(self.atom(a, nested, text_mode) for a in args)
        if name in IGNORED or name in ("eqref", "ref") or name.endswith("phantom"):
            return ""
        return name if name.isalpha() else ""

    def environment(self, node: LatexEnvironmentNode) -> str:
        rows: list[list[list]] = [[[]]]
        for child in node.nodelist:
            if isinstance(child, LatexMacroNode) and child.macroname == "\\":
                rows.append([[]])
            elif isinstance(child, LatexSpecialsNode) and child.specials_chars == "&":
                rows[-1].append([])
            else:
                rows[-1][-1].append(child)
        name = node.environmentname.rstrip("*")
        if name in MATRIX_BRACKETS:
            open_, close = MATRIX_BRACKETS[name]
            cells = ["  ".join(self.nodes(cell, True).strip() for cell in row) for row in rows]
            return open_ + "; ".join(c for c in cells if c) + close
        lines = []
        for row in rows:
            outer_tags, self.tags = self.tags, []
            line = ("  " if name in ("array", "tabular") else "").join(self.nodes(cell) for cell in row)
            line += "".join(f"{TAG_GAP}({tag})" for tag in self.tags)
            self.tags = outer_tags
            if line.strip():
                lines.append(line.strip())
        return "\n".join(lines)


def _is_function(atom) -> bool:
    return isinstance(atom, LatexMacroNode) and atom.macroname in FUNCTION_NAMES


def _kind_of(atom) -> str:
    is_fraction = isinstance(atom, LatexMacroNode) and atom.macroname in ("frac", "dfrac", "tfrac", "cfrac")
    return "fraction" if is_fraction else ""


def _join(pieces: list[list[str]]) -> str:
    """Concatenate, with a space after a function name or a big operator, and a fraction written next to
    something else in parentheses (``(1/2)x``, not ``1/2x``)."""
    out = ""
    for n, (text, kind) in enumerate(pieces):
        before = pieces[n - 1] if n else ["", ""]
        after = pieces[n + 1][0] if n + 1 < len(pieces) else ""
        last, first = before[0][-1:], after[:1]
        if kind == "fraction" and ((last and (last.isalnum() or last in ")]")) or (first and (first.isalnum()
                                                                                               or first in "(["))):
            text = f"({text})"
        after_function = before[1] == "function" and text[:1] not in "([{|‖⟨,;.)^_ " + "".join(SUBSCRIPT.values())
        if after_function or (before[1] == "bigop" and not text.startswith(" ")):
            out += " "
        out += text
    return out


def formula_to_unicode(tex: str) -> str:
    """One formula (without its delimiters) as Unicode text; rows of environments on separate lines."""
    try:
        nodes, _, _ = LatexWalker(tex, latex_context=_CONTEXT, tolerant_parsing=True).get_latex_nodes()
    except LatexWalkerError:
        return tex
    renderer = _Renderer()
    text = renderer.nodes(nodes)
    text += "".join(f"{TAG_GAP}({tag})" for tag in renderer.tags)
    lines = (re.sub(r" {2,}", " ", line).strip().replace(TAG_GAP, "    ") for line in text.split("\n"))
    return "\n".join(line for line in lines if line)
