"""The chat UI in a real browser (Debian's headless Chromium driven by Playwright) on the test index.

Screenshots are saved in ``artifacts/``. Most tests answer extractively (fast); the streamed answer and the
follow-up use the local model.
"""

from __future__ import annotations

import time

import pytest

from tests.browser_support import chat_page, chromium, extractive_ui
from tests.conftest import PROJECT

playwright_api = pytest.importorskip("playwright.sync_api")
pytestmark = pytest.mark.filterwarnings("ignore::Warning:gradio.queueing")  # pandas deprecations inside Gradio
expect = playwright_api.expect

ARTIFACTS = PROJECT / "artifacts"
SIMSIAM_URL = "https://kexue.fm/archives/7980"
SIMSIAM_TITLE = "《从动力学角度看优化算法（六）：为什么SimSiam不退化？》"
LLM_WAIT_MS = 240_000


@pytest.fixture(scope="module")
def ui_url(corpus_index):
    with extractive_ui(corpus_index) as url:
        yield url


@pytest.fixture(scope="module")
def browser(tmp_path_factory):
    with chromium(tmp_path_factory.mktemp("chromium-profile")) as context:
        yield context


@pytest.fixture()
def page(browser, ui_url):
    with chat_page(browser, ui_url) as opened:
        yield opened


def _ask(page, text: str) -> None:
    box = page.locator("#kexue-question textarea")
    box.fill(text)
    box.press("Enter")


def _bot(page):
    return page.locator('#kexue-chat [data-testid="bot"]')


def _shot(page, name: str) -> None:
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / name), full_page=True)


def test_answer_with_sources_panel_and_extractive_notice(page):
    _ask(page, "SimSiam为什么不退化？")
    answer = _bot(page).last
    expect(answer).to_contain_text("来源 Sources", timeout=60_000)
    expect(answer).to_contain_text("extractive answer: sentences quoted from the posts")
    expect(answer.locator(f'a[href="{SIMSIAM_URL}"]').first).to_contain_text(SIMSIAM_TITLE)
    panel = page.locator("#kexue-sources")
    expect(panel.locator(f'a[href="{SIMSIAM_URL}"]').first).to_have_text(SIMSIAM_TITLE)
    expect(panel).to_contain_text("2020-12-11")
    passage = panel.locator("details.kexue-passage", has=page.locator("summary", has_text="动力学分析")).first
    expect(passage.locator("summary")).to_contain_text("动力学分析")
    expect(passage.get_by_text("交替优化的理解")).to_be_hidden()
    passage.locator("summary").click()
    expect(passage.get_by_text("交替优化的理解")).to_be_visible()
    _shot(page, "ui-sources.png")


def test_formula_is_rendered_by_katex(page):
    page.get_by_role("button", name="有没有一个公式能直接算出某一年夏至的具体时刻？").click()
    expect(page.locator("#kexue-question textarea")).to_have_value("有没有一个公式能直接算出某一年夏至的具体时刻？")
    page.locator("#kexue-ask").click()
    answer = _bot(page).last
    expect(answer).to_contain_text("来源 Sources", timeout=60_000)
    expect(answer.locator(".katex").first).to_be_visible()
    assert answer.locator(".katex-error").count() == 0
    assert "\\lfloor" not in answer.inner_text()
    panel = page.locator("#kexue-sources")
    panel.locator("details.kexue-passage summary").first.click()
    expect(panel.locator(".katex-display").first).to_be_visible()
    _ask(page, "/math integrate x^2 for x")
    expect(_bot(page)).to_have_count(2, timeout=60_000)
    result = _bot(page).last.locator(".katex-display")
    expect(result).to_be_visible()
    expect(result.locator(".mfrac")).to_have_count(1)
    _shot(page, "ui-formula.png")


def test_run_button_under_a_post_code_block_shows_its_output(page):
    _ask(page, "Python计算0到10的平方和，代码能写得多简洁？")
    expect(_bot(page).last).to_contain_text("来源 Sources", timeout=60_000)
    panel = page.locator("#kexue-sources")
    expect(panel).to_contain_text("班门弄斧：Python的代码能有多简洁？")
    panel.locator("details.kexue-passage summary").first.click()
    one_liner = panel.locator(".code_wrap", has_text="print(sum([i**2 for i in range(11)]))")
    one_liner.locator("xpath=following-sibling::button[1]").click()
    expect(_bot(page)).to_have_count(2, timeout=60_000)
    expect(_bot(page).last).to_contain_text("exit 0")
    expect(_bot(page).last.locator("pre code")).to_have_text("385")
    _shot(page, "ui-run-post-code.png")


def test_run_command_and_run_button_in_the_chat(page):
    _ask(page, "/run\n```python\nimport math\nprint(math.factorial(10))\n```")
    expect(_bot(page).last).to_contain_text("3628800", timeout=60_000)
    run = page.locator("#kexue-chat .kexue-run")
    expect(run).to_have_count(1)
    run.click()
    expect(_bot(page)).to_have_count(2, timeout=60_000)
    expect(_bot(page).last).to_contain_text("3628800")
    expect(_bot(page).last).to_contain_text("exit 0")
    _shot(page, "ui-run.png")


def test_not_covered_and_errors_are_notices_in_the_chat(page):
    _ask(page, "红烧肉怎么做？")
    expect(_bot(page).last).to_contain_text("科学空间的文章没有涉及这个问题", timeout=60_000)
    _ask(page, "问" * 2001)
    expect(_bot(page)).to_have_count(2, timeout=60_000)
    expect(_bot(page).last).to_contain_text("the limit is 2000")
    assert "Traceback" not in page.locator("#kexue-chat").inner_text()


def test_streamed_answer_and_follow_up_with_the_local_model(page):
    page.locator("#kexue-settings").get_by_label("local").check()
    asked = time.monotonic()
    _ask(page, "SimSiam没有负样本，为什么不会坍缩？")
    panel = page.locator("#kexue-sources")
    expect(panel).to_contain_text("依据（回答正在生成）", timeout=LLM_WAIT_MS)
    sources_s = time.monotonic() - asked
    answer = _bot(page).last
    answer.wait_for(timeout=LLM_WAIT_MS)
    expect(answer).to_contain_text("原文摘录")  # the quoted gist, shown while the model reads
    expect(panel.locator(f'a[href="{SIMSIAM_URL}"]').first).to_be_visible()
    (ARTIFACTS / "time-to-sources.txt").write_text(f"{sources_s:.2f} s from submit to the sources panel\n")
    partial = set()
    deadline = time.monotonic() + LLM_WAIT_MS / 1000
    while time.monotonic() < deadline:
        text = answer.inner_text()
        if "来源 Sources" in text or "⚠️" in text:
            break
        if text.strip():
            partial.add(text)
        page.wait_for_timeout(150)
    assert len(partial) >= 2, f"the answer did not stream: {partial}"
    expect(answer.locator(f'a[href="{SIMSIAM_URL}"]').first).to_be_visible()

    _ask(page, "它和BYOL有什么区别？")
    expect(_bot(page)).to_have_count(2, timeout=LLM_WAIT_MS)
    follow_up = _bot(page).last
    expect(follow_up).to_contain_text("来源 Sources", timeout=LLM_WAIT_MS)
    expect(follow_up.locator(f'a[href="{SIMSIAM_URL}"]').first).to_be_visible()
    assert "没有涉及" not in follow_up.inner_text() and "answered extractively" not in follow_up.inner_text()
    expect(page.locator("#kexue-sources")).to_contain_text("2020-12-11")
    _shot(page, "ui-follow-up.png")
