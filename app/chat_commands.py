"""Chat slash commands (``/run``, ``/math``) that call the plugin tools, for any chat surface.

The local model cannot call tools itself, so the user does: only a user message that starts with a command runs a
tool; text in a retrieved post or in a generated answer never does.
"""

from __future__ import annotations

import html
import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

COMMANDS = {"/run": "python", "/math": "math"}
RUNNABLE_LANGUAGES = ("", "python", "py", "python3")
_FENCE = re.compile(r"^(`{3,}|~{3,})[ \t]*([\w+-]*)[^\n]*\n(.*?)^\1[ \t]*$", re.DOTALL | re.MULTILINE)
_HTML_CODE = re.compile(r'<pre><code(?: class="language-([\w+-]*)")?>(.*?)</code></pre>', re.DOTALL)
_COMMAND = re.compile(r"^(/\w+)(?=\s|$)(.*)$", re.DOTALL)


@dataclass
class CommandReply:
    """What a command did: the tool it called, whether the call succeeded, and the reply as Markdown."""

    command: str
    tool: str
    ok: bool
    markdown: str
    data: dict


def parse_command(message: str) -> tuple[str, str] | None:
    """``(command, rest)`` when ``message`` starts with a known command, else ``None``."""
    match = _COMMAND.match((message or "").strip())
    if not match or match.group(1).lower() not in COMMANDS:
        return None
    return match.group(1).lower(), match.group(2).strip()


def is_command(message: str) -> bool:
    return parse_command(message) is not None


def code_blocks(text: str) -> list[tuple[str, str]]:
    """The code blocks of a Markdown text as ``(language, code)``, in order: fenced ones, and the HTML
    ``<pre><code>`` ones the math plugin writes for code that holds a math delimiter."""
    found = [(m.start(), m.group(2).lower(), m.group(3).rstrip("\n")) for m in _FENCE.finditer(text or "")]
    found += [(m.start(), (m.group(1) or "").lower(), html.unescape(m.group(2)).rstrip("\n"))
              for m in _HTML_CODE.finditer(text or "")]
    return [(lang, code) for _, lang, code in sorted(found)]


def last_runnable_block(texts: Sequence[str]) -> str | None:
    """The last Python (or unlabelled) fenced code block in the conversation, newest message first."""
    for text in reversed(texts):
        blocks = [code for lang, code in code_blocks(text) if lang in RUNNABLE_LANGUAGES and code.strip()]
        if blocks:
            return blocks[-1]
    return None


def code_to_run(rest: str, conversation: Sequence[str]) -> str | None:
    """The code after ``/run`` (fenced or bare); without any, the last code block of the conversation."""
    if rest.strip():
        blocks = code_blocks(rest)
        return blocks[0][1] if blocks else rest.strip()
    return last_runnable_block(conversation)


def fenced(text: str, language: str = "text") -> str:
    """``text`` in a code fence longer than any backtick run inside it."""
    longest = max((len(run) for run in re.findall(r"`+", text)), default=0)
    fence = "`" * max(3, longest + 1)
    return f"{fence}{language}\n{text.rstrip()}\n{fence}"


def _preview(code: str, limit: int = 60) -> str:
    """The code's first non-empty line as inline code (empty when it holds a backtick)."""
    line = next((ln.strip() for ln in code.splitlines() if ln.strip()), "")
    if not line or "`" in line:
        return ""
    return f"`{line if len(line) <= limit else line[: limit - 1] + '…'}` "


def run_python(code: str, tools: dict[str, Any]) -> CommandReply:
    """Run ``code`` with the ``python`` tool; the reply shows its output, exit code and time."""
    tool = tools.get("python")
    if tool is None:
        return CommandReply("/run", "python", False, "⚠️ the python tool is not available (plugin disabled?)", {})
    result = tool.call({"code": code})
    data = dict(result.data or {})
    status = result.text.splitlines()[0] if result.text else ("ok" if result.ok else "failed")
    parts = [f"**▶ python** {_preview(code)}· {status}"]
    for stream in ("stdout", "stderr"):
        if data.get(stream):
            parts.append(("" if stream == "stdout" else "stderr:\n") + fenced(data[stream]))
    if "stdout" not in data and "\n" in result.text:
        parts.append(fenced(result.text.split("\n", 1)[1]))
    return CommandReply("/run", "python", result.ok, "\n\n".join(parts), data)


MATH_OPERATIONS = {"simplify": "simplify", "solve": "solve", "diff": "differentiate", "differentiate": "differentiate",
                   "integrate": "integrate", "int": "integrate", "check": "check_identity"}
MATH_USAGE = ("usage: `/math [simplify|solve|diff|integrate|check] EXPRESSION [for VARIABLE] [with A:3, …]`, e.g. "
              "`/math integrate x^2 for x`, `/math solve x^2 = 4`, `/math check det(exp(A)) = exp(trace(A)) with A:3`")
_VARIABLE = re.compile(r"\s+(?:for|wrt)\s+([A-Za-z_]\w*)\s*$")
_MARKDOWN_SPECIAL = re.compile(r"[\\`*_\[\]<>|~]")
_MATRICES = re.compile(r"\s+with\s+((?:[A-Za-z_]\w*\s*[:=]\s*\d+\s*,?\s*)+)$")


def math_arguments(text: str) -> dict:
    """The ``math`` tool's arguments for ``/math`` text: an operation word (default: simplify, or solve when
    there is an "="), the expression, then optional ``for VARIABLE`` and ``with NAME:SIZE, …`` (matrices)."""
    word, _, rest = text.strip().partition(" ")
    operation = MATH_OPERATIONS.get(word.lower())
    expression = rest.strip() if operation else text.strip()
    arguments: dict[str, Any] = {}
    matrices = _MATRICES.search(expression)
    if matrices:
        pairs = re.findall(r"([A-Za-z_]\w*)\s*[:=]\s*(\d+)", matrices.group(1))
        arguments["matrices"] = {name: int(size) for name, size in pairs}
        expression = expression[: matrices.start()]
    variable = _VARIABLE.search(expression)
    if variable:
        arguments["variable"] = variable.group(1)
        expression = expression[: variable.start()]
    has_equals = "=" in expression.replace("==", "=")
    operation = operation or ("solve" if has_equals else "simplify")
    if operation == "check_identity" and has_equals:
        expression, arguments["rhs"] = (side.strip() for side in expression.replace("==", "=").split("=", 1))
    return {"operation": operation, "expression": expression.strip(), **arguments}


def _plain(text: str) -> str:
    """``text`` shown as it is in Markdown (no emphasis, links or math)."""
    return _MARKDOWN_SPECIAL.sub(r"\\\g<0>", text).replace("$", "&#36;")


def _math_markdown(arguments: dict, text: str, data: dict) -> str:
    """The tool's sentence, then its result as a display formula when it gave one in LaTeX."""
    latex = data.get("latex")
    if isinstance(latex, list):
        latex = r",\quad ".join(latex) if latex else None
    parts = [f"**∑ math** · {arguments['operation']}", _plain(text)]
    if latex:
        parts.append(f"$$\n{latex}\n$$")
    return "\n\n".join(parts)


def run_math(text: str, tools: dict[str, Any]) -> CommandReply:
    """Simplify, solve, differentiate, integrate or check an identity with the ``math`` tool."""
    tool = tools.get("math")
    if tool is None:
        return CommandReply("/math", "math", False, "⚠️ the math tool is not available (plugin disabled?)", {})
    arguments = math_arguments(text)
    if not arguments["expression"]:
        return CommandReply("/math", "math", False, f"⚠️ {MATH_USAGE}", {})
    result = tool.call(arguments)
    data = dict(result.data or {})
    if not result.ok:
        return CommandReply("/math", "math", False, f"⚠️ {result.text}\n\n{MATH_USAGE}", data)
    return CommandReply("/math", "math", True, _math_markdown(arguments, result.text, data), data)


def handle_command(message: str, conversation: Sequence[str], tools: dict[str, Any]) -> CommandReply | None:
    """The reply to a command message, or ``None`` when ``message`` is not a command."""
    parsed = parse_command(message)
    if parsed is None:
        return None
    command, rest = parsed
    if command == "/math":
        return run_math(rest, tools)
    code = code_to_run(rest, conversation)
    if code is None:
        return CommandReply(command, "python", False, "⚠️ usage: `/run CODE`, or `/run` alone to run the last Python "
                                                      "code block of the conversation (none found)", {})
    return run_python(code, tools)
