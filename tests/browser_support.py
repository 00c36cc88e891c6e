"""What the browser tests share: Debian's Chromium driven by Playwright, and the chat UI served for it."""

from __future__ import annotations

import contextlib
import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from app.settings import Settings
from tests.openai_server import free_port

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync"]


@contextlib.contextmanager
def chromium(profile: Path, width: int = 1400, height: int = 1000, **options: Any) -> Iterator[Any]:
    """A headless Chromium context (fails the test, with the fix, when the browser is missing)."""
    from playwright.sync_api import sync_playwright

    if not os.access(CHROMIUM, os.X_OK):
        pytest.fail(f"{CHROMIUM} is missing: apt-get install chromium (scripts/test.sh does)")
    with sync_playwright() as playwright:
        context = playwright.chromium.launch_persistent_context(
            profile, executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS,
            viewport={"width": width, "height": height}, locale="zh-CN", **options)
        yield context
        context.close()


@contextlib.contextmanager
def chat_page(browser: Any, url: str) -> Iterator[Any]:
    """A new tab on the chat UI at ``url``, once its question box is there."""
    page = browser.new_page()
    page.goto(url, wait_until="domcontentloaded")
    page.locator("#kexue-question textarea").wait_for()
    yield page
    page.close()


@contextlib.contextmanager
def extractive_ui(settings: Settings) -> Iterator[str]:
    """The chat UI over ``settings``' index with extractive answers, on a free loopback port; yields its URL."""
    from app.answering import Answerer
    from app.ui import build_app, launch_app

    app = build_app(Answerer(settings.replace(llm="extractive")))
    port = free_port()
    launch_app(app, port=port, prevent_thread_lock=True, quiet=True)
    yield f"http://127.0.0.1:{port}/"
    app.close()
