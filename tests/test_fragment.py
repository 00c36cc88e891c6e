"""Text-fragment links to a cited sentence: what is matched, how it is encoded, what is skipped."""

from __future__ import annotations

from urllib.parse import unquote

import pytest

from app.answering.citations import best_sentence
from app.answering.fragment import encode, text_directive, text_fragment, visible_runs

URL = "https://kexue.fm/archives/7980"


def terms(link: str) -> list[str]:
    """The decoded terms of a link's text directive (split at the encoded commas' separators)."""
    directive = link.split("#:~:text=", 1)[1]
    return [unquote(part) for part in directive.split(",")]


def test_short_chinese_sentence_is_matched_whole():
    link = text_fragment(URL, "这便是这两篇论文最值得让人思考和回味的问题了。")
    assert link.startswith(URL + "#:~:text=") and "," not in link.split("=", 1)[1]
    assert terms(link) == ["这便是这两篇论文最值得让人思考和回味的问题了"]
    assert link.split("=", 1)[1] == encode("这便是这两篇论文最值得让人思考和回味的问题了")
    assert all(ord(ch) < 128 for ch in link)  # UTF-8 percent-encoded


def test_long_sentence_gives_start_and_end_at_word_edges():
    sentence = ("但是没有负样本的支撑，模型怎么不会退化（坍缩）为一个没有意义的常数模型呢？"
                "这便是这两篇论文最值得让人思考和回味的问题了。")
    start, end = terms(text_fragment(URL, sentence))
    assert sentence.startswith(start) and 12 <= len(start) < 18
    assert sentence.rstrip("。").endswith(end) and 12 <= len(end) < 18
    assert not start.endswith("没") and not end.startswith("题")  # whole words, not half of 没有 / 问题


def test_separators_and_dashes_are_percent_encoded():
    link = text_fragment(URL, "Stop-gradient, as the paper says, is the key & the rest is detail.")
    directive = link.split("#:~:text=", 1)[1]
    assert "-" not in directive and "&" not in directive and " " not in directive
    assert directive.count(",") == 1  # the only raw comma separates textStart from textEnd
    assert "%2D" in directive and "%2C" in directive and "%26" in directive and "%20" in directive
    assert terms(link) == ["Stop-gradient, as the paper", "key & the rest is detail"]
    assert encode("a-b,c&d e") == "a%2Db%2Cc%26d%20e"


def test_formulas_next_to_text_are_skipped():
    sentence = r"其中$h_{\varphi}(z)$是predictor模块，它把特征$z$映射到另一个空间，从而避免退化。"
    assert visible_runs(sentence) == ["其中", "是predictor模块，它把特征", "映射到另一个空间，从而避免退化"]
    start, end = terms(text_fragment(URL, sentence))
    assert start == "是predictor模块，它把特征" and end == "映射到另一个空间，从而避免退化"
    assert "$" not in start + end and "\\" not in start + end


def test_display_math_environments_and_code_are_skipped():
    sentence = (r"代入\begin{equation}\mathcal{L}=\Vert p - z\Vert^2\end{equation}可以发现梯度只通过预测器回传，"
                r"而`stop_gradient(z)`这一操作正是关键所在，也就是说\(\nabla_z\)恒为零")
    joined = "|".join(terms(text_fragment(URL, sentence)))
    assert "mathcal" not in joined and "stop_gradient" not in joined and "nabla" not in joined
    assert joined.startswith("可以发现梯度") and joined.endswith("正是关键所在，也就是说")


def test_markdown_links_and_emphasis_keep_only_the_shown_text():
    sentence = "比如Google的[BYOL](https://papers.cool/arxiv/2006.07733)和最近的**SimSiam**。"
    assert terms(text_fragment(URL, sentence)) == ["比如Google的BYOL和最近的SimSiam"]


def test_spaces_collapse_and_edge_punctuation_is_trimmed():
    assert terms(text_fragment(URL, "  “Label   Smoothing”\n is  a  regulariser.  ")) == \
        ["Label Smoothing” is a regulariser"]


def test_spaces_beside_chinese_text_are_not_relied_on():
    sentence = ("持续关注本系列的读者，想必都已经对 旋转位置编码（RoPE） 有所了解，"
                "跟 BYOL、 SimSiam 等无监督学习方案类似。")
    assert visible_runs(sentence) == ["持续关注本系列的读者，想必都已经对", "旋转位置编码（RoPE", "有所了解，跟",
                                      "BYOL", "SimSiam", "等无监督学习方案类似"]
    assert terms(text_fragment(URL, sentence)) == ["持续关注本系列的读者，想必都已经对", "等无监督学习方案类似"]


@pytest.mark.parametrize("sentence", ["", "$$x^2$$", "令$x=1$。", "```python\nprint(1)\n```"])
def test_nothing_verbatim_to_match_leaves_the_url_alone(sentence):
    assert text_fragment(URL, sentence) == URL
    assert text_directive(sentence) == ""


def test_an_existing_fragment_is_replaced():
    assert text_fragment(URL + "#comments", "模型怎么不会退化为常数").startswith(URL + "#:~:text=")


def test_the_cited_sentence_is_prose_that_backs_the_claim():
    excerpt = ("## SimSiam不退化的原因 …… 这是一个无关的句子，讲的是别的事情。\n"
               "> SimSiam不退化是因为stop_gradient让编码器的动力学变慢。\n"
               "$$\\frac{d\\theta}{dt}=SimSiam不退化$$\n- 列表里还有一个句子。")
    claim = "SimSiam之所以不退化，是因为stop_gradient使编码器的动力学变慢"
    assert best_sentence([claim], excerpt) == "SimSiam不退化是因为stop_gradient让编码器的动力学变慢。"
    assert best_sentence(["列表里还有一个句子"], excerpt) == "列表里还有一个句子。"
    assert best_sentence([claim], "## 只有标题\n$$x=1$$") == ""
