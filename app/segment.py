"""Segmentation for BM25 that knows the blog's vocabulary (tokenizer version 2).

Documents and queries go through the same steps: NFKC (full-width letters, digits and punctuation become
half-width), lower case, Greek letters spelt out (``μP`` = ``muP``, ``β2`` = ``beta 2`` like LaTeX's ``\\beta_2``);
then Chinese runs are cut by a jieba tokenizer of their own that also knows the index's user dictionary (the blog's
Chinese terms, mined from the corpus at ingest), and everything else is split by rule: English words and model names
stay whole (``word2vec``, ``bert4keras``, ``t5``), a compound joined by ``-`` or ``_`` gives its parts and the parts
run together (``pre-norm`` -> ``pre``, ``norm``, ``prenorm``; ``gpt-2`` -> ``gpt``, ``2``, ``gpt2``).
"""

from __future__ import annotations

import re
import unicodedata
from pathlib import Path

VERSION = 2
USERDICT_FILE = "userdict.txt"
_GREEK_NAMES = ("alpha beta gamma delta epsilon zeta eta theta iota kappa lambda mu nu xi omicron pi rho sigma sigma "
                "tau upsilon phi chi psi omega")
GREEK = dict(zip("αβγδεζηθικλμνξοπρςστυφχψω", _GREEK_NAMES.split(" "), strict=True)) | {"ϕ": "phi", "ϵ": "epsilon",
                                                                                          "ϑ": "theta"}
_GREEK_RUN = re.compile(f"[{''.join(GREEK)}]([a-z]?)")
_HAN = re.compile(r"([\u4e00-\u9fff]+)")
_COMPOUND = re.compile(r"[a-z0-9]+(?:[._\-][a-z0-9]+)*")
_NUMBER = re.compile(r"[0-9]+(?:\.[0-9]+)?")
_PART_SPLIT = re.compile(r"[._\-]")
# jieba's part-of-speech tags for proper names: people (nr), transliterated names (nrt), other proper nouns (nz)
NAME_TAGS = frozenset({"nr", "nrt", "nrfg", "nz"})
_HAN_NAME = re.compile(r"[\u4e00-\u9fff]{2,}")


def _spell(match: re.Match) -> str:
    """A Greek letter as its Latin name, run together with a Latin letter that follows it, else standing alone."""
    name, after = GREEK[match.group(0)[0]], match.group(1)
    return f"{name}{after}" if after else f" {name} "


def normalise(text: str) -> str:
    """NFKC, lower case, Greek letters spelt out: "ＲｏＰＥ" = "rope", "μP" = "mup", "β2" = " beta 2"."""
    return _GREEK_RUN.sub(_spell, unicodedata.normalize("NFKC", text).lower())


def english_tokens(run: str) -> list[str]:
    """Words, numbers and names of a normalised non-Chinese run; a compound (joined by "-", "_" or ".", a decimal
    number excepted) gives its parts, then them run together."""
    tokens = []
    for compound in _COMPOUND.findall(run):
        parts = [compound] if _NUMBER.fullmatch(compound) else _PART_SPLIT.split(compound)
        tokens.extend(parts)
        if len(parts) > 1:
            tokens.append("".join(parts))
    return tokens


def jieba_tokenizer(words: dict[str, int]):
    """A jieba tokenizer of its own (the global one is left alone) with ``words`` (word -> frequency) added; the
    dictionary's total is kept, so a word changes the segmentation of only the texts that contain it."""
    from app.bm25 import jieba_module

    tokenizer = jieba_module().Tokenizer()
    tokenizer.initialize()
    total = tokenizer.total
    for word, freq in words.items():
        tokenizer.add_word(word, freq)
    tokenizer.total = total
    return tokenizer


class Segmenter:
    """Version-2 segmentation with one user dictionary; ``words`` maps each word to its jieba frequency."""

    def __init__(self, words: dict[str, int] | None = None):
        self.words = dict(words or {})
        self._jieba = None
        self._tagger = None

    @property
    def jieba(self):
        if self._jieba is None:
            self._jieba = jieba_tokenizer(self.words)
        return self._jieba

    def words_of(self, text: str) -> list[str]:
        """Every search word of ``text`` in order: jieba search mode on Chinese runs, the rule on the rest."""
        out: list[str] = []
        for i, run in enumerate(_HAN.split(normalise(text))):
            if i % 2:
                out.extend(self.jieba.lcut_for_search(run))
            elif run:
                out.extend(english_tokens(run))
        return out

    def names_of(self, text: str) -> list[str]:
        """The Chinese proper names in ``text`` as jieba's tagger sees them (纳什, 莫比乌斯, 卡尔曼滤波), each once; the
        blog's own terms (the user dictionary) carry no tag, so they are never names."""
        if self._tagger is None:
            import jieba.posseg

            self._tagger = jieba.posseg.POSTokenizer(self.jieba)
        names = (w for w, tag in self._tagger.lcut(unicodedata.normalize("NFKC", text)) if tag in NAME_TAGS)
        return list(dict.fromkeys(w for w in names if _HAN_NAME.fullmatch(w)))

    def save(self, folder: Path) -> None:
        lines = (f"{word} {freq}\n" for word, freq in sorted(self.words.items()))
        (folder / USERDICT_FILE).write_text("".join(lines), encoding="utf-8")

    @classmethod
    def load(cls, folder: Path) -> Segmenter:
        path = folder / USERDICT_FILE
        text = path.read_text(encoding="utf-8") if path.is_file() else ""
        return cls({word: int(freq) for word, freq in (line.split(" ") for line in text.splitlines() if line)})
