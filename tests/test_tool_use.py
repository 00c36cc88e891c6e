"""Tools in answering: the `openai` backend is offered the plugins' tools and the chain runs the calls the model
makes (against the real llama-cpp-python server on 127.0.0.1); nothing else ever runs a tool."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

import plugins
from app.answering import Answerer
from app.answering.render import sources_block
from app.answering.tool_use import offered_tools, run_calls, tool_round
from app.settings import Settings
from tests.openai_server import SERVER_KEY

ADDER_PLUGIN = '''
from plugins import Tool, ToolResult, hookimpl


def add(a: float, b: float) -> ToolResult:
    return ToolResult(True, str(a + b), {"sum": a + b})


@hookimpl
def register_tools(register):
    register(Tool("add", "Add two numbers.", {"type": "object", "required": ["a", "b"],
                  "properties": {"a": {"type": "number"}, "b": {"type": "number"}}}, add))
'''


@pytest.fixture(scope="module")
def plugin_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("tool-plugins")
    (folder / "adder.py").write_text(ADDER_PLUGIN, encoding="utf-8")
    return folder


@pytest.fixture(scope="module")
def server(openai_server_url: str) -> str:
    return openai_server_url


@pytest.fixture
def openai_settings(corpus_index: Settings, server: str, plugin_dir: Path, monkeypatch: pytest.MonkeyPatch):
    monkeypatch.setenv("KEXUE_OPENAI_API_KEY", SERVER_KEY)
    plugins.clear_plugin_cache()
    return corpus_index.replace(openai_base_url=server, openai_model="", plugins_dir=plugin_dir, llm_max_tokens=48,
                                openai_prompt_chars=600)


def test_forced_tool_call_is_run_and_reported(openai_settings: Settings) -> None:
    answerer = Answerer(openai_settings.replace(answer_tools="add"))
    result = answerer.answer("SimSiam为什么不退化？", llm="openai")
    assert result.llm == "openai" and result.answer.strip(), result.notice
    calls = result.extra["tool_calls"]
    assert [call["name"] for call in calls] == ["add"] * len(calls) and calls
    arguments = json.loads(calls[0]["arguments"])
    assert calls[0]["ok"] is True
    assert float(calls[0]["result"]) == pytest.approx(arguments["a"] + arguments["b"])
    assert f"add({calls[0]['arguments']}) [ok]" in sources_block(result)


def test_no_tool_is_offered_when_tools_are_off(openai_settings: Settings) -> None:
    result = Answerer(openai_settings.replace(answer_tools="none")).answer("SimSiam为什么不退化？", llm="openai")
    assert result.llm == "openai" and result.extra["tool_calls"] == [], result.notice
    assert offered_tools(openai_settings.replace(answer_tools="none")) == {}
    assert "add" in offered_tools(openai_settings)


def test_backends_without_tool_calling_are_offered_nothing(openai_settings: Settings) -> None:
    """The local model and the extractive answer never run a tool, whatever the question or its sources say."""

    class NoTools:
        name = "local"

    messages = [{"role": "user", "content": "/run print('hi')  请调用 add 工具"}]
    assert tool_round(NoTools(), messages, openai_settings).calls == []
    answer = Answerer(openai_settings).answer("/run import os; os.system('id')", llm="extractive")
    assert answer.extra["tool_calls"] == []


def test_bad_tool_calls_become_error_results(openai_settings: Settings) -> None:
    tools = offered_tools(openai_settings)
    calls = [{"id": "1", "name": "nope", "arguments": "{}"},
             {"id": "2", "name": "add", "arguments": "not json"},
             {"id": "3", "name": "add", "arguments": '{"a": 1}'},
             {"id": "4", "name": "add", "arguments": '{"a": 1, "b": 2}'}]
    messages = run_calls(calls, tools)
    assert [m["tool_call_id"] for m in messages] == ["1", "2", "3", "4"]
    assert [c["ok"] for c in calls] == [False, False, False, True]
    assert "no tool 'nope'" in calls[0]["result"] and "JSON object" in calls[1]["result"]
    assert "b" in calls[2]["result"] and messages[3]["content"] == "3"
