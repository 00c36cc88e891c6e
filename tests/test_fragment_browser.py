"""Text-fragment links in Debian's Chromium: a saved kexue.fm-like page of a real post, served from 127.0.0.1, opened
with a link built by ``text_fragment`` scrolls to the cited sentence and paints it with the ``::target-text`` style."""

from __future__ import annotations

import functools
import html
import io
import re
import threading
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from app.answering.fragment import WHOLE_WIDTH, encode, text_fragment, visible_runs, width
from tests.browser_support import chromium
from tests.conftest import corpus_path

playwright_api = pytest.importorskip("playwright.sync_api")

POST = "7980"
# sentences of the post's later half: one with formulas between its words, one long enough to be cut to start,end
SENTENCE_STARTS = ["可以看到，停掉第二个", "不同的则是在“不要向常数退化”"]
MAGENTA = (255, 0, 255)
_MATH = re.compile(r"\$\$.+?\$\$|\$[^$\n]+\$|\\begin\{(\w+\*?)\}.+?\\end\{\1\}", re.S)
_GLYPHS = {"theta": "θ", "varphi": "φ", "eta": "η", "partial": "∂", "frac": "", "mathcal": "", "left": "", "right": ""}
OPEN, CLOSE = "\ue000", "\ue001"
PAGE = """<!DOCTYPE html><html lang="zh-CN"><head><meta charset="utf-8">
<title>{title} - 科学空间|Scientific Spaces</title>
<style>body{{font:16px/1.8 "WenQuanYi Micro Hei",sans-serif;margin:0}} #header{{height:120px;background:#2a6}}
#main{{display:flex}} #PostContent{{width:760px;padding:20px}} #sidebar{{width:280px;padding:20px;background:#eee}}
.MathJax{{font-style:italic;color:#036}} ::target-text{{background-color:rgb(255,0,255);color:#000}}</style></head>
<body><div id="header"><a href="/">科学空间|Scientific Spaces</a></div><div id="main"><div id="PostContent">
<h1 class="PostHead">{title}</h1><p class="PostDate">{date} · 苏剑林</p>{body}</div>
<div id="sidebar"><h3>最近评论</h3><p>感谢分享！</p><h3>分类</h3><p>信息时代 · 数学研究</p></div></div>
<div id="comments"><h3>发表你的看法</h3><textarea></textarea></div></body></html>"""


def _rendered_math(tex: str) -> str:
    """A formula as MathJax would leave it in the page: typeset glyphs, not the TeX source."""
    shown = re.sub(r"\\([A-Za-z]+)", lambda m: _GLYPHS.get(m.group(1), ""), tex)
    shown = re.sub(r"[{}$\\]|begin|end|equation", "", shown).strip() or "·"
    return f'<span class="MathJax" aria-label="math">{html.escape(shown)}</span>'


def kexue_like_page(post_file: Path, sentence: str) -> str:
    """The post as kexue.fm shows it: Markdown rendered, formulas typeset, the cited sentence wrapped in #target."""
    from markdown_it import MarkdownIt

    front, body = post_file.read_text(encoding="utf-8").split("---", 2)[1:]
    title = re.search(r'^title: "(.*)"$', front, re.M).group(1)
    date = re.search(r'^date: "(.*)"$', front, re.M).group(1)
    body = body.replace(sentence, OPEN + sentence + CLOSE, 1)
    formulas: list[str] = []

    def hold(match: re.Match) -> str:
        formulas.append(match.group(0))
        return f"\ue002{len(formulas) - 1}\ue003"

    rendered = MarkdownIt("commonmark").render(_MATH.sub(hold, body))
    rendered = re.sub("\ue002(\\d+)\ue003", lambda m: _rendered_math(formulas[int(m.group(1))]), rendered)
    rendered = rendered.replace(OPEN, '<span id="target">').replace(CLOSE, "</span>")
    return PAGE.format(title=html.escape(title), date=date, body=rendered)


@pytest.fixture(scope="module", params=SENTENCE_STARTS)
def cited(request):
    """(post file, the cited sentence) from the real corpus."""
    from ingest.latex_spans import sentences

    post_file = corpus_path("kexue-md", f"{POST}.md")
    found = [s.strip() for s in sentences(post_file.read_text(encoding="utf-8")) if s.strip().startswith(request.param)]
    assert found, f"no sentence starting {request.param!r} in {post_file}"
    sentence = found[0]
    assert len(visible_runs(sentence)) >= 3 if "$" in sentence else width(sentence) > WHOLE_WIDTH
    return post_file, sentence


@pytest.fixture(scope="module")
def site(cited, tmp_path_factory):
    """The saved page served on 127.0.0.1 as /archives/7980."""
    root = tmp_path_factory.mktemp("site")
    (root / "archives").mkdir()
    (root / "archives" / POST).write_text(kexue_like_page(*cited), encoding="utf-8")

    class Handler(SimpleHTTPRequestHandler):
        extensions_map = {"": "text/html; charset=utf-8"}

        def log_message(self, *args):
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), functools.partial(Handler, directory=str(root)))
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_port}/archives/{POST}"
    server.shutdown()


@pytest.fixture(scope="module")
def browser(tmp_path_factory):
    with chromium(tmp_path_factory.mktemp("chromium-profile"), width=1100, height=700) as context:
        yield context


def highlight_of(browser, url: str) -> dict:
    """Open ``url``; report the scroll offset, whether #target is in view, and the ::target-text (magenta) pixels
    painted inside #target's line boxes and outside them."""
    from PIL import Image

    page = browser.new_page()
    try:
        page.goto(url, wait_until="load")
        page.wait_for_timeout(1500)  # the fragment is searched for after load, then scrolled to
        boxes = page.evaluate("""() => [...document.getElementById('target').getClientRects()]
            .map(r => [r.left, r.top, r.right, r.bottom])""")
        state = page.evaluate("() => ({y: window.scrollY, h: window.innerHeight})")
        shot = Image.open(io.BytesIO(page.screenshot())).convert("RGB")
    finally:
        page.close()
    inside = outside = 0
    pixels = shot.load()
    for x in range(0, shot.width, 2):
        for y in range(0, shot.height, 2):
            if pixels[x, y] != MAGENTA:
                continue
            if any(left - 1 <= x <= right + 1 and top - 1 <= y <= bottom + 1 for left, top, right, bottom in boxes):
                inside += 1
            else:
                outside += 1
    area = sum(max(0, min(r, shot.width) - max(left, 0)) * max(0, min(b, shot.height) - max(t, 0))
               for left, t, r, b in boxes) / 4
    in_view = bool(boxes) and all(t >= 0 and b <= state["h"] for _, t, _, b in boxes)
    return {"scroll": state["y"], "in_view": in_view, "inside": inside, "outside": outside, "area": area}


def test_fragment_link_scrolls_to_and_highlights_the_cited_sentence(browser, site, cited):
    _, sentence = cited
    link = text_fragment(site, sentence)
    assert "#:~:text=" in link and "%24" not in link  # no formula source in the directive
    assert link.count(",") == 1  # textStart,textEnd: both too long to match whole
    seen = highlight_of(browser, link)
    assert seen["scroll"] > 500 and seen["in_view"], seen
    assert seen["inside"] > 0.4 * seen["area"], seen  # the sentence's line boxes are painted
    assert seen["outside"] < 0.05 * seen["inside"], seen  # and little else is


def test_without_a_matching_fragment_nothing_is_highlighted(browser, site, cited):
    _, sentence = cited
    plain = highlight_of(browser, site)
    assert plain["scroll"] == 0 and plain["inside"] == plain["outside"] == 0, plain
    if "$" in sentence:
        raw = highlight_of(browser, f"{site}#:~:text={encode(sentence.rstrip('。'))}")  # TeX included: not on the page
        assert raw["inside"] == raw["outside"] == 0, raw
