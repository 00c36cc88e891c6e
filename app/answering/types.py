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
class Evidence:
    """Yielded by ``Answerer.stream`` before any answer text: the excerpts the answer is written from (shown at
    once), a quoted gist of the best of them to show while the model reads, and how long that reading should take."""

    excerpts: list[Source]
    gist: str
    prompt_tokens: int | None = None
    reading_s: float | None = None
    pending_search: bool = False  # the question is being searched again in Chinese: this evidence may change
    searched_as: str = ""  # the question in Chinese, searched together with the question as asked


@dataclass
class Citation:
    n: int
    post_id: str
    title: str
    date: str
    url: str
    section: str
    sentence: str = ""  # the excerpt's sentence that best backs the answer sentences citing it
    link: str = ""  # ``url`` with a text fragment that scrolls to ``sentence``


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
        extra = data.pop("extra")
        data.pop("notice")
        data["sentences"] = extra.get("sentences", [])
        data["supported_share"] = extra.get("supported_share")
        if extra.get("searched_as"):
            data["searched_as"] = extra["searched_as"]  # an English question's Chinese search
        for source in data["sources"]:
            source.pop("excerpt")
        return data
