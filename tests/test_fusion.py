"""Reciprocal rank fusion, score fusion and the post-level score on crafted rankings; which fusion a question gets."""

import pytest

from app.answering.retriever import SUPPORTING_CHUNKS, Retriever, post_fusion, post_score, rrf, score_fusion


def test_rrf_sums_reciprocal_ranks_over_the_rankings():
    fused = rrf([["a#0", "b#0"], ["b#0", "c#0"]], k=60)
    assert fused["b#0"] == 1 / 62 + 1 / 61
    assert fused["a#0"] == 1 / 61 and fused["c#0"] == 1 / 62
    assert max(fused, key=fused.get) == "b#0"


def test_a_post_matching_in_several_sections_outranks_one_lucky_chunk():
    fused = rrf([["lucky#3", "steady#0", "steady#4", "steady#7", "other#1"],
                 ["steady#0", "lucky#3", "steady#7", "steady#4", "other#1"]])
    steady = post_score(sorted((v for k, v in fused.items() if k.startswith("steady")), reverse=True))
    lucky = post_score([fused["lucky#3"]])
    assert lucky == fused["lucky#3"] and steady > lucky


def test_only_a_few_supporting_chunks_count_and_share_zero_keeps_the_best_chunk():
    scores = [0.03, 0.02, 0.02, 0.02, 0.02, 0.02]
    assert post_score(scores, 0.0) == 0.03
    assert post_score(scores, 0.5) == 0.03 + 0.5 * 0.02 * SUPPORTING_CHUNKS


def test_score_fusion_scales_each_ranking_and_weighs_them():
    dense = [("a#0", 0.92), ("b#0", 0.90), ("c#0", 0.88)]
    bm25 = [("c#0", 30.0), ("a#0", 10.0)]
    fused = score_fusion([dense, bm25], [0.55, 0.45])
    assert fused["a#0"] == pytest.approx(0.55 * 1.0 + 0.45 * 0.0)
    assert fused["b#0"] == pytest.approx(0.55 * 0.5), "missing from BM25: its lowest, 0"
    assert fused["c#0"] == pytest.approx(0.55 * 0.0 + 0.45 * 1.0)
    assert score_fusion([[("x#0", 3.0)], []], [0.5, 0.5]) == {"x#0": 0.5}, "a single hit scales to 1"


def test_a_post_matched_by_one_section_in_dense_and_another_in_bm25_gets_both():
    dense = [("steady#1", 0.92), ("lucky#0", 0.91), ("x#0", 0.80)]
    bm25 = [("steady#5", 20.0), ("lucky#0", 19.0), ("x#0", 2.0)]
    by_chunk = score_fusion([dense, bm25], [0.55, 0.45])
    assert max(by_chunk, key=by_chunk.get) == "lucky#0", "chunk by chunk, steady's two matches are split"
    by_post = post_fusion([dense, bm25], [0.55, 0.45])
    assert by_post["steady"] == pytest.approx(1.0) and by_post["steady"] > by_post["lucky"] > by_post["x"] == 0.0


def test_post_fusion_counts_a_few_supporting_chunks_within_each_search():
    dense = [("a#0", 1.0), ("b#0", 0.9), ("b#1", 0.9), ("b#2", 0.9), ("b#3", 0.9), ("c#0", 0.0)]
    fused = post_fusion([dense], [1.0], share=0.5)
    assert fused["b"] > fused["a"] and fused["c"] == 0.0
    assert post_fusion([dense], [1.0], share=0.0)["a"] == pytest.approx(1.0), "share 0 keeps the best chunk"


def test_chinese_questions_fuse_scores_and_english_ones_ranks(monkeypatch):
    calls = []
    retriever = Retriever.__new__(Retriever)
    retriever.expand_terms = False
    index = type("Index", (), {})()
    index.search_ids = lambda vector, k: [("a#0", 0.9), ("b#0", 0.8)]
    index.raw_top = lambda vector, hits: 0.9
    index.bm25 = type("BM25", (), {"search": staticmethod(lambda q, k: [("b#0", 12.0), ("a#0", 2.0)])})()
    retriever.index = index
    retriever.embedder = type("E", (), {"embed_queries": staticmethod(lambda qs: [[0.0]])})()
    monkeypatch.setattr("app.answering.retriever.score_fusion", lambda r, w: calls.append("score") or {"a#0": 1.0})
    monkeypatch.setattr("app.answering.retriever.rrf", lambda r: calls.append("rank") or {"a#0": 1.0})
    retriever.rank_posts("SimSiam为什么不退化")
    assert calls and set(calls) == {"score"}
    calls.clear()
    retriever.rank_posts("Why does SimSiam not collapse?")
    retriever.rank_posts("SimSiam为什么不退化", mode="dense")
    assert calls == ["rank", "rank"]
