"""BERT-whitening: the transform on real corpus embeddings, its storage with the index, queries in other
processes, the refusal signal, and the eval variants built from the cached raw embeddings."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from app import whitening
from app.answering.retriever import CANDIDATES, Retriever
from app.index_store import IndexError_, load_index, read_manifest
from app.whitening import WhiteningError, WhiteningMismatch
from ingest.pipeline import ingest
from ingest.whitening_step import wanted
from tests.conftest import PROJECT, corpus_path

# Seven posts cut into small chunks: more chunks (≈500) than dimensions (384), so full-k whitening can be fitted.
POSTS = ("7466", "9257", "8896", "8578", "7921", "11025", "7980")
SMALL_CHUNKS = {"chunk_max_tokens": 128, "chunk_min_chars": 100}
QUERY = "SimSiam为什么不退化"

SEARCH_SCRIPT = """
import json, sys
from pathlib import Path
from app.index_store import load_index
from app.models.embedder import load_embedder
from app.settings import Settings
settings = Settings(index_dir=Path(sys.argv[1]))
embedder = load_embedder(settings)
index = load_index(settings.index_dir, embedder.as_llama_index())
hits = index.search_ids(embedder.embed_queries([sys.argv[2]])[0], 10)
print(json.dumps({"whitening": index.manifest["whitening"]["sha256"], "hits": hits}))
"""


@pytest.fixture(scope="module")
def posts_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("whiten-posts")
    for post_id in POSTS:
        shutil.copy(corpus_path("kexue-md", f"{post_id}.md"), folder / f"{post_id}.md")
    return folder


@pytest.fixture(scope="module")
def raw_index(model_settings, embedder, posts_dir, tmp_path_factory):
    """Settings of an unwhitened index of ``POSTS``; its raw embeddings are what the transforms are fitted on."""
    settings = model_settings.replace(index_dir=tmp_path_factory.mktemp("raw") / "index", **SMALL_CHUNKS)
    ingest(settings, [str(posts_dir)], progress=False, embedder=embedder)
    return settings


@pytest.fixture(scope="module")
def raw(raw_index, embedder) -> np.ndarray:
    return np.array(load_index(raw_index.index_dir, embedder.as_llama_index()).raw_embeddings())


@pytest.fixture()
def whitened(raw_index, tmp_path):
    """A copy of the raw index, then whitened to 64 dimensions by an ingest that embeds nothing."""
    index_dir = tmp_path / "index"
    shutil.copytree(raw_index.index_dir, index_dir)
    return raw_index.replace(index_dir=index_dir, whiten=64)


def test_full_whitening_makes_the_corpus_covariance_identity(raw):
    assert raw.shape[0] > raw.shape[1] == 384
    transform = whitening.fit(raw, 384, beta=1, gamma=1)
    z = transform.apply(raw, normalise=False).astype(np.float64)
    covariance = np.cov(z, rowvar=False, bias=True)
    real = transform.lam > whitening.EIGEN_FLOOR * transform.lam[0] * 1.0001  # directions with real variance
    assert real.sum() >= 380  # e5 vectors have at most a few (numerically) flat directions, which are clipped
    assert np.allclose(covariance[np.ix_(real, real)], np.eye(real.sum()), atol=2e-3)
    assert np.allclose(z.mean(axis=0), 0, atol=1e-3)
    assert transform.second_moment_distance(raw) < 1e-3


@pytest.mark.parametrize(("k", "beta", "gamma"), [(256, 1, 1), (128, 0.5, 1), (64, 0, 0), (64, 1, 0)])
def test_shapes_and_unit_norm(raw, k, beta, gamma):
    transform = whitening.fit(raw, k, beta, gamma)
    mapped = transform.apply(raw)
    assert mapped.shape == (len(raw), k) and mapped.dtype == np.float32
    assert np.allclose(np.linalg.norm(mapped, axis=1), 1, atol=1e-5)
    assert transform.apply(raw[0]).shape == (k,)
    assert np.allclose(transform.apply(raw[0]), mapped[0], atol=1e-6)
    with pytest.raises(WhiteningMismatch, match="384-dimensional"):
        transform.apply(raw[:, :100])


def test_no_shift_no_scaling_full_k_keeps_cosines(raw):
    """β = γ = 0 with every dimension is a rotation: the post's "no worse than before" starting point."""
    mapped = whitening.fit(raw, 384, beta=0, gamma=0).apply(raw[:50])
    assert np.allclose(mapped @ mapped.T, raw[:50] @ raw[:50].T, atol=1e-4)


def test_bad_parameters_are_refused(raw):
    with pytest.raises(WhiteningError, match="1..384"):
        whitening.fit(raw, 500)
    with pytest.raises(WhiteningError, match="more than 384 chunks"):
        whitening.fit(raw[:300], 384)


def test_save_load_round_trip_and_tampering(raw, tmp_path):
    transform = whitening.fit(raw, 128, beta=0.5, gamma=1)
    entry = transform.save(tmp_path)
    assert entry["sha256"] and entry["k"] == 128 and entry["fitted_rows"] == len(raw)
    loaded = whitening.load(tmp_path, json.loads(json.dumps(entry)))
    assert np.array_equal(loaded.apply(raw), transform.apply(raw))
    assert (loaded.beta, loaded.gamma, loaded.fitted_on) == (0.5, 1.0, whitening.fingerprint(raw))
    with pytest.raises(WhiteningMismatch, match="manifest records"):
        whitening.load(tmp_path, {**entry, "k": 64})
    with pytest.raises(WhiteningMismatch, match="manifest records"):
        whitening.load(tmp_path, {**entry, "beta": 1.0})
    other = whitening.fit(raw, 128, beta=1, gamma=1)
    other.save(tmp_path)
    with pytest.raises(WhiteningMismatch, match="sha256"):
        whitening.load(tmp_path, entry)


def test_whitened_ingest_stores_transform_and_whitened_vectors(whitened, embedder, raw, posts_dir):
    report = ingest(whitened, [str(posts_dir)], progress=False, embedder=embedder)
    assert report.wrote and report.chunks_embedded == 0 and "none -> k=64" in report.whitening_reason
    manifest = read_manifest(whitened.index_dir)
    entry = manifest["whitening"]
    assert (entry["k"], entry["beta"], entry["gamma"], entry["fitted_rows"]) == (64, 1.0, 1.0, len(raw))
    index = load_index(whitened.index_dir, embedder.as_llama_index())
    assert index.faiss.d == 64 and index.raw_embeddings().shape == raw.shape
    stored = index.faiss.reconstruct_n(0, index.faiss.ntotal)
    assert np.allclose(stored, index.whitening.apply(raw), atol=1e-6)
    assert "SimSiam" in index.search(embedder.embed_queries([QUERY])[0], 1)[0][0].metadata["title"]
    (index.path / whitening.FILE).write_bytes((index.path / whitening.FILE).read_bytes()[:-8] + b"\0" * 8)
    with pytest.raises(IndexError_, match="does not match its manifest"):
        load_index(whitened.index_dir, embedder.as_llama_index())


def test_incremental_ingest_reuses_the_transform_and_reports_drift(whitened, embedder, posts_dir, tmp_path):
    folder = tmp_path / "posts"
    shutil.copytree(posts_dir, folder)
    ingest(whitened, [str(folder)], progress=False, embedder=embedder)
    fitted = read_manifest(whitened.index_dir)["whitening"]
    plain = whitened.replace()
    plain.origins = {}  # no whitening setting given: the index keeps its own choice
    shutil.copy(corpus_path("kexue-md", "10007.md"), folder / "10007.md")
    grown = ingest(plain, [str(folder)], progress=False, embedder=embedder)
    entry = read_manifest(whitened.index_dir)["whitening"]
    assert grown.added == ["10007"] and grown.whitening_reason is None
    assert entry["sha256"] == fitted["sha256"] and entry["fitted_rows"] == fitted["fitted_rows"]
    assert entry["chunks_since_fit"] == grown.chunks_embedded > 0
    assert entry["drift"]["new_share"] == pytest.approx(grown.chunks_embedded / grown.chunks, abs=1e-4)
    assert entry["drift"]["second_moment_distance"] > 0.01
    refit = ingest(plain, [str(folder)], refit_whitening=True, progress=False, embedder=embedder)
    entry = read_manifest(whitened.index_dir)["whitening"]
    assert refit.whitening_reason == "--refit-whitening" and refit.chunks_embedded == 0
    assert entry["fitted_rows"] == grown.chunks and entry["chunks_since_fit"] == 0
    assert entry["drift"]["second_moment_distance"] < 1e-3 and not entry["drift"]["refit_advised"]
    dropped = ingest(whitened.replace(whiten=0), [str(folder)], progress=False, embedder=embedder)
    assert dropped.whitening_reason.startswith("whitening removed") and read_manifest(whitened.index_dir)[
        "whitening"] is None


def test_drift_grows_with_the_share_of_unseen_vectors(raw):
    half = len(raw) // 2
    early = whitening.fit(raw[:half], 64)
    assert early.second_moment_distance(raw[:half]) < 1e-3
    assert early.second_moment_distance(raw) > whitening.DRIFT_DISTANCE
    assert whitening.drift({"chunks_since_fit": len(raw) - half}, 0.0, len(raw))["refit_advised"]


def test_settings_or_the_index_choose_the_whitening(model_settings):
    old = {"whitening": {"k": 128, "beta": 0.5, "gamma": 0.0}}
    default = model_settings.replace()
    default.origins = {}
    assert wanted(default, None) == (default.whiten, default.whiten_beta, default.whiten_gamma)
    assert wanted(default, old) == (128, 0.5, 0.0)
    assert wanted(default, {"whitening": None}) == (0, default.whiten_beta, default.whiten_gamma)
    assert wanted(default.replace(whiten_beta=1.0), old) == (128, 1.0, 0.0)
    assert wanted(default.replace(whiten=0), old)[0] == 0


def test_whitened_index_answers_the_same_across_processes(whitened, embedder, posts_dir):
    ingest(whitened, [str(posts_dir)], progress=False, embedder=embedder)
    index = load_index(whitened.index_dir, embedder.as_llama_index())
    here = index.search_ids(embedder.embed_queries([QUERY])[0], 10)
    runs = [_search_in_subprocess(whitened.index_dir) for _ in range(2)]
    assert runs[0] == runs[1]
    assert runs[0]["whitening"] == index.manifest["whitening"]["sha256"]
    assert [i for i, _ in runs[0]["hits"]] == [i for i, _ in here]
    assert np.allclose([s for _, s in runs[0]["hits"]], [s for _, s in here], atol=1e-5)
    ingest(whitened.replace(whiten_beta=0.5), [str(posts_dir)], progress=False, embedder=embedder)
    changed = _search_in_subprocess(whitened.index_dir)
    assert changed["whitening"] != runs[0]["whitening"]  # a new transform, picked up with its own version
    assert [s for _, s in changed["hits"]] != [s for _, s in runs[0]["hits"]]


def test_refusal_signal_stays_raw_cosine(raw_index, whitened, embedder, posts_dir):
    ingest(whitened, [str(posts_dir)], progress=False, embedder=embedder)
    plain = Retriever(raw_index, embedder)
    white = Retriever(whitened, embedder)
    for query in (QUERY, "逻辑回归有解析解吗", "黑洞的霍金辐射温度怎么算"):
        raw_result, white_result = plain.retrieve(query, 5), white.retrieve(query, 5)
        vector = embedder.embed_queries([query])[0]
        hits = white.index.search_ids(vector, CANDIDATES)
        assert white_result.dense_top == pytest.approx(white.index.raw_top(vector, hits))
        assert white_result.dense_top == pytest.approx(raw_result.dense_top, abs=0.01)
        assert 0.7 < white_result.dense_top < 1.0  # raw e5 cosine scale, not the whitened one


def test_eval_whitening_variants_from_cached_raw_embeddings(raw_index, embedder):
    from app.answering import Answerer
    from eval.questions import load_questions
    from eval.runner import EvalOptions, run_eval
    from eval.variants import VARIANTS, EvalContext, make_variant
    from eval.whitened import Setting, parse

    assert parse("hybrid-w128-b0.5-g1") == ("hybrid", Setting(128, 0.5, 1.0))
    assert parse("dense-raw384") == ("dense", Setting(0)) and parse("dense-w128") is None
    assert "dense-w64-b1-g0" in VARIANTS and "sparse-w64-b1-g0" not in VARIANTS
    questions = [q for q in load_questions([PROJECT / "eval" / "questions"])
                 if (q.answerable and set(q.relevant) <= set(POSTS)) or q.id in ("q014", "q110")]
    assert len(questions) >= 3 and any(not q.answerable for q in questions)
    options = EvalOptions(["dense", "dense-raw384", "dense-w64-b1-g1", "hybrid-w128-b0-g0"], k=5, retrieval_only=True,
                          progress=False)
    answerer = Answerer(raw_index, Retriever(raw_index, embedder))
    run = run_eval(raw_index, questions, options, answerer=answerer)
    for record in run.records:
        assert record["retrieved"]["dense"] == record["retrieved"]["dense-raw384"]
    assert run.details["dense-w64-b1-g1"]["dim"] == 64
    assert run.details["dense-w64-b1-g1"]["index_bytes"] == 64 * 4 * len(answerer.retriever.index.row_ids)
    gaps = run.analyses["similarity_gap"]
    assert set(gaps) == {"raw", "w64-b1-g1", "w128-b0-g0"}
    assert gaps["w64-b1-g1"]["gap"] > gaps["raw"]["gap"] > 0  # whitening spreads the cosines
    with pytest.raises(KeyError, match="384"):
        make_variant("dense-raw256", EvalContext(raw_index, False, answerer))


def _search_in_subprocess(index_dir: Path) -> dict:
    env = {**os.environ, "PYTHONPATH": str(PROJECT)}
    done = subprocess.run([sys.executable, "-c", SEARCH_SCRIPT, str(index_dir), QUERY], capture_output=True,
                          text=True, timeout=300, env=env, cwd=PROJECT)
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout.strip().splitlines()[-1])


def test_cli_whiten_flags_and_index_info(whitened, posts_dir):
    from click.testing import CliRunner

    from app.cli.main import cli

    runner = CliRunner(env={f"KEXUE_{k.upper()}": str(v) for k, v in SMALL_CHUNKS.items()})
    index = str(whitened.index_dir)
    bad = runner.invoke(cli, ["ingest", str(posts_dir), "--index", index, "--whiten", "many"])
    assert bad.exit_code == 2 and "neither 'none' nor a number" in bad.output
    too_big = runner.invoke(cli, ["ingest", str(posts_dir), "--index", index, "--whiten", "999", "--no-progress"])
    assert too_big.exit_code == 1 and "1..384" in too_big.output and "Traceback" not in too_big.output
    done = runner.invoke(cli, ["ingest", str(posts_dir), "--index", index, "--whiten", "32", "--whiten-beta", "0.5",
                               "--whiten-gamma", "0", "--no-progress"])
    assert done.exit_code == 0, done.output
    assert "whitening  k=32, β=0.5, γ=0" in done.output and "0 embedded" in done.output
    info = runner.invoke(cli, ["index", "info", "--index", index])
    assert "FAISS flat of 32-dimensional vectors" in info.output and "whitening  k=32, β=0.5, γ=0" in info.output
    assert "drift      0.0% of the chunks embedded since the fit" in info.output
    raw = runner.invoke(cli, ["ingest", str(posts_dir), "--index", index, "--whiten", "none", "--no-progress"])
    assert raw.exit_code == 0 and "whitening  none (whitening removed" in raw.output
