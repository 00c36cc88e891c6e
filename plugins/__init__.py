"""Plugins for kexue: hooks (``plugins.hookspecs``), the tools they offer, and loading them safely.

Built-in plugins (``plugins.math_render`` as "math", ``plugins.code_runner`` as "python") are registered through
the same hooks as third-party ones, which come from the ``kexue`` entry-point group and from the ``*.py`` files
of the plugins directory (setting ``plugins_dir``, ``KEXUE_PLUGINS_DIR``, ``kexue --plugins-dir``). The setting
``disabled_plugins`` turns plugins off by name. A plugin that fails to load or raises in a hook is reported
once (a warning on the ``kexue.plugins`` logger) and skipped. ``transform_text`` implementations form a chain in
pluggy's order: the plugin registered last runs first (``tryfirst``/``trylast`` change that), so the built-in
ones see the text last.
"""

from __future__ import annotations

from app.settings import Settings
from plugins._calls import apply_transforms, plugin_commands, source_loaders, tools
from plugins._manager import (
    BUILTIN_PLUGINS,
    ENTRY_POINT_GROUP,
    KexuePluginManager,
    PluginError,
    PluginInfo,
    clear_plugin_cache,
    get_plugin_manager,
)
from plugins.hookspecs import hookimpl
from plugins.tools import Tool, ToolResult

__all__ = [
    "BUILTIN_PLUGINS", "ENTRY_POINT_GROUP", "KexuePluginManager", "PluginError", "PluginInfo", "Tool", "ToolResult",
    "apply_transforms", "clear_plugin_cache", "get_plugin_manager", "hookimpl", "loaded_plugins", "plugin_commands",
    "plugin_errors", "source_loaders", "tools",
]


def loaded_plugins(settings: Settings | None = None) -> list[PluginInfo]:
    """Every plugin found (disabled ones too): name, origin, location, hooks and error."""
    return list(get_plugin_manager(settings).infos)


def plugin_errors(settings: Settings | None = None) -> list[PluginError]:
    """Every failure reported so far: plugins that did not load and hook implementations that raised."""
    return list(get_plugin_manager(settings).errors)
