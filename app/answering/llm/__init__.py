"""Generation backends for the answering chain, chosen by the ``llm`` setting or the ``--llm`` flag."""

from __future__ import annotations

from app.answering.llm.base import ChatBackend, LLMUnavailable
from app.settings import Settings

BACKENDS = ("local", "openai")


def load_backend(settings: Settings, name: str | None = None) -> ChatBackend:
    """The backend called ``name`` (default: ``settings.llm``), ready to stream; ``LLMUnavailable`` if it is not."""
    choice = name or settings.llm
    if choice == "local":
        from app.answering.llm.local import load_local

        return load_local(settings)
    if choice == "openai":
        from app.answering.llm.openai_api import load_openai

        return load_openai(settings)
    raise ValueError(f"unknown generation backend {choice!r}; choose one of {', '.join(BACKENDS)}")


__all__ = ["BACKENDS", "ChatBackend", "LLMUnavailable", "load_backend"]
