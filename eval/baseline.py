"""``llamaindex-baseline``: llama-index's default pipeline over the same posts with the same embedder.

Each post becomes a ``Document`` (body as text, ``post_id`` and ``title`` as metadata, which llama-index by
default also embeds), split by ``SentenceSplitter()`` with its default settings (1024 tokens, overlap 200),
indexed by ``VectorStoreIndex`` (default in-memory vector store) and searched with
``index.as_retriever(similarity_top_k=CANDIDATE_FACTOR * k)``; chunks are then reduced to their posts, best
first, and cut at k posts (a post usually has several chunks; ranking posts keeps the metrics comparable).
``embed_model`` is always the app's embedder and the LLM is llama-index's mock, so nothing calls OpenAI.

The built index is cached under ``cache_dir/eval-baseline/<key>``, where the key hashes the recipe, the
embedder fingerprint and the content hash of every post of the current index, so a re-run reuses it. A build
re-embeds the whole corpus (half an hour on a slow machine): it says so on stderr with an estimate from the
embedder's rate measured on a first sample of chunks, and shows a progress bar (when ``progress``).
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import shutil
import sys
import time
from pathlib import Path
from typing import Any

from eval.variants import EvalContext, Ranking

log = logging.getLogger(__name__)
RECIPE = "sentence-splitter-default+vector-store-index-default/v1"
CANDIDATE_FACTOR = 3
INFO = "baseline.json"
SAMPLE = 8  # chunks timed first for the estimate (at most a quarter of them)


def cache_key(fingerprint: str, post_hashes: dict[str, str]) -> str:
    h = hashlib.sha256(f"{RECIPE}\0{fingerprint}\0".encode())
    for post_id in sorted(post_hashes):
        h.update(f"{post_id}:{post_hashes[post_id]}\n".encode())
    return h.hexdigest()[:20]


def _llama_settings() -> None:
    """No LLM for llama-index (the mock that ``llm=None`` resolves to, without its print)."""
    from llama_index.core import Settings as LlamaSettings
    from llama_index.core.llms import MockLLM

    LlamaSettings.llm = MockLLM()


def load_corpus_posts(settings: Any, manifest: dict[str, Any], progress: bool) -> list[Any]:
    """The posts of the index's own sources (those recorded in its manifest), restricted to its posts."""
    from ingest.pipeline import IngestReport
    from ingest.source_files import collect_posts

    sources = [s for s in manifest.get("sources", []) if Path(s).expanduser().exists()] or \
        [str(p) for p in settings.corpus]
    if not sources:
        raise FileNotFoundError("cannot find the corpus of the index (its sources are gone and no corpus is set)")
    posts, _ = collect_posts(settings, sources, IngestReport(settings.index_dir, sources), progress=progress)
    wanted = manifest["posts"]
    kept = [p for p in posts if p.post_id in wanted]
    changed = sum(p.content_hash != wanted[p.post_id]["hash"] for p in kept)
    if changed or len(kept) != len(wanted):
        log.warning("baseline corpus differs from the index: %d posts changed, %d missing (re-run `kexue ingest`)",
                    changed, len(wanted) - len(kept))
    return kept


def announce(message: str) -> None:
    """One line on stderr, whatever ``progress`` says."""
    print(f"llamaindex-baseline: {message}", file=sys.stderr, flush=True)


def duration(seconds: float) -> str:
    """``12 s``, ``35 min`` or ``1.5 h``."""
    if seconds < 90:
        return f"{max(seconds, 1):.0f} s"
    return f"{seconds / 60:.0f} min" if seconds < 5400 else f"{seconds / 3600:.1f} h"


def embed_nodes(nodes: list[Any], embed_model: Any, embedder: Any, progress: bool) -> None:
    """Set each node's embedding as llama-index would, announcing the time it will take first (a timed sample)."""
    from llama_index.core.schema import MetadataMode
    from tqdm import tqdm

    texts = [node.get_content(metadata_mode=MetadataMode.EMBED) for node in nodes]
    if not texts:
        return
    tokens = [min(n, embedder.max_tokens) for n in embedder.count_tokens(texts)]
    sample = max(1, min(SAMPLE, len(texts) // 4))
    start = time.perf_counter()
    vectors = embed_model.get_text_embedding_batch(texts[:sample])
    rate = sum(tokens[:sample]) / max(time.perf_counter() - start, 1e-6)
    announce(f"embedding {len(texts)} chunks ({sum(tokens)} tokens) at {rate:.0f} tokens/s: "
             f"estimated {duration(sum(tokens[sample:]) / rate)} more")
    step = embed_model.embed_batch_size
    with tqdm(total=len(texts), initial=sample, desc="baseline embed", unit="chunk", disable=not progress) as bar:
        for first in range(sample, len(texts), step):
            vectors += embed_model.get_text_embedding_batch(texts[first:first + step])
            bar.update(len(texts[first:first + step]))
    for node, vector in zip(nodes, vectors, strict=True):
        node.embedding = vector


def build(path: Path, posts: list[Any], embedder: Any, progress: bool) -> dict[str, Any]:
    """Build the default llama-index pipeline over ``posts`` and persist it at ``path`` (atomically)."""
    from llama_index.core import Document, StorageContext, VectorStoreIndex
    from llama_index.core.ingestion import run_transformations
    from llama_index.core.node_parser import SentenceSplitter

    start = time.perf_counter()
    documents = [Document(text=p.body, metadata={"post_id": p.post_id, "title": p.title}, id_=p.post_id)
                 for p in posts]
    storage = StorageContext.from_defaults()  # what ``VectorStoreIndex.from_documents`` does, embedding split out
    for document in documents:
        storage.docstore.set_document_hash(document.id_, document.hash)
    transformations = [SentenceSplitter()]
    nodes = run_transformations(documents, transformations, show_progress=progress)
    embed_model = embedder.as_llama_index()
    embed_nodes(nodes, embed_model, embedder, progress)
    index = VectorStoreIndex(nodes=nodes, storage_context=storage, embed_model=embed_model,
                             transformations=transformations)
    tmp = path.with_name(f".{path.name}.tmp-{os.getpid()}")
    shutil.rmtree(tmp, ignore_errors=True)
    index.storage_context.persist(persist_dir=str(tmp))
    info = {"recipe": RECIPE, "posts": len(posts), "chunks": len(index.index_struct.nodes_dict),
            "build_s": round(time.perf_counter() - start, 1)}
    (tmp / INFO).write_text(json.dumps(info, indent=2), encoding="utf-8")
    path.parent.mkdir(parents=True, exist_ok=True)
    shutil.rmtree(path, ignore_errors=True)
    tmp.rename(path)
    return info


def load_or_build(context: EvalContext) -> tuple[Any, dict[str, Any], Path]:
    """The baseline ``VectorStoreIndex`` (from the cache when its key matches), its info and its folder."""
    from llama_index.core import StorageContext, load_index_from_storage

    _llama_settings()
    embedder = context.embedder
    embed_model = embedder.as_llama_index()
    manifest = context.manifest
    key = cache_key(embedder.fingerprint, {pid: meta["hash"] for pid, meta in manifest["posts"].items()})
    path = context.settings.cache_dir / "eval-baseline" / key
    if not (path / INFO).is_file():
        announce(f"no cached build for this corpus and embedder: re-embedding every post into {path}")
        build(path, load_corpus_posts(context.settings, manifest, context.progress), embedder, context.progress)
    info = json.loads((path / INFO).read_text(encoding="utf-8"))
    index = load_index_from_storage(StorageContext.from_defaults(persist_dir=str(path)), embed_model=embed_model)
    return index, info, path


class BaselineVariant:
    name = "llamaindex-baseline"

    def __init__(self, context: EvalContext):
        self.index, self.info, self.path = load_or_build(context)
        self._retrievers: dict[int, Any] = {}

    def describe(self) -> str:
        return f"llama-index defaults ({self.info['chunks']} chunks of {self.info['posts']} posts), cache {self.path}"

    def search(self, query: str, k: int) -> Ranking:
        if k not in self._retrievers:
            self._retrievers[k] = self.index.as_retriever(similarity_top_k=CANDIDATE_FACTOR * k)
        start = time.perf_counter()
        hits = self._retrievers[k].retrieve(query)
        ms = (time.perf_counter() - start) * 1000
        post_ids: list[str] = []
        titles: dict[str, str] = {}
        for hit in hits:
            post_id = str(hit.node.metadata["post_id"])
            if post_id not in titles:
                post_ids.append(post_id)
                titles[post_id] = hit.node.metadata.get("title", "")
        return Ranking(post_ids[:k], ms, titles)
