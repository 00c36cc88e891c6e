"""Checking a snippet before it runs: too large, Python 2 (old posts use ``print x``) or not valid Python 3."""

from __future__ import annotations

import re
import traceback

MAX_CODE_BYTES = 256 * 1024
SNIPPET_NAME = "snippet.py"

# (what in the SyntaxError message, construct, how to write it in Python 3)
_MESSAGES = (
    ("Missing parentheses in call to 'print'", "print statement", "print(...) is a function: print(x)"),
    ("Missing parentheses in call to 'exec'", "exec statement", "exec(...) is a function: exec(code, namespace)"),
    ("multiple exception types must be parenthesized", "except X, e", "write `except X as e:`"),
    ("leading zeros in decimal integer literals", "octal literal 0777", "write 0o777"),
)
# (pattern on the offending line, construct, how to write it in Python 3), for errors reported as "invalid syntax"
_LINES = (
    (re.compile(r"^\s*raise\s+[\w.]+\s*,"), "raise X, message", "write `raise X(message)`"),
    (re.compile(r"`[^`\n]*`"), "backquotes", "write repr(x)"),
    (re.compile(r"<>"), "the <> operator", "write !="),
    (re.compile(r"\b\d+[lL]\b"), "long literal 10L", "write 10"),
    (re.compile(r"\bur['\"]", re.IGNORECASE), "ur'' string", "write r''"),
)
# Python 2 names and idioms that compile in Python 3 but fail when run: (pattern on stderr, construct, fix)
_RUNTIME = (
    (re.compile(r"NameError: name '(xrange|raw_input|unicode|basestring|long|unichr|execfile|reload|file|cmp)' "
                r"is not defined"), None, "a Python 2 built-in"),
    (re.compile(r"AttributeError: 'dict' object has no attribute '(iteritems|iterkeys|itervalues|has_key)'"),
     None, "a Python 2 dict method"),
    (re.compile(r'Did you mean "print\(<message>, file=<output_stream>\)"'), "print >>f", "print(x, file=f)"),
)


def _python2_message(construct: str, lineno: int | None, line: str, fix: str) -> str:
    where = f"line {lineno}: `{line.strip()}`" if lineno else f"`{line.strip()}`"
    return (f"this looks like Python 2 code ({construct}): {where}; in Python 3, {fix}. "
            "Only Python 3 is run: port the snippet and run it again.")


def check_code(code: str) -> tuple[str, str] | None:
    """``(refused_reason, stderr)`` when ``code`` should not be run, else None; the code is compiled, never run."""
    if not isinstance(code, str):
        return f"the code must be a string, not {type(code).__name__}", ""
    try:
        size = len(code.encode("utf-8"))
    except UnicodeEncodeError as exc:
        return f"the code is not valid text ({exc.reason})", ""
    if size > MAX_CODE_BYTES:
        return f"the code is {size // 1024} KB; at most {MAX_CODE_BYTES // 1024} KB is run", ""
    if not code.strip():
        return "there is no code to run", ""
    try:
        compile(code, SNIPPET_NAME, "exec", dont_inherit=True)
    except SyntaxError as exc:
        return _syntax_refusal(exc), "".join(traceback.format_exception_only(type(exc), exc))
    except (ValueError, RecursionError, MemoryError, OverflowError) as exc:
        return f"the code cannot be compiled ({type(exc).__name__}: {exc or 'too deeply nested'})", ""
    return None


def _syntax_refusal(exc: SyntaxError) -> str:
    line = exc.text or ""
    for needle, construct, fix in _MESSAGES:
        if needle in (exc.msg or ""):
            return _python2_message(construct, exc.lineno, line, fix)
    for pattern, construct, fix in _LINES:
        if pattern.search(line):
            return _python2_message(construct, exc.lineno, line, fix)
    return f"the code is not valid Python 3: {type(exc).__name__}: {exc.msg} (line {exc.lineno})"


def python2_hint(stderr: str) -> str | None:
    """A note when a run failed on a Python 2 name or idiom (e.g. ``xrange``), else None."""
    tail = stderr[-4096:]
    for pattern, construct, fix in _RUNTIME:
        match = pattern.search(tail)
        if match:
            if construct is None:
                return (f"this looks like Python 2 code ({fix} `{match.group(1)}`); "
                        "only Python 3 is run: port the snippet and run it again.")
            return f"this looks like Python 2 code ({construct}); in Python 3 write {fix}."
    return None
