"""Retrieval, citation and latency metrics: pure functions over post ids and numbers.

Retrieval counts posts, not chunks. ``ranked`` is the list of retrieved post ids, best first; repeats of a post
are dropped (its first position counts). ``relevant`` is the set of post ids that answer the question.

- hit@k = 1 if any relevant post is among the first k, else 0.
- MRR@k: reciprocal rank 1/r of the first relevant post when r <= k, else 0; averaged over questions.
- nDCG@k with binary relevance: DCG@k = sum over ranks i <= k of rel_i / log2(i + 1) (rel_i is 1 when the post
  at rank i is relevant), divided by the ideal IDCG@k = sum over i <= min(|relevant|, k) of 1 / log2(i + 1).
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence


def dedupe(ranked: Iterable[str]) -> list[str]:
    """Post ids in first-seen order, each once."""
    seen: dict[str, None] = {}
    for post_id in ranked:
        seen.setdefault(post_id, None)
    return list(seen)


def hit_at(ranked: Sequence[str], relevant: Iterable[str], k: int) -> float:
    wanted = set(relevant)
    return 1.0 if any(p in wanted for p in dedupe(ranked)[:k]) else 0.0


def reciprocal_rank(ranked: Sequence[str], relevant: Iterable[str], k: int = 10) -> float:
    wanted = set(relevant)
    for rank, post_id in enumerate(dedupe(ranked)[:k], start=1):
        if post_id in wanted:
            return 1.0 / rank
    return 0.0


def ndcg_at(ranked: Sequence[str], relevant: Iterable[str], k: int = 10) -> float:
    wanted = set(relevant)
    if not wanted:
        return 0.0
    dcg = sum(1.0 / math.log2(i + 1) for i, p in enumerate(dedupe(ranked)[:k], start=1) if p in wanted)
    ideal = sum(1.0 / math.log2(i + 1) for i in range(1, min(len(wanted), k) + 1))
    return dcg / ideal


def first_rank(ranked: Sequence[str], relevant: Iterable[str]) -> int | None:
    """1-based rank of the first relevant post, or None when none was retrieved."""
    wanted = set(relevant)
    return next((i for i, p in enumerate(dedupe(ranked), start=1) if p in wanted), None)


def retrieval_scores(ranked: Sequence[str], relevant: Iterable[str]) -> dict[str, float]:
    """The per-question retrieval scores that the report averages."""
    relevant = list(relevant)
    return {"hit@1": hit_at(ranked, relevant, 1), "hit@5": hit_at(ranked, relevant, 5),
            "mrr@10": reciprocal_rank(ranked, relevant, 10), "ndcg@10": ndcg_at(ranked, relevant, 10)}


def citation_precision(cited: Iterable[str], relevant: Iterable[str]) -> float | None:
    """Cited posts that are relevant / cited posts (distinct posts); None when nothing is cited."""
    cited_set, wanted = set(cited), set(relevant)
    return len(cited_set & wanted) / len(cited_set) if cited_set else None


def citation_recall(cited: Iterable[str], relevant: Iterable[str]) -> float | None:
    """Relevant posts cited / relevant posts; None when there are no relevant posts."""
    cited_set, wanted = set(cited), set(relevant)
    return len(cited_set & wanted) / len(wanted) if wanted else None


def mean(values: Iterable[float | None]) -> float | None:
    """Mean of the values that are not None (None when there are none)."""
    kept = [v for v in values if v is not None]
    return sum(kept) / len(kept) if kept else None


def percentile(values: Sequence[float], q: float) -> float | None:
    """The q-th percentile (0-100) with linear interpolation between order statistics (numpy's default)."""
    if not values:
        return None
    ordered = sorted(values)
    position = (len(ordered) - 1) * q / 100
    low = math.floor(position)
    high = min(low + 1, len(ordered) - 1)
    return ordered[low] + (ordered[high] - ordered[low]) * (position - low)


def agreement(pairs: Sequence[tuple[bool, bool]]) -> dict[str, float | int | None]:
    """How often two binary raters agree, and Cohen's kappa (None when undefined)."""
    n = len(pairs)
    if not n:
        return {"n": 0, "agreement": None, "kappa": None}
    observed = sum(a == b for a, b in pairs) / n
    p_a, p_b = sum(a for a, _ in pairs) / n, sum(b for _, b in pairs) / n
    expected = p_a * p_b + (1 - p_a) * (1 - p_b)
    kappa = None if expected == 1 else (observed - expected) / (1 - expected)
    return {"n": n, "agreement": observed, "kappa": kappa}
