"""English questions searched in Chinese: the guard on the model's reply, and named questions whose Chinese post
only the translated search finds first (the real local model on the test index)."""

from __future__ import annotations

import pytest

from app.answering import Answerer
from app.answering.translate import clean_translation

QUESTION = "Why is the unbiased sample variance divided by n-1 instead of n?"


@pytest.mark.parametrize(("reply", "expected"), [
    ("为什么无偏样本方差要除以n-1而不是n？", "为什么无偏样本方差要除以n-1而不是n？"),
    ("译文：为什么无偏样本方差要除以n-1而不是n？\n（注：保留了n-1）", "为什么无偏样本方差要除以n-1而不是n？"),
    ("“为什么样本方差除以n-1？”", "为什么样本方差除以n-1？"),
    (QUESTION, None),  # echoed in English
    ("", None),
    ("因为" + "用样本均值代替真实均值会少估计方差，所以要乘以n/(n-1)来修正偏差，" * 3, None),  # an answer, too long
    ("样本方差译成中文说法，英文缩写、模型名和公式保留原文。只输出译文", None),  # the instruction copied
])
def test_only_a_chinese_question_of_the_question_s_length_is_kept(reply, expected):
    assert clean_translation(reply, QUESTION) == expected


@pytest.fixture(scope="module")
def answerer(corpus_index, embedder) -> Answerer:
    return Answerer(corpus_index, embedder=embedder)


@pytest.mark.parametrize(("question", "post"), [
    (QUESTION, "6747"),
    ("From a geometric point of view, what does a variational autoencoder change compared with a plain "
     "autoencoder, and why does that make the latent space better?", "7725"),
    ("Why do we need residual connections to train very deep networks? Isn't careful initialization plus "
     "normalization enough once vanishing and exploding gradients are under control?", "8994"),
])
def test_the_chinese_search_finds_the_post_the_english_one_misses(answerer, question, post):
    english_only = [s.post_id for s in answerer.retriever.retrieve(question, 5).sources]
    both = [s.post_id for s in answerer.search(question, 5, llm="extractive").sources]
    assert english_only[0] != post and both[0] == post
