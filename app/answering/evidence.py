"""Choose the evidence an answer is written from: the sentences of the top posts that bear on the question, with the
neighbours they need to be understood, display equations and code blocks kept whole, one excerpt per section.

Each post's chunks are ranked by the question's embedding (cosine with the chunk's stored raw embedding, when dense
retrieval ran) plus term overlap. Every sentence of the posts' best chunks is then scored on one scale: term overlap
with the question, its chunk's rank within its post and its own embedding similarity (scaled over all the posts'
candidates), times its post's fused retrieval score relative to the best post's to the power ``POST_POWER``.
Sentences are taken best first under one character budget, so a post that answers the question takes most of it
and a post that only shares a few words takes little or nothing. An excerpt is labelled
``[n] 《title》 (date) § section`` by the prompt."""

from __future__ import annotations

import dataclasses
import re
from dataclasses import dataclass
from typing import Any

import numpy as np

from app.answering.textmatch import clean_sentence, overlap
from app.answering.types import Source
from ingest.latex_spans import sentences

CHUNKS_PER_POST = 6
EMBEDDED_SENTENCES = 48  # the most sentences of a post whose similarity to the question is computed
_SUMMARY = re.compile(r"小结|总结|结论|结语|conclusion|summary", re.I)
SUMMARY_BONUS = 0.15  # a post's own summary section says its answer in a few sentences
CHUNK_WEIGHT = 0.3  # how much the chunk's rank within its post adds to a sentence's own overlap
SENTENCE_WEIGHT = 0.5  # how much the sentence's own embedding similarity adds (when the embedder is given)
MIN_UNIT_CHARS = 6
GAP = " …… "
# a sentence that opens with one of these leans on the one before it
_LEANS_BACK = re.compile(r"^(这|此|因此|所以|于是|从而|它|其|那么|但|而|也就是说|换言之|即|故|上式|该式|写出|可以看到|"
                         r"This|That|These|Thus|So |Hence|It |Therefore|But |Where|Here)")
# a sentence that ends like this introduces what follows (an equation, a list, code)
_LEANS_FORWARD = re.compile(r"([：:]|为|如下|是|得|有)\s*$")
_BLOCK = re.compile(r"^\s*(\$\$|\\begin\{|\\\[|```|~~~)")
_NOISE = re.compile(r"^\s*(#|\||!\[|<)|^\*\*[^*]{0,60}\*\*$|(示意图|图示|如图所示)$|^\s*(```|~~~)\w*\s*(```|~~~)\s*$")
_ASKS_BACK = re.compile(r"[？?]\s*$")  # the post's own question: it introduces an answer, it is not one
SCORE_FLOOR = 0.25  # evidence stops at sentences scoring under this share of the best one, budget left or not
SEED_SHARE = 0.9  # a later post whose best sentence scores this share of the best one's gets that sentence in
POST_POWER = 4  # a sentence's score is scaled by (its post's fused score / the best post's) to this power
_ASKS_FORMULA = re.compile(r"公式|表达式|等式|方程|定义|怎么算|如何计算|推导|formula|equation|express|defin|derive",
                           re.I)
FORMULA_BONUS = 0.3  # for a formula question, a sentence that introduces a display equation
_ASKS_CODE = re.compile(r"代码|怎么写|写法|\bcode\b|snippet|implement|keras|pytorch|tensorflow|numpy|python", re.I)
CODE_BONUS = 1.0  # for a code question, a code block of one of the post's best chunks or best code chunks
CODE_CHUNKS = 2  # for a code question, the post's best chunks with code join the candidates however they rank


@dataclass
class Unit:
    """One sentence (or whole display equation / code block) of a chunk, with its place and score."""

    chunk: int  # index of the chunk in the post's candidate list
    position: int  # index of the sentence in the chunk
    text: str
    score: float = 0.0
    noise: bool = False  # a heading, table, image, caption or empty code block: never quoted

    @property
    def is_block(self) -> bool:
        return bool(_BLOCK.match(self.text))

    @property
    def is_code(self) -> bool:
        return self.text.lstrip().startswith(("```", "~~~"))


def _post_chunks(index: Any, post_id: str) -> list[Any]:
    count = index.manifest["posts"][post_id]["chunks"]
    return [index.docstore.get_node(f"{post_id}#{i}") for i in range(count)]


def rank_chunks(question: str, index: Any, post_id: str, query_vector: np.ndarray | None) -> list[tuple[Any, float]]:
    """A post's chunks, best first, each with a relevance in [0, 1] (cosine and overlap, each scaled over the post)."""
    nodes = _post_chunks(index, post_id)
    lexical = np.array([overlap(question, n.text) for n in nodes], dtype="float32")
    scores = _scaled(lexical)
    rows = [index._row_of.get(n.node_id) for n in nodes]
    if query_vector is not None and None not in rows:  # a version written during an ingest may lack some vectors
        scores = 0.5 * scores + 0.5 * _scaled(index._raw[rows] @ np.asarray(query_vector, dtype="float32"))
    scores = scores + SUMMARY_BONUS * np.array([bool(_SUMMARY.search(n.metadata.get("section", ""))) for n in nodes])
    order = sorted(range(len(nodes)), key=lambda i: (-scores[i], i))
    return [(nodes[i], float(scores[i])) for i in order]


def _scaled(values: np.ndarray) -> np.ndarray:
    low, high = float(values.min()), float(values.max())
    return (values - low) / (high - low) if high > low else np.ones_like(values)


def units_of(question: str, texts: list[tuple[str, float]], similarity: Any = None) -> list[list[Unit]]:
    """The sentences of each (text, relevance) pair, scored; headings, tables, images and fragments score nothing.
    ``similarity`` (texts -> cosines with the question) adds the embedder's judgement, scaled over the candidates."""
    result = []
    for c, (text_of_chunk, relevance) in enumerate(texts):
        units = []
        for p, sentence in enumerate(sentences(text_of_chunk.replace(GAP, "\n"))):
            text = sentence if _BLOCK.match(sentence) else clean_sentence(sentence)
            noise = bool(_NOISE.search(text))
            score = 0.0 if len(text) < MIN_UNIT_CHARS or noise or _ASKS_BACK.search(text) else \
                overlap(question, text) + CHUNK_WEIGHT * relevance
            units.append(Unit(c, p, text, score, noise))
        result.append(units)
    if similarity is not None:
        _add_similarity(result, similarity)
    for units in result:
        if _ASKS_FORMULA.search(question):
            for unit, after in zip(units, units[1:], strict=False):
                if after.is_block and unit.score > 0 and not unit.is_block:
                    unit.score += FORMULA_BONUS
        if _ASKS_CODE.search(question):
            for unit in units:
                if unit.is_code and not unit.noise:
                    unit.score += CODE_BONUS
    return result


def _add_similarity(chunk_units: list[list[Unit]], similarity: Any) -> None:
    """Add ``SENTENCE_WEIGHT`` x the sentence's cosine with the question, scaled to [0, 1] over the candidates."""
    scored = sorted((u for units in chunk_units for u in units if u.score > 0 and not u.is_block),
                    key=lambda u: -u.score)[:EMBEDDED_SENTENCES]
    if len(scored) < 2:
        return
    cosines = _scaled(np.asarray(similarity([u.text for u in scored]), dtype="float32"))
    for unit, cosine in zip(scored, cosines, strict=True):
        unit.score += SENTENCE_WEIGHT * float(cosine)


def _with_neighbours(units: list[Unit], i: int) -> list[int]:
    """Sentence ``i`` plus what it needs: the sentence it leans back on, the equation or code it introduces, the
    sentence that introduces an equation."""
    picked = [i]
    unit = units[i]
    if i > 0 and not units[i - 1].noise and (unit.is_block or _LEANS_BACK.match(unit.text)):
        picked.insert(0, i - 1)
    if i + 1 < len(units) and not units[i + 1].noise and \
            (units[i + 1].is_block or (_LEANS_FORWARD.search(unit.text) and len(unit.text) < 60)):
        picked.append(i + 1)
    return picked


def pick_units(chunk_units: list[list[Unit]], budget: int, floor: float = 0.0,
               first: list[tuple[int, int]] | None = None) -> list[Unit]:
    """Take sentences best first, each with its neighbours, while they fit ``budget`` characters and score at least
    ``floor`` x the best one's; the best one is taken even when it alone is longer (cut only if it is prose).
    ``first`` (chunk, sentence) pairs are taken right after the best one, whatever they score."""
    candidates = sorted(((u.score, c, p) for c, units in enumerate(chunk_units) for p, u in enumerate(units)
                         if u.score > 0), reverse=True)
    candidates = [item for item in candidates if item[0] >= floor * candidates[0][0]] if candidates else []
    if candidates and first:
        seeds = [(chunk_units[c][p].score, c, p) for c, p in first]
        candidates = candidates[:1] + seeds + [item for item in candidates[1:] if item not in seeds]
    chosen: dict[tuple[int, int], Unit] = {}
    used = 0
    for _, c, p in candidates:
        if (c, p) in chosen:
            continue
        group = [(c, q) for q in _with_neighbours(chunk_units[c], p) if (c, q) not in chosen]
        size = sum(len(chunk_units[c][q].text) for _, q in group)
        if used + size > budget:
            if chosen:
                continue
            if not chunk_units[c][p].is_block:
                group, size = [(c, p)], min(len(chunk_units[c][p].text), budget)
        for key in group:
            chosen[key] = chunk_units[key[0]][key[1]]
        used += size
        if used >= budget:
            break
    return [chosen[key] for key in sorted(chosen)]


def excerpt_text(units: list[Unit], budget: int | None = None) -> str:
    """The chosen sentences of one chunk in their order, a gap mark where sentences were skipped."""
    parts: list[str] = []
    for i, unit in enumerate(units):
        if i and unit.position != units[i - 1].position + 1:
            parts.append(GAP)
        elif i:
            parts.append("\n" if unit.is_block or units[i - 1].is_block else "")
        parts.append(unit.text)
    text = "".join(parts).strip()
    return text[:budget] if budget and len(text) > budget and not _BLOCK.search(text) else text


def _seeds(chunk_units: list[list[Unit]], owners: list[int]) -> list[tuple[int, int]]:
    """The best sentence of each post after the first whose own score (before its post's weight) is at least
    ``SEED_SHARE`` of the best sentence's: a question about two posts gets evidence from both, however far
    apart retrieval scored them."""
    best_of: dict[int, tuple[float, int, int]] = {}
    for c, (units, owner) in enumerate(zip(chunk_units, owners, strict=True)):
        for p, unit in enumerate(units):
            if unit.score > best_of.get(owner, (0.0, 0, 0))[0]:
                best_of[owner] = (unit.score, c, p)
    top = max((score for score, _, _ in best_of.values()), default=0.0)
    return [(c, p) for owner, (score, c, p) in sorted(best_of.items()) if owner > 0 and score >= SEED_SHARE * top]


def select_evidence(question: str, posts: list[Source], index: Any, query_vector: np.ndarray | None,
                    budget: int, embedder: Any = None) -> list[Source]:
    """The excerpts the answer is written from, numbered 1..n: the posts' best sentences (with neighbours) taken
    best first under one ``budget`` shared by all posts, one excerpt per chunk (so per section), each post's
    excerpts in the post's order, posts in retrieval order."""
    pools: list[tuple[Source, list[Any]]] = []  # (post, its candidate chunks)
    texts: list[tuple[str, float]] = []
    owners: list[int] = []  # the pool each candidate chunk belongs to
    for p, post in enumerate(posts):
        if post.excerpt or post.post_id not in index.manifest["posts"]:
            pools.append((post, [None]))
            texts.append((post.text, 1.0))
        else:
            ranked = rank_chunks(question, index, post.post_id, query_vector)
            chunks = ranked[:CHUNKS_PER_POST]
            if _ASKS_CODE.search(question):  # the post's best code, even from a chunk ranked lower
                chunks += [item for item in ranked[CHUNKS_PER_POST:] if "```" in item[0].text][:CODE_CHUNKS]
            pools.append((post, [node for node, _ in chunks]))
            texts.extend((node.text, rel) for node, rel in chunks)
        owners.extend([p] * len(pools[-1][1]))
    similarity = None
    if embedder is not None and query_vector is not None:
        def similarity(texts: list[str]) -> np.ndarray:
            return embedder.embed_passages(texts) @ np.asarray(query_vector, dtype="float32")
    chunk_units = units_of(question, texts, similarity)
    seeds = _seeds(chunk_units, owners)
    best = max((post.score for post in posts), default=0.0)
    for units, owner in zip(chunk_units, owners, strict=True):
        weight = (posts[owner].score / best) ** POST_POWER if best > 0 else 1.0
        for unit in units:
            unit.score *= weight
    by_chunk: dict[int, list[Unit]] = {}
    for unit in pick_units(chunk_units, budget, SCORE_FLOOR, seeds):
        by_chunk.setdefault(unit.chunk, []).append(unit)
    first_chunk = [sum(len(nodes) for _, nodes in pools[:p]) for p in range(len(pools))]
    lead = max(by_chunk, key=lambda c: max(u.score for u in by_chunk[c]), default=None)
    placed: list[tuple[int, Source]] = []
    for p, (post, nodes) in enumerate(pools):
        mine = [c for c in by_chunk if owners[c] == p]
        mine.sort(key=lambda c: (nodes[c - first_chunk[p]].metadata.get("position", c)
                                 if nodes[c - first_chunk[p]] is not None else c))
        for c in mine:
            node = nodes[c - first_chunk[p]]
            section = node.metadata.get("section", "") if node is not None else post.section
            placed.append((c, dataclasses.replace(post, section=section, text=excerpt_text(by_chunk[c]))))
    placed.sort(key=lambda item: item[0] != lead)  # the answer opens with the section of the best sentence
    excerpts = [excerpt for _, excerpt in placed]
    return [dataclasses.replace(s, rank=i) for i, s in enumerate(excerpts, start=1)]
