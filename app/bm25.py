"""BM25 over the index's chunks with jieba segmentation (llama-index's stock BM25 tokenizer cannot split Chinese).

Each version records the tokenizer that wrote its tokens (``bm25/tokenizer.json``; none means version 1), and its
queries are cut by the same one: version 1 is jieba on lower-cased text, version 2 is :mod:`app.segment` with the
version's user dictionary (``bm25/userdict.txt``)."""

from __future__ import annotations

import json
import logging
import re
from pathlib import Path

import numpy as np

from app.index_store import IndexError_
from app.segment import VERSION as TOKENIZER_VERSION
from app.segment import Segmenter

BM25_DIR = "bm25"
TOKENS_FILE = "tokens.json"
TOKENIZER_FILE = "tokenizer.json"
_KEEP = re.compile(r"^(?:[\u4e00-\u9fff]+|[a-z][a-z0-9_\-]*|\\[a-z]+|[0-9]+(?:\.[0-9]+)?)$")
_STOPWORDS_TEXT = (
    "的 了 是 在 和 与 也 就 都 而 及 或 并 等 被 把 对 于 这 那 其 之 以 为 中 上 下 个 一个 一些 这个 那个 这些 那些 "
    "我们 你们 他们 它们 我 你 他 它 什么 怎么 怎样 如何 为什么 吗 呢 吧 啊 呀 哪 哪些 哪个 是否 能否 可以 能 会 "
    "要 有 没有 不 还 又 很 更 最 所 如果 因为 所以 但是 但 然后 那么 就是 还是 博客 文章 作者 苏剑林 请问 介绍 "
    "a an the of to in on for and or is are was be what why how does do which that this with by as it")
STOPWORDS = frozenset(_STOPWORDS_TEXT.split(" "))


def jieba_module():
    """jieba, quiet."""
    import jieba

    jieba.setLogLevel(logging.WARNING)
    return jieba


def keep(words: list[str]) -> list[str]:
    """Chinese words, English words, numbers and LaTeX commands; no stopwords."""
    return [w for w in (w.strip() for w in words) if w and w not in STOPWORDS and _KEEP.match(w)]


def tokenize(text: str) -> list[str]:
    """Version 1: lower-cased jieba search-mode words (indexes written before version 2 are searched with it)."""
    return keep(jieba_module().lcut_for_search(text.lower()))


class Tokenizer:
    """Text to BM25 tokens as one index version does it: its tokenizer version and user dictionary."""

    def __init__(self, version: int = TOKENIZER_VERSION, segmenter: Segmenter | None = None):
        if version not in (1, TOKENIZER_VERSION):
            raise IndexError_(f"BM25 tokenizer version {version} is unknown to this kexue (it knows 1 and "
                             f"{TOKENIZER_VERSION}): rebuild the index with `kexue ingest`")
        self.version = version
        self.segmenter = segmenter or Segmenter()

    def __call__(self, text: str) -> list[str]:
        return tokenize(text) if self.version == 1 else keep(self.segmenter.words_of(text))

    @property
    def words(self) -> dict[str, int]:
        """The user dictionary (empty for version 1)."""
        return self.segmenter.words

    def save(self, folder: Path) -> None:
        self.segmenter.save(folder)
        meta = {"version": self.version, "userdict_words": len(self.words)}
        (folder / TOKENIZER_FILE).write_text(json.dumps(meta), encoding="utf-8")

    @classmethod
    def load(cls, version_dir: Path) -> Tokenizer:
        """The tokenizer a version was written with (version 1 when it does not say)."""
        folder = version_dir / BM25_DIR
        path = folder / TOKENIZER_FILE
        version = json.loads(path.read_text(encoding="utf-8"))["version"] if path.is_file() else 1
        return cls(version, Segmenter.load(folder) if version > 1 else None)


class BM25Index:
    """A bm25s index whose rows are node ids; saved beside the FAISS index in each version."""

    def __init__(self, model, node_ids: list[str], tokenizer: Tokenizer):
        self.model = model
        self.node_ids = node_ids
        self.vocab = model.vocab_dict
        self.tokenizer = tokenizer

    @classmethod
    def build(cls, token_lists: list[list[str]], node_ids: list[str], tokenizer: Tokenizer) -> BM25Index:
        import bm25s

        model = bm25s.BM25(k1=1.2, b=0.75)
        model.index(token_lists, show_progress=False)
        return cls(model, node_ids, tokenizer)

    def save(self, version_dir: Path, tokens: dict[str, list[str]]) -> None:
        folder = version_dir / BM25_DIR
        self.model.save(str(folder), show_progress=False)
        (folder / "node_ids.json").write_text(json.dumps(self.node_ids), encoding="utf-8")
        (folder / TOKENS_FILE).write_text(json.dumps(tokens, ensure_ascii=False), encoding="utf-8")
        self.tokenizer.save(folder)

    @classmethod
    def load(cls, version_dir: Path) -> BM25Index:
        import bm25s

        folder = version_dir / BM25_DIR
        model = bm25s.BM25.load(str(folder), show_progress=False, verbosity=0)
        return cls(model, json.loads((folder / "node_ids.json").read_text(encoding="utf-8")),
                   Tokenizer.load(version_dir))

    def search(self, query: str, k: int) -> list[tuple[str, float]]:
        """Top-k (node id, BM25 score) with a positive score; the query is cut as the index's documents were."""
        tokens = [t for t in self.tokenizer(query) if t in self.vocab]
        if not tokens:
            return []
        scores = self.model.get_scores(tokens)
        k = min(k, len(scores))
        top = np.argpartition(-scores, k - 1)[:k]
        top = top[np.argsort(-scores[top])]
        return [(self.node_ids[i], float(scores[i])) for i in top if scores[i] > 0]


def load_tokens(version_dir: Path) -> dict[str, list[str]]:
    """Tokens of every node of a version, so unchanged posts need no re-segmentation."""
    path = version_dir / BM25_DIR / TOKENS_FILE
    return json.loads(path.read_text(encoding="utf-8")) if path.is_file() else {}
