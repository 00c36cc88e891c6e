"""The chat UI's Search tab and its conversation download in Debian's Chromium, on the test index."""

from __future__ import annotations

from pathlib import Path

import pytest

from app.ui.assets import SOURCES_ID
from tests.browser_support import chat_page, chromium, extractive_ui
from tests.test_ui_browser import ARTIFACTS, SIMSIAM_TITLE, SIMSIAM_URL

playwright_api = pytest.importorskip("playwright.sync_api")
pytestmark = [pytest.mark.slow, pytest.mark.filterwarnings("ignore::Warning:gradio.queueing")]
expect = playwright_api.expect


@pytest.fixture(scope="module")
def ui_url(corpus_index):
    with extractive_ui(corpus_index) as url:
        yield url


@pytest.fixture(scope="module")
def browser(tmp_path_factory):
    with chromium(tmp_path_factory.mktemp("chromium-profile"), accept_downloads=True) as context:
        yield context


@pytest.fixture()
def page(browser, ui_url):
    with chat_page(browser, ui_url) as opened:
        yield opened


def _search(page, query: str, after: str = "", before: str = "", category: str = "") -> None:
    page.get_by_role("tab", name="搜索 Search").click()
    page.locator("#kexue-search-after input, #kexue-search-after textarea").first.fill(after)
    page.locator("#kexue-search-before input, #kexue-search-before textarea").first.fill(before)
    if category:
        page.locator("#kexue-search-category input").click()
        page.get_by_role("option", name=category, exact=True).click()
    box = page.locator("#kexue-search-query textarea, #kexue-search-query input").first
    box.fill(query)
    page.locator("#kexue-search-button").click()


def test_search_tab_finds_the_post_with_a_date_filter(page):
    _search(page, "SimSiam", after="2020-06-01", before="2021-06-01")
    results = page.locator("#kexue-search-results")
    first = results.locator("a").first
    expect(first).to_have_attribute("href", SIMSIAM_URL, timeout=60_000)
    expect(first).to_have_text(SIMSIAM_TITLE)
    expect(results).to_contain_text("2020-12-11")
    expect(results.locator("strong", has_text="SimSiam").first).to_be_visible()  # highlighted in the passage
    dates = results.inner_text()
    assert "2019-" not in dates and "2022-" not in dates
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "search-tab.png"), full_page=True)
    _search(page, "SimSiam", after="", before="2020-12-10")
    expect(results).not_to_contain_text("2020-12-11", timeout=60_000)
    expect(results.locator(f'a[href="{SIMSIAM_URL}"]')).to_have_count(0)
    expect(results.locator("a").first).to_be_visible()


def test_search_tab_category_filter_and_bad_date(page):
    _search(page, "SimSiam", category="数学研究")
    results = page.locator("#kexue-search-results")
    expect(results.locator("a").first).to_be_visible(timeout=60_000)
    expect(results.locator(f'a[href="{SIMSIAM_URL}"]')).to_have_count(0)
    assert "数学研究" in results.inner_text() and "信息时代" not in results.inner_text()
    _search(page, "SimSiam", after="2020-1-1")
    expect(results).to_contain_text("after must be a date YYYY-MM-DD, not '2020-1-1'", timeout=60_000)


def test_search_endpoint(ui_url):
    from gradio_client import Client

    client = Client(ui_url, verbose=False, analytics_enabled=False)
    markdown = client.predict("SimSiam为什么不退化", 3, "", "", "信息时代", api_name="/search")
    assert markdown.count("](https://kexue.fm/archives/") == 3
    assert f"[《{SIMSIAM_TITLE[1:-1]}》]({SIMSIAM_URL})" in markdown.split("\n\n")[1] and "**SimSiam**" in markdown
    assert "before must be a date" in client.predict("SimSiam", 3, "", "2020", "", api_name="/search")


def test_download_conversation_as_markdown(page, tmp_path):
    box = page.locator("#kexue-question textarea")
    box.fill("SimSiam为什么不退化？")
    box.press("Enter")
    expect(page.locator('#kexue-chat [data-testid="bot"]').last).to_contain_text("来源 Sources", timeout=120_000)
    panel = page.locator(f"#{SOURCES_ID}")
    expect(panel.locator("mark.kexue-cited").first).to_be_attached()  # the cited sentence, marked in its passage
    expect(panel.locator(f'a[href^="{SIMSIAM_URL}#:~:text="]').first).to_be_attached()
    button = page.locator("#kexue-download")
    expect(button).to_be_enabled(timeout=30_000)
    page.wait_for_timeout(1000)  # the file is written after the answer
    with page.expect_download(timeout=30_000) as info:
        button.click()
    path = Path(tmp_path / info.value.suggested_filename)
    info.value.save_as(path)
    text = path.read_text(encoding="utf-8")
    assert path.suffix == ".md" and text.startswith("# 科学空间问答")
    assert "## 1. SimSiam为什么不退化？" in text and "来源 Sources" in text
    assert f"[{SIMSIAM_TITLE}]({SIMSIAM_URL})" in text and f"({SIMSIAM_URL}#:~:text=" in text
