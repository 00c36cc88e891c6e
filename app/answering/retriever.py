"""Retrieve passages for a question from the index (dense search over FAISS), one post per slot."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

from app.answering.types import Source
from app.index_store import IndexError_, load_index, read_manifest
from app.settings import Settings


class EmbedderMismatch(IndexError_):
    pass


class Retriever:
    """Embeds queries with the index's own embedder and searches its FAISS index."""

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
        self.index = load_index(settings.index_dir, embedder.as_llama_index())

    @property
    def index_dir(self) -> Path:
        return self.index.path

    def retrieve(self, query: str, k: int, per_post: int = 1) -> tuple[list[Source], float]:
        """Top ``k`` passages, at most ``per_post`` from any one post; also the milliseconds it took."""
        start = time.perf_counter()
        vector = self.embedder.embed_queries([query])[0]
        hits = self.index.search(vector, max(4 * k, 20))
        taken: dict[str, int] = {}
        sources: list[Source] = []
        for node, score in hits:
            meta = node.metadata
            if taken.get(meta["post_id"], 0) >= per_post:
                continue
            taken[meta["post_id"]] = taken.get(meta["post_id"], 0) + 1
            sources.append(Source(len(sources) + 1, meta["post_id"], meta["title"], meta["date"], meta["url"],
                                  meta["section"], score, node.text, bool(meta.get("excerpt"))))
            if len(sources) == k:
                break
        return sources, (time.perf_counter() - start) * 1000
