"""The BM25 side of an ingest: the user dictionary and each node's tokens, reused from the previous version when
segmenting again would give the same ones."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from app.bm25 import TOKENIZER_VERSION, Tokenizer, load_tokens
from app.segment import Segmenter, normalise
from app.terms import TermTable
from ingest import userdict
from ingest.chunking import embed_text


@dataclass
class Keywords:
    """What a version's keyword search is written from: every node's tokens, their tokenizer, the term table."""

    tokens: dict[str, list[str]]
    tokenizer: Tokenizer
    terms: TermTable


def stale_reason(version_dir: Path | None) -> str | None:
    """Why the tokens of ``version_dir`` cannot be reused (its tokenizer is another version), or None."""
    if version_dir is None:
        return None
    old = Tokenizer.load(version_dir).version
    return None if old == TOKENIZER_VERSION else f"BM25 tokenizer changed ({old} -> {TOKENIZER_VERSION})"


def keywords(previous: Path | None, nodes: list[Any], fresh: set[str]) -> tuple[Keywords, int]:
    """The term table and user dictionary mined from ``nodes``, with every node's tokens, and how many nodes were
    segmented now (see :func:`node_tokens`)."""
    terms = TermTable.mine(node.text for node in nodes)
    posts: dict[str, list[str]] = defaultdict(list)
    for node in nodes:
        posts[node.node_id.rsplit("#", 1)[0]].append(node.text)
    words = userdict.build(("\n".join(texts) for texts in posts.values()), terms)
    tokenizer = Tokenizer(segmenter=Segmenter(words))
    tokens, segmented = node_tokens(previous, nodes, fresh, tokenizer)
    return Keywords(tokens, tokenizer, terms), segmented


def node_tokens(previous: Path | None, nodes: list[Any], fresh: set[str],
                tokenizer: Tokenizer) -> tuple[dict[str, list[str]], int]:
    """Tokens of every node and how many were segmented now: a node not in ``fresh`` keeps its tokens from the
    previous version when that version's tokenizer is this one and its text holds no word the user dictionary
    gained, lost or re-weighted (a word changes the segmentation of only the texts that contain it)."""
    old_tokens: dict[str, list[str]] = {}
    changed: set[str] = set()
    if previous is not None and stale_reason(previous) is None:
        old_tokens = load_tokens(previous)
        old_words = Tokenizer.load(previous).words
        changed = {word for word, _ in old_words.items() ^ tokenizer.words.items()}
    tokens: dict[str, list[str]] = {}
    segmented = 0
    for node in nodes:
        node_id = node.node_id
        if node_id not in fresh and node_id in old_tokens:
            text = normalise(embed_text(node)) if changed else ""
            if not any(word in text for word in changed):
                tokens[node_id] = old_tokens[node_id]
                continue
        tokens[node_id] = tokenizer(embed_text(node))
        segmented += 1
    return tokens, segmented
