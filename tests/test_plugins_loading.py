"""Finding plugins (entry points, a plugins directory), skipping broken ones, and disabling them by name."""

from __future__ import annotations

import json
import sys
import textwrap
from pathlib import Path

import pytest
from click.testing import CliRunner

import plugins
from app.cli.main import cli
from app.settings import Settings
from tests.test_plugins import (
    ADDER,
    HELLO_COMMAND,
    isolated_plugins,  # noqa: F401 - the autouse fixture, shared with test_plugins
    settings_for,
    warnings_about,
    write_plugin,
)


def install_distribution(site: Path, dist: str, entry_points: dict[str, str], modules: dict[str, str]) -> None:
    """A package installed as pip would leave it: modules plus ``<dist>.dist-info`` with ``kexue`` entry points."""
    for name, source in modules.items():
        (site / name).mkdir(parents=True)
        (site / name / "__init__.py").write_text(textwrap.dedent(source), encoding="utf-8")
    info = site / f"{dist.replace('-', '_')}-0.1.dist-info"
    info.mkdir(parents=True)
    (info / "METADATA").write_text(f"Metadata-Version: 2.1\nName: {dist}\nVersion: 0.1\n", encoding="utf-8")
    lines = "".join(f"{name} = {target}\n" for name, target in entry_points.items())
    (info / "entry_points.txt").write_text(f"[kexue]\n{lines}", encoding="utf-8")


def plugins_json(*args: str) -> dict:
    result = CliRunner().invoke(cli, [*args, "plugins", "--json"])
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout)


def test_third_party_plugin_installed_through_its_entry_point(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                              caplog: pytest.LogCaptureFixture, request):
    site = tmp_path / "site"
    install_distribution(site, "kexue-adder", {"adder": "kexue_adder_pkg"}, {"kexue_adder_pkg": ADDER})
    install_distribution(site, "kexue-boom", {"boom": "kexue_boom_pkg"},
                         {"kexue_boom_pkg": "import kexue_no_such_dependency\n"})
    monkeypatch.syspath_prepend(str(site))  # also clears importlib's caches, so the distributions are seen
    request.addfinalizer(lambda: sys.modules.pop("kexue_adder_pkg", None))
    settings = Settings()
    found = {info.name: info for info in plugins.loaded_plugins(settings)}
    assert (found["adder"].origin, found["adder"].location, found["adder"].hooks, found["adder"].error) == (
        "entrypoint", "kexue-adder 0.1", ["register_tools"], None)
    assert plugins.tools(settings)["add"].call({"a": 1, "b": 2}).text == "3"
    assert found["boom"].origin == "entrypoint"
    assert found["boom"].error.startswith("load: ModuleNotFoundError: No module named 'kexue_no_such_dependency'")
    assert {"math", "python"} <= set(found) and found["math"].origin == "builtin"
    plugins.get_plugin_manager(settings)
    assert len(warnings_about(caplog, "boom")) == 1


def test_plugin_from_a_directory_by_environment_and_by_flag(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    write_plugin(tmp_path / "env-dir", "adder", ADDER)
    write_plugin(tmp_path / "flag-dir", "greeter", HELLO_COMMAND)
    write_plugin(tmp_path / "flag-dir", "_helper", "raise RuntimeError('not a plugin: never imported')\n")
    monkeypatch.setenv("KEXUE_PLUGINS_DIR", str(tmp_path / "env-dir"))
    listed = {p["name"]: p for p in plugins_json()["plugins"]}
    assert listed["adder"]["origin"] == "directory" and listed["adder"]["hooks"] == ["register_tools"]
    assert listed["adder"]["location"] == str(tmp_path / "env-dir" / "adder.py")
    flagged = {p["name"]: p for p in plugins_json("--plugins-dir", str(tmp_path / "flag-dir"))["plugins"]}
    assert "adder" not in flagged and "_helper" not in flagged
    assert flagged["greeter"]["origin"] == "directory" and flagged["greeter"]["hooks"] == ["register_commands"]
    result = CliRunner().invoke(cli, ["--plugins-dir", str(tmp_path / "flag-dir"), "hello", "苏剑林"])
    assert result.exit_code == 0 and result.output == "hello 苏剑林\n"
    assert "hello" not in CliRunner().invoke(cli, ["--help"]).output


BROKEN_PLUGINS = {
    "broken_import": "raise ImportError('needs libfoo')\n",
    "bad_signature": """
        from plugins import hookimpl

        @hookimpl
        def transform_text(txt):
            return txt
    """,
    "raises_in_hooks": """
        from plugins import hookimpl

        @hookimpl
        def register_tools(register):
            raise RuntimeError("tool registry exploded")

        @hookimpl
        def transform_text(text):
            raise KeyError(text)
    """,
    "upper": """
        from plugins import hookimpl

        @hookimpl
        def transform_text(text):
            return text.upper()
    """,
}


def test_broken_plugins_are_reported_once_and_skipped(tmp_path: Path, caplog: pytest.LogCaptureFixture):
    for name, source in BROKEN_PLUGINS.items():
        write_plugin(tmp_path, name, source)
    write_plugin(tmp_path, "adder", ADDER)
    settings = settings_for(tmp_path)
    for _ in range(2):
        assert plugins.apply_transforms("sim", "cli", "answer", settings) == "SIM"
        assert list(plugins.tools(settings)) == ["add"]
    found = {info.name: info for info in plugins.loaded_plugins(settings)}
    assert found["broken_import"].error == f"load: ImportError: needs libfoo (at {tmp_path / 'broken_import.py'}:1)"
    assert found["bad_signature"].error.startswith("load: PluginValidationError: Plugin 'bad_signature' for hook "
                                                   "'transform_text' hookimpl definition: transform_text(txt)")
    transform_impls = plugins.get_plugin_manager(settings).impls("transform_text")
    assert [impl.plugin_name for impl in transform_impls] == ["upper", "raises_in_hooks"]
    assert found["raises_in_hooks"].hooks == ["register_tools", "transform_text"]
    assert "register_tools: RuntimeError: tool registry exploded" in found["raises_in_hooks"].error
    assert "transform_text: KeyError: 'SIM'" in found["raises_in_hooks"].error  # "upper" ran first
    for name, expected in (("broken_import", 1), ("bad_signature", 1), ("raises_in_hooks", 2), ("upper", 0)):
        assert len(warnings_about(caplog, name)) == expected, name
    assert {(e.plugin, e.stage) for e in plugins.plugin_errors(settings)} == {
        ("broken_import", "load"), ("bad_signature", "load"),
        ("raises_in_hooks", "register_tools"), ("raises_in_hooks", "transform_text")}


def test_cli_keeps_working_and_lists_broken_plugins(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    for name, source in BROKEN_PLUGINS.items():
        write_plugin(tmp_path, name, source)
    write_plugin(tmp_path, "greeter", HELLO_COMMAND)
    monkeypatch.setenv("KEXUE_PLUGINS_DIR", str(tmp_path))
    runner = CliRunner()
    assert runner.invoke(cli, ["hello", "world"]).output == "hello world\n"
    assert runner.invoke(cli, ["config", "--json"]).exit_code == 0
    listing = runner.invoke(cli, ["plugins"])
    assert listing.exit_code == 0
    assert "error: load: ImportError: needs libfoo" in listing.stdout
    assert "error: register_tools: RuntimeError: tool registry exploded" in listing.stdout
    assert "register_commands" in listing.stdout  # the greeter's hooks


def test_disabling_plugins_by_name(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture):
    write_plugin(tmp_path, "broken_import", BROKEN_PLUGINS["broken_import"])
    write_plugin(tmp_path, "adder", ADDER)
    settings = settings_for(tmp_path, disabled=["math", "broken_import", "adder"])
    found = {info.name: info for info in plugins.loaded_plugins(settings)}
    assert found["broken_import"].disabled and found["broken_import"].error is None  # never imported
    assert found["adder"].disabled and found["math"].disabled and not found["python"].disabled
    assert "add" not in plugins.tools(settings) and warnings_about(caplog, "broken_import") == []
    monkeypatch.setenv("KEXUE_PLUGINS_DIR", str(tmp_path))
    monkeypatch.setenv("KEXUE_DISABLED_PLUGINS", "broken_import, math")
    listed = {p["name"]: p for p in plugins_json()["plugins"]}
    assert listed["broken_import"]["disabled"] and listed["math"]["disabled"] and not listed["adder"]["disabled"]
    assert listed["adder"]["hooks"] == ["register_tools"]


def test_missing_plugins_directory_is_reported(tmp_path: Path, caplog: pytest.LogCaptureFixture):
    settings = settings_for(tmp_path / "gone")
    assert plugins.apply_transforms("text", "web", "answer", settings) == "text"
    assert [str(e) for e in plugins.plugin_errors(settings)] == [
        f"plugin {str(tmp_path / 'gone')!r} not loaded: plugins directory not found"]
