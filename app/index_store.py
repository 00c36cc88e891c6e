"""The on-disk index: its layout, and loading the current version for search.

Layout of an index directory::

    CURRENT                 name of the active version (replaced atomically)
    versions/<name>/        one complete version: manifest.json, raw_embeddings.npy, and the
                            llama-index storage (docstore.json, index_store.json, FAISS vector store);
                            with BERT-whitening also whitening.npz (its sha256 is in the manifest), and
                            FAISS then holds the whitened vectors while raw_embeddings.npy keeps the raw ones
                            terms.json: the bilingual term table mined from the chunks (English -> Chinese names)
    .lock                   held by a running ingest
"""

from __future__ import annotations

import functools
import json
import re
import time
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import numpy as np

from app.whitening import Whitening, WhiteningMismatch
from app.whitening import load as load_transform

FORMAT_VERSION = 1
CURRENT = "CURRENT"
VERSIONS = "versions"
MANIFEST = "manifest.json"
RAW_EMBEDDINGS = "raw_embeddings.npy"
VECTOR_STORE = "default__vector_store.json"
TERMS = "terms.json"
# an equation's label or a reference to one: \label{eq:ei}, \eqref{eq:ei}, \tag{2}
_LABELS = re.compile(r"\\(?:label|eqref|ref|tag)\{[^}]*\}")


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
    """One version of the index, loaded: manifest, FAISS index, docstore, row order and whitening transform."""

    path: Path
    manifest: dict[str, Any]
    vector_index: Any  # llama_index VectorStoreIndex over a FaissVectorStore
    row_ids: list[str]  # node id of each FAISS row (and of each row of the raw embeddings)
    load_ms: float
    faiss: Any = None  # the FAISS index searched: the vector store's own unless replaced (eval variants)
    whitening: Whitening | None = None  # the transform of the stored vectors, applied to every query

    def __post_init__(self) -> None:
        if self.faiss is None:
            self.faiss = self.vector_index.vector_store.client

    @property
    def docstore(self) -> Any:
        return self.vector_index.docstore

    def raw_embeddings(self) -> np.ndarray:
        """Raw (un-whitened) passage embeddings, row i for node ``row_ids[i]``."""
        return np.load(self.path / RAW_EMBEDDINGS, mmap_mode="r")

    @functools.cached_property
    def _raw(self) -> np.ndarray:
        return np.load(self.path / RAW_EMBEDDINGS)

    @functools.cached_property
    def _row_of(self) -> dict[str, int]:
        return {node_id: row for row, node_id in enumerate(self.row_ids)}

    @functools.cached_property
    def bm25(self) -> Any:
        """The version's BM25 index (loaded on first use)."""
        from app.bm25 import BM25Index

        return BM25Index.load(self.path)

    @functools.cached_property
    def terms(self) -> Any:
        """The version's bilingual term table (mined from its chunks when an older version has none stored)."""
        from app.terms import TermTable

        path = self.path / TERMS
        if path.is_file():
            return TermTable(json.loads(path.read_text(encoding="utf-8")))
        return TermTable.mine(node.text for node in self.docstore.docs.values())

    @functools.cached_property
    def corpus_text(self) -> str:
        """Every chunk's text without its equation labels and references, lower-cased, one per line (to ask whether
        a name occurs anywhere in the corpus)."""
        text = "\n".join(node.text.lower() for node in self.docstore.docs.values())
        return _LABELS.sub(" ", text)

    @functools.cached_property
    def corpus_words(self) -> set[str]:
        """Every word of letters and digits in :attr:`corpus_text`."""
        return set(re.findall(r"[a-z0-9]+", self.corpus_text))

    def with_vectors(self, faiss_index: Any, whitening: Whitening | None) -> LoadedIndex:
        """The same version (docstore, BM25, raw embeddings) searched through another FAISS index of its rows
        and the transform that made it."""
        other = replace(self, faiss=faiss_index, whitening=whitening)
        other.__dict__.update({k: v for k, v in self.__dict__.items() if k in ("bm25", "_raw", "_row_of", "terms",
                                                                                 "corpus_text", "corpus_words")})
        return other

    def query_vector(self, raw_query: np.ndarray) -> np.ndarray:
        """The raw query embedding as FAISS must see it: through the version's whitening, if any, as (1, dim)."""
        query = np.asarray(raw_query, dtype="float32").reshape(1, -1)
        if query.shape[1] != self.manifest["embedder"]["dim"]:
            raise IndexError_(f"a {query.shape[1]}-dimensional query for an index of "
                              f"{self.manifest['embedder']['dim']}-dimensional raw embeddings")
        return query if self.whitening is None else self.whitening.apply(query)

    def search_ids(self, query_vector: np.ndarray, k: int) -> list[tuple[str, float]]:
        """Top-k (node id, inner-product score) for one raw query vector (whitened here when the index is)."""
        scores, rows = self.faiss.search(self.query_vector(query_vector), k)
        return [(self.row_ids[row], float(score)) for row, score in zip(rows[0], scores[0], strict=True) if row >= 0]

    def search(self, query_vector: np.ndarray, k: int) -> list[tuple[Any, float]]:
        """Top-k (TextNode, inner-product score) for one raw query vector."""
        return [(self.docstore.get_node(i), score) for i, score in self.search_ids(query_vector, k)]

    def raw_top(self, query_vector: np.ndarray, hits: list[tuple[str, float]]) -> float:
        """The best raw cosine between the query and the chunks of ``hits`` (from :meth:`search_ids`): their own
        scores for raw vectors, else recomputed from the raw embeddings, so callers always get raw e5 cosine."""
        if not hits:
            return 0.0
        if self.whitening is None:
            return hits[0][1]
        rows = [self._row_of[node_id] for node_id, _ in hits]
        return float(np.max(self._raw[rows] @ np.asarray(query_vector, dtype="float32")))


def build_progress(manifest: dict[str, Any]) -> str:
    """What an answer from a version written during an ingest should say ("" for a complete version)."""
    embedded = manifest.get("embedded")
    if not embedded:
        return ""
    share = embedded["chunks"] / max(embedded["of"], 1)
    return (f"the index is still being built: dense search covers {embedded['chunks']} of {embedded['of']} chunks "
            f"({share:.0%}), keyword search all of them")


def load_whitening(version: Path, manifest: dict[str, Any], faiss_dim: int) -> Whitening | None:
    """The version's transform (None for raw vectors); ``IndexError_`` when it does not match the index."""
    entry = manifest.get("whitening")
    want = entry["k"] if entry else manifest["embedder"]["dim"]
    if faiss_dim != want:
        raise IndexError_(f"the index at {version} stores {faiss_dim}-dimensional vectors but its manifest says "
                          f"{want}: rebuild it with `kexue ingest --full`")
    if not entry:
        return None
    try:
        return load_transform(version, entry)
    except WhiteningMismatch as exc:
        raise IndexError_(f"the whitening transform of {version} does not match its manifest ({exc}): rebuild "
                          "the index with `kexue ingest --full`") from None


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
    whitening = load_whitening(version, manifest, int(store.client.d))
    context = StorageContext.from_defaults(persist_dir=str(version), vector_store=store)
    vector_index = load_index_from_storage(context, embed_model=embed_model)
    nodes_dict = vector_index.index_struct.nodes_dict
    row_ids = [nodes_dict[str(i)] for i in range(len(nodes_dict))]
    return LoadedIndex(version, manifest, vector_index, row_ids, (time.perf_counter() - start) * 1000,
                       whitening=whitening)
