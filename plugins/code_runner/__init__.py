"""The built-in "python" plugin: the ``python`` tool and ``kexue run`` run a Python 3 snippet in a sandbox.

The sandbox (``sandbox.run_python``) is bubblewrap with its own PID, network, IPC and mount namespaces, a
read-only view of the system, fresh size-limited scratch directories, a syscall filter, a cleared environment,
an unprivileged user and limits on wall time, CPU time, memory, processes, output and disk (settings ``run_*``).
"""

from __future__ import annotations

import logging

from plugins.hookspecs import hookimpl
from plugins.tools import Tool, ToolResult

from .result import Limits, RunResult
from .sandbox import run_python

__all__ = ["Limits", "RunResult", "python_tool", "register_commands", "register_tools", "run_python"]

log = logging.getLogger("kexue.plugins")

PARAMETERS = {
    "type": "object",
    "properties": {
        "code": {"type": "string", "description": "Python 3 source to run, e.g. a code block from a post."},
        "timeout_s": {"type": "number", "description": "Wall-clock limit in seconds, at most the configured one."},
    },
    "required": ["code"],
}


def _configured_limits() -> Limits:
    from app.settings import Settings, SettingsError, load_settings

    try:
        return Limits.from_settings(load_settings())
    except SettingsError as exc:
        log.warning("python tool: %s; using the default limits", exc)
        return Limits.from_settings(Settings())


def _tool_text(result: RunResult, limits: Limits) -> str:
    parts = [result.status_line(limits)]
    if result.stdout:
        parts.append("stdout:\n" + result.stdout.rstrip("\n"))
    if result.stderr:
        parts.append("stderr:\n" + result.stderr.rstrip("\n"))
    return "\n".join(parts)


def run_python_tool(code: str, timeout_s: float | None = None) -> ToolResult:
    """The ``python`` tool: run ``code`` in the sandbox; ``data`` is ``RunResult.to_json()``."""
    limits = _configured_limits().with_timeout(timeout_s)
    result = run_python(code, limits)
    return ToolResult(result.ok, _tool_text(result, limits), result.to_json())


python_tool = Tool(
    name="python",
    description=("Run a Python 3 snippet in a sandbox (no network, a fresh empty working directory, limits on time, "
                 "CPU, memory, processes and output) and return its stdout, stderr, exit status, seconds and the "
                 "limit hit, if any. Python 2 code is not run; the reply says so."),
    parameters=PARAMETERS,
    function=run_python_tool,
)


@hookimpl
def register_tools(register):
    register(python_tool)


@hookimpl
def register_commands(cli):
    from .cli import run_command

    cli.add_command(run_command)
