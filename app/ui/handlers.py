"""What the chat UI's events do: stream an answer (or run a slash command), and run a code block."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from typing import Any

from app.answering import Answer, Answerer, Evidence, QuestionError
from app.answering.language import detect_language
from app.chat_commands import handle_command, is_command, run_python
from app.index_store import IndexError_
from app.ui.messages import answer_markdown, conversation_texts, earlier_questions, gist_markdown, notice_block
from app.ui.sources_panel import render_evidence, render_sources

log = logging.getLogger(__name__)


def _skip() -> Any:
    """Leave an output as it is."""
    import gradio as gr

    return gr.skip()


class ChatHandlers:
    """The event handlers of one app, sharing its answerer and plugin tools across conversations."""

    def __init__(self, answerer: Answerer):
        self.answerer = answerer
        self._tools: dict[str, Any] | None = None

    def tools(self) -> dict[str, Any]:
        if self._tools is None:
            import plugins

            self._tools = plugins.tools(self.answerer.settings)
        return self._tools

    def web(self, text: str, kind: str) -> str:
        """``text`` through the plugins' transforms for the web (math to KaTeX-ready Markdown)."""
        import plugins

        try:
            return plugins.apply_transforms(text, "web", kind, self.answerer.settings)
        except Exception:  # a broken plugin must not lose the answer
            log.exception("a text transform failed; showing the text unchanged")
            return text

    def respond(self, message: str, history: list[dict] | None, k: int | float | None = None,
                llm: str | None = None, show_retrieved: bool = False) -> Iterator[tuple[list[dict], Any, str]]:
        """Yield (chat, sources panel, input box) as the answer streams in; commands run a tool instead."""
        history = list(history or [])
        chat = [*history, {"role": "user", "content": message}]
        try:
            if is_command(message):
                command = handle_command(message, conversation_texts(history), self.tools())
                yield [*chat, {"role": "assistant", "content": command.markdown}], _skip(), ""
                return
            yield chat, _skip(), ""
            shown = ""
            for piece in self.answerer.stream(message, k=int(k) if k else None, history=earlier_questions(history),
                                              llm=llm or None):
                if isinstance(piece, Answer):
                    reply = answer_markdown(piece, lambda text: self.web(text, "answer"))
                    panel = render_sources(piece, lambda text: self.web(text, "source"), bool(show_retrieved))
                    yield [*chat, {"role": "assistant", "content": reply}], panel, ""
                    return
                if isinstance(piece, Evidence):
                    lang = detect_language(message)
                    panel = render_evidence(piece, lang, lambda text: self.web(text, "source"))
                    gist = gist_markdown(piece, lang, lambda text: self.web(text, "answer"))
                    yield [*chat, {"role": "assistant", "content": gist}] if gist else chat, panel, ""
                    continue
                shown += piece
                yield [*chat, {"role": "assistant", "content": self.web(shown, "answer")}], _skip(), ""
        except (QuestionError, IndexError_) as exc:
            yield [*chat, {"role": "assistant", "content": notice_block(str(exc))}], _skip(), ""
        except Exception as exc:  # the chat shows a message, never a stack trace
            log.exception("answering %r failed", message)
            text = notice_block(f"internal error ({type(exc).__name__}): {exc}")
            yield [*chat, {"role": "assistant", "content": text}], _skip(), ""

    def run_code(self, code: str, history: list[dict] | None) -> list[dict]:
        """Run a code block the user clicked Run under; its output is added to the chat."""
        history = list(history or [])
        if not (code or "").strip():
            return [*history, {"role": "assistant", "content": notice_block("there is no code to run")}]
        try:
            reply = run_python(code, self.tools()).markdown
        except Exception as exc:  # the chat shows a message, never a stack trace
            log.exception("running a code block failed")
            reply = notice_block(f"internal error ({type(exc).__name__}): {exc}")
        return [*history, {"role": "assistant", "content": reply}]
