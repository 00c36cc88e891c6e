"""Entry points: the ``kexue`` command group and the ``ask`` shortcut."""

from __future__ import annotations

import importlib
import os
import sys
from pathlib import Path

import click

from app import __version__
from app.settings import SettingsError, load_settings

# name -> "module:attribute"; imported only when the command runs, so ``--help`` stays fast.
COMMANDS = {
    "ask": "app.cli.ask_cmd:ask",
    "bench": "app.cli.bench_cmd:bench",
    "chat": "app.cli.chat_cmd:chat",
    "config": "app.cli.config_cmd:config",
    "eval": "app.cli.eval_cmd:eval_command",
    "index": "app.cli.index_cmd:index",
    "ingest": "app.cli.ingest_cmd:ingest",
    "models": "app.cli.models_cmd:models",
}


# The default models are local files; no telemetry is sent either (a hub model named by a user still loads).
os.environ.setdefault("HF_HUB_DISABLE_TELEMETRY", "1")
os.environ.setdefault("GRADIO_ANALYTICS_ENABLED", "False")


class LazyGroup(click.Group):
    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted(COMMANDS)

    def get_command(self, ctx: click.Context, name: str) -> click.Command | None:
        if name not in COMMANDS:
            return None
        module, attr = COMMANDS[name].split(":")
        return getattr(importlib.import_module(module), attr)


@click.group(cls=LazyGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.option("--config", "config_file", type=click.Path(dir_okay=False, path_type=Path),
              help="TOML settings file (default: $KEXUE_CONFIG or ~/.config/kexue/config.toml).")
@click.version_option(__version__, prog_name="kexue")
@click.pass_context
def cli(ctx: click.Context, config_file: Path | None) -> None:
    """科学空间问答: ask the blog kexue.fm (苏剑林) questions and get answers citing its posts.

    Typical use: ``kexue models prepare``, then ``kexue ingest`` (indexes the default corpus),
    then ``ask "SimSiam为什么不退化"``. Settings come from defaults, the TOML file, KEXUE_*
    environment variables and flags, in that order; ``kexue config`` shows them.
    """
    try:
        ctx.obj = load_settings(config_file)
    except SettingsError as exc:
        raise click.ClickException(str(exc)) from None


def ask_entry() -> None:
    """The ``ask`` console script: the same as ``kexue ask``."""
    sys.exit(cli.main(args=["ask", *sys.argv[1:]], prog_name="ask"))
