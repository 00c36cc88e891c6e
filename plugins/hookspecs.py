"""The hooks a kexue plugin can implement; mark implementations with ``plugins.hookimpl``."""

from __future__ import annotations

import pluggy

hookspec = pluggy.HookspecMarker("kexue")
hookimpl = pluggy.HookimplMarker("kexue")


@hookspec
def register_tools(register):
    """Call ``register(Tool)`` for each tool the chat and the answering chain may call."""


@hookspec
def transform_text(text, surface, kind):
    """Rewrite ``text`` of ``kind`` "answer" or "source" for ``surface`` "cli" or "web"; None leaves it."""


@hookspec
def register_commands(cli):
    """Add CLI subcommands with ``cli.add_command(command)`` (``cli`` is a click group)."""


@hookspec
def register_sources(register):
    """Call ``register(Loader)`` (``ingest.sources.Loader``) for each extra ingest format."""
