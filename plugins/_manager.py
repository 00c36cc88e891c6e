"""Finding and registering plugins: the built-in ones, the ``kexue`` entry points and a plugins directory."""

from __future__ import annotations

import importlib
import importlib.util
import logging
import threading
import traceback
from collections.abc import Callable
from dataclasses import dataclass, field
from importlib import metadata
from pathlib import Path
from types import ModuleType
from typing import Any

import pluggy

from app.settings import Settings, SettingsError, load_settings
from plugins import hookspecs

log = logging.getLogger("kexue.plugins")

ENTRY_POINT_GROUP = "kexue"
# frames of the loading machinery, left out of the "at file:line" of a failure
_MACHINERY = (str(Path(importlib.__file__).parent), str(Path(pluggy.__file__).parent), __file__)
# (name, module): registered through the same hooks as third-party plugins, and disabled the same way.
BUILTIN_PLUGINS = (("math", "plugins.math_render"), ("python", "plugins.code_runner"))


@dataclass
class PluginInfo:
    """One plugin that was found: where it came from, the hooks it implements, what went wrong if anything."""

    name: str
    origin: str  # "builtin", "entrypoint" or "directory"
    location: str  # the module, the distribution or the file
    hooks: list[str] = field(default_factory=list)
    error: str | None = None
    disabled: bool = False


@dataclass(frozen=True)
class PluginError:
    plugin: str
    stage: str  # "load" or the name of the hook that raised
    message: str

    def __str__(self) -> str:
        if self.stage == "load":
            return f"plugin {self.plugin!r} not loaded: {self.message}"
        return f"plugin {self.plugin!r} skipped in hook {self.stage}: {self.message}"


def describe(exc: BaseException) -> str:
    """``Type: message (at file:line)`` on one line, the line being the innermost frame of the plugin's code."""
    frames = [f for f in traceback.extract_tb(exc.__traceback__)
              if not f.filename.startswith(("<", *_MACHINERY))]
    where = f" (at {frames[-1].filename}:{frames[-1].lineno})" if frames else ""
    return f"{type(exc).__name__}: {' '.join(str(exc).split())}{where}"


def _module_from_file(path: Path) -> ModuleType:
    spec = importlib.util.spec_from_file_location(f"kexue_plugins_dir.{path.stem}", path)
    if spec is None or spec.loader is None:
        raise ImportError(f"cannot import {path}")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


class KexuePluginManager(pluggy.PluginManager):
    """A pluggy manager that knows where each plugin came from and reports each failure once, then skips it."""

    def __init__(self, disabled: tuple[str, ...] = ()) -> None:
        super().__init__("kexue")
        self.add_hookspecs(hookspecs)
        self.infos: list[PluginInfo] = []
        self.errors: list[PluginError] = []
        self._registered: dict[str, PluginInfo] = {}
        self._report_lock = threading.Lock()
        for name in disabled:
            self.set_blocked(name)

    def report(self, plugin: str, stage: str, message: str) -> None:
        """Record a failure and log a warning, once per plugin and stage."""
        with self._report_lock:  # the chat UI calls hooks from several threads
            if any(e.plugin == plugin and e.stage == stage for e in self.errors):
                return
            error = PluginError(plugin, stage, message)
            self.errors.append(error)
            info = self._registered.get(plugin)
            if info is not None and stage != "load":
                info.error = f"{info.error}; {stage}: {message}" if info.error else f"{stage}: {message}"
        log.warning("%s", error)

    def add(self, name: str, origin: str, location: str, load: Callable[[], Any]) -> None:
        """Import a plugin with ``load`` and register it as ``name``, unless it is disabled; failures are reported."""
        info = PluginInfo(name, origin, location, disabled=self.is_blocked(name))
        self.infos.append(info)
        if info.disabled:
            return
        plugin = None
        try:
            plugin = load()
            self.register(plugin, name)
        except (Exception, SystemExit) as exc:  # a plugin that cannot be loaded must not stop the application
            if plugin is not None and self.get_plugin(name) is plugin:
                self.unregister(name=name)  # pluggy keeps a half-registered plugin when a hook fails validation
            info.error = f"load: {describe(exc)}"
            self.report(name, "load", describe(exc))
            return
        self._registered[name] = info
        callers = self.get_hookcallers(plugin) or []
        info.hooks = sorted(caller.name for caller in callers)
        for caller in callers:
            if not caller.has_spec():
                self.report(name, caller.name, "not a kexue hook (misspelt?)")

    def impls(self, hook_name: str, registration_order: bool = False) -> list[pluggy.HookImpl]:
        """The hook's implementations in pluggy's call order, or in the order their plugins were registered."""
        found = getattr(self.hook, hook_name).get_hookimpls()
        return found if registration_order else found[::-1]

    def call_impl(self, impl: pluggy.HookImpl, hook_name: str, **kwargs: Any) -> tuple[bool, Any]:
        """``(True, result)`` of one implementation, or ``(False, None)`` when it raised (reported once)."""
        if impl.hookwrapper or impl.wrapper:
            self.report(impl.plugin_name, hook_name, "hook wrappers are not supported")
            return False, None
        try:
            return True, impl.function(*(kwargs[arg] for arg in impl.argnames))
        except Exception as exc:  # a plugin's bug must not break the answer, the chat or the command line
            self.report(impl.plugin_name, hook_name, describe(exc))
            return False, None


def _add_builtins(pm: KexuePluginManager) -> None:
    for name, module in BUILTIN_PLUGINS:
        pm.add(name, "builtin", module, lambda module=module: importlib.import_module(module))


def _add_entry_points(pm: KexuePluginManager) -> None:
    try:
        entry_points = metadata.entry_points(group=ENTRY_POINT_GROUP)
    except Exception as exc:  # malformed metadata of some installed package
        pm.report(f"{ENTRY_POINT_GROUP} entry points", "load", describe(exc))
        return
    for entry_point in entry_points:
        dist = entry_point.dist
        location = f"{dist.name} {dist.version}" if dist is not None else entry_point.value
        pm.add(entry_point.name, "entrypoint", location, entry_point.load)


def _add_directory(pm: KexuePluginManager, directory: Path) -> None:
    """Each ``*.py`` file of the directory (not ``_*.py``) is one plugin, named after the file."""
    if not directory.is_dir():
        pm.report(str(directory), "load", "plugins directory not found")
        return
    for path in sorted(directory.glob("*.py")):
        if not path.name.startswith("_"):
            pm.add(path.stem, "directory", str(path), lambda path=path: _module_from_file(path))


_MANAGERS: dict[tuple[str | None, tuple[str, ...]], KexuePluginManager] = {}
_LOCK = threading.Lock()


def _settings_or_default(settings: Settings | None) -> Settings:
    if settings is not None:
        return settings
    try:
        return load_settings()
    except SettingsError as exc:
        log.warning("plugins: %s; using the default settings", exc)
        return Settings()


def get_plugin_manager(settings: Settings | None = None) -> KexuePluginManager:
    """The plugin manager for the settings' plugins directory and disabled plugins (built once per pair)."""
    settings = _settings_or_default(settings)
    directory = Path(settings.plugins_dir).expanduser().resolve() if settings.plugins_dir else None
    key = (str(directory) if directory else None, tuple(sorted(settings.disabled_plugins)))
    with _LOCK:
        if key not in _MANAGERS:
            pm = KexuePluginManager(disabled=key[1])
            _add_builtins(pm)
            _add_entry_points(pm)
            if directory is not None:
                _add_directory(pm, directory)
            _MANAGERS[key] = pm
        return _MANAGERS[key]


def clear_plugin_cache() -> None:
    """Forget the loaded plugins; the next call finds and loads them again (and reports failures again)."""
    with _LOCK:
        _MANAGERS.clear()
