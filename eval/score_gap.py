"""How whitening changes the scores: the gap between relevant and irrelevant chunk similarities, and what the
refusal rule (which reads the best raw cosine) sees.

Per answerable question: ``relevant_top`` is the best similarity to a chunk of a relevant post,
``irrelevant_top`` the best to a chunk of any other post, ``gap`` their difference and ``gap_in_sd`` the gap
divided by the standard deviation of the question's similarities to all chunks (the scale-free figure: whitened
cosines are spread wider). Per unanswerable question: ``unanswerable_top``, its best similarity. ``auc`` is the
chance that an answerable question's best similarity beats an unanswerable one's (what a score floor can
separate). ``refusal_signal_drop`` is the mean of (best raw cosine over the corpus − best raw cosine among the
setting's top ``CANDIDATES`` chunks): what the retriever reports as ``dense_top`` loses by searching whitened
vectors.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from app.answering.retriever import CANDIDATES
from app.whitening import Whitening


def auc(positive: list[float], negative: list[float]) -> float | None:
    """P(a positive score > a negative one), ties counting half (Mann–Whitney U / (n·m))."""
    if not positive or not negative:
        return None
    pos, neg = np.asarray(positive)[:, None], np.asarray(negative)[None, :]
    return float(((pos > neg).sum() + 0.5 * (pos == neg).sum()) / (pos.size * neg.size))


def _mean(values: list[float]) -> float | None:
    return round(float(np.mean(values)), 4) if values else None


def setting_gaps(transform: Whitening | None, raw: np.ndarray, posts: np.ndarray, queries: np.ndarray,
                 records: list[dict]) -> dict[str, Any]:
    """The figures above for one transform (None: raw vectors)."""
    chunks = raw if transform is None else transform.apply(raw)
    scores = (queries if transform is None else transform.apply(queries)) @ chunks.T
    raw_scores = queries @ raw.T
    rel, irr, gap, gap_sd, yes, no, drop = [], [], [], [], [], [], []
    for i, record in enumerate(records):
        row = scores[i]
        top_rows = np.argpartition(-row, CANDIDATES)[:CANDIDATES]
        drop.append(float(raw_scores[i].max() - raw_scores[i][top_rows].max()))
        if not record["answerable"]:
            no.append(float(row.max()))
            continue
        mask = np.isin(posts, record["relevant"])
        if not mask.any():
            continue
        rel.append(float(row[mask].max()))
        irr.append(float(row[~mask].max()))
        gap.append(rel[-1] - irr[-1])
        gap_sd.append(gap[-1] / float(row.std()))
        yes.append(float(row.max()))
    return {"dim": int(chunks.shape[1]), "relevant_top": _mean(rel), "irrelevant_top": _mean(irr), "gap": _mean(gap),
            "gap_in_sd": _mean(gap_sd), "relevant_first": _mean([float(g > 0) for g in gap]),
            "answerable_top": _mean(yes), "unanswerable_top": _mean(no),
            "auc": None if auc(yes, no) is None else round(auc(yes, no), 4),
            "refusal_signal_drop": round(float(np.mean(drop)), 5) if drop else None}


def gap_table(transforms: dict[str, Whitening | None], raw: np.ndarray, posts: np.ndarray, queries: np.ndarray,
              records: list[dict]) -> dict[str, dict[str, Any]]:
    """:func:`setting_gaps` for each labelled transform; ``queries`` row i is record i's raw query embedding."""
    return {label: setting_gaps(t, raw, posts, np.asarray(queries, dtype=np.float32), records)
            for label, t in transforms.items()}
