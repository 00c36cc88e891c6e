"""Versions written while a long embedding runs: BM25 over every chunk at once, dense search over the chunks
embedded so far, so the index answers within seconds of the start and better every few minutes."""

from __future__ import annotations

import time
from typing import Any

import numpy as np

from ingest.bm25_step import Keywords
from ingest.index_writer import write_version

MIN_CHUNKS = 256  # a smaller embedding job just runs to the end


class PartialVersions:
    """Writes a partial version now (``publish``) and again whenever ``every_s`` seconds have passed."""

    def __init__(self, settings: Any, nodes: list[Any], keywords: Keywords, manifest: dict[str, Any],
                 embedder: Any, every_s: float):
        self.settings, self.nodes, self.keywords, self.manifest = settings, nodes, keywords, manifest
        self.embedder, self.every_s = embedder, every_s
        self.last = 0.0
        self.written = 0

    def publish(self, known: dict[str, np.ndarray]) -> None:
        """A version whose dense index holds the nodes of ``known`` (node id -> raw vector)."""
        rows = [i for i, n in enumerate(self.nodes) if n.node_id in known]
        raw = np.array([known[self.nodes[i].node_id] for i in rows], dtype="float32").reshape(len(rows),
                                                                                            self.embedder.dim)
        manifest = {**self.manifest, "embedded": {"chunks": len(rows), "of": len(self.nodes)}}
        write_version(self.settings.index_dir, self.nodes, raw, self.keywords, manifest,
                      self.embedder.as_llama_index(), self.settings.index_kind, self.settings.hnsw_m,
                      vector_rows=rows)
        self.last = time.monotonic()
        self.written += 1

    def maybe_publish(self, known: dict[str, np.ndarray]) -> None:
        if time.monotonic() - self.last >= self.every_s:
            self.publish(known)
