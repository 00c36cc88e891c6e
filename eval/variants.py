"""Retrieval variants compared side by side: a registry name -> factory, extensible with :func:`register_variant`.

A factory takes the :class:`EvalContext` and returns an object with ``name``, ``describe()`` and
``search(query, k) -> Ranking``. Built in: the three modes of the app's ``Retriever`` over the current index
(``hybrid``, ``dense``, ``bm25``) and ``llamaindex-baseline`` (see :mod:`eval.baseline`).
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Protocol

from app.settings import Settings


@dataclass
class Ranking:
    """Retrieved post ids, best first (one entry per post), their titles, and the time the search took."""

    post_ids: list[str]
    ms: float
    titles: dict[str, str] = field(default_factory=dict)


class Variant(Protocol):
    name: str

    def describe(self) -> str: ...

    def search(self, query: str, k: int) -> Ranking: ...


@dataclass
class EvalContext:
    """What variants share: settings, and the app's ``Answerer`` (built on first use)."""

    settings: Settings
    progress: bool = True
    _answerer: Any = None

    @property
    def answerer(self) -> Any:
        if self._answerer is None:
            from app.answering import Answerer

            self._answerer = Answerer(self.settings)
        return self._answerer

    @functools.cached_property
    def manifest(self) -> dict[str, Any]:
        return self.answerer.retriever.index.manifest

    @property
    def embedder(self) -> Any:
        return self.answerer.retriever.embedder


class RetrieverVariant:
    """One mode of the app's ``Retriever`` (one passage per post, so ranks are post ranks)."""

    def __init__(self, context: EvalContext, mode: str):
        self.name = mode
        self.mode = mode
        self.retriever = context.answerer.retriever

    def describe(self) -> str:
        return f"app Retriever, mode={self.mode}, index {self.retriever.index_dir}"

    def search(self, query: str, k: int) -> Ranking:
        result = self.retriever.retrieve(query, k, mode=self.mode)
        return Ranking([s.post_id for s in result.sources], result.ms, {s.post_id: s.title for s in result.sources})


def _baseline(context: EvalContext) -> Variant:
    from eval.baseline import BaselineVariant

    return BaselineVariant(context)


VARIANTS: dict[str, Callable[[EvalContext], Variant]] = {
    "hybrid": lambda c: RetrieverVariant(c, "hybrid"),
    "dense": lambda c: RetrieverVariant(c, "dense"),
    "bm25": lambda c: RetrieverVariant(c, "bm25"),
    "llamaindex-baseline": _baseline,
}
RETRIEVER_MODES = ("hybrid", "dense", "bm25")


def register_variant(name: str, factory: Callable[[EvalContext], Variant]) -> None:
    """Add (or replace) a variant, e.g. a whitening dimension or a chunking choice."""
    VARIANTS[name] = factory


def make_variant(name: str, context: EvalContext) -> Variant:
    if name not in VARIANTS:
        raise KeyError(f"unknown variant {name!r}; known: {', '.join(VARIANTS)}")
    return VARIANTS[name](context)


def retrieval_query(answerer: Any, question: str, history: list[str]) -> str:
    """What a retrieval-only run searches for: for a follow-up, the Answerer's own standalone question built
    without an LLM (``standalone_question(question, history, "extractive")``); for an answerer without that,
    the earlier turns and the question joined by newlines."""
    if not history:
        return question
    own = getattr(answerer, "standalone_question", None)
    if callable(own):
        from app.answering import extractive

        return own(question, history, extractive.NAME)
    return "\n".join([*history, question])
