"""A blog post as the loaders produce it: metadata plus its body split into sections."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field

SITE = "https://kexue.fm"


def archive_url(post_id: str) -> str:
    return f"{SITE}/archives/{post_id}"


@dataclass
class Section:
    """A run of the body under one heading path; ``path`` is () for the text before the first heading."""

    path: tuple[str, ...]
    text: str


@dataclass
class Post:
    """One post of the blog. ``text`` of sections is Markdown with raw LaTeX ($...$, \\begin{..}..\\end{..})."""

    post_id: str
    title: str
    date: str  # ISO YYYY-MM-DD, "" when unknown
    url: str
    sections: list[Section]
    source: str  # the file path or URL it was read from
    format: str  # "markdown", "page", "page-flat", "listing", "html"
    category: str = ""
    tags: list[str] = field(default_factory=list)
    author: str = "苏剑林"
    excerpt: bool = False  # True when only an excerpt (listing page) was seen

    @property
    def body(self) -> str:
        return "\n\n".join(s.text for s in self.sections)

    @property
    def content_hash(self) -> str:
        """Hash of everything that ends up in the index for this post."""
        h = hashlib.sha256()
        for part in (self.post_id, self.title, self.date, self.url, self.category, "|".join(self.tags),
                     self.author, str(self.excerpt)):
            h.update(part.encode("utf-8") + b"\0")
        for s in self.sections:
            h.update("/".join(s.path).encode("utf-8") + b"\0" + s.text.encode("utf-8") + b"\0")
        return h.hexdigest()


class SourceError(Exception):
    """A file could not be turned into posts; ``str()`` is a one-line reason naming the file."""

    def __init__(self, source: str, reason: str):
        super().__init__(f"{source}: {reason}")
        self.source = source
        self.reason = reason
