r"""Macros: the ``\newcommand``/``\def``/``\DeclareMathOperator`` definitions a text makes (taken out of its
formulas and kept by name), the operators the blog defines in one post and uses in others, and the ``\def``
prelude a formula needs for the macros it uses (KaTeX forgets definitions between formulas)."""

from __future__ import annotations

import re

from plugins.math_render.tex_scan import read_argument, replace_macro

# Operators the posts define with \newcommand in one place and use in others (KaTeX has none of them).
BLOG_OPERATORS = ("argmax", "argmin", "clip", "ColNorm", "csgn", "dcos", "diag", "erf", "erfc", "mclip", "mcsgn",
                  "msign", "mstep", "Norm", "orth", "QR", "rank", "rcos", "recos", "relu", "RMSNorm", "sg", "sign",
                  "softmax", "softsign", "step", "tr")
BUILTIN_MACROS: dict[str, tuple[int, str]] = {name: (0, r"\mathop{\text{" + name + "}}") for name in BLOG_OPERATORS}
BUILTIN_MACROS["proj"] = (0, r"\mathop{\mathcal{P}}")

_DEFINE = re.compile(r"\\(?:re)?newcommand\*?|\\providecommand\*?|\\DeclareMathOperator\*?|\\def(?![A-Za-z])")
_CONTROL_WORD = re.compile(r"\\([A-Za-z]+)")
_MAX_EXPANSION_ROUNDS = 3


def _read_definition(tex: str, m: re.Match) -> tuple[str, int, str, int] | None:
    """(name, number of arguments, body, end) of the definition starting at ``m``; None if unreadable."""
    pos = m.end()
    if m.group(0) == r"\def":
        head = re.match(r"\s*\\([A-Za-z]+)((?:#\d)*)", tex[pos:])
        if not head:
            return None
        body, end = read_argument(tex, pos + head.end())
        return (head.group(1), len(head.group(2)) // 2, body, end) if body is not None else None
    name, pos = read_argument(tex, pos)
    if not name or not re.fullmatch(r"\\?[A-Za-z]+", name.strip()):
        return None
    n_args, pos = read_argument(tex, pos, optional=True)
    body, end = read_argument(tex, pos)
    if body is None:
        return None
    if "DeclareMathOperator" in m.group(0):
        body = r"\operatorname{" + body + "}"
    return name.strip().lstrip("\\"), int(n_args) if n_args and n_args.strip().isdigit() else 0, body, end


def extract_definitions(tex: str, definitions: dict[str, tuple[int, str]]) -> str:
    r"""Remove every ``\newcommand``/``\def``/``\DeclareMathOperator`` from ``tex``, adding them to ``definitions``."""
    out, prev = [], 0
    for m in _DEFINE.finditer(tex):
        if m.start() < prev:
            continue
        found = _read_definition(tex, m)
        if found is None:
            continue
        name, n_args, body, end = found
        definitions[name] = (n_args, body)
        out.append(tex[prev:m.start()])
        prev = end
    out.append(tex[prev:])
    return "".join(out)


def macro_prelude(tex: str, definitions: dict[str, tuple[int, str]]) -> str:
    r"""``\def`` lines for the macros ``tex`` uses: the text's own definitions, else the blog's operators."""
    lines, seen = [], set()
    pending = list(_CONTROL_WORD.findall(tex))
    while pending:
        name = pending.pop(0)
        if name in seen:
            continue
        seen.add(name)
        found = definitions.get(name) or BUILTIN_MACROS.get(name)
        if found:
            n_args, body = found
            lines.append(rf"\def\{name}" + "".join(f"#{i}" for i in range(1, n_args + 1)) + "{" + body + "}")
            pending += _CONTROL_WORD.findall(body)
    return "".join(reversed(lines))


def _fill(body: str, args: list[str]) -> str:
    for i, arg in enumerate(args, start=1):
        body = body.replace(f"#{i}", arg)
    return body


def expand_macros(tex: str, definitions: dict[str, tuple[int, str]]) -> str:
    r"""Replace uses of the text's own (and the blog's usual) macros by their bodies, ``#1``.. filled in."""
    known = {**BUILTIN_MACROS, **definitions}
    for _ in range(_MAX_EXPANSION_ROUNDS):
        before = tex
        for name, (n_args, body) in known.items():
            if "\\" + name in tex:
                tex = replace_macro(tex, name, lambda _opt, args, body=body: _fill(body, args), n_args)
        if tex == before:
            break
    return tex
