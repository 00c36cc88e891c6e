"""``kexue run FILE|-``: run a Python snippet in the sandbox from the command line."""

from __future__ import annotations

import json
import sys
from dataclasses import replace
from pathlib import Path

import click

from .result import Limits
from .sandbox import run_python


def _settings(ctx: click.Context):
    from app.settings import SettingsError, load_settings

    if ctx.obj is not None and hasattr(ctx.obj, "run_timeout_s"):
        return ctx.obj
    try:
        return load_settings()
    except SettingsError as exc:
        raise click.ClickException(str(exc)) from None


def _read(source: str) -> str:
    if source == "-":
        return sys.stdin.read()
    try:
        return Path(source).read_text(encoding="utf-8")
    except FileNotFoundError:
        raise click.ClickException(f"{source}: no such file") from None
    except IsADirectoryError:
        raise click.ClickException(f"{source}: is a directory, not a Python file") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise click.ClickException(f"{source}: cannot be read ({exc})") from None


@click.command("run")
@click.argument("source", metavar="FILE|-")
@click.option("--timeout", type=click.FloatRange(min=0, min_open=True),
              help="Wall-clock limit in seconds (default: setting run_timeout_s).")
@click.option("--memory-mb", type=click.IntRange(min=32), help="Memory limit in MB (default: setting run_memory_mb).")
@click.option("--json", "as_json", is_flag=True, help="Print the whole result as one JSON object.")
@click.pass_context
def run_command(ctx: click.Context, source: str, timeout: float | None, memory_mb: int | None, as_json: bool) -> None:
    """Run a Python 3 snippet (FILE, or - for standard input) in the sandbox.

    The snippet gets no network, a fresh empty working directory, read-only system files, and limits on wall
    time, CPU time, memory, processes, output and disk (settings run_*). Prints its stdout and stderr, then one
    status line on stderr: exit status, seconds, and the limit that stopped it. Exits with the snippet's status
    (128+N after signal N), or 1 when the code was not run (Python 2, syntax error, no sandbox available).
    """
    code = _read(source)
    limits = Limits.from_settings(_settings(ctx))
    limits = replace(limits, wall_s=timeout or limits.wall_s, memory_mb=memory_mb or limits.memory_mb)
    result = run_python(code, limits)
    if as_json:
        click.echo(json.dumps(result.to_json(), ensure_ascii=False, indent=2))
    else:
        click.echo(result.stdout, nl=False)
        click.echo(result.stderr, nl=False, err=True)
        if (result.stdout and not result.stdout.endswith("\n")) or (result.stderr and not result.stderr.endswith("\n")):
            click.echo("", err=True)
        click.echo(result.status_line(limits), err=True)
    ctx.exit(0 if result.ok else (result.exit_code or 1))
