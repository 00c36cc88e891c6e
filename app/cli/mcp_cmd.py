"""``kexue mcp``: the MCP server over stdio, for clients that launch it (Claude Desktop, VS Code, Cursor)."""

from __future__ import annotations

import contextlib
import sys
from pathlib import Path

import click

from app.cli.loading import index_errors
from app.settings import Settings


@click.command("mcp")
@click.option("--index", "index_dir", type=click.Path(file_okay=False, path_type=Path),
              help="Index directory (default: setting index_dir / KEXUE_INDEX).")
@click.option("--llm", type=click.Choice(["local", "openai", "extractive"]), default="extractive",
              show_default=True, help="Default backend of the `ask` tool (a call may name another).")
@click.pass_obj
def mcp_command(settings: Settings, index_dir: Path | None, llm: str) -> None:
    """The MCP server over stdio (for clients that launch it).

    Tools search_posts, get_post and ask; resources kexue://posts/<id>. `ask` answers extractively unless --llm or
    the call's `llm` argument names another backend."""
    from app.answering import Answerer
    from app.serve.mcp_tools import build_mcp

    with index_errors(), contextlib.redirect_stdout(sys.stderr):  # stdout carries the protocol: nothing else
        answerer = Answerer(settings.replace(index_dir=index_dir))
    build_mcp(answerer, ask_llm=llm).run("stdio")
