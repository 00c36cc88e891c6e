"""The MCP server through the ``mcp`` SDK's own clients: ``kexue mcp`` over stdio (tools with their schemas,
search, posts, answers with citations, clear errors, the post resources) and ``kexue serve``'s /mcp over HTTP."""

from __future__ import annotations

import asyncio
import os
import threading
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import pytest
from mcp import ClientSession, StdioServerParameters
from mcp.client.stdio import stdio_client
from mcp.client.streamable_http import streamable_http_client
from mcp.shared._httpx_utils import create_mcp_http_client
from mcp.shared.exceptions import McpError
from pydantic import AnyUrl

from tests.conftest import PROJECT
from tests.serve_server import API_KEY, kexue_serve

pytestmark = pytest.mark.slow

KEXUE = PROJECT / ".venv" / "bin" / "kexue"
TITLE = "从动力学角度看优化算法（六）：为什么SimSiam不退化？"


class SessionThread:
    """An MCP client session held open on an event loop in a thread, so that the tests of a module share one
    server; :meth:`run` runs ``fn(session)`` there and returns its result."""

    def __init__(self, opener: Callable[[], Any]):
        self.loop = asyncio.new_event_loop()
        self.thread = threading.Thread(target=self.loop.run_forever, daemon=True)
        self.thread.start()
        self.session: ClientSession | None = None
        self._ready, self._stop = threading.Event(), None
        self._holder = asyncio.run_coroutine_threadsafe(self._hold(opener), self.loop)
        if not self._ready.wait(180):
            raise RuntimeError("the MCP session did not open in 180 s")
        if self.session is None:
            self._holder.result(30)  # raises the reason the session did not open
            raise RuntimeError("the MCP session closed at once")

    async def _hold(self, opener: Callable[[], Any]) -> None:
        self._stop = asyncio.Event()
        try:
            async with opener() as streams, ClientSession(streams[0], streams[1]) as session:
                await session.initialize()
                self.session = session
                self._ready.set()
                await self._stop.wait()
        finally:
            self._ready.set()

    def run(self, fn: Callable[[ClientSession], Awaitable[Any]], timeout: float = 300) -> Any:
        assert self.session is not None, "the MCP session is closed"
        return asyncio.run_coroutine_threadsafe(fn(self.session), self.loop).result(timeout)

    def close(self) -> None:
        if self._stop is not None:
            self.loop.call_soon_threadsafe(self._stop.set)
        self._holder.result(60)
        self.loop.call_soon_threadsafe(self.loop.stop)
        self.thread.join(30)


@pytest.fixture(scope="module")
def stdio_session(corpus_index, tmp_path_factory):
    env = {k: v for k, v in os.environ.items() if k != "KEXUE_API_KEY"}
    params = StdioServerParameters(command=str(KEXUE), args=["mcp", "--index", str(corpus_index.index_dir)],
                                   env=env, cwd=PROJECT)
    log = tmp_path_factory.mktemp("mcp") / "stderr.log"
    with open(log, "w") as errlog:
        try:
            holder = SessionThread(lambda: stdio_client(params, errlog=errlog))
        except Exception as exc:
            raise RuntimeError(f"kexue mcp failed: {exc!r}\n{log.read_text()[-3000:]}") from exc
        yield holder
        holder.close()


def _text(result) -> str:
    return "\n".join(part.text for part in result.content if part.type == "text")


def test_tools_are_listed_with_their_input_schemas(stdio_session):
    tools = {tool.name: tool for tool in stdio_session.run(lambda s: s.list_tools()).tools}
    assert set(tools) == {"search_posts", "get_post", "ask"}
    search = tools["search_posts"].inputSchema
    assert set(search["properties"]) == {"query", "k", "after", "before", "category"}
    assert search["required"] == ["query"] and search["properties"]["k"]["maximum"] == 50
    assert "YYYY-MM-DD" in search["properties"]["after"]["description"]
    assert tools["get_post"].inputSchema["required"] == ["post_id"]
    ask = tools["ask"].inputSchema
    assert set(ask["properties"]) == {"question", "history", "llm"} and ask["required"] == ["question"]
    assert "citations" in tools["ask"].outputSchema["properties"]
    assert "posts" in tools["search_posts"].outputSchema["properties"]
    assert all(tool.annotations.readOnlyHint for tool in tools.values())
    templates = stdio_session.run(lambda s: s.list_resource_templates()).resourceTemplates
    assert [t.uriTemplate for t in templates] == ["kexue://posts/{post_id}"]


def test_search_posts_and_get_post_find_the_simsiam_post(stdio_session):
    result = stdio_session.run(lambda s: s.call_tool("search_posts", {"query": "SimSiam", "k": 3}))
    assert not result.isError
    posts = result.structuredContent["posts"]
    assert posts[0]["post_id"] == "7980" and posts[0]["title"] == TITLE and len(posts) <= 3
    assert "**SimSiam**" in posts[0]["snippet"] and "https://kexue.fm/archives/7980" in _text(result)
    earlier = stdio_session.run(lambda s: s.call_tool("search_posts", {"query": "SimSiam", "before": "2020-01-01"}))
    assert all(p["date"] <= "2020-01-01" for p in earlier.structuredContent["posts"])

    post = stdio_session.run(lambda s: s.call_tool("get_post", {"post_id": "7980"}))
    text = _text(post)
    assert not post.isError and text.startswith(f"# 《{TITLE}》\n")
    assert "- date: 2020-12-11" in text and "- url: https://kexue.fm/archives/7980" in text
    assert "\n## 动力学分析\n" in text and "stop_gradient" in text and len(text) > 3000
    part = _text(stdio_session.run(lambda s: s.call_tool("get_post", {"post_id": "https://kexue.fm/archives/7980",
                                                                      "section": "动力学"})))
    assert "\n## 动力学分析\n" in part and len(part) < len(text)
    resource = stdio_session.run(lambda s: s.read_resource(AnyUrl("kexue://posts/7980")))
    assert resource.contents[0].text == text and resource.contents[0].mimeType == "text/markdown"


def test_ask_answers_with_citations(stdio_session):
    result = stdio_session.run(lambda s: s.call_tool("ask", {"question": "SimSiam为什么不退化？"}))
    assert not result.isError
    data = result.structuredContent
    assert data["llm"] == "extractive" and not data["refused"] and "[1]" in data["answer"]
    assert data["citations"][0]["post_id"] == "7980"
    assert data["citations"][0]["link"].startswith("https://kexue.fm/archives/7980")
    assert "**来源 Sources**" in _text(result)
    follow = stdio_session.run(lambda s: s.call_tool("ask", {"question": "它和BYOL有什么区别？",
                                                             "history": ["SimSiam没有负样本，为什么不会坍缩？"]}))
    assert "7980" in {c["post_id"] for c in follow.structuredContent["citations"]}
    alone = stdio_session.run(lambda s: s.call_tool("ask", {"question": "它和BYOL有什么区别？"}))
    assert alone.structuredContent["refused"] and alone.structuredContent["citations"] == []


def test_errors_are_clear_tool_errors(stdio_session):
    cases = [("get_post", {"post_id": "12345"}, "no post 12345 in the index"),
             ("get_post", {"post_id": "7980", "section": "不存在的小节"}, "post 7980 has no section matching"),
             ("search_posts", {"query": "SimSiam", "after": "2020-13-45"}, "after must be a date YYYY-MM-DD"),
             ("search_posts", {"query": "SimSiam", "category": "没有这个分类"}, "is not in the index"),
             ("ask", {"question": "   "}, "the question is empty"),
             ("ask", {"question": "长" * 10_000}, "the limit is 2000"),
             ("ask", {"question": "SimSiam?", "llm": "gpt"}, "llm")]
    for name, arguments, expected in cases:
        result = stdio_session.run(lambda s, n=name, a=arguments: s.call_tool(n, a))
        assert result.isError and expected in _text(result), (name, arguments, _text(result))
        assert "Traceback" not in _text(result)
    with pytest.raises(McpError, match="no post 12345 in the index"):
        stdio_session.run(lambda s: s.read_resource(AnyUrl("kexue://posts/12345")))


def test_streamable_http_on_kexue_serve(corpus_index, tmp_path: Path):
    with kexue_serve(corpus_index.index_dir, tmp_path / "serve.log", "--no-ui") as base:
        def opener():
            client = create_mcp_http_client(headers={"Authorization": f"Bearer {API_KEY}"})
            return streamable_http_client(f"{base}/mcp", http_client=client)

        holder = SessionThread(opener)
        try:
            tools = {t.name for t in holder.run(lambda s: s.list_tools()).tools}
            assert tools == {"search_posts", "get_post", "ask"}
            found = holder.run(lambda s: s.call_tool("search_posts", {"query": "SimSiam", "k": 1}))
            assert found.structuredContent["posts"][0]["post_id"] == "7980"
            answer = holder.run(lambda s: s.call_tool("ask", {"question": "SimSiam为什么不退化？"}))
            assert answer.structuredContent["citations"][0]["post_id"] == "7980"
            missing = holder.run(lambda s: s.call_tool("get_post", {"post_id": "12345"}))
            assert missing.isError and "no post 12345 in the index" in _text(missing)
        finally:
            holder.close()
