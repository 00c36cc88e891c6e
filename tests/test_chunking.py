"""Chunking by section on the real corpus: budgets, section paths, and no cut inside math or code."""

from __future__ import annotations

import re

import pytest

from ingest.chunking import Chunker, ChunkerSettings, embed_text
from ingest.latex_spans import paragraphs, protected_spans, sentences
from ingest.post import Post, Section


@pytest.fixture(scope="module")
def chunker(embedder) -> Chunker:
    return Chunker(embedder.count_tokens, ChunkerSettings(max_tokens=400, hard_max_tokens=512, min_chars=200))


@pytest.fixture(scope="module")
def chunked(corpus_posts, chunker):
    return [(post, chunker.chunk(post)) for post in corpus_posts]


def test_protected_spans_cover_math_envs_and_code():
    text = ("设$x_1$与$$\\sum_i a_i$$。\n\n\\begin{equation}\\begin{aligned}a\n\nb\\end{aligned}\\end{equation}"
            "\n\n```python\nprint('$')\n\nx = 1\n```\n\n价格是$5，不是公式。\n\n结束")
    spans = [text[s:e] for s, e in protected_spans(text)]
    assert spans[:3] == ["$x_1$", "$$\\sum_i a_i$$",
                         "\\begin{equation}\\begin{aligned}a\n\nb\\end{aligned}\\end{equation}"]
    assert spans[3].startswith("```python") and spans[3].endswith("```")
    assert len(spans) == 4  # the lone dollar sign before a blank line is not math
    paras = paragraphs(text)
    assert any(p.startswith("\\begin{equation}") and p.endswith("\\end{equation}") for p in paras)
    assert "```python\nprint('$')\n\nx = 1\n```" in paras
    assert sentences("第一句。第二句$a。b$仍在公式里。第三句") == ["第一句。", "第二句$a。b$仍在公式里。", "第三句"]


def _balanced(text: str) -> bool:
    """Code fences pair up and every \\begin{env} has its \\end{env}."""
    if len(re.findall(r"(?m)^[ \t>]*```", text)) % 2:
        return False
    envs = set(re.findall(r"\\begin\{([^}]+)\}", text))
    return all(text.count(f"\\begin{{{env}}}") == text.count(f"\\end{{{env}}}") for env in envs)


def test_chunks_never_cut_math_environments_or_code(chunked):
    """Over the whole corpus: every protected span of a section lies whole inside one chunk."""
    checked = broken_sources = 0
    for post, nodes in chunked:
        texts = [n.text for n in nodes]
        for section in post.sections:
            for start, end in protected_spans(section.text):
                span = section.text[start:end].strip()
                assert any(span in t for t in texts), f"{post.post_id} {section.path}: cut inside {span[:80]!r}"
                checked += 1
        if not all(_balanced(section.text) for section in post.sections):
            broken_sources += 1
            continue  # the source itself is broken (a scrape lost an opening fence or \\begin)
        for text in texts:
            assert _balanced(text), f"{post.post_id}: a chunk has an unbalanced code fence or environment"
    assert checked > 10000 and broken_sources < len(chunked) * 0.02


def test_chunks_fit_the_embedder(chunked, embedder):
    over = 0
    nodes = [n for _, ns in chunked for n in ns]
    counts = embedder.count_tokens([embed_text(n) for n in nodes])
    for node, count in zip(nodes, counts, strict=True):
        if count > 512:
            over += 1
            assert len(paragraphs(node.text)) == 1 and len(sentences(node.text)) == 1, node.node_id
    assert over <= len(nodes) * 0.03  # big tables, align blocks and code listings: kept whole, embedded truncated
    assert sum(counts) / len(counts) > 150  # chunks are not fragmentary


def test_chunks_keep_metadata_and_section_path(chunked):
    post, nodes = next((p, ns) for p, ns in chunked if p.post_id == "7980")
    assert {n.metadata["post_id"] for n in nodes} == {"7980"}
    assert [n.metadata["position"] for n in nodes] == list(range(len(nodes)))
    assert nodes[0].metadata["date"] == "2020-12-11"
    assert nodes[0].metadata["url"] == "https://kexue.fm/archives/7980"
    sections = {n.metadata["section"] for n in nodes}
    assert "SimSiam" in sections
    simsiam = next(n for n in nodes if n.metadata["section"] == "SimSiam")
    embedded = embed_text(simsiam)
    assert embedded.startswith(post.title + "\nSimSiam\n\n")
    assert "stop_gradient" in " ".join(n.text for n in nodes)


def test_short_sections_are_merged(chunker):
    post = Post("1", "标题", "2020-01-01", "https://kexue.fm/archives/1", [
        Section((), "引言很短。"),
        Section(("方法",), "这一节足够长。" * 40),
        Section(("小结",), "很短的小结。"),
    ], source="x", format="markdown")
    nodes = chunker.chunk(post)
    assert len(nodes) == 1
    assert nodes[0].text.startswith("引言很短。") and "### 小结" not in nodes[0].text
    assert "## 方法" in nodes[0].text and "## 小结" in nodes[0].text


def test_long_sections_split_at_paragraphs(chunker, embedder):
    paras = [f"第{i}段：" + "梯度下降的动力学分析。" * 30 for i in range(12)]
    post = Post("2", "长文", "2020-01-01", "u", [Section(("长节",), "\n\n".join(paras))], "x", "markdown")
    nodes = chunker.chunk(post)
    assert len(nodes) > 3
    assert all(n.metadata["section"] == "长节" for n in nodes)
    for node in nodes:
        assert all(p in paras for p in node.text.split("\n\n"))
    assert max(embedder.count_tokens([embed_text(n) for n in nodes])) <= 400
