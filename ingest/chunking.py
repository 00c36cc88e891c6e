"""Split posts into section chunks that fit the embedder, as llama-index ``TextNode`` objects."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

from llama_index.core.schema import MetadataMode, TextNode

from ingest.latex_spans import paragraphs, sentences
from ingest.post import Post

CHUNKER_VERSION = 1
SECTION_SEPARATOR = " > "
EMBED_KEYS = ("title", "section")
TokenCounter = Callable[[list[str]], list[int]]


@dataclass(frozen=True)
class ChunkerSettings:
    max_tokens: int = 400  # budget per embedded text, prefix and special tokens included
    hard_max_tokens: int = 512  # the embedder's limit
    min_chars: int = 200  # shorter sections are merged into a neighbour

    def as_dict(self) -> dict:
        return {"version": CHUNKER_VERSION, "max_tokens": self.max_tokens,
                "hard_max_tokens": self.hard_max_tokens, "min_chars": self.min_chars}


@dataclass
class _Piece:
    path: tuple[str, ...]
    text: str


def _node(post: Post, path: tuple[str, ...], text: str, position: int) -> TextNode:
    metadata = {
        "post_id": post.post_id, "title": post.title, "date": post.date, "url": post.url,
        "category": post.category, "tags": list(post.tags), "section": SECTION_SEPARATOR.join(path),
        "position": position, "excerpt": post.excerpt, "format": post.format,
    }
    hidden = [k for k in metadata if k not in EMBED_KEYS]
    return TextNode(
        id_=f"{post.post_id}#{position}", text=text, metadata=metadata,
        excluded_embed_metadata_keys=hidden, excluded_llm_metadata_keys=hidden,
        metadata_template="{value}", metadata_separator="\n", text_template="{metadata_str}\n\n{content}",
    )


def embed_text(node: TextNode) -> str:
    """The text that is embedded: title, section path, then the chunk."""
    return node.get_content(metadata_mode=MetadataMode.EMBED)


class Chunker:
    """Chunk posts by section under a token budget, never cutting math, LaTeX environments or code."""

    def __init__(self, count_tokens: TokenCounter, settings: ChunkerSettings | None = None):
        self.count_tokens = count_tokens
        self.settings = settings or ChunkerSettings()
        self._base = count_tokens([""])[0]

    def _tokens(self, texts: Sequence[str]) -> list[int]:
        return [n - self._base for n in self.count_tokens(list(texts))] if texts else []

    def chunk(self, post: Post) -> list[TextNode]:
        headers = [f"{post.title}\n{SECTION_SEPARATOR.join(s.path)}\n\n" for s in post.sections]
        budgets = [max(32, self.settings.max_tokens - self._base - n) for n in self._tokens(headers)]
        pieces: list[_Piece] = []
        for section, budget in zip(post.sections, budgets, strict=True):
            pieces.extend(self._pack_section(section.path, section.text, budget))
        pieces = self._merge_short(pieces, min(budgets, default=self.settings.max_tokens))
        return self._enforce_hard_limit(post, pieces)

    def _units(self, text: str, budget: int) -> list[tuple[str, int]]:
        """Paragraphs, with over-budget ones split into sentences; each with its token count."""
        paras = paragraphs(text)
        units: list[tuple[str, int]] = []
        for para, n in zip(paras, self._tokens(paras), strict=True):
            if n <= budget:
                units.append((para, n))
                continue
            sents = sentences(para)
            units.extend(zip(sents, self._tokens(sents), strict=True))
        return units

    def _pack_section(self, path: tuple[str, ...], text: str, budget: int) -> list[_Piece]:
        pieces: list[_Piece] = []
        current: list[str] = []
        used = 0
        for unit, n in self._units(text, budget):
            if current and used + n + 1 > budget:
                pieces.append(_Piece(path, "\n\n".join(current)))
                current, used = [], 0
            current.append(unit)
            used += n + 1
        if current or not pieces:
            pieces.append(_Piece(path, "\n\n".join(current)))
        return pieces

    def _merge_short(self, pieces: list[_Piece], budget: int) -> list[_Piece]:
        """Merge pieces shorter than ``min_chars`` into the following (or, at the end, the previous) one."""
        merged: list[_Piece] = []
        pending: _Piece | None = None
        for piece in pieces:
            if pending is not None:
                joined = _join(pending, piece)
                if self._tokens([joined.text])[0] <= budget:
                    piece = joined
                else:
                    merged.append(pending)
                pending = None
            if len(piece.text) < self.settings.min_chars:
                pending = piece
            else:
                merged.append(piece)
        if pending is not None:
            if merged and self._tokens([_join(merged[-1], pending).text])[0] <= budget:
                merged[-1] = _join(merged[-1], pending)
            elif pending.text.strip() or not merged:
                merged.append(pending)
        return [p for p in merged if p.text.strip()] or merged[:1]

    def _enforce_hard_limit(self, post: Post, pieces: list[_Piece]) -> list[TextNode]:
        """Halve any chunk whose real embedded length exceeds the embedder's limit, until none can be cut."""
        while True:
            nodes = [_node(post, p.path, p.text, i) for i, p in enumerate(pieces)]
            counts = self.count_tokens([embed_text(n) for n in nodes])
            result: list[_Piece] = []
            for piece, count in zip(pieces, counts, strict=True):
                units = paragraphs(piece.text) if count > self.settings.hard_max_tokens else []
                if len(units) < 2 and units:
                    units = sentences(piece.text)
                if len(units) < 2:
                    result.append(piece)  # fits, or one unbreakable block that the embedder truncates
                    continue
                half = len(units) // 2
                result += [_Piece(piece.path, "\n\n".join(units[:half])),
                           _Piece(piece.path, "\n\n".join(units[half:]))]
            if len(result) == len(pieces):
                return nodes
            pieces = result


def _join(first: _Piece, second: _Piece) -> _Piece:
    """Append ``second`` to ``first``, keeping second's heading as a Markdown line when it differs."""
    if second.path and second.path != first.path:
        heading = "#" * (len(second.path) + 1) + " " + second.path[-1]
        text = "\n\n".join(t for t in (first.text, heading, second.text) if t)
    else:
        text = "\n\n".join(t for t in (first.text, second.text) if t)
    return _Piece(first.path or second.path, text)
