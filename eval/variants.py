"""Retrieval variants compared side by side: a registry name -> factory, extensible with :func:`register_variant`.

A factory takes the :class:`EvalContext` and returns an object with ``name``, ``describe()`` and
``search(query, k) -> Ranking`` (and optionally ``details()``: dimension, bytes of vectors, …). Built in: the
three modes of the app's ``Retriever`` over the current index (``hybrid``, ``dense``, ``bm25``),
``llamaindex-baseline`` (see :mod:`eval.baseline`), and the whitening grid ``{dense,hybrid}-raw384`` /
``{dense,hybrid}-w<K>-b<β>-g<γ>`` (see :mod:`eval.whitened`), resolved from the name.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Protocol

from app.settings import Settings
from eval import whitened


@dataclass
class Ranking:
    """Retrieved post ids, best first (one entry per post), their titles, and the time the search took."""

    post_ids: list[str]
    ms: float
    titles: dict[str, str] = field(default_factory=dict)
    covered: bool | None = None  # the app's refusal rule on this retrieval (None when the variant has none)


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
    analyses: dict[str, Callable[[list[dict]], Any]] = field(default_factory=dict)  # run over the records at the end

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

    @functools.cached_property
    def vector_lab(self) -> Any:
        """Indexes built in memory from the cached raw embeddings (whitening variants)."""
        from eval.whitened import VectorLab

        return VectorLab(self)


def ranking_of(retrieval: Any, query: str, settings: Settings) -> Ranking:
    """A ``Retriever`` result as a ranking, with the app's refusal rule applied to it."""
    from app.answering.language import detect_language
    from app.answering.refusal import is_covered

    sources = retrieval.sources
    return Ranking([s.post_id for s in sources], retrieval.ms, {s.post_id: s.title for s in sources},
                   is_covered(retrieval, detect_language(query), settings))


class RetrieverVariant:
    """One mode of the app's retrieval as answers use it (``Answerer.search``: an English question is also searched
    in Chinese when ``translate_english`` is on); one passage per post, so ranks are post ranks."""

    def __init__(self, context: EvalContext, mode: str):
        self.name = mode
        self.mode = mode
        self.answerer = context.answerer
        self.retriever = context.answerer.retriever
        self.settings = context.settings

    def describe(self) -> str:
        return f"app Retriever, mode={self.mode}, index {self.retriever.index_dir}"

    def details(self) -> dict[str, Any]:
        """Dimension and bytes of the searched vectors, dense search time (none for BM25)."""
        faiss_index = getattr(self.retriever.index, "faiss", None)
        if self.mode == "bm25" or faiss_index is None:
            return {}
        return {"dim": int(faiss_index.d), "index_bytes": int(faiss_index.ntotal * faiss_index.d * 4),
                "search_us_p50": whitened.search_micros(self.retriever.index),
                "whitening": self.retriever.index.manifest.get("whitening")}

    def search(self, query: str, k: int) -> Ranking:
        return ranking_of(self.answerer.search(query, k, mode=self.mode), query, self.settings)


def _baseline(context: EvalContext) -> Variant:
    from eval.baseline import BaselineVariant

    return BaselineVariant(context)


class Registry(dict):
    """Variant factories by name; a name that is not registered may still be built from its pattern."""

    def __contains__(self, name: object) -> bool:
        return super().__contains__(name) or (isinstance(name, str) and whitened.make(name) is not None)

    def __missing__(self, name: str) -> Callable[[EvalContext], Variant]:
        factory = whitened.make(name)
        if factory is None:
            raise KeyError(name)
        return factory


VARIANTS: dict[str, Callable[[EvalContext], Variant]] = Registry({
    "hybrid": lambda c: RetrieverVariant(c, "hybrid"),
    "dense": lambda c: RetrieverVariant(c, "dense"),
    "bm25": lambda c: RetrieverVariant(c, "bm25"),
    "llamaindex-baseline": _baseline,
})
RETRIEVER_MODES = ("hybrid", "dense", "bm25")


def register_variant(name: str, factory: Callable[[EvalContext], Variant]) -> None:
    """Add (or replace) a variant, e.g. a whitening dimension or a chunking choice."""
    VARIANTS[name] = factory


def make_variant(name: str, context: EvalContext) -> Variant:
    if name not in VARIANTS:
        raise KeyError(f"unknown variant {name!r}; known: {', '.join(VARIANTS)}, and {whitened.NAMES}")
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
