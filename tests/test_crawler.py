"""The polite crawler against a real local HTTP server serving a small site built by the test."""

from __future__ import annotations

import json
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
import requests

from ingest.crawler import CrawlError, RateLimiter, crawl, parse_listing
from ingest.sources import load_file

POST_HTML = """<!DOCTYPE html><html><head><meta charset="utf-8"><title>{title} - 科学空间</title></head><body>
<div class="Post"><h1><a href="/archives/{id}">{title}</a></h1>
<span class="submitted">By 苏剑林 | {date} | 10位读者 |</span>
<div class="PostContent"><p>第{id}篇的开头，公式 $a_{id} &lt; b$。</p>
<h2 id="s1">方法<a href="#s1"> #</a></h2><p>\\begin{{equation}}x^{id}\\end{{equation}}</p>
<pre><code>print({id})</code></pre>
<p><strong>转载到请包括本文地址：</strong><a href="/archives/{id}">/archives/{id}</a></p></div>
<div>分类：<a href="/category/Big-Data">信息时代</a> 标签：<a href="/tag/t/">测试</a></div></div>
</body></html>"""


class Site:
    """A tiny kexue.fm: robots.txt, listing pages ``/``, ``/page/N`` (``»`` links) and post pages."""

    def __init__(self):
        self.listing = [[5, 4], [3, 2, 404], [1, 6]]  # 3: robots.txt says no; 404: missing; 6: not HTML
        self.log: list[tuple[str, float]] = []
        self.flaky: dict[str, int] = {}  # path → how many 503 answers before the real one
        self.lock = threading.Lock()

    def paths(self, prefix: str = "") -> list[str]:
        return [p for p, _ in self.log if p.startswith(prefix)]

    def add_post(self, post_id: int) -> None:
        self.listing[0].insert(0, post_id)

    def page(self, path: str) -> tuple[int, str, str]:
        if path == "/robots.txt":
            return 200, "text/plain", "User-agent: *\nDisallow: /archives/3\nDisallow: /private/\n"
        if path == "/" or path.startswith("/page/"):
            index = 0 if path == "/" else int(path.rsplit("/", 1)[1]) - 1
            if index >= len(self.listing):
                return 404, "text/html", "<html>not found</html>"
            items = "".join(f'<div class="Post"><h2><a href="/archives/{n}">第{n}篇</a></h2>'
                            f'<span class="submitted">By 苏剑林 | 2020-01-0{n % 10} | 1位读者</span><p>摘要</p></div>'
                            for n in self.listing[index])
            nxt = f'<a href="/page/{index + 2}">»</a>' if index + 1 < len(self.listing) else ""
            return 200, "text/html; charset=utf-8", f"<html><body>{items}<div>{nxt}</div></body></html>"
        if path.startswith("/archives/"):
            post_id = int(path.rsplit("/", 1)[1])
            if post_id == 404:
                return 404, "text/html", "<html>not found</html>"
            if post_id == 6:
                return 200, "application/pdf", "%PDF-1.4"
            html = POST_HTML.format(id=post_id, title=f"第{post_id}篇文章", date=f"2020-01-0{post_id % 10}")
            return 200, "text/html", html  # no charset: the crawler must still read it as UTF-8
        return 404, "text/plain", "not found"


@pytest.fixture()
def site():
    state = Site()

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self):  # noqa: N802 (http.server's naming)
            with state.lock:
                state.log.append((self.path, time.monotonic()))
                if state.flaky.get(self.path, 0) > 0:
                    state.flaky[self.path] -= 1
                    status, kind, body = 503, "text/plain", "busy"
                else:
                    status, kind, body = state.page(self.path)
            data = body.encode("utf-8")
            self.send_response(status)
            self.send_header("Content-Type", kind)
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def log_message(self, *args):
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    state.url = f"http://127.0.0.1:{server.server_address[1]}/"
    yield state
    server.shutdown()
    server.server_close()


def session() -> requests.Session:
    s = requests.Session()
    s.trust_env = False  # no proxy for 127.0.0.1
    return s


class FailingSession(requests.Session):
    """Raises on the n-th request, as an interrupted crawl (Ctrl-C, a crash) would."""

    def __init__(self, fail_at: int):
        super().__init__()
        self.trust_env, self.calls, self.fail_at = False, 0, fail_at

    def get(self, *args, **kwargs):
        self.calls += 1
        if self.calls == self.fail_at:
            raise KeyboardInterrupt
        return super().get(*args, **kwargs)


def test_crawl_honours_robots_and_the_delay(site, tmp_path):
    result = crawl(site.url, tmp_path / "cache", delay_s=0.2, session=session())
    assert result.complete
    assert site.paths()[0] == "/robots.txt"
    assert "/archives/3" not in site.paths()
    assert result.skipped[site.url + "archives/3"] == "disallowed by robots.txt"
    assert result.skipped[site.url + "archives/404"] == "HTTP 404"
    assert result.skipped[site.url + "archives/6"].startswith("not HTML (application/pdf")
    assert [p.name for p in result.files] == ["1.html", "2.html", "4.html", "5.html"]
    times = [t for _, t in site.log]
    gaps = [b - a for a, b in zip(times, times[1:], strict=False)]
    assert len(gaps) == len(result.fetched) - 1 == 9
    assert min(gaps) >= 0.2, gaps
    state = json.loads((tmp_path / "cache" / "state.json").read_text(encoding="utf-8"))
    assert state["complete"] and sorted(state["posts"]) == ["1", "2", "4", "5"]
    assert set(state["failed"]) == {site.url + "archives/404", site.url + "archives/6"}


def test_resume_after_max_pages_refetches_nothing(site, tmp_path):
    first = crawl(site.url, tmp_path, delay_s=0.01, max_pages=3, session=session())
    assert not first.complete and len(first.files) == 2  # listing 1, posts 5 and 4
    second = crawl(site.url, tmp_path, delay_s=0.01, session=session())
    assert second.complete and [p.name for p in second.files] == ["1.html", "2.html", "4.html", "5.html"]
    pages = [p for p in site.paths() if p != "/robots.txt"]
    assert len(pages) == len(set(pages)), pages  # nothing fetched twice, not even listing page 1


def test_resume_after_an_exception_mid_crawl(site, tmp_path):
    with pytest.raises(KeyboardInterrupt):
        crawl(site.url, tmp_path, delay_s=0.01, session=FailingSession(fail_at=5))
    state = json.loads((tmp_path / "state.json").read_text(encoding="utf-8"))
    assert not state["complete"] and sorted(state["posts"]) == ["4", "5"]
    assert not list(tmp_path.rglob("*.tmp"))  # atomic writes leave no half-written files
    before = len(site.log)
    result = crawl(site.url, tmp_path, delay_s=0.01, session=session())
    assert result.complete and len(result.files) == 4
    refetched = [p for p in site.paths()[before:] if p.startswith("/archives/")]
    assert refetched == ["/archives/2", "/archives/404", "/archives/1", "/archives/6"]


def test_rerun_fetches_only_the_new_post(site, tmp_path):
    crawl(site.url, tmp_path, delay_s=0.01, session=session())
    before = len(site.log)
    site.add_post(7)
    result = crawl(site.url, tmp_path, delay_s=0.01, session=session())
    fetched = site.paths()[before:]
    assert [p for p in fetched if p.startswith("/archives/")] == ["/archives/7"]
    assert fetched == ["/robots.txt", "/", "/archives/7", "/page/2"]  # stops at a page of known posts
    assert result.complete and "7.html" in [p.name for p in result.files]
    again = crawl(site.url, tmp_path, delay_s=0.01, session=session())
    assert site.paths()[before + len(fetched):] == ["/robots.txt", "/"] and len(again.files) == 5


def test_retries_server_errors(site, tmp_path):
    site.flaky["/archives/5"] = 2
    result = crawl(site.url, tmp_path, delay_s=0.01, session=session())
    assert site.paths("/archives/5") == ["/archives/5"] * 3
    assert "5.html" in [p.name for p in result.files]


def test_unreachable_site(tmp_path):
    with pytest.raises(CrawlError, match="robots.txt"):
        crawl("http://127.0.0.1:9/", tmp_path, delay_s=0.01, session=session())


def test_cached_pages_load_as_posts(site, tmp_path):
    result = crawl(site.url, tmp_path, delay_s=0.01, session=session())
    posts = {p.post_id: p for f in result.files for p in load_file(f)}
    assert sorted(posts) == ["1", "2", "4", "5"]
    five = posts["5"]
    assert (five.title, five.date, five.format) == ("第5篇文章", "2020-01-05", "html")
    assert (five.category, five.tags) == ("信息时代", ["测试"])
    assert [s.path for s in five.sections] == [(), ("方法",)]
    assert "$a_5 < b$" in five.body and "\\begin{equation}x^5\\end{equation}" in five.body
    assert "```\nprint(5)\n```" in five.body and "转载" not in five.body


def test_parse_listing_and_rate_limiter():
    html = ('<div class="Post"><h2><a href="/archives/12#comments">t</a></h2></div>'
            '<div class="Post"><h2><a href="https://kexue.fm/archives/11/">t</a></h2></div><a href="/page/3">»</a>')
    posts, nxt = parse_listing(html, "https://kexue.fm/page/2")
    assert posts == ["https://kexue.fm/archives/12", "https://kexue.fm/archives/11/"]
    assert nxt == "https://kexue.fm/page/3"
    now, slept = [0.0], []
    limiter = RateLimiter(1.0, clock=lambda: now[0], sleep=lambda s: (slept.append(s), now.__setitem__(0, now[0] + s)))
    limiter.wait()
    limiter.done()
    now[0] += 0.25
    limiter.wait()
    assert slept == [0.75]
