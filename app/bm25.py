"""BM25 over the index's chunks with jieba segmentation (llama-index's stock BM25 tokenizer cannot split Chinese)."""

from __future__ import annotations

import json
import logging
import re
from pathlib import Path

import numpy as np

BM25_DIR = "bm25"
TOKENS_FILE = "tokens.json"
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


def tokenize(text: str) -> list[str]:
    """Lower-cased jieba search-mode words, English words, numbers and LaTeX commands; no stopwords."""
    words = jieba_module().lcut_for_search(text.lower())
    return [w for w in (w.strip() for w in words) if w and w not in STOPWORDS and _KEEP.match(w)]


class BM25Index:
    """A bm25s index whose rows are node ids; saved beside the FAISS index in each version."""

    def __init__(self, model, node_ids: list[str]):
        self.model = model
        self.node_ids = node_ids
        self.vocab = model.vocab_dict

    @classmethod
    def build(cls, token_lists: list[list[str]], node_ids: list[str]) -> BM25Index:
        import bm25s

        model = bm25s.BM25(k1=1.2, b=0.75)
        model.index(token_lists, show_progress=False)
        return cls(model, node_ids)

    def save(self, version_dir: Path, tokens: dict[str, list[str]]) -> None:
        folder = version_dir / BM25_DIR
        self.model.save(str(folder), show_progress=False)
        (folder / "node_ids.json").write_text(json.dumps(self.node_ids), encoding="utf-8")
        (folder / TOKENS_FILE).write_text(json.dumps(tokens, ensure_ascii=False), encoding="utf-8")

    @classmethod
    def load(cls, version_dir: Path) -> BM25Index:
        import bm25s

        folder = version_dir / BM25_DIR
        model = bm25s.BM25.load(str(folder), show_progress=False, verbosity=0)
        return cls(model, json.loads((folder / "node_ids.json").read_text(encoding="utf-8")))

    def search(self, query: str, k: int) -> list[tuple[str, float]]:
        """Top-k (node id, BM25 score) with a positive score."""
        tokens = [t for t in tokenize(query) if t in self.vocab]
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
