"""Reciprocal rank fusion and the post-level score on crafted rankings."""

from app.answering.retriever import SUPPORTING_CHUNKS, post_score, rrf


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
