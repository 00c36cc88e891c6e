"""The math plugin in the terminal: formulas as readable Unicode, display formulas whole on their own lines (also
when streamed), and ``ask --raw-math`` keeping the LaTeX as written."""

from __future__ import annotations

import re

import pytest
from click.testing import CliRunner

from app.cli.ask_cmd import _LineEcho
from app.cli.main import cli
from plugins import apply_transforms
from plugins.math_render.segments import printable_length
from plugins.math_render.terminal import to_unicode
from plugins.math_render.unicode_math import formula_to_unicode

MUON_POST = "11025"  # 《msign的导数》: \newcommand'ed operators, labelled equations


@pytest.mark.parametrize(("tex", "text"), [
    (r"\frac{a}{b}", "a/b"),
    (r"\frac{a+b}{2}", "(a+b)/2"),
    (r"\sum_{i=1}^n x_i^2", "∑ᵢ₌₁ⁿ xᵢ²"),
    (r"\mathbb{E}_{x\sim p}[f(x)]", "𝔼_(x∼p)[f(x)]"),
    (r"\sqrt{d}", "√d"),
    (r"\alpha\beta", "αβ"),
    (r"\boldsymbol{W}^{\top}\boldsymbol{x}", "Wᵀx"),
    (r"\left\Vert \boldsymbol{x}\right\Vert_2 \leq 1", "‖x‖₂ ≤ 1"),
    (r"\mathcal{L} = -\log p_t", "ℒ = -log pₜ"),
    (r"\begin{pmatrix}a & b \\ c & d\end{pmatrix}", "(a b; c d)"),
    (r"\theta_{t+1} = \theta_t - \eta\nabla_{\theta}\mathcal{L}", "θₜ₊₁ = θₜ-η∇_θℒ"),
])
def test_named_formulas_read_as_unicode(tex, text):
    assert formula_to_unicode(tex) == text


def test_display_formulas_get_lines_and_numbers_of_their_own():
    text = to_unicode("由\\begin{equation}\\frac{1}{2}e^{-x^2}\\label{eq:g}\\end{equation}及$\\eqref{eq:g}$可知")
    assert text == "由\n    (1/2)e^(-x²)    (1)\n及(1)可知"


def test_a_real_post_has_no_latex_left():
    from ingest.sources import load_file
    from tests.conftest import corpus_path

    post = load_file(corpus_path("kexue-md", f"{MUON_POST}.md"))[0]
    assert r"\newcommand" in post.body and r"\label" in post.body
    text = to_unicode(post.body)
    assert not re.search(r"\\(?:newcommand|label|eqref|begin|end|frac|boldsymbol|mathop)\b", text)
    assert "$" not in text and "msign(" in text
    numbers = re.findall(r"^    .*    \((\d+)\)$", text, re.M)
    assert numbers[:3] == ["1", "2", "3"]


def test_streamed_display_math_is_printed_whole(capsys):
    from ingest.sources import load_file
    from tests.conftest import corpus_path

    body = load_file(corpus_path("kexue-md", f"{MUON_POST}.md"))[0].body
    echo = _LineEcho(to_unicode, buffered=True)
    for start in range(0, len(body), 7):
        echo.feed(body[start:start + 7])
    echo.finish()
    printed = capsys.readouterr().out
    assert not re.search(r"\\(?:begin|end|frac)\b|\$", printed)
    assert printable_length("先看\n$$\n\\sum_i") == len("先看\n")
    assert printable_length("先看\n$$x$$\n然后") == len("先看\n$$x$$\n")


def test_cli_transform_goes_through_the_plugins():
    assert apply_transforms(r"设$\sqrt{d}$", "cli", "answer") == "设√d"
    assert apply_transforms(r"设$\sqrt{d}$", "cli", "source") == "设√d"


@pytest.fixture(scope="module")
def muon_index(tmp_path_factory, model_settings, embedder):
    import shutil

    from ingest.pipeline import ingest
    from tests.conftest import corpus_path

    folder = tmp_path_factory.mktemp("math-posts")
    for post_id in (MUON_POST, "7980"):
        shutil.copy(corpus_path("kexue-md", f"{post_id}.md"), folder / f"{post_id}.md")
    settings = model_settings.replace(index_dir=tmp_path_factory.mktemp("math-index") / "index")
    ingest(settings, [str(folder)], progress=False, embedder=embedder)
    return settings.index_dir


def test_ask_prints_unicode_and_raw_math_keeps_latex(muon_index):
    runner = CliRunner()
    question = "msign的导数怎么计算"
    args = ["ask", question, "--llm", "extractive", "--index", str(muon_index), "--show-sources"]
    rendered, raw = runner.invoke(cli, args), runner.invoke(cli, [*args, "--raw-math"])
    assert rendered.exit_code == 0 and raw.exit_code == 0, (rendered.output, raw.output)
    assert re.search(r"\$[^$]*\\[A-Za-z]+[^$]*\$", raw.output)
    assert not re.search(r"\\(?:msign|boldsymbol|mathop|newcommand|frac)\b", rendered.output)
    assert "$" not in rendered.output and "msign" in rendered.output
    as_json = runner.invoke(cli, ["ask", question, "--llm", "extractive", "--index", str(muon_index), "--json"])
    assert "\\\\" in as_json.output and "$" in as_json.output
