"""Embedding checkpoints: the vectors an unfinished ingest has computed, saved about once a minute beside the index,
so that an ingest that crashed or was killed resumes where it stopped instead of embedding everything again.

Each part is one ``part-NNNNN.npz`` (text keys and their vectors) written to a temporary name and renamed, so a
kill leaves only whole parts. The parts are keyed by the embedder's fingerprint and the exact embedded text; a
finished ingest removes them."""

from __future__ import annotations

import hashlib
import os
import shutil
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np

CHECKPOINT_DIR = ".checkpoint"
EVERY_S = 60.0  # about how much embedding work a kill can lose


def text_key(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()[:32]


class EmbeddingCheckpoint:
    """The saved parts of one index directory for one embedder."""

    def __init__(self, index_dir: Path, fingerprint: str):
        self.dir = index_dir / CHECKPOINT_DIR / fingerprint
        self._parts = len(list(self.dir.glob("part-*.npz"))) if self.dir.is_dir() else 0

    def load(self) -> dict[str, np.ndarray]:
        """Every saved vector by text key (a damaged part is skipped)."""
        vectors: dict[str, np.ndarray] = {}
        for path in sorted(self.dir.glob("part-*.npz")) if self.dir.is_dir() else []:
            try:
                with np.load(path) as part:
                    vectors.update(zip(part["keys"].tolist(), part["vectors"], strict=True))
            except (OSError, ValueError, KeyError):
                continue
        return vectors

    def save(self, keys: list[str], vectors: np.ndarray) -> None:
        self.dir.mkdir(parents=True, exist_ok=True)
        final = self.dir / f"part-{self._parts:05d}.npz"
        tmp = self.dir / f".tmp-{final.name}"
        with open(tmp, "wb") as handle:
            np.savez(handle, keys=np.array(keys), vectors=np.asarray(vectors, dtype="float32"))
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp, final)
        self._parts += 1

    def clear(self) -> None:
        shutil.rmtree(self.dir.parent, ignore_errors=True)


def embed_with_checkpoints(texts: list[str], embed: Callable[[list[str]], np.ndarray], dim: int,
                           checkpoint: EmbeddingCheckpoint, progress: Callable[[int], None] | None = None,
                           every_s: float = EVERY_S,
                           on_save: Callable[[list[int], np.ndarray], None] | None = None) -> tuple[np.ndarray, int]:
    """Vectors for ``texts``: those saved by an earlier, unfinished run are reused; the rest are embedded shortest
    first in slices, each slice saved as a part when ``every_s`` seconds of work have gathered (and announced to
    ``on_save(rows, vectors)``, rows indexing ``texts``). Returns the vectors and how many were reused."""
    keys = [text_key(t) for t in texts]
    saved = checkpoint.load()
    out = np.zeros((len(texts), dim), dtype="float32")
    todo = []
    for i, key in enumerate(keys):
        if key in saved and saved[key].shape == (dim,):
            out[i] = saved[key]
        else:
            todo.append(i)
    reused = len(texts) - len(todo)
    if progress and reused:
        progress(reused)
    todo.sort(key=lambda i: len(texts[i]))
    pending: list[int] = []
    started = time.perf_counter()
    step = 64
    for start in range(0, len(todo), step):
        rows = todo[start:start + step]
        out[rows] = embed([texts[i] for i in rows])
        pending += rows
        if progress:
            progress(len(rows))
        if time.perf_counter() - started >= every_s:
            checkpoint.save([keys[i] for i in pending], out[pending])
            if on_save:
                on_save(pending, out[pending])
            pending, started = [], time.perf_counter()
    if pending and todo:
        checkpoint.save([keys[i] for i in pending], out[pending])
    return out, reused
