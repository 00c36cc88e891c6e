"""The on-disk index: its layout, and loading the current version for search.

Layout of an index directory::

    CURRENT                 name of the active version (replaced atomically)
    versions/<name>/        one complete version: manifest.json, raw_embeddings.npy, and the
                            llama-index storage (docstore.json, index_store.json, FAISS vector store)
    .lock                   held by a running ingest
"""

from __future__ import annotations

import functools
import json
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

FORMAT_VERSION = 1
CURRENT = "CURRENT"
VERSIONS = "versions"
MANIFEST = "manifest.json"
RAW_EMBEDDINGS = "raw_embeddings.npy"
VECTOR_STORE = "default__vector_store.json"


class IndexError_(Exception):
    """The index cannot be used; the message says why and what to run."""


class IndexNotFound(IndexError_):
    pass


def current_version(index_dir: Path) -> Path | None:
    """The directory of the active version, or None when no complete version exists."""
    pointer = index_dir / CURRENT
    if not pointer.is_file():
        return None
    name = pointer.read_text(encoding="utf-8").strip()
    path = index_dir / VERSIONS / name
    return path if (path / MANIFEST).is_file() else None


def active_version(index_dir: Path) -> Path:
    """The directory of the active version; ``IndexNotFound`` when there is none."""
    version = current_version(index_dir)
    if version is None:
        raise IndexNotFound(f"no index at {index_dir}: run `kexue ingest` first (or pass --index DIR)")
    return version


def read_manifest(index_dir: Path) -> dict[str, Any]:
    return json.loads((active_version(index_dir) / MANIFEST).read_text(encoding="utf-8"))


def dir_size(path: Path) -> int:
    return sum(p.stat().st_size for p in path.rglob("*") if p.is_file())


@dataclass
class LoadedIndex:
    """One version of the index, loaded: manifest, FAISS index, docstore and row order."""

    path: Path
    manifest: dict[str, Any]
    vector_index: Any  # llama_index VectorStoreIndex over a FaissVectorStore
    row_ids: list[str]  # node id of each FAISS row
    load_ms: float

    @property
    def faiss(self) -> Any:
        return self.vector_index.vector_store.client

    @property
    def docstore(self) -> Any:
        return self.vector_index.docstore

    def raw_embeddings(self) -> np.ndarray:
        """Raw (un-whitened) passage embeddings, row i for node ``row_ids[i]``."""
        return np.load(self.path / RAW_EMBEDDINGS, mmap_mode="r")

    @functools.cached_property
    def bm25(self) -> Any:
        """The version's BM25 index (loaded on first use)."""
        from app.bm25 import BM25Index

        return BM25Index.load(self.path)

    def search_ids(self, query_vector: np.ndarray, k: int) -> list[tuple[str, float]]:
        """Top-k (node id, inner-product score) for one query vector."""
        scores, rows = self.faiss.search(np.asarray(query_vector, dtype="float32").reshape(1, -1), k)
        return [(self.row_ids[row], float(score)) for row, score in zip(rows[0], scores[0], strict=True) if row >= 0]

    def search(self, query_vector: np.ndarray, k: int) -> list[tuple[Any, float]]:
        """Top-k (TextNode, inner-product score) for one query vector."""
        return [(self.docstore.get_node(i), score) for i, score in self.search_ids(query_vector, k)]


def load_index(index_dir: Path, embed_model: Any) -> LoadedIndex:
    """Load the active version; ``embed_model`` (llama-index) embeds queries of llama-index retrievers."""
    from llama_index.core import StorageContext, load_index_from_storage
    from llama_index.vector_stores.faiss import FaissVectorStore

    start = time.perf_counter()
    version = active_version(index_dir)
    manifest = json.loads((version / MANIFEST).read_text(encoding="utf-8"))
    if manifest.get("format_version") != FORMAT_VERSION:
        raise IndexError_(f"index at {index_dir} has format {manifest.get('format_version')}, this kexue reads "
                          f"{FORMAT_VERSION}: rebuild it with `kexue ingest --full`")
    store = FaissVectorStore.from_persist_path(str(version / VECTOR_STORE))
    context = StorageContext.from_defaults(persist_dir=str(version), vector_store=store)
    vector_index = load_index_from_storage(context, embed_model=embed_model)
    nodes_dict = vector_index.index_struct.nodes_dict
    row_ids = [nodes_dict[str(i)] for i in range(len(nodes_dict))]
    return LoadedIndex(version, manifest, vector_index, row_ids, (time.perf_counter() - start) * 1000)
