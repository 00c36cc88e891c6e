"""Export the converted e5 folder to ONNX with BERT fusions: dynamic int8 quantisation (per channel), or fp32.

Each graph takes ``input_ids`` and ``attention_mask`` (int64, right-padded) and returns mean-pooled,
L2-normalised sentence vectors. The int8 graph is ``<folder>/onnx/model_int8.onnx``, the fused fp32 one
``<folder>/onnx/model_fp32.onnx`` (built on demand, beside it); each has a marker that records the source it
came from and its agreement with the torch fp32 model on probe texts.
"""

from __future__ import annotations

import contextlib
import logging
import os
import shutil
import tempfile
import time
import warnings
from collections.abc import Callable
from pathlib import Path

import numpy as np

from app.models import e5_convert
from app.models.errors import ModelIntegrityError, ModelNotReady
from app.models.fsutil import file_sha256, read_json, replace_dir, write_json

ONNX_DIR = "onnx"
INT8_FILE = "model_int8.onnx"
MARKER = "kexue-onnx.json"
EXPORT_VERSION = 1
AGREEMENT_FLOOR = 0.98  # min cosine int8 vs fp32 over the probes; measured 0.9965
FP32_FILE = "model_fp32.onnx"
FP32_MARKER = "kexue-onnx-fp32.json"
FP32_VERSION = 1
FP32_FLOOR = 0.9999  # min cosine fused fp32 ONNX vs torch over the probes
PROBES = [
    "passage: 自监督学习不需要人工标注（只需要数据本身），它通过构造辅助任务来学习特征表示。",
    "passage: 设损失函数为$\\mathcal{L}(\\theta)$，梯度下降的更新规则是\\begin{equation}\\theta_{t+1}="
    "\\theta_t - \\eta\\nabla_{\\theta}\\mathcal{L}(\\theta_t)\\end{equation}其中$\\eta$是学习率。",
    "passage: Transformer的注意力机制计算$\\text{softmax}(QK^{\\top}/\\sqrt{d})V$，复杂度是序列长度的平方。",
    "query: 为什么对比学习需要负样本？",
    "query: 如何理解 Adam 优化器中的动量？",
    "passage: 今天天气很好，我们去公园散步吧！顺便买点水果。",
    "passage: The variational autoencoder (VAE) maximises the evidence lower bound, 即ELBO。",
    "passage: " + "苏剑林的博客讨论了很多机器学习与数学物理的问题，例如矩阵求导、概率图模型和优化算法。" * 8,
]


def onnx_dir(folder: Path) -> Path:
    return Path(folder) / ONNX_DIR


def int8_path(folder: Path) -> Path:
    return onnx_dir(folder) / INT8_FILE


def read_marker(folder: Path) -> dict | None:
    return read_json(onnx_dir(folder) / MARKER)


def _graph_is_valid(folder: Path, marker: dict | None, version: int, path: Path, size_key: str) -> bool:
    """True when the graph at ``path`` exists, has the size its marker records, and was exported by ``version``
    from the current conversion."""
    conv = e5_convert.read_marker(folder)
    if not marker or not conv or marker.get("export_version") != version:
        return False
    return marker.get("source_sha256") == conv.get("source_sha256") and path.is_file() and \
        path.stat().st_size == marker.get(size_key)


def is_valid(folder: Path) -> bool:
    """True when the int8 model exists, is complete, and was exported from the current conversion."""
    return _graph_is_valid(folder, read_marker(folder), EXPORT_VERSION, int8_path(folder), "int8_size")


def fp32_path(folder: Path) -> Path:
    return onnx_dir(folder) / FP32_FILE


def read_fp32_marker(folder: Path) -> dict | None:
    return read_json(onnx_dir(folder) / FP32_MARKER)


def is_fp32_valid(folder: Path) -> bool:
    """True when the fused fp32 graph exists, is complete, and was exported from the current conversion."""
    return _graph_is_valid(folder, read_fp32_marker(folder), FP32_VERSION, fp32_path(folder), "size")


def make_session(path: Path, threads: int = 0):
    """An onnxruntime CPU session on ``threads`` cores (0 = all); idle threads sleep instead of spinning, so an
    embedder beside the language model leaves it the CPU."""
    import onnxruntime as ort

    opts = ort.SessionOptions()
    opts.add_session_config_entry("session.intra_op.allow_spinning", "0")
    opts.intra_op_num_threads = threads or os.cpu_count() or 1
    opts.inter_op_num_threads = 1
    opts.execution_mode = ort.ExecutionMode.ORT_SEQUENTIAL
    opts.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
    opts.log_severity_level = 3
    return ort.InferenceSession(str(path), opts, providers=["CPUExecutionProvider"])


def _pooled_model(folder: Path):
    import torch
    from transformers import AutoModel
    from transformers.utils import logging as hf_logging

    class Pooled(torch.nn.Module):
        def __init__(self, bert: torch.nn.Module):
            super().__init__()
            self.bert = bert

        def forward(self, input_ids: torch.Tensor, attention_mask: torch.Tensor) -> torch.Tensor:
            hidden = self.bert(input_ids=input_ids, attention_mask=attention_mask).last_hidden_state
            mask = attention_mask.unsqueeze(-1).to(hidden.dtype)
            mean = (hidden * mask).sum(1) / mask.sum(1).clamp(min=1e-9)
            return torch.nn.functional.normalize(mean, dim=-1)

    hf_logging.disable_progress_bar()
    bert = AutoModel.from_pretrained(str(folder), attn_implementation="eager")
    return Pooled(bert).eval()


def _export_fp32(model, path: Path) -> None:
    import torch

    ids = torch.tensor([[0, 5, 6, 7, 2], [0, 8, 9, 2, 1]], dtype=torch.long)
    mask = (ids != 1).long()
    with warnings.catch_warnings(), torch.no_grad():
        warnings.simplefilter("ignore")
        torch.onnx.export(
            model, (ids, mask), str(path), input_names=["input_ids", "attention_mask"],
            output_names=["embedding"], opset_version=17, dynamo=False, do_constant_folding=True,
            dynamic_axes={"input_ids": {0: "batch", 1: "seq"}, "attention_mask": {0: "batch", 1: "seq"},
                          "embedding": {0: "batch"}})


def _fuse(src: Path, dest: Path, heads: int, hidden: int) -> dict:
    """onnxruntime's BERT fusions (EmbedLayerNorm, Attention, SkipLayerNorm, BiasGelu)."""
    from onnxruntime.transformers import optimizer

    with open(os.devnull, "w") as null, contextlib.redirect_stdout(null), warnings.catch_warnings():
        warnings.simplefilter("ignore")
        fused = optimizer.optimize_model(str(src), model_type="bert", num_heads=heads, hidden_size=hidden,
                                         opt_level=0)
        fused.save_model_to_file(str(dest))
    return {k: v for k, v in fused.get_fused_operator_statistics().items() if v}


def _export_fused(model, folder: Path, dest: Path, step: Callable[[str], None]) -> dict:
    """The torch model exported to ONNX and fused into ``dest``; returns the fusion counts."""
    config = read_json(Path(folder) / "config.json") or {}
    plain = dest.with_name("model_fp32.onnx")  # the name the int8 export always used
    step("export fp32 graph")
    _export_fp32(model, plain)
    step("fuse BERT operators")
    fusions = _fuse(plain, dest, config["num_attention_heads"], config["hidden_size"])
    plain.unlink()
    return fusions


def _quantize(src: Path, dest: Path) -> None:
    import onnx
    from onnxruntime.quantization import QuantType, quantize_dynamic

    root = logging.getLogger()
    level = root.level
    root.setLevel(logging.ERROR)  # the quantiser logs a "consider pre-processing" hint on the root logger
    try:
        quantize_dynamic(str(src), str(dest), weight_type=QuantType.QInt8, per_channel=True,
                         extra_options={"DefaultTensorType": onnx.TensorProto.FLOAT})
    finally:
        root.setLevel(level)


def agreement(model, folder: Path, onnx_file: Path, texts: list[str]) -> np.ndarray:
    """Per-text cosine between the torch fp32 model and the ONNX model on already-prefixed ``texts``."""
    import torch
    from tokenizers import Tokenizer

    tok = Tokenizer.from_file(str(Path(folder) / "tokenizer.json"))
    tok.enable_truncation(512)
    session = make_session(onnx_file)
    cosines = []
    for enc in tok.encode_batch(texts):
        ids = np.array([enc.ids], dtype=np.int64)
        mask = np.ones_like(ids)
        got = session.run(None, {"input_ids": ids, "attention_mask": mask})[0][0]
        with torch.no_grad():
            ref = model(torch.from_numpy(ids), torch.from_numpy(mask))[0].numpy()
        cosines.append(float(got @ ref / (np.linalg.norm(got) * np.linalg.norm(ref))))
    return np.array(cosines)


def _conversion(folder: Path) -> dict:
    """The marker of the converted e5 model the graphs are exported from; ModelNotReady when there is none."""
    conv = e5_convert.read_marker(folder)
    if not conv or not e5_convert.is_valid(folder):
        raise ModelNotReady(f"{folder}: no converted e5 model to export; run `kexue models prepare`")
    return conv


def export(folder: Path, force: bool = False, step: Callable[[str], None] | None = None) -> Path:
    """Build ``<folder>/onnx/model_int8.onnx`` unless a valid one is there; returns its path."""
    folder = Path(folder)
    if not force and is_valid(folder):
        return int8_path(folder)
    conv = _conversion(folder)
    step = step or (lambda _name: None)
    started = time.monotonic()
    tmp = Path(tempfile.mkdtemp(prefix=".onnx-", dir=folder))
    try:
        model = _pooled_model(folder)
        fusions = _export_fused(model, folder, tmp / "model_fused.onnx", step)
        step("quantise to int8")
        _quantize(tmp / "model_fused.onnx", tmp / INT8_FILE)
        (tmp / "model_fused.onnx").unlink()
        step("check int8 against fp32")
        cos = agreement(model, folder, tmp / INT8_FILE, PROBES)
        if cos.min() < AGREEMENT_FLOOR:
            raise ModelIntegrityError(f"int8 model disagrees with fp32 (min cosine {cos.min():.4f} < "
                                      f"{AGREEMENT_FLOOR}); not installed")
        write_json(tmp / MARKER, {
            "export_version": EXPORT_VERSION, "source_sha256": conv["source_sha256"],
            "int8_size": (tmp / INT8_FILE).stat().st_size, "int8_sha256": file_sha256(tmp / INT8_FILE),
            "fusions": fusions, "agreement_min": round(float(cos.min()), 5),
            "agreement_mean": round(float(cos.mean()), 5), "seconds": round(time.monotonic() - started, 1),
        })
        os.chmod(tmp, 0o755)
        replace_dir(tmp, onnx_dir(folder))
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return int8_path(folder)


def export_fp32(folder: Path, force: bool = False, step: Callable[[str], None] | None = None) -> Path:
    """Build ``<folder>/onnx/model_fp32.onnx`` (fused, not quantised) unless a valid one is there; returns its path.

    Only its two files in ``onnx/`` are replaced, so the int8 graph beside it is never touched."""
    folder = Path(folder)
    if not force and is_fp32_valid(folder):
        return fp32_path(folder)
    conv = _conversion(folder)
    step = step or (lambda _name: None)
    started = time.monotonic()
    tmp = Path(tempfile.mkdtemp(prefix=".onnx-fp32-", dir=folder))
    try:
        model = _pooled_model(folder)
        fused = tmp / "model_fused.onnx"
        fusions = _export_fused(model, folder, fused, step)
        step("check fused fp32 against torch")
        cos = agreement(model, folder, fused, PROBES)
        if cos.min() < FP32_FLOOR:
            raise ModelIntegrityError(f"fused fp32 model disagrees with torch (min cosine {cos.min():.6f} < "
                                      f"{FP32_FLOOR}); not installed")
        marker = {"export_version": FP32_VERSION, "source_sha256": conv["source_sha256"],
                  "size": fused.stat().st_size, "sha256": file_sha256(fused),
                  "fusions": fusions, "agreement_min": round(float(cos.min()), 6),
                  "agreement_mean": round(float(cos.mean()), 6), "seconds": round(time.monotonic() - started, 1)}
        onnx_dir(folder).mkdir(mode=0o755, exist_ok=True)
        (onnx_dir(folder) / FP32_MARKER).unlink(missing_ok=True)
        os.chmod(fused, 0o644)
        os.replace(fused, fp32_path(folder))
        write_json(onnx_dir(folder) / FP32_MARKER, marker)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return fp32_path(folder)
