"""The OpenAI-compatible routes: ``/v1/models``, ``/v1/chat/completions`` (streamed or not) and ``/v1/search``."""

from __future__ import annotations

import json
import logging
import time
import uuid
from collections.abc import AsyncIterator
from typing import Any

from fastapi import APIRouter, Query, Request
from fastapi.responses import StreamingResponse
from pydantic import BaseModel, ConfigDict, Field
from starlette.concurrency import iterate_in_threadpool, run_in_threadpool

from app import search as post_search
from app.answering import Answer, Answerer, Evidence, QuestionError
from app.answering.answerer import MAX_QUESTION_CHARS, check_question
from app.serve.answer_format import answer_content, citation_json, excerpt_json, streamed_entries, tail_markdown
from app.serve.errors import ApiError
from app.ui.messages import message_text

log = logging.getLogger(__name__)
router = APIRouter(prefix="/v1")
EXTRACTIVE_MODEL = "kexue-extractive"
MAX_HISTORY = 8  # earlier user turns passed on for rewriting a follow-up


class ChatMessage(BaseModel):
    model_config = ConfigDict(extra="allow")
    role: str
    content: str | list[dict[str, Any]] | None = None


class ChatRequest(BaseModel):
    """The fields of an OpenAI chat request that matter here (the rest, e.g. temperature, are accepted and ignored);
    ``k`` (posts to retrieve) is an extension."""

    model_config = ConfigDict(extra="allow")
    model: str
    messages: list[ChatMessage]
    stream: bool = False
    k: int | None = Field(None, ge=1, le=10)


def model_backends(answerer: Answerer) -> dict[str, str]:
    """Model name -> answer backend: ``kexue`` is the configured backend, ``kexue-extractive`` quotes the posts."""
    return {"kexue": answerer.settings.llm, EXTRACTIVE_MODEL: "extractive"}


def conversation(messages: list[ChatMessage]) -> tuple[str, list[str]]:
    """The question (the last user message) and the last few earlier user turns, oldest first, each cut to the
    question limit (they only steer the rewriting of a follow-up); ``ApiError`` when there is no usable question."""
    if not messages:
        raise ApiError(400, "messages must not be empty: send at least one user message", "messages",
                       "empty_messages")
    turns = [message_text(m.model_dump()).strip() for m in messages if m.role == "user"]
    if not turns:
        raise ApiError(400, "messages has no user message to answer", "messages", "no_user_message")
    try:
        question = check_question(turns[-1])
    except QuestionError as exc:
        raise ApiError(400, str(exc), "messages", "invalid_question") from None
    return question, [t[:MAX_QUESTION_CHARS] for t in turns[:-1] if t][-MAX_HISTORY:]


def _backend(request: Request, model: str) -> str:
    backends = model_backends(request.app.state.answerer)
    if model not in backends:
        raise ApiError(404, f"the model {model!r} does not exist; use one of {', '.join(backends)}", "model",
                       "model_not_found")
    return backends[model]


@router.get("/models")
async def list_models(request: Request) -> dict[str, Any]:
    backends = model_backends(request.app.state.answerer)
    return {"object": "list", "data": [{"id": name, "object": "model", "created": 0, "owned_by": "kexue",
                                        "backend": backend} for name, backend in backends.items()]}


@router.post("/chat/completions")
async def chat_completions(body: ChatRequest, request: Request) -> Any:
    llm = _backend(request, body.model)
    question, history = conversation(body.messages)
    answerer: Answerer = request.app.state.answerer
    completion_id, created = f"chatcmpl-{uuid.uuid4().hex}", int(time.time())
    if body.stream:
        events = _events(answerer, question, history, llm, body.k, (completion_id, created, body.model))
        return StreamingResponse(events, media_type="text/event-stream",
                                 headers={"Cache-Control": "no-cache", "X-Accel-Buffering": "no"})
    try:
        answer = await run_in_threadpool(answerer.answer, question, k=body.k, history=history, llm=llm)
    except QuestionError as exc:
        raise ApiError(400, str(exc), "messages", "invalid_question") from None
    return {"id": completion_id, "object": "chat.completion", "created": created, "model": body.model,
            "choices": [{"index": 0, "message": {"role": "assistant", "content": answer_content(answer)},
                         "finish_reason": "stop", "logprobs": None}],
            "citations": [citation_json(c) for c in answer.citations], "kexue": _summary(answer)}


def _summary(answer: Answer) -> dict[str, Any]:
    return {"llm": answer.llm, "refused": answer.refused, "notice": answer.notice, "lang": answer.lang}


def _sse(data: dict[str, Any]) -> str:
    return f"data: {json.dumps(data, ensure_ascii=False)}\n\n"


async def _events(answerer: Answerer, question: str, history: list[str], llm: str, k: int | None,
                  ident: tuple[str, int, str]) -> AsyncIterator[str]:
    """The answer as ``chat.completion.chunk`` events: the excerpts (top-level ``evidence``) with the first chunk,
    the text as it is produced, its Sources list, then a last chunk with ``citations``; ``[DONE]`` ends it."""
    completion_id, created, model = ident

    def chunk(delta: dict[str, Any], finish: str | None = None, **extra: Any) -> str:
        return _sse({"id": completion_id, "object": "chat.completion.chunk", "created": created, "model": model,
                     "choices": [{"index": 0, "delta": delta, "finish_reason": finish, "logprobs": None}], **extra})

    shown, excerpts, opened = "", [], False
    try:
        async for item in iterate_in_threadpool(answerer.stream(question, k=k, history=history, llm=llm)):
            if isinstance(item, Evidence):  # a second one replaces the first (an English question searched again)
                delta = {"content": ""} if opened else {"role": "assistant", "content": ""}
                excerpts, opened = item.excerpts, True
                yield chunk(delta, evidence=[excerpt_json(s) for s in excerpts])
            elif isinstance(item, Answer):
                rest = item.answer[len(shown):] if item.answer.startswith(shown) else ""
                tail = tail_markdown(item, streamed_entries(item, shown + rest, excerpts))
                yield chunk({"content": rest + (f"\n\n{tail}" if tail else "")})
                yield chunk({}, "stop", citations=[citation_json(c) for c in item.citations], kexue=_summary(item))
            else:
                shown += item
                yield chunk({"content": item})
    except Exception as exc:  # the client gets an error event, never a stack trace
        log.exception("streaming an answer to %r failed", question)
        kind = "invalid_request_error" if isinstance(exc, QuestionError) else "server_error"
        message = str(exc) if isinstance(exc, QuestionError) else f"internal error ({type(exc).__name__})"
        yield _sse(ApiError(500, message, kind=kind).body())
    yield "data: [DONE]\n\n"


@router.get("/search")
async def search(request: Request, q: str = Query(..., description="the query"), k: int = 10,
                 after: str | None = None, before: str | None = None, category: str | None = None) -> dict[str, Any]:
    retriever = request.app.state.answerer.retriever
    try:
        hits = await run_in_threadpool(post_search.search_posts, retriever, q, k, after, before, category)
    except post_search.SearchError as exc:
        field = str(exc).split(" ", 1)[0]
        param = "q" if field == "query" else field if field in ("k", "after", "before", "category") else None
        raise ApiError(400, str(exc), param, "invalid_search") from None
    return {"object": "list", "query": q, "data": [hit.to_json() for hit in hits]}
