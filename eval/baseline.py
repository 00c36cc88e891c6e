"""``llamaindex-baseline``: llama-index's default pipeline over the same posts with the same embedder.

Each post becomes a ``Document`` (body as text, ``post_id`` and ``title`` as metadata, which llama-index by
default also embeds), split by ``SentenceSplitter()`` with its default settings (1024 tokens, overlap 200),
indexed by ``VectorStoreIndex`` (default in-memory vector store) and searched with
``index.as_retriever(similarity_top_k=CANDIDATE_FACTOR * k)``; chunks are then reduced to their posts, best
first, and cut at k posts (a post usually has several chunks; ranking posts keeps the metrics comparable).
``embed_model`` is always the app's embedder and the LLM is llama-index's mock, so nothing calls OpenAI.

The built index is cached under ``cache_dir/eval-baseline/<key>``, where the key hashes the recipe, the
embedder fingerprint and the content hash of every post of the current index, so a re-run reuses it.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import shutil
import time
from pathlib import Path
from typing import Any

from eval.variants import EvalContext, Ranking

log = logging.getLogger(__name__)
RECIPE = "sentence-splitter-default+vector-store-index-default/v1"
CANDIDATE_FACTOR = 3
INFO = "baseline.json"


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


def build(path: Path, posts: list[Any], embed_model: Any, progress: bool) -> dict[str, Any]:
    """Build the default llama-index pipeline over ``posts`` and persist it at ``path`` (atomically)."""
    from llama_index.core import Document, VectorStoreIndex
    from llama_index.core.node_parser import SentenceSplitter

    start = time.perf_counter()
    documents = [Document(text=p.body, metadata={"post_id": p.post_id, "title": p.title}, id_=p.post_id)
                 for p in posts]
    index = VectorStoreIndex.from_documents(documents, embed_model=embed_model, transformations=[SentenceSplitter()],
                                            show_progress=progress)
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
        log.info("building the llama-index baseline in %s", path)
        build(path, load_corpus_posts(context.settings, manifest, context.progress), embed_model, context.progress)
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
