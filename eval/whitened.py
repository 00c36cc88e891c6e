"""Whitening variants for ``kexue eval``: ``dense-raw384``, ``hybrid-w128-b0.5-g1``, ``dense-w64-b1-g0``, …

Each builds, in memory, a FAISS index of the current index's cached raw embeddings (``raw_embeddings.npy``)
mapped by a transform fitted on them (``app.whitening``), and searches it with the app's own ``Retriever``
(same query embedding, BM25, fusion and refusal signals), so nothing is re-embedded and a setting can be
compared with the index as built. ``rawD`` means no transform (D must be the embedder's dimension).
"""

from __future__ import annotations

import functools
import re
import time
from dataclasses import dataclass
from typing import Any

import numpy as np

from app import whitening
from app.whitening import Whitening

SEARCH_PROBES = 200
NAMES = "dense|hybrid-raw<dim> or dense|hybrid-w<K>-b<β>-g<γ> (whitening)"
PATTERN = re.compile(r"^(dense|hybrid)-(?:raw(\d+)|w(\d+)-b(\d+(?:\.\d+)?)-g(\d+(?:\.\d+)?))$")


@dataclass(frozen=True)
class Setting:
    """k = 0: raw vectors."""

    k: int
    beta: float = 1.0
    gamma: float = 1.0

    @property
    def label(self) -> str:
        return "raw" if self.k == 0 else f"w{self.k}-b{self.beta:g}-g{self.gamma:g}"


def parse(name: str) -> tuple[str, Setting] | None:
    """(mode, setting) of a variant name, or None when the name is not a whitening variant."""
    match = PATTERN.match(name)
    if not match:
        return None
    mode, raw_dim, k, beta, gamma = match.groups()
    return (mode, Setting(0)) if raw_dim else (mode, Setting(int(k), float(beta), float(gamma)))


@dataclass
class Built:
    """One setting's in-memory index view, its transform and what it cost."""

    index: Any  # LoadedIndex view over the built FAISS index
    transform: Whitening | None
    dim: int
    vector_bytes: int
    fit_ms: float


def search_micros(index: Any, probes: int = SEARCH_PROBES) -> float:
    """Median µs of one dense search as the retriever runs it (query transform, FAISS top ``CANDIDATES``, ids),
    with corpus vectors spread over the index as queries: the part of retrieval the vectors' size changes."""
    from app.answering.retriever import CANDIDATES

    raw = index.raw_embeddings()
    times = []
    for row in np.linspace(0, len(raw) - 1, probes).astype(int):
        query = np.array(raw[row])
        start = time.perf_counter()
        index.search_ids(query, CANDIDATES)
        times.append(time.perf_counter() - start)
    return round(float(np.median(times)) * 1e6, 1)


class VectorLab:
    """Per eval run: the raw embeddings of the current index and the indexes built from them, one per setting."""

    def __init__(self, context: Any):
        self.context = context
        self.retriever = context.answerer.retriever
        self.raw = np.ascontiguousarray(self.retriever.index.raw_embeddings(), dtype=np.float32)
        self.built: dict[Setting, Built] = {}
        context.analyses["similarity_gap"] = self.similarity_gaps

    def build(self, setting: Setting) -> Built:
        if setting not in self.built:
            self.built[setting] = self._build(setting)
        return self.built[setting]

    def _build(self, setting: Setting) -> Built:
        from ingest.index_writer import build_faiss

        start = time.perf_counter()
        transform = whitening.fit(self.raw, setting.k, setting.beta, setting.gamma) if setting.k else None
        fit_ms = (time.perf_counter() - start) * 1000
        stored = self.raw if transform is None else transform.apply(self.raw)
        kind = self.retriever.index.manifest["index"]
        faiss_index = build_faiss(stored.shape[1], kind["kind"], kind["hnsw_m"])
        faiss_index.add(stored)
        view = self.retriever.index.with_vectors(faiss_index, transform)
        return Built(view, transform, int(stored.shape[1]), int(stored.nbytes), fit_ms)

    def similarity_gaps(self, records: list[dict]) -> dict[str, Any]:
        """For every built setting, see :func:`eval.score_gap.gap_table`."""
        from eval.score_gap import gap_table

        queries = self.retriever.embedder.embed_queries([r["query"] for r in records])
        posts = np.array([node_id.rsplit("#", 1)[0] for node_id in self.retriever.index.row_ids])
        settings = sorted(self.built, key=lambda s: (s.k != 0, -s.k, -s.beta, -s.gamma))
        return gap_table({s.label: self.built[s].transform for s in settings}, self.raw, posts, queries, records)


class WhitenedVariant:
    """One retrieval mode of the app's ``Retriever`` over one setting's vectors."""

    def __init__(self, context: Any, name: str, mode: str, setting: Setting):
        dim = context.manifest["embedder"]["dim"]
        if setting.k == 0 and name != f"{mode}-raw{dim}":
            raise KeyError(f"unknown variant {name!r}: the raw vectors have {dim} dimensions ({mode}-raw{dim})")
        self.name, self.mode, self.setting = name, mode, setting
        self.built = context.vector_lab.build(setting)
        self.answerer = context.answerer
        self.retriever = context.answerer.retriever.with_index(self.built.index)
        self.settings = context.settings

    @functools.cached_property
    def search_us(self) -> float:
        return search_micros(self.retriever.index)

    def describe(self) -> str:
        b, s = self.built, self.setting
        what = "raw vectors" if s.k == 0 else f"BERT-whitened vectors (k={s.k}, β={s.beta:g}, γ={s.gamma:g}, " \
                                              f"fitted in {b.fit_ms:.0f} ms)"
        return (f"app Retriever, mode={self.mode}, over {len(self.retriever.index.row_ids)}×{b.dim} {what} built in "
                f"memory from the cached raw embeddings: {b.vector_bytes / 1e6:.1f} MB of vectors, dense search "
                f"p50 {self.search_us:.0f} µs")

    def details(self) -> dict[str, Any]:
        return {"dim": self.built.dim, "index_bytes": self.built.vector_bytes, "search_us_p50": self.search_us,
                "whitening": None if self.setting.k == 0 else
                {"k": self.setting.k, "beta": self.setting.beta, "gamma": self.setting.gamma}}

    def search(self, query: str, k: int) -> Any:
        from eval.variants import ranking_of

        also = self.answerer.searched_as(query)  # as the app searches (an English question also in Chinese)
        return ranking_of(self.retriever.retrieve(query, k, mode=self.mode, also=also), query, self.settings)


def make(name: str) -> Any:
    """The factory of a whitening variant name, or None when the name does not match :data:`PATTERN`."""
    parsed = parse(name)
    if parsed is None:
        return None
    mode, setting = parsed
    return lambda context: WhitenedVariant(context, name, mode, setting)
