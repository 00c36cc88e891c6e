"""Tools that plugins offer to the chat and the answering chain: a name, a JSON schema and a function."""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

_TOOL_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_-]{0,63}$")


def _is_type(value: Any, json_type: str) -> bool:
    if json_type == "integer":
        return isinstance(value, int) and not isinstance(value, bool)
    if json_type == "number":
        return isinstance(value, int | float) and not isinstance(value, bool)
    expected = {"string": str, "boolean": bool, "array": list, "object": dict, "null": type(None)}.get(json_type)
    return expected is None or isinstance(value, expected)


@dataclass
class ToolResult:
    """What a tool call produced: ``text`` for a person or an LLM to read, ``data`` JSON-serialisable details."""

    ok: bool
    text: str
    data: dict = field(default_factory=dict)


@dataclass(frozen=True)
class Tool:
    """A function with a JSON schema (``parameters``) of its arguments object; called with keyword arguments."""

    name: str
    description: str
    parameters: dict
    function: Callable[..., ToolResult]

    def __post_init__(self) -> None:
        if not isinstance(self.name, str) or not _TOOL_NAME.match(self.name):
            raise ValueError(f"tool name {self.name!r} must be letters, digits, '_' or '-' (at most 64)")
        if not isinstance(self.parameters, dict) or self.parameters.get("type", "object") != "object":
            raise ValueError(f"tool {self.name!r}: parameters must be a JSON schema of type 'object'")
        if not callable(self.function):
            raise ValueError(f"tool {self.name!r}: function is not callable")

    def openai_schema(self) -> dict:
        """The tool in the OpenAI chat-completions ``tools`` format."""
        return {"type": "function",
                "function": {"name": self.name, "description": self.description, "parameters": self.parameters}}

    def argument_error(self, arguments: Any) -> str | None:
        """Why ``arguments`` do not fit the schema (required, unknown, type, enum), or None when they do."""
        if not isinstance(arguments, dict):
            return f"arguments must be a JSON object, not {type(arguments).__name__}"
        properties = self.parameters.get("properties", {})
        missing = [name for name in self.parameters.get("required", []) if name not in arguments]
        if missing:
            return "missing required argument(s): " + ", ".join(missing)
        if self.parameters.get("additionalProperties") is not True:
            unknown = sorted(name for name in arguments if name not in properties)
            if unknown:
                return f"unknown argument(s): {', '.join(unknown)} (expected: {', '.join(properties) or 'none'})"
        for name, value in arguments.items():
            schema = properties.get(name, {})
            json_type = schema.get("type")
            if isinstance(json_type, str) and not _is_type(value, json_type):
                return f"argument {name!r} must be of type {json_type}, not {type(value).__name__}"
            if "enum" in schema and value not in schema["enum"]:
                return f"argument {name!r} must be one of {schema['enum']}, not {value!r}"
        return None

    def call(self, arguments: Any) -> ToolResult:
        """Check ``arguments`` and run the function; bad arguments and exceptions become ``ok=False`` results."""
        problem = self.argument_error(arguments)
        if problem:
            return ToolResult(False, f"{self.name}: {problem}", {"error": problem})
        try:
            result = self.function(**arguments)
        except Exception as exc:  # a tool's failure is a result for the caller, never a crash of the chat
            message = f"{type(exc).__name__}: {exc}"
            return ToolResult(False, f"{self.name} failed: {message}", {"error": message})
        if not isinstance(result, ToolResult):
            message = f"returned {type(result).__name__}, not a ToolResult"
            return ToolResult(False, f"{self.name} {message}", {"error": message})
        return result
