"""Retrieve passages for a question: dense FAISS search and jieba BM25, posts fused by score (Chinese questions, or an
English one searched with its Chinese translation too) or chunks by reciprocal rank (English alone), one post per
slot."""

from __future__ import annotations

import copy
import itertools
import time
from collections.abc import Container
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from app.answering.language import detect_language
from app.answering.textmatch import overlap
from app.answering.types import Source
from app.index_store import IndexError_, LoadedIndex, load_index, read_manifest
from app.settings import Settings

MODES = ("hybrid", "dense", "bm25")
RRF_K = 60
CANDIDATES = 60
PASSAGE_CANDIDATES = 8
# A post's hybrid score in a search: its best chunk's score plus this share of its next best chunks' (at most
# SUPPORTING_CHUNKS), so a post that matches in several sections outranks one lucky chunk. Measured on both question
# sets (BENCH.md): it raises hybrid hit@1 on both and lowers dense-only and BM25-only, which keep the best chunk.
SUPPORT_SHARE = 0.3
SUPPORTING_CHUNKS = 2
# A Chinese question's searches are fused by score, dense weighted this much: each search's chunk scores scaled to
# [0, 1] over its candidates, each post scored in each search (``post_fusion``), the post scores fused. An English
# question searched alone is fused by rank (RRF), chunk by chunk: its cross-lingual cosines sit on another scale. An
# English question searched with its Chinese translation too has all four searches fused by score, each query's pair
# weighted so, halved. Measured on three question sets (BENCH.md): score fusion raised Chinese hybrid hit@1 (0.929 ->
# 0.957, 0.899 -> 0.924), and fusing posts rather than chunks raised it again, most for English questions.
DENSE_WEIGHT = 0.55


class EmbedderMismatch(IndexError_):
    pass


@dataclass
class Retrieval:
    """Ranked sources plus what the refusal rule and the timings need."""

    sources: list[Source]
    ms: float
    dense_top: float  # best raw e5 cosine among dense hits, whitened index or not (0 when dense was not run)
    bm25_top: float  # best BM25 score (0 when none)
    query_vector: Any = None  # the raw query embedding (None when dense retrieval did not run)
    unknown_names: list[str] = field(default_factory=list)  # names in the query that occur nowhere in the corpus
    partial: bool = False  # the index is a version written during an ingest: dense search does not cover it all
    names: list[str] = field(default_factory=list)  # every name in the query (see ``refusal.names_in``)


@dataclass
class PostRanking:
    """Posts found for a query: each post's chunks (best first) and fused score, and what the refusal rule reads."""

    chunks: dict[str, list[str]] = field(default_factory=dict)
    scores: dict[str, float] = field(default_factory=dict)
    vector: Any = None  # the raw query embedding (None when dense search did not run)
    dense_top: float = 0.0  # best raw e5 cosine among the dense hits
    bm25_top: float = 0.0  # best BM25 score

    @property
    def posts(self) -> list[str]:
        """Post ids, best first."""
        return sorted(self.chunks, key=self.scores.get, reverse=True)


def rrf(rankings: list[list[str]], k: int = RRF_K) -> dict[str, float]:
    """Reciprocal rank fusion: each id scores the sum of 1 / (k + rank) over the rankings it appears in."""
    fused: dict[str, float] = {}
    for ranking in rankings:
        for rank, key in enumerate(ranking, start=1):
            fused[key] = fused.get(key, 0.0) + 1.0 / (k + rank)
    return fused


def score_fusion(rankings: list[list[tuple[str, float]]], weights: list[float]) -> dict[str, float]:
    """Convex combination of min-max scaled scores; an id missing from a ranking gets that ranking's lowest."""
    fused: dict[str, float] = {}
    scaled = []
    for hits in rankings:
        scores = [score for _, score in hits]
        low, span = (min(scores), max(scores) - min(scores)) if scores else (0.0, 0.0)
        scaled.append({key: (score - low) / span if span > 0 else 1.0 for key, score in hits})
    for key in {key for hits in scaled for key in hits}:
        fused[key] = sum(w * hits.get(key, 0.0) for w, hits in zip(weights, scaled, strict=True))
    return fused


def post_score(chunk_scores: list[float], share: float = SUPPORT_SHARE) -> float:
    """A post's score from its chunks' (best first): the best plus ``share`` of the next few."""
    return chunk_scores[0] + share * sum(chunk_scores[1:1 + SUPPORTING_CHUNKS])


def post_fusion(rankings: list[list[tuple[str, float]]], weights: list[float],
                share: float = SUPPORT_SHARE) -> dict[str, float]:
    """Posts fused by score: in each search a post scores its chunks' min-max scaled scores (``post_score``), and
    those post scores are fused (``score_fusion``). A post whose dense match is one section and whose BM25 match is
    another (or its title) gets both, which fusing chunk by chunk would split between two chunks."""
    per_search = []
    for hits in rankings:
        scaled = score_fusion([hits], [1.0])
        chunks: dict[str, list[float]] = {}
        for node_id in sorted(scaled, key=scaled.get, reverse=True):
            chunks.setdefault(node_id.rsplit("#", 1)[0], []).append(scaled[node_id])
        per_search.append([(post, post_score(scores, share)) for post, scores in chunks.items()])
    return score_fusion(per_search, weights)


class Retriever:
    """Embeds queries with the index's own embedder and searches its FAISS and BM25 indexes; the index maps each
    query through its own whitening transform (stored with the version), so no query meets the wrong one."""

    def __init__(self, settings: Settings, embedder: Any = None):
        manifest = read_manifest(settings.index_dir)
        if embedder is None:
            from app.models.embedder import load_embedder
            embedder = load_embedder(settings)
        if manifest["embedder"]["fingerprint"] != embedder.fingerprint:
            raise EmbedderMismatch(
                f"the index at {settings.index_dir} was built with {manifest['embedder']['name']}, but the "
                f"configured embedder is {embedder.name}: re-run `kexue ingest` or change the setting `embedder`")
        self.embedder = embedder
        self.expand_terms = settings.expand_terms
        self.index = load_index(settings.index_dir, embedder.as_llama_index())
        self.index.bm25.tokenizer.segmenter.names_of("")  # load BM25 and the name tagger now, not at the first question
        if self.expand_terms:
            self.index.terms  # noqa: B018

    @property
    def index_dir(self) -> Path:
        return self.index.path

    def with_index(self, index: LoadedIndex) -> Retriever:
        """The same retriever over another view of the index (e.g. other vectors of the same rows)."""
        other = copy.copy(self)
        other.index = index
        return other

    def retrieve(self, query: str, k: int, mode: str = "hybrid", per_post: int = 1,
                 also: str | None = None, vector: Any = None) -> Retrieval:
        """Top ``k`` passages, at most ``per_post`` from any one post. ``also`` (the question in another language,
        see ``translate``) is searched too, its rankings fused with the query's; the refusal signals stay the
        query's own. ``vector``: the query's raw embedding when an earlier search of it has one."""
        if mode not in MODES:
            raise ValueError(f"retrieval mode must be one of {', '.join(MODES)}, not {mode!r}")
        start = time.perf_counter()
        ranking = self.rank_posts(query, mode, also=also, vector=vector)
        sources: list[Source] = []
        for post in ranking.posts[:k]:
            node_ids, score = ranking.chunks[post], ranking.scores[post]
            for node in self._passages(f"{query} {also}" if also else query, node_ids, per_post):
                meta = node.metadata
                sources.append(Source(len(sources) + 1, meta["post_id"], meta["title"], meta["date"], meta["url"],
                                      meta["section"], round(score, 5), node.text, bool(meta.get("excerpt"))))
        from app.answering.refusal import names_in, unknown_names

        names = names_in(query, self.index.bm25.tokenizer.segmenter)
        return Retrieval(sources[:k], (time.perf_counter() - start) * 1000, ranking.dense_top, ranking.bm25_top,
                         ranking.vector, unknown_names(query, self.index, names),
                         bool(self.index.manifest.get("embedded")), names)

    def rank_posts(self, query: str, mode: str = "hybrid", allowed: Container[str] | None = None,
                   depth: int = CANDIDATES, also: str | None = None, vector: Any = None) -> PostRanking:
        """Posts ranked by fusing the ``depth`` best chunks of each search. With ``allowed`` (post ids) each search
        keeps only those posts' chunks, looked for among every row (exact search of a few thousand rows takes
        milliseconds), so a narrow filter still gets its ``depth`` chunks. With ``also`` every search runs for it
        too, and all rankings are fused by score (a Chinese query's weights, the two queries alike). ``vector``: the
        query's raw embedding if already computed."""
        searched = depth if allowed is None else len(self.index.row_ids)

        def kept(hits: list[tuple[str, float]]) -> list[tuple[str, float]]:
            ids = (hit for hit in hits if allowed is None or hit[0].rsplit("#", 1)[0] in allowed)
            return list(itertools.islice(ids, depth))

        ranking = PostRanking()
        rankings: list[list[tuple[str, float]]] = []
        weights: list[float] = []  # each search's weight when fused by score
        if mode in ("hybrid", "dense"):
            ranking.vector = self.embedder.embed_queries([query])[0] if vector is None else vector
            hits = self.index.search_ids(ranking.vector, searched)
            rankings.append(kept(hits))
            weights.append(DENSE_WEIGHT)
            ranking.dense_top = self.index.raw_top(ranking.vector, hits[:depth])
        if mode in ("hybrid", "bm25"):
            keywords = self.index.terms.expand(query) if self.expand_terms else query
            hits = self.index.bm25.search(keywords, searched)
            rankings.append(kept(hits))
            weights.append(1 - DENSE_WEIGHT)
            ranking.bm25_top = hits[0][1] if hits else 0.0
        translated = bool(also) and also != query
        if translated:
            if mode in ("hybrid", "dense"):
                rankings.append(kept(self.index.search_ids(self.embedder.embed_queries([also])[0], searched)))
            if mode in ("hybrid", "bm25"):
                rankings.append(kept(self.index.bm25.search(also, searched)))
            weights = [w / 2 for w in weights * 2]
        by_score = translated or (len(rankings) == 2 and detect_language(query) == "zh")
        if by_score:
            fused = score_fusion(rankings, weights)
        else:
            fused = rrf([[node_id for node_id, _ in hits] for hits in rankings])
        for node_id in sorted(fused, key=fused.get, reverse=True):
            ranking.chunks.setdefault(node_id.rsplit("#", 1)[0], []).append(node_id)
        share = SUPPORT_SHARE if mode == "hybrid" else 0.0
        if by_score:
            ranking.scores = post_fusion(rankings, weights, share)
        else:
            ranking.scores = {post: post_score([fused[i] for i in ids], share) for post, ids in ranking.chunks.items()}
        return ranking

    def post_passages(self, query: str, source: Source, n: int) -> list[Source]:
        """The ``n`` passages of the post behind ``source`` that best match the question, as sources."""
        count = self.index.manifest["posts"][source.post_id]["chunks"]
        nodes = self._passages(query, [f"{source.post_id}#{i}" for i in range(count)], n)
        return [Source(source.rank, source.post_id, source.title, source.date, source.url, node.metadata["section"],
                       source.score, node.text, source.excerpt) for node in nodes]

    def _passages(self, query: str, node_ids: list[str], n: int) -> list[Any]:
        """A post's ``n`` passages that best match the question's words (every chunk of a post carries its
        title, so the fused rank alone says little about which of them holds the answer)."""
        nodes = [self.index.docstore.get_node(i) for i in node_ids[: max(PASSAGE_CANDIDATES, n)]]
        ranked = sorted(enumerate(nodes), key=lambda item: (-overlap(query, item[1].text), item[0]))
        return [node for _, node in ranked[:n]]
