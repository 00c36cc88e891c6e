"""The BM25 tokenizer version and user dictionary of an index: an index written by the version-1 tokenizer is
searched with it and re-segmented (never re-embedded) by the next ingest; a dictionary change re-segments only the
chunks that hold a changed word."""

from __future__ import annotations

import json
import shutil

import numpy as np
from llama_index.core.schema import TextNode

from app.bm25 import BM25_DIR, TOKENIZER_FILE, TOKENIZER_VERSION, BM25Index, Tokenizer, tokenize
from app.index_store import active_version, load_index
from app.segment import USERDICT_FILE, normalise
from ingest import bm25_step
from ingest.chunking import embed_text
from ingest.pipeline import ingest
from tests.conftest import corpus_path


def _as_version_one(version) -> None:
    """Rewrite a version's BM25 as the code before tokenizer version 2 wrote it (no tokenizer file, no userdict)."""
    index = BM25Index.load(version)
    tokens = json.loads((version / BM25_DIR / "tokens.json").read_text(encoding="utf-8"))
    docs = json.loads((version / "docstore.json").read_text(encoding="utf-8"))["docstore/data"]
    nodes = {i: TextNode.from_dict(docs[i]["__data__"]) for i in index.node_ids}
    tokens = {i: tokenize(embed_text(nodes[i])) for i in tokens}
    BM25Index.build([tokens[i] for i in index.node_ids], index.node_ids, Tokenizer(1)).save(version, tokens)
    (version / BM25_DIR / TOKENIZER_FILE).unlink()
    (version / BM25_DIR / USERDICT_FILE).unlink()


def test_an_old_tokenizer_is_searched_as_it_was_then_re_segmented_without_re_embedding(settings, embedder, tmp_path):
    folder = tmp_path / "posts"
    folder.mkdir()
    shutil.copy(corpus_path("kexue-md", "11736.md"), folder / "11736.md")
    shutil.copy(corpus_path("kexue-pages", "10648.txt"), folder / "10648.txt")
    first = ingest(settings, [str(folder)], progress=False, embedder=embedder)
    assert first.chunks_segmented == first.chunks == first.chunks_embedded
    version = active_version(settings.index_dir)
    assert json.loads((version / BM25_DIR / TOKENIZER_FILE).read_text())["version"] == TOKENIZER_VERSION
    assert Tokenizer.load(version).words.keys() == {"幂迭代", "谱范数"}
    raw = np.load(version / "raw_embeddings.npy")

    _as_version_one(version)
    old = load_index(settings.index_dir, embedder.as_llama_index())
    assert old.bm25.tokenizer.version == 1 and old.bm25.search("幂迭代 谱范数", 3)

    again = ingest(settings, [str(folder)], progress=False, embedder=embedder)
    assert again.wrote and again.retokenize_reason == f"BM25 tokenizer changed (1 -> {TOKENIZER_VERSION})"
    assert again.chunks_embedded == 0 and again.chunks_segmented == again.chunks == first.chunks
    new = load_index(settings.index_dir, embedder.as_llama_index())
    assert new.path != version and np.array_equal(np.load(new.path / "raw_embeddings.npy"), raw)
    assert new.bm25.tokenizer.version == TOKENIZER_VERSION and "谱范数" in new.bm25.vocab
    assert new.bm25.search("谱范数", 1)

    noop = ingest(settings, [str(folder)], progress=False, embedder=embedder)
    assert not noop.wrote and noop.retokenize_reason is None


def test_a_dictionary_change_re_segments_only_the_chunks_holding_the_word(settings, embedder, tmp_path):
    folder = tmp_path / "posts"
    folder.mkdir()
    shutil.copy(corpus_path("kexue-md", "11736.md"), folder / "11736.md")
    shutil.copy(corpus_path("kexue-pages", "10648.txt"), folder / "10648.txt")
    ingest(settings, [str(folder)], progress=False, embedder=embedder)
    version = active_version(settings.index_dir)
    index = load_index(settings.index_dir, embedder.as_llama_index())
    nodes = [index.docstore.get_node(i) for i in index.bm25.node_ids]
    tokenizer = Tokenizer.load(version)
    (version / BM25_DIR / USERDICT_FILE).write_text("谱范数 1\n", encoding="utf-8")
    holding = [n for n in nodes if "幂迭代" in normalise(embed_text(n))]
    tokens, segmented = bm25_step.node_tokens(version, nodes, set(), tokenizer)
    assert 0 < segmented == len(holding) < len(nodes)
    assert tokens == json.loads((version / BM25_DIR / "tokens.json").read_text(encoding="utf-8"))
