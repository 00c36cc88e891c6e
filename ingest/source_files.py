"""Turn the sources named on the command line (directories, files, site URLs) into merged posts."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

from tqdm import tqdm

from app.settings import Settings
from ingest.post import Post, SourceError
from ingest.sources import iter_source_files, load_file, merge_posts
from plugins import source_loaders


@dataclass(frozen=True)
class SourceFile:
    root: str  # the source as the user named it, shortened to its last path part or host
    path: str


def is_url(source: str) -> bool:
    return urlparse(str(source)).scheme in ("http", "https")


def _files_of(settings: Settings, source: str, progress: bool) -> tuple[str, list[Path]]:
    if is_url(source):
        from ingest.crawler import crawl

        host = urlparse(source).netloc
        result = crawl(source, settings.cache_dir / "crawl" / host, delay_s=settings.crawl_delay_s,
                       user_agent=settings.crawl_user_agent, progress=progress)
        return host, sorted(result.files)
    path = Path(source).expanduser()
    if not path.exists():
        raise SourceError(str(path), "no such file or directory")
    return path.name or str(path), sorted(iter_source_files([path]))


def collect_posts(settings: Settings, sources: Sequence[str], report: Any,
                  progress: bool = True) -> tuple[list[Post], dict[str, SourceFile]]:
    """Load every file of every source (plugin loaders first); skipped files land in ``report.skipped``."""
    max_bytes = int(settings.max_file_mb * 1024 * 1024)
    extra_loaders = source_loaders(settings)
    root_of: dict[str, str] = {}
    loaded: list[Post] = []
    work: list[tuple[str, Path]] = []
    for source in sources:
        try:
            root, files = _files_of(settings, str(source), progress)
        except SourceError as exc:
            report.skipped.append((exc.source, exc.reason))
            continue
        work.extend((root, f) for f in files)
    report.files = len(work)
    for root, path in tqdm(work, desc="load", unit="file", disable=not progress, leave=False):
        try:
            posts = load_file(path, max_bytes=max_bytes, loaders=extra_loaders)
        except SourceError as exc:
            report.skipped.append((exc.source, exc.reason))
            continue
        for post in posts:
            root_of[post.source] = root
        loaded.extend(posts)
    merged = merge_posts(loaded)
    origin = {p.post_id: SourceFile(root_of.get(p.source, ""), p.source) for p in merged}
    for post in merged:
        report.posts_by_source[origin[post.post_id].root] += 1
        report.posts_by_format[post.format] += 1
    return merged, origin
