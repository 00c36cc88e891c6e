"""Scraped kexue.fm pages (kexue-pages): both layouts, metadata, sections, LaTeX unescaping, chrome removal."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from ingest.post import SourceError
from ingest.sources import load_file, page
from ingest.sources._escapes import escape_style, unescape
from ingest.sources._text import fence_blocks

CORPUS = Path(__file__).resolve().parents[2] / "shared" / "corpus"
CHROME = ["如果您还有什么疑惑或建议", "发表你的看法", "回复评论", "取消回复", "Retrieved from", "@online{",
          "转载到请包括本文地址", "## NEWPOSTS", "## COMMENTS", "你也许还对下面的内容感兴趣", "Powered by", "打赏"]
EQUATION_RE = re.compile(r"\\begin\{equation\}.*?\\end\{equation\}", re.S)


def pages(name: str = "") -> Path:
    folder = CORPUS / "kexue-pages"
    if not folder.is_dir():
        pytest.skip(f"corpus not found at {folder} (the tests read ../shared/corpus beside the project)")
    return folder / name if name else folder


def load_page(post_id: str):
    (post,) = load_file(pages(f"{post_id}.txt"))
    return post


def prose(text: str) -> str:
    """The text outside fenced code blocks."""
    return "\n".join(block for code, block in fence_blocks(text) if not code)


def squash(text: str) -> str:
    return re.sub(r"\s+", "", text)


def assert_clean_latex(body: str) -> None:
    text = prose(body)
    assert "\\begin{equation}" in text
    assert "\\\\begin" not in text and "\\\\end{" not in text and "\\\\frac" not in text
    assert "&lt;" not in text and "&gt;" not in text and "&amp;" not in text
    for formula in re.findall(r"\$[^$\n]+\$|\\begin\{equation\}.*?\\end\{equation\}", text, re.S):
        assert "\\_" not in formula, formula


def test_full_page_layout_7980():
    post = load_page("7980")
    assert (post.post_id, post.format) == ("7980", "page")
    assert post.title == "从动力学角度看优化算法（六）：为什么SimSiam不退化？"
    assert post.date == "2020-12-11"
    assert post.url == "https://kexue.fm/archives/7980"
    assert post.category == "信息时代"
    assert post.tags == ["动力学", "优化", "无监督"]
    paths = [s.path for s in post.sections]
    assert paths[0] == () and ("SimSiam",) in paths
    assert ("动力学分析", "深度图像先验") in paths  # ### under ##
    assert_clean_latex(post.body)
    assert "h_{\\varphi}" in post.body and "stop_gradient" in post.body
    for chrome in CHROME:
        assert chrome not in post.body, chrome
    assert not re.search(r"^>", post.body, re.M)
    assert "[#](" not in post.body


def test_flat_layout_7500():
    post = load_page("7500")
    assert (post.post_id, post.format) == ("7500", "page-flat")
    assert post.title == "如何应对Seq2Seq中的“根本停不下来”问题？"
    assert post.date == "2020-06-16"
    assert post.url == "https://kexue.fm/archives/7500"
    paths = [s.path for s in post.sections]
    assert paths[0] == ()
    for heading in ("解码算法", "确定解码", "随机解码", "文章小结"):
        assert (heading,) in paths
    assert "&lt;" not in post.body and "<eos>" in post.body
    assert "\\begin{equation}" in post.body
    for chrome in CHROME:
        assert chrome not in post.body, chrome
    decoding = next(s for s in post.sections if s.path == ("解码算法",))
    assert not decoding.text.startswith("#") and " # " not in decoding.text


def test_flat_layout_with_date_header_and_code_comments():
    post = load_page("9938")  # header `14 Jan By 苏剑林 | 2024-01-14 |...`, Python code with `# comments`
    assert post.format == "page-flat" and post.date == "2024-01-14"
    assert post.title.startswith("旁门左道之如何让Python的重试代码")
    headings = [s.path[0] for s in post.sections if s.path]
    assert "循环重试" in headings and "文章小结" in headings
    assert all(len(h) <= 20 and "(" not in h for h in headings)
    assert "By 苏剑林" not in post.body and "位读者" not in post.body


def test_page_without_title_line_takes_title_from_citation():
    post = load_page("10847")  # the full-page layout without menu or title line
    assert post.format == "page" and post.post_id == "10847"
    assert post.date == "2025-04-10"
    assert post.title.startswith("矩阵的有效秩")
    assert ("误差截断",) in [s.path for s in post.sections]
    assert_clean_latex(post.body)


def test_doubled_backslash_variant_and_its_formula_artefact():
    post = load_page("8397")  # meta line `By苏剑林|...`: backslashes doubled, `& -\sin& -\sin` artefacts
    assert escape_style(pages("8397.txt").read_text(encoding="utf-8")) == "double"
    assert post.date == "2021-05-10" and post.category == "数学研究"
    assert_clean_latex(post.body)
    assert "-\\sin& -\\sin" not in post.body
    assert "\\begin{pmatrix}\\cos n\\theta & -\\sin n\\theta\\\\ \\sin n\\theta" in post.body


def test_heading_glued_to_the_previous_paragraph():
    post = load_page("4046")  # `...做到的。### 从作用量原理到黎曼几何[#](#...)` on one line
    assert ("从作用量原理到黎曼几何",) in [s.path for s in post.sections]


def test_code_blocks_keep_their_backslashes():
    post = load_page("9768")
    code = "\n".join(block for is_code, block in fence_blocks(post.body) if is_code)
    assert "b'\\xe4" in code
    assert "\\begin{array}{c|cc}" in prose(post.body)
    assert all(len(s.path) < 2 or s.path[0] for s in post.sections)
    assert not any("xe4" in "".join(s.path) for s in post.sections)  # `# [b'\xe4...` in code is no heading


@pytest.mark.parametrize("style, escaped, plain", [
    ("pairs", "\\\\frac{a}{b}\\_{i}", "\\frac{a}{b}_{i}"),
    ("pairs", "a\\\\\\\nb", "a\\\\\nb"),  # LaTeX line break `\\` was written as three backslashes
    ("pairs", "\\\\\\\\\\text{x}", "\\\\\\text{x}"),  # `\\` then `\text`
    ("pairs", "\\\\left\\[x\\\\right\\]", "\\left[x\\right]"),
    ("pairs", "\\\\\\\\[5pt\\]", "\\\\[5pt]"),
    ("pairs", "\\\\\\|u\\\\\\|", "\\|u\\|"),
    ("pairs", "\\\\{0,1\\\\}", "\\{0,1\\}"),
    ("double", "\\\\sin x\\\\\\\\\n\\\\cos", "\\sin x\\\\\n\\cos"),
    ("double", "x^\\*_i & -\\sin& -\\sin y", "x^*_i & -\\sin y"),
    ("none", "\\begin{equation}x_1\\end{equation}", "\\begin{equation}x_1\\end{equation}"),
])
def test_unescape_rules(style, escaped, plain):
    assert unescape(escaped, style) == plain


def test_latex_matches_the_markdown_copy_of_the_same_posts():
    """Every page that kept its LaTeX holds the equations of the Markdown copy of the same post verbatim."""
    md_folder = CORPUS / "kexue-md"
    if not md_folder.is_dir():
        pytest.skip("kexue-md not found")
    found = total = 0
    for md_file in sorted(md_folder.glob("[0-9]*.md")):
        page_file = pages(f"{md_file.stem}.txt")
        if not page_file.exists():
            continue
        (md_post,), (page_post,) = load_file(md_file), load_file(page_file)
        equations = [squash(e) for e in EQUATION_RE.findall(md_post.body)]
        if not equations or "\\begin{equation}" not in page_post.body:
            continue  # some scraped pages lost their LaTeX to rendered text
        body = squash(page_post.body)
        found += sum(e in body for e in equations)
        total += len(equations)
    assert total > 300
    assert found / total > 0.97, (found, total)


def test_every_page_of_the_corpus_loads_without_chrome():
    formats: dict[str, int] = {}
    for path in sorted(pages().glob("*.txt")):
        (post,) = load_file(path)
        formats[post.format] = formats.get(post.format, 0) + 1
        assert post.post_id == path.stem
        assert post.title and re.fullmatch(r"\d{4}-\d{2}-\d{2}", post.date), path
        assert post.sections, path
        for chrome in ("如果您还有什么疑惑或建议", "发表你的看法", "## CATEGORIES", "@online{"):
            assert chrome not in post.body, (path, chrome)
        assert "[\\#](" not in post.body and "\\\\begin{" not in prose(post.body), path
    print("kexue-pages formats:", formats)
    assert formats == {"page": 554, "page-flat": 83}


def test_chrome_only_page_is_an_error(tmp_path):
    chrome = pages("7980.txt").read_text(encoding="utf-8").split("# [")[0]
    path = tmp_path / "chrome.txt"
    path.write_text(chrome + "\n## COMMENTS\n- [a](https://kexue.fm/archives/1/comment-page-1#comment-2)\n",
                    encoding="utf-8")
    assert page.detect(path.read_text(encoding="utf-8"), path)
    with pytest.raises(SourceError, match="no post body found") as err:
        load_file(path)
    assert str(path) in str(err.value)
