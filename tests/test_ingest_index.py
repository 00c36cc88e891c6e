"""Ingest into a FAISS index: incremental updates, atomic versions, the lock, and bad input."""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from app.index_store import CURRENT, VERSIONS, current_version, load_index, read_manifest
from ingest.checkpoint import CHECKPOINT_DIR
from ingest.chunking import embed_text
from ingest.index_writer import TMP_PREFIX
from ingest.lock import IndexLock, IndexLocked
from ingest.pipeline import NothingIngested, ingest
from tests.conftest import corpus_path


def _search_titles(settings, embedder, query: str, k: int = 3) -> list[str]:
    index = load_index(settings.index_dir, embedder.as_llama_index())
    return [node.metadata["title"] for node, _ in index.search(embedder.embed_queries([query])[0], k)]


def _kexue(*args: str, env_index: Path, env: dict[str, str] | None = None, quiet: bool = False) -> subprocess.Popen:
    env = {**(env or os.environ), "KEXUE_INDEX": str(env_index)}
    out = subprocess.DEVNULL if quiet else subprocess.PIPE
    return subprocess.Popen([sys.executable, "-m", "app", *args], env=env, stdout=out, stderr=out, text=True)


def test_incremental_ingest_adds_changes_and_deletes(settings, embedder, md_subset):
    folder = md_subset("7980", "10007", "1253", "104")
    first = ingest(settings, [str(folder)], progress=False, embedder=embedder)
    assert first.wrote and first.rebuild_reason == "no index yet"
    assert sorted(first.added) == sorted(["7980", "10007", "1253", "104"])
    manifest = read_manifest(settings.index_dir)
    assert manifest["stats"]["posts"] == 4 and manifest["embedder"]["fingerprint"] == embedder.fingerprint
    assert "SimSiam" in _search_titles(settings, embedder, "SimSiam为什么不退化")[0]

    noop = ingest(settings, [str(folder)], progress=False, embedder=embedder)
    assert not noop.wrote and noop.chunks_embedded == 0 and len(noop.unchanged) == 4

    (folder / "104.md").unlink()
    shutil.copy(corpus_path("kexue-md", "10240.md"), folder / "10240.md")
    changed = folder / "1253.md"
    changed.write_text(changed.read_text(encoding="utf-8") + "\n\n## 追加\n量子纠缠的独角兽实验表明了一切。\n",
                       encoding="utf-8")
    second = ingest(settings, [str(folder)], progress=False, embedder=embedder)
    assert second.added == ["10240"] and second.changed == ["1253"] and second.deleted == ["104"]
    assert sorted(second.unchanged) == ["10007", "7980"]
    reused = second.chunks - second.chunks_embedded
    assert reused == first.chunks - manifest["posts"]["104"]["chunks"] - manifest["posts"]["1253"]["chunks"]
    after = read_manifest(settings.index_dir)
    assert set(after["posts"]) == {"7980", "10007", "1253", "10240"}
    index = load_index(settings.index_dir, embedder.as_llama_index())
    texts = [index.docstore.get_node(i).text for i in index.row_ids]
    assert any("独角兽实验" in t for t in texts)
    assert index.faiss.ntotal == len(index.row_ids) == second.chunks
    assert "SimSiam" in _search_titles(settings, embedder, "SimSiam为什么不退化")[0]


def test_changed_chunker_setting_forces_full_rebuild(settings, embedder, md_subset):
    folder = md_subset("7980", "104")
    ingest(settings, [str(folder)], progress=False, embedder=embedder)
    report = ingest(settings.replace(chunk_max_tokens=300), [str(folder)], progress=False, embedder=embedder)
    assert report.wrote and "chunker settings changed" in report.rebuild_reason
    assert report.chunks_embedded == report.chunks


def test_kill_9_during_ingest_leaves_previous_index(settings, embedder, md_subset, tmp_path):
    small = md_subset("104", name="small")
    ingest(settings, [str(small)], progress=False, embedder=embedder)
    before = current_version(settings.index_dir)
    big = corpus_path("kexue-md")
    proc = _kexue("ingest", str(big), env_index=settings.index_dir)
    deadline = time.time() + 120
    line = ""
    while time.time() < deadline and "embed" not in line:
        line = proc.stderr.readline() if proc.poll() is None else "exited"
    assert "embed" in line, "ingest never reached the embedding phase"
    time.sleep(2)
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    manifest = read_manifest(settings.index_dir)
    if current_version(settings.index_dir) == before:
        assert set(manifest["posts"]) == {"104"}
    else:  # a version written during the embedding: every post searchable by BM25, dense so far
        assert "104" in manifest["posts"] and manifest["embedded"]["chunks"] < manifest["embedded"]["of"]
    index = load_index(settings.index_dir, embedder.as_llama_index())
    assert index.faiss.ntotal == (manifest.get("embedded") or {"chunks": manifest["stats"]["chunks"]})["chunks"]
    assert index.bm25.search("SimSiam", 5) or set(manifest["posts"]) == {"104"}
    leftovers = [p for p in (settings.index_dir / VERSIONS).iterdir() if p.name.startswith(TMP_PREFIX)]
    ingest(settings, [str(small)], full=True, progress=False, embedder=embedder)
    remaining = [p.name for p in (settings.index_dir / VERSIONS).iterdir()]
    assert not [n for n in remaining if n.startswith(TMP_PREFIX)], (leftovers, remaining)


def test_a_killed_ingest_resumes_from_its_last_checkpoint(settings, embedder, md_subset):
    folder = md_subset("7980", "10007", "10240", "10311", "10320", "11736", "11025", "11206", "10394", "10657",
                       "10869", "11563", "11818", name="resume")
    env = {**os.environ, "KEXUE_CHECKPOINT_S": "0.5"}
    proc = _kexue("ingest", str(folder), env_index=settings.index_dir, env=env, quiet=True)
    parts = settings.index_dir / CHECKPOINT_DIR
    deadline = time.time() + 300
    while time.time() < deadline and proc.poll() is None and not list(parts.rglob("part-*.npz")):
        time.sleep(0.2)
    assert proc.poll() is None, "the ingest finished before it could be killed"
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    assert current_version(settings.index_dir) is None, "a killed first ingest leaves no index"
    report = ingest(settings, [str(folder)], progress=False, embedder=embedder)
    assert 0 < report.chunks_resumed < report.chunks_embedded == report.chunks
    index = load_index(settings.index_dir, embedder.as_llama_index())
    assert index.faiss.ntotal == report.chunks and not parts.exists()
    fresh = embedder.embed_passages([embed_text(index.docstore.get_node(index.row_ids[0]))])[0]
    assert float(fresh @ index.raw_embeddings()[0]) > 0.99, "each row keeps its own vector"


def test_ask_during_an_ingest_answers_from_the_partial_index_and_says_so(settings):
    env = {**os.environ, "KEXUE_PROGRESSIVE_S": "1", "KEXUE_CACHE_DIR": str(settings.cache_dir)}
    corpus = [str(corpus_path(name)) for name in ("kexue-pages", "kexue-md", "seeds")]
    proc = _kexue("ingest", *corpus, env_index=settings.index_dir, env=env, quiet=True)
    try:
        deadline = time.time() + 300
        while time.time() < deadline and proc.poll() is None and current_version(settings.index_dir) is None:
            time.sleep(0.2)
        assert proc.poll() is None, "the ingest ended before it wrote a partial version"
        manifest = read_manifest(settings.index_dir)
        assert manifest["embedded"]["chunks"] < manifest["embedded"]["of"] == manifest["stats"]["chunks"]
        asked = subprocess.run([sys.executable, "-m", "app", "ask", "SimSiam为什么不退化", "--llm", "extractive",
                                "--json"], capture_output=True, text=True, timeout=300,
                               env={**env, "KEXUE_INDEX": str(settings.index_dir)})
        assert asked.returncode == 0, asked.stderr
        assert "the index is still being built" in asked.stderr
        assert "7980" in [c["post_id"] for c in json.loads(asked.stdout)["citations"]], asked.stdout[:1500]
    finally:
        proc.kill()
        proc.wait()


def test_concurrent_ingest_is_refused(settings, md_subset):
    folder = md_subset("104")
    with IndexLock(settings.index_dir):
        with pytest.raises(IndexLocked, match="another ingest"):
            ingest(settings, [str(folder)], progress=False)
        proc = _kexue("ingest", str(folder), env_index=settings.index_dir)
        out, err = proc.communicate(timeout=120)
    assert proc.returncode == 1
    assert "another ingest" in err and "Traceback" not in err
    assert not (settings.index_dir / CURRENT).exists()


def test_bad_files_are_reported_and_skipped(settings, embedder, md_subset):
    folder = md_subset("104")
    (folder / "binary.md").write_bytes(bytes(range(256)) * 10)
    (folder / "empty.md").write_text("", encoding="utf-8")
    (folder / "gbk.md").write_bytes("---\ntitle: 测试\n---\n\n中文内容，用GB18030编码。\n".encode("gb18030"))
    (folder / "broken.md").write_text("---\ntitle: [unclosed\ndate: 2020-01-01\n---\n\n正文\n", encoding="utf-8")
    (folder / "huge.md").write_text("---\ntitle: 大\n---\n\n" + "很" * (6 * 2**20 // 3), encoding="utf-8")
    os.symlink(folder / "missing-target.md", folder / "dangling.md")
    report = ingest(settings, [str(folder)], progress=False, embedder=embedder)
    reasons = {Path(path).name: reason for path, reason in report.skipped}
    assert set(reasons) == {"binary.md", "empty.md", "gbk.md", "broken.md", "huge.md", "dangling.md"}
    assert all(reason and "\n" not in reason for reason in reasons.values())
    assert report.added == ["104"] and report.wrote
    stored = read_manifest(settings.index_dir)["skipped"]
    assert {Path(s["file"]).name for s in stored} == set(reasons)


def test_nothing_ingestible_fails_with_clear_message(settings, tmp_path):
    folder = tmp_path / "bad"
    folder.mkdir()
    (folder / "empty.md").write_text("", encoding="utf-8")
    with pytest.raises(NothingIngested, match="nothing could be ingested"):
        ingest(settings, [str(folder)], progress=False)
    proc = _kexue("ingest", str(folder), env_index=settings.index_dir)
    out, err = proc.communicate(timeout=120)
    assert proc.returncode == 1 and "nothing could be ingested" in err and "empty.md" in out + err
    assert "Traceback" not in err
