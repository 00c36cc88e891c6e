"""``kexue plugins``: the plugins found, where each came from, the hooks it implements and what went wrong."""

from __future__ import annotations

import dataclasses
import json
import logging

import click

from app.settings import Settings


def _state(info) -> str:
    if info.disabled:
        return "disabled (setting disabled_plugins)"
    if info.error:
        return f"error: {info.error}"
    return ", ".join(info.hooks) or "no hooks"


@click.command("plugins")
@click.option("--json", "as_json", is_flag=True, help="Print the plugins and the failures as one JSON object.")
@click.pass_obj
def plugins_command(settings: Settings, as_json: bool) -> None:
    """List the plugins found, the hooks each implements and what went wrong.

    Shows each plugin's name, origin (builtin, entrypoint, directory), location, hooks and errors.
    Third-party plugins come from the ``kexue`` entry-point group of installed packages and from the
    *.py files of the plugins directory (--plugins-dir, KEXUE_PLUGINS_DIR). Disable one by name with
    the setting disabled_plugins (KEXUE_DISABLED_PLUGINS=a,b). The registration hooks are called here,
    so a plugin that raises in one shows its error.
    """
    from app.cli.main import COMMANDS
    from plugins import loaded_plugins, plugin_commands, plugin_errors, source_loaders, tools

    log = logging.getLogger("kexue.plugins")
    log_was_disabled, log.disabled = log.disabled, True  # the listing itself reports the failures
    try:
        tools(settings)
        plugin_commands(COMMANDS, settings)
        source_loaders(settings)
    finally:
        log.disabled = log_was_disabled
    infos = loaded_plugins(settings)
    names = {info.name for info in infos}
    other_errors = [str(error) for error in plugin_errors(settings) if error.plugin not in names]
    if as_json:
        click.echo(json.dumps({"plugins": [dataclasses.asdict(info) for info in infos], "errors": other_errors},
                              ensure_ascii=False, indent=2))
        return
    if not infos:
        click.echo("no plugins found")
    width = max((len(info.name) for info in infos), default=0)
    for info in infos:
        click.echo(f"{info.name:<{width}}  {info.origin:<10}  {info.location}\n{'':<{width}}  {_state(info)}")
    for message in other_errors:
        click.echo(message)
