"""The MCP server (official ``mcp`` SDK, FastMCP): tools ``search_posts``, ``get_post`` and ``ask`` over the index,
and each post as the resource ``kexue://posts/<id>``; served over stdio (``kexue mcp``) or streamable HTTP."""


from typing import Annotated, Any, Literal

import anyio
from mcp.server.fastmcp import FastMCP
from mcp.server.fastmcp.exceptions import ToolError
from mcp.types import CallToolResult, TextContent, ToolAnnotations
from pydantic import BaseModel, Field

from app import search
from app.answering import Answerer, Citation, QuestionError
from app.search import PostHit
from app.serve.answer_format import answer_content, citation_json
from app.serve.posts import PostNotFound, post_markdown

INSTRUCTIONS = ("Search and quote the Chinese blog 科学空间 (kexue.fm, 苏剑林) on machine learning, NLP, maths and "
                "physics. search_posts finds posts (filters: date range, category); get_post returns a post's text; "
                "ask answers a question from the posts with numbered citations. Cite posts by title, date and link.")
READ_ONLY = ToolAnnotations(readOnlyHint=True, openWorldHint=False)


class AskOut(BaseModel):
    answer: str = Field(description="the answer with its [n] citation marks")
    citations: list[Citation]
    refused: bool = Field(description="true when the blog does not cover the question")
    llm: str = Field(description="the backend that wrote the answer")
    notice: str


class SearchOut(BaseModel):
    query: str
    posts: list[PostHit]


def search_markdown(query: str, hits: list[Any]) -> str:
    if not hits:
        return f"No post matches {query!r}."
    lines = []
    for hit in hits:
        where = " · ".join(x for x in (hit.category, f"§ {hit.section}" if hit.section else "") if x)
        lines.append(f"{hit.rank}. [《{hit.title}》]({hit.url}) {hit.date} (post {hit.post_id})"
                     + (f" · {where}" if where else "") + f"\n   {hit.snippet}")
    return "\n".join(lines)


def build_mcp(answerer: Answerer, ask_llm: str = "extractive", host: str = "127.0.0.1") -> FastMCP:
    """The MCP server over ``answerer``'s index. ``ask`` uses ``ask_llm`` unless the call names a backend:
    extractive by default, because an MCP client is usually a language model itself that wants the posts' own
    sentences quickly, not a second model's paraphrase after a minute on a CPU."""
    mcp = FastMCP("kexue", instructions=INSTRUCTIONS, host=host, streamable_http_path="/mcp")
    index = answerer.retriever.index

    @mcp.tool(annotations=READ_ONLY)
    async def search_posts(
        query: Annotated[str, Field(description="what to look for, Chinese or English")],
        k: Annotated[int, Field(ge=1, le=50, description="how many posts to return")] = 10,
        after: Annotated[str | None, Field(description="only posts published on or after YYYY-MM-DD")] = None,
        before: Annotated[str | None, Field(description="only posts published on or before YYYY-MM-DD")] = None,
        category: Annotated[str | None, Field(description="only posts of this category, e.g. 信息时代")] = None,
    ) -> Annotated[CallToolResult, SearchOut]:
        """Find kexue.fm posts by hybrid (semantic + keyword) search: ranked posts with title, date, category,
        link and the best-matching passage, the query's terms in bold."""
        try:
            hits = await anyio.to_thread.run_sync(lambda: search.search_posts(answerer.retriever, query, k, after,
                                                                              before, category))
        except search.SearchError as exc:
            raise ToolError(str(exc)) from None
        data = SearchOut(query=query, posts=hits)
        return CallToolResult(content=[TextContent(type="text", text=search_markdown(query, hits))],
                              structuredContent=data.model_dump())

    @mcp.tool(annotations=READ_ONLY)
    async def get_post(
        post_id: Annotated[str, Field(description="the post's id, e.g. 7980 (or its kexue.fm/archives URL)")],
        section: Annotated[str | None, Field(description="only the sections whose heading contains this")] = None,
    ) -> str:
        """A kexue.fm post's text as Markdown (LaTeX kept), with its title, date, URL, category and tags."""
        try:
            return await anyio.to_thread.run_sync(post_markdown, index, post_id, section)
        except PostNotFound as exc:
            raise ToolError(str(exc)) from None

    @mcp.tool(annotations=READ_ONLY)
    async def ask(
        question: Annotated[str, Field(description="the question, Chinese or English (up to 2000 characters)")],
        history: Annotated[list[str] | None, Field(description="earlier questions of the conversation, oldest "
                                                               "first, to resolve a follow-up")] = None,
        llm: Annotated[Literal["extractive", "local", "openai"] | None,
                       Field(description=f"answer backend (default {ask_llm}): extractive quotes the posts' "
                                         "sentences; local runs the local model (slow on a CPU)")] = None,
    ) -> Annotated[CallToolResult, AskOut]:
        """Answer a question from the blog's posts: the answer with [n] marks and its numbered citations (title,
        date, section, link to the cited sentence); says so when the blog does not cover the question."""
        try:
            answer = await anyio.to_thread.run_sync(
                lambda: answerer.answer(question, history=[h for h in history or [] if h.strip()],
                                        llm=llm or ask_llm))
        except QuestionError as exc:
            raise ToolError(str(exc)) from None
        data = AskOut(answer=answer.answer, citations=[Citation(**citation_json(c)) for c in answer.citations],
                      refused=answer.refused, llm=answer.llm, notice=answer.notice)
        return CallToolResult(content=[TextContent(type="text", text=answer_content(answer))],
                              structuredContent=data.model_dump())

    @mcp.resource("kexue://posts/{post_id}", name="post", mime_type="text/markdown",
                  description="A kexue.fm post as Markdown with its metadata, e.g. kexue://posts/7980")
    async def post_resource(post_id: str) -> str:
        try:
            return await anyio.to_thread.run_sync(post_markdown, index, post_id)
        except PostNotFound as exc:
            raise ValueError(str(exc)) from None

    return mcp
