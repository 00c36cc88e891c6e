"""``kexue ingest``: read sources, diff against the current index, embed what changed, write a new version."""

from __future__ import annotations

import time
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np
from llama_index.core.schema import TextNode
from tqdm import tqdm

from app import __version__
from app.index_store import FORMAT_VERSION, IndexNotFound, active_version, load_index, read_manifest
from app.settings import Settings
from ingest import bm25_step, whitening_step
from ingest.checkpoint import EmbeddingCheckpoint, embed_with_checkpoints
from ingest.chunking import Chunker, ChunkerSettings, embed_text
from ingest.index_writer import write_version
from ingest.lock import IndexLock
from ingest.post import Post
from ingest.progressive import MIN_CHUNKS, PartialVersions
from ingest.source_files import SourceFile, collect_posts


class NothingIngested(Exception):
    """No file could be turned into a post; ``report`` says what was skipped and why."""

    def __init__(self, message: str, report: IngestReport):
        super().__init__(message)
        self.report = report


@dataclass
class IngestReport:
    index_dir: Path
    sources: list[str]
    files: int = 0
    posts_by_source: Counter = field(default_factory=Counter)
    posts_by_format: Counter = field(default_factory=Counter)
    skipped: list[tuple[str, str]] = field(default_factory=list)
    added: list[str] = field(default_factory=list)
    changed: list[str] = field(default_factory=list)
    unchanged: list[str] = field(default_factory=list)
    deleted: list[str] = field(default_factory=list)
    rebuild_reason: str | None = None
    retokenize_reason: str | None = None  # why every chunk's BM25 tokens were segmented again (none re-embedded)
    chunks: int = 0
    chunks_embedded: int = 0
    chunks_segmented: int = 0  # chunks whose BM25 tokens were computed in this run (the rest reused)
    chunks_resumed: int = 0  # of those, vectors reused from the checkpoints of an unfinished earlier run
    partial_versions: int = 0  # versions written while embedding (usable at once: BM25 all, dense so far)
    tokens_embedded: int = 0
    wrote: bool = False
    whitening: dict[str, Any] | None = None  # the version's whitening entry (parameters, drift), None for raw
    whitening_reason: str | None = None  # why the transform was fitted (or dropped) in this run
    timings: dict[str, float] = field(default_factory=dict)

    @property
    def seconds(self) -> float:
        return sum(self.timings.values())


def rebuild_reason(old: dict[str, Any], embedder: Any, chunker: ChunkerSettings, settings: Settings) -> str | None:
    """Why the previous index cannot be extended (a full rebuild is needed), or None."""
    if old.get("format_version") != FORMAT_VERSION:
        return f"index format changed ({old.get('format_version')} -> {FORMAT_VERSION})"
    if old["embedder"]["fingerprint"] != embedder.fingerprint:
        return f"embedder changed ({old['embedder']['name']} -> {embedder.name})"
    if old["chunker"] != chunker.as_dict():
        return f"chunker settings changed ({old['chunker']} -> {chunker.as_dict()})"
    wanted = {"kind": settings.index_kind, "hnsw_m": settings.hnsw_m}
    if old["index"] != wanted:
        return f"index settings changed ({old['index']} -> {wanted})"
    return None


def _sort_key(post: Post) -> tuple[str, str]:
    return (post.date, post.post_id.zfill(8))


def _manifest(posts: list[Post], origin: dict[str, SourceFile], counts: dict[str, int], embedder: Any,
              chunker: ChunkerSettings, settings: Settings, report: IngestReport) -> dict[str, Any]:
    return {
        "format_version": FORMAT_VERSION,
        "kexue_version": __version__,
        "created": datetime.now(UTC).isoformat(timespec="seconds"),
        "embedder": {"name": embedder.name, "fingerprint": embedder.fingerprint, "dim": embedder.dim,
                     "max_tokens": embedder.max_tokens},
        "chunker": chunker.as_dict(),
        "index": {"kind": settings.index_kind, "hnsw_m": settings.hnsw_m},
        "whitening": report.whitening,
        "sources": report.sources,
        "posts": {p.post_id: {"hash": p.content_hash, "title": p.title, "date": p.date, "url": p.url,
                              "format": p.format, "source": origin[p.post_id].root,
                              "file": origin[p.post_id].path, "excerpt": p.excerpt, "chunks": counts[p.post_id]}
                  for p in posts},
        "stats": {"posts": len(posts), "chunks": sum(counts.values()), "dim": embedder.dim,
                  "by_source": dict(report.posts_by_source), "by_format": dict(report.posts_by_format)},
        "skipped": [{"file": f, "reason": r} for f, r in report.skipped],
    }


def ingest(settings: Settings, sources: Sequence[str], *, full: bool = False, refit_whitening: bool = False,
           progress: bool = True, embedder: Any = None) -> IngestReport:
    """Bring the index at ``settings.index_dir`` in line with ``sources`` (paths or crawl URLs).

    Whitening (settings ``whiten``, ``whiten_beta``, ``whiten_gamma``; the index's own choice when they are not
    set): the stored transform is reused unless the parameters change, the index is rebuilt, or
    ``refit_whitening``; changing it re-uses the cached raw embeddings, nothing is re-embedded."""
    report = IngestReport(settings.index_dir, [str(s) for s in sources])
    with IndexLock(settings.index_dir):
        start = time.perf_counter()
        posts, origin = collect_posts(settings, sources, report, progress=progress)
        report.timings["load"] = time.perf_counter() - start
        if not posts:
            raise NothingIngested(f"nothing could be ingested from {', '.join(report.sources)} "
                                  f"({report.files} files, {len(report.skipped)} skipped)", report)
        start = time.perf_counter()
        if embedder is None:
            from app.models.embedder import load_embedder
            embedder = load_embedder(settings)
        chunker_settings = ChunkerSettings(settings.chunk_max_tokens, embedder.max_tokens, settings.chunk_min_chars)
        try:
            old = read_manifest(settings.index_dir)
        except IndexNotFound:
            old = None
        report.rebuild_reason = "no index yet" if old is None else (
            "--full requested" if full else rebuild_reason(old, embedder, chunker_settings, settings))
        old_posts = {} if report.rebuild_reason else old["posts"]
        posts.sort(key=_sort_key)
        for post in posts:
            before = old_posts.get(post.post_id)
            bucket = report.added if before is None else (
                report.unchanged if before["hash"] == post.content_hash else report.changed)
            bucket.append(post.post_id)
        report.deleted = sorted(set(old["posts"]) - set(origin)) if old else []
        whiten = whitening_step.plan(settings, old, active_version(settings.index_dir) if old else None,
                                     report.rebuild_reason, refit_whitening, embedder.dim)
        report.whitening_reason = whiten.reason
        if not report.rebuild_reason:
            report.retokenize_reason = bm25_step.stale_reason(active_version(settings.index_dir))
        report.timings["plan"] = time.perf_counter() - start
        if not (report.rebuild_reason or report.added or report.changed or report.deleted or whiten.reason
                or old.get("embedded") or report.retokenize_reason):
            report.chunks, report.whitening = old["stats"]["chunks"], old.get("whitening")
            return report
        _build(settings, posts, origin, old_posts, report, embedder, chunker_settings, whiten, progress)
        report.wrote = True
    return report


def _build(settings: Settings, posts: list[Post], origin: dict[str, SourceFile], old_posts: dict[str, Any],
           report: IngestReport, embedder: Any, chunker_settings: ChunkerSettings,
           whiten: whitening_step.WhiteningPlan,
           progress: bool) -> None:
    start = time.perf_counter()
    reuse = set(report.unchanged)
    previous = load_index(settings.index_dir, embedder.as_llama_index()) if reuse else None
    old_rows = {node_id: row for row, node_id in enumerate(previous.row_ids)} if previous else {}
    chunker = Chunker(embedder.count_tokens, chunker_settings)
    nodes_of: dict[str, list[TextNode]] = {}
    fresh: list[TextNode] = []
    for post in tqdm(posts, desc="chunk", unit="post", disable=not progress, leave=False):
        if post.post_id in reuse:
            ids = [f"{post.post_id}#{i}" for i in range(old_posts[post.post_id]["chunks"])]
            nodes_of[post.post_id] = [previous.docstore.get_node(i) for i in ids]
            fresh.extend(n for n in nodes_of[post.post_id] if n.node_id not in old_rows)  # a partial version's
        else:
            nodes_of[post.post_id] = chunker.chunk(post)
            fresh.extend(nodes_of[post.post_id])
    whitening_step.check_rows(whiten, sum(len(nodes) for nodes in nodes_of.values()))
    report.timings["chunk"] = time.perf_counter() - start

    start = time.perf_counter()
    texts = [embed_text(n) for n in fresh]
    nodes = [n for p in posts for n in nodes_of[p.post_id]]
    keywords, report.chunks_segmented = bm25_step.keywords(previous.path if previous else None, nodes,
                                                           {n.node_id for n in fresh})
    counts = {pid: len(ns) for pid, ns in nodes_of.items()}
    report.chunks, report.chunks_embedded = len(nodes), len(fresh)
    old_raw = previous.raw_embeddings() if previous else None
    known = {n.node_id: old_raw[old_rows[n.node_id]] for n in nodes if n.node_id in old_rows}
    report.timings["bm25"] = time.perf_counter() - start

    start = time.perf_counter()
    partial = None
    if settings.progressive_s > 0 and whiten.k == 0 and len(fresh) >= MIN_CHUNKS:
        partial = PartialVersions(settings, nodes, keywords, _manifest(posts, origin, counts, embedder,
                                  chunker_settings, settings, report), embedder, settings.progressive_s)
        partial.publish(known)

    def on_save(rows: list[int], vectors: np.ndarray) -> None:
        known.update({fresh[i].node_id: v for i, v in zip(rows, vectors, strict=True)})
        if partial:
            partial.maybe_publish(known)

    report.tokens_embedded = int(sum(embedder.count_tokens(texts))) if texts else 0
    checkpoint = EmbeddingCheckpoint(settings.index_dir, embedder.fingerprint)
    with tqdm(total=len(texts), desc="embed", unit="chunk", disable=not progress) as bar:
        bar.set_postfix(posts=len(posts) - len(reuse), tokens=report.tokens_embedded)
        vectors, report.chunks_resumed = embed_with_checkpoints(
            texts, embedder.embed_passages, embedder.dim, checkpoint, bar.update, settings.checkpoint_s,
            on_save) if texts else (None, 0)
    report.partial_versions = partial.written if partial else 0
    fresh_rows = {n.node_id: i for i, n in enumerate(fresh)}
    report.timings["embed"] = time.perf_counter() - start

    start = time.perf_counter()
    raw = np.empty((len(nodes), embedder.dim), dtype="float32")
    for i, node in enumerate(nodes):
        raw[i] = vectors[fresh_rows[node.node_id]] if node.node_id in fresh_rows else known[node.node_id]
    transform, report.whitening = whitening_step.apply(whiten, raw, len(fresh))
    manifest = _manifest(posts, origin, counts, embedder, chunker_settings, settings, report)
    write_version(settings.index_dir, nodes, raw, keywords, manifest, embedder.as_llama_index(),
                  settings.index_kind, settings.hnsw_m, transform)
    checkpoint.clear()
    report.timings["write"] = time.perf_counter() - start
