"""Evidence chosen across posts on the real corpus index: the budget goes to the post that answers, posts retrieved
alike share it, noise is never quoted."""

from __future__ import annotations

import pytest

from app.answering.evidence import pick_units, select_evidence, units_of
from app.answering.retriever import Retriever
from app.answering.types import Source
from ingest.sources import load_file
from tests.conftest import corpus_path

MH = ("What acceptance probability does Metropolis-Hastings sampling use, and why does it not need the normalizing "
      "constant of the target distribution?")


@pytest.fixture(scope="module")
def retriever(corpus_index, embedder) -> Retriever:
    return Retriever(corpus_index, embedder)


def _post(retriever: Retriever, post_id: str, rank: int, score: float) -> Source:
    meta = retriever.index.manifest["posts"][post_id]
    return Source(rank, post_id, meta["title"], meta["date"], f"https://kexue.fm/archives/{post_id}", "", score, "")


def _evidence(retriever: Retriever, question: str, scores: dict[str, float], budget: int) -> list[Source]:
    """The evidence chosen for ``question`` from the posts retrieved with ``scores`` (in that order)."""
    vector = retriever.embedder.embed_queries([question])[0]
    posts = [_post(retriever, post_id, rank, score) for rank, (post_id, score) in enumerate(scores.items(), start=1)]
    return select_evidence(question, posts, retriever.index, vector, budget, retriever.embedder)


def test_a_weakly_retrieved_post_gives_no_evidence_beside_the_one_that_answers(retriever):
    given = _evidence(retriever, MH, {"8084": 0.040, "1661": 0.024}, 1500)
    assert given and {g.post_id for g in given} == {"8084"}
    assert [g.rank for g in given] == list(range(1, len(given) + 1))
    assert any("\\min\\left(1" in g.text for g in given), "the acceptance rule is quoted"


def test_posts_retrieved_alike_share_the_evidence(retriever):
    question = "文本生成里的拒绝采样是怎么做的？MCMC的Metropolis采样又是怎么做的？"
    given = _evidence(retriever, question, {"8062": 0.033, "8084": 0.032}, 2000)
    assert {g.post_id for g in given} == {"8062", "8084"}


def test_empty_code_blocks_captions_and_the_posts_own_questions_are_never_picked():
    path = corpus_path("kexue-pages", "6387.txt")
    body = "\n\n".join(section.text for section in load_file(path, max_bytes=5 * 2**20)[0].sections)
    assert "```python\n\n```" in body.replace("\r", ""), "the post has an empty code block"
    units = units_of("GAN 判别器 生成器 同步训练 一个loss 怎么做", [(body, 1.0)])
    flat = [u for chunk in units for u in chunk]
    assert all(u.score == 0 for u in flat if u.noise or u.text.rstrip().endswith(("？", "?")))
    chosen = pick_units(units, 3000)
    assert chosen and not any(u.noise for u in chosen)
    assert not any(u.text.strip().startswith("```") and u.text.strip().strip("`").strip() in ("", "python")
                   for u in chosen)


def test_a_code_question_quotes_the_posts_code_block(retriever):
    question = "在Keras里怎么写一个二分类loss，让已经分得足够好的样本不再参与更新？能给出代码吗？"
    vector = retriever.embedder.embed_queries([question])[0]
    posts = [_post(retriever, "4293", 1, 0.033)]
    given = select_evidence(question, posts, retriever.index, vector, 2500, retriever.embedder)
    code = [g.text for g in given if "```" in g.text]
    assert code and any("theta = lambda t" in text for text in code), "the post's Keras code is quoted"
    assert all(text.count("```") % 2 == 0 for text in code), "code blocks come whole"


def test_a_question_about_two_posts_quotes_both_however_far_apart_they_scored(retriever):
    question = "SimCSE和RoFormer-Sim（SimBERTv2）分别相对SimBERT做了哪些改动？"
    given = _evidence(retriever, question, {"8348": 0.040, "8454": 0.020}, 2500)
    assert {g.post_id for g in given} == {"8348", "8454"}
    assert given[0].post_id == "8348"
