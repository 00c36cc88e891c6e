"""Loaders that turn source files into Posts, with the format detected per file.

Built in: Markdown with YAML front matter, scraped kexue.fm pages (both layouts), listing-page text and HTML
pages as the site serves them. A plugin adds a format with a ``Loader(name, detect, load)`` passed to the
``register_sources`` hook (or, in-process, to ``register_loader``); ``detect(text, path)`` says whether the
loader takes the (already decoded) file, ``load(text, path)`` returns its posts or raises ``SourceError``.
"""

from __future__ import annotations

import os
import re
import stat
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

from ingest.post import Post, SourceError
from ingest.sources import html_page, listing, markdown, page
from ingest.sources.merge import merge_posts

__all__ = ["Loader", "LOADERS", "iter_source_files", "load_file", "merge_posts", "register_loader"]

DEFAULT_MAX_BYTES = 5 * 1024 * 1024
DOC_NAMES = {"source.md", "index.md"}
DOC_STEMS = {"readme", "license", "licence", "changelog", "contributing", "notice", "authors", "copying"}


@dataclass(frozen=True)
class Loader:
    name: str
    detect: Callable[[str, Path], bool]
    load: Callable[[str, Path], list[Post]]


LOADERS: list[Loader] = [
    Loader("markdown", markdown.detect, markdown.load),
    Loader("html", html_page.detect, html_page.load),
    Loader("page", page.detect, page.load),
    Loader("listing", listing.detect, listing.load),
    Loader("markdown-by-name", markdown.detect_by_name, markdown.load),
]


def register_loader(loader: Loader, *, first: bool = True) -> None:
    """Add a loader (replacing one of the same name); by default it is tried before the built-in ones."""
    LOADERS[:] = [x for x in LOADERS if x.name != loader.name]
    LOADERS.insert(0 if first else len(LOADERS), loader)


def _natural(path: Path) -> list:
    return [int(part) if part.isdigit() else part for part in re.split(r"(\d+)", path.name.lower())]


def _is_doc(path: Path) -> bool:
    return path.name.lower() in DOC_NAMES or path.stem.lower() in DOC_STEMS or path.name.startswith(".")


def iter_source_files(paths: Iterable[Path | str]) -> Iterator[Path]:
    """Files named, and files under directories named (recursively, in natural order), skipping hidden
    files and folders and the collections' own documentation (SOURCE.md, INDEX.md, README...)."""
    for given in paths:
        root = Path(given)
        if not root.is_dir():
            yield root
            continue
        for folder, dirs, files in os.walk(root):
            dirs[:] = sorted((d for d in dirs if not d.startswith(".")), key=lambda d: _natural(Path(d)))
            for name in sorted(files, key=lambda f: _natural(Path(f))):
                path = Path(folder) / name
                if not _is_doc(path):
                    yield path


def _read(path: Path, max_bytes: int) -> bytes:
    try:
        info = path.stat()
    except FileNotFoundError:
        reason = "broken symbolic link" if path.is_symlink() else "no such file"
        raise SourceError(str(path), f"unreadable: {reason}") from None
    except OSError as exc:
        raise SourceError(str(path), f"unreadable: {exc.strerror or exc}") from None
    if stat.S_ISDIR(info.st_mode):
        raise SourceError(str(path), "unreadable: is a directory")
    if not stat.S_ISREG(info.st_mode):
        raise SourceError(str(path), "unreadable: not a regular file")
    if info.st_size > max_bytes:
        raise SourceError(str(path), f"too large: {info.st_size / 2**20:.1f} MB (limit {max_bytes / 2**20:.1f} MB)")
    try:
        with open(path, "rb") as handle:
            return handle.read(max_bytes + 1)
    except OSError as exc:
        raise SourceError(str(path), f"unreadable: {exc.strerror or exc}") from None


def _not_utf8_reason(data: bytes, exc: UnicodeDecodeError) -> str:
    try:
        text = data.decode("gb18030")
    except UnicodeDecodeError:
        return f"not UTF-8 (invalid byte 0x{data[exc.start]:02x} at offset {exc.start})"
    cjk = sum(1 for ch in text if "\u4e00" <= ch <= "\u9fff")
    if cjk >= max(2, len(text) // 10):
        return "not UTF-8 (looks like GB18030/GBK-encoded Chinese; convert it with iconv -f GB18030 -t UTF-8)"
    return f"not UTF-8 (invalid byte 0x{data[exc.start]:02x} at offset {exc.start})"


_CONTROL = re.compile(r"[\x00-\x08\x0e-\x1f\x7f-\x9f]")


def decode(path: Path, data: bytes) -> str:
    """The bytes as text, or SourceError for empty, binary or non-UTF-8 content."""
    if not data.strip():
        raise SourceError(str(path), "empty file")
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        raise SourceError(str(path), "not UTF-8 (UTF-16 byte order mark)")
    if b"\0" in data:
        raise SourceError(str(path), "binary file (contains NUL bytes)")
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise SourceError(str(path), _not_utf8_reason(data, exc)) from None
    controls = len(_CONTROL.findall(text))
    if controls > len(text) // 20:
        raise SourceError(str(path), "binary file (mostly control characters, not text)")
    return text.replace("\r\n", "\n").replace("\r", "\n")


def load_file(path: Path | str, max_bytes: int = DEFAULT_MAX_BYTES, loaders: Sequence[Loader] = ()) -> list[Post]:
    """The posts in one file, its format detected from its content (``loaders`` tried before the built-in ones);
    SourceError (one-line reason) otherwise."""
    path = Path(path)
    text = decode(path, _read(path, max_bytes))
    for loader in [*loaders, *LOADERS]:
        if not loader.detect(text, path):
            continue
        try:
            posts = loader.load(text, path)
        except SourceError:
            raise
        except Exception as exc:  # a loader bug must not stop a whole ingest run
            raise SourceError(str(path), f"{loader.name} loader failed: {type(exc).__name__}: {exc}") from exc
        if not posts:
            raise SourceError(str(path), f"no posts found ({loader.name} format)")
        return posts
    raise SourceError(str(path), "unrecognised format (not Markdown with front matter, a scraped kexue.fm page, "
                                 "listing-page text or an HTML page)")
