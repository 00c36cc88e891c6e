"""Citation checking on crafted answers: unknown numbers removed, uncited answers get their best source."""

from __future__ import annotations

from app.answering.citations import check_citations
from app.answering.prompt import says_not_covered
from app.answering.types import Source


def _sources() -> list[Source]:
    return [
        Source(1, "7980", "为什么SimSiam不退化？", "2020-12-11", "https://kexue.fm/archives/7980", "SimSiam", 0.03,
               "stop_gradient算子以及predictor模块是SimSiam不退化的关键。"),
        Source(2, "10007", "用傅里叶级数拟合一维概率密度函数", "2024-03-07", "https://kexue.fm/archives/10007", "",
               0.02, "傅里叶级数可以拟合概率密度，非负性是最难的部分。"),
    ]


def test_valid_citations_are_kept_in_order_of_use():
    checked = check_citations("非负性最难[2]，而SimSiam靠stop_gradient[1]。再说一遍[2]。", _sources())
    assert [c.n for c in checked.citations] == [2, 1]
    assert checked.citations[1].title == "为什么SimSiam不退化？" and checked.citations[1].date == "2020-12-11"
    assert checked.text == "非负性最难[2]，而SimSiam靠stop_gradient[1]。再说一遍[2]。"
    assert not checked.removed and not checked.attached


def test_numbers_never_given_are_removed():
    checked = check_citations("SimSiam靠stop_gradient [1][7]，另见[3, 1]。", _sources())
    assert checked.removed == [7, 3]
    assert "[7]" not in checked.text and "[3" not in checked.text
    assert [c.n for c in checked.citations] == [1]


def test_uncited_answer_gets_best_supported_source():
    checked = check_citations("关键是stop_gradient算子和predictor模块。", _sources())
    assert checked.attached and [c.post_id for c in checked.citations] == ["7980"]
    assert checked.text.endswith("[1]")


def test_refusal_phrases_are_recognised():
    assert says_not_covered("博客没有涉及这个问题。")
    assert says_not_covered("The blog does not cover this question.")
    assert not says_not_covered("SimSiam不退化的关键是stop_gradient [1]。")


def test_brackets_inside_formulas_are_not_citations():
    answer = "采样$\\varepsilon\\sim U[0,1]$，再取$$x[2] + y[3]$$ [1]"
    checked = check_citations(answer, _sources())
    assert "U[0,1]" in checked.text and "x[2] + y[3]" in checked.text
    assert not checked.removed and [c.n for c in checked.citations] == [1]
