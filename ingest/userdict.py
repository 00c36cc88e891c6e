"""The index's jieba user dictionary: the blog's Chinese terms, found in the corpus at ingest.

The terms are the Chinese names of the bilingual term table (``旋转位置编码（RoPE）`` gives 旋转位置编码) that jieba's
own dictionary would cut into pieces and that at least ``MIN_POSTS`` posts write. Each gets the frequency jieba's
``suggest_freq`` computes against its own dictionary (just enough to keep the term whole), so a word's frequency does
not depend on the other words of the dictionary. English names need no entry: :mod:`app.segment` keeps them whole by
rule.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

from app.bm25 import jieba_module
from app.segment import normalise
from app.terms import TermTable

MIN_POSTS = 2
MIN_PAIRED = 2
_CHINESE_TERM = re.compile(r"[\u4e00-\u9fff]{2,8}")
_LEADING = tuple("的是了和与及或也就在将把被用以个其之中对而即为这那")
_TRAILING = tuple("的了是和与及或也就在中上下时")


def _frequency(word: str) -> int:
    """jieba's ``suggest_freq(word)`` against its own dictionary: the least that keeps ``word`` one piece."""
    jieba = jieba_module()
    tokenizer = jieba.dt
    tokenizer.check_initialized()
    share = 1.0
    for piece in tokenizer.cut(word, HMM=False):
        share *= tokenizer.FREQ.get(piece, 1) / tokenizer.total
    return max(int(share * tokenizer.total) + 1, tokenizer.FREQ.get(word, 1))


def candidates(terms: TermTable) -> set[str]:
    """The Chinese names of the term table that jieba's own dictionary does not keep whole."""
    jieba = jieba_module()
    names = {normalise(name) for names in terms.en_to_zh.values() for name in names}
    return {name for name in names if _CHINESE_TERM.fullmatch(name) and not name.startswith(_LEADING)
            and not name.endswith(_TRAILING) and len(jieba.lcut(name, HMM=False)) > 1}


def build(posts: Iterable[str], terms: TermTable) -> dict[str, int]:
    """Word -> jieba frequency for the terms that ``MIN_POSTS`` of ``posts`` (each post's text) contain and that the
    corpus names beside a bracket at least ``MIN_PAIRED`` times (a term, not the words before one)."""
    words = candidates(terms)
    seen, paired = dict.fromkeys(words, 0), dict.fromkeys(words, 0)
    for text in posts:
        text = normalise(text)
        for word in words:
            if word in text:
                seen[word] += 1
                paired[word] += text.count(word + "(") + text.count(")" + word)
    return {word: _frequency(word) for word in sorted(words) if seen[word] >= MIN_POSTS and paired[word] >= MIN_PAIRED}
