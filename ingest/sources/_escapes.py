r"""Undo the scraper's backslash escaping in kexue-pages files so that LaTeX is real LaTeX again.

Three kinds of file occur (measured over the whole corpus):

- ``pairs`` (most full pages): the scraper turned every backslash together with the character after it,
  ``\x``, into ``\\x``. So ``\\begin`` means ``\begin``, ``\\\`` (three) the LaTeX line break ``\\`` and
  ``\\\\\text`` (five) ``\\\text``. On top come Markdown escapes ``\_``, ``\*``, ``\[``, ``\|``...
  (``\\\_`` thus means ``\_``). Code blocks were left alone.
- ``double`` (pages whose meta line reads ``By苏剑林|``): every backslash doubled (``\\\\`` means ``\\``),
  plus Markdown escapes, code blocks included. Their formulas also carry a scraper artefact,
  ``& -\sin& -\sin x`` for ``& -\sin x``, which is repaired.
- ``none`` (the flat layout): backslashes are as written; only HTML entities are left in.

A run of backslashes that no rule can produce (e.g. four before a letter) is read as the likeliest intent.
"""

from __future__ import annotations

import re

ALWAYS_ESCAPED = set("_*[]|`")
DOUBLE_ESCAPED = set("_*[]|`#>+-.!")
RUN_RE = re.compile(r"\\+(.?)", re.S)
GARBLE_RE = re.compile(r"&([^&\n]{0,30}?(?<!\\)\\[A-Za-z][^&\n]{0,30}?)(?=&\1)")


def escape_style(text: str) -> str:
    """``pairs``, ``double`` or ``none`` for a whole scraped file."""
    escaped = len(re.findall(r"(?<!\\)\\\\[A-Za-z]", text)) + len(re.findall(r"(?<!\\)\\[_*#]", text))
    single = len(re.findall(r"(?<!\\)\\[A-Za-z]", text))
    if escaped <= single:
        return "none"
    if re.search(r"^By苏剑林\|", text, re.M):
        return "double"
    return "pairs"


def _pairs_count(n: int) -> int | None:
    """How many backslashes the writer had, given n after pair-escaping (None: n cannot come from it)."""
    if n % 3 == 0:
        return 2 * n // 3
    if n % 3 == 2:
        return 2 * (n - 2) // 3 + 1
    return None


def _undo_pairs(n: int, x: str) -> int:
    """How many of the ``n`` backslashes before ``x`` the writer meant, for ``pairs`` files."""
    if x in ALWAYS_ESCAPED:
        for count in (_pairs_count(n - 1), _pairs_count(n)):
            if count is not None:
                return count
        return (n - 1) // 2
    count = _pairs_count(n)
    if count is not None:
        return count
    if x and not x.isalnum() and not x.isspace():
        count = _pairs_count(n - 1)
        if count is not None:
            return count
    if n == 1:
        return 0 if x == "\n" else 1
    return n // 2


def _undo_double(n: int, x: str) -> int:
    """How many of the ``n`` backslashes before ``x`` the writer meant, for ``double`` files."""
    if n % 2 == 0:
        return n // 2
    if x in DOUBLE_ESCAPED:
        return (n - 1) // 2
    if x == "\n" and n == 1:
        return 0
    return (n + 1) // 2


def unescape(text: str, style: str) -> str:
    """Undo the backslash escaping of ``style`` (see the module docstring) in ``text``."""
    if style == "none":
        return text
    if style == "double":
        text = GARBLE_RE.sub("", text)
    undo = _undo_pairs if style == "pairs" else _undo_double
    return RUN_RE.sub(lambda m: "\\" * undo(len(m.group(0)) - len(m.group(1)), m.group(1)) + m.group(1), text)
