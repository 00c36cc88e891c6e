"""Search over the test index: ranking, filters, highlighted passages, errors, speed, and ``kexue search``."""

from __future__ import annotations

import json
import os
import statistics
import subprocess
import sys
import time

import pytest

from app.search import PostHit, SearchError, categories, highlight, query_terms, search_posts
from tests.conftest import PROJECT

SIMSIAM = "7980"


class _MemoEmbedder:
    """The real embedder with its query embeddings remembered, to time what search adds after the embedding."""

    def __init__(self, embedder):
        self.embedder, self.seen = embedder, {}

    def embed_queries(self, queries):
        key = tuple(queries)
        if key not in self.seen:
            self.seen[key] = self.embedder.embed_queries(queries)
        return self.seen[key]

    def __getattr__(self, name):
        return getattr(self.embedder, name)


@pytest.fixture(scope="module")
def retriever(corpus_index, embedder):
    from app.answering.retriever import Retriever

    return Retriever(corpus_index, embedder)


def ids(hits: list[PostHit]) -> list[str]:
    return [hit.post_id for hit in hits]


def test_query_terms_and_highlight():
    assert query_terms("SimSiam为什么不退化") == ["simsiam", "退化"]
    assert highlight("SimSiam与simsiam、Simple不同，它不会退化", ["simsiam", "退化"]) == \
        "**SimSiam**与**simsiam**、Simple不同，它不会**退化**"
    assert highlight("优化算法的$\\text{优化}$和a*b", ["优化", "算法"]) == "**优化算法**的$\\text{优化}$和a\\*b"


@pytest.mark.slow
@pytest.mark.parametrize(("query", "post_id"), [
    ("SimSiam", SIMSIAM),
    ("正十七边形的尺规作图", "104"),
    ("梯度裁剪的默认模长为什么是1", "10657"),
    ("用Numpy实现Apriori算法", "5525"),
    ("n维球的体积", "3154"),
])
def test_named_queries_find_their_post(retriever, query, post_id):
    hits = search_posts(retriever, query, k=5)
    assert hits and hits[0].post_id == post_id, [(h.post_id, h.title) for h in hits]
    assert [h.rank for h in hits] == list(range(1, len(hits) + 1)) and len(set(ids(hits))) == len(hits)
    top = hits[0]
    assert top.url == f"https://kexue.fm/archives/{post_id}" and len(top.date) == 10 and top.category
    assert 40 <= len(top.passage) <= 500 and top.score > 0


@pytest.mark.slow
@pytest.mark.parametrize("query", ["SimSiam为什么不退化", "what is BERT-whitening", "单摆周期 大摆角"])
def test_unfiltered_ranking_is_the_answering_retrieval(retriever, query):
    assert ids(search_posts(retriever, query, k=10)) == [s.post_id for s in retriever.retrieve(query, 10).sources]


@pytest.mark.slow
def test_snippet_is_the_passage_with_the_query_terms_in_bold(retriever):
    top = search_posts(retriever, "SimSiam为什么不退化", k=3)[0]
    assert top.post_id == SIMSIAM and top.title == "从动力学角度看优化算法（六）：为什么SimSiam不退化？"
    assert "**SimSiam**" in top.snippet and "**退化**" in top.snippet
    assert top.snippet.replace("**", "").replace("\\*", "*") == top.passage
    assert set(top.to_json()) == {"rank", "post_id", "title", "date", "category", "url", "section", "score",
                                  "passage", "snippet"}


@pytest.mark.slow
def test_date_filters_exclude_posts_outside_the_range(retriever):
    assert SIMSIAM in ids(search_posts(retriever, "SimSiam", k=10))
    earlier = search_posts(retriever, "SimSiam", k=10, before="2020-12-10")
    assert earlier and SIMSIAM not in ids(earlier) and all(h.date <= "2020-12-10" for h in earlier)
    later = search_posts(retriever, "SimSiam", k=10, after="2020-12-12")
    assert later and SIMSIAM not in ids(later) and all(h.date >= "2020-12-12" for h in later)
    that_day = search_posts(retriever, "SimSiam", k=10, after="2020-12-11", before="2020-12-11")
    assert ids(that_day)[:1] == [SIMSIAM] and all(h.date == "2020-12-11" for h in that_day)


@pytest.mark.slow
def test_category_filter_keeps_only_that_category(retriever):
    names = categories(retriever)
    assert "信息时代" in names and "数学研究" in names
    maths = search_posts(retriever, "SimSiam", k=10, category="数学研究")
    assert maths and SIMSIAM not in ids(maths) and {h.category for h in maths} == {"数学研究"}
    it = search_posts(retriever, "SimSiam", k=10, category=" 信息时代 ")
    assert ids(it)[0] == SIMSIAM and {h.category for h in it} == {"信息时代"}


@pytest.mark.slow
@pytest.mark.parametrize(("kwargs", "message"), [
    ({"after": "2020-13-01"}, "after must be a date YYYY-MM-DD, not '2020-13-01'"),
    ({"before": "12/11/2020"}, "before must be a date YYYY-MM-DD, not '12/11/2020'"),
    ({"after": "2021-01-01", "before": "2020-01-01"}, "after (2021-01-01) must not be later than before"),
    ({"k": 0}, "k must be from 1 to 50, not 0"),
    ({"k": 51}, "k must be from 1 to 50, not 51"),
    ({"category": "没有这个分类"}, "category '没有这个分类' is not in the index"),
    ({"query": "  "}, "query must not be empty"),
])
def test_bad_arguments_are_named(retriever, kwargs, message):
    args = {"query": "SimSiam", **kwargs}
    with pytest.raises(SearchError) as error:
        search_posts(retriever, **args)
    assert message in str(error.value) and "\n" not in str(error.value)


@pytest.mark.slow
@pytest.mark.parametrize("filters", [{}, {"after": "2019-01-01"}, {"category": "物理化学"}])
def test_search_takes_under_100_ms_after_the_query_embedding(retriever, filters):
    memo = retriever.with_index(retriever.index)
    memo.embedder = _MemoEmbedder(retriever.embedder)
    query = "SimSiam为什么不退化"
    search_posts(memo, query, k=10, **filters)  # embeds the query (and reads the category table) once
    times = []
    for _ in range(5):
        start = time.perf_counter()
        search_posts(memo, query, k=10, **filters)
        times.append((time.perf_counter() - start) * 1000)
    assert statistics.median(times) < 100, times


def _kexue(corpus_index, *args: str) -> subprocess.CompletedProcess:
    env = {**os.environ, "KEXUE_INDEX": str(corpus_index.index_dir), "NO_COLOR": "1"}
    return subprocess.run([sys.executable, "-m", "app", "search", *args], capture_output=True, text=True, env=env,
                          cwd=PROJECT, timeout=300)


@pytest.mark.slow
def test_kexue_search_prints_ranked_posts(corpus_index):
    result = _kexue(corpus_index, "SimSiam", "--k", "3", "--after", "2020-01-01")
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert lines[0] == "1. 《从动力学角度看优化算法（六）：为什么SimSiam不退化？》 2020-12-11 · 信息时代"
    assert lines[1].strip() == "https://kexue.fm/archives/7980" and "SimSiam" in lines[2]
    assert "2. 《" in result.stdout and "4. 《" not in result.stdout


@pytest.mark.slow
def test_kexue_search_json_applies_the_filters(corpus_index):
    result = _kexue(corpus_index, "SimSiam", "--json", "--k", "5", "--category", "数学研究")
    assert result.returncode == 0, result.stderr
    hits = json.loads(result.stdout)
    assert 1 <= len(hits) <= 5 and SIMSIAM not in [h["post_id"] for h in hits]
    assert {h["category"] for h in hits} == {"数学研究"}
    assert all("**" in h["snippet"] for h in hits if "simsiam" in h["passage"].lower())
    result = _kexue(corpus_index, "SimSiam BYOL", "--json", "--k", "2", "--category", "信息时代")
    hits = json.loads(result.stdout)
    assert hits[0]["post_id"] == SIMSIAM and "**SimSiam**" in hits[0]["snippet"] and "**BYOL**" in hits[0]["snippet"]


@pytest.mark.slow
def test_kexue_search_bad_date_is_a_usage_error(corpus_index):
    result = _kexue(corpus_index, "SimSiam", "--before", "2020-02-30")
    assert result.returncode == 2 and result.stdout == ""
    assert "Error: before must be a date YYYY-MM-DD, not '2020-02-30'" in result.stderr
