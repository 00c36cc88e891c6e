"""Markdown posts with YAML front matter (kexue-md), including the collection's conversion oddities."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from ingest.post import SourceError
from ingest.sources import load_file
from ingest.sources._text import fence_blocks

CORPUS = Path(__file__).resolve().parents[2] / "shared" / "corpus"
FRONT = '---\ntitle: "T"\ndate: "2020-12-11"\nauthor: "苏剑林"\ncategory: "信息时代"\ntags: ["a", "b"]\n' \
        'url: "https://kexue.fm/archives/42"\n---\n'


def md(post_id: str):
    path = CORPUS / "kexue-md" / f"{post_id}.md"
    if not path.parent.is_dir():
        pytest.skip(f"corpus not found at {path.parent} (the tests read ../shared/corpus beside the project)")
    (post,) = load_file(path)
    return post


def write(tmp_path: Path, text: str, name: str = "42.md") -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def test_simsiam_post_7980():
    post = md("7980")
    assert (post.post_id, post.format, post.excerpt) == ("7980", "markdown", False)
    assert post.title == "从动力学角度看优化算法（六）：为什么SimSiam不退化？"
    assert post.date == "2020-12-11"
    assert post.url == "https://kexue.fm/archives/7980"
    assert (post.category, post.tags, post.author) == ("信息时代", ["动力学", "优化", "无监督"], "苏剑林")
    paths = [s.path for s in post.sections]
    assert paths[:3] == [(), ("SimSiam",), ("动力学分析",)]
    assert ("动力学分析", "深度图像先验") in paths and ("看近似展开",) in paths
    assert "\\begin{equation}" in post.body and "\\label{eq:simsiam}" in post.body
    assert not re.search(r"^>", post.body, re.M)  # blockquotes unwrapped
    assert "[![" not in post.body  # linked thumbnails reduced to plain images


def test_post_wrapped_in_blockquotes_9595():
    post = md("9595")
    paths = [s.path for s in post.sections]
    for heading in ("基本结果", "理想性质", "参考证明", "完美指标", "熵的联系", "文章小结"):
        assert (heading,) in paths, heading  # 完美指标... sat inside `> ## ...`, 参考证明 in inline <h2>
    assert not re.search(r"^\s*>", post.body, re.M)
    assert not re.search(r"</?(p|strong|h2|blockquote)\b", post.body)
    assert "[#](" not in post.body


def test_formula_across_quoted_lines_549():
    post = md("549")
    assert not re.search(r"^>", post.body, re.M)
    assert "$$\\ddot{r}" in post.body


def test_html_table_script_and_embed():
    table = md("3360").body
    assert "<td>" not in table and "<table" not in table
    assert re.search(r"^\| .+ \| .+ \|$", table, re.M)
    assert "<script" not in md("83").body
    code = [block for is_code, block in fence_blocks(md("10320").body) if is_code]
    assert any("<script" in block for block in code)  # scripts shown as code stay code
    assert "[嵌入内容](https://player.bilibili.com/" in md("10394").body


def test_every_markdown_file_of_the_corpus():
    folder = CORPUS / "kexue-md"
    if not folder.is_dir():
        pytest.skip("kexue-md not found")
    files = sorted(folder.glob("[0-9]*.md"))
    assert len(files) == 151
    for path in files:
        (post,) = load_file(path)
        assert post.post_id == path.stem and post.title and re.fullmatch(r"\d{4}-\d{2}-\d{2}", post.date)
        assert post.sections and post.category


def test_headings_in_fenced_code_are_not_headings(tmp_path):
    body = "intro\n\n# Top\n\n## A\ntext a\n```\n# a comment\n## not a heading\n```\n### B\ntext b\n## C\nc\n"
    (post,) = load_file(write(tmp_path, FRONT + body))
    assert [s.path for s in post.sections] == [(), ("Top", "A"), ("Top", "A", "B"), ("Top", "C")]
    assert "# a comment" in post.sections[1].text


@pytest.mark.parametrize("text, reason", [
    ("no front matter here\n", "missing"),
    ('---\ntitle: "T"\ndate: "2020-01-01"\n\nbody\n', "not closed"),
    ('---\ntitle: "T\ndate: 2020-01-01\n---\nbody\n', "invalid YAML"),
    ("---\n- a\n- b\n---\nbody\n", "expected key: value"),
    ('---\ndate: "2020-01-01"\nurl: "https://kexue.fm/archives/42"\n---\nbody\n', "'title'"),
    ('---\ntitle: "T"\nurl: "https://kexue.fm/archives/42"\n---\nbody\n', "'date'"),
    ('---\ntitle: "T"\ndate: "2020-13-45"\n---\nbody\n', "'date' is not a date"),
    ('---\ntitle: "T"\ndate: "2020-01-01"\ntags: {a: 1}\n---\nbody\n', "'tags'"),
    ('---\ntitle: [1, 2]\ndate: "2020-01-01"\n---\nbody\n', "'title' must be text"),
])
def test_malformed_front_matter(tmp_path, text, reason):
    path = write(tmp_path, text)
    with pytest.raises(SourceError) as err:
        load_file(path)
    assert "front matter" in err.value.reason and reason in err.value.reason
    assert str(err.value).startswith(str(path))
    assert "\n" not in str(err.value)


def test_id_from_file_name_and_date_forms(tmp_path):
    text = '---\ntitle: "T"\ndate: 2021-03-04\ntags: "x, y"\n---\nbody text\n'
    (post,) = load_file(write(tmp_path, text, "1234.md"))
    assert (post.post_id, post.date, post.tags, post.url) == ("1234", "2021-03-04", ["x", "y"],
                                                              "https://kexue.fm/archives/1234")
    with pytest.raises(SourceError, match="no archive id"):
        load_file(write(tmp_path, text, "notes.md"))
