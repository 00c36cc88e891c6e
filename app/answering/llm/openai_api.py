"""The ``openai`` backend: any OpenAI-compatible chat-completions server (DeepSeek, Qwen, vLLM, Ollama, llama.cpp)."""

from __future__ import annotations

import json
import os
import time
from collections.abc import Iterator
from contextlib import closing

import httpx

from app.answering.llm.base import LLMUnavailable, one_line
from app.settings import Settings

NAME = "openai"
KEY_VARIABLES = ("KEXUE_OPENAI_API_KEY", "OPENAI_API_KEY")


def api_key(environ: dict[str, str] | None = None) -> str:
    env = os.environ if environ is None else environ
    return next((env[name] for name in KEY_VARIABLES if env.get(name)), "")


def _error_text(response: httpx.Response) -> str:
    """The server's own error message from a JSON error body, else the start of the body."""
    try:
        body = json.loads(response.read() or b"null")
    except ValueError:
        return one_line(response.text, 200) if response.text else response.reason_phrase
    if isinstance(body, dict):
        error = body.get("error", body.get("detail", body.get("message")))
        if isinstance(error, dict):
            error = error.get("message", error)
        if isinstance(error, list) and error and isinstance(error[0], dict):
            error = error[0].get("msg", error[0])
        if error:
            return one_line(error, 200)
    return one_line(body, 200)


class OpenAIBackend:
    """Streams chat completions over HTTP (server-sent events) from ``base_url``."""

    name = NAME

    def __init__(self, base_url: str, model: str = "", key: str = "", timeout_s: float = 120.0):
        self.base_url = base_url.rstrip("/")
        self.model = model
        self.timeout_s = timeout_s
        headers = {"Authorization": f"Bearer {key}"} if key else {}
        timeout = httpx.Timeout(timeout_s, connect=min(10.0, timeout_s))
        self.client = httpx.Client(base_url=self.base_url, headers=headers, timeout=timeout)

    def _fail(self, response: httpx.Response) -> LLMUnavailable:
        where, text, status = self.base_url, _error_text(response), response.status_code
        if status == 401 or status == 403:
            hint = "set KEXUE_OPENAI_API_KEY (or OPENAI_API_KEY)"
            return LLMUnavailable(f"{where} refused the API key (HTTP {status}: {text}); {hint}")
        if status == 404:
            return LLMUnavailable(f"{where}: not found (HTTP 404: {text}); check openai_base_url and openai_model "
                                  f"({self.model!r})")
        return LLMUnavailable(f"{where} answered HTTP {status}: {text}")

    def _request(self, method: str, path: str, **kwargs) -> httpx.Response:
        """Send the request, turning transport failures into one-line ``LLMUnavailable`` errors."""
        try:
            response = self.client.send(self.client.build_request(method, path, **kwargs), stream=True)
        except httpx.TimeoutException as exc:
            raise LLMUnavailable(f"{self.base_url} did not answer within {self.timeout_s:g} s") from exc
        except httpx.HTTPError as exc:
            raise LLMUnavailable(f"cannot reach {self.base_url}: {one_line(exc) or type(exc).__name__}") from exc
        if response.status_code != 200:
            with closing(response):
                raise self._fail(response)
        return response

    def model_name(self) -> str:
        """``openai_model``, or when it is empty the first model the server lists."""
        if not self.model:
            with closing(self._request("GET", "/models")) as response:
                try:
                    models = json.loads(response.read())["data"]
                    self.model = models[0]["id"]
                except (ValueError, KeyError, IndexError, TypeError) as exc:
                    raise LLMUnavailable(f"{self.base_url}/models lists no model; set openai_model") from exc
        return self.model

    def complete_with_tools(self, messages: list[dict], tools: list[dict], tool_choice: str | dict, *,
                            max_tokens: int, temperature: float) -> tuple[str, list[dict]]:
        """One non-streamed completion offering ``tools`` (not every server streams tool calls): the reply's
        text and its tool calls (``[{"id", "name", "arguments"}]``, arguments still a JSON string)."""
        body = {"model": self.model_name(), "messages": messages, "max_tokens": max_tokens,
                "temperature": temperature, "tools": tools, "tool_choice": tool_choice}
        with closing(self._request("POST", "/chat/completions", json=body)) as response:
            try:
                message = json.loads(response.read())["choices"][0]["message"]
            except (ValueError, KeyError, IndexError, TypeError) as exc:
                raise LLMUnavailable(f"{self.base_url} sent a malformed completion: {one_line(exc)}") from exc
        calls = [{"id": call.get("id") or f"call_{i}", "name": call["function"]["name"],
                  "arguments": call["function"].get("arguments") or "{}"}
                 for i, call in enumerate(message.get("tool_calls") or []) if call.get("function")]
        return message.get("content") or "", calls

    def stream(self, messages: list[dict], *, max_tokens: int, temperature: float,
               stop: list[str] | None = None) -> Iterator[str]:
        body = {"model": self.model_name(), "messages": messages, "max_tokens": max_tokens,
                "temperature": temperature, "stream": True}
        if stop:
            body["stop"] = stop
        deadline = time.monotonic() + self.timeout_s
        with closing(self._request("POST", "/chat/completions", json=body)) as response:
            try:
                for line in response.iter_lines():
                    if time.monotonic() > deadline:
                        raise LLMUnavailable(f"{self.base_url} did not finish within {self.timeout_s:g} s")
                    data = _event_data(line)
                    if data is None:
                        continue
                    if data == "[DONE]":
                        return
                    piece = self._piece(data)
                    if piece:
                        yield piece
            except httpx.TimeoutException as exc:
                raise LLMUnavailable(f"{self.base_url} stopped sending for {self.timeout_s:g} s") from exc
            except httpx.HTTPError as exc:
                raise LLMUnavailable(f"{self.base_url} broke off the answer: {one_line(exc)}") from exc

    def _piece(self, data: str) -> str:
        """The text of one streamed chunk ("" for chunks that carry none)."""
        try:
            chunk = json.loads(data)
        except ValueError as exc:
            raise LLMUnavailable(f"{self.base_url} sent a malformed event: {one_line(data, 120)}") from exc
        error = chunk.get("error")
        if error:
            message = error.get("message", error) if isinstance(error, dict) else error
            raise LLMUnavailable(f"{self.base_url}: {one_line(message)}")
        choices = chunk.get("choices") or [{}]
        return (choices[0].get("delta") or {}).get("content") or ""


def _event_data(line: str) -> str | None:
    """The data of a server-sent-events line, or None for comments, other fields and blank lines."""
    if not line.startswith("data:"):
        return None
    return line[5:].strip()


def load_openai(settings: Settings) -> OpenAIBackend:
    if not settings.openai_base_url:
        raise LLMUnavailable("openai_base_url is not set (the OpenAI-compatible server to use)")
    return OpenAIBackend(settings.openai_base_url, settings.openai_model, api_key(), settings.llm_timeout_s)
