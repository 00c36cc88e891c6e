"""Term overlap between a question and a text: lower-cased English words plus Chinese characters and bigrams."""

from __future__ import annotations

import functools
import re

_WORD = re.compile(r"[A-Za-z][A-Za-z0-9_\-]+|[\u4e00-\u9fff]")
_LINK = re.compile(r"!?\[([^\]]*)\]\([^)]*\)")
# function words carry no topic: sharing them says nothing about whether a text answers a question
_STOP_TEXT = ("a an the of to in on at by for from with as and or but not no is are was were be been being do does did "
              "can could will would should may might must this that these those it its we you they he she i what why "
              "how which who whom when where than then there here so if into about over also only just such very "
              "的 了 是 在 和 与 也 就 都 而 及 或 并 等 被 把 对 于 这 那 其 之 以 为 个 我 们 你 他 它 "
              "吗 呢 吧 啊 么 什 怎 样 如 何 有 一 不 要 会 能 可 上 下 中 到 说 所 又 还 很 更 最 即 则 但")
STOPWORDS = frozenset(_STOP_TEXT.split())


@functools.lru_cache(maxsize=4096)
def grams(text: str) -> frozenset[str]:
    """Lower-cased English words plus Chinese character unigrams and bigrams, function words left out (cached: the
    same question is compared with every sentence and passage)."""
    tokens = [t.lower() for t in _WORD.findall(text)]
    bigrams = {a + b for a, b in zip(tokens, tokens[1:], strict=False) if len(a) == len(b) == 1}
    return frozenset(t for t in tokens if t not in STOPWORDS) | bigrams


def overlap(query: str, text: str) -> float:
    """Share of the query's words and character bigrams that occur in ``text``."""
    wanted = grams(query)
    return len(wanted & grams(text)) / (len(wanted) or 1)


def clean_sentence(sentence: str) -> str:
    """A sentence with Markdown links reduced to their text and whitespace collapsed."""
    return re.sub(r"\s+", " ", _LINK.sub(r"\1", sentence)).strip()
