"""Evidence selection on real posts: the sentences that bear on the question, equations and code kept whole."""

from __future__ import annotations

import re

from app.answering.evidence import excerpt_text, pick_units, units_of
from app.answering.extractive import extract
from app.answering.types import Source
from ingest.sources import load_file
from tests.conftest import corpus_path


def _body(post_id: str) -> str:
    path = corpus_path("kexue-md", f"{post_id}.md")
    return "\n\n".join(section.text for section in load_file(path, max_bytes=5 * 2**20)[0].sections)


def _balanced(text: str) -> bool:
    return text.count("$$") % 2 == 0 and text.count("```") % 2 == 0 and \
        len(re.findall(r"\\begin\{", text)) == len(re.findall(r"\\end\{", text))


def test_an_equation_introduced_by_a_chosen_sentence_comes_whole():
    body = _body("11736")
    assert "\\begin{equation}" in body, "the post has display equations"
    units = units_of("怎样用幂迭代估计矩阵的谱范数？公式是什么", [(body, 1.0)])
    chosen = pick_units(units, 1200)
    text = excerpt_text(chosen)
    assert _balanced(text)
    assert any(u.is_block for u in chosen), "a display equation is part of the evidence"
    for unit in chosen:
        if unit.is_block:
            assert unit.text in body


def test_a_code_block_is_kept_whole():
    body = _body("2971") if "```" in _body("2971") else _body("3120")
    fence = body.index("```")
    end = body.index("```", fence + 3) + 3
    code = body[fence:end]
    question = " ".join(re.findall(r"[A-Za-z_]{4,}", code)[:6])
    chosen = pick_units(units_of(question, [(body, 1.0)]), 4000)
    blocks = [u.text for u in chosen if u.is_block and u.text.startswith("```")]
    assert blocks and all(b.count("```") == 2 for b in blocks)


def test_extractive_answer_cites_each_line_and_can_exceed_four_sentences():
    body = _body("11736")
    excerpts = [Source(1, "11736", "t", "2026-01-01", "u", "s", 1.0, body[:3000])]
    answer = extract("如何估计矩阵的谱范数 幂迭代", excerpts, 900)
    lines = [line for line in answer.splitlines() if line.strip()]
    cited = [line for line in lines if line.endswith("[1]")]
    assert len(cited) >= 4 and len(answer) <= 1400
