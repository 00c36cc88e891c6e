"""A polite crawler for kexue.fm: robots.txt, one request per ``delay_s``, an on-disk cache, resumable runs.

It walks the listing pages from ``start_url`` (``div.Post`` items, the ``»`` link to the next page) and
fetches every post page ``/archives/<id>`` found there into ``cache_dir/posts/<id>.html``. ``state.json``
(written atomically after every page) remembers the listing pages, posts and failures, so that

- an interrupted crawl resumes where it stopped, reusing its cached listing pages and refetching nothing;
- a re-run after a finished crawl re-fetches listing pages only until one whose posts are all known, and
  fetches only the posts not yet cached.
"""

from __future__ import annotations

import json
import os
import re
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urldefrag, urljoin, urlparse
from urllib.robotparser import RobotFileParser

import requests
from bs4 import BeautifulSoup

DEFAULT_USER_AGENT = "kexue-qa/0.1 (+https://kexue.fm; polite RAG crawler)"
POST_RE = re.compile(r"/archives/(\d+)/?$")
RETRY_STATUS = {429, 500, 502, 503, 504}


class CrawlError(Exception):
    """The crawl cannot go on (e.g. robots.txt cannot be read); the message says why."""


@dataclass
class CrawlResult:
    files: list[Path]  # every cached post page, from this run and earlier ones
    fetched: list[str] = field(default_factory=list)  # URLs requested over the network in this run
    skipped: dict[str, str] = field(default_factory=dict)  # URL → why it was not (or could not be) fetched
    complete: bool = False  # False when the run stopped early (max_pages, a listing page that failed)


class RateLimiter:
    """At least ``delay_s`` between the end of one request and the start of the next."""

    def __init__(self, delay_s: float, clock: Callable[[], float] = time.monotonic,
                 sleep: Callable[[float], None] = time.sleep):
        self.delay_s, self._clock, self._sleep = delay_s, clock, sleep
        self._last: float | None = None

    def wait(self) -> None:
        if self._last is not None:
            remaining = self.delay_s - (self._clock() - self._last)
            if remaining > 0:
                self._sleep(remaining)

    def done(self) -> None:
        self._last = self._clock()


def write_atomic(path: Path, data: bytes) -> None:
    """Write via a temporary file and a rename, so a crash never leaves a half-written file."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def parse_listing(html: str, base_url: str) -> tuple[list[str], str | None]:
    """Post URLs of a listing page (``div.Post`` → ``h2 a``) and the URL of its ``»`` next-page link."""
    soup = BeautifulSoup(html, "lxml")
    posts: list[str] = []
    for link in soup.select("div.Post h2 a[href]"):
        url = urldefrag(urljoin(base_url, link["href"]))[0]
        if POST_RE.search(urlparse(url).path) and url not in posts:
            posts.append(url)
    nxt = next((a for a in soup.find_all("a", href=True) if a.get_text(strip=True) == "»"), None)
    return posts, urljoin(base_url, nxt["href"]) if nxt else None


class Crawler:
    def __init__(self, start_url: str, cache_dir: Path, *, delay_s: float = 1.0,
                 user_agent: str = DEFAULT_USER_AGENT, max_pages: int | None = None,
                 progress: bool | Callable[[str], None] | None = None, session: requests.Session | None = None,
                 timeout_s: float = 30.0, retries: int = 3):
        self.start_url, self.cache_dir = start_url, Path(cache_dir)
        self.user_agent, self.max_pages, self.timeout_s, self.retries = user_agent, max_pages, timeout_s, retries
        self.session = session or requests.Session()
        self.limiter = RateLimiter(delay_s)
        self.delay_s = delay_s
        self._say = progress if callable(progress) else (
            (lambda msg: print(f"crawl: {msg}", file=sys.stderr)) if progress else (lambda msg: None))
        self.state_file = self.cache_dir / "state.json"
        self.state = self._load_state()
        self.result = CrawlResult(files=[])
        self.robots = RobotFileParser()
        self.pages_fetched = 0

    def _load_state(self) -> dict:
        fresh = {"version": 1, "complete": False, "listings": {}, "posts": {}, "failed": {}}
        try:
            state = json.loads(self.state_file.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return fresh
        return {**fresh, **state} if isinstance(state, dict) else fresh

    def _save_state(self) -> None:
        write_atomic(self.state_file, json.dumps(self.state, ensure_ascii=False, indent=1).encode("utf-8"))

    def _request(self, url: str) -> requests.Response | None:
        """GET with the rate limit, a timeout and retries with backoff on 5xx/429 and connection errors."""
        problem = ""
        for attempt in range(self.retries + 1):
            if attempt:
                time.sleep(max(self.delay_s, 0.1) * 2 ** (attempt - 1))
            self.limiter.wait()
            try:
                response = self.session.get(url, timeout=self.timeout_s, headers={"User-Agent": self.user_agent})
            except (requests.ConnectionError, requests.Timeout) as exc:
                problem = f"{type(exc).__name__}"
                continue
            finally:
                self.limiter.done()
                self.result.fetched.append(url)
            if response.status_code not in RETRY_STATUS:
                return response
            problem = f"HTTP {response.status_code}"
        self.result.skipped[url] = f"gave up after {self.retries + 1} tries ({problem})"
        return None

    def _read_robots(self) -> None:
        parts = urlparse(self.start_url)
        url = f"{parts.scheme}://{parts.netloc}/robots.txt"
        response = self._request(url)
        if response is None:
            raise CrawlError(f"cannot read {url} ({self.result.skipped.get(url)}); not crawling without it")
        if response.status_code in (401, 403):
            self.robots.disallow_all = True
        elif response.status_code >= 400:
            self.robots.allow_all = True
        else:
            self.robots.parse(response.text.splitlines())
        delay = self.robots.crawl_delay(self.user_agent)
        if delay and float(delay) > self.limiter.delay_s:
            self.limiter.delay_s = float(delay)

    def _allowed(self, url: str) -> bool:
        if self.robots.can_fetch(self.user_agent, url):
            return True
        self.result.skipped[url] = "disallowed by robots.txt"
        return False

    def _budget_left(self) -> bool:
        return self.max_pages is None or self.pages_fetched < self.max_pages

    def _fetch_html(self, url: str) -> str | None:
        """The page's HTML, or None (recorded in ``skipped``; 4xx and non-HTML also in the state's failures)."""
        if not self._allowed(url):
            return None
        self._say(f"GET {url}")
        self.pages_fetched += 1
        response = self._request(url)
        if response is None:
            return None
        kind = response.headers.get("Content-Type", "")
        reason = ""
        if response.status_code >= 400:
            reason = f"HTTP {response.status_code}"
        elif "html" not in kind.lower():
            reason = f"not HTML ({kind or 'no content type'})"
        if reason:
            self.state["failed"][url] = reason
            self.result.skipped[url] = reason
            self._save_state()
            return None
        if "charset" not in kind.lower():
            response.encoding = "utf-8"
        return response.text

    def _listing(self, url: str, reuse: bool) -> str | None:
        name = self.state["listings"].get(url)
        if reuse and name and (self.cache_dir / name).is_file():
            return (self.cache_dir / name).read_text(encoding="utf-8")
        html = self._fetch_html(url)
        if html is not None:
            name = name or f"listings/{len(self.state['listings']):04d}.html"
            write_atomic(self.cache_dir / name, html.encode("utf-8"))
            self.state["listings"][url] = name
            self._save_state()
        return html

    def _post(self, url: str) -> None:
        post_id = POST_RE.search(urlparse(url).path).group(1)
        html = self._fetch_html(url)
        if html is not None:
            write_atomic(self.cache_dir / "posts" / f"{post_id}.html", html.encode("utf-8"))
            self.state["posts"][post_id] = f"posts/{post_id}.html"
            self._save_state()

    def _same_site(self, url: str) -> bool:
        if urlparse(url).netloc == urlparse(self.start_url).netloc:
            return True
        self.result.skipped[url] = "on another site"
        return False

    def _known(self, url: str) -> bool:
        m = POST_RE.search(urlparse(url).path)
        return bool(m and m.group(1) in self.state["posts"]) or url in self.state["failed"]

    def run(self) -> CrawlResult:
        incremental = bool(self.state.get("complete"))  # a finished crawl: look only for new posts
        self.state["complete"] = False
        self._read_robots()
        try:
            self.result.complete = self._walk(incremental)
        finally:
            self.state["complete"] = self.result.complete
            self._save_state()
            self.result.files = sorted(p for name in self.state["posts"].values()
                                       if (p := self.cache_dir / name).is_file())
        return self.result

    def _walk(self, incremental: bool) -> bool:
        if POST_RE.search(urlparse(self.start_url).path):
            if not self._known(self.start_url):
                self._post(self.start_url)
            return True
        url: str | None = self.start_url
        seen: set[str] = set()
        while url and url not in seen and self._same_site(url):
            seen.add(url)
            if not self._budget_left():
                return False
            html = self._listing(url, reuse=not incremental)
            if html is None:
                return False
            posts, url = parse_listing(html, url)
            new = [p for p in posts if not self._known(p) and self._same_site(p) and self._allowed(p)]
            for post_url in new:
                if not self._budget_left():
                    return False
                self._post(post_url)
            if incremental and not new:
                break
        return True


def crawl(start_url: str, cache_dir: Path, *, delay_s: float = 1.0, user_agent: str = DEFAULT_USER_AGENT,
          max_pages: int | None = None, progress: bool | Callable[[str], None] | None = None,
          session: requests.Session | None = None) -> CrawlResult:
    """Crawl ``start_url`` (a listing page, or a single post page) politely into ``cache_dir``; see the module
    docstring. ``max_pages`` caps the pages requested in this run (robots.txt not counted); the run then ends
    with ``complete=False`` and the next one resumes. ``progress``: True to log to stderr, or a callable."""
    return Crawler(start_url, cache_dir, delay_s=delay_s, user_agent=user_agent, max_pages=max_pages,
                   progress=progress, session=session).run()
