"""What the answering API returns: sources, citations and the answer, as the ``--json`` schema prints them."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field


@dataclass
class Source:
    """One retrieved passage, numbered ``rank`` (1-based) as the prompt numbers it."""

    rank: int
    post_id: str
    title: str
    date: str
    url: str
    section: str
    score: float
    text: str
    excerpt: bool = False


@dataclass
class Citation:
    n: int
    post_id: str
    title: str
    date: str
    url: str
    section: str


@dataclass
class Answer:
    question: str
    answer: str
    lang: str
    refused: bool
    citations: list[Citation]
    sources: list[Source]
    timings: dict[str, float]
    llm: str
    notice: str = ""
    extra: dict = field(default_factory=dict)

    def to_json(self) -> dict:
        """The object ``ask --json`` prints (the notice goes to stderr)."""
        data = asdict(self)
        data.pop("extra")
        data.pop("notice")
        for source in data["sources"]:
            source.pop("excerpt")
        return data
