"""The Gradio chat UI: streamed answers from the same answering API as the CLI, with their sources."""

from __future__ import annotations

from collections.abc import Iterator

from app.answering import Answer, Answerer, QuestionError
from app.answering.render import sources_block
from app.index_store import IndexError_

EXAMPLES = ["SimSiam为什么不退化？", "RoPE旋转位置编码的核心思想是什么？",
            "What is BERT-whitening and why does it help?"]


def _user_turns(history: list[dict]) -> list[str]:
    turns = []
    for message in history:
        content = message.get("content")
        if message.get("role") == "user" and isinstance(content, str):
            turns.append(content)
    return turns


def respond(answerer: Answerer, message: str, history: list[dict]) -> Iterator[str]:
    """Stream the growing answer, then the answer with its sources and any notice."""
    shown = ""
    try:
        for piece in answerer.stream(message, history=_user_turns(history) or None):
            if isinstance(piece, Answer):
                notice = f"\n\n> ⚠️ {piece.notice}" if piece.notice else ""
                yield f"{piece.answer}{notice}\n\n{sources_block(piece)}"
                return
            shown += piece
            yield shown
    except (QuestionError, IndexError_) as exc:
        yield f"⚠️ {exc}"
    except Exception as exc:  # the UI shows a message, never a stack trace
        yield f"⚠️ internal error: {type(exc).__name__}: {exc}"


def build_app(answerer: Answerer):
    import gradio as gr

    def chat(message: str, history: list[dict]) -> Iterator[str]:
        yield from respond(answerer, message, history)

    return gr.ChatInterface(chat, title="科学空间问答", examples=EXAMPLES, cache_examples=False,
                            analytics_enabled=False,
                            description="Ask the blog 科学空间 (kexue.fm, 苏剑林); answers cite posts by title "
                                        "and date.")
