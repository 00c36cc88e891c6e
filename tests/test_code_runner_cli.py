"""The code runner's surfaces: Python 2 and other refusals, limits from the settings, ``kexue run``, the tool."""

from __future__ import annotations

import json

import pytest
from click.testing import CliRunner

import plugins
from app.cli.main import cli
from app.settings import Settings
from plugins.code_runner import python_tool, register_commands, register_tools
from plugins.code_runner import sandbox as sandbox_module
from plugins.code_runner.cli import run_command
from plugins.code_runner.result import Limits
from plugins.code_runner.sandbox import run_python


@pytest.fixture(autouse=True)
def default_settings(tmp_path, monkeypatch):
    """No settings from the user's config or KEXUE_* variables; plugins found afresh."""
    monkeypatch.setenv("KEXUE_CONFIG", str(tmp_path / "no-config.toml"))
    for var in ("KEXUE_DISABLED_PLUGINS", "KEXUE_PLUGINS_DIR", "KEXUE_RUN_TIMEOUT_S", "KEXUE_RUN_MEMORY_MB"):
        monkeypatch.delenv(var, raising=False)
    plugins.clear_plugin_cache()
    yield
    plugins.clear_plugin_cache()


def no_sandbox_allowed():
    pytest.fail("this code must be refused before a sandbox is started")


@pytest.mark.parametrize(("code", "construct"), [
    ("print 'hello'", "print statement"),
    ("x = 1\nprint x, 2", "print statement"),
    ('exec "x = 1"', "exec statement"),
    ("try:\n    pass\nexcept ValueError, e:\n    pass", "except X, e"),
    ("raise ValueError, 'bad'", "raise X, message"),
    ("x = `1`", "backquotes"),
    ("mode = 0777", "octal literal 0777"),
])
def test_python2_code_gets_a_clear_message_and_is_not_run(code, construct, monkeypatch):
    monkeypatch.setattr(sandbox_module, "find_bwrap", no_sandbox_allowed)
    result = run_python(code)
    assert result.refused_reason.startswith(f"this looks like Python 2 code ({construct}): line ")
    assert "Only Python 3 is run" in result.refused_reason and "SyntaxError" in result.stderr
    assert (result.exit_code, result.stdout, result.ok) == (None, "", False)


def test_python3_syntax_errors_and_oversized_code_are_refused_as_such(monkeypatch):
    monkeypatch.setattr(sandbox_module, "find_bwrap", no_sandbox_allowed)
    broken = run_python("def f(:\n    pass")
    assert broken.refused_reason.startswith("the code is not valid Python 3: SyntaxError") and "line 1" in broken.stderr
    assert "Python 2" not in broken.refused_reason
    assert run_python("x = 1\n" * 100_000).refused_reason == "the code is 585 KB; at most 256 KB is run"
    assert run_python("   \n").refused_reason == "there is no code to run"


def test_python2_names_found_at_run_time_get_a_note():
    result = run_python("for i in xrange(3):\n    print(i)")
    assert result.exit_code == 1 and "NameError: name 'xrange'" in result.stderr
    assert result.note.startswith("this looks like Python 2 code (a Python 2 built-in `xrange`)")
    assert result.note in result.status_line()


def test_without_bubblewrap_code_is_refused(monkeypatch):
    monkeypatch.setattr(sandbox_module, "find_bwrap", lambda: None)
    result = run_python("print(1)")
    assert result.refused_reason == sandbox_module.NO_BWRAP and result.stdout == "" and result.exit_code is None


def test_when_the_namespaces_cannot_be_made_code_is_refused(monkeypatch, tmp_path):
    fake = tmp_path / "bwrap"
    fake.write_text("#!/bin/sh\necho 'bwrap: No permissions to create new namespace' >&2\nexit 1\n")
    fake.chmod(0o755)
    monkeypatch.setattr(sandbox_module, "find_bwrap", lambda: str(fake))
    result = run_python("print('must not run')")
    assert result.refused_reason == ("the sandbox could not be set up (bwrap: No permissions to create new namespace); "
                                     "code is never run without its own network, processes and files")
    assert result.stdout == "" and not result.ok


def test_without_a_syscall_filter_for_the_machine_code_is_refused(monkeypatch):
    monkeypatch.setattr(sandbox_module, "filter_program", lambda: None)
    assert run_python("print(1)").refused_reason.startswith("no syscall filter is defined for this machine")


def test_limits_default_to_the_run_settings():
    assert Limits() == Limits.from_settings(Settings())
    configured = Settings(run_timeout_s=3, run_cpu_s=2, run_memory_mb=128, run_max_processes=8, run_output_kb=4)
    assert Limits.from_settings(configured) == Limits(wall_s=3, cpu_s=2, memory_mb=128, max_processes=8, output_kb=4)
    assert Limits(wall_s=10).with_timeout(60).wall_s == 10 and Limits(wall_s=10).with_timeout(2).wall_s == 2
    for bad in (0, -1, float("nan"), True):
        with pytest.raises(ValueError):
            Limits().with_timeout(bad)


def test_kexue_run_a_file(tmp_path):
    script = tmp_path / "hello.py"
    script.write_text("print('hello from a file')\n", encoding="utf-8")
    result = CliRunner().invoke(run_command, [str(script)], obj=Settings())
    assert result.exit_code == 0 and result.stdout == "hello from a file\n"
    assert result.stderr.startswith("exit 0 · ") and result.stderr.count("\n") == 1


def test_kexue_run_from_stdin_reports_the_limit_and_fails():
    result = CliRunner().invoke(run_command, ["-", "--timeout", "1"], input="print('started')\nwhile True: pass\n",
                                obj=Settings())
    assert result.exit_code == 137 and result.stdout == "started\n"
    assert result.stderr.strip().endswith("stopped by the wall-clock limit of 1 s")


def test_kexue_run_a_missing_file_is_one_line():
    result = CliRunner().invoke(run_command, ["/nonexistent/snippet.py"], obj=Settings())
    assert result.exit_code == 1 and result.stderr == "Error: /nonexistent/snippet.py: no such file\n"


def test_kexue_run_python2_says_so_and_fails():
    result = CliRunner().invoke(run_command, ["-"], input="print 'old post'\n", obj=Settings())
    assert result.exit_code == 1 and "not run: this looks like Python 2 code (print statement)" in result.stderr


def test_kexue_run_through_the_application_cli_with_json_and_a_memory_limit():
    runner = CliRunner()
    result = runner.invoke(cli, ["run", "--json", "-"], input="import sys\nprint(6 * 7)\nsys.exit(2)\n")
    data = json.loads(result.stdout)
    assert (result.exit_code, data["stdout"], data["exit_code"], data["ok"]) == (2, "42\n", 2, False)
    big = runner.invoke(cli, ["run", "--memory-mb", "64", "-"], input="x = bytearray(200 << 20)\n")
    assert big.exit_code == 1 and "stopped by the memory limit of 64 MB" in big.stderr


def test_register_commands_adds_kexue_run():
    group = __import__("click").Group("kexue")
    register_commands(group)
    assert group.commands == {"run": run_command}


def test_the_python_tool_is_registered_and_runs_code():
    found = []
    register_tools(found.append)
    assert found == [python_tool] and plugins.tools(Settings())["python"] is python_tool
    result = python_tool.call({"code": "print(sum(range(10)))"})
    assert result.ok and result.data["stdout"] == "45\n" and result.text.startswith("exit 0 · ")
    assert result.text.endswith("stdout:\n45")


def test_the_python_tool_timeout_and_refusals():
    slow = python_tool.call({"code": "import time\ntime.sleep(60)", "timeout_s": 1})
    assert not slow.ok and slow.data["limit"] == "wall_time" and slow.data["seconds"] < 4
    assert "stopped by the wall-clock limit of 1 s" in slow.text
    old = python_tool.call({"code": "print 'hi'"})
    assert not old.ok and old.text.startswith("not run: this looks like Python 2 code (print statement)")
    assert python_tool.call({"code": "print(1)", "timeout_s": 0}).data["error"].startswith("ValueError: timeout_s")
