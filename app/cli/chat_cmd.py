"""``kexue chat``: the web chat UI (Gradio), on 127.0.0.1:7860 by default."""

from __future__ import annotations

import ipaddress
import os
from pathlib import Path

import click

from app.cli.loading import index_errors
from app.settings import Settings

AUTH_USER, AUTH_PASSWORD = "KEXUE_CHAT_USER", "KEXUE_CHAT_PASSWORD"


def is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


@click.command()
@click.option("--host", default="127.0.0.1", show_default=True, help="Address to listen on.")
@click.option("--port", default=7860, show_default=True, type=int, help="Port to listen on.")
@click.option("--index", "index_dir", type=click.Path(file_okay=False, path_type=Path),
              help="Index directory (default: setting index_dir / KEXUE_INDEX).")
@click.option("--llm", type=click.Choice(["local", "openai", "extractive"]),
              help="Default answer backend in the UI's settings (default: setting llm).")
@click.option("--k", "top_k", type=click.IntRange(1, 10), help="Default number of posts to retrieve (setting top_k).")
@click.option("--insecure", is_flag=True, help="Allow a non-loopback address without authentication.")
@click.pass_obj
def chat(settings: Settings, host: str, port: int, index_dir: Path | None, llm: str | None, top_k: int | None,
         insecure: bool) -> None:
    """Start the chat UI. Listening on a non-loopback address requires the credentials in
    $KEXUE_CHAT_USER and $KEXUE_CHAT_PASSWORD (or --insecure)."""
    from app.answering import Answerer
    from app.ui import build_app, launch_app

    auth = None
    if not is_loopback(host):
        user, password = os.environ.get(AUTH_USER), os.environ.get(AUTH_PASSWORD)
        if user and password:
            auth = (user, password)
        elif not insecure:
            raise click.ClickException(f"listening on {host} needs authentication: set {AUTH_USER} and "
                                       f"{AUTH_PASSWORD}, or pass --insecure")
    with index_errors():
        answerer = Answerer(settings.replace(index_dir=index_dir, llm=llm, top_k=top_k))
    launch_app(build_app(answerer), host=host, port=port, auth=auth)
