"""A bilingual term table mined from the corpus itself, for cross-lingual keyword search.

The posts name a concept in Chinese with its English name beside it, "旋转位置编码（RoPE）", "最大似然（Maximum
Likelihood）", or the other way round, "Label Smoothing（标签平滑）". Each such pair is collected from every chunk; an
English question is then searched by BM25 with the Chinese names of the English terms it contains added to it (and a
Chinese question with the English names), so "rotary position embedding" finds a post that writes 旋转位置编码.
"""

from __future__ import annotations

import re
from collections import Counter, defaultdict
from collections.abc import Iterable

_ZH_EN = re.compile(r"([\u4e00-\u9fff]{2,12})\s*[（(]\s*([A-Za-z][A-Za-z0-9\-' ]{1,48}?)\s*[,，、;；)）]")
_EN_ZH = re.compile(r"([A-Za-z][A-Za-z0-9\-' ]{1,48}?)\s*[（(]\s*([\u4e00-\u9fff]{2,12})\s*[,，、;；)）]")
_SPACES = re.compile(r"[\s\-]+")
MAX_ZH = 8  # the longest Chinese name kept (a longer run also holds the words before the term)
MIN_EN = 3
_EN_STOP_TEXT = "the a an of and or to in on for is are with by as at from this that it we"
_EN_STOP = frozenset(_EN_STOP_TEXT.split(" "))


def normalise_en(text: str) -> str:
    """Lower case, hyphens and space runs as one space, plural s dropped: "Label-Smoothings" = "label smoothing"."""
    words = _SPACES.sub(" ", text.lower()).strip().split(" ")
    return " ".join(w[:-1] if len(w) > 4 and w.endswith("s") and not w.endswith("ss") else w for w in words)


_LEADING_TEXT = "的 是 了 一种 种 这 那 即 为 称为 叫做 所谓 和 与 及 或 也 就 在 将 把 被 用 以 个 其 之 中 对"
_LEADING = tuple(_LEADING_TEXT.split(" "))


def _chinese_name(run: str, others: Counter) -> str:
    """The Chinese name inside a run of characters before "(English)": the longest ending of the run (at most
    ``MAX_ZH`` characters) that the corpus also pairs with this English term elsewhere, else the run's last jieba
    words (up to four characters, function words dropped)."""
    for n in range(min(len(run), MAX_ZH), 1, -1):
        if others[run[-n:]] >= 2 and not run[-n:].startswith(_LEADING):
            return run[-n:]
    from app.bm25 import jieba_module

    words = [w for w in jieba_module().lcut(run[-MAX_ZH:]) if w.strip()]
    name = words.pop() if words else run
    while words and len(name) < 4 and words[-1] not in _LEADING and len(words[-1] + name) <= MAX_ZH:
        name = words.pop() + name
    return name


class TermTable:
    """English term -> Chinese names (and back), each pair seen at least once in the corpus."""

    def __init__(self, en_to_zh: dict[str, list[str]]):
        self.en_to_zh = en_to_zh
        zh_to_en: dict[str, list[str]] = defaultdict(list)
        for en, names in en_to_zh.items():
            for zh in names:
                zh_to_en[zh].append(en)
        self.zh_to_en = dict(zh_to_en)
        self._longest = max((len(en.split(" ")) for en in en_to_zh), default=0)

    @classmethod
    def mine(cls, texts: Iterable[str]) -> TermTable:
        runs: dict[str, list[str]] = defaultdict(list)
        for text in texts:
            for zh, en in _ZH_EN.findall(text):
                runs[normalise_en(en)].append(zh)
            for en, zh in _EN_ZH.findall(text):
                runs[normalise_en(en)].append(zh)
        table: dict[str, list[str]] = {}
        for en, zh_runs in runs.items():
            if len(en) < MIN_EN or en in _EN_STOP or not re.search(r"[a-z]", en):
                continue
            suffixes = Counter(run[-n:] for run in zh_runs for n in range(2, min(len(run), MAX_ZH) + 1))
            names = Counter(_chinese_name(run, suffixes) for run in zh_runs)
            table[en] = [name for name, _ in names.most_common(2)]
        return cls(table)

    def __len__(self) -> int:
        return len(self.en_to_zh)

    def english_terms(self, query: str) -> list[str]:
        """The table's English terms that occur in ``query`` as whole words, longest first, not overlapping."""
        words = normalise_en(re.sub(r"[^A-Za-z0-9\-' ]+", " ", query)).split(" ")
        found, used = [], set()
        for size in range(min(self._longest, len(words)), 0, -1):
            for start in range(len(words) - size + 1):
                span = set(range(start, start + size))
                phrase = " ".join(words[start:start + size])
                if phrase in self.en_to_zh and not span & used:
                    found.append(phrase)
                    used |= span
        return found

    def expand(self, query: str) -> str:
        """``query`` with the Chinese names of its English terms and the English names of its Chinese terms added."""
        extra = [zh for en in self.english_terms(query) for zh in self.en_to_zh[en]]
        extra += [en for zh, ens in self.zh_to_en.items() if len(zh) >= 3 and zh in query for en in ens[:1]]
        return f"{query} {' '.join(extra)}" if extra else query
