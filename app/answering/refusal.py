"""Whether retrieval found anything relevant enough to answer from; if not, the blog does not cover it.

Raw e5 cosines sit in a narrow band and cross-lingual (English question, Chinese post) scores sit lower, so
the rule needs both signals to be weak: the best dense cosine under a per-language floor AND the best BM25
score under a floor. Calibrated on eval/questions/kexue.jsonl (multilingual-e5-small, raw vectors): it
refuses 10 of the 14 unanswerable questions and 2 of the 160 answerable ones; the model's own "the
excerpts do not say" catches more. Thresholds are settings (``refuse_*``) so another embedder can be fitted.
"""

from __future__ import annotations

from app.answering.retriever import Retrieval
from app.settings import Settings


def is_covered(retrieval: Retrieval, lang: str, settings: Settings) -> bool:
    if not retrieval.sources:
        return False
    dense_floor = settings.refuse_dense_en if lang == "en" else settings.refuse_dense_zh
    weak_dense = retrieval.dense_top < dense_floor
    weak_bm25 = retrieval.bm25_top < settings.refuse_bm25
    return not (weak_dense and weak_bm25)
