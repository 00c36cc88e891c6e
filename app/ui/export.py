"""Export a chat conversation as a Markdown file: each question, then its answer with its cited sources and links."""

from __future__ import annotations

import contextlib
import os
import tempfile
import time
import uuid
from pathlib import Path

from app.ui.messages import message_text

KEEP_S = 3600

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


def export_dir() -> Path:
    """The user's one folder for chat downloads (``<tmp>/kexue-export-<uid>``, private), shared by every chat
    process so that a server stopped by a signal leaves no folder behind; a new private folder when that name is
    taken by something that is not the user's own directory."""
    folder = Path(tempfile.gettempdir()) / f"kexue-export-{os.getuid()}"
    with contextlib.suppress(FileExistsError):
        folder.mkdir(mode=0o700)
    info = folder.lstat()
    if folder.is_symlink() or not folder.is_dir() or info.st_uid != os.getuid() or info.st_mode & 0o077:
        return Path(tempfile.mkdtemp(prefix="kexue-export-"))
    return folder


def export_file(history: list[dict] | None, folder: Path | None = None) -> str | None:
    """Write the conversation to a new ``.md`` file and return its path (None when there is nothing to export);
    files in ``folder`` older than ``KEEP_S`` are removed (a download is fetched within seconds)."""
    text = conversation_markdown(history)
    if not text:
        return None
    folder = Path(folder or export_dir())
    cutoff = time.time() - KEEP_S
    for old in folder.glob("kexue-conversation-*.md"):
        with contextlib.suppress(OSError):
            if old.stat().st_mtime < cutoff:
                old.unlink()
    path = folder / f"kexue-conversation-{time.strftime('%Y%m%d-%H%M%S')}-{uuid.uuid4().hex[:6]}.md"
    path.write_text(text, encoding="utf-8")
    return str(path)
