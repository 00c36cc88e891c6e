"""Write a complete index version beside the old one, then switch to it atomically."""

from __future__ import annotations

import json
import os
import secrets
import shutil
import time
from pathlib import Path
from typing import Any

import faiss
import numpy as np
from llama_index.core import StorageContext, VectorStoreIndex
from llama_index.core.schema import TextNode
from llama_index.vector_stores.faiss import FaissVectorStore

from app.bm25 import BM25Index
from app.index_store import CURRENT, MANIFEST, RAW_EMBEDDINGS, TERMS, VERSIONS, current_version
from app.whitening import Whitening
from ingest.bm25_step import Keywords

TMP_PREFIX = ".tmp-"


def build_faiss(dim: int, kind: str, hnsw_m: int) -> Any:
    """Exact inner product (``flat``) or an HNSW graph over inner product (``hnsw``)."""
    if kind == "flat":
        return faiss.IndexFlatIP(dim)
    if kind == "hnsw":
        index = faiss.IndexHNSWFlat(dim, hnsw_m, faiss.METRIC_INNER_PRODUCT)
        index.hnsw.efConstruction = 200
        index.hnsw.efSearch = 128
        return index
    raise ValueError(f"index_kind must be 'flat' or 'hnsw', not {kind!r}")


def _fsync_tree(path: Path) -> None:
    for p in [*path.rglob("*"), path]:
        fd = os.open(p, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)


def _switch_current(index_dir: Path, name: str) -> None:
    tmp = index_dir / (CURRENT + ".tmp")
    with open(tmp, "w", encoding="utf-8") as fh:
        fh.write(name + "\n")
        fh.flush()
        os.fsync(fh.fileno())
    os.replace(tmp, index_dir / CURRENT)
    fd = os.open(index_dir, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def prune_versions(index_dir: Path, keep: int = 2) -> None:
    """Remove unfinished builds and all but the newest ``keep`` complete versions (caller holds the lock)."""
    root = index_dir / VERSIONS
    if not root.is_dir():
        return
    active = current_version(index_dir)
    complete = []
    for path in root.iterdir():
        if path.name.startswith(TMP_PREFIX) or not (path / MANIFEST).is_file():
            shutil.rmtree(path, ignore_errors=True)
        elif path != active:
            complete.append(path)
    complete.sort(key=lambda p: p.stat().st_mtime, reverse=True)
    for path in complete[max(0, keep - 1):]:
        shutil.rmtree(path, ignore_errors=True)


def write_version(index_dir: Path, nodes: list[TextNode], raw: np.ndarray, keywords: Keywords,
                  manifest: dict[str, Any], embed_model: Any, index_kind: str, hnsw_m: int,
                  whitening: Whitening | None = None, vector_rows: list[int] | None = None) -> Path:
    """Build a new version from nodes, their raw vectors and their keyword search (BM25 tokens, tokenizer and
    term table), then make it current.

    FAISS gets the raw vectors, or with ``whitening`` their whitened images; the transform is saved in the
    same version and ``manifest["whitening"]`` (the caller's entry, None without whitening) gains its file
    name and sha256. With ``vector_rows`` (a version written while the embedding is still running) only those
    nodes have vectors (``raw`` holds theirs, in that order); every node is in the docstore and in BM25."""
    root = index_dir / VERSIONS
    root.mkdir(parents=True, exist_ok=True)
    name = f"v{time.strftime('%Y%m%dT%H%M%S')}-{secrets.token_hex(3)}"
    tmp = root / (TMP_PREFIX + name)
    tmp.mkdir()
    embedded = nodes if vector_rows is None else [nodes[i] for i in vector_rows]
    raw = np.ascontiguousarray(raw, dtype="float32")
    stored = raw if whitening is None else whitening.apply(raw)
    entry = None if whitening is None else {**(manifest.get("whitening") or {}), **whitening.save(tmp)}
    manifest = {**manifest, "whitening": entry}
    for node, vector in zip(embedded, stored, strict=True):
        node.embedding = vector.tolist()
    store = FaissVectorStore(faiss_index=build_faiss(int(stored.shape[1]), index_kind, hnsw_m))
    context = StorageContext.from_defaults(vector_store=store)
    VectorStoreIndex(embedded, storage_context=context, embed_model=embed_model, insert_batch_size=4096)
    if vector_rows is not None:
        with_vectors = set(vector_rows)
        context.docstore.add_documents([n for i, n in enumerate(nodes) if i not in with_vectors])
    for node in embedded:
        node.embedding = None
    context.persist(persist_dir=str(tmp))
    node_ids = [n.node_id for n in nodes]
    tokens = keywords.tokens
    BM25Index.build([tokens[i] for i in node_ids], node_ids, keywords.tokenizer).save(tmp, tokens)
    np.save(tmp / RAW_EMBEDDINGS, raw)
    (tmp / TERMS).write_text(json.dumps(keywords.terms.en_to_zh, ensure_ascii=False), encoding="utf-8")
    (tmp / MANIFEST).write_text(json.dumps(manifest, ensure_ascii=False, indent=1), encoding="utf-8")
    _fsync_tree(tmp)
    final = root / name
    os.rename(tmp, final)
    _switch_current(index_dir, name)
    prune_versions(index_dir)
    return final
