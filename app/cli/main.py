"""Entry points: the ``kexue`` command group and the ``ask`` shortcut."""

from __future__ import annotations

import importlib
import os
import sys
from pathlib import Path

import click

from app import __version__
from app.settings import Settings, SettingsError, load_settings

# name -> "module:attribute"; imported only when the command runs, so ``--help`` stays fast.
COMMANDS = {
    "ask": "app.cli.ask_cmd:ask",
    "bench": "app.cli.bench_cmd:bench",
    "chat": "app.cli.chat_cmd:chat",
    "config": "app.cli.config_cmd:config",
    "eval": "app.cli.eval_cmd:eval_command",
    "index": "app.cli.index_cmd:index",
    "ingest": "app.cli.ingest_cmd:ingest",
    "mcp": "app.cli.mcp_cmd:mcp_command",
    "models": "app.cli.models_cmd:models",
    "plugins": "app.cli.plugins_cmd:plugins_command",
    "serve": "app.cli.serve_cmd:serve",
    "search": "app.cli.search_cmd:search",
}


# The default models are local files; no telemetry is sent either (a hub model named by a user still loads).
os.environ.setdefault("HF_HUB_DISABLE_TELEMETRY", "1")
os.environ.setdefault("GRADIO_ANALYTICS_ENABLED", "False")


def _load_settings(config_file: Path | None, plugins_dir: Path | None) -> Settings:
    try:
        return load_settings(config_file).replace(plugins_dir=plugins_dir)
    except SettingsError as exc:
        raise click.ClickException(str(exc)) from None


class LazyGroup(click.Group):
    """The built-in commands, imported only when used, and the commands plugins add (never replacing one)."""

    def plugin_commands(self, ctx: click.Context) -> dict[str, click.Command]:
        """The plugins' commands, found once per invocation with the settings read so far."""
        if "kexue.plugin_commands" not in ctx.meta:
            from plugins import plugin_commands

            # A command is looked up before the group's callback runs, so ctx.obj may not hold the settings yet.
            settings = ctx.obj if isinstance(ctx.obj, Settings) else _load_settings(
                ctx.params.get("config_file"), ctx.params.get("plugins_dir"))
            ctx.meta["kexue.plugin_commands"] = plugin_commands(COMMANDS, settings)
        return ctx.meta["kexue.plugin_commands"]

    def list_commands(self, ctx: click.Context) -> list[str]:
        try:
            extra = self.plugin_commands(ctx)
        except click.ClickException:
            extra = {}  # bad settings: the help still lists the built-in commands
        return sorted([*COMMANDS, *extra])

    def get_command(self, ctx: click.Context, name: str) -> click.Command | None:
        if name not in COMMANDS:
            return self.plugin_commands(ctx).get(name)
        module, attr = COMMANDS[name].split(":")
        return getattr(importlib.import_module(module), attr)


@click.group(cls=LazyGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.option("--config", "config_file", type=click.Path(dir_okay=False, path_type=Path), is_eager=True,
              help="TOML settings file (default: $KEXUE_CONFIG or ~/.config/kexue/config.toml).")
@click.option("--plugins-dir", type=click.Path(exists=True, file_okay=False, path_type=Path), is_eager=True,
              help="Also load the *.py plugins of this directory (default: setting plugins_dir / KEXUE_PLUGINS_DIR).")
@click.version_option(__version__, prog_name="kexue")
@click.pass_context
def cli(ctx: click.Context, config_file: Path | None, plugins_dir: Path | None) -> None:
    """科学空间问答: ask the blog kexue.fm (苏剑林) questions and get answers citing its posts.

    Typical use: ``kexue models prepare``, then ``kexue ingest`` (indexes the default corpus),
    then ``ask "SimSiam为什么不退化"``. Settings come from defaults, the TOML file, KEXUE_*
    environment variables and flags, in that order; ``kexue config`` shows them. ``kexue plugins``
    lists the plugins, whose commands appear below beside the built-in ones.
    """
    ctx.obj = _load_settings(config_file, plugins_dir)


def ask_entry() -> None:
    """The ``ask`` console script: the same as ``kexue ask``."""
    from app.cli.ask_cmd import ask

    try:
        settings = load_settings()
    except SettingsError as exc:
        click.echo(f"Error: {exc}", err=True)
        sys.exit(1)
    sys.exit(ask.main(args=sys.argv[1:], prog_name="ask", obj=settings))
