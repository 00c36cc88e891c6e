"""Export a chat conversation as a Markdown file: each question, then its answer with its cited sources and links."""

from __future__ import annotations

import tempfile
import time
import uuid
from pathlib import Path

from app.ui.messages import message_text

TITLE = "科学空间问答"


def conversation_markdown(history: list[dict] | None, when: str | None = None) -> str:
    """The conversation as Markdown ("" when it is empty); the answers carry their source lists as the chat shows."""
    parts: list[str] = []
    question = 0
    for message in history or []:
        text = message_text(message).strip()
        if not text:
            continue
        if message.get("role") == "user":
            question += 1
            parts.append(f"## {question}. {text}" if "\n" not in text else f"## {question}.\n\n{text}")
        else:
            parts.append(text)
    if not parts:
        return ""
    when = when or time.strftime("%Y-%m-%d %H:%M")
    return f"# {TITLE} · {when}\n\n" + "\n\n".join(parts) + "\n"


def export_file(history: list[dict] | None, folder: Path | None = None) -> str | None:
    """Write the conversation to a new ``.md`` file and return its path (None when there is nothing to export)."""
    text = conversation_markdown(history)
    if not text:
        return None
    folder = Path(folder or tempfile.mkdtemp(prefix="kexue-export-"))
    path = folder / f"kexue-conversation-{time.strftime('%Y%m%d-%H%M%S')}-{uuid.uuid4().hex[:6]}.md"
    path.write_text(text, encoding="utf-8")
    return str(path)
