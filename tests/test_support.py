"""Sentence support: each answer sentence scored against the excerpt it cites, marked or renumbered."""

from __future__ import annotations

from app.answering.support import UNSUPPORTED_MARK, check_sentences, split_sentences
from app.answering.types import Source
from tests.conftest import corpus_path


def _source(rank: int, text: str) -> Source:
    return Source(rank, str(rank), f"post {rank}", "2020-12-11", f"https://kexue.fm/archives/{rank}", "", 1.0, text)


def _simsiam_paragraph() -> str:
    text = corpus_path("kexue-pages", "7980.txt").read_text(encoding="utf-8")
    line = next(line for line in text.splitlines() if "迅雷不及掩耳" in line)
    return line.lstrip("> ").replace("\\_", "_").replace("\\\\", "\\")


OTHER = ("BERT-whitening 把句向量的均值变为零、协方差变为单位阵，再用余弦相似度比较两个句子；"
         "它还可以只保留前 k 个主成分来降维。")


def test_split_keeps_every_character_and_gives_marks_to_their_sentence():
    answer = "第一句说明原因。[1] 第二句给出公式：$$a=b.$$ [2]\nThird sentence. Fourth one [1]."
    pieces = split_sentences(answer)
    assert "".join(pieces) == answer
    assert pieces[0].strip().endswith("[1]")
    assert any("$$a=b.$$" in p and "[2]" in p for p in pieces)


def test_supported_unsupported_and_misnumbered_sentences():
    simsiam = _simsiam_paragraph()
    sources = [_source(1, simsiam), _source(2, OTHER)]
    supported = "predictor的引入使得模型的动力学分为两大部分，stop_gradient算子使encoder部分的动力学变慢[1]。"
    invented = "SimSiam不退化是因为它使用了交替优化方法，交替更新两个神经网络的参数[1]。"
    misnumbered = "BERT-whitening把句向量的均值变为零、协方差变为单位阵[1]。"
    checked = check_sentences(supported + invented + misnumbered, sources)
    first, second, third = checked.sentences
    assert first.supported and first.cites == [1] and first.support >= 0.6
    assert not second.supported and second.support < 0.45
    assert third.supported and third.cites == [2] and third.renumbered_from == [1]
    assert checked.renumbered == 1
    assert checked.supported_share == 2 / 3
    assert f"交替更新两个神经网络的参数[1]。{UNSUPPORTED_MARK}" in checked.text
    assert "协方差变为单位阵[2]。" in checked.text and supported in checked.text


def test_uncited_sentence_is_unsupported_and_formulas_are_not_scored():
    sources = [_source(1, OTHER)]
    checked = check_sentences("这句话没有出处。\n$$x^2+y^2=1$$", sources)
    assert [s.supported for s in checked.sentences] == [False]
    assert checked.text.startswith("这句话没有出处。" + UNSUPPORTED_MARK)


def test_a_bracket_inside_a_formula_is_neither_a_citation_nor_renumbered():
    sources = [_source(1, OTHER), _source(2, "序列的第一个元素记为$h[1]$，然后计算接受率并决定是否转移。")]
    checked = check_sentences("序列的第一个元素记为$h[1]$，然后计算接受率并决定是否转移[1]。", sources)
    (sentence,) = checked.sentences
    assert sentence.cites == [2] and sentence.renumbered_from == [1] and sentence.supported
    assert "$h[1]$" in sentence.text and "$h[1]$" in checked.text and checked.text.endswith("转移[2]。")
