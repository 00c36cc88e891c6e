"""The math plugin's web transform: every formula of the corpus, found the way the chat finds it, renders in KaTeX
(run under Node from tools/katex); equation numbers, references, macros and dollar signs are handled."""

from __future__ import annotations

import contextlib
import json
import re
import shutil
import subprocess

import pytest

from app.ui.assets import LATEX_DELIMITERS
from plugins.math_render.segments import DISPLAY, INLINE, split_math
from plugins.math_render.web import to_katex_markdown
from tests.conftest import PROJECT, corpus_path

KATEX_DIR = PROJECT / "tools" / "katex"
# What the chat UI gives gr.Chatbot(latex_delimiters=...), in its order.
CHAT_DELIMITERS = [(d["left"], d["right"], d["display"]) for d in LATEX_DELIMITERS]


def gradio_formulas(markdown: str) -> list[tuple[str, bool]]:
    """Formulas as Gradio's Chatbot takes them out before rendering Markdown: for each delimiter in turn, every
    non-greedy ``left(.+?)right`` match over the whole message (blind to backslashes, braces and code)."""
    found = []
    for left, right, display in CHAT_DELIMITERS:
        pattern = re.compile(re.escape(left) + r"([\s\S]+?)" + re.escape(right))

        def hide(m: re.Match, display: bool = display) -> str:
            found.append((m.group(1), display))
            return f"%%%LATEX_BLOCK_{len(found) - 1}%%%"

        markdown = pattern.sub(hide, markdown)
    return found


def _end_of_math(delimiter: str, text: str, start: int) -> int:
    depth, i = 0, start
    while i < len(text):
        if depth <= 0 and text.startswith(delimiter, i):
            return i
        depth += {"{": 1, "}": -1}.get(text[i], 0)
        i += 2 if text[i] == "\\" else 1
    return -1


def auto_render_formulas(text: str) -> list[tuple[str, bool]]:
    """Formulas as KaTeX's auto-render (splitAtDelimiters, brace-aware) finds them in the rendered text."""
    opening = re.compile("|".join(re.escape(left) for left, _, _ in CHAT_DELIMITERS))
    found = []
    while (m := opening.search(text)) is not None:
        left, right, display = next(d for d in CHAT_DELIMITERS if text.startswith(d[0], m.start()))
        end = _end_of_math(right, text, m.start() + len(left))
        if end < 0:
            break
        found.append((text[m.start() + len(left):end], display))
        text = text[end + len(right):]
    return found


def katex_errors(formulas: list[tuple[str, bool]]) -> list[tuple[str, str]]:
    """(formula, error) for each formula KaTeX (throwOnError) rejects; one Node process for all of them."""
    node = shutil.which("node")
    if node is None or not (KATEX_DIR / "node_modules" / "katex").is_dir():
        pytest.skip("KaTeX check needs node and tools/katex/node_modules (npm ci --prefix tools/katex)")
    lines = "".join(json.dumps({"tex": tex, "display": display}) + "\n" for tex, display in formulas)
    done = subprocess.run([node, str(KATEX_DIR / "check.js")], input=lines, capture_output=True, text=True,
                          timeout=600, check=True)
    results = [json.loads(line) for line in done.stdout.splitlines()]
    assert len(results) == len(formulas), done.stderr
    return [(tex, r["error"]) for (tex, _), r in zip(formulas, results, strict=True) if not r["ok"]]


@pytest.fixture(scope="module")
def latex_posts():
    """Every post of kexue-md and every kexue-pages post with at least one formula."""
    from ingest.post import SourceError
    from ingest.sources import iter_source_files, load_file

    posts = []
    for folder in ("kexue-md", "kexue-pages"):
        for path in iter_source_files([corpus_path(folder)]):
            with contextlib.suppress(SourceError):
                posts += [(folder, p) for p in load_file(path)]
    return [(folder, p) for folder, p in posts
            if folder == "kexue-md" or any(s.kind in (INLINE, DISPLAY) for s in split_math(p.body))]


def test_every_corpus_formula_renders_in_katex(latex_posts, record_property):
    formulas: list[tuple[str, bool]] = []
    source_display = chat_display = 0
    for _folder, post in latex_posts:
        source = split_math(post.body)
        markdown = to_katex_markdown(post.body)
        found = gradio_formulas(markdown)
        assert sorted(found) == sorted(auto_render_formulas(markdown)), post.source
        source_display += sum(s.kind == DISPLAY for s in source)
        chat_display += sum(display for _, display in found)
        assert len(found) <= sum(s.kind in (INLINE, DISPLAY) for s in source), post.source
        formulas += found
    errors = katex_errors(formulas)
    counts = {"posts": len(latex_posts), "display_blocks_in_sources": source_display,
              "display_blocks_checked": chat_display, "formulas_checked": len(formulas), "katex_errors": len(errors)}
    print("KaTeX check:", json.dumps(counts))
    for name, value in counts.items():
        record_property(name, value)
    assert not errors, errors[:5]
    assert chat_display >= source_display > 6000 and len(formulas) > 30000


def _first_post_with(latex_posts, *needles: str, without: str = "\0"):
    return next(p for folder, p in latex_posts
                if folder == "kexue-md" and all(n in p.body for n in needles) and without not in p.body)


def test_labels_become_tags_and_references_their_numbers(latex_posts):
    post = _first_post_with(latex_posts, r"\label{", r"\eqref{", without=r"\tag")
    markdown = to_katex_markdown(post.body)
    assert r"\label" not in markdown and r"\eqref" not in markdown and r"\ref{" not in markdown
    tags = [int(n) for n in re.findall(r"\\tag\{(\d+)\}", markdown)]
    assert tags == list(range(1, len(tags) + 1))
    label = next(x for x in re.findall(r"\\label\{([^}]*)\}", post.body) if r"\eqref{" + x + "}" in post.body)
    before_label = re.search(r"(.{12})\s*\\label\{" + re.escape(label) + r"\}", post.body).group(1)
    number = re.search(re.escape(before_label) + r"\s*\\tag\{(\d+)\}", markdown).group(1)
    assert markdown.count(r"\text{(" + number + ")}") >= post.body.count(r"\eqref{" + label + "}")


def test_a_posts_own_macros_reach_every_formula_that_uses_them(latex_posts):
    post = _first_post_with(latex_posts, r"\newcommand")
    for tex, _ in gradio_formulas(to_katex_markdown(post.body)):
        assert r"\newcommand" not in tex
        for name in re.findall(r"\\(msign|mclip|tr|argmin|sign)(?![A-Za-z])", tex):
            assert rf"\def\{name}" in tex
    assert gradio_formulas(to_katex_markdown(r"$\msign(\boldsymbol{M})$")) == [
        (r"\def\msign{\mathop{\text{msign}}}\msign(\boldsymbol{M})", False)]


def test_display_math_is_a_block_of_its_own_without_blank_lines():
    text = "由\\begin{align}a &< b \\\\\n\n c &= d_1 * e_2\\end{align}可知，\\[x^2\\]以及\\(y\\)"
    markdown = to_katex_markdown(text)
    blocks = re.findall(r"(?m)^\$\$\n(.*?)\n\$\$$", markdown, re.S)
    assert len(blocks) == 2 and all("\n\n" not in b for b in blocks)
    assert r"a &< b" in blocks[0] and "d_1 * e_2" in blocks[0] and blocks[1] == "x^2"
    assert "$y$" in markdown


def test_dollars_outside_math_cannot_pair_up():
    markdown = to_katex_markdown("价格 $5。\n\n代码 `echo $HOME` 与 $x$ 和\n```sh\nexport A=$B\n```\n以及 $$y$$，"
                                 "JavaScript 字符串 '\\\\(' 与 '\\\\)'")
    assert [(tex.strip(), display) for tex, display in gradio_formulas(markdown)] == [("y", True), ("x", False)]
    assert "<code>echo &#36;HOME</code>" in markdown and "export A=&#36;B" in markdown


def test_unclosed_display_math_stays_prose():
    markdown = to_katex_markdown("先看 $a$，再看\n$$\n\\sum_i x_i")
    assert gradio_formulas(markdown) == [("a", False)]
