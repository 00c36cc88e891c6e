"""The chat UI's Search tab: posts ranked by the hybrid retrieval, filtered by date and category, as Markdown."""

from __future__ import annotations

import html
import time
from collections.abc import Callable
from typing import Any

from app.search import MAX_K, PostHit, SearchError, categories, search_posts
from app.ui import assets
from app.ui.messages import notice_block

EMPTY = "_Matching posts appear here._"
ALL = "全部 All"

Transform = Callable[[str], str]


def hit_markdown(hit: PostHit, transform: Transform = str) -> str:
    """One result: linked title, date, category, section and the highlighted passage (through ``transform``, the
    math plugin) as a quote."""
    meta = " · ".join(part for part in (hit.date, hit.category, f"§ {hit.section}" if hit.section else "") if part)
    quote = "\n".join(f"> {line}" for line in transform(hit.snippet).splitlines() if line.strip())
    return f"**{hit.rank}. [《{html.escape(hit.title)}》]({hit.url})** · {meta}\n\n{quote}"


def results_markdown(hits: list[PostHit], ms: float, transform: Transform = str) -> str:
    if not hits:
        return "_No post matches the query and filters._"
    head = f"_{len(hits)} posts · {ms:.0f} ms_"
    return "\n\n".join([head, *(hit_markdown(hit, transform) for hit in hits)])


class SearchTab:
    """The tab's handler over one retriever (shared with the chat's answerer)."""

    def __init__(self, retriever: Any, transform: Transform = str):
        self.retriever, self.transform = retriever, transform

    def search(self, query: str, k: int | float | None = 10, after: str | None = "", before: str | None = "",
               category: str | None = "") -> str:
        """The results' Markdown; a bad filter or an empty query is a notice naming the field."""
        start = time.perf_counter()
        try:
            hits = search_posts(self.retriever, query or "", int(k or 10), after or None, before or None,
                                category or None)
        except SearchError as exc:
            return notice_block(str(exc))
        return results_markdown(hits, (time.perf_counter() - start) * 1000, self.transform)

    def build(self) -> None:
        """The tab's components and its ``/search`` endpoint (inside a ``gr.Blocks`` context)."""
        import gradio as gr

        with gr.Row():
            query = gr.Textbox(label="Search", show_label=False, scale=5, elem_id="kexue-search-query",
                               placeholder="SimSiam  ·  旋转位置编码  ·  BERT-whitening")
            button = gr.Button("Search", variant="primary", scale=1, min_width=80, elem_id="kexue-search-button")
        with gr.Row():
            k = gr.Slider(1, MAX_K, value=10, step=1, label="k: posts", elem_id="kexue-search-k")
            after = gr.Textbox(label="After (YYYY-MM-DD)", placeholder="2020-01-01", elem_id="kexue-search-after")
            before = gr.Textbox(label="Before (YYYY-MM-DD)", placeholder="2024-12-31", elem_id="kexue-search-before")
            category = gr.Dropdown([(ALL, ""), *((name, name) for name in categories(self.retriever))], value="",
                                   label="Category", elem_id="kexue-search-category")
        results = gr.Markdown(EMPTY, elem_id="kexue-search-results", latex_delimiters=assets.LATEX_DELIMITERS,
                              container=True, min_height=200)
        gr.on([query.submit, button.click], self.search, [query, k, after, before, category], [results],
              api_name="search", concurrency_limit=4, concurrency_id="search")
