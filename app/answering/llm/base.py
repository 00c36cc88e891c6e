"""What every generation backend offers, and the one error that tells the caller to fall back."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Protocol


class LLMUnavailable(Exception):
    """The language model cannot answer now (missing, corrupt, not loadable, unreachable, too slow).

    The message is one line meant for the user; the caller falls back to the extractive answer and shows it.
    Raised by ``load_backend`` or by ``stream``: before the first piece, or (on a timeout) after some pieces.
    """


class ChatBackend(Protocol):
    """A chat model that streams its answer to a list of ``{"role": ..., "content": ...}`` messages."""

    name: str

    def stream(self, messages: list[dict], *, max_tokens: int, temperature: float,
               stop: list[str] | None = None) -> Iterator[str]:
        """Yield the answer text piece by piece, as it is generated."""
        ...


def one_line(text: object, limit: int = 300) -> str:
    """The first non-empty line of ``text``, shortened to ``limit`` characters."""
    lines = [line.strip() for line in str(text).splitlines() if line.strip()]
    first = lines[0] if lines else str(text).strip()
    return first if len(first) <= limit else first[: limit - 1] + "…"
