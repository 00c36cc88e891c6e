"""Small scanners over LaTeX source: balanced groups, macro calls with their arguments, rows of an environment."""

from __future__ import annotations

import re

_ROW_BREAK = re.compile(r"\\\\\*?(?:\s*\[[^\]\n]*\])?")
_ENV_EDGE = re.compile(r"\\(begin|end)\{([^}]*)\}")


def group_end(tex: str, start: int) -> int:
    """Index just after the ``{...}`` group opening at ``start`` (escaped braces skipped); -1 if unbalanced."""
    depth = 0
    i = start
    while i < len(tex):
        ch = tex[i]
        if ch == "\\":
            i += 2
            continue
        if ch == "{":
            depth += 1
        elif ch == "}":
            depth -= 1
            if depth == 0:
                return i + 1
        i += 1
    return -1


def read_argument(tex: str, pos: int, optional: bool = False) -> tuple[str | None, int]:
    """The argument at ``pos`` (after spaces): a ``{group}``, one token, or ``[..]`` when ``optional``.

    Returns (content, end); content is None when there is no such argument (end is then ``pos``).
    """
    i = pos
    while i < len(tex) and tex[i] in " \t\n":
        i += 1
    if i >= len(tex):
        return None, pos
    if optional:
        if tex[i] != "[":
            return None, pos
        close = tex.find("]", i)
        return (tex[i + 1:close], close + 1) if close > 0 else (None, pos)
    if tex[i] == "{":
        end = group_end(tex, i)
        return (tex[i + 1:end - 1], end) if end > 0 else (None, pos)
    token = re.match(r"\\[A-Za-z]+|\\.|[^\s{}]", tex[i:])
    return (token.group(0), i + token.end()) if token else (None, pos)


def replace_macro(tex: str, name: str, replace, n_args: int, optional: bool = False) -> str:
    r"""Replace every ``\name[opt]{a1}..{an}`` by ``replace(opt, args)`` (unreadable calls are left alone)."""
    pattern = re.compile(r"\\" + re.escape(name) + r"(?![A-Za-z])")
    out, prev = [], 0
    for m in pattern.finditer(tex):
        if m.start() < prev:
            continue
        pos, opt = m.end(), None
        if optional:
            opt, pos = read_argument(tex, pos, optional=True)
        args = []
        for _ in range(n_args):
            arg, pos = read_argument(tex, pos)
            if arg is None:
                break
            args.append(arg)
        if len(args) < n_args:
            continue
        out += [tex[prev:m.start()], replace(opt, args)]
        prev = pos
    out.append(tex[prev:])
    return "".join(out)


def split_rows(body: str) -> list[tuple[str, str]]:
    r"""Cut an environment's body at its own ``\\`` (not those of nested groups or environments).

    Returns ``(row, separator)`` pairs; the last separator is "".
    """
    rows, depth, nested, start, i = [], 0, 0, 0, 0
    while i < len(body):
        ch = body[i]
        if ch == "\\":
            edge = _ENV_EDGE.match(body, i)
            if edge:
                nested += 1 if edge.group(1) == "begin" else -1
                i = edge.end()
                continue
            brk = _ROW_BREAK.match(body, i)
            if brk and depth == 0 and nested == 0:
                rows.append((body[start:i], brk.group(0)))
                start = i = brk.end()
                continue
            i += 2
            continue
        depth += {"{": 1, "}": -1}.get(ch, 0)
        i += 1
    rows.append((body[start:], ""))
    return rows
