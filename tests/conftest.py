"""Shared fixtures: the real corpus from ../shared/corpus and the real (prepared) embedder."""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import shutil
import time
from pathlib import Path

import pytest

from app.settings import Settings

CORPUS = Path(__file__).resolve().parents[2] / "shared" / "corpus"
PROJECT = Path(__file__).resolve().parents[1]
# The cached test index is keyed by the embedder's fingerprint: every test process embeds with int8.
TEST_RUNTIME = "onnx-int8"
os.environ["KEXUE_EMBED_RUNTIME"] = TEST_RUNTIME


def corpus_path(*parts: str) -> Path:
    path = CORPUS.joinpath(*parts)
    if not path.exists():
        pytest.fail(f"test data missing: {path} (the tests read ../shared/corpus beside the project)")
    return path


@pytest.fixture(scope="session")
def corpus_posts():
    """Every post of the three corpus folders, loaded and merged as ingest does (bad files skipped)."""
    from ingest.post import SourceError
    from ingest.sources import iter_source_files, load_file, merge_posts

    posts = []
    for path in iter_source_files([corpus_path(name) for name in ("kexue-pages", "kexue-md", "seeds")]):
        with contextlib.suppress(SourceError):
            posts.extend(load_file(path, max_bytes=5 * 2**20))
    return merge_posts(posts)


@pytest.fixture(scope="session")
def model_settings() -> Settings:
    """Settings whose cache holds the prepared models (the user cache, or KEXUE_CACHE_DIR)."""
    cache = os.environ.get("KEXUE_CACHE_DIR")
    settings = Settings(embed_runtime=TEST_RUNTIME)
    return settings.replace(cache_dir=Path(cache)) if cache else settings


@pytest.fixture(scope="session")
def embedder(model_settings: Settings):
    from app.models.embedder import load_embedder

    return load_embedder(model_settings)


@pytest.fixture()
def settings(model_settings: Settings, tmp_path: Path) -> Settings:
    """Model cache shared, index in a fresh temporary directory."""
    return model_settings.replace(index_dir=tmp_path / "index")


@pytest.fixture()
def md_subset(tmp_path: Path):
    """Copy named Markdown posts of the corpus into a temporary source directory."""

    def make(*ids: str, name: str = "posts") -> Path:
        folder = tmp_path / name
        folder.mkdir(exist_ok=True)
        for post_id in ids:
            shutil.copy(corpus_path("kexue-md", f"{post_id}.md"), folder / f"{post_id}.md")
        return folder

    return make


@pytest.fixture(scope="session")
def corpus_index(model_settings: Settings, embedder) -> Settings:
    """Settings for the test index: $KEXUE_TEST_INDEX when set (used as it is), else an index of the test corpus
    (``test_corpus``) in the cache directory, one per selection and embedder. Every session brings it up to date with
    ``ingest``, which diffs the posts' content hashes against its manifest: a no-op when nothing changed (seconds),
    only the changed posts re-embedded when some did, a full rebuild when the chunker or index format changed."""
    given = os.environ.get("KEXUE_TEST_INDEX")
    if given:
        return model_settings.replace(index_dir=Path(given))
    roots = [str(root) for root in test_corpus(model_settings.cache_dir / "test-corpus")]
    key = hashlib.sha256("\0".join([embedder.fingerprint, *roots]).encode()).hexdigest()[:16]
    settings = model_settings.replace(index_dir=model_settings.cache_dir / "test-index" / key)
    _ingest_when_free(settings, roots, embedder)
    return settings


def question_set_posts() -> set[str]:
    """Every post a project question set names as relevant."""
    posts: set[str] = set()
    for path in sorted((PROJECT / "eval" / "questions").glob("*.jsonl")):
        for line in path.read_text(encoding="utf-8").splitlines():
            if line.strip():
                posts.update(json.loads(line).get("relevant", []))
    return posts


def test_corpus(parent: Path) -> list[Path]:
    """The corpus the tests index, linked from ../shared/corpus into ``parent/<selection hash>/``: every post a question
    set names (in each format it comes in), the whole Markdown folder and the seeds, 45% of the corpus's text. The
    whole corpus would take the embedder about 40 minutes on a slow machine of this kind, too long for CI; whole-corpus
    figures come from ``kexue eval`` (BENCH.md)."""
    named = question_set_posts()
    chosen = {name: sorted(path for path in corpus_path(name).iterdir() if path.is_file() and path.name != "SOURCE.md"
                           and (name != "kexue-pages" or path.stem in named))
              for name in ("kexue-pages", "kexue-md", "seeds")}
    digest = hashlib.sha256("\0".join(str(path) for paths in chosen.values() for path in paths).encode()).hexdigest()
    folder = parent / digest[:16]
    if not folder.is_dir():
        staging = parent / f".{digest[:16]}-{os.getpid()}"
        for name, paths in chosen.items():
            (staging / name).mkdir(parents=True)
            for path in paths:
                (staging / name / path.name).symlink_to(path)
        try:
            staging.rename(folder)
        except OSError:
            shutil.rmtree(staging)
    return [folder / name for name in chosen]


def _ingest_when_free(settings: Settings, roots: list[str], embedder, wait_s: float = 3600) -> None:
    """``ingest``, waiting for an ingest of the same index by another process (another test session building the
    cached index, say) to finish first; then it is a no-op or brings the index up to date."""
    from ingest.lock import IndexLocked
    from ingest.pipeline import ingest

    deadline = time.monotonic() + wait_s
    while True:
        try:
            ingest(settings, roots, progress=False, embedder=embedder)
            return
        except IndexLocked:
            if time.monotonic() > deadline:
                raise
            time.sleep(10)


@pytest.fixture(scope="session")
def openai_server_url(model_settings: Settings, tmp_path_factory: pytest.TempPathFactory):
    """The real OpenAI-compatible server (llama-cpp-python's, 0.5B model, tools enabled) on 127.0.0.1."""
    from tests.openai_server import ServerFailed, openai_server

    try:
        with openai_server(model_settings, tmp_path_factory.mktemp("server") / "server.log") as base:
            yield base
    except ServerFailed as exc:
        pytest.fail(str(exc))
