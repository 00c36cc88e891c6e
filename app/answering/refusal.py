"""Whether retrieval found anything relevant enough to answer from; if not, the blog does not cover it.

Raw e5 cosines sit in a narrow band and cross-lingual (English question, Chinese post) scores sit lower, so
the rule needs both signals to be weak: the best dense cosine under a per-language floor AND the best BM25
score under a floor. Calibrated on eval/questions/kexue.jsonl (multilingual-e5-small, raw vectors); thresholds
are settings (``refuse_*``) so another embedder can be fitted. A question is also refused when a name it asks about
(FedAvg, 纳什) occurs nowhere in the corpus and BM25 does not match the rest strongly. With both rules it refuses 13
of the 14 unanswerable questions and 2 of the 160 answerable ones there, 16 of 16 and 1 of 116 on
eval/questions/heldout.jsonl.

Whitening (``kexue ingest --whiten K``) changes which chunks dense search finds, not the scale the floors are
on: ``Retrieval.dense_top`` is always the raw e5 cosine (for a whitened index it is recomputed from the raw
embeddings of the hits). Raw cosines leave little room: a relevant post's best chunk scores 0.915 on average
against 0.897 for the best irrelevant one (gap 0.018, 1.3 standard deviations of a question's similarities);
whitening with k=256, β=γ=1 widens that to 0.467 against 0.329 (gap 0.138, 2.2 SDs) while ranking an
irrelevant chunk first more often (17.5% of questions against 11.9%), so a floor on whitened cosine would need
calibrating per transform. Reading raw cosine keeps the rule's decisions identical for every whitening setting
on the question set (see BENCH.md, "BERT-whitening").
"""

from __future__ import annotations

import re
from typing import Any

from app.answering.retriever import Retrieval
from app.settings import Settings

_NAME = re.compile(r"[A-Za-z][A-Za-z0-9]*(?:[-_][A-Za-z0-9]+)*")
_HAN = re.compile(r"[\u4e00-\u9fff]+")


def names_in(question: str, segmenter: Any = None) -> list[str]:
    """The question's names of methods, models, people and systems: words with a capital inside (FedAvg, DPO,
    ColBERT) or a digit (ZeRO-3, GPT4), and with ``segmenter`` (:class:`app.segment.Segmenter`) the Chinese proper
    names its tagger finds (纳什, 卡尔曼滤波)."""
    english = [w for w in _NAME.findall(question)
               if len(w) >= 2 and (any(c.isupper() for c in w[1:]) or any(c.isdigit() for c in w))]
    return english + (segmenter.names_of(question) if segmenter is not None else [])


def _occurs(name: str, index: Any) -> bool:
    """Whether the corpus's text (not its equation labels) writes ``name``: a Chinese name anywhere (Chinese has no
    word boundaries); any other as a word of its own (EI inside "weight" or in ``\\label{eq:ei}`` does not count), a
    compound as written, with a space or run together, after dropping its plain lower-case words ("GPT-style" is
    the name GPT)."""
    if _HAN.fullmatch(name):
        return name in index.corpus_text
    parts = [p for p in re.split(r"[-_]", name) if p and not p.islower()]
    low = "-".join(parts).lower() if parts else name.lower()
    if not re.search(r"[-_]", low):
        return low in index.corpus_words
    joined = re.sub(r"[-_]", "", low)
    return joined in index.corpus_words or any(_as_word(form, index.corpus_text)
                                               for form in (low, re.sub(r"[-_]", " ", low)))


def _as_word(form: str, text: str) -> bool:
    """Whether ``text`` holds ``form`` with no letter or digit right before or after it (``str.find`` scans the
    corpus many times faster than a regular expression with lookarounds)."""
    start = text.find(form)
    while start >= 0:
        end = start + len(form)
        if not (start and _is_word_char(text[start - 1])) and not (end < len(text) and _is_word_char(text[end])):
            return True
        start = text.find(form, start + 1)
    return False


def _is_word_char(char: str) -> bool:
    return char.isascii() and char.isalnum()


def unknown_names(question: str, index: Any, names: list[str] | None = None) -> list[str]:
    """The question's names (``names``, else found with the index's segmenter) that occur nowhere in the corpus
    (FedAvg, DP-SGD, PagedAttention, 纳什)."""
    if names is None:
        names = names_in(question, index.bm25.tokenizer.segmenter)
    return [name for name in names if not _occurs(name, index)]


def is_covered(retrieval: Retrieval, lang: str, settings: Settings) -> bool:
    """False when retrieval found nothing, when a name the question asks about occurs nowhere in the corpus (unless
    BM25 matches the rest so strongly that the name is a side remark: InfoNCE beside FlatNCE), or when both the
    dense and the BM25 match are weak (not judged while the index is being built: its dense part does not cover
    every chunk yet, so a weak dense match says nothing)."""
    if not retrieval.sources or _names_unknown(retrieval, settings):
        return False
    if retrieval.partial:
        return True
    dense_floor = settings.refuse_dense_en if lang == "en" else settings.refuse_dense_zh
    weak_dense = retrieval.dense_top < dense_floor
    weak_bm25 = retrieval.bm25_top < settings.refuse_bm25
    return not (weak_dense and weak_bm25)


def _names_unknown(retrieval: Retrieval, settings: Settings) -> bool:
    if not retrieval.unknown_names:
        return False
    return len(retrieval.unknown_names) == len(retrieval.names) or not is_clearly_covered(retrieval, settings)


def is_clearly_covered(retrieval: Retrieval, settings: Settings) -> bool:
    """Retrieval so strong (BM25 top score at least ``trust_bm25``) that a model's "the excerpts do not say"
    means its short excerpts missed the answer, not that the blog lacks it. On the question set every
    unanswerable question scores under 12.5 and the model's wrong refusals of answerable ones 14.8 or more."""
    return retrieval.bm25_top >= settings.trust_bm25
