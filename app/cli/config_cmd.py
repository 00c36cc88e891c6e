"""``kexue config``: show every setting, its value and where it came from."""

from __future__ import annotations

import json

import click

from app.settings import Settings, default_config_file


@click.command()
@click.option("--json", "as_json", is_flag=True, help="Print the settings as one JSON object.")
@click.pass_obj
def config(settings: Settings, as_json: bool) -> None:
    """Show the current settings and their origin (default, config file, KEXUE_* variable)."""
    items = settings.public_items()
    if as_json:
        click.echo(json.dumps({k: (list(map(str, v)) if isinstance(v, list) else str(v) if not
                                   isinstance(v, int | float) else v) for k, v, _ in items},
                              ensure_ascii=False, indent=2))
        return
    click.echo(f"# config file: {default_config_file()} (override with --config or KEXUE_CONFIG)")
    width = max(len(k) for k, _, _ in items)
    for key, value, origin in items:
        shown = " ".join(map(str, value)) if isinstance(value, list) else value
        click.echo(f"{key:<{width}}  {shown}    [{origin}]")
