"""Eval metrics on hand-computed cases: retrieval, citations, percentiles, agreement, the key-point matcher."""

from __future__ import annotations

import math

import pytest

from eval import keypoints
from eval.judge import parse_verdicts
from eval.metrics import (
    agreement,
    citation_precision,
    citation_recall,
    dedupe,
    first_rank,
    hit_at,
    mean,
    ndcg_at,
    percentile,
    reciprocal_rank,
    retrieval_scores,
)


def test_hit_at_k():
    ranked = ["a", "b", "c", "d", "e", "f"]
    assert hit_at(ranked, ["a"], 1) == 1.0
    assert hit_at(ranked, ["b"], 1) == 0.0
    assert hit_at(ranked, ["e"], 5) == 1.0
    assert hit_at(ranked, ["f"], 5) == 0.0
    assert hit_at([], ["a"], 5) == 0.0


def test_reciprocal_rank_and_cut_off():
    ranked = [str(i) for i in range(1, 13)]
    assert reciprocal_rank(ranked, ["1"]) == 1.0
    assert reciprocal_rank(ranked, ["4", "9"]) == 0.25
    assert reciprocal_rank(ranked, ["10"]) == pytest.approx(0.1)
    assert reciprocal_rank(ranked, ["11"]) == 0.0  # beyond 10
    assert reciprocal_rank(ranked, ["x"]) == 0.0


def test_repeated_posts_count_once():
    assert dedupe(["a", "a", "b", "a", "c"]) == ["a", "b", "c"]
    assert reciprocal_rank(["a", "a", "b"], ["b"]) == 0.5
    assert first_rank(["a", "a", "b"], ["b"]) == 2
    assert first_rank(["a"], ["b"]) is None


def test_ndcg_binary_relevance():
    # one relevant post at rank 3: DCG = 1/log2(4) = 0.5, IDCG = 1
    assert ndcg_at(["x", "y", "r"], ["r"]) == pytest.approx(0.5)
    # two relevant at ranks 1 and 3: DCG = 1 + 0.5; IDCG = 1 + 1/log2(3)
    assert ndcg_at(["r1", "x", "r2"], ["r1", "r2"]) == pytest.approx(1.5 / (1 + 1 / math.log2(3)))
    # two relevant, only one found at rank 1: 1 / (1 + 1/log2(3))
    assert ndcg_at(["r1", "x"], ["r1", "r2"]) == pytest.approx(1 / (1 + 1 / math.log2(3)))
    assert ndcg_at(["r1", "r2"], ["r1", "r2"]) == pytest.approx(1.0)
    assert ndcg_at(["x", "y", "z", "r"], ["r"], k=3) == 0.0
    assert ndcg_at(["a"], []) == 0.0


def test_retrieval_scores_bundle():
    scores = retrieval_scores(["x", "r", "y"], ["r"])
    assert scores == {"hit@1": 0.0, "hit@5": 1.0, "mrr@10": 0.5, "ndcg@10": pytest.approx(1 / math.log2(3))}


def test_citation_precision_and_recall():
    assert citation_precision(["a", "b", "b"], ["a"]) == 0.5  # distinct posts
    assert citation_precision([], ["a"]) is None
    assert citation_precision(["a"], []) == 0.0  # citing on an unanswerable question
    assert citation_recall(["a"], ["a", "b"]) == 0.5
    assert citation_recall([], ["a", "b"]) == 0.0
    assert citation_recall(["a"], []) is None


def test_mean_percentile_agreement():
    assert mean([1.0, None, 0.0]) == 0.5
    assert mean([None]) is None
    assert percentile([1, 2, 3, 4], 50) == 2.5
    assert percentile([10], 95) == 10
    assert percentile(list(range(1, 101)), 95) == pytest.approx(95.05)
    assert percentile([], 50) is None
    result = agreement([(True, True), (False, False), (True, False), (True, True)])
    # observed 0.75; p_a = 0.75, p_b = 0.5; expected 0.5; kappa = 0.5
    assert result == {"n": 4, "agreement": 0.75, "kappa": pytest.approx(0.5)}
    assert agreement([(True, True)])["kappa"] is None
    assert agreement([])["agreement"] is None


def test_matcher_normalises_latex_and_case():
    point = r"21.9938+0.2422Y-\lfloor Y/4 \rfloor"
    assert keypoints.present(point, r"时刻为 $21.9938 + 0.2422y - \left\lfloor y/4\right\rfloor$ 日")
    assert keypoints.present("结果是 π²/6", r"平方倒数和等于 $\frac{\pi^2}{6}$，结果是 pi^2/6")
    assert keypoints.present("Stop gradient", "the STOP-GRADIENT trick")
    assert not keypoints.present("高斯在1796年给出正十七边形的作法", "调和级数是发散的")
    assert keypoints.containment("", "anything") == 0.0


def test_matcher_containment_is_share_of_grams():
    # units 梯/度/消/失 -> bigrams 梯度, 度消, 消失; the answer holds 梯度 and 消失 but not 度消
    assert keypoints.containment("梯度消失", "梯度会消失") == pytest.approx(2 / 3)


def test_judge_reply_parsing():
    assert parse_verdicts("1: yes\n2: No\n3: yes", 3) == [True, False, True]
    assert parse_verdicts("1. 是\n2) 否", 2) == [True, False]
    assert parse_verdicts("1: yes", 2) is None
    assert parse_verdicts("", 1) is None
