"""The bilingual term table mined from the corpus, and query expansion with it."""

from __future__ import annotations

from app.terms import TermTable, normalise_en
from ingest.sources import load_file
from tests.conftest import corpus_path


def _post_text(post_id: str) -> str:
    post = load_file(corpus_path("kexue-md", f"{post_id}.md"), max_bytes=5 * 2**20)[0]
    return "\n\n".join(section.text for section in post.sections)


def test_pairs_are_found_in_named_posts():
    table = TermTable.mine([_post_text("11736")])
    assert table.en_to_zh["spectral norm"] == ["谱范数"]
    assert table.en_to_zh["power iteration"] == ["幂迭代"]


def test_english_terms_are_matched_as_whole_words_and_expanded():
    table = TermTable({"power iteration": ["幂迭代"], "spectral norm": ["谱范数"], "norm": ["范数"]})
    assert table.english_terms("How does Power-Iterations estimate the spectral norm?") == \
        ["power iteration", "spectral norm"]
    assert table.english_terms("enormous") == []
    expanded = table.expand("How is the spectral norm estimated?")
    assert expanded.endswith("谱范数") and "范数" not in expanded.replace("谱范数", "")


def test_normalisation_of_english_terms():
    assert normalise_en("Label-Smoothing") == normalise_en("label  smoothings") == "label smoothing"
    assert normalise_en("Loss") == "loss"
