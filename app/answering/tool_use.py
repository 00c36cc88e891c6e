"""Tools in answering: a model that can call tools (the ``openai`` backend) is offered the plugins' tools.

Only the model's structured tool calls run a tool; text in a question's sources or in the model's prose never
does. The local model is offered no tools: its users call them explicitly (``/run``, ``/math`` in the chat).
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

from app.settings import Settings

MAX_TOOL_CALLS = 4
RESULT_CHARS = 2000  # what a tool's output may add to the prompt


@dataclass
class ToolRound:
    """What happened in the tool round: the calls made, their results, and the messages for the final answer."""

    messages: list[dict]
    calls: list[dict] = field(default_factory=list)
    reply: str = ""


def offered_tools(settings: Settings) -> dict[str, Any]:
    """The registered tools the model may call under the ``answer_tools`` setting ("none" offers none)."""
    if settings.answer_tools == "none":
        return {}
    import plugins

    return plugins.tools(settings)


def tool_choice(settings: Settings, tools: dict[str, Any]) -> str | dict:
    """``auto``, or one named tool the model must call (setting ``answer_tools`` naming a tool)."""
    if settings.answer_tools in ("auto", "none") or settings.answer_tools not in tools:
        return "auto"
    return {"type": "function", "function": {"name": settings.answer_tools}}


def run_calls(calls: list[dict], tools: dict[str, Any]) -> list[dict]:
    """Run the model's tool calls (at most ``MAX_TOOL_CALLS``); each result as a ``tool`` message."""
    results = []
    for call in calls[:MAX_TOOL_CALLS]:
        tool = tools.get(call["name"])
        try:
            arguments = json.loads(call["arguments"])
        except ValueError:
            arguments = None
        if tool is None:
            ok, text, data = False, f"there is no tool {call['name']!r}", {}
        elif not isinstance(arguments, dict):
            ok, text, data = False, "the arguments are not a JSON object", {}
        else:
            result = tool.call(arguments)
            ok, text, data = result.ok, result.text, result.data
        call.update(ok=ok, result=text, data=data)
        results.append({"role": "tool", "tool_call_id": call["id"],
                        "content": text[:RESULT_CHARS]})
    return results


def tool_round(backend: Any, messages: list[dict], settings: Settings) -> ToolRound:
    """Offer the tools once; when the model calls some, run them and return the messages that carry the
    results, so that the answer is then streamed from them. Backends without tool calling are left alone."""
    tools = offered_tools(settings)
    if not tools or not hasattr(backend, "complete_with_tools"):
        return ToolRound(messages)
    schemas = [tool.openai_schema() for tool in tools.values()]
    reply, calls = backend.complete_with_tools(messages, schemas, tool_choice(settings, tools),
                                               max_tokens=settings.llm_max_tokens,
                                               temperature=settings.llm_temperature)
    if not calls:
        return ToolRound(messages, reply=reply)
    asked = {"role": "assistant", "content": reply,
             "tool_calls": [{"id": c["id"], "type": "function",
                             "function": {"name": c["name"], "arguments": c["arguments"]}} for c in calls]}
    results = run_calls(calls, tools)
    return ToolRound(messages + [asked] + results, calls=calls[:MAX_TOOL_CALLS])
