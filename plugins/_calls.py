"""Calling the hooks: each implementation on its own, so one that raises is reported once and skipped."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

from app.settings import Settings
from plugins._manager import KexuePluginManager, describe, get_plugin_manager
from plugins.tools import Tool

if TYPE_CHECKING:
    from ingest.sources import Loader  # imported when loaders are asked for: ingest pulls in the source parsers

SURFACES = ("cli", "web")
KINDS = ("answer", "source")


def _registered(pm: KexuePluginManager, hook_name: str) -> list[tuple[str, Any]]:
    """``(plugin, item)`` for each item a plugin passed to ``register``; a plugin that raised adds nothing."""
    found: list[tuple[str, Any]] = []
    for impl in pm.impls(hook_name, registration_order=True):
        items: list[Any] = []
        ok, _ = pm.call_impl(impl, hook_name, register=items.append)
        if ok:
            found.extend((impl.plugin_name, item) for item in items)
    return found


def tools(settings: Settings | None = None) -> dict[str, Tool]:
    """Every tool the enabled plugins register, by name; a later tool of a name already taken is reported."""
    pm = get_plugin_manager(settings)
    by_name: dict[str, Tool] = {}
    owner: dict[str, str] = {}
    for plugin, tool in _registered(pm, "register_tools"):
        if not isinstance(tool, Tool):
            pm.report(plugin, "register_tools", f"registered {type(tool).__name__}, not a plugins.Tool")
        elif tool.name in by_name:
            pm.report(plugin, "register_tools", f"tool {tool.name!r} is already registered by {owner[tool.name]!r}")
        else:
            by_name[tool.name], owner[tool.name] = tool, plugin
    return by_name


def apply_transforms(text: str, surface: str, kind: str, settings: Settings | None = None) -> str:
    """``text`` passed through every ``transform_text`` implementation in turn (None from one leaves it)."""
    if surface not in SURFACES or kind not in KINDS:
        raise ValueError(f"surface must be one of {SURFACES} and kind one of {KINDS}, not {surface!r}, {kind!r}")
    pm = get_plugin_manager(settings)
    for impl in pm.impls("transform_text"):
        ok, result = pm.call_impl(impl, "transform_text", text=text, surface=surface, kind=kind)
        if ok and isinstance(result, str):
            text = result
        elif ok and result is not None:
            pm.report(impl.plugin_name, "transform_text", f"returned {type(result).__name__}, not str or None")
    return text


def plugin_commands(reserved: Iterable[str] = (), settings: Settings | None = None) -> dict[str, click.Command]:
    """The CLI commands plugins add; one named like a ``reserved`` (built-in) or earlier command is reported."""
    pm = get_plugin_manager(settings)
    taken = {name: "the application" for name in reserved}
    commands: dict[str, click.Command] = {}
    for impl in pm.impls("register_commands", registration_order=True):
        group = click.Group("kexue")
        ok, _ = pm.call_impl(impl, "register_commands", cli=group)
        for name, command in group.commands.items() if ok else ():
            if name in taken:
                pm.report(impl.plugin_name, "register_commands",
                          f"command {name!r} is already defined by {taken[name]}; not replaced")
                continue
            taken[name] = f"plugin {impl.plugin_name!r}"
            commands[name] = command
    return commands


def source_loaders(settings: Settings | None = None) -> list[Loader]:
    """The ingest loaders plugins register (``ingest.sources.Loader``), a ``detect`` that raises counting as no."""
    from ingest.sources import Loader

    pm = get_plugin_manager(settings)
    loaders = []
    for plugin, loader in _registered(pm, "register_sources"):
        if not isinstance(loader, Loader):
            pm.report(plugin, "register_sources", f"registered {type(loader).__name__}, not an ingest Loader")
            continue
        loaders.append(Loader(loader.name, _guarded_detect(pm, plugin, loader), loader.load))
    return loaders


def _guarded_detect(pm: KexuePluginManager, plugin: str, loader: Loader) -> Callable[[str, Path], bool]:
    def detect(text: str, path: Path) -> bool:
        try:
            return bool(loader.detect(text, path))
        except Exception as exc:  # a plugin's broken detector must not stop an ingest run
            pm.report(plugin, "register_sources", f"loader {loader.name!r}: detect raised {describe(exc)}")
            return False

    return detect
