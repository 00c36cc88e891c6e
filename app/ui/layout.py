"""The chat UI's page: chat, input and example questions on the left; settings and the sources panel on the right."""

from __future__ import annotations

from typing import Any

from app.answering import Answerer
from app.answering.answerer import LLM_CHOICES
from app.ui import assets
from app.ui.export import export_dir, export_file
from app.ui.handlers import ChatHandlers
from app.ui.search_tab import SearchTab
from app.ui.sources_panel import EMPTY

TITLE = "科学空间问答"
INTRO = ("# 科学空间问答\nAsk the blog [科学空间](https://kexue.fm) (苏剑林) a question: answers cite posts by "
         "title and date. `/run CODE` (or `/run` alone: the last code block) runs Python in a sandbox; "
         "`/math EXPR` does symbolic maths.")
EXAMPLES = ["SimSiam为什么不退化？", "RoPE旋转位置编码的核心思想是什么？",
            "有没有一个公式能直接算出某一年夏至的具体时刻？", "What is BERT-whitening and why does it help?"]
ANSWER_CONCURRENCY = 4  # answers at once (retrieval is concurrent; the local LLM serialises on its own lock)
RUN_CONCURRENCY = 2  # sandboxed code runs at once
QUEUE_SIZE = 100


def build_app(answerer: Answerer) -> Any:
    """The Gradio Blocks app: a Chat tab, whose ``/chat`` endpoint takes (message, history, k, llm, show_retrieved),
    and a Search tab (endpoint ``/search``)."""
    import gradio as gr

    handlers = ChatHandlers(answerer)
    settings = answerer.settings
    with gr.Blocks(title=TITLE, analytics_enabled=False) as app:
        gr.Markdown(INTRO)
        with gr.Tab("问答 Chat", elem_id="kexue-chat-tab"), gr.Row():
            with gr.Column(scale=3):
                chatbot = gr.Chatbot(elem_id=assets.CHAT_ID, label=TITLE, height=600, buttons=["copy"],
                                     latex_delimiters=assets.LATEX_DELIMITERS, feedback_options=None,
                                     group_consecutive_messages=False,
                                     placeholder="问一个关于科学空间文章的问题 · Ask about a kexue.fm post")
                with gr.Row():
                    question = gr.Textbox(label="Question", show_label=False, scale=5, elem_id="kexue-question",
                                          placeholder="SimSiam为什么不退化？  ·  /run print(1+1)  ·  /math x^2")
                    ask = gr.Button("Ask", variant="primary", scale=1, min_width=80, elem_id="kexue-ask")
                gr.Examples(EXAMPLES, inputs=[question], label="Example questions")
            with gr.Column(scale=2):
                with gr.Accordion("Settings", open=True, elem_id="kexue-settings"):
                    k = gr.Slider(1, 10, value=settings.top_k, step=1, label="k: posts to retrieve")
                    llm = gr.Radio(list(LLM_CHOICES), value=settings.llm, label="LLM backend",
                                   info="extractive: quote the posts, no language model")
                    show_retrieved = gr.Checkbox(False, label="Show retrieved chunks")
                sources = gr.Markdown(EMPTY, label="Sources", elem_id=assets.SOURCES_ID, container=True,
                                      latex_delimiters=assets.LATEX_DELIMITERS, min_height=200, max_height=900)
                download = gr.DownloadButton("Download conversation (.md)", value=None, elem_id="kexue-download")
                gr.ClearButton([chatbot, question, sources, download], value="New conversation")
        with gr.Tab("搜索 Search", elem_id="kexue-search-tab"):
            SearchTab(answerer.retriever, lambda text: handlers.web(text, "source")).build()
        run_code = gr.Textbox(label="code", visible="hidden", elem_id=assets.RUN_CODE_ID)
        run = gr.Button("Run", visible="hidden", elem_id=assets.RUN_TRIGGER_ID)

        downloads = export_dir()

        def export(history: list[dict] | None) -> str | None:
            return export_file(history, downloads)

        gr.on([question.submit, ask.click], handlers.respond, [question, chatbot, k, llm, show_retrieved],
              [chatbot, sources, question], api_name="chat", concurrency_limit=ANSWER_CONCURRENCY,
              concurrency_id="answer").then(export, [chatbot], [download], api_visibility="private")
        run.click(handlers.run_code, [run_code, chatbot], [chatbot], js=assets.RUN_CODE_JS, api_name="run_code",
                  concurrency_limit=RUN_CONCURRENCY, concurrency_id="run").then(export, [chatbot], [download],
                                                                                api_visibility="private")
    return app


def launch_app(app: Any, host: str = "127.0.0.1", port: int = 7860, auth: tuple[str, str] | None = None,
               prevent_thread_lock: bool = False, quiet: bool = False) -> Any:
    """Serve ``app`` with its queue, script, style and theme; never shares a public link."""
    return app.queue(max_size=QUEUE_SIZE).launch(
        server_name=host, server_port=port, auth=auth, share=False, show_error=False,
        prevent_thread_lock=prevent_thread_lock, quiet=quiet, ssr_mode=False, mcp_server=False,
        theme=assets.theme(), css=assets.CSS, js=assets.RUN_BUTTON_JS, footer_links=["api"])
