"""The plugin hooks, one test per hook spec (checked by a meta-test), and the Tool contract."""

from __future__ import annotations

import ast
import logging
import textwrap
from collections import Counter
from pathlib import Path
from types import SimpleNamespace

import pytest
from click.testing import CliRunner

import plugins
from app.cli.main import cli
from app.settings import Settings
from ingest.source_files import collect_posts
from plugins import Tool, ToolResult, hookspecs

TESTS = Path(__file__).resolve().parent
NO_BUILTINS = ["math", "python"]  # the built-in plugins, kept out of tests about third-party ones


@pytest.fixture(autouse=True)
def isolated_plugins(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    """No plugin settings from the environment or the user's config, and no plugins cached between tests."""
    for var in ("KEXUE_PLUGINS_DIR", "KEXUE_DISABLED_PLUGINS"):
        monkeypatch.delenv(var, raising=False)
    monkeypatch.setenv("KEXUE_CONFIG", str(tmp_path / "no-config.toml"))
    plugins.clear_plugin_cache()
    yield
    plugins.clear_plugin_cache()


def write_plugin(directory: Path, name: str, source: str) -> Path:
    directory.mkdir(parents=True, exist_ok=True)
    path = directory / f"{name}.py"
    path.write_text(textwrap.dedent(source), encoding="utf-8")
    return path


def settings_for(directory: Path, disabled: list[str] | None = None) -> Settings:
    return Settings(plugins_dir=directory, disabled_plugins=NO_BUILTINS if disabled is None else disabled)


def warnings_about(caplog: pytest.LogCaptureFixture, plugin: str) -> list[str]:
    return [r.getMessage() for r in caplog.records
            if r.name == "kexue.plugins" and r.levelno == logging.WARNING and f"plugin {plugin!r}" in r.getMessage()]


ADDER = """
    from plugins import Tool, ToolResult, hookimpl

    def add(a, b):
        return ToolResult(True, str(a + b), {"sum": a + b})

    @hookimpl
    def register_tools(register):
        schema = {"type": "object", "properties": {"a": {"type": "integer"}, "b": {"type": "integer"}},
                  "required": ["a", "b"]}
        register(Tool("add", "Add two integers.", schema, add))
"""


def test_hook_register_tools(tmp_path: Path, caplog: pytest.LogCaptureFixture):
    write_plugin(tmp_path, "adder", ADDER)
    write_plugin(tmp_path, "copycat", """
        from plugins import Tool, ToolResult, hookimpl

        @hookimpl
        def register_tools(register):
            register(Tool("add", "Not really.", {"type": "object"}, lambda: ToolResult(True, "0")))
            register(Tool("echo", "Say it back.", {"type": "object", "properties": {"text": {"type": "string"}}},
                          lambda text="": ToolResult(True, text)))
    """)
    found = plugins.tools(settings_for(tmp_path))
    assert sorted(found) == ["add", "echo"]
    assert found["add"].description == "Add two integers."  # the first plugin keeps its name
    assert found["add"].call({"a": 2, "b": 3}) == ToolResult(True, "5", {"sum": 5})
    assert found["echo"].call({"text": "hi"}).text == "hi"
    assert warnings_about(caplog, "copycat") == [
        "plugin 'copycat' skipped in hook register_tools: tool 'add' is already registered by 'adder'"]


def test_hook_transform_text(tmp_path: Path):
    write_plugin(tmp_path, "a_web", """
        from plugins import hookimpl

        @hookimpl
        def transform_text(text, surface, kind):
            return text + "+a" if surface == "web" else None
    """)
    write_plugin(tmp_path, "b_answers", """
        from plugins import hookimpl

        @hookimpl
        def transform_text(text, kind):
            return None if kind == "source" else text + "+b"
    """)
    settings = settings_for(tmp_path)
    # a chain: the plugin registered last runs first (pluggy's order) and each sees the previous output
    assert plugins.apply_transforms("x", "web", "answer", settings) == "x+b+a"
    assert plugins.apply_transforms("x", "cli", "answer", settings) == "x+b"
    assert plugins.apply_transforms("x", "web", "source", settings) == "x+a"
    assert plugins.apply_transforms("x", "cli", "source", settings) == "x"
    with pytest.raises(ValueError, match="surface"):
        plugins.apply_transforms("x", "tty", "answer", settings)


HELLO_COMMAND = """
    import click
    from plugins import hookimpl

    @click.command()
    @click.argument("name")
    def hello(name):
        \"\"\"Greet NAME.\"\"\"
        click.echo(f"hello {name}")

    @click.command()
    def ask():
        \"\"\"A plugin trying to replace the built-in ask.\"\"\"
        click.echo("hijacked")

    @hookimpl
    def register_commands(cli):
        cli.add_command(hello)
        cli.add_command(ask)
"""


def test_hook_register_commands(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture):
    write_plugin(tmp_path, "greeter", HELLO_COMMAND)
    monkeypatch.setenv("KEXUE_PLUGINS_DIR", str(tmp_path))
    runner = CliRunner()
    top = runner.invoke(cli, ["--help"])
    assert top.exit_code == 0 and "Greet NAME." in top.output
    result = runner.invoke(cli, ["hello", "科学空间"])
    assert result.exit_code == 0, result.output
    assert result.output == "hello 科学空间\n"
    ask_help = runner.invoke(cli, ["ask", "--help"])
    assert ask_help.exit_code == 0 and "hijacked" not in ask_help.output and "QUESTION" in ask_help.output
    assert warnings_about(caplog, "greeter") == ["plugin 'greeter' skipped in hook register_commands: command 'ask' "
                                                 "is already defined by the application; not replaced"]


def test_hook_register_sources(tmp_path: Path):
    write_plugin(tmp_path / "plugins", "kx_format", """
        from ingest.post import Post, Section
        from ingest.sources import Loader
        from plugins import hookimpl

        def load(text, path):
            title, _, body = text.partition("\\n")
            return [Post(path.stem, title, "2024-01-02", "https://kexue.fm/archives/" + path.stem,
                         [Section((), body)], str(path), "kx")]

        @hookimpl
        def register_sources(register):
            register(Loader("kx", lambda text, path: path.suffix == ".kx", load))
    """)
    source = tmp_path / "posts"
    source.mkdir()
    (source / "9001.kx").write_text("插件格式\n正文：$E=mc^2$", encoding="utf-8")

    def collect(settings: Settings):
        report = SimpleNamespace(files=0, skipped=[], posts_by_source=Counter(), posts_by_format=Counter())
        posts, _ = collect_posts(settings, [str(source)], report, progress=False)
        return posts, report

    posts, report = collect(settings_for(tmp_path / "plugins"))
    assert [(p.post_id, p.title, p.format, p.body) for p in posts] == [("9001", "插件格式", "kx", "正文：$E=mc^2$")]
    assert report.posts_by_format == Counter({"kx": 1}) and report.skipped == []
    posts, report = collect(settings_for(tmp_path / "plugins", disabled=[*NO_BUILTINS, "kx_format"]))
    assert posts == [] and "unrecognised format" in report.skipped[0][1]


def test_every_hook_spec_has_a_test():
    specs = sorted(name for name, value in vars(hookspecs).items() if hasattr(value, "kexue_spec"))
    assert specs, "no hook specs found in plugins.hookspecs"
    tested = {node.name for path in TESTS.glob("test_*.py")
              for node in ast.walk(ast.parse(path.read_text(encoding="utf-8")))
              if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef)}
    missing = [name for name in specs if f"test_hook_{name}" not in tested]
    assert not missing, f"hook specs without a test_hook_<name> test: {missing}"


def test_every_hook_spec_has_a_docstring():
    specs = [value for value in vars(hookspecs).values() if hasattr(value, "kexue_spec")]
    assert all(spec.__doc__ and len(spec.__doc__.strip().splitlines()) == 1 for spec in specs)


ECHO_SCHEMA = {"type": "object", "properties": {"text": {"type": "string"}, "times": {"type": "integer"},
                                                "mode": {"enum": ["loud", "quiet"]}}, "required": ["text"]}


def echo(text: str, times: int = 1, mode: str = "quiet") -> ToolResult:
    shown = text * times
    return ToolResult(True, shown.upper() if mode == "loud" else shown, {"length": len(shown)})


@pytest.mark.parametrize(("arguments", "problem"), [
    ({}, "missing required argument(s): text"),
    ({"text": "a", "colour": "red"}, "unknown argument(s): colour (expected: text, times, mode)"),
    ({"text": 3}, "argument 'text' must be of type string, not int"),
    ({"text": "a", "times": True}, "argument 'times' must be of type integer, not bool"),
    ({"text": "a", "mode": "shout"}, "argument 'mode' must be one of ['loud', 'quiet'], not 'shout'"),
    (["a"], "arguments must be a JSON object, not list"),
])
def test_tool_call_rejects_bad_arguments(arguments, problem):
    result = Tool("echo", "Echo text.", ECHO_SCHEMA, echo).call(arguments)
    assert result == ToolResult(False, f"echo: {problem}", {"error": problem})


def test_tool_call_runs_and_catches_failures():
    tool = Tool("echo", "Echo text.", ECHO_SCHEMA, echo)
    assert tool.call({"text": "ab", "times": 2, "mode": "loud"}) == ToolResult(True, "ABAB", {"length": 4})
    broken = Tool("div", "Divide.", {"type": "object", "properties": {"n": {"type": "number"}}}, lambda n: 1 / n)
    failed = broken.call({"n": 0})
    assert not failed.ok and failed.text.startswith("div failed: ZeroDivisionError: division by zero")
    wrong = Tool("raw", "Returns a string.", {"type": "object"}, lambda: "text").call({})
    assert wrong == ToolResult(False, "raw returned str, not a ToolResult", {"error": "returned str, not a ToolResult"})
    assert tool.openai_schema() == {"type": "function", "function": {
        "name": "echo", "description": "Echo text.", "parameters": ECHO_SCHEMA}}


def test_tool_rejects_bad_definitions():
    with pytest.raises(ValueError, match="tool name"):
        Tool("two words", "x", {"type": "object"}, echo)
    with pytest.raises(ValueError, match="type 'object'"):
        Tool("echo", "x", {"type": "string"}, echo)
    with pytest.raises(ValueError, match="not callable"):
        Tool("echo", "x", {"type": "object"}, "echo")
