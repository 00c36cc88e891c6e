"""The language of a question: "zh" or "en" (langdetect, with a rule for Chinese characters)."""

from __future__ import annotations

import functools
import re

_HAN = re.compile(r"[\u4e00-\u9fff]")


@functools.lru_cache(maxsize=256)
def detect_language(text: str) -> str:
    """Chinese when Han characters are at least a sixth of the letters; otherwise langdetect decides (remembered:
    the answerer and the retriever both ask of the same question)."""
    han = len(_HAN.findall(text))
    letters = len(re.findall(r"[A-Za-z]", text))
    if han and han * 6 >= letters:
        return "zh"
    if not letters:
        return "zh" if han else "en"
    from langdetect import DetectorFactory, detect
    from langdetect.lang_detect_exception import LangDetectException

    DetectorFactory.seed = 0
    try:
        return "zh" if detect(text).startswith("zh") else "en"
    except LangDetectException:
        return "en"
