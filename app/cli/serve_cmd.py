"""``kexue serve``: the OpenAI-compatible API, the MCP server and the chat UI on 127.0.0.1:8000 by default."""

from __future__ import annotations

import os
from pathlib import Path

import click

from app.cli.chat_cmd import AUTH_PASSWORD, AUTH_USER, is_loopback
from app.cli.loading import index_errors
from app.settings import Settings

API_KEY_ENV = "KEXUE_API_KEY"  # the same name as app.serve.auth.API_KEY_ENV, without importing FastAPI for --help


@click.command()
@click.option("--host", default="127.0.0.1", show_default=True, help="Address to listen on.")
@click.option("--port", default=8000, show_default=True, type=int, help="Port to listen on.")
@click.option("--index", "index_dir", type=click.Path(file_okay=False, path_type=Path),
              help="Index directory (default: setting index_dir / KEXUE_INDEX).")
@click.option("--llm", type=click.Choice(["local", "openai", "extractive"]),
              help="Backend of the model `kexue` (default: setting llm); `kexue-extractive` is always extractive.")
@click.option("--no-ui", is_flag=True, help="Do not mount the chat UI at /chat.")
@click.option("--no-mcp", is_flag=True, help="Do not serve MCP (streamable HTTP) at /mcp.")
@click.option("--insecure", is_flag=True, help="Allow a non-loopback address without an API key.")
@click.pass_obj
def serve(settings: Settings, host: str, port: int, index_dir: Path | None, llm: str | None, no_ui: bool,
          no_mcp: bool, insecure: bool) -> None:
    """Serve the OpenAI-compatible API, MCP and the chat UI on one port.

    /v1/chat/completions, /v1/models and /v1/search (OpenAI-compatible), MCP (streamable HTTP) at /mcp and the
    chat UI at /chat. When $KEXUE_API_KEY is set, /v1 and /mcp require it as 'Authorization: Bearer <key>';
    listening on a non-loopback address requires it (and $KEXUE_CHAT_USER/$KEXUE_CHAT_PASSWORD for the UI), or
    --insecure."""
    from app.answering import Answerer

    api_key = os.environ.get(API_KEY_ENV) or None
    user, password = os.environ.get(AUTH_USER), os.environ.get(AUTH_PASSWORD)
    ui_auth = (user, password) if user and password else None
    if not is_loopback(host) and not insecure:
        if not api_key:
            raise click.ClickException(f"listening on {host} needs an API key: set {API_KEY_ENV}, or pass --insecure")
        if not (no_ui or ui_auth):
            raise click.ClickException(f"the chat UI on {host} needs authentication: set {AUTH_USER} and "
                                       f"{AUTH_PASSWORD}, or pass --no-ui (or --insecure)")
    with index_errors():
        answerer = Answerer(settings.replace(index_dir=index_dir, llm=llm))
    import uvicorn

    from app.serve.app import create_app

    app = create_app(answerer, api_key=api_key, ui=not no_ui, mcp=not no_mcp, host=host, ui_auth=ui_auth)
    uvicorn.run(app, host=host, port=port, log_level="info", timeout_graceful_shutdown=5)
